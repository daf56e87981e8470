package tdx

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cella-network/cella/internal/tee"
)

// DefaultTSMReportRoot is where Linux (6.7 and later) exposes configfs-tsm
// attestation reports.
const DefaultTSMReportRoot = "/sys/kernel/config/tsm/report"

// tsmProviderTDX is what a report entry's "provider" file holds on a TDX guest.
const tsmProviderTDX = "tdx_guest"

// maxOutblob bounds the quote read from the kernel.
const maxOutblob = 1 << 20

// Errors of the TDX provider.
var (
	// ErrTSMUnavailable means the configfs-tsm report interface is missing:
	// not a TDX guest, a kernel older than 6.7, or configfs not mounted.
	ErrTSMUnavailable = errors.New("tdx: configfs-tsm report interface not available")
	// ErrTSMProvider means configfs-tsm is backed by another TEE than TDX.
	ErrTSMProvider = errors.New("tdx: configfs-tsm is not backed by the TDX guest driver")
	// ErrTSMRace means another writer changed the report entry while the
	// quote was generated (its generation counter moved).
	ErrTSMRace = errors.New("tdx: configfs-tsm report entry changed during generation")
)

// tsmFS is the file system calls the configfs-tsm protocol needs; tests
// replace it with a fake kernel.
type tsmFS interface {
	Mkdir(path string) error
	Remove(path string) error
	WriteFile(path string, b []byte) error
	ReadFile(path string) ([]byte, error)
	Stat(path string) error
}

type osFS struct{}

func (osFS) Mkdir(p string) error  { return os.Mkdir(p, 0o700) }
func (osFS) Remove(p string) error { return os.Remove(p) }
func (osFS) Stat(p string) error   { _, err := os.Stat(p); return err }

func (osFS) WriteFile(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (osFS) ReadFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxOutblob+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxOutblob {
		return nil, fmt.Errorf("%s: more than %d bytes", p, maxOutblob)
	}
	return b, nil
}

// Config configures a TDX Provider.
type Config struct {
	// ReportRoot is the configfs-tsm report directory;
	// DefaultTSMReportRoot when empty.
	ReportRoot string
}

// Provider is the TDX TEE as seen from inside a TD. It attests through the
// kernel's configfs-tsm interface and cannot seal: TDX has no sealing
// instruction, and keys will survive restarts through a key handover
// between attested pRuntimes (see docs/tee.md). It is safe for concurrent
// use.
type Provider struct {
	root string
	fs   tsmFS

	mu          sync.Mutex // serialises report generation
	measurement *tee.Measurement
}

var _ tee.Provider = (*Provider)(nil)

// New returns a TDX provider. It checks that the configfs-tsm report
// directory exists and fails with ErrTSMUnavailable when it does not.
func New(cfg Config) (*Provider, error) {
	return newProvider(cfg, osFS{})
}

func newProvider(cfg Config, fsys tsmFS) (*Provider, error) {
	root := cfg.ReportRoot
	if root == "" {
		root = DefaultTSMReportRoot
	}
	if err := fsys.Stat(root); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTSMUnavailable, root, err)
	}
	return &Provider{root: root, fs: fsys}, nil
}

// Kind returns tee.KindTDX.
func (p *Provider) Kind() tee.Kind { return tee.KindTDX }

// Attest asks the kernel for a TDX quote over reportData, following the
// configfs-tsm protocol (Documentation/ABI/testing/configfs-tsm-report):
// create a report entry, check its provider, write inblob, read outblob,
// check that the generation counter did not move and that the quote binds
// reportData, remove the entry.
func (p *Provider) Attest(reportData [64]byte) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("tdx: %w", err)
	}
	entry := filepath.Join(p.root, "cella-"+hex.EncodeToString(rnd[:]))
	if err := p.fs.Mkdir(entry); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %v", ErrTSMUnavailable, err)
		}
		return nil, fmt.Errorf("tdx: creating report entry: %w", err)
	}
	defer p.fs.Remove(entry) //nolint:errcheck // best effort; the kernel frees it with the TD

	if b, err := p.fs.ReadFile(filepath.Join(entry, "provider")); err == nil {
		if got := strings.TrimSpace(string(b)); got != tsmProviderTDX {
			return nil, fmt.Errorf("%w: provider %q", ErrTSMProvider, got)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("tdx: reading provider: %w", err)
	}
	if err := p.fs.WriteFile(filepath.Join(entry, "inblob"), reportData[:]); err != nil {
		return nil, fmt.Errorf("tdx: writing inblob: %w", err)
	}
	before, err := p.generation(entry)
	if err != nil {
		return nil, err
	}
	quote, err := p.fs.ReadFile(filepath.Join(entry, "outblob"))
	if err != nil {
		return nil, fmt.Errorf("tdx: reading outblob: %w", err)
	}
	after, err := p.generation(entry)
	if err != nil {
		return nil, err
	}
	if before != after {
		return nil, fmt.Errorf("%w: generation %s, then %s", ErrTSMRace, before, after)
	}
	q, err := ParseQuote(quote)
	if err != nil {
		return nil, fmt.Errorf("tdx: kernel returned an unusable quote: %w", err)
	}
	if q.Body.ReportData != reportData {
		return nil, fmt.Errorf("%w: the quote binds other report data", ErrTSMRace)
	}
	return quote, nil
}

func (p *Provider) generation(entry string) (string, error) {
	b, err := p.fs.ReadFile(filepath.Join(entry, "generation"))
	if err != nil {
		return "", fmt.Errorf("tdx: reading generation: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Measurement returns the TD's measurement, read from a quote over zero
// report data (made once and cached). The quote is parsed, not verified: a
// TD trusts its own hardware.
func (p *Provider) Measurement() (tee.Measurement, error) {
	p.mu.Lock()
	if p.measurement != nil {
		m := *p.measurement
		p.mu.Unlock()
		return m, nil
	}
	p.mu.Unlock()
	raw, err := p.Attest([64]byte{})
	if err != nil {
		return tee.Measurement{}, err
	}
	q, err := ParseQuote(raw)
	if err != nil {
		return tee.Measurement{}, err
	}
	m := q.Body.Measurement()
	p.mu.Lock()
	p.measurement = &m
	p.mu.Unlock()
	return m, nil
}

// Seal returns tee.ErrSealingUnsupported: TDX sealing waits for the key
// handover design.
func (p *Provider) Seal(_, _ []byte) ([]byte, error) { return nil, tee.ErrSealingUnsupported }

// Unseal refuses every blob: one sealed by another provider with
// tee.ErrSealedByOtherProvider (or tee.ErrNotSealed), any other with
// tee.ErrSealingUnsupported.
func (p *Provider) Unseal(sealed, _ []byte) ([]byte, error) {
	h, _, _, err := tee.ParseSealed(sealed)
	if err != nil {
		return nil, err
	}
	if h.Kind != tee.KindTDX {
		return nil, fmt.Errorf("%w: sealed by %q, this is %q", tee.ErrSealedByOtherProvider, h.Kind, tee.KindTDX)
	}
	return nil, tee.ErrSealingUnsupported
}
