package loadgen

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// CommandConfig says what command load to make: encrypted contract
// commands (phat.push_command) from funded senders, with pipelined nonces.
type CommandConfig struct {
	// Senders, Workers, Duration and Funder are as in Config.
	Senders  int
	Workers  int
	Duration time.Duration
	Funder   *keys.Pair
	// Contract is the contract called and ContractKey its published ECDH
	// key (commands are encrypted to it).
	Contract    [32]byte
	ContractKey keys.PublicKey
	// Message returns sender i's call data.
	Message func(i int, sender keys.PublicKey) []byte
	// GasLimit is every command's gas limit.
	GasLimit uint64
	// Before, when set, runs after the senders are funded and before the
	// load (e.g. to give them tokens in the contract).
	Before func(ctx context.Context, senders []keys.PublicKey) error
}

// CommandResult is what a command run measured.
type CommandResult struct {
	Senders   int              `json:"senders"`
	Submitted int64            `json:"submitted"`
	Accepted  int64            `json:"accepted"`
	Rejected  map[string]int64 `json:"rejected,omitempty"`
	// Executed counts the cluster's outcomes of this run's commands on
	// chain; ExecutedPerSecond divides them by the span from the first
	// submission to the last outcome's block being seen.
	Executed          int64   `json:"executed"`
	WindowSeconds     float64 `json:"windowSeconds"`
	ExecutedPerSecond float64 `json:"executedPerSecond"`
	// Latency from submission to the block holding the outcome being seen
	// (polled every 50 ms), in ms and in block times.
	P50ms          float64 `json:"p50Ms"`
	P99ms          float64 `json:"p99Ms"`
	BlockTimeMs    float64 `json:"blockTimeMs"`
	P50Blocks      float64 `json:"p50BlockTimes"`
	P99Blocks      float64 `json:"p99BlockTimes"`
	GeneratorCores float64 `json:"generatorCores"`
}

