package pherry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tee/tdx"
	"github.com/cella-network/cella/internal/tx"
)

// Submitter tuning.
const (
	// submitRoundEvery triggers a round even when no batch was synced (a
	// registration retry must not wait for a block on an idle chain).
	submitRoundEvery = 5 * time.Second
	// registrationWait bounds the wait for a registration's block.
	registrationWait = 90 * time.Second
	// inflightTimeout is how long submitted messages count as on their
	// way; after it, pherry submits again from the chain's next sequence.
	inflightTimeout = 30 * time.Second
	// maxEgressPerRound bounds the submissions of one round (a round runs
	// about once a block; 200 capped a cluster at ~200 outcomes a second,
	// below the 2,000 commands/s target of issue 9).
	maxEgressPerRound = 5000
	// maxNonceRetries bounds the retries of one submission on nonce errors.
	maxNonceRetries = 16
)

// submitter registers the worker and submits its egress, signed by the
// operator, with pipelined nonces. It runs in its own goroutine, so a
// registration waiting for its block does not hold up syncing.
type submitter struct {
	p  *Pherry
	op *keys.Pair

	// book counts the operator's nonces; pherries of several workers with
	// one operator share it (Multi), so that their submissions do not
	// fight over the account's nonces.
	book *nonceBook

	// Registration state.
	regBackoff backoff
	regNext    time.Time // no attempt before
	regAt      int64     // height of the block that registered the worker (0: none)

	// inflight is, per origin, the sequence after the last one submitted.
	inflight map[string]inflight
	// deregistered are the origins the chain refused as deregistered
	// workers (state.CodeMqWorkerDeregistered): pherry stops relaying them
	// (the refusal is final) and logs it once.
	deregistered map[string]bool

	// pcs fetches TDX collateral the pRuntime did not supply (nil: off).
	pcs *tdx.PCSClient
}

type inflight struct {
	next uint64
	at   time.Time
}

// nonceBook is the pipelined nonce of one operator account. Its lock is
// held for a whole submission (sign, send, count), so that the pherries
// sharing an account take its nonces one after another.
type nonceBook struct {
	mu    sync.Mutex
	nonce uint64
	known bool
}

func newSubmitter(p *Pherry) *submitter {
	book := p.nonces
	if book == nil {
		book = &nonceBook{}
	}
	s := &submitter{
		p: p, op: p.cfg.Operator, book: book,
		regBackoff: backoff{min: 5 * time.Second, max: 5 * time.Minute},
		inflight:   make(map[string]inflight),
	}
	if p.cfg.PCSURL != PCSOff {
		s.pcs = tdx.NewPCSClient(p.cfg.PCSURL, &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		}})
		s.pcs.Warn = p.log.Warn
	}
	return s
}

func (s *submitter) run(ctx context.Context) {
	t := time.NewTicker(submitRoundEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.p.kick:
		case <-t.C:
		}
		s.round(ctx)
	}
}

// round registers the worker when due and submits pending egress.
func (s *submitter) round(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	info, err := s.p.pub.Info(cctx, &pruntimev1.InfoRequest{})
	cancel()
	if err != nil || !info.Initialized {
		return // the main loop reports pRuntime failures
	}
	st := s.p.Status()
	if !info.Registered && st.CaughtUp && info.HeaderHeight >= 1 {
		s.maybeRegister(ctx, info)
	}
	if info.Registered {
		s.regAt = 0
		s.regBackoff.reset()
	}
	if err := s.egress(ctx); err != nil && ctx.Err() == nil {
		s.p.m.errors.WithLabelValues(errKindEgress).Inc()
		s.p.log.Warn("egress submission failed; retrying next round", "err", err)
	}
}

// maybeRegister submits registry.register_worker unless a registration is
// on its way or a failed one is backing off.
func (s *submitter) maybeRegister(ctx context.Context, info *pruntimev1.InfoResponse) {
	if time.Now().Before(s.regNext) {
		return
	}
	if s.regAt > 0 && info.Height < s.regAt {
		return // registered on chain; the pRuntime has not applied that block yet
	}
	if s.regAt > 0 {
		s.p.log.Warn("the pRuntime applied its registration block but does not see itself registered; registering again",
			"registered_at", s.regAt, "applied", info.Height)
		s.regAt = 0
	}
	height, err := s.register(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		d := s.regBackoff.next()
		s.regNext = time.Now().Add(d)
		s.p.m.registrations.WithLabelValues("failed").Inc()
		s.p.m.errors.WithLabelValues(errKindRegistration).Inc()
		s.p.log.Error("worker registration failed", "err", err, "retry_in", d.Round(time.Second))
		return
	}
	s.regAt = height
	s.regBackoff.reset()
	s.p.m.registrations.WithLabelValues("ok").Inc()
	s.p.log.Info("worker registered", "height", height, "identity", info.IdentityPublicKey,
		"operator", s.op.Public().String())
}

