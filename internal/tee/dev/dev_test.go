package dev

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tee"
)

var (
	genesisA = [32]byte{0xaa, 1}
	genesisB = [32]byte{0xbb, 2}
	buildID  = []byte("cella-pruntime test build")
)

func newProvider(t testing.TB, dir string, genesis [32]byte) *Provider {
	t.Helper()
	p, err := New(Config{BuildID: buildID, SealDir: dir, GenesisHash: genesis, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewWarnsLoudly(t *testing.T) {
	var buf bytes.Buffer
	_, err := New(Config{BuildID: buildID, SealDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "DEV TEE: NOT SECURE") {
		t.Fatalf("no loud warning: %q", out)
	}
	if _, err := New(Config{SealDir: t.TempDir()}); err == nil {
		t.Fatal("no build id accepted")
	}
	if _, err := New(Config{BuildID: buildID}); err == nil {
		t.Fatal("no seal dir accepted")
	}
}

func TestRootKey(t *testing.T) {
	p, err := keys.FromURI("//CellaDevTeeRoot")
	if err != nil {
		t.Fatal(err)
	}
	if RootPublicKey() != p.Public() {
		t.Fatal("dev root is not //CellaDevTeeRoot")
	}
}

func TestAttestAndVerify(t *testing.T) {
	p := newProvider(t, t.TempDir(), genesisA)
	if p.Kind() != tee.KindDev {
		t.Fatal(p.Kind())
	}
	m, err := p.Measurement()
	if err != nil || m.Kind != tee.KindDev || m.Dev.CodeHash != hashing.Blake2b256(buildID) {
		t.Fatalf("measurement %v %v", m, err)
	}
	var rd [64]byte
	copy(rd[:], "registration")
	quote, err := p.Attest(rd)
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(RootPublicKey())
	got, err := v.Verify(quote, nil, rd, 0)
	if err != nil || !got.Equal(m) {
		t.Fatalf("verify: %v %v", got, err)
	}
	// Through the kind dispatcher, as the chain calls it.
	enc, err := tee.Verifiers{tee.KindDev: v}.Verify("dev", quote, nil, rd, 1_700_000_000)
	if err != nil || !bytes.Equal(enc, m.Encode()) {
		t.Fatalf("dispatch: %x %v", enc, err)
	}

	other := rd
	other[5] ^= 1
	sigFlip := bytes.Clone(quote)
	sigFlip[len(sigFlip)-10] ^= 1
	rdFlip := bytes.Clone(quote)
	rdFlip[len(rdFlip)-64-1] ^= 1
	measFlip := bytes.Clone(quote)
	measFlip[1+1+3+1+4] ^= 1 // inside the code hash
	wrongRoot, _ := keys.FromURI("//Alice")
	for _, tc := range []struct {
		name       string
		v          *Verifier
		quote, col []byte
		rd         [64]byte
		want       error
	}{
		{"other report data", v, quote, nil, other, tee.ErrReportDataMismatch},
		{"flipped signature", v, sigFlip, nil, rd, ErrBadSignature},
		{"flipped report data", v, rdFlip, nil, rdFlip64(rdFlip), ErrBadSignature},
		{"flipped measurement", v, measFlip, nil, rd, ErrBadSignature},
		{"other root", NewVerifier(wrongRoot.Public()), quote, nil, rd, ErrBadSignature},
		{"collateral", v, quote, []byte{1}, rd, ErrUnexpectedCollateral},
		{"truncated", v, quote[:len(quote)-1], nil, rd, ErrMalformedQuote},
		{"trailing", v, append(bytes.Clone(quote), 0), nil, rd, ErrMalformedQuote},
		{"version", v, append([]byte{2}, quote[1:]...), nil, rd, ErrQuoteVersion},
		{"empty", v, nil, nil, rd, ErrMalformedQuote},
		{"huge", v, make([]byte, MaxQuoteSize+1), nil, rd, ErrMalformedQuote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.v.Verify(tc.quote, tc.col, tc.rd, 0); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// rdFlip64 returns the report data a tampered quote claims.
func rdFlip64(quote []byte) [64]byte {
	var rd [64]byte
	copy(rd[:], quote[len(quote)-128:len(quote)-64])
	return rd
}

func TestDecodeQuoteKinds(t *testing.T) {
	root := RootPair()
	mk := func(kind tee.Kind, m tee.Measurement) []byte {
		q := Quote{Version: QuoteVersion, Kind: kind, Measurement: m}
		q.Signature = root.Sign(q.SigningPayload())
		return scale.Encode(&q)
	}
	v := NewVerifier(root.Public())
	if _, err := v.Verify(mk("tdx", MeasurementOf(buildID)), nil, [64]byte{}, 0); !errors.Is(err, tee.ErrKindMismatch) {
		t.Fatalf("tdx kind: %v", err)
	}
	// A dev root signing a TDX measurement still does not make a dev quote.
	if _, err := v.Verify(mk("dev", tee.NewTDXMeasurement(tee.TDXMeasurement{})), nil, [64]byte{}, 0); !errors.Is(err, tee.ErrKindMismatch) {
		t.Fatalf("tdx measurement: %v", err)
	}
	if _, err := v.Verify(mk("dev", MeasurementOf(buildID)), nil, [64]byte{}, 0); err != nil {
		t.Fatal(err)
	}
}

func TestSealRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "seal")
	p := newProvider(t, dir, genesisA)
	plain := []byte("worker identity key")
	aad := []byte("cella/pruntime/seal/v1/keys")
	sealed, err := p.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("plaintext visible")
	}
	h, _, _, err := tee.ParseSealed(sealed)
	if err != nil || h != (tee.SealHeader{Kind: tee.KindDev, Dev: true, GenesisHash: genesisA}) {
		t.Fatalf("header %+v %v", h, err)
	}
	got, err := p.Unseal(sealed, aad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("unseal %q %v", got, err)
	}
	// The key file: 32 bytes, 0600, in a 0700 folder; a second provider on
	// the same folder (a restarted pRuntime) opens the blob.
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil || fi.Size() != 32 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v %v", fi, err)
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Fatalf("seal dir mode %v", di.Mode())
	}
	again := newProvider(t, dir, genesisA)
	if got, err := again.Unseal(sealed, aad); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("restart: %q %v", got, err)
	}
	// Two seals of the same data differ (random nonce).
	s2, _ := p.Seal(plain, aad)
	if bytes.Equal(s2, sealed) {
		t.Fatal("nonce reused")
	}
}

func TestUnsealRefusals(t *testing.T) {
	dir := t.TempDir()
	p := newProvider(t, dir, genesisA)
	aad := []byte("purpose")
	sealed, err := p.Seal([]byte("secret"), aad)
	if err != nil {
		t.Fatal(err)
	}
	_, hb, _, _ := tee.ParseSealed(sealed)
	body := sealed[len(hb):]
	reheader := func(h tee.SealHeader) []byte { return append(h.Encode(), body...) }
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1

	for _, tc := range []struct {
		name string
		p    *Provider
		blob []byte
		aad  []byte
		want error
	}{
		{"other genesis", newProvider(t, dir, genesisB), sealed, aad, tee.ErrSealedOtherGenesis},
		{"other aad", p, sealed, []byte("other"), tee.ErrUnsealFailed},
		{"tampered", p, tampered, aad, tee.ErrUnsealFailed},
		{"other key file", newProvider(t, t.TempDir(), genesisA), sealed, aad, tee.ErrUnsealFailed},
		{"header says tdx", p, reheader(tee.SealHeader{Kind: tee.KindTDX, Dev: true, GenesisHash: genesisA}), aad, tee.ErrSealedByOtherProvider},
		{"header says not dev", p, reheader(tee.SealHeader{Kind: tee.KindDev, GenesisHash: genesisA}), aad, tee.ErrSealedDevMismatch},
		{"header genesis edited", p, reheader(tee.SealHeader{Kind: tee.KindDev, Dev: true, GenesisHash: genesisB}), aad, tee.ErrSealedOtherGenesis},
		{"not sealed", p, []byte("plain bytes"), aad, tee.ErrNotSealed},
		{"body too short", p, reheader(tee.SealHeader{Kind: tee.KindDev, Dev: true, GenesisHash: genesisA})[:len(hb)+5], aad, tee.ErrUnsealFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.p.Unseal(tc.blob, tc.aad); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestGenesisBinding(t *testing.T) {
	dir := t.TempDir()
	p := newProvider(t, dir, [32]byte{})
	if _, err := p.Seal([]byte("x"), nil); !errors.Is(err, tee.ErrGenesisNotBound) {
		t.Fatalf("unbound seal: %v", err)
	}
	if _, err := p.Unseal([]byte("x"), nil); !errors.Is(err, tee.ErrNotSealed) {
		t.Fatalf("unbound unseal of garbage: %v", err)
	}
	if err := tee.BindGenesis(p, genesisA); err != nil {
		t.Fatal(err)
	}
	if err := p.BindGenesis(genesisA); err != nil {
		t.Fatalf("rebinding the same genesis: %v", err)
	}
	if err := p.BindGenesis(genesisB); !errors.Is(err, tee.ErrGenesisRebind) {
		t.Fatalf("rebinding another genesis: %v", err)
	}
	if err := p.BindGenesis([32]byte{}); err == nil {
		t.Fatal("zero genesis bound")
	}
	sealed, err := p.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newProvider(t, dir, genesisA).Unseal(sealed, nil); err != nil {
		t.Fatal(err)
	}
}

func TestKeyFile(t *testing.T) {
	t.Run("unseal without key file", func(t *testing.T) {
		dir := t.TempDir()
		p := newProvider(t, dir, genesisA)
		sealed, _ := p.Seal([]byte("x"), nil)
		os.Remove(filepath.Join(dir, KeyFileName))
		q := newProvider(t, dir, genesisA)
		if _, err := q.Unseal(sealed, nil); !errors.Is(err, tee.ErrUnsealFailed) || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("got %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
			t.Fatal("Unseal created a key file")
		}
	})
	t.Run("wrong size", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, KeyFileName), []byte("short"), 0o600)
		if _, err := newProvider(t, dir, genesisA).Seal([]byte("x"), nil); err == nil || !strings.Contains(err.Error(), "5 bytes") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("concurrent first use", func(t *testing.T) {
		dir := t.TempDir()
		const n = 8
		blobs := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := newProvider(t, dir, genesisA).Seal([]byte{byte(i)}, nil)
				if err != nil {
					t.Error(err)
				}
				blobs[i] = b
			}()
		}
		wg.Wait()
		p := newProvider(t, dir, genesisA)
		for i, b := range blobs {
			if got, err := p.Unseal(b, nil); err != nil || !bytes.Equal(got, []byte{byte(i)}) {
				t.Fatalf("blob %d: %v %v", i, got, err)
			}
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("left files: %v", ents)
		}
	})
}
