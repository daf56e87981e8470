package msg

import (
	"bytes"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

type codec interface {
	scale.Encodable
	scale.Decodable
}

func TestPhatPayloadsRoundTrip(t *testing.T) {
	limit := scale.U128{Lo: 5, Hi: 1}
	cases := []struct {
		in, out codec
		size    int
	}{
		{&CodeUploaded{Cluster: [32]byte{1}, CodeHash: [32]byte{2}, Kind: CodeKindIndeterministic}, &CodeUploaded{}, 65},
		{&Instantiate{Cluster: [32]byte{1}, Contract: [32]byte{2}, Deployer: keys.PublicKey{3}, CodeHash: [32]byte{4},
			Data: []byte{0x9b, 0xae, 0x9d, 0x5e, 1}, Salt: []byte("s"), Transfer: scale.U128From(7), GasLimit: 1e12,
			StorageDepositLimit: &limit, CommandID: [32]byte{5}}, &Instantiate{}, 128 + 6 + 2 + 16 + 8 + 17 + 32},
		{&Instantiate{Data: []byte{}, Salt: []byte{}}, &Instantiate{}, 128 + 1 + 1 + 16 + 8 + 1 + 32},
		{&Command{Cluster: [32]byte{1}, Contract: [32]byte{2}, Origin: keys.PublicKey{3}, Payload: []byte{0, 1, 2},
			CommandID: [32]byte{4}, GasLimit: 9, Deposit: scale.U128From(3)}, &Command{}, 96 + 4 + 32 + 8 + 16},
		{&Outcome{CommandID: [32]byte{9}, GasUsed: 1 << 40}, &Outcome{}, 41},
		{&Outcomes{Entries: []Outcome{{CommandID: [32]byte{9}, GasUsed: 3}, {CommandID: [32]byte{8},
			Payouts: []Payout{{Account: [32]byte{1}, Amount: scale.U128From(5)}}}}}, &Outcomes{}, 1 + 41 + 41 + 48},
		{&Outcome{CommandID: [32]byte{9}, GasUsed: 3, Payouts: []Payout{{Account: [32]byte{1}, Amount: scale.U128From(5)},
			{Account: [32]byte{2}, Amount: scale.U128{Hi: 1}}}}, &Outcome{}, 41 + 2*48},
		{&InstantiateFailed{Contract: [32]byte{8}, Reason: "trapped"}, &InstantiateFailed{}, 32 + 8},
	}
	for _, c := range cases {
		b := scale.Encode(c.in)
		if len(b) != c.size {
			t.Errorf("%T: %d bytes, want %d", c.in, len(b), c.size)
		}
		if err := scale.Decode(b, c.out); err != nil {
			t.Fatalf("%T: %v", c.in, err)
		}
		if !reflect.DeepEqual(c.in, c.out) {
			t.Errorf("%T: round trip\n got %+v\nwant %+v", c.in, c.out, c.in)
		}
		if !bytes.Equal(scale.Encode(c.out), b) {
			t.Errorf("%T: re-encoding differs", c.in)
		}
		// Every strict prefix fails to decode.
		for n := 0; n < len(b); n++ {
			if err := scale.Decode(b[:n], reflect.New(reflect.TypeOf(c.out).Elem()).Interface().(codec)); err == nil {
				t.Errorf("%T: prefix of %d bytes decoded", c.in, n)
			}
		}
	}
}

func TestPhatPayloadLayouts(t *testing.T) {
	// Exact bytes of an Outcome and an InstantiateFailed.
	o := scale.Encode(&Outcome{CommandID: [32]byte{31: 1}, GasUsed: 0x0102})
	if hex.EncodeToString(o) != strings.Repeat("00", 31)+"01"+"0201000000000000"+"00" {
		t.Fatalf("outcome %x", o)
	}
	o = scale.Encode(&Outcome{Payouts: []Payout{{Account: [32]byte{0: 7}, Amount: scale.U128From(0x0304)}}})
	if hex.EncodeToString(o[40:]) != "04"+"07"+strings.Repeat("00", 31)+"0403"+strings.Repeat("00", 14) {
		t.Fatalf("outcome with a payout %x", o)
	}
	f := scale.Encode(&InstantiateFailed{Contract: [32]byte{}, Reason: "ab"})
	if hex.EncodeToString(f[32:]) != "086162" {
		t.Fatalf("failed %x", f)
	}
	// None storage deposit limit is one zero byte before the command id.
	i := scale.Encode(&Instantiate{CommandID: [32]byte{0xee}})
	if i[len(i)-33] != 0 || i[len(i)-32] != 0xee {
		t.Fatalf("instantiate %x", i)
	}
}

func TestPhatPayloadBounds(t *testing.T) {
	big := func(n int) []byte { return make([]byte, n) }
	bad := map[string]codec{
		"code kind":   &CodeUploaded{Kind: 2},
		"data":        &Instantiate{Data: big(MaxCommandPayload + 1)},
		"salt":        &Instantiate{Salt: big(MaxSaltLen + 1)},
		"payload":     &Command{Payload: big(MaxCommandPayload + 1)},
		"reason":      &InstantiateFailed{Reason: string(big(MaxFailureReason + 1))},
		"payouts":     &Outcome{Payouts: payouts(MaxPayouts + 1)},
		"zero payout": &Outcome{Payouts: []Payout{{Account: [32]byte{1}}}},
		"payout order": &Outcome{Payouts: []Payout{{Account: [32]byte{2}, Amount: scale.U128From(1)},
			{Account: [32]byte{1}, Amount: scale.U128From(1)}}},
		"no outcomes":       &Outcomes{},
		"too many outcomes": &Outcomes{Entries: make([]Outcome, MaxOutcomesPerMessage+1)},
		"outcome twice":     &Outcomes{Entries: []Outcome{{CommandID: [32]byte{1}}, {CommandID: [32]byte{1}}}},
		"bad outcome entry": &Outcomes{Entries: []Outcome{{CommandID: [32]byte{1}}, {CommandID: [32]byte{2}, Payouts: []Payout{{Account: [32]byte{1}}}}}},
		"payout twice": &Outcome{Payouts: []Payout{{Account: [32]byte{1}, Amount: scale.U128From(1)},
			{Account: [32]byte{1}, Amount: scale.U128From(1)}}},
	}
	for name, v := range bad {
		b := scale.Encode(v)
		out := reflect.New(reflect.TypeOf(v).Elem()).Interface().(codec)
		if err := scale.Decode(b, out); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	ok := map[string]codec{
		"data":    &Instantiate{Data: big(MaxCommandPayload), Salt: big(MaxSaltLen)},
		"payload": &Command{Payload: big(MaxCommandPayload)},
		"reason":  &InstantiateFailed{Reason: string(big(MaxFailureReason))},
		"payouts": &Outcome{Payouts: payouts(MaxPayouts)},
	}
	for name, v := range ok {
		out := reflect.New(reflect.TypeOf(v).Elem()).Interface().(codec)
		if err := scale.Decode(scale.Encode(v), out); err != nil {
			t.Errorf("%s at the limit: %v", name, err)
		}
	}
	// A hostile length prefix fails without allocating.
	if err := scale.Decode(append(make([]byte, 96), 0xff, 0xff, 0xff, 0xff), &Command{}); err == nil {
		t.Error("hostile command length decoded")
	}
	// Option tag other than 0/1.
	b := scale.Encode(&Instantiate{})
	b[len(b)-33] = 2
	if err := scale.Decode(b, &Instantiate{}); err == nil {
		t.Error("option tag 2 decoded")
	}
}

// payouts returns n payouts of 1 to distinct accounts in increasing order.
func payouts(n int) []Payout {
	out := make([]Payout, n)
	for i := range out {
		out[i] = Payout{Account: [32]byte{0: byte(i >> 8), 1: byte(i)}, Amount: scale.U128From(1)}
	}
	return out
}

// Known answers computed independently (Python hashlib.blake2b, 32-byte digest).
func TestContractAndCommandIDs(t *testing.T) {
	var deployer keys.PublicKey
	for i := range deployer {
		deployer[i] = byte(i)
	}
	code := [32]byte(bytes.Repeat([]byte{0xaa}, 32))
	cluster := [32]byte{31: 1}
	id := ContractID(deployer, code, cluster, []byte("salt"))
	if got := hex.EncodeToString(id[:]); got != "6ef1b0c7e7adb03e927ad17c3ead48cece8a7ab0c48ee528581d4bb1945aa363" {
		t.Fatalf("contract id %s", got)
	}
	cid := CommandID(7, 3)
	if got := hex.EncodeToString(cid[:]); got != "4d7df3028a88c4f682802635ac20044d7cd188d1ee2c85f65e4d63b2300727db" {
		t.Fatalf("command id %s", got)
	}
	if CommandID(7, 4) == cid || CommandID(8, 3) == cid {
		t.Fatal("command ids collide")
	}
}

// TestOutcomesOf: the outcomes of a batch, of a single outcome, and none for
// other topics or undecodable payloads; the message count of a block's
// outcomes.
func TestOutcomesOf(t *testing.T) {
	batch := &Outcomes{Entries: []Outcome{{CommandID: [32]byte{1}}, {CommandID: [32]byte{2}, GasUsed: 7}}}
	if got := OutcomesOf(TopicClusterOutcomes, scale.Encode(batch)); len(got) != 2 || got[1].CommandID != ([32]byte{2}) || got[1].GasUsed != 7 {
		t.Fatalf("batch: %+v", got)
	}
	if got := OutcomesOf(TopicClusterOutcome, scale.Encode(&Outcome{CommandID: [32]byte{3}})); len(got) != 1 || got[0].CommandID != ([32]byte{3}) {
		t.Fatalf("single: %+v", got)
	}
	if got := OutcomesOf(TopicClusterOutcomes, []byte{0}); got != nil {
		t.Fatalf("empty batch: %+v", got)
	}
	if got := OutcomesOf(TopicPhatCommand, scale.Encode(batch)); got != nil {
		t.Fatalf("other topic: %+v", got)
	}
	for n, want := range map[int]int{0: 0, 1: 1, MaxOutcomesPerMessage: 1, MaxOutcomesPerMessage + 1: 2, 3 * MaxOutcomesPerMessage: 3} {
		if got := OutcomesMessages(n); got != want {
			t.Errorf("OutcomesMessages(%d) = %d, want %d", n, got, want)
		}
	}
}
