// Package loadgen is Cella's load generator: it funds a set of sender
// accounts, then has them send signed transfers to a node as fast as the node
// accepts them, with pipelined nonces, and measures what the chain commits.
// `cella bench transfers` drives it.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/tx"
)

// Config says what load to make.
type Config struct {
	// Senders is the number of distinct sending accounts (derived as
	// //cella-bench//<i> from the dev phrase).
	Senders int
	// Workers is the number of concurrent submitting connections.
	Workers int
	// Duration is how long to send.
	Duration time.Duration
	// Funder pays the senders' starting balances (a dev account).
	Funder *keys.Pair
	// Progress, when set, receives one line per second.
	Progress io.Writer
}

// Result is what a run measured.
type Result struct {
	Senders        int            `json:"senders"`
	Workers        int            `json:"workers"`
	Submitted      int64          `json:"submitted"`
	Accepted       int64          `json:"accepted"`
	Rejected       map[string]int `json:"rejected,omitempty"`
	FirstHeight    int64          `json:"firstHeight"`
	LastHeight     int64          `json:"lastHeight"`
	Blocks         int64          `json:"blocks"`
	CommittedTxs   int64          `json:"committedTxs"`
	WindowSeconds  float64        `json:"windowSeconds"`
	CommittedTPS   float64        `json:"committedTps"`
	MaxBlockTxs    int            `json:"maxBlockTxs"`
	GeneratorCPU   float64        `json:"generatorCpuShare"` // of all cores, 0..1
	GeneratorCores float64        `json:"generatorCores"`    // cores busy on average
	// Resyncs counts the times a sender took its nonce from the chain
	// again because the node answered future_nonce (its mempool lost the
	// sender's earlier transactions, e.g. in a restart).
	Resyncs int64 `json:"resyncs,omitempty"`
	// Resent counts accepted transactions that reused a nonce accepted
	// before (sent again after a resync).
	Resent int64 `json:"resent,omitempty"`
	// Lost counts accepted transactions that never reached a block: the
	// accepted ones less the senders' committed ones.
	Lost int64 `json:"lost,omitempty"`
	// Outages counts the spans during which the node could not be reached,
	// and DowntimeSeconds adds up their length (first failed call to the
	// next accepted one).
	Outages         int     `json:"outages,omitempty"`
	DowntimeSeconds float64 `json:"downtimeSeconds,omitempty"`
}

// senderURI names the i-th bench sender.
func senderURI(i int) string { return fmt.Sprintf("//cella-bench//%d", i) }

type sender struct {
	pair  *keys.Pair
	nonce uint64 // the next nonce to send
	start uint64 // the account's nonce when the load began
	high  uint64 // one past the highest nonce accepted so far
}

// outages tracks the spans in which the node was unreachable.
type outages struct {
	mu    sync.Mutex
	since time.Time // zero while the node answers
	n     int
	total time.Duration
}

func (o *outages) failed(now time.Time) {
	o.mu.Lock()
	if o.since.IsZero() {
		o.since = now
	}
	o.mu.Unlock()
}

func (o *outages) answered(now time.Time) {
	o.mu.Lock()
	if !o.since.IsZero() {
		o.n++
		o.total += now.Sub(o.since)
		o.since = time.Time{}
	}
	o.mu.Unlock()
}

