package state_test

import (
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
)

// TestEndBlockHooks: the kernel runs the modules' EndBlock hooks after the
// transactions, in module index order, as root; their writes, messages and
// validator changes are the block's; CheckProposal and ProposalTxs do not
// run them; a hook's error is ExecuteBlock's.
func TestEndBlockHooks(t *testing.T) {
	var order []uint8
	var hookErr error
	hook := func(idx uint8, write bool) func(c *state.CallCtx) error {
		return func(c *state.CallCtx) error {
			order = append(order, idx)
			if !c.IsRoot() {
				t.Error("EndBlock hook not root")
			}
			if write {
				c.Overlay().Set([]byte{'e', idx}, []byte{byte(c.Header().Height)})
				c.Emit(msg.Message{Topic: []byte{idx}})
				vs, _ := state.GetValidators(c.Overlay())
				vs = append(vs, state.Validator{PubKey: [32]byte{0xff, idx}, Power: 1})
				state.SortValidators(vs)
				state.PutValidators(c.Overlay(), vs)
				c.ValidatorsChanged()
			}
			return hookErr
		}
	}
	base := modules.Runtimes()[state.AppVersion1]
	rt := *base
	rt.Modules[200] = &state.Module{Name: "late", EndBlock: hook(200, true)}
	rt.Modules[100] = &state.Module{Name: "early", EndBlock: hook(100, false)}
	g := state.DevGenesis("cella-test", testValidators())
	m, err := state.New(g, state.Runtimes{state.AppVersion1: &rt})
	if err != nil {
		t.Fatal(err)
	}
	ws, h0, err := m.InitChain()
	if err != nil {
		t.Fatal(err)
	}
	st := state.NewMemStore()
	st.Apply(ws)
	hdr := state.Header{Height: 1, AppVersion: state.AppVersion1}
	if err := m.CheckProposal(st, hdr, nil); err != nil || len(order) != 0 {
		t.Fatalf("CheckProposal ran hooks %v (%v)", order, err)
	}
	m.ProposalTxs(st, hdr, nil, -1)
	if len(order) != 0 {
		t.Fatalf("ProposalTxs ran hooks %v", order)
	}
	res, err := m.ExecuteBlock(st, h0, hdr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(order) < 2 || order[len(order)-2] != 100 || order[len(order)-1] != 200 {
		t.Fatalf("hook order %v", order)
	}
	if len(res.Messages) != 1 || len(res.ValidatorUpdates) != 1 || res.AppHash == h0 {
		t.Fatalf("block result: %d messages, updates %v", len(res.Messages), res.ValidatorUpdates)
	}
	found := false
	for _, w := range res.WriteSet {
		found = found || string(w.Key) == string([]byte{'e', 200})
	}
	if !found {
		t.Fatal("the hook's write is not in the write-set")
	}
	hookErr = errors.New("store failed")
	if _, err := m.ExecuteBlock(st, h0, hdr, nil); !errors.Is(err, hookErr) {
		t.Fatalf("hook error: %v", err)
	}
}
