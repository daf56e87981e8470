package sdk_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/devnet"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/sdk"
)

// pinkcallFixture deploys the pink test contract (internal/pink/testdata:
// its input is u32 function id ‖ extension input, its output u32 status ‖
// extension output) on a dev network trusting srv, and returns a query
// function for it.
func pinkcallFixture(t testing.TB, srv *httptest.Server) (func(ctx context.Context, in []byte) ([]byte, error), context.Context, *devnet.Network) {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	ctx, c, n := startPinkDevnet(t, ca)
	sdk.PollInterval = 50 * time.Millisecond
	alice, _ := sdk.KeyFromURI("//Alice")
	code, err := os.ReadFile("../internal/pink/testdata/pinkcall.wasm")
	if err != nil {
		t.Fatal(err)
	}
	wait := sdk.TxOptions{Wait: true}
	hash, res, err := c.Upload(ctx, alice, code, sdk.UploadOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("upload: %+v %v", res, err)
	}
	addr, res, err := c.Instantiate(ctx, alice, hash, []byte{0, 0, 0, 0}, sdk.InstantiateOptions{Salt: []byte("bench"), TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("instantiate: %+v %v", res, err)
	}
	w, err := c.Worker(ctx, "http://"+n.Worker.PublicAddr)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(ctx, t, "the contract on the worker", 50*time.Millisecond, func() bool {
		_, err := c.Query(ctx, alice, w, addr, isInTx(), sdk.QueryOptions{})
		return err == nil
	})
	return func(ctx context.Context, in []byte) ([]byte, error) {
		r, err := c.Query(ctx, alice, w, addr, in, sdk.QueryOptions{})
		if err != nil {
			return nil, err
		}
		if r.Reverted || len(r.Output) < 4 {
			return nil, fmt.Errorf("pinkcall answered %+v", r)
		}
		return r.Output[4:], nil
	}, ctx, n
}

func isInTx() []byte { return []byte{12, 0, 0, 0} }

// httpGet is pinkcall's input for http_request(GET url).
func httpGet(url string) []byte {
	var w scale.Writer
	w.U32(1)
	w.String(url)
	w.String("GET")
	w.Compact(0)
	w.BytesVec(nil)
	return w.Bytes()
}

// responseStatus decodes an HttpResponse's status code and body length.
func responseStatus(out []byte) (uint16, int, error) {
	r := scale.NewReader(out)
	st := r.U16()
	_ = r.String()
	n := r.Len(2)
	for i := 0; i < n; i++ {
		_, _ = r.String(), r.String()
	}
	body := r.BytesVec()
	return st, len(body), r.Err()
}

func priceServer() *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(bytes.Repeat([]byte("x"), 3<<20))
			return
		}
		fmt.Fprint(w, `{"symbol":"BTC","price":"64123.45"}`)
	}))
}

