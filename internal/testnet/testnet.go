// Package testnet lays out and runs a multi-node Cella network as separate
// OS processes: validators (`cella node`), pRuntimes (`cella pruntime run`)
// and one pherry per pRuntime (`cella pherry`), some of the pRuntimes
// gatekeepers and the others the workers of cluster 0.
//
// Write creates the folders, keys and configs of every process and a
// manifest (testnet.json) listing them with their command lines and
// addresses; Start runs the processes of a manifest (each in a process
// group of its own, logging to logs/NAME.log); Bootstrap makes the
// gatekeepers and cluster 0 on the running chain, as the admin.
package testnet

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/state"
	devtee "github.com/cella-network/cella/internal/tee/dev"
)

// ManifestFile is the manifest's name inside a testnet folder.
const ManifestFile = "testnet.json"

// AdminFile holds the admin's secret URI (mode 0600) inside a testnet
// folder; Bootstrap signs with it.
const AdminFile = "admin.suri"

// CouncilDir holds one secret URI file (mode 0600) per member of the
// genesis council, named after the member (alice.suri, …).
const CouncilDir = "council"

// MaxPort bounds every port a testnet uses: the ephemeral range (32768 and
// up on Linux) is left to outgoing connections, which would collide.
const MaxPort = 32767

// Process kinds.
const (
	KindNode     = "node"
	KindPRuntime = "pruntime"
	KindPherry   = "pherry"
)

// Roles of a pRuntime.
const (
	RoleGatekeeper = "gatekeeper"
	RoleWorker     = "worker"
)

// Options describe a testnet.
type Options struct {
	Validators  int
	Gatekeepers int
	Workers     int
	ChainID     string
	// BasePort is the first port: slot i (validators first, then the
	// gatekeepers' and workers' pRuntimes) takes BasePort+10i … +9.
	BasePort  int
	BlockTime time.Duration
	// Hosts are the addresses the processes listen on and are reached at
	// (default 127.0.0.1): node i runs on Hosts[i mod n], and the pRuntime
	// of slot s (with its pherry) on Hosts[s mod n], slots numbered from
	// the validators on. A pRuntime's internal API is on the loopback of
	// its host always: only its pherry, beside it, calls it.
	Hosts []string
	// CheckpointInterval is the pRuntimes' (default pruntime's).
	CheckpointInterval int64
}

// Process is one OS process of the testnet: `cella` run with Args, in the
// testnet folder (paths in Args are relative to it).
type Process struct {
	Name string   `json:"name"`
	Kind string   `json:"kind"`
	Args []string `json:"args"`
	// Role: a pRuntime's or pherry's (gatekeeper or worker); "validator"
	// for a node.
	Role string `json:"role"`
	// Addrs are the process's listening addresses by use (rpc, p2p,
	// metrics, public, internal) as host:port.
	Addrs map[string]string `json:"addrs"`
	// Dir is the process's data folder (relative to the testnet folder).
	Dir string `json:"dir"`
	// PRuntime (pherry only) names the pRuntime it relays to; Node is the
	// node it reads (pherry) or nothing.
	PRuntime string `json:"pruntime,omitempty"`
	Node     string `json:"node,omitempty"`
	// Host is the host the process runs on (`cella testnet run --host`).
	Host string `json:"host"`
	// Operator is the account operating a pRuntime (SS58; its secret is in
	// Dir/../operator.suri, mode 0600, read by its pherry).
	Operator string `json:"operator,omitempty"`
}

// Manifest is testnet.json: the network and its processes, in start order.
type Manifest struct {
	ChainID     string   `json:"chainId"`
	GenesisHash string   `json:"genesisHash"`
	BasePort    int      `json:"basePort"`
	Hosts       []string `json:"hosts"`
	// Council lists the genesis council's members (SS58) and the files
	// (relative to the testnet folder) holding their secret URIs;
	// CouncilThreshold is how many ayes approve a proposal.
	Council          []CouncilMember `json:"council,omitempty"`
	CouncilThreshold uint32          `json:"councilThreshold,omitempty"`
	Processes        []Process       `json:"processes"`
}

// CouncilMember is a member of a testnet's genesis council.
type CouncilMember struct {
	Address string `json:"address"`
	// SURIFile is the file holding the member's secret URI (mode 0600).
	SURIFile string `json:"suriFile"`
}

// Get returns the process called name.
func (m *Manifest) Get(name string) (Process, bool) {
	for _, p := range m.Processes {
		if p.Name == name {
			return p, true
		}
	}
	return Process{}, false
}

