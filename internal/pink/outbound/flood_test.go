package outbound

import (
	"bytes"
	"context"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/pink"
)

// TestFloodMemoryBounded sends 50 concurrent requests whose servers answer
// 3 MiB each, without a Content-Length (so the client must read to find
// out). Each must be refused, and the bytes the whole process allocates
// meanwhile (runtime TotalAlloc, which no GC timing affects and which
// bounds the heap's growth) must stay within what the caps allow: per
// request at most pink.MaxResponseBody plus one read chunk of body, plus an
// allowance per connection for TLS and HTTP state (crypto/tls grows its
// input buffer to what the socket holds, a few hundred KiB under load), plus
// a fixed allowance. io.ReadAll's growth would take about five times the
// body; TestReadBodyAllocation bounds readBody itself tightly.
func TestFloodMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 150 MiB over loopback TLS")
	}
	const (
		n         = 50
		size      = 3 << 20
		perConn   = 1 << 20  // TLS handshake and record buffers, request and response state
		allowance = 16 << 20 // the test's own goroutines and the runtime
	)
	big := bytes.Repeat([]byte("f"), size)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < size; i += 256 << 10 {
			if _, err := w.Write(big[i : i+256<<10]); err != nil {
				return
			}
		}
	})
	cfg := devConfig(srv)
	cfg.MaxConnsPerHost = n
	cfg.MaxInFlight = n
	c := newClient(t, cfg)

	// Warm up: roots parsed, first connection made.
	if _, err := c.Do(context.Background(), get(srv.URL)); err != pink.ErrResponseTooLarge {
		t.Fatalf("warm-up: %v", err)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = c.Do(context.Background(), get(srv.URL))
		})
	}
	close(start)
	wg.Wait()
	runtime.ReadMemStats(&after)

	for i, err := range errs {
		if err != pink.ErrResponseTooLarge {
			t.Fatalf("request %d: %v, want ResponseTooLarge", i, err)
		}
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	bound := uint64(n*(pink.MaxResponseBody+bodyChunk+perConn) + allowance)
	t.Logf("%d refused 3 MiB responses: %.1f MiB allocated (bound %.1f MiB, %.2f MiB per request); heap %.1f → %.1f MiB",
		n, mib(allocated), mib(bound), mib(allocated)/n, mib(before.HeapAlloc), mib(after.HeapAlloc))
	if allocated > bound {
		t.Fatalf("allocated %.1f MiB under the flood, bound %.1f MiB", mib(allocated), mib(bound))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// TestReadBodyAllocation bounds what readBody allocates for a body over the
// limit: the limit plus one chunk, not the body and not a doubling buffer.
func TestReadBodyAllocation(t *testing.T) {
	src := bytes.Repeat([]byte("r"), 3<<20)
	for _, length := range []int64{-1, int64(len(src))} {
		var before, after runtime.MemStats
		var got int
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := readBody(bytes.NewReader(src), length, &got)
		runtime.ReadMemStats(&after)
		if err != errBodyTooLarge {
			t.Fatalf("length %d: %v", length, err)
		}
		allocated := after.TotalAlloc - before.TotalAlloc
		if bound := uint64(pink.MaxResponseBody + bodyChunk + 64<<10); allocated > bound {
			t.Fatalf("readBody allocated %d bytes for a 3 MiB body, bound %d", allocated, bound)
		}
		if got > pink.MaxResponseBody+bodyChunk {
			t.Fatalf("read %d bytes", got)
		}
	}
}

// TestReadBodySmallUnknownLength: a small body of unknown length (a chunked
// response) costs about its own size, not a fresh 32 KiB chunk per
// response; and a pooled chunk's earlier bytes never show in a later body.
func TestReadBodySmallUnknownLength(t *testing.T) {
	secret := bytes.Repeat([]byte("s"), bodyChunk)
	var got int
	if b, err := readBody(bytes.NewReader(secret), -1, &got); err != nil || len(b) != bodyChunk {
		t.Fatalf("full chunk: %d bytes, %v", len(b), err)
	}
	const runs = 200
	body := []byte(`{"symbol":"BTC","price":"64123.45"}`)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		b, err := readBody(bytes.NewReader(body), -1, &got)
		if err != nil || !bytes.Equal(b, body) || cap(b) != len(body) {
			t.Fatalf("read %q (cap %d), %v", b, cap(b), err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 4<<10 && !raceEnabled {
		t.Fatalf("readBody allocated %d bytes per %d-byte body of unknown length", per, len(body))
	}
	for _, n := range []int{0, 1, 100} {
		b, err := readBody(bytes.NewReader(bytes.Repeat([]byte("p"), n)), -1, &got)
		if err != nil || len(b) != n || bytes.Contains(b, []byte("s")) {
			t.Fatalf("%d-byte body: %q, %v", n, b, err)
		}
	}
}