// RunCommands funds cfg.Senders accounts, then has them send encrypted
// commands for cfg.Duration and counts the outcomes the cluster reports.
func RunCommands(ctx context.Context, c *client.Client, cfg CommandConfig) (*CommandResult, error) {
	if cfg.Senders < 1 || cfg.Workers < 1 || cfg.Duration <= 0 || cfg.Funder == nil || cfg.Message == nil {
		return nil, errors.New("loadgen: commands need senders, workers, a duration, a funder and a message")
	}
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		return nil, err
	}
	gh, err := client.ParseHash(ci.GenesisHash)
	if err != nil {
		return nil, err
	}
	senders := make([]*sender, cfg.Senders)
	pubs := make([]keys.PublicKey, cfg.Senders)
	for i := range senders {
		p, err := keys.FromURI(senderURI(i))
		if err != nil {
			return nil, err
		}
		senders[i], pubs[i] = &sender{pair: p}, p.Public()
	}
	if err := fund(ctx, c, Config{Funder: cfg.Funder}, gh, senders); err != nil {
		return nil, err
	}
	if cfg.Before != nil {
		if err := cfg.Before(ctx, pubs); err != nil {
			return nil, err
		}
	}
	start, err := c.ChainInfo(ctx)
	if err != nil {
		return nil, err
	}
	res := &CommandResult{Senders: cfg.Senders, Rejected: map[string]int64{}}
	var (
		mu       sync.Mutex
		sentAt   = map[[32]byte]time.Time{} // blake2 of payload → submit time
		rejected = map[string]int64{}
	)
	var submitted, accepted atomic.Int64
	cpu0 := cpuTime()
	t0 := time.Now()
	lctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	var wg sync.WaitGroup
	// Worker w sends for senders w, w+Workers, …: a sender's nonces stay
	// in one goroutine.
	for w := range min(cfg.Workers, len(senders)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; lctx.Err() == nil; k += cfg.Workers {
				if k >= len(senders) {
					k = w
				}
				i, s := k, senders[k]
				payload, err := encryptedCommand(cfg, cfg.Message(i, s.pair.Public()))
				if err != nil {
					continue
				}
				body := tx.Body{Version: tx.Version1, Scheme: tx.Sr25519, Signer: s.pair.Public(), Genesis: gh, Nonce: s.nonce,
					FeeLimit: client.DefaultFeeLimit, Call: phat.PushCommandCall(phat.PushArgs{Contract: cfg.Contract, Payload: payload, GasLimit: cfg.GasLimit})}
				now := time.Now()
				submitted.Add(1)
				r, err := c.RPC().BroadcastTxSync(lctx, tx.Sign(body, s.pair).Encode())
				if err != nil {
					if lctx.Err() == nil {
						mu.Lock()
						rejected[shortErr(err)]++
						mu.Unlock()
					}
					continue
				}
				if r.Code != state.CodeOK {
					mu.Lock()
					rejected[state.CodeName(r.Code)]++
					mu.Unlock()
					continue
				}
				accepted.Add(1)
				s.nonce++
				mu.Lock()
				sentAt[keyOf(payload)] = now
				mu.Unlock()
			}
		}()
	}
	// Follow the chain: map commands to their ids, outcomes to latencies.
	var lat []time.Duration
	ids := map[[32]byte]time.Time{}
	next := uint64(start.Height) + 1
	var lastOutcome time.Time
	var firstH, lastH int64
	follow := func() error {
		ci, err := c.ChainInfo(ctx)
		if err != nil {
			return err
		}
		if uint64(ci.Height) < next {
			return nil
		}
		recs, err := c.Blocks(ctx, next, uint64(ci.Height))
		if err != nil {
			return err
		}
		seen := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, r := range recs {
			for _, m := range r.Messages {
				switch string(m.Topic) {
				case msg.TopicPhatCommand:
					var p msg.Command
					if scale.Decode(m.Payload, &p) == nil && p.Contract == cfg.Contract {
						if at, ok := sentAt[keyOf(p.Payload)]; ok {
							ids[p.CommandID] = at
							delete(sentAt, keyOf(p.Payload))
						}
					}
				case msg.TopicClusterOutcome, msg.TopicClusterOutcomes:
					for _, o := range msg.OutcomesOf(string(m.Topic), m.Payload) {
						if at, ok := ids[o.CommandID]; ok {
							lat = append(lat, seen.Sub(at))
							delete(ids, o.CommandID)
							lastOutcome = seen
							if firstH == 0 {
								firstH = r.Height
							}
							lastH = r.Height
						}
					}
				}
			}
			next = uint64(r.Height) + 1
		}
		return nil
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for lctx.Err() == nil {
		<-tick.C
		if err := follow(); err != nil && ctx.Err() == nil {
			return nil, err
		}
	}
	wg.Wait()
	// Drain: wait for the outstanding outcomes (at most 30 s).
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	for dctx.Err() == nil {
		mu.Lock()
		pending := len(sentAt) + len(ids)
		mu.Unlock()
		if pending == 0 {
			break
		}
		<-tick.C
		if err := follow(); err != nil {
			return nil, err
		}
	}
	cpu := cpuTime() - cpu0
	res.Submitted, res.Accepted = submitted.Load(), accepted.Load()
	res.Rejected = rejected
	if len(res.Rejected) == 0 {
		res.Rejected = nil
	}
	res.Executed = int64(len(lat))
	if !lastOutcome.IsZero() {
		res.WindowSeconds = lastOutcome.Sub(t0).Seconds()
		res.ExecutedPerSecond = float64(res.Executed) / res.WindowSeconds
	}
	if lastH > firstH {
		res.BlockTimeMs = float64(lastOutcome.Sub(t0).Milliseconds()) / float64(lastH-int64(start.Height))
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	res.P50ms, res.P99ms = ms(quantile(lat, 0.5)), ms(quantile(lat, 0.99))
	if res.BlockTimeMs > 0 {
		res.P50Blocks, res.P99Blocks = res.P50ms/res.BlockTimeMs, res.P99ms/res.BlockTimeMs
	}
	res.GeneratorCores = cpu.Seconds() / time.Since(t0).Seconds()
	if res.Executed == 0 {
		return res, fmt.Errorf("no outcome of %d accepted commands was reported", res.Accepted)
	}
	return res, nil
}

func keyOf(payload []byte) [32]byte { return phat.CodeHash(payload) }

// encryptedCommand builds an InkCommand with a random nonce encrypted from
// a fresh key to the contract's key (as @phala/sdk does).
func encryptedCommand(cfg CommandConfig, data []byte) ([]byte, error) {
	cmd := &phatwire.InkCommand{Nonce: make([]byte, 32), Message: data, GasLimit: cfg.GasLimit}
	if _, err := rand.Read(cmd.Nonce); err != nil {
		return nil, err
	}
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, err
	}
	iv, err := cipher.NewIV(rand.Reader)
	if err != nil {
		return nil, err
	}
	p, err := phatwire.EncryptCommand(cipher.EcdhKeyFromSeed(seed), cfg.ContractKey, iv, cmd)
	if err != nil {
		return nil, err
	}
	return p.Encode()
}
