package tdx

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/tee"
)

// fakeKernel emulates configfs-tsm on an ordinary directory: mkdir of a
// report entry creates its attribute files, a write to inblob bumps the
// generation and prepares the quote, outblob returns it.
type fakeKernel struct {
	osFS
	t        testing.TB
	provider string
	quote    func(inblob []byte) []byte
	// race, when set, simulates another writer between inblob and outblob.
	race bool

	mu      sync.Mutex
	entries []string
}

func (k *fakeKernel) Mkdir(p string) error {
	if err := os.Mkdir(p, 0o700); err != nil {
		return err
	}
	k.mu.Lock()
	k.entries = append(k.entries, p)
	k.mu.Unlock()
	for name, v := range map[string]string{"provider": k.provider + "\n", "generation": "0\n", "inblob": "", "outblob": ""} {
		if err := os.WriteFile(filepath.Join(p, name), []byte(v), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (k *fakeKernel) Remove(p string) error { return os.RemoveAll(p) }

func (k *fakeKernel) bump(entry string) {
	b, _ := os.ReadFile(filepath.Join(entry, "generation"))
	g, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	os.WriteFile(filepath.Join(entry, "generation"), []byte(strconv.Itoa(g+1)+"\n"), 0o600)
}

func (k *fakeKernel) WriteFile(p string, b []byte) error {
	if err := k.osFS.WriteFile(p, b); err != nil {
		return err
	}
	if filepath.Base(p) == "inblob" {
		entry := filepath.Dir(p)
		k.bump(entry)
		return os.WriteFile(filepath.Join(entry, "outblob"), k.quote(b), 0o600)
	}
	return nil
}

func (k *fakeKernel) ReadFile(p string) ([]byte, error) {
	b, err := k.osFS.ReadFile(p)
	if err == nil && k.race && filepath.Base(p) == "outblob" {
		k.bump(filepath.Dir(p))
	}
	return b, err
}

func newFakeTDX(t *testing.T, k *fakeKernel) *Provider {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tsm", "report")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	k.t = t
	p, err := newProvider(Config{ReportRoot: root}, k)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProviderAttestThroughConfigfs(t *testing.T) {
	w := newSynthWorld(t)
	k := &fakeKernel{provider: "tdx_guest", quote: func(in []byte) []byte {
		var rd [64]byte
		copy(rd[:], in)
		return w.quote(t, synthBody(rd), quoteOpts{})
	}}
	p := newFakeTDX(t, k)
	if p.Kind() != tee.KindTDX {
		t.Fatal(p.Kind())
	}
	var rd [64]byte
	copy(rd[:], "bind me")
	quote, err := p.Attest(rd)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseQuote(quote)
	if err != nil || q.Body.ReportData != rd {
		t.Fatalf("quote %v %v", q, err)
	}
	// the report entry is gone
	ents, _ := os.ReadDir(p.root)
	if len(ents) != 0 {
		t.Fatalf("report entries left behind: %v", ents)
	}
	if len(k.entries) != 1 || !strings.HasPrefix(filepath.Base(k.entries[0]), "cella-") {
		t.Fatalf("entries %v", k.entries)
	}
	// the measurement is read from a quote
	m, err := p.Measurement()
	body := synthBody(rd)
	if err != nil || !m.Equal(body.Measurement()) {
		t.Fatalf("measurement %v %v", m, err)
	}
	// and the synthetic chain verifies end to end
	col := w.collateral(t, defaultTCBInfo(), defaultQEIdentity()).Encode()
	if _, err := newVerifierWithRoot(Policy{}, w.root).Verify(quote, col, rd, synthNow.Unix()); err != nil {
		t.Fatal(err)
	}
}

func TestProviderErrors(t *testing.T) {
	w := newSynthWorld(t)
	good := func(in []byte) []byte {
		var rd [64]byte
		copy(rd[:], in)
		return w.quote(t, synthBody(rd), quoteOpts{})
	}
	t.Run("no configfs", func(t *testing.T) {
		_, err := New(Config{ReportRoot: filepath.Join(t.TempDir(), "missing")})
		if !errors.Is(err, ErrTSMUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("report root vanished", func(t *testing.T) {
		p := newFakeTDX(t, &fakeKernel{provider: "tdx_guest", quote: good})
		os.RemoveAll(p.root)
		if _, err := p.Attest([64]byte{}); !errors.Is(err, ErrTSMUnavailable) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("other TEE", func(t *testing.T) {
		p := newFakeTDX(t, &fakeKernel{provider: "sev_guest", quote: good})
		if _, err := p.Attest([64]byte{}); !errors.Is(err, ErrTSMProvider) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("generation moved", func(t *testing.T) {
		p := newFakeTDX(t, &fakeKernel{provider: "tdx_guest", quote: good, race: true})
		if _, err := p.Attest([64]byte{}); !errors.Is(err, ErrTSMRace) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("quote for other report data", func(t *testing.T) {
		p := newFakeTDX(t, &fakeKernel{provider: "tdx_guest", quote: func([]byte) []byte { return good([]byte("someone else")) }})
		if _, err := p.Attest([64]byte{}); !errors.Is(err, ErrTSMRace) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("garbage quote", func(t *testing.T) {
		p := newFakeTDX(t, &fakeKernel{provider: "tdx_guest", quote: func([]byte) []byte { return []byte("nope") }})
		if _, err := p.Attest([64]byte{}); !errors.Is(err, ErrMalformedQuote) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestProviderSealing(t *testing.T) {
	p := newFakeTDX(t, &fakeKernel{provider: "tdx_guest"})
	if _, err := p.Seal([]byte("x"), nil); !errors.Is(err, tee.ErrSealingUnsupported) {
		t.Fatalf("seal: %v", err)
	}
	dev := tee.SealHeader{Kind: tee.KindDev, Dev: true, GenesisHash: [32]byte{1}}.Encode()
	if _, err := p.Unseal(append(dev, 1, 2, 3), nil); !errors.Is(err, tee.ErrSealedByOtherProvider) {
		t.Fatalf("unseal dev blob: %v", err)
	}
	own := tee.SealHeader{Kind: tee.KindTDX, GenesisHash: [32]byte{1}}.Encode()
	if _, err := p.Unseal(own, nil); !errors.Is(err, tee.ErrSealingUnsupported) {
		t.Fatalf("unseal tdx blob: %v", err)
	}
	if _, err := p.Unseal([]byte("plain"), nil); !errors.Is(err, tee.ErrNotSealed) {
		t.Fatalf("unseal garbage: %v", err)
	}
}
