package httpserve

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, addr string, l Limits) *Server {
	t.Helper()
	s, err := Open(addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok "+string(b))
	}), l)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(s.Close)
	return s
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSlowBodyDisconnected: a client that sends its body a byte at a time
// loses its connection once the read timeout passes, instead of holding it.
func TestSlowBodyDisconnected(t *testing.T) {
	s := start(t, "127.0.0.1:0", Limits{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: 200 * time.Millisecond,
		WriteTimeout: 200 * time.Millisecond, IdleTimeout: 200 * time.Millisecond, MaxConns: 4})
	c := dial(t, s.Addr())
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Keep trickling; the server must cut us off (the test's own deadline
	// is the only clock here).
	deadline := time.Now().Add(30 * time.Second)
	_ = c.SetReadDeadline(deadline)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		// Whatever the server answers (a 400 or nothing), it then closes.
		_, _ = io.Copy(io.Discard, c)
	}()
	for i := 0; ; i++ {
		select {
		case <-closed:
			if time.Now().After(deadline) {
				t.Fatal("the slow connection was never closed")
			}
			return
		case <-time.After(20 * time.Millisecond):
			if _, err := c.Write([]byte("x")); err != nil {
				return // closed by the server
			}
		}
	}
}

// TestSlowHeadersDisconnected: headers that never end are cut off too.
func TestSlowHeadersDisconnected(t *testing.T) {
	s := start(t, "127.0.0.1:0", Limits{ReadHeaderTimeout: 100 * time.Millisecond, MaxConns: 4})
	c := dial(t, s.Addr())
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a connection whose headers never ended")
	}
}

// TestConnectionCap: with a cap of one, a second connection is not served
// while the first is open, and is served once it closes.
func TestConnectionCap(t *testing.T) {
	s := start(t, "127.0.0.1:0", Limits{MaxConns: 1})
	first := dial(t, s.Addr())
	if _, err := io.WriteString(first, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(first)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// first stays open (kept alive): it holds the only slot.
	second := dial(t, s.Addr())
	if _, err := io.WriteString(second, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := second.Read(make([]byte, 1)); n > 0 || err == nil {
		t.Fatal("a connection over the cap was served")
	}
	first.Close()
	_ = second.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err = http.ReadResponse(bufio.NewReader(second), nil)
	if err != nil {
		t.Fatalf("the waiting connection was not served after a slot freed: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
}

func TestUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.sock")
	s := start(t, UnixPrefix+path, Limits{})
	if s.Addr() != UnixPrefix+path {
		t.Fatalf("addr %q", s.Addr())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	res, err := hc.Post("http://unix/", "text/plain", strings.NewReader("hi"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "ok hi" {
		t.Fatalf("body %q", b)
	}
	// A regular file at the path is not replaced.
	reg := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(reg, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(UnixPrefix+reg, 1); err == nil {
		t.Fatal("listening over a regular file succeeded")
	}
}
