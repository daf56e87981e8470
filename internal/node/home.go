package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/genesisfile"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"

	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
)

// InitOptions say how to create a home folder.
type InitOptions struct {
	ChainID string
	// Dev makes a dev genesis (funded dev accounts, dev-only calls).
	Dev bool
	// Allocations are extra genesis balances (non-dev chains start with only these).
	Allocations []state.Allocation
	// Measurements are pRuntime measurement hashes to allow at genesis.
	Measurements [][32]byte
	Config       ConfigOptions
}

// IsInitialised reports whether home has a genesis file and a validator key.
func IsInitialised(home string) bool {
	c := cmtcfg.DefaultConfig()
	c.SetRoot(home)
	for _, p := range []string{c.GenesisFile(), c.PrivValidatorKeyFile(), c.NodeKeyFile()} {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// InitHome creates a single-validator home folder: config.toml, node and
// validator keys, and a genesis in which this node is the only validator. It
// refuses to touch a folder that already holds a genesis.
func InitHome(home string, o InitOptions) (*state.Genesis, error) {
	cfg := NewConfig(home, o.Config)
	if _, err := os.Stat(cfg.GenesisFile()); err == nil {
		return nil, fmt.Errorf("%s already has a genesis (use another --home, or remove it)", home)
	}
	if err := writeKeysAndConfig(cfg); err != nil {
		return nil, err
	}
	pv := privval.LoadFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	pub, err := pv.GetPubKey()
	if err != nil {
		return nil, err
	}
	var vk [32]byte
	copy(vk[:], pub.Bytes())
	g := newGenesis(o, []state.Validator{{PubKey: vk, Power: 10}})
	if err := writeGenesis(cfg, g, time.Now()); err != nil {
		return nil, err
	}
	return g, nil
}

func newGenesis(o InitOptions, vals []state.Validator) *state.Genesis {
	var g *state.Genesis
	if o.Dev {
		g = state.DevGenesis(o.ChainID, vals)
		g.App.Gov = state.DevGovGenesis()
	} else {
		g = &state.Genesis{
			ChainID:    o.ChainID,
			AppVersion: state.AppVersion1,
			Validators: vals,
			Consensus:  state.DefaultConsensusParams(),
			App:        state.AppGenesis{Params: state.DefaultParams()},
		}
	}
	g.App.Balances = append(g.App.Balances, o.Allocations...)
	for _, m := range o.Measurements {
		g.App.Registry.AllowMeasurement(m)
	}
	return g
}

// writeKeysAndConfig writes config.toml and creates the node and validator keys.
func writeKeysAndConfig(cfg *cmtcfg.Config) error {
	for _, d := range []string{filepath.Join(cfg.RootDir, "config"), filepath.Join(cfg.RootDir, "data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	cmtcfg.WriteConfigFile(filepath.Join(cfg.RootDir, "config", "config.toml"), cfg)
	privval.LoadOrGenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	if _, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile()); err != nil {
		return fmt.Errorf("node key: %w", err)
	}
	return nil
}

func writeGenesis(cfg *cmtcfg.Config, g *state.Genesis, t time.Time) error {
	if err := modules.ValidateGenesis(g); err != nil {
		return err
	}
	doc, err := genesisfile.GenesisDoc(g, t)
	if err != nil {
		return err
	}
	if err := doc.SaveAs(cfg.GenesisFile()); err != nil {
		return fmt.Errorf("write genesis: %w", err)
	}
	return nil
}

// LoadConfig reads home/config/config.toml (written by InitHome or
// `cella testnet`), on top of CometBFT's defaults.
func LoadConfig(home string) (*cmtcfg.Config, error) {
	path := filepath.Join(home, "config", "config.toml")
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no config at %s (run `cella init --home %s` first)", path, home)
	}
	c, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	c.SetRoot(home)
	return c, nil
}

// TestnetOptions describe a multi-validator network on one host.
type TestnetOptions struct {
	Validators int
	ChainID    string
	Dev        bool
	BasePort   int // node i uses p2p BasePort+10i and rpc BasePort+10i+1
	BlockTime  time.Duration
	// Metrics serves node i's Prometheus metrics on BasePort+10i+2.
	Metrics bool
	// Hosts are the addresses the nodes listen on and peer at: node i on
	// Hosts[i mod len(Hosts)] (default 127.0.0.1).
	Hosts []string
	// Genesis, when set, may edit the genesis before it is validated and
	// written (allocations, measurements, bootstrap settings).
	Genesis func(*state.Genesis)
}

// TestnetNode is one node of a generated testnet.
type TestnetNode struct {
	Home    string
	RPCAddr string
	P2PAddr string
	// MetricsAddr is host:port of the Prometheus metrics (empty without
	// TestnetOptions.Metrics).
	MetricsAddr string
	// PeerID is the node's id@host:port for persistent_peers.
	PeerID string
}

// InitTestnet writes Validators home folders under dir (node0, node1, …)
// sharing one genesis, each peered with all the others on loopback.
func InitTestnet(dir string, o TestnetOptions) (*state.Genesis, []TestnetNode, error) {
	if o.Validators < 1 {
		return nil, nil, errors.New("testnet: need at least one validator")
	}
	if o.BasePort == 0 {
		o.BasePort = defaults.NodeP2PPort
	}
	if len(o.Hosts) == 0 {
		o.Hosts = []string{"127.0.0.1"}
	}
	nodes := make([]TestnetNode, o.Validators)
	cfgs := make([]*cmtcfg.Config, o.Validators)
	ids := make([]string, o.Validators)
	vals := make([]state.Validator, o.Validators)
	for i := range nodes {
		home := filepath.Join(dir, fmt.Sprintf("node%d", i))
		if _, err := os.Stat(home); err == nil {
			return nil, nil, fmt.Errorf("%s already exists", home)
		}
		p2pPort, rpcPort := o.BasePort+10*i, o.BasePort+10*i+1
		host := o.Hosts[i%len(o.Hosts)]
		nodes[i] = TestnetNode{
			Home:    home,
			RPCAddr: "tcp://" + net.JoinHostPort(host, strconv.Itoa(rpcPort)),
			P2PAddr: "tcp://" + net.JoinHostPort(host, strconv.Itoa(p2pPort)),
		}
		if o.Metrics {
			nodes[i].MetricsAddr = net.JoinHostPort(host, strconv.Itoa(o.BasePort+10*i+2))
		}
		cfgs[i] = NewConfig(home, ConfigOptions{
			Moniker: fmt.Sprintf("node%d", i), BlockTime: o.BlockTime, EmptyBlocks: true,
			RPCAddr: nodes[i].RPCAddr, P2PAddr: nodes[i].P2PAddr, Loopback: true,
			Prometheus: nodes[i].MetricsAddr,
		})
		if err := writeKeysAndConfig(cfgs[i]); err != nil {
			return nil, nil, err
		}
		nk, err := p2p.LoadNodeKey(cfgs[i].NodeKeyFile())
		if err != nil {
			return nil, nil, err
		}
		ids[i] = fmt.Sprintf("%s@%s", nk.ID(), net.JoinHostPort(host, strconv.Itoa(p2pPort)))
		nodes[i].PeerID = ids[i]
		pub, err := privval.LoadFilePV(cfgs[i].PrivValidatorKeyFile(), cfgs[i].PrivValidatorStateFile()).GetPubKey()
		if err != nil {
			return nil, nil, err
		}
		copy(vals[i].PubKey[:], pub.Bytes())
		vals[i].Power = 10
	}
	g := newGenesis(InitOptions{ChainID: o.ChainID, Dev: o.Dev}, vals)
	if o.Genesis != nil {
		o.Genesis(g)
	}
	now := time.Now()
	for i, c := range cfgs {
		var peers []string
		for j, id := range ids {
			if j != i {
				peers = append(peers, id)
			}
		}
		c.P2P.PersistentPeers = strings.Join(peers, ",")
		cmtcfg.WriteConfigFile(filepath.Join(c.RootDir, "config", "config.toml"), c)
		if err := writeGenesis(c, g, now); err != nil {
			return nil, nil, err
		}
	}
	return g, nodes, nil
}
