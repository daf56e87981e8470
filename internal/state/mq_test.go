package state_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tx"
)

// TestSubmitArgs: mq.submit's arguments round-trip and are checked
// statically (the message types themselves are tested in internal/msg).
func TestSubmitArgs(t *testing.T) {
	wp := dev(t, "Worker1")
	m := msg.Message{Origin: msg.OriginWorker(wp.Public()), Topic: []byte("t"), Payload: []byte("hello")}
	s := msg.Sign(wp, m, 7)
	args := mq.SubmitCall(s).Args
	back, err := mq.DecodeSubmitArgs(args)
	if err != nil || back.Sequence != 7 || back.Signature != s.Signature || !bytes.Equal(back.Message.Payload, m.Payload) {
		t.Fatalf("%+v %v", back, err)
	}
	bad := map[string][]byte{
		"truncated":   args[:len(args)-1],
		"trailing":    append(bytes.Clone(args), 0),
		"empty topic": mq.SubmitCall(msg.SignedMessage{Message: msg.Message{Origin: m.Origin}}).Args,
		"long topic":  mq.SubmitCall(msg.SignedMessage{Message: msg.Message{Origin: m.Origin, Topic: make([]byte, msg.MaxTopicLen+1)}}).Args,
		"bad origin":  mq.SubmitCall(msg.SignedMessage{Message: msg.Message{Origin: []byte{9}, Topic: []byte("t")}}).Args,
	}
	for name, a := range bad {
		if _, err := mq.DecodeSubmitArgs(a); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// mqChain is a registry chain with Worker1 registered (operated by Alice).
func mqChain(t *testing.T) (*chain, *keys.Pair) {
	t.Helper()
	c := newRegistryChain(t)
	alice, w := dev(t, "Alice"), dev(t, "Worker1")
	info := c.regInfo(w, alice.Public())
	if r := c.block(c.register(alice, 0, info, devAtt(t, info))).TxResults[0]; r.Code != state.CodeOK {
		t.Fatalf("register: %s: %s", state.CodeName(r.Code), r.Log)
	}
	return c, w
}

func (c *chain) submit(from *keys.Pair, nonce uint64, s msg.SignedMessage) []byte {
	return tx.Sign(c.body(from, nonce, mq.SubmitCall(s)), from).Encode()
}

func egress(w *keys.Pair, seq uint64, payload string) msg.SignedMessage {
	return msg.Sign(w, msg.Message{Origin: msg.OriginWorker(w.Public()), Topic: []byte("worker/test"), Payload: []byte(payload)}, seq)
}

func TestSubmit(t *testing.T) {
	c, w := mqChain(t)
	bob := dev(t, "Bob") // anyone may relay and pay
	prev := c.appHash
	res := c.block(c.submit(bob, 0, egress(w, 0, "a")), c.submit(bob, 1, egress(w, 1, "b")))
	for i, r := range res.TxResults {
		if r.Code != state.CodeOK {
			t.Fatalf("tx %d: %s: %s", i, state.CodeName(r.Code), r.Log)
		}
		// The weight grows with the submitted message.
		args := mq.SubmitCall(egress(w, uint64(i), "ab"[i:i+1])).Args
		if want := state.TxBaseWeight + mq.SubmitWeight + mq.SubmitWeightPerByte*uint64(len(args)); r.Weight != want || len(args) < 100 {
			t.Fatalf("weight %d, want %d (%d bytes of arguments)", r.Weight, want, len(args))
		}
	}
	if len(res.Messages) != 2 || string(res.Messages[0].Payload) != "a" || string(res.Messages[1].Payload) != "b" ||
		!bytes.Equal(res.Messages[0].Origin, msg.OriginWorker(w.Public())) {
		t.Fatalf("messages %+v", res.Messages)
	}
	if res.AppHash != state.AppHash(state.AppVersion1, prev, res.WriteSet, res.Messages) || res.AppHash == state.AppHash(state.AppVersion1, prev, res.WriteSet, nil) {
		t.Fatal("AppHash does not commit to the messages")
	}
	if n, err := mq.NextSequence(c.st, msg.OriginWorker(w.Public())); err != nil || n != 2 {
		t.Fatal(n, err)
	}
	// Module messages and egress keep execution order within a block.
	alice, w2 := dev(t, "Alice"), dev(t, "Worker2")
	info := c.regInfo(w2, alice.Public())
	res = c.block(c.submit(bob, 2, egress(w, 2, "c")), c.register(alice, 1, info, devAtt(t, info)), c.submit(bob, 3, egress(w2, 0, "d")))
	if len(res.Messages) != 3 || string(res.Messages[0].Payload) != "c" || string(res.Messages[1].Topic) != msg.TopicWorkerRegistered || string(res.Messages[2].Payload) != "d" {
		t.Fatalf("messages %+v", res.Messages)
	}
}

// TestBadInputOnChain is the on-chain half of the adversarial suite: a
// replayed or gapped egress sequence, a forged message signature, an
// unknown origin (rejections: no effect at all, refused by CheckTx and
// ProcessProposal), and an attestation with wrong report data, a stale
// freshness block, an unknown measurement, a dev quote on a chain that does
// not allow them (call failures: the fee is paid, the registry and mq state
// do not change).
func TestBadInputOnChain(t *testing.T) {
	bob := dev(t, "Bob")
	mallory := dev(t, "Mallory")
	t.Run("mq", func(t *testing.T) {
		c, w := mqChain(t)
		if r := c.block(c.submit(bob, 0, egress(w, 0, "first"))).TxResults[0]; r.Code != state.CodeOK {
			t.Fatal(state.CodeName(r.Code), r.Log)
		}
		forged := egress(w, 1, "forged")
		forged.Signature = mallory.Sign(msg.SigningPayload(&forged.Message, 1))
		tampered := egress(w, 1, "payload")
		tampered.Message.Payload = []byte("tampered")
		cases := []struct {
			name string
			s    msg.SignedMessage
			code uint32
		}{
			{"replayed sequence", egress(w, 0, "first"), state.CodeMqReplayedSequence},
			{"replayed sequence, new payload", egress(w, 0, "other"), state.CodeMqReplayedSequence},
			{"gapped sequence", egress(w, 2, "gap"), state.CodeMqGappedSequence},
			{"forged signature", forged, state.CodeMqBadSignature},
			{"tampered payload", tampered, state.CodeMqBadSignature},
			{"unregistered worker", egress(mallory, 0, "x"), state.CodeMqUnknownOrigin},
			{"module origin", msg.Sign(mallory, msg.Message{Origin: msg.OriginModule(msg.RegistryModuleName), Topic: []byte(msg.TopicWorkerRegistered), Payload: []byte("fake")}, 0), state.CodeMqUnknownOrigin},
		}
		hashes := chainHashes{upTo: c.height}
		for _, x := range cases {
			t.Run(x.name, func(t *testing.T) {
				raw := c.submit(bob, 1, x.s)
				if cr := c.m.CheckTx(c.st, c.height+1, raw, nil, hashes); cr.Code != x.code || cr.Log == "" {
					t.Fatalf("CheckTx: %s (%s), want %s", state.CodeName(cr.Code), cr.Log, state.CodeName(x.code))
				}
				if err := c.m.CheckProposal(c.st, c.header(), [][]byte{raw}); !errors.Is(err, state.ErrInvalidProposal) {
					t.Fatalf("CheckProposal: %v", err)
				}
				if kept := c.m.ProposalTxs(c.st, c.header(), [][]byte{raw}, -1); len(kept) != 0 {
					t.Fatal("ProposalTxs kept it")
				}
				before, snapshot := c.appHash, c.st.Dump()
				res := c.block(raw)
				if r := res.TxResults[0]; r.Code != x.code || !r.Fee.IsZero() || r.Data != nil {
					t.Fatalf("block: %s (%s) fee %s", state.CodeName(r.Code), r.Log, r.Fee)
				}
				if len(res.WriteSet) != 0 || len(res.Messages) != 0 || res.AppHash != before {
					t.Fatal("a rejected message changed the chain")
				}
				if after := c.st.Dump(); len(after) != len(snapshot) {
					t.Fatal("state changed")
				}
				c.height-- // keep the chain where it was for the next case
			})
		}
		// The good next message still goes through.
		if r := c.block(c.submit(bob, 1, egress(w, 1, "second"))).TxResults[0]; r.Code != state.CodeOK {
			t.Fatal(state.CodeName(r.Code), r.Log)
		}
	})
	t.Run("registry", func(t *testing.T) {
		alice, w := dev(t, "Alice"), dev(t, "Worker1")
		cases := []struct {
			name string
			gen  func(g *state.Genesis)
			info func(c *chain) msg.RegistrationInfo
			att  func(c *chain, i msg.RegistrationInfo) msg.Attestation
			code uint32
		}{
			{"attestation with wrong report data", nil, nil, func(c *chain, i msg.RegistrationInfo) msg.Attestation {
				i.EcdhPublicKey[0] ^= 1 // the quote binds other keys than the registered ones
				return devAtt(t, i)
			}, state.CodeReportDataMismatch},
			{"stale freshness block", nil, func(c *chain) msg.RegistrationInfo {
				c.height = 2 * registry.FreshnessWindow
				i := c.regInfo(w, alice.Public())
				i.RecentBlock = c.ref(registry.FreshnessWindow - 1)
				return i
			}, nil, state.CodeStaleFreshness},
			{"unknown measurement", nil, nil, func(c *chain, i msg.RegistrationInfo) msg.Attestation {
				return msg.Attestation{Kind: string(tee.KindDev), Quote: devQuote(devRoot(t), []byte("evil pruntime"), i.ReportData())}
			}, state.CodeUnknownMeasurement},
			{"dev quote on a chain that does not allow them", func(g *state.Genesis) {
				g.App.Dev, g.App.DevBootstrap = false, false
				g.App.Registry.AllowDevAttestation = false
			}, nil, nil, state.CodeDevAttestationDisallowed},
		}
		for _, x := range cases {
			t.Run(x.name, func(t *testing.T) {
				var c *chain
				if x.gen != nil {
					c = newRegistryChain(t, x.gen)
				} else {
					c = newRegistryChain(t)
				}
				info := c.regInfo(w, alice.Public())
				if x.info != nil {
					info = x.info(c)
				}
				att := devAtt(t, info)
				if x.att != nil {
					att = x.att(c, info)
				}
				snapshot := c.st.Dump()
				res := c.block(c.register(alice, 0, info, att))
				r := res.TxResults[0]
				if r.Code != x.code || r.Log == "" {
					t.Fatalf("%s (%s), want %s", state.CodeName(r.Code), r.Log, state.CodeName(x.code))
				}
				if registryKeysWritten(res.WriteSet) || len(res.Messages) != 0 {
					t.Fatal("registry or mq state changed")
				}
				// Only the fee payer's and the treasury's accounts changed.
				for _, wr := range res.WriteSet {
					if !bytes.HasPrefix(wr.Key, state.PrefixAccount) {
						t.Fatalf("unexpected write %q", wr.Key)
					}
				}
				if len(res.WriteSet) != 2 {
					t.Fatalf("%d writes", len(res.WriteSet))
				}
				for _, kv := range snapshot {
					if bytes.HasPrefix(kv.Key, []byte("registry/")) {
						if v, _ := c.st.Get(kv.Key); !bytes.Equal(v, kv.Value) {
							t.Fatalf("%q changed", kv.Key)
						}
					}
				}
				if ws, _ := registry.ListWorkers(c.st); len(ws) != 0 {
					t.Fatal("a worker was registered")
				}
			})
		}
	})
}

// pendingSeqs implements PendingNonces and PendingSequences.
type pendingSeqs struct {
	pendingMap
	seqs map[string]uint64
}

func (p pendingSeqs) NextSequence(origin []byte) (uint64, bool) {
	n, ok := p.seqs[string(origin)]
	return n, ok
}

// TestSubmitCheckTxPending: a relayer may queue several messages of one
// origin; CheckTx follows the mempool's pending sequences.
func TestSubmitCheckTxPending(t *testing.T) {
	c, w := mqChain(t)
	bob := dev(t, "Bob")
	origin := msg.OriginWorker(w.Public())
	p := pendingSeqs{pendingMap: pendingMap{}, seqs: map[string]uint64{}}
	cr := c.m.CheckTx(c.st, c.height+1, c.submit(bob, 0, egress(w, 0, "a")), p, nil)
	if cr.Code != state.CodeOK || !bytes.Equal(cr.MqOrigin, origin) || cr.MqSequence != 0 {
		t.Fatalf("%s: %s %x %d", state.CodeName(cr.Code), cr.Log, cr.MqOrigin, cr.MqSequence)
	}
	p.pendingMap[bob.Public()] = 1
	p.seqs[string(origin)] = 1
	for _, x := range []struct {
		seq  uint64
		code uint32
	}{{1, state.CodeOK}, {0, state.CodeMqPendingSequence}, {2, state.CodeMqGappedSequence}} {
		if cr := c.m.CheckTx(c.st, c.height+1, c.submit(bob, 1, egress(w, x.seq, "b")), p, nil); cr.Code != x.code {
			t.Fatalf("seq %d: %s (%s), want %s", x.seq, state.CodeName(cr.Code), cr.Log, state.CodeName(x.code))
		}
	}
	// Without a PendingSequences view the committed sequence rules.
	if cr := c.m.CheckTx(c.st, c.height+1, c.submit(bob, 1, egress(w, 1, "b")), p.pendingMap, nil); cr.Code != state.CodeMqGappedSequence {
		t.Fatalf("%s", state.CodeName(cr.Code))
	}
	// Once committed, the old sequence is a replay.
	c.block(c.submit(bob, 0, egress(w, 0, "a")))
	if cr := c.m.CheckTx(c.st, c.height+1, c.submit(bob, 1, egress(w, 0, "a")), p, nil); cr.Code != state.CodeMqReplayedSequence {
		t.Fatalf("%s", state.CodeName(cr.Code))
	}
}

// TestSubmitSigCache: a message signature verified once is not verified
// again (CheckTx, proposal and block share the cache), and a cached entry
// of one worker does not vouch for another's message.
func TestSubmitSigCache(t *testing.T) {
	cache := state.NewSigCache(64)
	c := newRegistryChain(t)
	m, err := modules.NewMachine(c.m.Genesis(), state.WithSigCache(cache), state.WithAttestationVerifier(testVerifier{devLikeVerifier{root: state.DevAttestationRoot()}}))
	if err != nil {
		t.Fatal(err)
	}
	c.m = m
	alice, w := dev(t, "Alice"), dev(t, "Worker1")
	info := c.regInfo(w, alice.Public())
	c.block(c.register(alice, 0, info, devAtt(t, info)))
	s := egress(w, 0, "a")
	if cr := c.m.CheckTx(c.st, c.height+1, c.submit(alice, 1, s), nil, nil); cr.Code != state.CodeOK {
		t.Fatal(state.CodeName(cr.Code), cr.Log)
	}
	if !cache.Contains(mq.SigCacheKey(&s, w.Public())) {
		t.Fatal("valid message signature not cached")
	}
	if mq.SigCacheKey(&s, w.Public()) == mq.SigCacheKey(&s, alice.Public()) {
		t.Fatal("cache key ignores the signer")
	}
	bad := s
	bad.Signature[0] ^= 1
	c.m.CheckTx(c.st, c.height+1, c.submit(alice, 1, bad), nil, nil)
	if cache.Contains(mq.SigCacheKey(&bad, w.Public())) {
		t.Fatal("invalid signature cached")
	}
}

// TestSubmitMaxArgs: an mq.submit above mq.MaxSubmitArgs is bad arguments
// (rejected, nothing written), one just below it is judged as usual.
func TestSubmitMaxArgs(t *testing.T) {
	c, w := mqChain(t)
	bob := dev(t, "Bob")
	small := len(mq.SubmitCall(egress(w, 0, "")).Args)
	// The payload's compact length grows from 1 to 4 bytes: 3 fewer.
	over := egress(w, 0, string(make([]byte, mq.MaxSubmitArgs-small+1-3)))
	if n := len(mq.SubmitCall(over).Args); n != mq.MaxSubmitArgs+1 {
		t.Fatalf("arguments of %d bytes", n)
	}
	res := c.block(c.submit(bob, 0, over))
	if r := res.TxResults[0]; r.Code != state.CodeBadArgs || len(res.WriteSet) != 0 {
		t.Fatalf("%s: %s (%d writes)", state.CodeName(r.Code), r.Log, len(res.WriteSet))
	}
	fits := egress(w, 0, string(make([]byte, mq.MaxSubmitArgs-small-8)))
	body := c.body(bob, 0, mq.SubmitCall(fits))
	body.FeeLimit = u(10 * state.Unit)
	if r := c.block(tx.Sign(body, bob).Encode()).TxResults[0]; r.Code != state.CodeOK {
		t.Fatalf("%s: %s", state.CodeName(r.Code), r.Log)
	}
}
