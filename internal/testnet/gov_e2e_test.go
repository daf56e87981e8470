package testnet_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/state/phat"
	devtee "github.com/cella-network/cella/internal/tee/dev"
	"github.com/cella-network/cella/internal/testnet"
	"github.com/cella-network/cella/sdk"
)

// v2BuildID is the build of gk1's pRuntime in TestGovernanceRotation: a
// pRuntime version the genesis does not allow-list.
const v2BuildID = "cella-pruntime-testnet-v2"

// TestGovernanceRotation runs `cella testnet` as separate OS processes on
// loopback (4 validators, 2 gatekeepers, 3 workers in cluster 0), with gk1
// a pRuntime of a build the genesis does not allow-list, left out of the
// bootstrap. While erc20 transfers (encrypted commands, through the SDK,
// to every node in turn) and queries (to every worker) flow, the genesis
// council (//Alice proposes, //Bob or //Charlie approves, through the SDK)
// allow-lists gk1's measurement and sets a 10-block key grace; gk1 is
// started, registers, and governance makes it a gatekeeper (it receives
// the master key); then governance rotates the master key. It checks that
// every transfer committed and succeeded before, during and after the
// rotation, that the contract's key on chain changed (the SDK encrypts to
// it: the transfers sent more than the grace period after the re-keying
// succeed, and a command encrypted to the old key then is refused), that
// both gatekeepers hold the epoch-1 master key, and that every worker ends
// on one cluster state root, the chain's agreed one, with balances equal
// to the sum of the transfers. It logs the blocks from the rotation's
// enactment to each step and to the new contract key on chain.
func TestGovernanceRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cella and runs 14 processes")
	}
	began := time.Now()
	since := func() time.Duration { return time.Since(began).Round(time.Millisecond) }
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := cellaBinary(t)
	t.Logf("built cella in %s", since())

	dir := filepath.Join(t.TempDir(), "net")
	m, err := testnet.Write(dir, testnet.Options{Validators: 4, Gatekeepers: 2, Workers: 3, ChainID: "cella-gov",
		BasePort: freeBase(t, 9), BlockTime: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// gk1 runs the new build; it and its pherry start once governance
	// allow-listed it, so the bootstrap leaves them out.
	late := []string{"gk1-pruntime", "gk1-pherry"}
	boot := *m
	boot.Processes = nil
	for i, p := range m.Processes {
		if p.Name == "gk1-pruntime" {
			m.Processes[i].Args = append(slices.Clone(p.Args), "--build-id", v2BuildID)
		}
		if !slices.Contains(late, p.Name) {
			boot.Processes = append(boot.Processes, p)
		}
	}
	sup := testnet.NewSupervisor(bin, dir, m, nodetest.Log())
	defer sup.StopAll()
	for _, p := range boot.Processes {
		if err := sup.Start(p.Name); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		for e := range sup.Exits {
			t.Errorf("unexpected: %s", e)
		}
	}()
	if err := testnet.Bootstrap(ctx, dir, &boot, testnet.BootstrapOptions{ReportInterval: 4, Log: nodetest.Log()}); err != nil {
		t.Fatal(err)
	}
	t.Logf("bootstrapped (gk0, cluster 0 on w0 w1 w2) at %s", since())

	sdk.PollInterval = 100 * time.Millisecond
	nodes := m.OfKind(testnet.KindNode, "")
	sdkc := make([]*sdk.Client, len(nodes))
	for i, n := range nodes {
		if sdkc[i], err = sdk.Connect("http://" + n.Addrs["rpc"]); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := client.New("http://" + nodes[0].Addrs["rpc"])
	if err != nil {
		t.Fatal(err)
	}
	c := sdkc[0]
	height := func() int64 {
		ci, err := raw.ChainInfo(ctx)
		if err != nil {
			t.Fatalf("chain info: %v", err)
		}
		return int64(ci.Height)
	}
	council := map[string]*sdk.Key{}
	for _, cm := range m.Council {
		b, err := os.ReadFile(filepath.Join(dir, cm.SURIFile))
		if err != nil {
			t.Fatal(err)
		}
		k, err := sdk.KeyFromURI(strings.TrimSpace(string(b)))
		if err != nil || k.Address().String() != cm.Address {
			t.Fatalf("council member %s: %v", cm.Address, err)
		}
		council[filepath.Base(cm.SURIFile)] = k
	}
	alice, bob, charlie := council["alice.suri"], council["bob.suri"], council["charlie.suri"]
	if alice == nil || bob == nil || charlie == nil || m.CouncilThreshold != 2 {
		t.Fatalf("the testnet's council: %+v (threshold %d)", m.Council, m.CouncilThreshold)
	}
	wait := sdk.TxOptions{Wait: true}
	// govern passes call through the council: //Alice proposes, voter
	// approves; it returns the proposal once enacted (or failed).
	govern := func(what string, call sdk.Call, voter *sdk.Key) *sdk.ProposalInfo {
		t.Helper()
		res, id, err := c.Propose(ctx, alice, call, false, wait)
		if err != nil || !res.OK() {
			t.Fatalf("propose %s: %+v %v", what, res, err)
		}
		if res, err := c.Vote(ctx, voter, id, true, nil, wait); err != nil || !res.OK() {
			t.Fatalf("vote on %s: %+v %v", what, res, err)
		}
		var p *sdk.ProposalInfo
		nodetest.WaitFor(ctx, t, what+" enacted", 100*time.Millisecond, func() bool {
			p, err = c.GovProposal(ctx, id)
			return err == nil && (p.Status == "enacted" || p.Status == "failed")
		})
		if p.Status != "enacted" {
			t.Fatalf("%s: proposal %d %s: %s", what, id, p.Status, p.ResultName)
		}
		t.Logf("governance: %s proposed, approved and enacted at block %d (%s)", what, p.EnactAt, since())
		return p
	}

	// erc20, deployed by Ferdie.
	ferdie, _ := sdk.KeyFromURI("//Ferdie")
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
	hash, res, err := c.Upload(ctx, ferdie, testcontracts.Wasm("erc20"), sdk.UploadOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("upload: %+v %v", res, err)
	}
	ctor, _ := md.EncodeConstructor("new", strconv.Itoa(supply))
	token, res, err := c.Instantiate(ctx, ferdie, hash, ctor, sdk.InstantiateOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("instantiate: %+v %v", res, err)
	}
	ci, err := c.WaitContract(ctx, token)
	if err != nil || ci.State != sdk.ContractInstantiated || ci.Pubkey == nil {
		t.Fatalf("erc20: %+v %v", ci, err)
	}
	oldKey := *ci.Pubkey
	t.Logf("erc20 deployed, key %s (%s)", oldKey.Hex(), since())

	// The load: Ferdie's transfers, encrypted, one at a time, each through
	// the next node; every one must commit.
	type sent struct {
		to     int
		amount uint64
		res    *sdk.TxResult
	}
	var (
		mu        sync.Mutex
		transfers []sent
		committed atomic.Int64
	)
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	acct, err := raw.Account(ctx, keys.PublicKey(ferdie.Address()))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(loadDone)
		// Ferdie's nonces are counted here: the next node may not have
		// the block of the previous transfer yet.
		nonce := acct.Nonce
		for i := 0; loadCtx.Err() == nil; i++ {
			tr := sent{to: i % len(recips), amount: uint64(i + 1)}
			in, _ := md.EncodeMessage("transfer", recips[tr.to].Address().String(), strconv.FormatUint(tr.amount, 10))
			cctx, cc := context.WithTimeout(ctx, 30*time.Second)
			n := nonce
			r, err := sdkc[i%len(sdkc)].Call(cctx, ferdie, token, in, sdk.CallOptions{TxOptions: sdk.TxOptions{Wait: true, Nonce: &n}})
			cc()
			if err != nil || !r.Committed || !r.OK() {
				if ctx.Err() == nil {
					t.Errorf("transfer %d: %+v %v", i, r, err)
				}
				return
			}
			tr.res = r
			nonce++
			mu.Lock()
			transfers = append(transfers, tr)
			mu.Unlock()
			committed.Add(1)
		}
	}()
	// The queries: each worker in turn, the total supply; answers and
	// failures counted per worker.
	workers := m.OfKind(testnet.KindPRuntime, testnet.RoleWorker)
	var answered, qfailed [3]atomic.Int64
	queryDone := make(chan struct{})
	go func() {
		defer close(queryDone)
		tsIn, _ := md.EncodeMessage("total_supply")
		for i := 0; loadCtx.Err() == nil; i++ {
			k := i % len(workers)
			qctx, qc := context.WithTimeout(loadCtx, 5*time.Second)
			sw, err := c.Worker(qctx, "http://"+workers[k].Addrs["public"])
			if err == nil {
				var r *sdk.QueryResult
				if r, err = c.Query(qctx, bob, sw, token, tsIn, sdk.QueryOptions{}); err == nil {
					if v, derr := md.DecodeReturn("total_supply", r.Output); derr != nil || string(v) != strconv.Itoa(supply) {
						t.Errorf("%s answers total supply %s (%v), want %d", workers[k].Name, v, derr, supply)
					}
					answered[k].Add(1)
				}
			}
			qc()
			if err != nil && loadCtx.Err() == nil {
				qfailed[k].Add(1)
				t.Logf("query to %s: %v", workers[k].Name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	every := 200 * time.Millisecond
	// progress waits until n more transfers committed.
	progress := func(what string, n int64) {
		t.Helper()
		h, k := height(), committed.Load()
		nodetest.WaitFor(ctx, t, what, every, func() bool { return committed.Load() >= k+n })
		t.Logf("%s: height %d → %d, transfers %d → %d (%s)", what, h, height(), k, committed.Load(), since())
	}
	progress("load running", 3)

	// 1. Governance allow-lists gk1's build and sets a 10-block key grace.
	v2 := devtee.MeasurementOf([]byte(v2BuildID)).Hash()
	govern("registry.allow_measurement(v2)", sdk.AllowMeasurementCall(sdk.Hash(v2)), bob)
	const grace = 10
	govern("gatekeeper.set_key_grace(10)", sdk.SetKeyGraceCall(grace), charlie)
	g, err := c.Gov(ctx)
	if err != nil || !slices.Contains(g.Measurements, fmt.Sprintf("0x%x", v2)) {
		t.Fatalf("the allow-list after governance: %+v %v", g, err)
	}

	// 2. gk1 starts, registers with the new build, and governance makes it
	// a gatekeeper; the designated one (gk0) shares the master key.
	for _, n := range late {
		if err := sup.Start(n); err != nil {
			t.Fatal(err)
		}
	}
	gk1, _ := m.Get("gk1-pruntime")
	var gk1ID keys.PublicKey
	nodetest.WaitFor(ctx, t, "gk1 registered", every, func() bool {
		in, err := testnet.PRuntimeInfo(ctx, gk1)
		if err != nil || !in.Registered {
			return false
		}
		gk1ID, err = keys.ParseAccount(in.IdentityPublicKey)
		return err == nil
	})
	wk, err := raw.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(wk, func(w chainapi.WorkerInfo) bool {
		return w.IdentityPublicKey == gk1ID.Hex() && w.MeasurementHash == fmt.Sprintf("0x%x", v2)
	}) {
		t.Fatalf("gk1 (%s) is not registered with the v2 build's measurement: %+v", gk1ID.Hex(), wk)
	}
	t.Logf("gk1 registered (%s)", since())
	govern("gatekeeper.add(gk1)", sdk.AddGatekeeperCall(sdk.Address(gk1ID)), charlie)
	var gi *chainapi.GatekeepersInfo
	activeBoth := func() bool {
		gi, err = raw.Gatekeepers(ctx)
		if err != nil || len(gi.Gatekeepers) != 2 {
			return false
		}
		for _, x := range gi.Gatekeepers {
			if !x.Active {
				return false
			}
		}
		return true
	}
	nodetest.WaitFor(ctx, t, "gk1 active (holding the master key)", every, activeBoth)
	master0 := gi.MasterPubkey
	progress("two gatekeepers", 2)

	// 3. Governance rotates the master key while the load runs.
	before := committed.Load()
	p := govern("gatekeeper.rotate_master_key", sdk.RotateMasterKeyCall(), bob)
	enacted := int64(p.EnactAt)
	var newKey sdk.Address
	var seen int64
	nodetest.WaitFor(ctx, t, "erc20's epoch-1 key on chain", 100*time.Millisecond, func() bool {
		ci, err := c.Contract(ctx, token)
		if err != nil || ci.Pubkey == nil || *ci.Pubkey == oldKey {
			return false
		}
		newKey, seen = *ci.Pubkey, height()
		return true
	})
	duringRotation := committed.Load() - before
	nodetest.WaitFor(ctx, t, "the rotation ended (both gatekeepers active)", every, activeBoth)
	if gi.MasterEpoch != 1 || gi.MasterPubkey == master0 || len(gi.MasterHistory) != 2 {
		t.Fatalf("gatekeepers after the rotation: %+v", gi)
	}
	for _, n := range []string{"gk0-pruntime", "gk1-pruntime"} {
		pp, _ := m.Get(n)
		nodetest.WaitFor(ctx, t, n+" holding the epoch-1 master key", every, func() bool {
			in, err := testnet.PRuntimeInfo(ctx, pp)
			return err == nil && in.MasterPublicKey == gi.MasterPubkey
		})
	}
	at := firstDeliveries(ctx, t, raw, enacted, msg.TopicMasterPubkey, msg.TopicMasterKeyShare, msg.TopicGatekeeperReady,
		msg.TopicClusterKeys, msg.TopicClusterRekeyed, msg.TopicContractKeys)
	if at[msg.TopicContractKeys] == 0 || at[msg.TopicContractKeys] < at[msg.TopicClusterRekeyed] {
		t.Fatalf("contract keys not delivered after the re-keying: %v", at)
	}
	cl, err := raw.Cluster(ctx, phat.ClusterID(0))
	if err != nil || cl.Epoch != 1 {
		t.Fatalf("cluster 0 after the rotation: %+v %v", cl, err)
	}
	rel := func(tp string) int64 { return at[tp] - enacted }
	t.Logf("ROTATION enacted at block %d; blocks after it: master key %d, share to the other gatekeeper %d, its ready %d, cluster re-keyed %d (phat/rekeyed %d), contract keys on chain %d (seen by the SDK at +%d); transfers committed meanwhile %d",
		enacted, rel(msg.TopicMasterPubkey), rel(msg.TopicMasterKeyShare), rel(msg.TopicGatekeeperReady), rel(msg.TopicClusterKeys),
		rel(msg.TopicClusterRekeyed), rel(msg.TopicContractKeys), seen-enacted, duringRotation)

	// 4. Past the grace period, the transfers (encrypted by the SDK to the
	// key it reads from chain) still succeed, and the old key is refused.
	retired := at[msg.TopicClusterKeys] + grace
	nodetest.WaitFor(ctx, t, "the end of the grace period", every, func() bool { return height() > retired })
	afterGrace := committed.Load()
	progress("after the grace period", 4)
	stopLoad()
	<-loadDone
	<-queryDone
	// Ferdie (the load stopped, so no nonce race) sends 1 token to Eve
	// encrypted to the retired key: refused, so the balances below, which
	// leave it out, hold only if it did not run.
	oldRes := sendToKey(ctx, t, c, ferdie, token, oldKey, md)
	t.Logf("a command encrypted to the retired key committed at block %d (grace over after block %d)", oldRes.Height, retired)
	end := height()

	// Every worker past the last transfer, on one cluster state root.
	root := sameRoot(ctx, t, workers, end)
	// Balances are the sums of the transfers; every outcome succeeded.
	mu.Lock()
	trs := transfers
	mu.Unlock()
	want := make([]uint64, len(recips))
	var total uint64
	var late0 int
	for _, tr := range trs {
		want[tr.to] += tr.amount
		total += tr.amount
		if tr.res.Height > retired {
			late0++
		}
	}
	for _, w := range workers {
		sw, err := c.Worker(ctx, "http://"+w.Addrs["public"])
		if err != nil {
			t.Fatal(err)
		}
		ask := func(who *sdk.Key, msg string, args ...string) string {
			in, _ := md.EncodeMessage(msg, args...)
			r, err := c.Query(ctx, who, sw, token, in, sdk.QueryOptions{})
			if err != nil || r.Reverted {
				t.Fatalf("%s on %s: %+v %v", msg, w.Name, r, err)
			}
			v, err := md.DecodeReturn(msg, r.Output)
			if err != nil {
				t.Fatal(err)
			}
			return string(v)
		}
		if got, want := ask(ferdie, "balance_of", ferdie.Address().String()), strconv.FormatUint(supply-total, 10); got != want {
			t.Errorf("%s: the deployer holds %s, want %s", w.Name, got, want)
		}
		for i, k := range recips {
			if got, want := ask(k, "balance_of", k.Address().String()), strconv.FormatUint(want[i], 10); got != want {
				t.Errorf("%s: recipient %d holds %s, want %s", w.Name, i, got, want)
			}
		}
	}
	sw, err := c.Worker(ctx, "http://"+workers[0].Addrs["public"])
	if err != nil {
		t.Fatal(err)
	}
	var inRotation int
	for _, tr := range trs {
		o, err := c.WaitOutcome(ctx, tr.res)
		if err != nil {
			t.Fatalf("outcome of the transfer at block %d: %v", tr.res.Height, err)
		}
		co, err := c.CommandResult(ctx, ferdie, sw, o)
		if err != nil || !co.Success() {
			t.Errorf("the transfer at block %d did not succeed: %+v %v", tr.res.Height, co, err)
		}
		if tr.res.Height > enacted && tr.res.Height <= at[msg.TopicContractKeys] {
			inRotation++
		}
	}
	nodetest.WaitFor(ctx, t, "a root agreed after the last transfer", every, func() bool {
		ci, err := raw.Cluster(ctx, phat.ClusterID(0))
		return err == nil && ci.LastAgreed != nil && int64(ci.LastAgreed.Height) >= end
	})
	if cl, err = raw.Cluster(ctx, phat.ClusterID(0)); err != nil || cl.LastAgreed.Root != root || len(cl.Alarms) != 0 {
		t.Errorf("the chain's cluster 0: %+v %v (the workers' root %s)", cl, err, root)
	}
	if late0 == 0 || afterGrace == 0 {
		t.Fatal("no transfer committed after the grace period")
	}
	t.Logf("%d transfers committed and succeeded (%d between the enactment and the new contract key, %d after the grace period, to the key %s); queries answered per worker %d/%d/%d, failed %d/%d/%d; cluster root %s; %s in all",
		len(trs), inRotation, late0, newKey.Hex(), answered[0].Load(), answered[1].Load(), answered[2].Load(),
		qfailed[0].Load(), qfailed[1].Load(), qfailed[2].Load(), root, since())
	for k := range workers {
		if answered[k].Load() == 0 {
			t.Errorf("%s answered no query", workers[k].Name)
		}
	}
}

// sendToKey sends an erc20 transfer of 1 to //Eve as key, encrypted to
// contractKey (as a client that read the key long ago would), and returns
// its committed result.
func sendToKey(ctx context.Context, t *testing.T, c *sdk.Client, key *sdk.Key, contract, contractKey sdk.Address, md *sdk.Metadata) *sdk.TxResult {
	t.Helper()
	eve, _ := sdk.KeyFromURI("//Eve")
	in, _ := md.EncodeMessage("transfer", eve.Address().String(), "1")
	cmd := &phatwire.InkCommand{Nonce: make([]byte, 32), Message: in, GasLimit: 1_000_000_000_000}
	if _, err := rand.Read(cmd.Nonce); err != nil {
		t.Fatal(err)
	}
	eph := cipher.EcdhKeyFromSeed([32]byte(cmd.Nonce))
	iv, err := cipher.NewIV(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := phatwire.EncryptCommand(eph, keys.PublicKey(contractKey), iv, cmd)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	call := phat.PushCommandCall(phat.PushArgs{Contract: keys.PublicKey(contract), Payload: payload, GasLimit: cmd.GasLimit})
	r, err := c.Send(ctx, key, sdk.Call(call), sdk.TxOptions{Wait: true})
	if err != nil || !r.OK() {
		t.Fatalf("a command to key %s: %+v %v", contractKey.Hex(), r, err)
	}
	return r
}

// firstDeliveries returns, for each topic, the first block from from on
// that delivered a message of it (absent: none).
func firstDeliveries(ctx context.Context, t *testing.T, c *client.Client, from int64, topics ...string) map[string]int64 {
	t.Helper()
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for f := uint64(from); f <= uint64(ci.Height); f += chainapi.MaxBlocksPerQuery {
		recs, err := c.Blocks(ctx, f, min(uint64(ci.Height), f+chainapi.MaxBlocksPerQuery-1))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			for _, m := range r.Messages {
				for _, tp := range topics {
					if string(m.Topic) == tp && out[tp] == 0 {
						out[tp] = r.Height
					}
				}
			}
		}
	}
	return out
}

// sameRoot waits until every worker applied block end and returns their
// common cluster 0 state root (failing when they differ).
func sameRoot(ctx context.Context, t *testing.T, workers []testnet.Process, end int64) string {
	t.Helper()
	c0 := fmt.Sprintf("0x%x", phat.ClusterID(0))
	roots := map[string]string{}
	nodetest.WaitFor(ctx, t, "every worker past the last transfer", 200*time.Millisecond, func() bool {
		for _, w := range workers {
			in, err := testnet.PRuntimeInfo(ctx, w)
			if err != nil || in.Height < end {
				return false
			}
		}
		return true
	})
	var root string
	for _, w := range workers {
		in, err := testnet.PRuntimeInfo(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		for _, cl := range in.Clusters {
			if strings.ToLower(cl.Id) == c0 {
				roots[w.Name] = cl.StateRoot
			}
		}
		if roots[w.Name] == "" {
			t.Fatalf("%s does not hold cluster 0's key", w.Name)
		}
		if root == "" {
			root = roots[w.Name]
		} else if roots[w.Name] != root {
			t.Fatalf("cluster 0 state roots differ: %v", roots)
		}
	}
	return root
}
