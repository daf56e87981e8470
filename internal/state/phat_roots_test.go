package state_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/phat"
)

// rootChain is a phat chain whose cluster 0 has Worker1 and Worker2 and a
// report interval of 2; Worker3 is registered but outside the cluster.
type rootChain struct {
	*phatChain
	ws  []*keys.Pair
	seq map[keys.PublicKey]uint64
}

func newRootChain(t *testing.T) *rootChain {
	pc := newPhatChain(t)
	ws := []*keys.Pair{dev(t, "Worker1"), dev(t, "Worker2"), dev(t, "Worker3")}
	alice := dev(t, "Alice")
	pc.sudo(state.CodeOK, alice, phat.AddWorkerCall(pc.ids[0], ws[1].Public()))
	if n, err := phat.ReportInterval(pc.st, pc.ids[0]); err != nil || n != phat.DefaultReportInterval {
		t.Fatalf("default interval %d %v", n, err)
	}
	pc.sudo(state.CodeOK, alice, phat.SetReportIntervalCall(pc.ids[0], 2))
	pc.sudo(state.CodeBadArgs, alice, phat.SetReportIntervalCall(pc.ids[0], 0))
	pc.sudo(state.CodeUnknownCluster, alice, phat.SetReportIntervalCall([32]byte{9}, 3))
	if cl, _, err := phat.GetCluster(pc.st, pc.ids[0]); err != nil || cl.ReportInterval != 2 {
		t.Fatalf("cluster interval %d %v", cl.ReportInterval, err)
	}
	// Worker1 sent three gatekeeper messages in newPhatChain.
	return &rootChain{phatChain: pc, ws: ws, seq: map[keys.PublicKey]uint64{ws[0].Public(): 3}}
}

// report submits worker w's state root report and checks the code.
func (rc *rootChain) report(want uint32, w int, height uint64, root [32]byte) *state.BlockResult {
	rc.t.Helper()
	k := rc.ws[w]
	s := gkMsg(k, rc.seq[k.Public()], msg.TopicClusterStateRoot, &msg.StateRootReport{Cluster: rc.ids[0], Height: height, Root: root})
	rc.seq[k.Public()]++
	res := rc.do(want, rc.submit(rc.relayer, rc.account(rc.relayer.Public()).Nonce, s))
	if want != state.CodeOK {
		refused(rc.t.(*testing.T), rc.chain, res, msg.OriginWorker(k.Public()), rc.seq[k.Public()])
	}
	return res
}

// sortedKeys returns ks sorted, as a cluster keeps its keyed workers.
func sortedKeys(ks ...keys.PublicKey) []keys.PublicKey {
	slices.SortFunc(ks, func(a, b keys.PublicKey) int { return bytes.Compare(a[:], b[:]) })
	return ks
}

func (rc *rootChain) records() []phat.RootRecord {
	rc.t.Helper()
	recs, err := phat.RootRecords(rc.st, rc.ids[0])
	if err != nil {
		rc.t.Fatal(err)
	}
	return recs
}

func (rc *rootChain) alarms() []phat.Alarm {
	rc.t.Helper()
	as, err := phat.Alarms(rc.st, rc.ids[0])
	if err != nil {
		rc.t.Fatal(err)
	}
	return as
}

// evenHeight returns an even height at most the next block's.
func (rc *rootChain) evenHeight() uint64 { h := uint64(rc.height + 1); return h - h%2 }

func divergenceEvents(res *state.BlockResult) []state.Event {
	var out []state.Event
	for _, r := range res.TxResults {
		for _, e := range r.Events {
			if e.Type == "cluster_divergence" {
				out = append(out, e)
			}
		}
	}
	return out
}