// OfKind returns the processes of a kind (and role, when not empty), in
// manifest order.
func (m *Manifest) OfKind(kind, role string) []Process {
	var out []Process
	for _, p := range m.Processes {
		if p.Kind == kind && (role == "" || p.Role == role) {
			out = append(out, p)
		}
	}
	return out
}

// ReadManifest reads dir/testnet.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a testnet folder (no %s; write one with `cella testnet --output %s`): %w", dir, ManifestFile, dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	if len(m.Processes) == 0 {
		return nil, fmt.Errorf("%s lists no process", ManifestFile)
	}
	return &m, nil
}

// Write lays out a testnet in dir (which must not hold one): validator
// homes node0…, a pRuntime data folder and operator key per gatekeeper
// (gk0…) and worker (w0…), the admin's key, and testnet.json. Without
// gatekeepers and workers it is a chain of validators only. The genesis
// is a dev genesis that funds the operators, allow-lists the dev pRuntime's
// measurement, and leaves the gatekeepers and cluster 0 to Bootstrap (the
// dev chain's first-worker bootstrap is off: it would make whichever
// pRuntime registers first the gatekeeper and cluster 0's only worker).
func Write(dir string, o Options) (*Manifest, error) {
	if o.Validators < 1 || o.Gatekeepers < 0 || o.Workers < 0 {
		return nil, errors.New("testnet: need at least one validator")
	}
	if o.Workers > 0 && o.Gatekeepers == 0 {
		return nil, errors.New("testnet: workers need a gatekeeper (for cluster 0's key)")
	}
	if o.Validators > 50 || o.Gatekeepers+o.Workers > 50 {
		return nil, errors.New("testnet: at most 50 validators and 50 pRuntimes")
	}
	if o.ChainID == "" {
		o.ChainID = "cella-testnet"
	}
	if len(o.Hosts) == 0 {
		o.Hosts = []string{"127.0.0.1"}
	}
	for _, h := range o.Hosts {
		if h == "" || net.ParseIP(h) == nil && !validHostname(h) {
			return nil, fmt.Errorf("testnet: host %q is neither an IP address nor a host name", h)
		}
	}
	if o.BasePort == 0 {
		o.BasePort = defaults.NodeP2PPort
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = pruntime.DefaultCheckpointInterval
	}
	slots := o.Validators + o.Gatekeepers + o.Workers
	if o.BasePort < 1024 || o.BasePort+10*slots-1 > MaxPort {
		return nil, fmt.Errorf("testnet: ports %d…%d: keep them within 1024…%d (above, the ephemeral range collides)", o.BasePort, o.BasePort+10*slots-1, MaxPort)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return nil, fmt.Errorf("%s already holds a testnet", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
		return nil, err
	}
	hostOf := func(slot int) string { return o.Hosts[slot%len(o.Hosts)] }
	hp := func(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

	// The pRuntimes' operators: fresh keys, funded at genesis.
	type prt struct {
		name, role, suri string
		op               keys.PublicKey
		slot             int
	}
	var prts []prt
	for i := range o.Gatekeepers + o.Workers {
		p := prt{name: fmt.Sprintf("gk%d", i), role: RoleGatekeeper, slot: o.Validators + i}
		if i >= o.Gatekeepers {
			p.name, p.role = fmt.Sprintf("w%d", i-o.Gatekeepers), RoleWorker
		}
		var seed [32]byte
		if _, err := rand.Read(seed[:]); err != nil {
			return nil, err
		}
		p.suri = "0x" + hex.EncodeToString(seed[:])
		k, err := keys.FromURI(p.suri)
		if err != nil {
			return nil, err
		}
		p.op = k.Public()
		prts = append(prts, p)
	}
	measurement := devtee.MeasurementOf(pruntime.DevBuildID()).Hash()
	g, nodes, err := node.InitTestnet(dir, node.TestnetOptions{
		Validators: o.Validators, ChainID: o.ChainID, Dev: true, BasePort: o.BasePort,
		BlockTime: o.BlockTime, Metrics: true, Hosts: o.Hosts,
		Genesis: func(g *state.Genesis) {
			g.App.DevBootstrap = false
			// The dev council: //Alice (the admin), //Bob and //Charlie,
			// any 2 of them approving, enacted 2 blocks later.
			g.App.Gov = state.DevGovGenesis()
			g.App.Registry.AllowMeasurement(measurement)
			for _, p := range prts {
				g.App.Balances = append(g.App.Balances, state.Allocation{Account: p.op, Free: state.DevBalance})
			}
		},
	})
	if err != nil {
		return nil, err
	}
	gh := g.Hash()
	m := &Manifest{ChainID: g.ChainID, GenesisHash: "0x" + hex.EncodeToString(gh[:]), BasePort: o.BasePort, Hosts: o.Hosts}
	for i, n := range nodes {
		home := fmt.Sprintf("node%d", i)
		m.Processes = append(m.Processes, Process{
			Name: home, Kind: KindNode, Role: "validator", Dir: home, Host: hostOf(i),
			Args:  []string{"node", "--home", home},
			Addrs: map[string]string{"p2p": trimTCP(n.P2PAddr), "rpc": trimTCP(n.RPCAddr), "metrics": n.MetricsAddr},
		})
	}
	if err := writeSecret(filepath.Join(dir, AdminFile), "//Alice"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, CouncilDir), 0o700); err != nil {
		return nil, err
	}
	m.CouncilThreshold = g.App.Gov.Threshold
	for _, name := range state.DevAccountNames[:3] {
		k, err := keys.FromURI("//" + name)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(g.App.Gov.Council, k.Public()) {
			return nil, fmt.Errorf("testnet: //%s is not on the genesis council", name)
		}
		f := filepath.Join(CouncilDir, strings.ToLower(name)+".suri")
		if err := writeSecret(filepath.Join(dir, f), "//"+name); err != nil {
			return nil, err
		}
		m.Council = append(m.Council, CouncilMember{Address: keys.EncodeSS58(k.Public(), 42), SURIFile: f})
	}
	var pherries []Process
	for i, p := range prts {
		base := o.BasePort + 10*p.slot
		data := filepath.Join(p.name, "pruntime")
		if err := os.MkdirAll(filepath.Join(dir, data), 0o700); err != nil {
			return nil, err
		}
		// The token exists before either process starts, so that pherry
		// never waits for the pRuntime's first start.
		if _, err := pruntime.LoadOrCreateToken(filepath.Join(dir, data)); err != nil {
			return nil, err
		}
		opFile := filepath.Join(p.name, "operator.suri")
		if err := writeSecret(filepath.Join(dir, opFile), p.suri); err != nil {
			return nil, err
		}
		host := hostOf(p.slot)
		pub, in, pm, prm := hp(host, base), hp("127.0.0.1", base+1), hp(host, base+2), hp(host, base+3)
		opSS58 := keys.EncodeSS58(p.op, 42)
		m.Processes = append(m.Processes, Process{
			Name: p.name + "-pruntime", Kind: KindPRuntime, Role: p.role, Dir: data, Operator: opSS58, Host: host,
			Args: []string{"pruntime", "run", "--data-dir", data, "--listen", pub, "--internal-listen", in,
				"--operator", opSS58, "--genesis-hash", m.GenesisHash, "--public-url", "http://" + pub,
				"--checkpoint-interval", strconv.FormatInt(o.CheckpointInterval, 10), "--metrics-addr", prm},
			Addrs: map[string]string{"public": pub, "internal": in, "metrics": prm},
		})
		// pherry reads a node on its own host when there is one.
		ni := i % len(nodes)
		for j := range nodes {
			if hostOf(j) == host {
				ni = j
				break
			}
		}
		if len(o.Hosts) == 1 {
			ni = i % len(nodes)
		}
		nd := nodes[ni]
		pherries = append(pherries, Process{
			Name: p.name + "-pherry", Kind: KindPherry, Role: p.role, Dir: p.name, Operator: opSS58, Host: host,
			PRuntime: p.name + "-pruntime", Node: fmt.Sprintf("node%d", ni),
			Args: []string{"pherry", "--node", "http://" + trimTCP(nd.RPCAddr), "--pruntime-public", "http://" + pub,
				"--pruntime-internal", "http://" + in, "--pruntime-token-file", pruntime.TokenPath(data),
				"--operator-file", opFile, "--metrics-addr", pm, "--no-progress", "--poll-interval", "200ms"},
			Addrs: map[string]string{"metrics": pm},
		})
	}
	m.Processes = append(m.Processes, pherries...)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return m, nil
}

// writeSecret writes a secret file readable by its owner only, refusing to
// overwrite one.
func writeSecret(path, secret string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// validHostname reports whether h is a plausible DNS name.
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func trimTCP(addr string) string {
	if len(addr) > 6 && addr[:6] == "tcp://" {
		return addr[6:]
	}
	return addr
}
