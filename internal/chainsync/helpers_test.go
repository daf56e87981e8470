package chainsync_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/synth"
)

// chainOpts describes a test chain.
type chainOpts struct {
	blocks      int
	transfers   int   // transfers per block
	joinAt      int64 // height of the block that adds val-4 (0: never)
	leaveAt     int64 // height of the block that removes val-0 (0: never)
	messageEach int64 // every messageEach-th block carries messages (0: none)
	hook        func(*types.Header)
	chainID     string
	genesis     func(*state.Genesis)
}

// testMessages are the synthetic messages of height h.
func testMessages(h int64) []msg.Message {
	n := int(h%4) + 1
	out := make([]msg.Message, n)
	for i := range out {
		out[i] = msg.Message{
			Origin:  []byte(fmt.Sprintf("worker-%d", i)),
			Topic:   []byte("topic/test"),
			Payload: []byte(fmt.Sprintf("payload %d of block %d", i, h)),
		}
	}
	return out
}

func buildChain(t testing.TB, o chainOpts) *synth.Chain {
	t.Helper()
	vals := synth.Validators(5)
	cfg := synth.Config{ChainID: o.chainID, Validators: vals[:4], Extra: vals[4:], HeaderHook: o.hook}
	if o.genesis != nil {
		id := o.chainID
		if id == "" {
			id = "cella-synth"
		}
		g := synth.DevGenesis(id, vals[:4])
		o.genesis(g)
		cfg.Genesis = g
	}
	if o.messageEach > 0 {
		cfg.Messages = func(h int64) []msg.Message {
			if h%o.messageEach == 0 {
				return testMessages(h)
			}
			return nil
		}
	}
	c, err := synth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pairs := synth.DevPairs()
	if err := c.Build(o.blocks, synth.Plan{
		Txs:   func(int64) ([][]byte, error) { return c.Transfers(pairs[:4], o.transfers) },
		Admin: pairs[5],
		Changes: []synth.PowerChange{
			{At: o.joinAt, Validator: vals[4], Power: 20},
			{At: o.leaveAt, Validator: vals[0], Power: 0},
		},
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

func newSyncer(t testing.TB, c *synth.Chain) *chainsync.Syncer {
	t.Helper()
	s, err := chainsync.New(c.Genesis(), c.GenesisHash(), c.GenesisRecord(), state.AppVersion1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func toBatch(b synth.Batch) chainsync.Batch { return chainsync.Batch(b) }

func batch(t testing.TB, c *synth.Chain, from, to int64) chainsync.Batch {
	t.Helper()
	b, err := c.Batch(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return toBatch(b)
}

// syncTo verifies and applies headers up to to, in batches of at most size.
func syncTo(t testing.TB, c *synth.Chain, s *chainsync.Syncer, to int64, size int) {
	t.Helper()
	bs, err := c.Batches(s.VerifiedHeight()+1, to, size)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if err := s.SyncBatch(toBatch(b)); err != nil {
			t.Fatalf("batch %d..%d: %v", b.Headers[0].Height, b.Headers[len(b.Headers)-1].Height, err)
		}
	}
	if s.VerifiedHeight() != to || s.Height() != to-1 {
		t.Fatalf("verified %d applied %d, want %d and %d", s.VerifiedHeight(), s.Height(), to, to-1)
	}
	if want := c.Record(to - 1).AppHash; s.AppHash() != want {
		t.Fatalf("AppHash at %d: %x, want %x", to-1, s.AppHash(), want)
	}
}

// sameStore reports the first difference between two key-value dumps.
func sameStore(a, b state.WriteSet) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d keys vs %d", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) {
			return fmt.Errorf("entry %d: %x=%x vs %x=%x", i, a[i].Key, a[i].Value, b[i].Key, b[i].Value)
		}
	}
	return nil
}

func devPair(i int) *keys.Pair { return synth.DevPairs()[i] }