// register asks the pRuntime for its registration, submits it and waits
// for its block; it returns the block's height.
func (s *submitter) register(ctx context.Context) (int64, error) {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	op := s.op.Public()
	res, err := s.p.rt.Registration(cctx, &pruntimev1.RegistrationRequest{Operator: op[:]})
	cancel()
	if err != nil {
		return 0, pruntimeErr("registration", err)
	}
	var info msg.RegistrationInfo
	if err := scale.Decode(res.Info, &info); err != nil {
		return 0, fmt.Errorf("pRuntime answered a registration that does not decode: %w", err)
	}
	if info.Operator != op {
		return 0, fmt.Errorf("pRuntime registered operator %s, not %s", info.Operator, op)
	}
	att := msg.Attestation{Kind: res.TeeKind, Quote: res.Quote, Collateral: res.Collateral}
	if att.Kind == string(tee.KindTDX) && len(att.Collateral) == 0 {
		if s.pcs == nil {
			s.p.log.Warn("the TDX quote comes without collateral and PCS fetching is off; the chain will refuse it")
		} else {
			col, err := s.pcs.Collateral(ctx, att.Quote)
			if err != nil {
				return 0, fmt.Errorf("fetching the TDX collateral from %s: %w", s.pcs.Base(), err)
			}
			att.Collateral = col
			s.p.log.Info("fetched the TDX collateral", "pcs", s.pcs.Base(), "collateral_bytes", len(col))
		}
	}
	s.p.log.Info("registering the worker", "identity", info.IdentityPublicKey.Hex(), "tee", att.Kind,
		"freshness_block", info.RecentBlock.Height, "quote_bytes", len(att.Quote), "collateral_bytes", len(att.Collateral))
	cctx, cancel = context.WithTimeout(ctx, callTimeout)
	ci, err := s.p.nodeClient().ChainInfo(cctx)
	if err == nil {
		var hash [32]byte
		hash, err = s.submit(cctx, ci, registry.RegisterWorkerCall(info, att))
		cancel()
		if err != nil {
			return 0, err
		}
		wctx, wcancel := context.WithTimeout(ctx, registrationWait)
		defer wcancel()
		r, err := s.p.nodeClient().Wait(wctx, hash)
		if err != nil {
			return 0, fmt.Errorf("waiting for the registration 0x%x: %w", hash, err)
		}
		if !r.OK() {
			if r.Log != "" {
				return 0, fmt.Errorf("registration failed in block %d: %s: %s", r.Height, r.Result, r.Log)
			}
			return 0, fmt.Errorf("registration failed in block %d: %s", r.Height, r.Result)
		}
		return r.Height, nil
	}
	cancel()
	return 0, err
}

