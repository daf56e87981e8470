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
	// Applied, when set, returns the last block a worker of the cluster
	// has applied (sdk.Worker.AppliedHeight). The worker executes a
	// block's commands when it applies the block, so from then on their
	// results can be read from it; the run then also measures that
	// latency.
	Applied func(ctx context.Context) (int64, error)
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
	P50ms       float64 `json:"p50Ms"`
	P99ms       float64 `json:"p99Ms"`
	BlockTimeMs float64 `json:"blockTimeMs"`
	P50Blocks   float64 `json:"p50BlockTimes"`
	P99Blocks   float64 `json:"p99BlockTimes"`
	// Latency from submission to the node having committed the command's
	// block, and (with CommandConfig.Applied) to the worker having applied
	// it, when the command's result can be read from the worker; both
	// polled every 10 ms.
	Committed      Latency  `json:"committed"`
	Available      *Latency `json:"available,omitempty"`
	GeneratorCores float64  `json:"generatorCores"`
}

// Latency is a latency distribution in ms and in block times.
type Latency struct {
	P50ms     float64 `json:"p50Ms"`
	P99ms     float64 `json:"p99Ms"`
	P50Blocks float64 `json:"p50BlockTimes"`
	P99Blocks float64 `json:"p99BlockTimes"`
}

func latencyOf(lat []time.Duration, blockMs float64) Latency {
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	l := Latency{P50ms: ms(quantile(lat, 0.5)), P99ms: ms(quantile(lat, 0.99))}
	if blockMs > 0 {
		l.P50Blocks, l.P99Blocks = l.P50ms/blockMs, l.P99ms/blockMs
	}
	return l
}

// heightClock records when each height was first seen.
type heightClock struct {
	mu   sync.Mutex
	last int64
	at   map[int64]time.Time
}

func newHeightClock(from int64) *heightClock {
	return &heightClock{last: from, at: map[int64]time.Time{}}
}

// saw records that the heights up to h are there at t.
func (c *heightClock) saw(h int64, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ; c.last < h; c.last++ {
		c.at[c.last+1] = t
	}
}

// when returns when height h was first seen.
func (c *heightClock) when(h int64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.at[h]
	return t, ok
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
	// Watch the node's and the worker's heights.
	committed := newHeightClock(start.Height)
	var applied *heightClock
	if cfg.Applied != nil {
		a, err := cfg.Applied(ctx)
		if err != nil {
			return nil, err
		}
		applied = newHeightClock(max(a, start.Height))
	}
	wctx, wcancel := context.WithCancel(ctx)
	var wwg sync.WaitGroup
	wwg.Add(1)
	go func() {
		defer wwg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if ci, err := c.ChainInfo(wctx); err == nil {
				committed.saw(ci.Height, time.Now())
			}
			if applied != nil {
				if a, err := cfg.Applied(wctx); err == nil {
					applied.saw(a, time.Now())
				}
			}
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	stopWatch := func() { wcancel(); wwg.Wait() }
	defer stopWatch()
	// Follow the chain: map commands to their ids, outcomes to latencies.
	var lat, latCommitted, latAvailable []time.Duration
	type sent struct {
		at     time.Time
		height int64
	}
	ids := map[[32]byte]sent{}
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
							ids[p.CommandID] = sent{at, r.Height}
							delete(sentAt, keyOf(p.Payload))
						}
					}
				case msg.TopicClusterOutcome, msg.TopicClusterOutcomes:
					for _, o := range msg.OutcomesOf(string(m.Topic), m.Payload) {
						if sc, ok := ids[o.CommandID]; ok {
							lat = append(lat, seen.Sub(sc.at))
							if t, ok := committed.when(sc.height); ok {
								latCommitted = append(latCommitted, t.Sub(sc.at))
							}
							if applied != nil {
								if t, ok := applied.when(sc.height); ok {
									latAvailable = append(latAvailable, t.Sub(sc.at))
								}
							}
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
	stopWatch()
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
	l := latencyOf(lat, res.BlockTimeMs)
	res.P50ms, res.P99ms, res.P50Blocks, res.P99Blocks = l.P50ms, l.P99ms, l.P50Blocks, l.P99Blocks
	res.Committed = latencyOf(latCommitted, res.BlockTimeMs)
	if applied != nil {
		a := latencyOf(latAvailable, res.BlockTimeMs)
		res.Available = &a
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