func attr(e state.Event, key string) string {
	for _, a := range e.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

func TestClusterStateRootAgreement(t *testing.T) {
	rc := newRootChain(t)
	h := rc.evenHeight()
	good, bad := [32]byte{0x60}, [32]byte{0xba}

	// First report: recorded.
	if ev := divergenceEvents(rc.report(state.CodeOK, 0, h, good)); len(ev) != 0 {
		t.Fatalf("events %v", ev)
	}
	recs := rc.records()
	if len(recs) != 1 || recs[0].Height != h || recs[0].Root != good || len(recs[0].Agreeing) != 1 || recs[0].Agreeing[0] != rc.ws[0].Public() {
		t.Fatalf("records %+v", recs)
	}
	keyed := sortedKeys(rc.ws[0].Public(), rc.ws[1].Public())
	if _, ok := phat.LastAgreed(recs, keyed); ok {
		t.Fatal("one of two workers is not a majority")
	}
	// Agreeing report: counted; a repeat does not count twice.
	rc.report(state.CodeOK, 1, h, good)
	rc.report(state.CodeOK, 1, h, good)
	recs = rc.records()
	if len(recs) != 1 || len(recs[0].Agreeing) != 2 || recs[0].Agreeing[1] != rc.ws[1].Public() {
		t.Fatalf("records %+v", recs)
	}
	if la, ok := phat.LastAgreed(recs, keyed); !ok || la.Height != h || la.Root != good {
		t.Fatalf("last agreed %+v %v", la, ok)
	}
	// Agreeing workers that are no longer keyed (removed from the cluster,
	// or deregistered) do not count: Worker2 and Worker3 keyed, only Worker2
	// of them agreeing, is not a majority.
	if la, ok := phat.LastAgreed(recs, sortedKeys(rc.ws[1].Public(), rc.ws[2].Public())); ok {
		t.Fatalf("a removed worker counted: last agreed %+v", la)
	}
	if la, ok := phat.LastAgreed(recs, sortedKeys(rc.ws[1].Public())); !ok || la.Height != h {
		t.Fatalf("last agreed %+v %v with Worker2 the only keyed worker", la, ok)
	}
	if len(rc.alarms()) != 0 {
		t.Fatal("alarm without divergence")
	}

	// Divergent report: accepted, alarm kept, event names the worker.
	h2 := h + 2
	for rc.height+1 < int64(h2) {
		rc.block()
	}
	rc.report(state.CodeOK, 0, h2, good)
	res := rc.report(state.CodeOK, 1, h2, bad)
	ev := divergenceEvents(res)
	if len(ev) != 1 || attr(ev[0], "worker") != rc.ws[1].Public().Hex() || attr(ev[0], "height") != fmt.Sprint(h2) {
		t.Fatalf("divergence events %+v", ev)
	}
	as := rc.alarms()
	if len(as) != 1 || as[0] != (phat.Alarm{Height: h2, Worker: rc.ws[1].Public(), Root: bad, Expected: good}) {
		t.Fatalf("alarms %+v", as)
	}
	if recs := rc.records(); len(recs) != 2 || len(recs[1].Agreeing) != 1 {
		t.Fatalf("the divergent worker must not count as agreeing: %+v", recs)
	}

	// Refusals: no state change beyond the fee and the sequence.
	rc.report(state.CodeNotClusterWorker, 2, h2, good)
	rc.report(state.CodeBadReportHeight, 0, h2+1, good)
	rc.report(state.CodeBadReportHeight, 0, 0, good)
	rc.report(state.CodeBadReportHeight, 0, uint64(rc.height)+4-uint64(rc.height)%2, good)
	// A cluster origin cannot report a state root.
	rc.phatChain.report(state.CodeMqWrongOrigin, 0, msg.TopicClusterStateRoot, &msg.StateRootReport{Cluster: rc.ids[0], Height: h2, Root: good})
	if len(rc.alarms()) != 1 || len(rc.records()) != 2 {
		t.Fatal("a refused report changed the records")
	}
}

func TestClusterStateRootBounds(t *testing.T) {
	rc := newRootChain(t)
	for rc.height < 2*(phat.MaxRootRecords+phat.MaxAlarms) {
		rc.block()
	}
	top := rc.evenHeight()
	// More report heights than are kept: the oldest go, and a report older
	// than every kept one is stale.
	var hs []uint64
	for i := range phat.MaxRootRecords + 3 {
		h := top - 2*uint64(phat.MaxRootRecords+2-i)
		hs = append(hs, h)
		rc.report(state.CodeOK, 0, h, [32]byte{byte(i)})
	}
	recs := rc.records()
	if len(recs) != phat.MaxRootRecords || recs[0].Height != hs[3] || recs[len(recs)-1].Height != top {
		t.Fatalf("%d records from %d", len(recs), recs[0].Height)
	}
	if v, _ := rc.st.Get(phat.RootKey(rc.ids[0], hs[0])); v != nil {
		t.Fatal("dropped record still stored")
	}
	rc.report(state.CodeStaleReport, 1, hs[0], [32]byte{0})
	// More divergences than are kept: the last MaxAlarms stay.
	for i := range phat.MaxAlarms + 2 {
		rc.report(state.CodeOK, 1, hs[3+i%phat.MaxRootRecords], [32]byte{0xff, byte(i)})
	}
	as := rc.alarms()
	if len(as) != phat.MaxAlarms || as[len(as)-1].Root != ([32]byte{0xff, byte(phat.MaxAlarms + 1)}) || as[0].Root != ([32]byte{0xff, 2}) {
		t.Fatalf("%d alarms, last %x", len(as), as[len(as)-1].Root)
	}
}