// Run funds the senders and sends transfers for cfg.Duration.
func Run(ctx context.Context, c *client.Client, cfg Config) (*Result, error) {
	if cfg.Senders < 1 || cfg.Workers < 1 || cfg.Duration <= 0 {
		return nil, errors.New("loadgen: need senders ≥ 1, workers ≥ 1 and a positive duration")
	}
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		return nil, err
	}
	gh, err := client.ParseHash(ci.GenesisHash)
	if err != nil {
		return nil, fmt.Errorf("chain info: %w", err)
	}
	senders := make([]*sender, cfg.Senders)
	for i := range senders {
		p, err := keys.FromURI(senderURI(i))
		if err != nil {
			return nil, err
		}
		senders[i] = &sender{pair: p}
	}
	if err := fund(ctx, c, cfg, gh, senders); err != nil {
		return nil, err
	}

	res := &Result{Senders: cfg.Senders, Workers: cfg.Workers, Rejected: map[string]int{}}
	for _, s := range senders {
		s.start, s.high = s.nonce, s.nonce
	}
	var mu sync.Mutex
	var submitted, accepted, resyncs, resent atomic.Int64
	var down outages
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	startHeight := st.SyncInfo.LatestBlockHeight
	cpu0 := cpuTime()
	wall0 := time.Now()
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Each sender belongs to one worker, so its nonces reach the
			// mempool in order.
			var mine []*sender
			for i := w; i < len(senders); i += cfg.Workers {
				mine = append(mine, senders[i])
			}
			if len(mine) == 0 {
				return
			}
			// One client (and connection pool) per worker.
			wc, err := client.New(c.Addr())
			if err != nil {
				return
			}
			dest := senders[(w+1)%len(senders)].pair.Public()
			failures := 0
			for k := 0; runCtx.Err() == nil; k++ {
				s := mine[k%len(mine)]
				body := tx.Body{
					Version: tx.Version1, Scheme: tx.Sr25519, Signer: s.pair.Public(), Genesis: gh,
					Nonce: s.nonce, FeeLimit: client.DefaultFeeLimit,
					Call: balances.TransferCall(dest, scale.U128From(1)),
				}
				raw := tx.Sign(body, s.pair).Encode()
				r, err := wc.RPC().BroadcastTxSync(runCtx, raw)
				submitted.Add(1)
				if err != nil {
					if runCtx.Err() != nil {
						return
					}
					down.failed(time.Now())
					mu.Lock()
					res.Rejected["rpc: "+shortErr(err)]++
					mu.Unlock()
					// The node may be restarting: wait a little, longer
					// after each failure in a row.
					failures = min(failures+1, 10)
					sleepCtx(runCtx, time.Duration(failures)*20*time.Millisecond)
					continue
				}
				failures = 0
				if r.Code != state.CodeOK {
					mu.Lock()
					res.Rejected[state.CodeName(r.Code)]++
					mu.Unlock()
					switch r.Code {
					case state.CodeStaleNonce, state.CodePendingNonce:
						// The nonce is used, or taken in the mempool: the
						// next one may be free.
						s.nonce++
					case state.CodeFutureNonce:
						// The mempool lost this sender's earlier
						// transactions (a node restart): send again from
						// the committed nonce.
						a, err := wc.Account(runCtx, s.pair.Public())
						if err != nil {
							if runCtx.Err() != nil {
								return
							}
							down.failed(time.Now())
							continue
						}
						if a.Nonce < s.nonce {
							s.nonce = a.Nonce
							resyncs.Add(1)
						}
					}
					continue
				}
				down.answered(time.Now())
				if s.nonce < s.high {
					resent.Add(1)
				} else {
					s.high = s.nonce + 1
				}
				s.nonce++
				accepted.Add(1)
			}
		}(w)
	}
	if cfg.Progress != nil {
		go progress(runCtx, cfg.Progress, &submitted, &accepted)
	}
	wg.Wait()
	wall := time.Since(wall0)
	cpu := cpuTime() - cpu0

	// Let the accepted transactions drain into blocks.
	committed, err := drain(ctx, c, senders)
	if err != nil {
		return nil, err
	}
	res.Submitted, res.Accepted = submitted.Load(), accepted.Load()
	res.Resyncs, res.Resent = resyncs.Load(), resent.Load()
	res.Lost = max(res.Accepted-committed, 0)
	down.answered(time.Now()) // an outage that lasted to the end
	res.Outages, res.DowntimeSeconds = down.n, down.total.Seconds()
	res.GeneratorCores = cpu.Seconds() / wall.Seconds()
	res.GeneratorCPU = res.GeneratorCores / float64(runtime.NumCPU())
	if err := measure(ctx, c, startHeight, res); err != nil {
		return nil, err
	}
	return res, nil
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

func progress(ctx context.Context, w io.Writer, submitted, accepted *atomic.Int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintf(w, "  %3.0fs  submitted %d  accepted %d\n", time.Since(start).Seconds(), submitted.Load(), accepted.Load())
		}
	}
}

