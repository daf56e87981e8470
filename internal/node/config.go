package node

import (
	"fmt"
	"path/filepath"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/tx"
)

// Limits shared by the mempool, the RPC server and the consensus params, so a
// transaction the chain accepts can always travel and fit in a block.
const (
	// MaxTxBytes is the largest transaction accepted anywhere (4 MiB).
	MaxTxBytes = tx.MaxTxBytes
	// MaxBlockBytes is the block size limit in the consensus params: room for
	// two maximal transactions plus header and commit overhead.
	MaxBlockBytes = 2*MaxTxBytes + 1<<20
	// rpcMaxBodyBytes admits a maximal transaction sent as hex or base64
	// inside a JSON-RPC request.
	rpcMaxBodyBytes = 3*MaxTxBytes + 1<<20
)

// Ports used by `cella dev` and as the base of `cella testnet`.
const (
	DefaultRPCAddr = "tcp://" + defaults.NodeRPCAddr
	DefaultP2PAddr = "tcp://" + defaults.NodeP2PAddr
)

// ConfigOptions are the knobs Cella sets on top of CometBFT's defaults.
type ConfigOptions struct {
	Moniker     string
	BlockTime   time.Duration // consensus.timeout_commit
	EmptyBlocks bool          // consensus.create_empty_blocks
	RPCAddr     string        // rpc.laddr
	P2PAddr     string        // p2p.laddr
	Peers       string        // p2p.persistent_peers
	Prometheus  string        // instrumentation listen address; empty disables
	// Loopback marks a network on one host (dev, testnets): peers are fixed,
	// so peer exchange is off, and several peers may share 127.0.0.1.
	Loopback bool
}

// NewConfig returns a CometBFT config rooted at home with Cella's limits and
// the given options applied. It does not touch the disk.
func NewConfig(home string, o ConfigOptions) *cmtcfg.Config {
	c := cmtcfg.DefaultConfig()
	c.SetRoot(home)
	if o.Moniker != "" {
		c.Moniker = o.Moniker
	}
	if o.BlockTime > 0 {
		c.Consensus.TimeoutCommit = o.BlockTime
	}
	c.Consensus.CreateEmptyBlocks = o.EmptyBlocks
	if o.RPCAddr != "" {
		c.RPC.ListenAddress = o.RPCAddr
	}
	if o.P2PAddr != "" {
		c.P2P.ListenAddress = o.P2PAddr
	}
	c.P2P.PersistentPeers = o.Peers
	if o.Loopback {
		c.P2P.AddrBookStrict = false
		c.P2P.AllowDuplicateIP = true
		c.P2P.PexReactor = false
	}
	c.Mempool.MaxTxBytes = MaxTxBytes
	c.Mempool.MaxTxsBytes = 256 << 20
	c.Mempool.Size = 50000
	c.Mempool.CacheSize = 100000
	c.RPC.MaxBodyBytes = rpcMaxBodyBytes
	c.RPC.TimeoutBroadcastTxCommit = 30 * time.Second
	// A 4 MiB transaction must cross p2p at a useful speed.
	c.P2P.SendRate = 20 << 20
	c.P2P.RecvRate = 20 << 20
	c.TxIndex.Indexer = "kv"
	// Caps on open connections (CometBFT's own defaults, set here so that
	// they hold whatever the defaults become); CometBFT's RPC server has its
	// own read and write timeouts.
	c.RPC.MaxOpenConnections = 900
	c.Instrumentation.MaxOpenConnections = 3
	if o.Prometheus != "" {
		c.Instrumentation.Prometheus = true
		c.Instrumentation.PrometheusListenAddr = o.Prometheus
	}
	return c
}

// AppDataDir is where the application store lives inside a home folder.
func AppDataDir(home string) string { return filepath.Join(home, "data", "app") }

// validateConfig checks the options Cella depends on, after a user edited
// config.toml.
func validateConfig(c *cmtcfg.Config) error {
	if err := c.ValidateBasic(); err != nil {
		return fmt.Errorf("config.toml: %w", err)
	}
	if c.Mempool.MaxTxBytes < MaxTxBytes {
		return fmt.Errorf("config.toml: mempool.max_tx_bytes is %d, Cella needs at least %d", c.Mempool.MaxTxBytes, MaxTxBytes)
	}
	return nil
}
