package testnet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/genesisfile"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pruntime"
	devtee "github.com/cella-network/cella/internal/tee/dev"
)

func TestWriteLayout(t *testing.T) {
	dir := t.TempDir()
	m, err := Write(dir, Options{Validators: 4, Gatekeepers: 2, Workers: 3, ChainID: "cella-layout", BasePort: 21000})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(m.Processes); got != 4+2*5 {
		t.Fatalf("%d processes, want 14", got)
	}
	// Every port distinct and below the ephemeral range.
	seen := map[string]string{}
	for _, p := range m.Processes {
		for use, a := range p.Addrs {
			if a == "" {
				t.Errorf("%s: empty %s address", p.Name, use)
				continue
			}
			if prev, ok := seen[a]; ok {
				t.Errorf("%s %s and %s share %s", p.Name, use, prev, a)
			}
			seen[a] = p.Name + " " + use
			port, _ := strconv.Atoi(a[strings.LastIndexByte(a, ':')+1:])
			if port <= 0 || port > MaxPort {
				t.Errorf("%s %s: port %d outside 1…%d", p.Name, use, port, MaxPort)
			}
		}
	}
	if len(m.OfKind(KindNode, "")) != 4 || len(m.OfKind(KindPRuntime, RoleGatekeeper)) != 2 || len(m.OfKind(KindPherry, RoleWorker)) != 3 {
		t.Fatalf("kinds and roles: %+v", m.Processes)
	}
	// Secrets: in 0600 files, never in a command line.
	secrets := []string{filepath.Join(dir, AdminFile)}
	for _, p := range m.OfKind(KindPherry, "") {
		secrets = append(secrets, filepath.Join(dir, p.Dir, "operator.suri"))
		if !strings.Contains(strings.Join(p.Args, " "), "--operator-file "+filepath.Join(p.Dir, "operator.suri")) {
			t.Errorf("%s does not read its operator file: %v", p.Name, p.Args)
		}
	}
	for _, f := range secrets {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o", f, fi.Mode().Perm())
		}
		b, _ := os.ReadFile(f)
		s := strings.TrimSpace(string(b))
		for _, p := range m.Processes {
			if strings.Contains(strings.Join(p.Args, " "), s) {
				t.Errorf("%s's command line holds the secret of %s", p.Name, f)
			}
		}
	}
	// The genesis: the dev pRuntime allow-listed, the operators funded, no
	// first-worker bootstrap; the same file in every home.
	g0, err := os.ReadFile(filepath.Join(dir, "node0", "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 4; i++ {
		gi, _ := os.ReadFile(filepath.Join(dir, "node"+strconv.Itoa(i), "config", "genesis.json"))
		if string(gi) != string(g0) {
			t.Errorf("node%d's genesis differs from node0's", i)
		}
	}
	_, g, err := genesisfile.LoadGenesis(filepath.Join(dir, "node0", "config", "genesis.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g.App.DevBootstrap {
		t.Error("the genesis keeps the first-worker bootstrap")
	}
	meas := devtee.MeasurementOf(pruntime.DevBuildID()).Hash()
	found := false
	for _, h := range g.App.Registry.Measurements {
		found = found || h == meas
	}
	if !found {
		t.Error("the dev pRuntime's measurement is not allow-listed")
	}
	// The council: //Alice, //Bob, //Charlie, threshold 2; each member's
	// secret URI in its own 0600 file, listed by the manifest.
	if g.App.Gov == nil || len(g.App.Gov.Council) != 3 || g.App.Gov.Threshold != 2 {
		t.Fatalf("genesis council %+v", g.App.Gov)
	}
	if len(m.Council) != 3 || m.CouncilThreshold != 2 {
		t.Fatalf("manifest council %+v (threshold %d)", m.Council, m.CouncilThreshold)
	}
	for _, c := range m.Council {
		st, err := os.Stat(filepath.Join(dir, c.SURIFile))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", c.SURIFile, st, err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, c.SURIFile))
		k, err := keys.FromURI(strings.TrimSpace(string(b)))
		if err != nil || keys.EncodeSS58(k.Public(), 42) != c.Address || !slices.Contains(g.App.Gov.Council, k.Public()) {
			t.Errorf("%s does not hold council member %s's key: %v", c.SURIFile, c.Address, err)
		}
	}
	if len(g.App.Balances) != 6+5 {
		t.Errorf("%d genesis balances, want the 6 dev accounts and 5 operators", len(g.App.Balances))
	}
	// The manifest reads back; the token files exist for pherry.
	m2, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(m)
	b, _ := json.Marshal(m2)
	if string(a) != string(b) {
		t.Error("the manifest does not read back as written")
	}
	for _, p := range m.OfKind(KindPRuntime, "") {
		if _, err := os.Stat(pruntime.TokenPath(filepath.Join(dir, p.Dir))); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	// A second Write into the same folder is refused.
	if _, err := Write(dir, Options{Validators: 1, Gatekeepers: 1, Workers: 1, BasePort: 22000}); err == nil {
		t.Error("a second testnet was written over the first")
	}
}

func TestWriteRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no validator", Options{Gatekeepers: 1, Workers: 1}},
		{"workers without a gatekeeper", Options{Validators: 1, Workers: 1}},
		{"negative", Options{Validators: 1, Gatekeepers: -1}},
		{"ephemeral ports", Options{Validators: 4, Gatekeepers: 2, Workers: 3, BasePort: 32700}},
		{"privileged ports", Options{Validators: 1, Gatekeepers: 1, Workers: 1, BasePort: 80}},
		{"too many", Options{Validators: 51, Gatekeepers: 1, Workers: 1, BasePort: 2000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Write(dir, tc.o); err == nil {
				t.Fatal("accepted")
			}
			if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
				t.Fatal("wrote a manifest")
			}
		})
	}
}