// fund gives every sender a balance from the funder, with pipelined nonces,
// and waits until the funder's last transfer is committed.
func fund(ctx context.Context, c *client.Client, cfg Config, gh [32]byte, senders []*sender) error {
	acc, err := c.Account(ctx, cfg.Funder.Public())
	if err != nil {
		return err
	}
	nonce := acc.Nonce
	// 100 tokens each: enough for ~80,000 transfers per sender, and 1,000
	// senders take a tenth of a dev account's balance.
	amount := scale.U128From(100 * state.Unit)
	for i, s := range senders {
		body := tx.Body{
			Version: tx.Version1, Scheme: tx.Sr25519, Signer: cfg.Funder.Public(), Genesis: gh,
			Nonce: nonce, FeeLimit: client.DefaultFeeLimit, Call: balances.TransferCall(s.pair.Public(), amount),
		}
		r, err := c.RPC().BroadcastTxSync(ctx, tx.Sign(body, cfg.Funder).Encode())
		if err != nil {
			return fmt.Errorf("funding sender %d: %w", i, err)
		}
		if r.Code != state.CodeOK {
			return fmt.Errorf("funding sender %d: %s: %s", i, state.CodeName(r.Code), r.Log)
		}
		nonce++
	}
	for {
		a, err := c.Account(ctx, cfg.Funder.Public())
		if err != nil {
			return err
		}
		if a.Nonce >= nonce {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	for i, s := range senders {
		a, err := c.Account(ctx, s.pair.Public())
		if err != nil {
			return err
		}
		if a.Free == "0" {
			return fmt.Errorf("sender %d was not funded (is the funder's balance too low?)", i)
		}
		s.nonce = a.Nonce
	}
	return nil
}

// drain waits until every sender's accepted transactions are committed,
// or are gone from the node's mempool (lost, e.g. in a restart), and
// returns how many of the senders' transactions were committed since the
// load began.
func drain(ctx context.Context, c *client.Client, senders []*sender) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var committed int64
	for _, s := range senders {
		for {
			// The mempool first, then the account: CometBFT removes a
			// transaction from the mempool only after the state that
			// includes it is committed, so a transaction in neither
			// answer is lost.
			mp, err := c.RPC().NumUnconfirmedTxs(ctx)
			if err != nil {
				return 0, fmt.Errorf("waiting for the mempool to drain: %w", err)
			}
			a, err := c.Account(ctx, s.pair.Public())
			if err != nil {
				return 0, err
			}
			if a.Nonce >= s.nonce || mp.Total == 0 {
				committed += int64(a.Nonce - s.start)
				break
			}
			select {
			case <-ctx.Done():
				return 0, fmt.Errorf("waiting for the mempool to drain: %w", ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return committed, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// measure counts the transactions committed after startHeight and the rate
// over the span of block times in which they were committed.
func measure(ctx context.Context, c *client.Client, startHeight int64, res *Result) error {
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	last := st.SyncInfo.LatestBlockHeight
	type blk struct {
		h    int64
		t    time.Time
		ntxs int
	}
	var blocks []blk
	for h := startHeight; h <= last; {
		to := min(h+19, last)
		bc, err := c.RPC().BlockchainInfo(ctx, h, to)
		if err != nil {
			return err
		}
		for _, m := range bc.BlockMetas {
			blocks = append(blocks, blk{m.Header.Height, m.Header.Time, m.NumTxs})
		}
		h = to + 1
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i].h < blocks[j].h })
	// The window runs from the block at startHeight (committed before the
	// load began) to the last block that carried load.
	first, lastLoaded := -1, -1
	for i, b := range blocks {
		if b.h > startHeight && b.ntxs > 0 {
			if first < 0 {
				first = i
			}
			lastLoaded = i
		}
	}
	if first < 0 || blocks[0].h != startHeight {
		return errors.New("no transactions were committed")
	}
	for _, b := range blocks[first : lastLoaded+1] {
		res.CommittedTxs += int64(b.ntxs)
		res.MaxBlockTxs = max(res.MaxBlockTxs, b.ntxs)
	}
	res.FirstHeight, res.LastHeight = blocks[first].h, blocks[lastLoaded].h
	res.Blocks = int64(lastLoaded - first + 1)
	res.WindowSeconds = blocks[lastLoaded].t.Sub(blocks[0].t).Seconds()
	if res.WindowSeconds > 0 {
		res.CommittedTPS = float64(res.CommittedTxs) / res.WindowSeconds
	}
	return nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
