package pruntime

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
)

// emptyHeaders encodes a SyncRequest of n empty headers entries (two bytes
// each on the wire).
func emptyHeaders(n int) []byte {
	return bytes.Repeat([]byte{0x0a, 0x00}, n)
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// post sends body to path on srv as a Connect unary call and returns the
// status, the response body and the bytes allocated meanwhile.
func post(t *testing.T, url string, body []byte, hdr map[string]string) (int, string, uint64) {
	t.Helper()
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Authorization", "Bearer "+testToken)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	runtime.ReadMemStats(&after)
	return res.StatusCode, string(out), after.TotalAlloc - before.TotalAlloc
}

// TestSyncBombRefused is the regression test of the 65 KB request that cost
// 3 GB: a gzip body that expands to almost 64 MiB of empty headers entries
// is refused before it is expanded; the same entries sent uncompressed are
// counted on the wire and refused before any is unmarshalled.
func TestSyncBombRefused(t *testing.T) {
	r := openTest(t, t.TempDir(), 10)
	srv := httptest.NewServer(InternalHandler(r, testToken))
	defer srv.Close()
	url := srv.URL + "/cella.pruntime.v1.Internal/Sync"

	raw := emptyHeaders((MaxRequestBytes - 1024) / 2)
	bomb := gzipped(t, raw)
	raw = nil
	t.Logf("compressed body: %d bytes", len(bomb))
	if len(bomb) > 128<<10 {
		t.Fatalf("the bomb is %d bytes; the test wants a small one", len(bomb))
	}
	code, msg, alloc := post(t, url, bomb, map[string]string{"Content-Encoding": "gzip"})
	t.Logf("gzip: %d %q, %d bytes allocated", code, msg, alloc)
	if code == http.StatusOK || !strings.Contains(msg, "compressed") {
		t.Fatalf("the gzip bomb got %d %q", code, msg)
	}
	if alloc > 100<<20 {
		t.Fatalf("refusing a %d-byte request allocated %d MB", len(bomb), alloc>>20)
	}

	// Uncompressed: 4 million entries in 8 MB.
	body := emptyHeaders(4 << 20)
	code, msg, alloc = post(t, url, body, nil)
	t.Logf("plain: %d %q, %d bytes allocated", code, msg, alloc)
	if code != http.StatusBadRequest || !strings.Contains(msg, "more than 10000 headers") {
		t.Fatalf("4M empty headers got %d %q", code, msg)
	}
	if alloc > 6*uint64(len(body)) {
		t.Fatalf("refusing an %d-byte request allocated %d MB", len(body), alloc>>20)
	}
	if r.Info().Initialized || r.Info().HeaderHeight != 0 {
		t.Fatal("a refused request changed the runtime")
	}
}

// TestInternalRefusesJSONAndCompression: only binary protobuf, uncompressed.
func TestInternalRefusesJSONAndCompression(t *testing.T) {
	r := openTest(t, t.TempDir(), 10)
	srv := httptest.NewServer(InternalHandler(r, testToken))
	defer srv.Close()
	url := srv.URL + "/cella.pruntime.v1.Internal/Egress"
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"json", map[string]string{"Content-Type": "application/json"}},
		{"grpc json", map[string]string{"Content-Type": "application/grpc+json"}},
		{"gzip", map[string]string{"Content-Encoding": "gzip"}},
		{"connect streaming gzip", map[string]string{"Content-Type": "application/connect+proto", "Connect-Content-Encoding": "gzip"}},
		{"grpc gzip", map[string]string{"Content-Type": "application/grpc", "Grpc-Encoding": "gzip"}},
	} {
		code, msg, _ := post(t, url, []byte("{}"), tc.hdr)
		if code != http.StatusUnsupportedMediaType {
			t.Fatalf("%s: %d %q", tc.name, code, msg)
		}
	}
	// Binary, uncompressed: answered (not initialised yet).
	if code, msg, _ := post(t, url, nil, nil); code != http.StatusPreconditionFailed && !strings.Contains(msg, "not initialised") {
		t.Fatalf("plain Egress: %d %q", code, msg)
	}
}