// shManifest is a manifest whose "binary" is /bin/sh.
func shManifest(procs ...Process) *Manifest {
	for i := range procs {
		procs[i].Kind = KindNode
	}
	return &Manifest{Processes: procs}
}

func TestSupervisorReportsExit(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	m := shManifest(Process{Name: "quits", Args: []string{"-c", "echo bye; exit 3"}},
		Process{Name: "stays", Args: []string{"-c", "sleep 60"}})
	s := NewSupervisor("/bin/sh", dir, m, nil)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	defer s.StopAll()
	e := <-s.Exits
	if e.Name != "quits" || e.Err == nil || !strings.Contains(e.String(), "exit status 3") || !strings.Contains(e.String(), "not restarted") {
		t.Fatalf("exit report %q", e)
	}
	if b, _ := os.ReadFile(s.LogPath("quits")); !strings.Contains(string(b), "bye") {
		t.Fatalf("log %q", b)
	}
	if !s.Running("stays") || s.Running("quits") {
		t.Fatal("the other process did not keep running")
	}
	if err := s.Start("stays"); err == nil {
		t.Fatal("started a running process twice")
	}
}

// TestSupervisorStopsGroup: Kill ends the whole process group, the
// children a process started included, and reports nothing on Exits.
func TestSupervisorStopsGroup(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	// The shell's child sleeps on: only a signal to the group ends it.
	m := shManifest(Process{Name: "parent", Args: []string{"-c", "trap '' TERM; sleep 300 & echo $! > " + pidFile + "; wait"}})
	s := NewSupervisor("/bin/sh", dir, m, nil)
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	var child int
	for range 200 {
		if b, err := os.ReadFile(pidFile); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("the child never started")
	}
	if err := s.Kill("parent"); err != nil {
		t.Fatal(err)
	}
	if s.Running("parent") {
		t.Fatal("still running")
	}
	// The child was in the group: it is gone (or a zombie of init's).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for alive(child) {
		if ctx.Err() != nil {
			t.Fatalf("child %d outlived its group", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case e := <-s.Exits:
		t.Fatalf("a killed process was reported: %s", e)
	default:
	}
}

// TestWriteValidatorsOnly: without pRuntimes, a chain of validators (as
// `cella testnet` wrote before it knew pRuntimes).
func TestWriteValidatorsOnly(t *testing.T) {
	m, err := Write(t.TempDir(), Options{Validators: 3, BasePort: 21000})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Processes) != 3 || len(m.OfKind(KindNode, "")) != 3 {
		t.Fatalf("processes: %+v", m.Processes)
	}
}

func TestWriteHosts(t *testing.T) {
	hosts := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}
	m, err := Write(t.TempDir(), Options{Validators: 4, Gatekeepers: 2, Workers: 3, BasePort: 21000, Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Processes {
		for use, a := range p.Addrs {
			want := p.Host
			if use == "internal" {
				want = "127.0.0.1" // only its pherry, on the same host, calls it
			}
			if !strings.HasPrefix(a, want+":") {
				t.Errorf("%s %s at %s, want host %s", p.Name, use, a, want)
			}
		}
		if p.Kind != KindPherry {
			continue
		}
		rt, _ := m.Get(p.PRuntime)
		nd, _ := m.Get(p.Node)
		if rt.Host != p.Host || nd.Host != p.Host {
			t.Errorf("%s on %s relays %s on %s from %s on %s", p.Name, p.Host, rt.Name, rt.Host, nd.Name, nd.Host)
		}
	}
	if n0, _ := m.Get("node0"); n0.Host != hosts[0] {
		t.Errorf("node0 on %s", n0.Host)
	}
	if g, _ := m.Get("gk0-pruntime"); g.Host != hosts[4%3] {
		t.Errorf("gk0 (slot 4) on %s, want %s", g.Host, hosts[1])
	}
	if _, err := Write(t.TempDir(), Options{Validators: 1, Gatekeepers: 1, Workers: 1, BasePort: 21000, Hosts: []string{"10.0.0.1", "bad host;"}}); err == nil {
		t.Error("a bad host name was accepted")
	}
}

func TestSupervisorHostFilter(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	m := shManifest(Process{Name: "here", Host: "a", Args: []string{"-c", "sleep 60"}},
		Process{Name: "there", Host: "b", Args: []string{"-c", "sleep 60"}})
	s := NewSupervisor("/bin/sh", t.TempDir(), m, nil)
	s.Host = "a"
	if err := s.StartAll(); err != nil {
		t.Fatal(err)
	}
	if !s.Running("here") || s.Running("there") {
		t.Fatal("the host filter was not applied")
	}
	s.StopAll()
	if s.Running("here") {
		t.Fatal("StopAll left a process")
	}
	s.Host = "c"
	if err := s.StartAll(); err == nil {
		t.Fatal("a host without processes started nothing and said nothing")
	}
}
