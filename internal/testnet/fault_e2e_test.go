package testnet_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/testnet"
	"github.com/cella-network/cella/internal/tx"
	"github.com/cella-network/cella/sdk"
)

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
)

// cellaBinary builds cmd/cella once per test binary run, into a folder
// TestMain removes.
func cellaBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		var dir string
		if dir, binErr = os.MkdirTemp("", "cella-testnet-bin-"); binErr != nil {
			return
		}
		binDirs = append(binDirs, dir)
		binPath = filepath.Join(dir, "cella")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/cella-network/cella/cmd/cella").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

var binDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range binDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// freeBase picks a base port for slots slots of 10 ports, all free, below
// the ephemeral range.
func freeBase(t *testing.T, slots int) int {
	t.Helper()
	for range 50 {
		base := 20000 + 10*rand.IntN((testnet.MaxPort-20000-10*slots)/10)
		free := true
		for p := base; p < base+10*slots && free; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				break
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port range below 32768")
	return 0
}

// transfer is one erc20 transfer of the load: its nonce (one transaction
// with this nonce commits, whichever of its resubmissions it is), its
// recipient and amount, and its result when it is known.
type transfer struct {
	nonce  uint64
	to     int
	amount uint64
	known  *sdk.TxResult // nil: committed, but through a submission whose answer was lost
	failed bool          // committed with a failure code (not a command)
}

// TestFaultTolerance runs `cella testnet` as separate OS processes on
// loopback (4 validators, 2 gatekeepers, 3 workers in cluster 0) and, while
// erc20 transfers (through the SDK, to any live node) and queries (to every
// worker) flow, kills -9 a validator, then a gatekeeper (its pRuntime and
// pherry; the designated one, while a new cluster waits for its key),
// then a worker (likewise), each restarted after the chain made
// blocks and commands went through without it. It checks that the chain
// keeps making blocks, a surviving worker keeps answering, the restarted
// processes catch up, every answer shows the total supply unchanged, every
// worker ends on the same cluster state root with balances equal to the sum
// of the committed transfers (each executed exactly once), and that the
// known outcomes succeeded.
func TestFaultTolerance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cella and runs 14 processes")
	}
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	bin := cellaBinary(t)
	t.Logf("built cella in %s", time.Since(began).Round(time.Millisecond))

	dir := filepath.Join(tmp, "net")
	m, err := testnet.Write(dir, testnet.Options{Validators: 4, Gatekeepers: 2, Workers: 3, ChainID: "cella-fault",
		BasePort: freeBase(t, 9), BlockTime: 300 * time.Millisecond, CheckpointInterval: 8})
	if err != nil {
		t.Fatal(err)
	}
	sup := testnet.NewSupervisor(bin, dir, m, nodetest.Log())
	if err := sup.StartAll(); err != nil {
		t.Fatal(err)
	}
	defer sup.StopAll()
	// No process may end unless the test kills it.
	go func() {
		for e := range sup.Exits {
			t.Errorf("unexpected: %s", e)
		}
	}()
	if err := testnet.Bootstrap(ctx, dir, m, testnet.BootstrapOptions{ReportInterval: 4, Log: nodetest.Log()}); err != nil {
		t.Fatal(err)
	}
	t.Logf("bootstrapped at %s", time.Since(began).Round(time.Millisecond))

	sdk.PollInterval = 100 * time.Millisecond
	nodes := m.OfKind(testnet.KindNode, "")
	var down sync.Map // names of killed processes
	isDown := func(name string) bool { _, ok := down.Load(name); return ok }
	sdkc := make([]*sdk.Client, len(nodes))
	raw := make([]*client.Client, len(nodes))
	for i, n := range nodes {
		if sdkc[i], err = sdk.Connect("http://" + n.Addrs["rpc"]); err != nil {
			t.Fatal(err)
		}
		if raw[i], err = client.New("http://" + n.Addrs["rpc"]); err != nil {
			t.Fatal(err)
		}
	}
	// height is the chain's height as the live nodes see it (the highest).
	height := func() int64 {
		var h int64
		for i, n := range nodes {
			if isDown(n.Name) {
				continue
			}
			cctx, cc := context.WithTimeout(ctx, 3*time.Second)
			if ci, err := raw[i].ChainInfo(cctx); err == nil {
				h = max(h, int64(ci.Height))
			}
			cc()
		}
		return h
	}

	// erc20, deployed by Ferdie (who then holds the whole supply) through
	// node0. Alice, the admin, sends the privileged calls.
	alice, _ := sdk.KeyFromURI("//Ferdie")
	admin, _ := keys.FromURI("//Alice")
	bob, _ := sdk.KeyFromURI("//Bob")
	var recips []*sdk.Key
	for _, n := range []string{"//Bob", "//Charlie", "//Dave", "//Eve"} {
		k, _ := sdk.KeyFromURI(n)
		recips = append(recips, k)
	}
	md, err := sdk.ParseMetadata(testcontracts.Metadata("erc20"))
	if err != nil {
		t.Fatal(err)
	}
	const supply = 1_000_000
	wait := sdk.TxOptions{Wait: true}
	hash, res, err := sdkc[0].Upload(ctx, alice, testcontracts.Wasm("erc20"), sdk.UploadOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("upload: %+v %v", res, err)
	}
	ctor, _ := md.EncodeConstructor("new", strconv.Itoa(supply))
	token, res, err := sdkc[0].Instantiate(ctx, alice, hash, ctor, sdk.InstantiateOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("instantiate: %+v %v", res, err)
	}
	if ci, err := sdkc[0].WaitContract(ctx, token); err != nil || ci.State != sdk.ContractInstantiated {
		t.Fatalf("erc20: %+v %v", ci, err)
	}
	t.Logf("erc20 deployed at %s", time.Since(began).Round(time.Millisecond))

	// The load: Ferdie's transfers, one at a time, each to the next live
	// node. A submission whose answer is lost (its node killed) is resolved
	// by Ferdie's nonce on the live nodes: past it, one transaction of that
	// nonce committed (every resubmission carries the same transfer);
	// otherwise the transfer is resubmitted with the same nonce.
	nextNonce := func() uint64 {
		var best uint64
		for i, n := range nodes {
			if isDown(n.Name) {
				continue
			}
			cctx, cc := context.WithTimeout(ctx, 3*time.Second)
			if a, err := raw[i].Account(cctx, keys.PublicKey(alice.Address())); err == nil {
				best = max(best, a.Nonce)
			}
			cc()
		}
		return best
	}
	var (
		mu        sync.Mutex
		transfers []transfer
		committed atomic.Int64 // transfers committed so far
		resubmits atomic.Int64
	)
	// sending says which node the next submission goes to (when the test
	// listens), so that a node can be killed with a transfer in flight.
	sending := make(chan int)
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		n := nextNonce()
		rr := 0
		for i := 0; loadCtx.Err() == nil; i++ {
			tr := transfer{nonce: n, to: i % len(recips), amount: uint64(i + 1)}
			in, _ := md.EncodeMessage("transfer", recips[tr.to].Address().String(), strconv.FormatUint(tr.amount, 10))
			for attempt := 0; ; attempt++ {
				if ctx.Err() != nil {
					return
				}
				var c *sdk.Client
				for c == nil {
					rr++
					if !isDown(nodes[rr%len(nodes)].Name) {
						c = sdkc[rr%len(nodes)]
					}
				}
				select {
				case sending <- rr % len(nodes):
				default:
				}
				nonce := n
				cctx, cc := context.WithTimeout(ctx, 20*time.Second)
				res, err := c.Call(cctx, alice, token, in, sdk.CallOptions{Plain: i%2 == 1, TxOptions: sdk.TxOptions{Wait: true, Nonce: &nonce}})
				cc()
				if err == nil && res.Committed && res.Code == state.CodeStaleNonce {
					break // an earlier submission of this nonce, whose answer was lost, took it
				}
				if err == nil && res.Committed {
					tr.known, tr.failed = res, !res.OK()
					break
				}
				time.Sleep(time.Second)
				if nextNonce() > n {
					break // a submission of this nonce committed; its answer was lost
				}
				resubmits.Add(1)
			}
			mu.Lock()
			transfers = append(transfers, tr)
			mu.Unlock()
			committed.Add(1)
			n++
		}
	}()

	// The queries: each worker in turn, total supply (constant) and Bob's
	// balance; answers counted per worker.
	workers := m.OfKind(testnet.KindPRuntime, testnet.RoleWorker)
	var answered [3]atomic.Int64
	queryDone := make(chan struct{})
	go func() {
		defer close(queryDone)
		tsIn, _ := md.EncodeMessage("total_supply")
		for i := 0; loadCtx.Err() == nil; i++ {
			k := i % len(workers)
			w := workers[k]
			if isDown(w.Name) {
				continue
			}
			qctx, qc := context.WithTimeout(loadCtx, 5*time.Second)
			sw, err := sdkc[0].Worker(qctx, "http://"+w.Addrs["public"])
			if err == nil {
				var r *sdk.QueryResult
				if r, err = sdkc[0].Query(qctx, bob, sw, token, tsIn, sdk.QueryOptions{}); err == nil {
					if v, derr := md.DecodeReturn("total_supply", r.Output); derr != nil || string(v) != strconv.Itoa(supply) {
						t.Errorf("%s answers total supply %s (%v), want %d", w.Name, v, derr, supply)
					}
					answered[k].Add(1)
				}
			}
			qc()
			if err != nil && loadCtx.Err() == nil && !isDown(w.Name) {
				t.Logf("query to %s: %v", w.Name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	every := 200 * time.Millisecond
	// progress waits until the chain made 6 more blocks and 3 more
	// transfers committed.
	progress := func(what string) {
		t.Helper()
		h, c := height(), committed.Load()
		nodetest.WaitFor(ctx, t, what, every, func() bool { return height() >= h+6 && committed.Load() >= c+3 })
		t.Logf("%s: height %d → %d, transfers %d → %d (%s)", what, h, height(), c, committed.Load(), time.Since(began).Round(time.Millisecond))
	}
	kill := func(names ...string) {
		t.Helper()
		for _, n := range names {
			down.Store(n, true)
			if err := sup.Kill(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	restart := func(names ...string) {
		t.Helper()
		for _, n := range names {
			if err := sup.Start(n); err != nil {
				t.Fatal(err)
			}
		}
	}
	// info reads a pRuntime: its height, gatekeeper status, master key,
	// and the clusters whose key it holds (by id) with their state roots.
	info := func(p testnet.Process) (h int64, gk bool, master string, roots map[string]string) {
		in, err := testnet.PRuntimeInfo(ctx, p)
		if err != nil {
			return -1, false, "", nil
		}
		roots = map[string]string{}
		for _, c := range in.Clusters {
			roots[strings.ToLower(c.Id)] = c.StateRoot
		}
		return in.Height, in.Gatekeeper, in.MasterPublicKey, roots
	}
	c0, c1 := fmt.Sprintf("0x%x", phat.ClusterID(0)), fmt.Sprintf("0x%x", phat.ClusterID(1))
	// sudo dispatches a privileged call as the admin through a live node.
	sudo := func(what string, call tx.Call) {
		t.Helper()
		h, err := raw[0].Sudo(ctx, admin, call)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if r, err := raw[0].Wait(ctx, h); err != nil || !r.OK() {
			t.Fatalf("%s: %+v %v", what, r, err)
		}
	}
	progress("before any fault")

	// 1. A validator (the one w1's pherry reads), while a transfer it took
	// waits for its block: the answer is lost, and the sender must find out
	// from the other nodes whether it committed.
	val := nodes[3]
	for i := range sending {
		if i == 3 {
			break
		}
	}
	time.Sleep(50 * time.Millisecond) // into the submission's wait for its block
	kill(val.Name)
	progress("validator " + val.Name + " down")
	target := height()
	restart(val.Name)
	nodetest.WaitFor(ctx, t, val.Name+" caught up", every, func() bool {
		cctx, cc := context.WithTimeout(ctx, 2*time.Second)
		defer cc()
		ci, err := raw[3].ChainInfo(cctx)
		return err == nil && int64(ci.Height) >= target
	})
	down.Delete(val.Name)
	t.Logf("%s restarted and caught up to %d (%s)", val.Name, target, time.Since(began).Round(time.Millisecond))

	// 2. The designated gatekeeper (the active one with the lowest
	// identity: it hands the keys out), pRuntime and pherry. While it is
	// down the admin creates cluster 1 (w2): its key must come from the
	// restarted gatekeeper (or the other, if it took over).
	var gk testnet.Process
	var gkID string
	for _, p := range m.OfKind(testnet.KindPRuntime, testnet.RoleGatekeeper) {
		in, err := testnet.PRuntimeInfo(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if id := strings.ToLower(in.IdentityPublicKey); gkID == "" || id < gkID {
			gk, gkID = p, id
		}
	}
	gkPherry := strings.TrimSuffix(gk.Name, "-pruntime") + "-pherry"
	kill(gkPherry, gk.Name)
	w2 := workers[2]
	w2in, err := testnet.PRuntimeInfo(ctx, w2)
	if err != nil {
		t.Fatal(err)
	}
	w2id, err := keys.ParseAccount(w2in.IdentityPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sudo("phat.create_cluster(w2)", phat.CreateClusterCall(phat.CreateArgs{Owner: admin.Public(), Permission: phat.PermissionPublic, Workers: []keys.PublicKey{w2id}}))
	progress("designated gatekeeper " + gk.Name + " down")
	_, _, _, w2roots := info(w2)
	_, keyedWhileDown := w2roots[c1]
	target = height()
	restart(gk.Name, gkPherry)
	nodetest.WaitFor(ctx, t, gk.Name+" caught up, still a gatekeeper with the master key", every, func() bool {
		h, isGK, master, _ := info(gk)
		return h >= target && isGK && master != ""
	})
	down.Delete(gk.Name)
	down.Delete(gkPherry)
	t.Logf("%s restarted and caught up to %d (%s)", gk.Name, target, time.Since(began).Round(time.Millisecond))
	nodetest.WaitFor(ctx, t, "cluster 1's key on w2", every, func() bool {
		_, _, _, roots := info(w2)
		_, ok := roots[c1]
		return ok
	})
	t.Logf("cluster 1 keyed on w2 (already while the designated gatekeeper was down: %v) (%s)", keyedWhileDown, time.Since(began).Round(time.Millisecond))

	// 3. A worker of cluster 0, pRuntime and pherry; the others answer.
	w1 := workers[1]
	before := [3]int64{answered[0].Load(), answered[1].Load(), answered[2].Load()}
	kill("w1-pherry", w1.Name)
	progress("worker w1 down")
	nodetest.WaitFor(ctx, t, "queries answered by the surviving workers", every, func() bool {
		return answered[0].Load() > before[0] && answered[2].Load() > before[2]
	})
	target = height()
	restart(w1.Name, "w1-pherry")
	nodetest.WaitFor(ctx, t, "w1 caught up", every, func() bool {
		h, _, _, roots := info(w1)
		return h >= target && roots[c0] != ""
	})
	down.Delete(w1.Name)
	down.Delete("w1-pherry")
	t.Logf("w1 restarted and caught up to %d (%s)", target, time.Since(began).Round(time.Millisecond))
	progress("after the faults")

	stopLoad()
	<-loadDone
	<-queryDone
	end := height()

	// Every worker past the last transfer, on one cluster state root.
	var root string
	nodetest.WaitFor(ctx, t, "every worker past the last transfer", every, func() bool {
		for _, w := range workers {
			if h, _, _, _ := info(w); h < end {
				return false
			}
		}
		return true
	})
	for _, w := range workers {
		_, _, _, roots := info(w)
		r, ok := roots[c0]
		if !ok {
			t.Fatalf("%s does not hold cluster 0's key: %v", w.Name, roots)
		}
		if root == "" {
			root = r
		} else if r != root {
			t.Fatalf("%s's cluster 0 state root %s, %s's %s", w.Name, r, workers[0].Name, root)
		}
	}

	// Exactly once: balances are the sums of the committed transfers.
	mu.Lock()
	trs := transfers
	mu.Unlock()
	want := make([]uint64, len(recips))
	var total, unknown, failed int
	var sent uint64
	for _, tr := range trs {
		if tr.failed {
			failed++
			continue
		}
		if tr.known == nil {
			unknown++
		}
		want[tr.to] += tr.amount
		sent += tr.amount
		total++
	}
	if failed > 0 {
		t.Errorf("%d transfers committed with a failure code", failed)
	}
	for _, w := range workers {
		sw, err := sdkc[0].Worker(ctx, "http://"+w.Addrs["public"])
		if err != nil {
			t.Fatal(err)
		}
		ask := func(who *sdk.Key, msg string, args ...string) string {
			in, _ := md.EncodeMessage(msg, args...)
			r, err := sdkc[0].Query(ctx, who, sw, token, in, sdk.QueryOptions{})
			if err != nil || r.Reverted {
				t.Fatalf("%s on %s: %+v %v", msg, w.Name, r, err)
			}
			v, err := md.DecodeReturn(msg, r.Output)
			if err != nil {
				t.Fatal(err)
			}
			return string(v)
		}
		if got := ask(bob, "total_supply"); got != strconv.Itoa(supply) {
			t.Errorf("%s: total supply %s, want %d", w.Name, got, supply)
		}
		if got, want := ask(alice, "balance_of", alice.Address().String()), strconv.FormatUint(supply-sent, 10); got != want {
			t.Errorf("%s: the deployer holds %s, want %s", w.Name, got, want)
		}
		for i, k := range recips {
			if got, want := ask(k, "balance_of", k.Address().String()), strconv.FormatUint(want[i], 10); got != want {
				t.Errorf("%s: recipient %d holds %s, want %s", w.Name, i, got, want)
			}
		}
	}
	// The known outcomes, from a worker that was never killed.
	sw, err := sdkc[0].Worker(ctx, "http://"+workers[0].Addrs["public"])
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range trs {
		if tr.known == nil || tr.failed {
			continue
		}
		o, err := sdkc[0].WaitOutcome(ctx, tr.known)
		if err != nil {
			t.Fatalf("outcome of nonce %d: %v", tr.nonce, err)
		}
		co, err := sdkc[0].CommandResult(ctx, alice, sw, o)
		if err != nil {
			t.Fatalf("result of nonce %d: %v", tr.nonce, err)
		}
		if !co.Success() {
			t.Errorf("transfer of nonce %d did not succeed: %+v", tr.nonce, co)
		}
	}
	// The chain agrees with the workers, and saw no divergence.
	nodetest.WaitFor(ctx, t, "a root agreed after the last transfer", every, func() bool {
		ci, err := raw[0].Cluster(ctx, phat.ClusterID(0))
		return err == nil && ci.LastAgreed != nil && int64(ci.LastAgreed.Height) >= end
	})
	ci, err := raw[0].Cluster(ctx, phat.ClusterID(0))
	if err != nil {
		t.Fatal(err)
	}
	if ci.LastAgreed.Root != root {
		t.Errorf("the chain's agreed root %s, the workers' %s", ci.LastAgreed.Root, root)
	}
	if len(ci.Alarms) != 0 {
		t.Errorf("divergence alarms: %+v", ci.Alarms)
	}
	t.Logf("%d transfers committed (%d resolved by nonce after a lost answer, %d resubmissions), %d tokens moved; queries answered per worker %d/%d/%d; cluster root %s; %s in all",
		total, unknown, resubmits.Load(), sent, answered[0].Load(), answered[1].Load(), answered[2].Load(), root, time.Since(began).Round(time.Millisecond))
	if total == 0 {
		t.Fatal("no transfer committed")
	}
}
