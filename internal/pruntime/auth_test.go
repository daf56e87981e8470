package pruntime

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/scale"
)

const testToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// withToken makes a client send token as the internal API's bearer token.
func withToken(token string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			return next(ctx, req)
		}
	}))
}

func account(t *testing.T, uri string) keys.PublicKey {
	t.Helper()
	p, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return p.Public()
}

// TestInternalAPIRequiresToken: calls without the token, or with another,
// are refused as Unauthenticated and change nothing.
func TestInternalAPIRequiresToken(t *testing.T) {
	r, err := openConfig(t.TempDir(), Config{Operator: account(t, "//Alice")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(InternalHandler(r, testToken))
	defer srv.Close()
	var id keys.PublicKey
	c := testChain(t, &id, 3)
	init := &pruntimev1.InitRequest{Genesis: scale.Encode(c.Genesis()), GenesisRecord: scale.Encode(c.GenesisRecord())}
	ctx := context.Background()
	for name, opts := range map[string][]connect.ClientOption{
		"no token":     nil,
		"wrong token":  {withToken(strings.Repeat("0", len(testToken)))},
		"token prefix": {withToken(testToken[:10])},
		"empty token":  {withToken("")},
	} {
		in := pruntimev1connect.NewInternalClient(http.DefaultClient, srv.URL, opts...)
		if _, err := in.Init(ctx, init); connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Fatalf("%s: Init answered %v, want Unauthenticated", name, err)
		}
		if _, err := in.Registration(ctx, &pruntimev1.RegistrationRequest{}); connect.CodeOf(err) != connect.CodeUnauthenticated {
			t.Fatalf("%s: Registration answered %v, want Unauthenticated", name, err)
		}
		if r.Info().Initialized {
			t.Fatalf("%s: an unauthenticated Init initialised the runtime", name)
		}
	}
	in := pruntimev1connect.NewInternalClient(http.DefaultClient, srv.URL, withToken(testToken))
	if _, err := in.Init(ctx, init); err != nil {
		t.Fatal(err)
	}
	// An empty configured token admits nobody.
	open := httptest.NewServer(InternalHandler(r, ""))
	defer open.Close()
	in = pruntimev1connect.NewInternalClient(http.DefaultClient, open.URL, withToken(""))
	if _, err := in.Egress(ctx, &pruntimev1.EgressRequest{}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("a handler with no token answered %v", err)
	}
}

// TestServeSeparatesAPIs runs Serve on real listeners: the public listener
// does not serve the internal service (404), the internal one needs the
// token from the data folder, and one address for both is refused.
func TestServeSeparatesAPIs(t *testing.T) {
	dir := t.TempDir()
	r, err := openConfig(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := Serve(ctx, r, Listeners{PublicAddr: "127.0.0.1:0", InternalAddr: "127.0.0.1:0"}, quietLog(), nil); err == nil {
		t.Fatal("Serve accepted one address for both APIs")
	}
	sock := filepath.Join(dir, "internal.sock")
	type addrs struct{ pub, in string }
	ready := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, r, Listeners{PublicAddr: "127.0.0.1:0", InternalAddr: "unix:" + sock}, quietLog(),
			func(p, i string) { ready <- addrs{p, i} })
	}()
	var a addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	if a.in != "unix:"+sock {
		t.Fatalf("internal address %q", a.in)
	}
	// The public listener: Info yes, the internal service not found.
	pub := pruntimev1connect.NewPublicClient(http.DefaultClient, "http://"+a.pub)
	if _, err := pub.Info(ctx, &pruntimev1.InfoRequest{}); err != nil {
		t.Fatal(err)
	}
	tok, err := LoadOrCreateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"Init", "Sync", "Egress", "Registration"} {
		req, _ := http.NewRequest("POST", "http://"+a.pub+"/cella.pruntime.v1.Internal/"+m, bytes.NewReader([]byte("{}")))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("the public listener answered %s with %d, want 404", m, res.StatusCode)
		}
	}
	// The token file: created at the first start, owner-only.
	fi, err := os.Stat(TokenPath(dir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", err, fi)
	}
	// The internal listener (a unix socket) with the token.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (netConn, error) {
		return dialUnix(ctx, sock)
	}}}
	in := pruntimev1connect.NewInternalClient(hc, "http://x", withToken(tok))
	if _, err := in.Egress(ctx, &pruntimev1.EgressRequest{}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("Egress before Init with the token: %v, want FailedPrecondition", err)
	}
	in = pruntimev1connect.NewInternalClient(hc, "http://x")
	if _, err := in.Egress(ctx, &pruntimev1.EgressRequest{}); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("Egress without the token: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrCreateToken(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadOrCreateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreateToken(dir)
	if err != nil || a != b || len(a) != 64 {
		t.Fatalf("second load: %q %v (first %q)", b, err, a)
	}
	other, err := LoadOrCreateToken(t.TempDir())
	if err != nil || other == a {
		t.Fatalf("two folders share a token: %v", err)
	}
	if err := os.Chmod(TokenPath(dir), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateToken(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable token file: %v", err)
	}
	if err := os.WriteFile(TokenPath(dir), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(TokenPath(dir), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateToken(dir); err == nil {
		t.Fatal("a malformed token file was accepted")
	}
}

// TestOperatorIsConfigured: the operator comes from the configuration, is
// bound to the data folder at Init, and neither a request nor a restart
// with another operator moves it.
func TestOperatorIsConfigured(t *testing.T) {
	dir := t.TempDir()
	alice, bob := account(t, "//Alice"), account(t, "//Bob")
	r, err := openConfig(dir, Config{Operator: alice})
	if err != nil {
		t.Fatal(err)
	}
	var id keys.PublicKey
	c := testChain(t, &id, 3)
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	info, _, err := r.Registration()
	if err != nil || info.Operator != alice {
		t.Fatalf("registration: %v %v", info.Operator, err)
	}
	srv := httptest.NewServer(InternalHandler(r, testToken))
	defer srv.Close()
	in := pruntimev1connect.NewInternalClient(http.DefaultClient, srv.URL, withToken(testToken))
	if _, err := in.Registration(context.Background(), &pruntimev1.RegistrationRequest{Operator: bob[:]}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("a request for Bob: %v", err)
	}
	if r.Operator() != alice {
		t.Fatal("a request moved the operator")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Another operator on restart: refused, clearly.
	if _, err := openConfig(dir, Config{Operator: bob}); !errors.Is(err, ErrOtherOperator) {
		t.Fatalf("restart with Bob: %v", err)
	}
	// No operator on restart: the bound one.
	r2, err := openConfig(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	info, _, err = r2.Registration()
	if err != nil || info.Operator != alice {
		t.Fatalf("after restart: %v %v", info.Operator, err)
	}
	// A worker with no operator makes no registration.
	r3, err := openConfig(t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r3.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r3.Registration(); !errors.Is(err, ErrNoOperator) {
		t.Fatalf("registration without an operator: %v", err)
	}
}

// TestGenesisPin: a pinned pRuntime refuses another chain's genesis and
// stays fresh.
func TestGenesisPin(t *testing.T) {
	var id keys.PublicKey
	c := testChain(t, &id, 3)
	dir := t.TempDir()
	r, err := openConfig(dir, Config{GenesisHash: [32]byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); !errors.Is(err, ErrOtherGenesis) {
		t.Fatalf("Init with another genesis: %v", err)
	}
	if r.Info().Initialized {
		t.Fatal("a refused Init initialised the runtime")
	}
	r, err = openConfig(dir, Config{GenesisHash: c.GenesisHash()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	if _, err := openConfig(dir, Config{GenesisHash: [32]byte{2}}); !errors.Is(err, ErrOtherGenesis) {
		t.Fatalf("reopen pinned to another genesis: %v", err)
	}
}

type netConn = net.Conn

func dialUnix(ctx context.Context, path string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, "unix", path)
}

func TestParseOperatorAndGenesisHash(t *testing.T) {
	alice := account(t, "//Alice")
	for in, ok := range map[string]bool{
		"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY": true,
		alice.Hex():                     true,
		"0x" + strings.Repeat("00", 32): false,
		"//Alice":                       false,
		"":                              false,
	} {
		op, err := ParseOperator(in)
		if (err == nil) != ok || (ok && op != alice) {
			t.Errorf("ParseOperator(%q) = %v, %v", in, op, err)
		}
	}
	for in, ok := range map[string]bool{
		"0x" + strings.Repeat("ab", 32): true,
		strings.Repeat("ab", 32):        true,
		"0x" + strings.Repeat("00", 32): false,
		"0xabcd":                        false,
		"0x" + strings.Repeat("zz", 32): false,
	} {
		if _, err := ParseGenesisHash(in); (err == nil) != ok {
			t.Errorf("ParseGenesisHash(%q): %v", in, err)
		}
	}
}