// BenchmarkPinkHTTPQuery measures, in one run, a bare HTTPS GET by Go's
// client to a local server (keep-alive, the same TLS, HTTP/1.1 as the pink
// client), a signed encrypted query of a contract that makes no request
// (is_in_transaction: the query floor), the bare GET made right after each
// such query, and the query making one HTTPS request to the server through
// the pink extension inside the pRuntime. BENCHMARKS.md §14 reports the
// ratios.
func BenchmarkPinkHTTPQuery(b *testing.B) {
	srv := priceServer()
	defer srv.Close()
	query, ctx, _ := pinkcallFixture(b, srv)
	url := srv.URL + "/price"
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	bareGet := func(b *testing.B, cl *http.Client) {
		resp, err := cl.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		if resp.ProtoMajor != 1 {
			b.Fatalf("bare client spoke %s; the pink client speaks HTTP/1.1", resp.Proto)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.Run("bare-go-https", func(b *testing.B) {
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		for b.Loop() {
			bareGet(b, cl)
		}
	})
	b.Run("query-no-http", func(b *testing.B) {
		for b.Loop() {
			if _, err := query(ctx, isInTx()); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The bare GET again, each made right after a query without HTTP (as
	// the pink extension's request is made in the middle of one): get-ns/op
	// is the GET alone, timed around it; ns/op is query and GET.
	b.Run("bare-go-https-after-query", func(b *testing.B) {
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		var get time.Duration
		for b.Loop() {
			if _, err := query(ctx, isInTx()); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			bareGet(b, cl)
			get += time.Since(t0)
		}
		b.ReportMetric(float64(get.Nanoseconds())/float64(b.N), "get-ns/op")
	})
	in := httpGet(url)
	httpsQuery := func(b *testing.B) {
		out, err := query(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if st, _, err := responseStatus(out); err != nil || st != 200 {
			b.Fatalf("status %d %v", st, err)
		}
	}
	b.Run("query-one-https", func(b *testing.B) {
		for b.Loop() {
			httpsQuery(b)
		}
	})
	// interleaved: each iteration times a query without HTTP, a query with
	// one HTTPS GET, then two bare GETs back to back (the first right after
	// a query, the second on a warm connection and code path). Interleaving
	// cancels the drift of a shared machine's load between sub-benchmarks;
	// the metrics are medians over the iterations (-med-ns) and the
	// request's cost to the query, median(https) − median(floor).
	b.Run("interleaved", func(b *testing.B) {
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		var floor, https, cold, warm []time.Duration
		for b.Loop() {
			t0 := time.Now()
			if _, err := query(ctx, isInTx()); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			httpsQuery(b)
			t2 := time.Now()
			bareGet(b, cl)
			t3 := time.Now()
			bareGet(b, cl)
			t4 := time.Now()
			floor, https = append(floor, t1.Sub(t0)), append(https, t2.Sub(t1))
			cold, warm = append(cold, t3.Sub(t2)), append(warm, t4.Sub(t3))
		}
		med := func(d []time.Duration) float64 {
			slices.Sort(d)
			return float64(d[len(d)/2].Nanoseconds())
		}
		mean := func(d []time.Duration) float64 {
			var sum time.Duration
			for _, x := range d {
				sum += x
			}
			return float64(sum.Nanoseconds()) / float64(len(d))
		}
		b.ReportMetric(mean(https)-mean(floor), "extra-mean-ns")
		f, h := med(floor), med(https)
		b.ReportMetric(f, "floor-med-ns")
		b.ReportMetric(h, "https-med-ns")
		b.ReportMetric(h-f, "extra-med-ns")
		b.ReportMetric(med(cold), "get-after-query-med-ns")
		b.ReportMetric(med(warm), "get-warm-med-ns")
	})
}

// TestPinkHTTPConcurrentAndFlood: 100 concurrent queries that each make an
// HTTPS request all succeed; then 50 concurrent queries each fetching a
// 3 MiB response all get the extension's ResponseTooLarge answer (a 524
// response), and the worker's heap stays bounded (logged: the peak heap in
// use, sampled while they run).
func TestPinkHTTPConcurrentAndFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	srv := priceServer()
	defer srv.Close()
	query, ctx, _ := pinkcallFixture(t, srv)
	run := func(n int, in []byte, check func([]byte) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := query(ctx, in)
				if err == nil {
					err = check(out)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
	run(100, httpGet(srv.URL+"/price"), func(out []byte) error {
		if st, n, err := responseStatus(out); err != nil || st != 200 || n == 0 {
			return fmt.Errorf("status %d, %d bytes, %v", st, n, err)
		}
		return nil
	})
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	// Each fetch ends with the extension's ResponseTooLarge answer, or —
	// on a machine too busy to read 3 MiB within the query's time — with
	// a timeout; never with a body.
	var tooLarge, timedOut atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := query(ctx, httpGet(srv.URL+"/big"))
			switch {
			case err != nil && (strings.Contains(err.Error(), "Timeout") || strings.Contains(err.Error(), "error: 0b000000")):
				timedOut.Add(1) // the query's deadline, or http_request's Timeout trap
			case err != nil:
				t.Errorf("3 MiB response: %v", err)
			default:
				st, n, derr := responseStatus(out)
				if derr != nil || st != 524 || n > 64 || !strings.Contains(string(out), "ResponseTooLarge") {
					t.Errorf("3 MiB response: status %d, %d body bytes, %v; want 524 ResponseTooLarge", st, n, derr)
					return
				}
				tooLarge.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Logf("50 fetches of 3 MiB: %d ResponseTooLarge, %d timed out", tooLarge.Load(), timedOut.Load())
	close(stop)
	<-done
	t.Logf("peak heap in use during 50 concurrent 3 MiB responses: %d MiB (node, worker and test in one process)", peak>>20)
}

// TestPinkHTTPDoesNotHoldTheWorker: queries waiting on a slow server hold
// neither the worker's query slots nor its query lock — blocks keep being
// applied while the server sleeps, and more concurrent slow queries than
// the worker has slots all finish. (Before, a query back from the network
// waited for a slot while holding the lock: a pending block and the
// queries holding the slots waited on it until the query's deadline.)
func TestPinkHTTPDoesNotHoldTheWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	var n *devnet.Network
	var advanced atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			h := n.Worker.Runtime.Info().Height
			// Hold the request until the worker has applied two more blocks
			// (or the test gives up).
			for i := 0; i < 400 && n.Worker.Runtime.Info().Height < h+2; i++ {
				select {
				case <-release:
					i = 400
				case <-time.After(10 * time.Millisecond):
				}
			}
			if n.Worker.Runtime.Info().Height >= h+2 {
				advanced.Add(1)
			}
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	defer close(release)
	query, ctx, net := pinkcallFixture(t, srv)
	n = net
	const queries = 12 // more than the worker's cores+2 slots
	var wg sync.WaitGroup
	for i := 0; i < queries; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := query(ctx, httpGet(srv.URL+"/slow"))
			if err != nil {
				t.Errorf("slow query: %v", err)
				return
			}
			if st, _, err := responseStatus(out); err != nil || st != 200 {
				t.Errorf("slow query: status %d %v", st, err)
			}
		}()
	}
	wg.Wait()
	if got := advanced.Load(); got != queries {
		t.Fatalf("blocks were applied during %d of %d slow requests", got, queries)
	}
}
