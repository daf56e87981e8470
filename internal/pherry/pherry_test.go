package pherry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/synth"
)

func TestPlanSpan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cur    Cursor
		node   int64
		size   int
		want   Span
		wantOK bool
	}{
		{"fresh, empty chain", Cursor{HeaderHeight: 0, AppliedHeight: 0}, 0, 1000, Span{}, false},
		{"fresh", Cursor{HeaderHeight: 0, AppliedHeight: 0}, 5, 1000, Span{1, 5, 1}, true},
		{"fresh, big chain", Cursor{HeaderHeight: 0, AppliedHeight: 0}, 5000, 1000, Span{1, 1000, 1}, true},
		{"running", Cursor{HeaderHeight: 10, AppliedHeight: 9}, 5000, 1000, Span{11, 1010, 10}, true},
		{"near the tip", Cursor{HeaderHeight: 4990, AppliedHeight: 4989}, 5000, 1000, Span{4991, 5000, 4990}, true},
		{"caught up", Cursor{HeaderHeight: 5000, AppliedHeight: 4999}, 5000, 1000, Span{}, false},
		{"node behind the pRuntime", Cursor{HeaderHeight: 5000, AppliedHeight: 4999}, 4000, 1000, Span{}, false},
		{"restored from an older checkpoint", Cursor{HeaderHeight: 2000, AppliedHeight: 1999}, 5000, 1000, Span{2001, 3000, 2000}, true},
		{"applied lagging further", Cursor{HeaderHeight: 10, AppliedHeight: 3}, 50, 1000, Span{11, 50, 4}, true},
		{"default size", Cursor{HeaderHeight: 0, AppliedHeight: 0}, 5000, 0, Span{1, DefaultBatchSize, 1}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := PlanSpan(tc.cur, tc.node, tc.size)
			if ok != tc.wantOK || got != tc.want {
				t.Fatalf("PlanSpan(%+v, %d, %d) = %+v, %v; want %+v, %v", tc.cur, tc.node, tc.size, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestCutAtValidatorChange(t *testing.T) {
	a, b := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	hdr := func(vals, next []byte) *cmttypes.Header {
		return &cmttypes.Header{ValidatorsHash: vals, NextValidatorsHash: next}
	}
	same := []*cmttypes.Header{hdr(a, a), hdr(a, a), hdr(a, a)}
	if n := CutAtValidatorChange(same); n != 3 {
		t.Fatalf("no change: cut at %d, want 3", n)
	}
	change := []*cmttypes.Header{hdr(a, a), hdr(a, b), hdr(b, b)}
	if n := CutAtValidatorChange(change); n != 2 {
		t.Fatalf("change after header 2: cut at %d, want 2", n)
	}
	first := []*cmttypes.Header{hdr(a, b), hdr(b, b)}
	if n := CutAtValidatorChange(first); n != 1 {
		t.Fatalf("change after header 1: cut at %d, want 1", n)
	}
	if NeedsValidators(nil) || NeedsValidators(hdr(a, a)) || !NeedsValidators(hdr(a, b)) {
		t.Fatal("NeedsValidators")
	}
}

// buildChain makes a synthetic chain of n blocks with 4 validators, a fifth
// joining at joinAt and the first leaving at leaveAt, and messages every
// third block. Its genesis has no registry configuration, which the node's
// genesis document does not carry yet.
func buildChain(t testing.TB, n int, joinAt, leaveAt int64) *synth.Chain {
	t.Helper()
	vals := synth.Validators(5)
	g := synth.DevGenesis("cella-pherry-test", vals[:4])
	g.App.Registry = state.RegistryGenesis{}
	c, err := synth.New(synth.Config{
		Validators: vals[:4], Extra: vals[4:], Genesis: g,
		Messages: func(h int64) []msg.Message {
			if h%3 != 0 {
				return nil
			}
			return []msg.Message{{Origin: msg.OriginModule("test"), Topic: []byte("t"), Payload: []byte{byte(h)}}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	pairs := synth.DevPairs()
	if err := c.Build(n, synth.Plan{
		Txs: func(h int64) ([][]byte, error) {
			if h%2 != 0 {
				return nil, nil
			}
			return c.Transfers(pairs[:4], 2)
		},
		Admin:   pairs[5],
		Changes: []synth.PowerChange{{At: joinAt, Validator: vals[4], Power: 20}, {At: leaveAt, Validator: vals[0], Power: 0}},
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// runPherry starts a pherry over the fakes and returns a stop function.
func runPherry(t *testing.T, src Source, rt *fakeRuntime, size int, reg prometheus.Registerer, progress io.Writer) func() {
	t.Helper()
	p, err := New(Config{
		BatchSize: size, PollInterval: 5 * time.Millisecond, Log: nodetest.Log(),
		Source: src, Internal: rt, Public: rt, NoWebsocket: true, Metrics: reg, Progress: progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.minBackoff, p.maxBackoff = time.Millisecond, 20*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	return func() { once.Do(func() { stopRun(t, cancel, done) }) }
}

func stopRun(t *testing.T, cancel func(), done chan error) {
	{
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	nodetest.WaitFor(ctx, t, what, 2*time.Millisecond, cond)
}

// checkBatches checks every accepted batch against the batch rules.
func checkBatches(t *testing.T, c *synth.Chain, log []syncLog, size int) {
	t.Helper()
	for i, b := range log {
		if b.first != b.headerBefore+1 {
			t.Errorf("batch %d: starts at %d, the pRuntime had header %d", i, b.first, b.headerBefore)
		}
		// Records from the first unapplied block, but not the record the
		// pRuntime keeps (that of its last verified header), unless the
		// batch before was rejected; and not the last header's record,
		// which follows alone.
		wantFrom, wantTo := b.appliedBefore+1, b.last-1
		if !b.afterReject && b.recordBefore && b.headerBefore == b.appliedBefore+1 {
			wantFrom = b.first
		}
		if wantFrom > wantTo {
			wantFrom, wantTo = 0, 0 // none
		}
		if b.recFrom != wantFrom || b.recTo != wantTo {
			t.Errorf("batch %d (%d..%d): records %d..%d, want %d..%d", i, b.first, b.last, b.recFrom, b.recTo, wantFrom, wantTo)
		}
		if n := b.last - b.first + 1; n > int64(size) {
			t.Errorf("batch %d: %d headers, more than %d", i, n, size)
		}
		for h := b.first; h < b.last; h++ {
			if hd := c.Header(h); !bytes.Equal(hd.NextValidatorsHash, hd.ValidatorsHash) {
				t.Errorf("batch %d (%d..%d) crosses the validator change after %d", i, b.first, b.last, h)
			}
		}
		prevChanged := b.first > 1 && !bytes.Equal(c.Header(b.first-1).NextValidatorsHash, c.Header(b.first-1).ValidatorsHash)
		if prevChanged && !b.validators {
			t.Errorf("batch %d (%d..%d) lacks the new validator set", i, b.first, b.last)
		}
	}
}

func TestSyncAcrossValidatorChanges(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := buildChain(t, 90, 20, 50)
	src := newFakeNode(c)
	rt := &fakeRuntime{}
	reg := prometheus.NewRegistry()
	var prog bytes.Buffer
	stop := runPherry(t, src, rt, 16, reg, &prog)
	defer stop()
	waitFor(ctx, t, "the pRuntime to reach the chain's height", func() bool {
		hh, _ := rt.heights()
		return hh == c.Height()
	})
	log := rt.logCopy()
	checkBatches(t, c, log, 16)
	var cuts, withVals int
	for _, b := range log {
		hd := c.Header(b.last)
		if !bytes.Equal(hd.NextValidatorsHash, hd.ValidatorsHash) {
			cuts++
		}
		if b.validators {
			withVals++
		}
	}
	// Two changes, each announced by one header: two batches end there,
	// and the two batches after them carry the new set.
	if cuts != 2 || withVals != 2 {
		t.Fatalf("%d batches cut at a validator change, %d with a validator set; want 2 and 2 (log %+v)", cuts, withVals, log)
	}
	rt.mu.Lock()
	got, applied := rt.s.AppHash(), rt.s.Height()
	rt.mu.Unlock()
	if want := c.Header(applied + 1).AppHash; !bytes.Equal(got[:], want) {
		t.Fatalf("AppHash after %d: %x, header %d says %X", applied, got, applied+1, want)
	}
	stop()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 0 {
				vals[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	if int(vals["cella_pherry_batches_total"]) != len(log) || int64(vals["cella_pherry_node_height"]) != c.Height() ||
		int64(vals["cella_pherry_pruntime_header_height"]) != c.Height() {
		t.Fatalf("metrics %v; the pRuntime accepted %d batches up to %d", vals, len(log), c.Height())
	}
	if !strings.Contains(prog.String(), "headers") {
		t.Fatalf("no progress output for a chain 90 blocks ahead with batches of 16: %q", prog.String())
	}
}

func TestResumeAfterRestoreAndOutages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Header 21 announces a validator change (the block at 20 adds one),
	// and a batch ends there: the pRuntime restored from its checkpoint at
	// 21 needs the new set again when it resumes.
	c := buildChain(t, 40, 20, 0)
	src := newFakeNode(c)
	rt := &fakeRuntime{snapAt: 21}
	stop := runPherry(t, src, rt, 8, nil, nil)
	defer stop()
	waitFor(ctx, t, "height 40", func() bool { hh, _ := rt.heights(); return hh == 40 })

	// The pRuntime restarts from an older checkpoint while the node and
	// the pRuntime are briefly unreachable, and the chain grows.
	rt.mu.Lock()
	rt.down = 3
	rt.mu.Unlock()
	src.mu.Lock()
	src.down = 4
	src.mu.Unlock()
	restored := rt.restore(t)
	if restored >= 40 {
		t.Fatalf("restored to %d", restored)
	}
	before := len(rt.logCopy())
	src.extend(t, 25)
	waitFor(ctx, t, "height 65", func() bool { hh, _ := rt.heights(); return hh == 65 })
	log := rt.logCopy()
	if restored != 21 || log[before].first != restored+1 || !log[before].validators {
		t.Fatalf("restored to %d; the first batch after it: %+v", restored, log[before])
	}
	checkBatches(t, c, log, 8)

	// A rejected batch is retried (with the validator set).
	rt.mu.Lock()
	rt.rejectAt = 70
	rt.mu.Unlock()
	src.extend(t, 10)
	waitFor(ctx, t, "height 75", func() bool { hh, _ := rt.heights(); return hh == 75 })
	rt.mu.Lock()
	rejected := rt.rejected
	rt.mu.Unlock()
	if rejected != 1 {
		t.Fatalf("%d batches rejected, want the injected 1", rejected)
	}
}

func TestEncodeValidatorSet(t *testing.T) {
	c := buildChain(t, 1, 0, 0)
	vs := c.ValidatorSet(1)
	raw, err := EncodeValidatorSet(vs.Validators)
	if err != nil {
		t.Fatal(err)
	}
	var pv cmtproto.ValidatorSet
	if err := pv.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	got, err := cmttypes.ValidatorSetFromProto(&pv)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Hash(), vs.Hash()) {
		t.Fatal("encoded set hashes differently")
	}
	if _, err := EncodeValidatorSet(nil); err == nil {
		t.Fatal("empty set encoded")
	}
	if _, err := EncodeValidatorSet([]*cmttypes.Validator{nil}); err == nil {
		t.Fatal("nil validator encoded")
	}
}

func TestProgressLines(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b)
	now := time.Unix(1000, 0)
	p.now = func() time.Time { return now }
	p.update(0, 100, 10) // starts: 100 behind
	for h := int64(10); h <= 100; h += 10 {
		now = now.Add(2 * time.Second)
		p.update(h, 100, 10)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 || !strings.Contains(lines[len(lines)-1], "100/100") || !strings.Contains(lines[len(lines)-1], "done") {
		t.Fatalf("progress output:\n%s", out)
	}
	if strings.Contains(out, "\r") {
		t.Fatal("carriage return written to a non-terminal")
	}
	b.Reset()
	p.update(100, 105, 10) // 5 behind: no bar
	if b.Len() != 0 {
		t.Fatalf("bar drawn when barely behind: %q", b.String())
	}
}

// TestHandsEachBlockAtTheTip shows the node one block at a time: pherry
// must hand header h (with its commit) to the pRuntime while h is the
// node's last block, without waiting for h+1, and without record h, which
// follows alone: the pRuntime applies block h-1, whose AppHash header h
// carries, from the record of h-1 it kept, and then keeps record h. (The
// fake node refuses any height it does not show, so a pherry that asked
// for h+1 would never get there.)
func TestHandsEachBlockAtTheTip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 12
	c := buildChain(t, n, 0, 0)
	src := newFakeNode(c)
	src.visible = 1
	rt := &fakeRuntime{}
	stop := runPherry(t, src, rt, 16, nil, nil)
	defer stop()
	for h := int64(1); h <= n; h++ {
		src.mu.Lock()
		src.visible = h
		src.mu.Unlock()
		waitFor(ctx, t, fmt.Sprintf("header %d with the node at %d", h, h), func() bool {
			hh, applied := rt.heights()
			rt.mu.Lock()
			kept := rt.s != nil && rt.s.HasPending()
			rt.mu.Unlock()
			return hh == h && applied == h-1 && kept
		})
	}
	log := rt.logCopy()
	if len(log) != n {
		t.Fatalf("%d batches for %d blocks shown one at a time: %+v", len(log), n, log)
	}
	rt.mu.Lock()
	kept := slices.Clone(rt.kept)
	rt.mu.Unlock()
	for i, b := range log {
		h := int64(i + 1)
		if b.first != h || b.last != h || b.recFrom != 0 || i >= len(kept) || kept[i] != h {
			t.Errorf("batch %d: headers %d..%d, records %d..%d, then record-only batches %v; want header %d alone, then record %d alone",
				i, b.first, b.last, b.recFrom, b.recTo, kept, h, h)
		}
	}
	checkBatches(t, c, log, 16)
}

// TestResendsKeptRecordAfterRejection: a node that once answers a forged
// record for the pRuntime's last verified header gets the next batch
// rejected (header h+1's AppHash does not confirm it); pherry must then send
// the record again rather than rely on the one the pRuntime keeps.
func TestResendsKeptRecordAfterRejection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := buildChain(t, 8, 0, 0)
	src := newFakeNode(c)
	src.visible = 4
	rt := &fakeRuntime{}
	stop := runPherry(t, src, rt, 16, nil, nil)
	defer stop()
	waitFor(ctx, t, "header 4", func() bool { hh, _ := rt.heights(); return hh == 4 })
	src.mu.Lock()
	src.visible, src.lieAt = 5, 5
	src.mu.Unlock()
	waitFor(ctx, t, "header 5", func() bool { hh, _ := rt.heights(); return hh == 5 })
	src.mu.Lock()
	src.visible = 8
	src.mu.Unlock()
	waitFor(ctx, t, "header 8", func() bool { hh, _ := rt.heights(); return hh == 8 })
	rt.mu.Lock()
	rejected := rt.rejected
	rt.mu.Unlock()
	log := rt.logCopy()
	var resent bool
	for _, b := range log {
		if b.afterReject && b.recFrom == 5 && b.first == 6 {
			resent = true
		}
	}
	if rejected != 1 || !resent {
		t.Fatalf("%d rejections, record 5 sent again: %v; log %+v", rejected, resent, log)
	}
	checkBatches(t, c, log, 16)
}

func TestSkipKept(t *testing.T) {
	sp := Span{First: 11, Last: 20, Records: 10}
	for _, tc := range []struct {
		name string
		cur  Cursor
		want int64
	}{
		{"record held", Cursor{HeaderHeight: 10, AppliedHeight: 9, HasRecord: true}, 11},
		{"record left out by the last batch", Cursor{HeaderHeight: 10, AppliedHeight: 9}, 10},
		{"applied lagging", Cursor{HeaderHeight: 10, AppliedHeight: 5, HasRecord: true}, 10},
		{"fresh", Cursor{HasRecord: true}, 10},
	} {
		if got := SkipKept(sp, tc.cur); got.Records != tc.want || got.First != sp.First || got.Last != sp.Last {
			t.Errorf("%s: %+v, want records from %d", tc.name, got, tc.want)
		}
	}
}
