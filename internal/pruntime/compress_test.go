package pruntime

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"connectrpc.com/connect"

	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
)

// encodingRecorder records the Content-Encoding of requests and answers.
type encodingRecorder struct {
	mu        sync.Mutex
	req, resp map[string]string // path → Content-Encoding
}

func (e *encodingRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.req[r.URL.Path] = r.Header.Get("Content-Encoding")
	e.resp[r.URL.Path] = resp.Header.Get("Content-Encoding")
	e.mu.Unlock()
	return resp, nil
}

// TestSealedAnswersUncompressed: a query's answer is ciphertext, so the
// worker sends it uncompressed even to a client that accepts gzip (before,
// every answer went through a deflate pass), and still reads a
// gzip-compressed query; other public answers may still be compressed.
func TestSealedAnswersUncompressed(t *testing.T) {
	w := newQueryWorld(t)
	r := queryRuntime(t, w)
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	rec := &encodingRecorder{req: map[string]string{}, resp: map[string]string{}}
	hc := &http.Client{Transport: rec}
	c := newQClient(t, r.Info().EcdhPublicKey, 1000)
	for _, tc := range []struct {
		send connect.ClientOption
		enc  string
	}{{connect.WithSendGzip(), "gzip"}, {connect.WithSendCompression(""), ""}} {
		pub := pruntimev1connect.NewPublicClient(hc, srv.URL, tc.send)
		q := c.query(w.flipper, inkMessage(selGet))
		res, err := pub.Query(context.Background(), c.seal(t, q))
		if err != nil {
			t.Fatal(err)
		}
		if er := execResultOf(t, c.open(t, q, res)); er.Err != nil || !bytes.Equal(er.Result.Data, []byte{0, 0}) {
			t.Fatalf("get: %+v", er)
		}
		path := pruntimev1connect.PublicQueryProcedure
		if got := rec.req[path]; got != tc.enc {
			t.Fatalf("query sent with Content-Encoding %q, want %q", got, tc.enc)
		}
		if got := rec.resp[path]; got != "" {
			t.Fatalf("query answer sent with Content-Encoding %q (request %q)", got, rec.req[path])
		}
		if _, err := pub.Info(context.Background(), &pruntimev1.InfoRequest{}); err != nil {
			t.Fatal(err)
		}
	}
}