// TestPublicBodyBounded: the public API reads at most a small body,
// compressed or not.
func TestPublicBodyBounded(t *testing.T) {
	r := openTest(t, t.TempDir(), 10)
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	url := srv.URL + "/cella.pruntime.v1.Public/Info"
	bomb := gzipped(t, emptyHeaders(32<<20))
	code, msg, alloc := post(t, url, bomb, map[string]string{"Content-Encoding": "gzip"})
	if code == http.StatusOK || alloc > 32<<20 {
		t.Fatalf("public gzip bomb: %d %q, %d MB allocated", code, msg, alloc>>20)
	}
	// A gzip body under the raw limit that expands past the message limit.
	small := gzipped(t, emptyHeaders(1<<20))
	if len(small) > publicMaxBodyBytes {
		t.Fatalf("test body %d bytes", len(small))
	}
	if code, msg, _ := post(t, url, small, map[string]string{"Content-Encoding": "gzip"}); code == http.StatusOK {
		t.Fatalf("expanding public request: %d %q", code, msg)
	}
}

func TestScanSync(t *testing.T) {
	header := func(n int) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), make([]byte, n))
	}
	record := protowire.AppendBytes(protowire.AppendTag(nil, 4, protowire.BytesType), []byte{1})
	valid, err := proto.Marshal(&pruntimev1.SyncRequest{Headers: [][]byte{{1}, {2}}, Commit: []byte{3}, Validators: []byte{4}, Records: [][]byte{{5}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string // "" = accepted
	}{
		{"valid", valid, ""},
		{"empty", nil, ""},
		{"max headers", bytes.Repeat(header(0), MaxBatchHeaders), ""},
		{"too many headers", bytes.Repeat(header(0), MaxBatchHeaders+1), "headers"},
		{"big header", header(MaxHeaderBytes + 1), "header 0"},
		{"too many records", bytes.Repeat(record, MaxBatchRecords+1), "records"},
		{"big commit", protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), make([]byte, MaxCommitBytes+1)), "commit"},
		{"truncated", header(10)[:5], "malformed"},
		{"bad tag", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "malformed"},
		{"many unknown varints", bytes.Repeat(protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 1), 2*MaxBatchHeaders+32), "too many fields"},
	} {
		err := scanSync(tc.b)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestOneSyncAtATime: while one Sync is being handled, the next waits.
func TestOneSyncAtATime(t *testing.T) {
	var in, most atomic.Int32
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	h := guardInternal(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := in.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		entered <- struct{}{}
		<-release
		in.Add(-1)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/cella.pruntime.v1.Internal/Sync", nil)
			req.Header.Set("Content-Type", "application/proto")
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
	}
	<-entered
	// Give the second request every chance to get in (a missing limit
	// shows as two handlers at once; a slow machine only weakens the test).
	time.Sleep(100 * time.Millisecond)
	close(release)
	<-entered
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d Sync requests were handled at once", most.Load())
	}
}

// FuzzScanSync: the wire check never panics, and whatever it lets through
// unmarshals within the batch limits.
func FuzzScanSync(f *testing.F) {
	valid, _ := proto.Marshal(&pruntimev1.SyncRequest{Headers: [][]byte{{1}, {2}}, Commit: []byte{3}, Records: [][]byte{{5}}})
	f.Add(valid)
	f.Add(emptyHeaders(3))
	f.Fuzz(func(t *testing.T, b []byte) {
		if scanSync(b) != nil {
			return
		}
		var req pruntimev1.SyncRequest
		if proto.Unmarshal(b, &req) != nil {
			return
		}
		if len(req.Headers) > MaxBatchHeaders || len(req.Records) > MaxBatchRecords ||
			len(req.Commit) > MaxCommitBytes || len(req.Validators) > MaxValidatorsBytes {
			t.Fatalf("accepted %d headers, %d records", len(req.Headers), len(req.Records))
		}
		for _, h := range req.Headers {
			if len(h) > MaxHeaderBytes {
				t.Fatalf("accepted a %d-byte header", len(h))
			}
		}
	})
}
