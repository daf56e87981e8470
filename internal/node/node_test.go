package node_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/tx"
)

// startDev starts a dev node from home (initialised as a dev chain first
// when it is not yet) and a client of its RPC server.
func startDev(t *testing.T, home string, o node.ConfigOptions) (*node.Node, *client.Client) {
	t.Helper()
	n := nodetest.Start(t, home, o)
	c, err := client.New(o.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	return n, c
}

// waitHeight polls until the node has committed height h; the test's
// context deadline is the only bound.
func waitHeight(ctx context.Context, t *testing.T, c *client.Client, h int64) {
	t.Helper()
	for {
		ci, err := c.ChainInfo(ctx)
		if err == nil && ci.Height >= h {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for height %d: %v (last error %v)", h, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func pair(t *testing.T, uri string) *keys.Pair {
	t.Helper()
	p, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func balance(ctx context.Context, t *testing.T, c *client.Client, id keys.PublicKey) scale.U128 {
	t.Helper()
	acc, err := c.Account(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := scale.ParseU128(acc.Free)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// submitOK builds call signed by from, submits it and waits for its result,
// failing the test unless it executed OK.
func submitOK(ctx context.Context, t *testing.T, c *client.Client, from *keys.Pair, call tx.Call) *client.TxResult {
	t.Helper()
	b, err := c.Build(ctx, from, call, client.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := c.Submit(ctx, b)
	return waitOK(ctx, t, c, hash, err)
}

func TestDevTransferAndRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	o := nodetest.Options(t)
	n, c := startDev(t, home, o)
	waitHeight(ctx, t, c, 1)

	alice, bob := pair(t, "//Alice"), pair(t, "//Bob")
	before := balance(ctx, t, c, bob.Public())
	amount := scale.U128From(1_234_567)
	res := submitOK(ctx, t, c, alice, balances.TransferCall(bob.Public(), amount))
	want, _ := before.Add(amount)
	if got := balance(ctx, t, c, bob.Public()); got != want {
		t.Fatalf("bob's balance %s, want %s", got, want)
	}
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart from disk: the chain continues with the same state and AppHash
	// (empty blocks since the transfer leave the AppHash unchanged).
	n2, c2 := startDev(t, home, o)
	defer n2.Close()
	waitHeight(ctx, t, c2, ci.Height+2)
	if got := balance(ctx, t, c2, bob.Public()); got != want {
		t.Fatalf("after restart bob's balance %s, want %s", got, want)
	}
	ci2, err := c2.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ci2.AppHash != ci.AppHash || ci2.GenesisHash != ci.GenesisHash {
		t.Fatalf("after restart app hash %s genesis %s, want %s %s", ci2.AppHash, ci2.GenesisHash, ci.AppHash, ci.GenesisHash)
	}
	acc, err := c2.Account(ctx, alice.Public())
	if err != nil {
		t.Fatal(err)
	}
	if acc.Nonce != 1 {
		t.Fatalf("alice's nonce %d, want 1", acc.Nonce)
	}

	// The node keeps every block's write-set: the record of the transfer's
	// block recomputes to the AppHash chain.
	recs, err := c2.Blocks(ctx, 0, uint64(res.Height))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != int(res.Height)+1 {
		t.Fatalf("got %d block records, want %d", len(recs), res.Height+1)
	}
	prev := [32]byte{}
	for i, r := range recs {
		if i == 0 {
			prev = r.AppHash // genesis record
			continue
		}
		if got := state.AppHash(state.AppVersion1, prev, r.WriteSet, r.Messages); got != r.AppHash {
			t.Fatalf("height %d: recomputed app hash %x, recorded %x", r.Height, got, r.AppHash)
		}
		prev = r.AppHash
	}
	if fmt.Sprintf("0x%x", prev) != ci.AppHash {
		t.Fatalf("recomputed head %x, chain says %s", prev, ci.AppHash)
	}
}

// TestBadInputOverRPC sends each kind of bad transaction to a running node
// and checks the specific CheckTx code, and that no state changed.
func TestBadInputOverRPC(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, c := startDev(t, t.TempDir(), nodetest.Options(t))
	defer n.Close()
	waitHeight(ctx, t, c, 1)

	alice, bob := pair(t, "//Alice"), pair(t, "//Bob")
	nobody := pair(t, "//Nobody")
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good := func() tx.Body {
		tr, err := c.Build(ctx, alice, balances.TransferCall(bob.Public(), scale.U128From(1)), client.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Body
	}
	sign := func(b tx.Body, p *keys.Pair) []byte { return tx.Sign(b, p).Encode() }
	badSig := func() []byte {
		t := tx.Sign(good(), alice)
		t.Signature[0] ^= 1
		return t.Encode()
	}
	wrongGenesis := func() []byte { b := good(); b.Genesis[0] ^= 1; return sign(b, alice) }
	futureNonce := func() []byte { b := good(); b.Nonce += 5; return sign(b, alice) }
	poor := func() []byte { b := good(); b.Signer = nobody.Public(); b.Nonce = 0; return sign(b, nobody) }
	unknownCall := func() []byte { b := good(); b.Call = tx.Call{Module: 200, Method: 1}; return sign(b, alice) }
	expired := func() []byte { b := good(); b.ValidUntil = 1; return sign(b, alice) }
	oversize := func() []byte {
		b := good()
		b.Call.Args = make([]byte, tx.MaxTxBytes)
		return sign(b, alice)
	}
	cases := []struct {
		name string
		raw  func() []byte
		code uint32
	}{
		{"garbage", func() []byte { return []byte{1, 1, 3} }, state.CodeMalformed},
		{"truncated", func() []byte { return sign(good(), alice)[:60] }, state.CodeMalformed},
		{"unknown version", func() []byte { return []byte{9, 1, 3} }, state.CodeUnsupported},
		{"bad signature", badSig, state.CodeBadSignature},
		{"wrong genesis", wrongGenesis, state.CodeWrongGenesis},
		{"nonce too far ahead", futureNonce, state.CodeFutureNonce},
		{"cannot pay fee", poor, state.CodeCannotPayFee},
		{"unknown call", unknownCall, state.CodeUnknownCall},
		{"expired", expired, state.CodeExpired},
		{"oversize", oversize, state.CodeOversize},
	}
	before := balance(ctx, t, c, alice.Public())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.RPC().BroadcastTxSync(ctx, tc.raw())
			if err != nil {
				// CometBFT refuses an oversize tx before the app sees it.
				if tc.code == state.CodeOversize {
					return
				}
				t.Fatal(err)
			}
			if res.Code != tc.code {
				t.Fatalf("code %d (%s: %s), want %d (%s)", res.Code, state.CodeName(res.Code), res.Log, tc.code, state.CodeName(tc.code))
			}
			if res.Log == "" {
				t.Fatal("rejection without a message")
			}
		})
	}
	waitHeight(ctx, t, c, ci.Height+2)
	if got := balance(ctx, t, c, alice.Public()); got != before {
		t.Fatalf("alice's balance changed from %s to %s", before, got)
	}

	// A replayed transaction: the same bytes twice.
	tr, err := c.Build(ctx, alice, balances.TransferCall(bob.Public(), scale.U128From(1)), client.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := c.Submit(ctx, tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx, hash); err != nil {
		t.Fatal(err)
	}
	_, err = c.Submit(ctx, tr)
	var te *client.TxError
	if !errors.As(err, &te) || te.Code != state.CodeStaleNonce {
		// CometBFT's mempool cache may refuse the exact bytes first.
		if err == nil || !strings.Contains(err.Error(), "already exists in cache") {
			t.Fatalf("replay: got %v, want stale nonce", err)
		}
	}
}

// TestPipelinedNonces submits several transactions of one sender before any
// is committed; all are accepted and committed in order.
func TestPipelinedNonces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := nodetest.Options(t)
	o.BlockTime = 200 * time.Millisecond
	n, c := startDev(t, t.TempDir(), o)
	defer n.Close()
	waitHeight(ctx, t, c, 1)
	alice, bob := pair(t, "//Alice"), pair(t, "//Bob")
	const k = 20
	hashes := make([][32]byte, k)
	for i := range k {
		nonce := uint64(i)
		tr, err := c.Build(ctx, alice, balances.TransferCall(bob.Public(), scale.U128From(1)), client.TxOptions{Nonce: &nonce})
		if err != nil {
			t.Fatal(err)
		}
		if hashes[i], err = c.Submit(ctx, tr); err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
	}
	for i, h := range hashes {
		res, err := c.Wait(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() {
			t.Fatalf("tx %d failed: %+v", i, res)
		}
	}
	acc, err := c.Account(ctx, alice.Public())
	if err != nil {
		t.Fatal(err)
	}
	if acc.Nonce != k {
		t.Fatalf("nonce %d, want %d", acc.Nonce, k)
	}
}

func TestShutdownNoise(t *testing.T) {
	cases := []struct {
		msg  string
		kv   []any
		want bool
	}{
		{"Stopped accept routine, as transport is closed", nil, true},
		{"Error serving server", []any{"err", "accept tcp 127.0.0.1:26657: use of closed network connection"}, true},
		{"Error serving server", []any{"err", "permission denied"}, false},
		{"CONSENSUS FAILURE!!!", []any{"err", "use of closed network connection"}, false},
		{"Error stopping pool", []any{"err", "already stopped"}, true},
		{"Failed to read request", []any{"protocol", "websocket", "err", "websocket: close 1006 (abnormal closure): unexpected EOF"}, true},
		{"Failed to read request", []any{"err", "invalid character"}, false},
	}
	for _, c := range cases {
		if got := node.ShutdownNoise(c.msg, c.kv); got != c.want {
			t.Errorf("%q %v: %v, want %v", c.msg, c.kv, got, c.want)
		}
	}
}
