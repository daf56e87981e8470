package worker

import (
	"slices"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// endpointView is the fake chain's view with the registry's endpoints.
type endpointView struct {
	fakeView
	endpoints map[keys.PublicKey]string
}

func (v endpointView) WorkerEndpoint(id keys.PublicKey) (string, error) { return v.endpoints[id], nil }

func endpointsSent(t *testing.T, rd Ready) []string {
	t.Helper()
	var out []string
	for _, sm := range rd.Egress {
		if string(sm.Message.Topic) != msg.TopicWorkerEndpoint {
			continue
		}
		var p msg.EndpointPayload
		if err := scale.Decode(sm.Message.Payload, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p.URL)
	}
	return out
}

// TestEndpointAnnounced: a worker with a public URL records it once it is
// registered, once, and again only when the chain's record differs from a
// new URL; an invalid URL or a view without endpoints sends nothing.
func TestEndpointAnnounced(t *testing.T) {
	f := newFakeChain()
	eps := map[keys.PublicKey]string{}
	k := testKeys(7)
	f.register(k, goodCode)
	c, err := NewWithOptions(k, 0, Options{View: func(state.Store) ChainView { return endpointView{fakeView{f}, eps} },
		Verifier: &fakeVerifier{}, PublicURL: "http://w7:8000"})
	if err != nil {
		t.Fatal(err)
	}
	h := int64(0)
	step := func(msgs ...msg.Message) []string {
		t.Helper()
		h++
		rd, err := c.Step(block(h, f.st, msgs...))
		if err != nil {
			t.Fatal(err)
		}
		return endpointsSent(t, rd)
	}
	if got := step(); got != nil {
		t.Fatalf("sent %v before registration", got)
	}
	if got := step(regMsg(k.Identity.Public(), registryOrigin())); !slices.Equal(got, []string{"http://w7:8000"}) {
		t.Fatalf("at registration: %v", got)
	}
	if got := step(); got != nil {
		t.Fatalf("sent again before the chain recorded it: %v", got)
	}
	eps[k.Identity.Public()] = "http://w7:8000"
	if got := step(); got != nil {
		t.Fatalf("sent again after the chain recorded it: %v", got)
	}
	// A new URL (operator's change): sent once.
	c.SetPublicURL("https://w7.example.com")
	if got := step(); !slices.Equal(got, []string{"https://w7.example.com"}) {
		t.Fatalf("new URL: %v", got)
	}
	if got := step(); got != nil {
		t.Fatalf("new URL sent twice: %v", got)
	}
	// An invalid URL is never sent.
	c.SetPublicURL("ftp://w7")
	if got := step(); got != nil {
		t.Fatalf("invalid URL sent: %v", got)
	}

	// A restarted core (no memory of what it sent) whose URL the chain
	// has: nothing; a view without endpoints: nothing.
	c2, err := NewWithOptions(k, 0, Options{View: func(state.Store) ChainView { return endpointView{fakeView{f}, eps} }, PublicURL: "http://w7:8000"})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := c2.Step(block(1, f.st, regMsg(k.Identity.Public(), registryOrigin())))
	if err != nil || endpointsSent(t, rd) != nil {
		t.Fatalf("restarted core: %v %v", endpointsSent(t, rd), err)
	}
	c3, err := NewWithOptions(k, 0, Options{View: f.view, PublicURL: "http://w7:8000"})
	if err != nil {
		t.Fatal(err)
	}
	rd, err = c3.Step(block(1, f.st, regMsg(k.Identity.Public(), registryOrigin())))
	if err != nil || endpointsSent(t, rd) != nil {
		t.Fatalf("view without endpoints: %v %v", endpointsSent(t, rd), err)
	}
}
