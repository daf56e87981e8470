package pink

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
)

func TestPinkEventTopic(t *testing.T) {
	// Phala's snapshot pink__tests__event_topics.snap: [64, 112, 104, 97, 108,
	// 97, 46, 112, 105, 110, 107, 46, 101, 118, 101, 110, 116, 0 × 15].
	want := append(unhex("40 7068616c612e70696e6b2e6576656e74"), make([]byte, 15)...)
	if !bytes.Equal(PinkEventTopic[:], want) {
		t.Fatalf("topic %x", PinkEventTopic)
	}
}

func TestDecodePinkEvent(t *testing.T) {
	topics := []engine.Hash{PinkEventTopic}
	c := bytes.Repeat([]byte{0xcc}, 32)
	h := bytes.Repeat([]byte{0xdd}, 32)
	// SetHook{hook: OnBlockEnd, contract, selector: 0x12345678, gas_limit: 1_000_000}
	//   = 02 ‖ 00 ‖ contract ‖ 78563412 ‖ 40420f0000000000
	setHook := append(append([]byte{2, 0}, c...), unhex("78563412 40420f0000000000")...)
	cases := []struct {
		name string
		data []byte
		kind PinkEventKind
		err  bool
	}{
		{"SetHook", setHook, EventSetHook, false},
		{"SetHook bad hook", append([]byte{2, 1}, setHook[2:]...), 0, true},
		{"SetHook short", setHook[:40], 0, true},
		{"DeploySidevmTo", append(append([]byte{3}, c...), h...), EventDeploySidevmTo, false},
		{"SidevmMessage", unhex("04 08 0102"), EventSidevmMessage, false},
		// CacheOp(SetExpiration{key: b"k", expiration: 5}) = 05 01 04 6b 05 00×7
		{"CacheOp", unhex("05 01 046b 0500000000000000"), EventCacheOp, false},
		{"CacheOp bad variant", unhex("05 03 00"), 0, true},
		{"StopSidevm", []byte{6}, EventStopSidevm, false},
		{"ForceStopSidevm", append([]byte{7}, c...), EventForceStopSidevm, false},
		{"SetLogHandler", append([]byte{8}, c...), EventSetLogHandler, false},
		{"SetContractWeight", append(append([]byte{9}, c...), 1, 0, 0, 0), EventSetContractWeight, false},
		{"UpgradeRuntimeTo", unhex("0a 01000000 02000000"), EventUpgradeRuntimeTo, false},
		// SidevmOperation::Start{contract, code_hash, workers: List([w]), config}
		{"SidevmOperation", append(append(append(append([]byte{11, 0}, c...), h...), append([]byte{1, 4}, h...)...), make([]byte, 20)...), EventSidevmOperation, false},
		{"SidevmOperation SetDeadline", append(append([]byte{11, 1}, c...), 1, 0, 0, 0), EventSidevmOperation, false},
		{"SetJsRuntime", append([]byte{12}, h...), EventSetJsRuntime, false},
		{"unknown 0", []byte{0}, 0, true},
		{"unknown 13", []byte{13}, 0, true},
		{"empty", nil, 0, true},
		{"trailing is ignored", []byte{6, 1, 2}, EventStopSidevm, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, ok, err := DecodePinkEvent(topics, tc.data)
			if !ok {
				t.Fatal("not recognised as a pink event")
			}
			if tc.err {
				if !errors.Is(err, ErrBadPinkEvent) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil || ev.Kind != tc.kind {
				t.Fatalf("kind %v err %v", ev.Kind, err)
			}
			if ev.Name() != tc.kind.String() || ev.Name() == "" {
				t.Fatalf("name %q", ev.Name())
			}
		})
	}
	ev, _, _ := DecodePinkEvent(topics, setHook)
	want := SetHook{Hook: HookOnBlockEnd, Contract: engine.AccountID(c), Selector: 0x12345678, GasLimit: 1_000_000}
	if ev.SetHook == nil || *ev.SetHook != want || ev.AllowedInQuery() || ev.IsPrivate() || !ev.RequiresSystem() {
		t.Fatalf("SetHook = %+v", ev.SetHook)
	}
	ev, _, _ = DecodePinkEvent(topics, unhex("05 00 046b 0476"))
	if ev.CacheOp == nil || ev.CacheOp.Kind != CacheSet || string(ev.CacheOp.Value) != "v" || !ev.IsPrivate() || ev.RequiresSystem() {
		t.Fatalf("CacheOp = %+v", ev.CacheOp)
	}
	// Not marked: an ordinary event, whatever the data.
	for _, tp := range [][]engine.Hash{nil, {{1}}, {PinkEventTopic, PinkEventTopic}} {
		if _, ok, err := DecodePinkEvent(tp, setHook); ok || err != nil {
			t.Fatalf("topics %x: ok %v err %v", tp, ok, err)
		}
	}
	// The encoder and decoder agree.
	op := CacheOp{Kind: CacheRemove, Key: []byte("key")}
	ev, _, err := DecodePinkEvent(topics, EncodeCacheOp(op))
	if err != nil || ev.CacheOp.Kind != CacheRemove || string(ev.CacheOp.Key) != "key" {
		t.Fatalf("round trip: %+v %v", ev.CacheOp, err)
	}
}
