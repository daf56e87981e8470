package pherry

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/cella-network/cella/internal/httpserve"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
)

// TestInternalClientUnixToken: pherry reaches a pRuntime's internal API on
// a unix socket with the token from its data folder; without it, or with
// another pRuntime's, it is refused.
func TestInternalClientUnixToken(t *testing.T) {
	dir := t.TempDir()
	rt := openRuntime(t, dir, [32]byte{})
	tok, err := pruntime.LoadOrCreateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "internal.sock")
	srv, err := httpserve.Open("unix:"+sock, pruntime.InternalHandler(rt, tok), pruntime.InternalLimits)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	defer srv.Close()

	read, err := ReadTokenFile(pruntime.TokenPath(dir))
	if err != nil || read != tok {
		t.Fatalf("ReadTokenFile: %v", err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		token string
		want  connect.Code
	}{
		{tok, connect.CodeFailedPrecondition}, // authenticated; not initialised yet
		{"0000", connect.CodeUnauthenticated},
	} {
		p, err := New(Config{PublicURL: "http://127.0.0.1:1", InternalURL: "unix:" + sock, Token: tc.token})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.rt.Egress(ctx, &pruntimev1.EgressRequest{})
		if connect.CodeOf(err) != tc.want {
			t.Fatalf("token %q: %v, want %v", tc.token[:4], err, tc.want)
		}
		if tc.want == connect.CodeUnauthenticated && !strings.Contains(err.Error(), "internal-api.token") {
			t.Fatalf("the refusal does not say what to check: %v", err)
		}
	}
	if _, err := New(Config{PublicURL: "http://127.0.0.1:1"}); err == nil {
		t.Fatal("New accepted a config without a token")
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{write("good", "abc123\n"), true},
		{write("empty", "\n"), false},
		{write("two", "abc def\n"), false},
		{write("big", strings.Repeat("a", maxTokenFile+1)), false},
		{filepath.Join(dir, "missing"), false},
	} {
		tok, err := ReadTokenFile(tc.path)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", filepath.Base(tc.path), err)
		}
		if err != nil && strings.Contains(err.Error(), "abc") {
			t.Errorf("the error shows the file's content: %v", err)
		}
		if tc.ok && tok != "abc123" {
			t.Errorf("token %q", tok)
		}
	}
}
