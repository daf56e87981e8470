package pruntime

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pink"
	"github.com/cella-network/cella/internal/pink/outbound"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/synth"
	"github.com/cella-network/cella/internal/tee/dev"
	"github.com/cella-network/cella/internal/worker"
)

// devView is staticView on a chain that admits dev attestations.
type devView struct{ staticView }

func (devView) DevAttestation() (bool, keys.PublicKey, error) { return true, keys.PublicKey{}, nil }

// TestDevRootRefusedOnProductionChain: a worker given an extra root CA
// (--dev-extra-root-ca) stops at its first block of a chain that does not
// admit dev attestations, and runs on one that does.
func TestDevRootRefusedOnProductionChain(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	for _, tc := range []struct {
		name string
		dev  bool
	}{{"production chain", false}, {"dev chain", true}} {
		t.Run(tc.name, func(t *testing.T) {
			kw := newKeyWorld()
			var view worker.ChainView = staticView{kw}
			if tc.dev {
				view = devView{staticView{kw}}
			}
			dir := t.TempDir()
			p, err := dev.New(dev.Config{BuildID: DevBuildID(), SealDir: dir, Log: quietLog()})
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(Config{DataDir: dir, TEE: p, Log: quietLog(), Entropy: &fixedEntropy{},
				ChainView: func(state.Store) worker.ChainView { return view }, Pink: PinkConfig{DevExtraRootCA: ca}})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			c, err := synth.New(synth.Config{})
			if err != nil {
				t.Fatal(err)
			}
			initKeys(t, r, kw, c)
			addBlocks(t, c, 2)
			bs, err := c.Batches(1, c.Height(), 4)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Sync(toBatch(bs[0]))
			if tc.dev {
				if err != nil {
					t.Fatalf("dev chain: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrDevRootOnProductionChain) || !errors.Is(err, ErrStopped) {
				t.Fatalf("production chain: %v", err)
			}
			if err := r.Sync(toBatch(bs[0])); !errors.Is(err, ErrDevRootOnProductionChain) {
				t.Fatalf("after the refusal: %v", err)
			}
		})
	}
}

// TestPinkFlags: a missing or empty CA file is refused; a bad proxy too.
func TestPinkFlags(t *testing.T) {
	if _, err := PinkFlags("", t.TempDir()+"/none.pem"); err == nil {
		t.Fatal("missing CA file accepted")
	}
	if _, err := PinkFlags("ftp://proxy:21", ""); err == nil {
		t.Fatal("ftp proxy accepted")
	}
	if c, err := PinkFlags("socks5://127.0.0.1:1080", ""); err != nil || c.HTTPProxy == "" {
		t.Fatalf("socks5 proxy: %+v %v", c, err)
	}
}

// TestPinkMetrics: outbound requests are counted by result class or error
// name, with body bytes; no URL reaches the metrics.
func TestPinkMetrics(t *testing.T) {
	p, err := newPink(PinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := &Runtime{pink: p}
	p.observe(outbound.Observation{Host: "secret.example", Status: 200, RequestBytes: 3, ResponseBytes: 10})
	p.observe(outbound.Observation{Host: "x", Status: 404, ResponseBytes: 5})
	p.observe(outbound.Observation{Host: "x", Err: pink.ErrTimeout})
	for _, st := range []uint16{100, 599, 600, 99} {
		p.observe(outbound.Observation{Host: "x", Status: st})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(pinkCollector{r})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
				if strings.Contains(l.GetValue(), "secret") {
					t.Fatalf("host in a label: %v", l)
				}
			}
			if c := m.GetCounter(); c != nil {
				got[key] = c.GetValue()
			}
		}
	}
	want := map[string]float64{
		"cella_pruntime_pink_http_requests_total/2xx": 1, "cella_pruntime_pink_http_requests_total/4xx": 1,
		"cella_pruntime_pink_http_requests_total/Timeout": 1, "cella_pruntime_pink_http_requests_total/1xx": 1,
		"cella_pruntime_pink_http_requests_total/5xx": 1, "cella_pruntime_pink_http_requests_total/error": 2,
		"cella_pruntime_pink_http_body_bytes_total/in": 15, "cella_pruntime_pink_http_body_bytes_total/out": 3,
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
