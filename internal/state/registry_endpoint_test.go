package state_test

import (
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/registry"
)

// TestWorkerEndpoint: a registered worker records its public URL with a
// worker/endpoint message; a bad URL is refused (no change), a message of
// another origin is not admitted, and no account or other worker can set a
// worker's endpoint.
func TestWorkerEndpoint(t *testing.T) {
	c, ws := keysChain(t)
	bob, mallory := dev(t, "Bob"), dev(t, "Mallory")
	w1, w2 := ws[0], ws[1]
	submit := func(want uint32, s msg.SignedMessage) *state.BlockResult {
		t.Helper()
		return c.do(want, c.submit(bob, c.account(bob.Public()).Nonce, s))
	}
	endpoint := func(w int) string {
		t.Helper()
		u, err := registry.GetEndpoint(c.st, ws[w].Public())
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if endpoint(0) != "" {
		t.Fatal("endpoint before any was set")
	}
	submit(state.CodeOK, gkMsg(w1, 0, msg.TopicWorkerEndpoint, &msg.EndpointPayload{URL: "http://127.0.0.1:8000"}))
	if endpoint(0) != "http://127.0.0.1:8000" || endpoint(1) != "" {
		t.Fatalf("endpoints %q %q", endpoint(0), endpoint(1))
	}
	// Replaced by a later one.
	submit(state.CodeOK, gkMsg(w1, 1, msg.TopicWorkerEndpoint, &msg.EndpointPayload{URL: "https://w1.example.com"}))
	// Bad URLs: refused with the sequence consumed, nothing else changes.
	seq := uint64(2)
	for _, u := range []string{"ftp://w1", "w1.example.com:8000", "http://u:p@w1", "http://w1/ x", "javascript:alert(1)"} {
		refused(t, c, submit(state.CodeBadEndpoint, gkMsg(w1, seq, msg.TopicWorkerEndpoint, &msg.EndpointPayload{URL: u})), msg.OriginWorker(w1.Public()), seq+1)
		seq++
	}
	// An over-long URL does not decode.
	long := gkMsg(w1, seq, msg.TopicWorkerEndpoint, &msg.EndpointPayload{URL: "http://w1/" + strings.Repeat("a", msg.MaxEndpointLen)})
	refused(t, c, submit(state.CodeMqBadPayload, long), msg.OriginWorker(w1.Public()), seq+1)
	if endpoint(0) != "https://w1.example.com" {
		t.Fatalf("endpoint after refusals %q", endpoint(0))
	}

	// Worker2's endpoint signed by Worker1, or by an account: not
	// admitted, no effect.
	forged := gkMsg(w2, 0, msg.TopicWorkerEndpoint, &msg.EndpointPayload{URL: "http://evil"})
	forged.Signature = w1.Sign(msg.SigningPayload(&forged.Message, 0))
	byAccount := gkMsg(w2, 0, msg.TopicWorkerEndpoint, &msg.EndpointPayload{URL: "http://evil"})
	byAccount.Signature = mallory.Sign(msg.SigningPayload(&byAccount.Message, 0))
	for _, s := range []msg.SignedMessage{forged, byAccount} {
		res := c.block(c.submit(bob, c.account(bob.Public()).Nonce, s))
		if r := res.TxResults[0]; r.Code != state.CodeMqBadSignature || len(res.WriteSet) != 0 {
			t.Fatalf("forged endpoint: %s (%s), %d writes", state.CodeName(r.Code), r.Log, len(res.WriteSet))
		}
	}
	// An unregistered key cannot send one either.
	res := c.block(c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(mallory, 0, msg.TopicWorkerEndpoint, &msg.EndpointPayload{URL: "http://m"})))
	if r := res.TxResults[0]; r.Code != state.CodeMqUnknownOrigin {
		t.Fatalf("unregistered: %s", state.CodeName(r.Code))
	}
	if endpoint(1) != "" || endpoint(0) != "https://w1.example.com" {
		t.Fatalf("endpoints %q %q", endpoint(0), endpoint(1))
	}
}
