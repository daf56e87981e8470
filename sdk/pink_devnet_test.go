package sdk_test

import (
	"context"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/devnet"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/sdk"
)

// TestDevnetPriceOracle is the pink extension end to end: on a dev network
// whose worker trusts a local HTTPS server's certificate
// (--dev-extra-root-ca), the pricefeed contract is deployed through the SDK
// and an encrypted query makes it fetch a JSON price over HTTPS inside the
// pRuntime, sign it with its derived sr25519 key and answer; the signature
// verifies outside (go-schnorrkel) and with the contract's own verify. The
// same fetch as a command is refused (HTTP is for queries only).
func TestDevnetPriceOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/price" || r.Header.Get("accept") != "application/json" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"symbol":"BTC","price":"64123.45"}`)
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	ctx, c, n := startPinkDevnet(t, ca)
	sdk.PollInterval = 50 * time.Millisecond
	alice, _ := sdk.KeyFromURI("//Alice")
	md, err := sdk.ParseMetadata(testcontracts.Metadata("pricefeed"))
	if err != nil {
		t.Fatal(err)
	}
	code := testcontracts.Wasm("pricefeed")
	wait := sdk.TxOptions{Wait: true}
	hash, res, err := c.Upload(ctx, alice, code, sdk.UploadOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("upload: %+v %v", res, err)
	}
	url := srv.URL + "/price"
	data, err := md.EncodeConstructor("new", `"`+url+`"`)
	if err != nil {
		t.Fatal(err)
	}
	addr, res, err := c.Instantiate(ctx, alice, hash, data, sdk.InstantiateOptions{Salt: []byte("oracle"), TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("instantiate: %+v %v", res, err)
	}
	if _, err := c.WaitContract(ctx, addr); err != nil {
		t.Fatal(err)
	}
	w, err := c.Worker(ctx, "http://"+n.Worker.PublicAddr)
	if err != nil {
		t.Fatal(err)
	}
	query := func(msg string, args ...string) (string, *sdk.QueryResult) {
		t.Helper()
		in, err := md.EncodeMessage(msg, args...)
		if err != nil {
			t.Fatal(err)
		}
		var r *sdk.QueryResult
		nodetest.WaitFor(ctx, t, "the contract on the worker", 50*time.Millisecond, func() bool {
			r, err = c.Query(ctx, alice, w, addr, in, sdk.QueryOptions{})
			return err == nil || !strings.Contains(err.Error(), "not found")
		})
		if err != nil {
			t.Fatalf("%s: %v", msg, err)
		}
		v, err := md.DecodeReturn(msg, r.Output)
		if err != nil {
			t.Fatalf("%s: decode %x: %v", msg, r.Output, err)
		}
		return string(v), r
	}
	v, r := query("fetch_price")
	if r.Reverted || !strings.Contains(v, "6412345000000") {
		t.Fatalf("fetch_price = %s (reverted %v, debug %q)", v, r.Reverted, r.Debug)
	}
	if hits.Load() == 0 {
		t.Fatal("the server saw no request")
	}
	// SignedPrice{price u128, block u32, signature Vec<u8>, pubkey [u8;32]}
	// after Result's Ok byte(s): decode the raw output.
	out := r.Output
	if len(out) < 2 || out[0] != 0 || out[1] != 0 {
		t.Fatalf("fetch_price output %x: not Ok(Ok(..))", out)
	}
	rd := scale.NewReader(out[2:])
	price := rd.U128()
	block := rd.U32()
	sig := rd.BytesVec()
	var pub [32]byte
	rd.Fixed(pub[:])
	if rd.Err() != nil || len(sig) != 64 {
		t.Fatalf("signed price %x: %v", out, rd.Err())
	}
	var w2 scale.Writer
	w2.U128(price)
	w2.U32(block)
	w2.String(url)
	pk, err := schnorrkel.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	var s64 [64]byte
	copy(s64[:], sig)
	sg := new(schnorrkel.Signature)
	if err := sg.Decode(s64); err != nil {
		t.Fatal(err)
	}
	if ok, err := pk.Verify(sg, schnorrkel.NewSigningContext([]byte("substrate"), w2.Bytes())); err != nil || !ok {
		t.Fatalf("the price's signature does not verify: %v", err)
	}
	// The contract's own verify and pubkey agree.
	if v, _ := query("verify", price.String(), fmt.Sprint(block), "0x"+hex.EncodeToString(sig)); v != "true" {
		t.Fatalf("verify = %s", v)
	}
	if v, _ := query("pubkey"); !strings.Contains(strings.ToLower(v), hex.EncodeToString(pub[:])) {
		t.Fatalf("pubkey = %s, signer %x", v, pub)
	}
	// As a command, the fetch is refused by the contract (no HTTP in a
	// transaction) and the server sees nothing.
	before := hits.Load()
	in, _ := md.EncodeMessage("fetch_price")
	res, err = c.Call(ctx, alice, addr, in, sdk.CallOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("fetch_price command: %+v %v", res, err)
	}
	o, err := c.WaitOutcome(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := c.CommandResult(ctx, alice, w, o)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := md.DecodeReturn("fetch_price", cr.Output); err != nil || !strings.Contains(string(got), "NotInQuery") {
		t.Fatalf("fetch_price as a command: %s %v (%+v)", got, err, cr)
	}
	if hits.Load() != before {
		t.Fatal("a command made an HTTP request")
	}
}

// startPinkDevnet starts a dev network whose worker trusts ca (PEM) for
// contracts' HTTPS requests.
func startPinkDevnet(t testing.TB, ca []byte) (context.Context, *sdk.Client, *devnet.Network) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	cfg := devnet.Config{
		Home: t.TempDir(), ChainID: "cella-pink-test",
		Node: node.ConfigOptions{Moniker: "t", BlockTime: 30 * time.Millisecond, EmptyBlocks: true,
			RPCAddr: nodetest.FreeURL(t), P2PAddr: nodetest.FreeURL(t), Loopback: true},
		Worker: devnet.WorkerConfig{PublicAddr: nodetest.FreeAddr(t), PollInterval: 50 * time.Millisecond,
			Pink: pruntime.PinkConfig{DevExtraRootCA: ca}},
	}
	n, err := devnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	nodetest.WaitFor(ctx, t, "cluster 0's key", 50*time.Millisecond, func() bool { return len(n.Worker.Runtime.Info().Clusters) == 1 })
	c, err := sdk.Connect(cfg.Node.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	return ctx, c, n
}

// TestDevnetContractLogs: a contract's pink `log` lines, from a command and
// from a query, are read back by its deployer through the worker's signed
// ContractLogs; anyone else is refused.
func TestDevnetContractLogs(t *testing.T) {
	ctx, c, workerURL := startDevnet(t)
	sdk.PollInterval = 50 * time.Millisecond
	alice, _ := sdk.KeyFromURI("//Alice")
	bob, _ := sdk.KeyFromURI("//Bob")
	code, err := os.ReadFile("../internal/pink/testdata/pinkcall.wasm")
	if err != nil {
		t.Fatal(err)
	}
	wait := sdk.TxOptions{Wait: true}
	hash, res, err := c.Upload(ctx, alice, code, sdk.UploadOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("upload: %+v %v", res, err)
	}
	addr, res, err := c.Instantiate(ctx, alice, hash, []byte{0, 0, 0, 0}, sdk.InstantiateOptions{Salt: []byte("logs"), TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("instantiate: %+v %v", res, err)
	}
	if _, err := c.WaitContract(ctx, addr); err != nil {
		t.Fatal(err)
	}
	// pinkcall's input: u32 function id ‖ the extension's input; log is
	// id 10 with (u8 level, String message).
	logCall := func(level byte, message string) []byte {
		var w scale.Writer
		w.U32(10)
		w.U8(level)
		w.String(message)
		return w.Bytes()
	}
	res, err = c.Call(ctx, alice, addr, logCall(3, "from a command"), sdk.CallOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("command: %+v %v", res, err)
	}
	o, err := c.WaitOutcome(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Worker(ctx, workerURL)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.CommandResult(ctx, alice, w, o); err != nil || !r.Success() {
		t.Fatalf("command result %+v %v", r, err)
	}
	if r, err := c.Query(ctx, bob, w, addr, logCall(1, "from bob's query"), sdk.QueryOptions{}); err != nil || r.Reverted {
		t.Fatalf("query: %+v %v", r, err)
	}
	page, err := c.ContractLogs(ctx, alice, w, addr, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Lines) != 2 || page.Lines[0].Message != "from a command" || page.Lines[0].Level != "info" || page.Lines[0].InQuery ||
		page.Lines[1].Message != "from bob's query" || page.Lines[1].Level != "error" || !page.Lines[1].InQuery || page.Next != page.Lines[1].Seq {
		t.Fatalf("logs %+v", page)
	}
	// Paging: after the first line, only the second.
	if p2, err := c.ContractLogs(ctx, alice, w, addr, page.Lines[0].Seq, 0); err != nil || len(p2.Lines) != 1 || p2.Lines[0].Seq != page.Lines[1].Seq {
		t.Fatalf("logs after %d: %+v %v", page.Lines[0].Seq, p2, err)
	}
	// Bob did not deploy it.
	if _, err := c.ContractLogs(ctx, bob, w, addr, 0, 0); err == nil || !strings.Contains(err.Error(), "no logs") {
		t.Fatalf("bob reads alice's contract's logs: %v", err)
	}
}