// egress submits the pRuntime's egress messages the chain does not have
// yet, as mq.submit transactions.
func (s *submitter) egress(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	res, err := s.p.rt.Egress(cctx, &pruntimev1.EgressRequest{})
	cancel()
	if err != nil {
		return pruntimeErr("egress", err)
	}
	if len(res.Messages) == 0 {
		return nil
	}
	// Group by origin, in the pRuntime's order (sequence order per origin).
	type group struct {
		origin []byte
		msgs   []msg.SignedMessage
	}
	var groups []*group
	byOrigin := map[string]*group{}
	for i, raw := range res.Messages {
		var m msg.SignedMessage
		if err := scale.Decode(raw, &m); err != nil {
			return fmt.Errorf("pRuntime egress message %d does not decode: %w", i, err)
		}
		g := byOrigin[string(m.Message.Origin)]
		if g == nil {
			g = &group{origin: m.Message.Origin}
			byOrigin[string(m.Message.Origin)] = g
			groups = append(groups, g)
		}
		g.msgs = append(g.msgs, m)
	}
	cctx, cancel = context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ci, err := s.p.nodeClient().ChainInfo(cctx)
	if err != nil {
		return err
	}
	// The pRuntime's view of each origin's next sequence (its verified
	// state); one without streams knows only its own origin's.
	seen := make(map[string]uint64, len(res.Streams))
	for _, st := range res.Streams {
		seen[string(st.Origin)] = st.NextChainSequence
	}
	budget := maxEgressPerRound
	for _, g := range groups {
		if s.deregistered[string(g.origin)] {
			continue
		}
		// The chain's committed state is ahead of the pRuntime's view by a
		// block or two; the larger of the two is where to start.
		next, err := s.p.nodeClient().NextSequence(cctx, g.origin)
		if err != nil {
			return err
		}
		if v, ok := seen[string(g.origin)]; ok {
			next = max(next, v)
		} else if len(res.Streams) == 0 {
			next = max(next, res.NextChainSequence)
		}
		start := next
		if fl, ok := s.inflight[string(g.origin)]; ok && fl.next > next && time.Since(fl.at) < inflightTimeout {
			start = fl.next
		}
		want := start
		for _, m := range g.msgs {
			if m.Sequence < want {
				continue // the chain has it, or it is on its way
			}
			if m.Sequence > want || budget == 0 {
				break
			}
			_, err := s.submit(cctx, ci, mq.SubmitCall(m))
			var te *client.TxError
			switch {
			case err == nil:
				s.p.m.egress.Inc()
				budget--
			case errors.As(err, &te) && (te.Code == state.CodeMqReplayedSequence || te.Code == state.CodeMqPendingSequence):
				// Already on chain or in the mempool.
			case errors.As(err, &te) && te.Code == state.CodeMqWorkerDeregistered:
				if s.deregistered == nil {
					s.deregistered = map[string]bool{}
				}
				s.deregistered[string(g.origin)] = true
				s.p.log.Error("the chain refuses this worker's egress: its operator deregistered it; no longer relaying it",
					"origin", originName(g.origin), "log", te.Log)
			default:
				return fmt.Errorf("submitting message %d of %s: %w", m.Sequence, originName(g.origin), err)
			}
			if s.deregistered[string(g.origin)] {
				break
			}
			want = m.Sequence + 1
			s.inflight[string(g.origin)] = inflight{next: want, at: time.Now()}
			s.p.log.Debug("egress submitted", "origin", originName(g.origin), "sequence", m.Sequence,
				"topic", string(m.Message.Topic))
		}
	}
	return nil
}

// submit signs call with the operator's key at the next nonce and sends it
// to the node; it returns the transaction's hash once CheckTx accepted it.
// Nonces are pipelined: pherry counts them itself and re-reads the
// account's nonce only after a nonce error or a lost answer.
func (s *submitter) submit(ctx context.Context, ci *chainapi.ChainInfo, call tx.Call) ([32]byte, error) {
	gh, err := client.ParseHash(ci.GenesisHash)
	if err != nil {
		return [32]byte{}, fmt.Errorf("chain info: genesis hash: %w", err)
	}
	b := s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if !b.known {
			acc, err := s.p.nodeClient().Account(ctx, s.op.Public())
			if err != nil {
				return [32]byte{}, err
			}
			b.nonce, b.known = acc.Nonce, true
		}
		t := tx.Sign(tx.Body{
			Genesis:    gh,
			Nonce:      b.nonce,
			ValidUntil: uint64(max(ci.Height, 0)) + client.DefaultValidity,
			FeeLimit:   client.DefaultFeeLimit,
			Call:       call,
		}, s.op)
		hash, err := s.p.nodeClient().Submit(ctx, t)
		if err == nil {
			b.nonce++
			return hash, nil
		}
		var te *client.TxError
		if !errors.As(err, &te) {
			// Unknown whether the node took it: re-read the nonce next time.
			b.known = false
			return hash, err
		}
		if attempt >= maxNonceRetries {
			return hash, err
		}
		switch te.Code {
		case state.CodeStaleNonce, state.CodeFutureNonce:
			b.known = false
		case state.CodePendingNonce:
			b.nonce++ // taken by one of ours still in the mempool
		default:
			return hash, err
		}
	}
}

func originName(o []byte) string {
	if d, err := msg.ParseOrigin(o); err == nil {
		return d.String()
	}
	return fmt.Sprintf("0x%x", o)
}
