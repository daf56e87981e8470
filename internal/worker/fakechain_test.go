package worker

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tee"
)

// fakeChain is a small in-memory stand-in for the chain's gatekeeper,
// phat and registry modules: it answers ChainView from plain fields and
// applies submitted egress with the chain's rules (sequence, signature,
// the topic's checks), returning what the chain would deliver.
type fakeChain struct {
	st         *state.MemStore
	gks        []Gatekeeper
	master     *MasterRecord
	clusters   map[[32]byte]*Cluster
	workers    map[keys.PublicKey]msg.WorkerRecord
	allowed    [][32]byte
	devAllowed bool
	devRoot    keys.PublicKey
	contracts  map[[32]byte]keys.PublicKey
	codes      map[[32]byte]fakeCode
	// outcomes counts the cluster/outcome messages accepted, by command id.
	outcomes map[[32]byte]int
	// refused counts the messages that landed but were refused.
	refused int
	viewErr error
	// liveness is the chain's liveness parameters (zero: off, so that
	// tests not about liveness see no heartbeat); height is the block
	// the submitted egress lands in; lastSeen and dereg are the
	// registry's liveness records.
	liveness registry.Liveness
	height   uint64
	lastSeen map[keys.PublicKey]uint64
	dereg    map[keys.PublicKey]uint64
	// rotation is the rotation in progress; epochs the clusters' key
	// histories; grace the key grace period; rekeyed the phat/rekeyed
	// notices of the last submission round (delivered with it).
	rotation *Rotation
	history  []MasterRecord
	epochs   map[[32]byte][]ClusterEpoch
	grace    uint32
	rekeyed  []msg.Message
	// clusterErr fails Cluster only (called late in a gatekeeper's step).
	clusterErr error
}

var goodCode = [32]byte{0xc0, 0xde}

func newFakeChain() *fakeChain {
	return &fakeChain{st: state.NewMemStore(), clusters: map[[32]byte]*Cluster{},
		workers: map[keys.PublicKey]msg.WorkerRecord{}, contracts: map[[32]byte]keys.PublicKey{},
		codes: map[[32]byte]fakeCode{}, outcomes: map[[32]byte]int{}, epochs: map[[32]byte][]ClusterEpoch{}, grace: 100,
		lastSeen: map[keys.PublicKey]uint64{}, dereg: map[keys.PublicKey]uint64{},
		devAllowed: true, devRoot: keys.PublicKey{0xd0}, allowed: [][32]byte{tee.NewDevMeasurement(goodCode).Hash()}}
}

func (f *fakeChain) view(state.Store) ChainView { return fakeView{f} }

// fakeQuote is the fake dev quote: code hash ‖ report data ‖ dev root.
func fakeQuote(code [32]byte, info msg.RegistrationInfo, root keys.PublicKey) []byte {
	rd := info.ReportData()
	return append(append(code[:], rd[:]...), root[:]...)
}

// register records a worker with an attestation of code.
func (f *fakeChain) register(k Keys, code [32]byte) {
	info := msg.RegistrationInfo{IdentityPublicKey: k.Identity.Public(), EcdhPublicKey: k.Ecdh.Public(), TeeKind: "dev"}
	f.workers[k.Identity.Public()] = msg.WorkerRecord{Info: info, Attestation: msg.Attestation{Kind: "dev", Quote: fakeQuote(code, info, f.devRoot)}}
}

func (f *fakeChain) addGatekeeper(id keys.PublicKey) {
	f.gks = append(f.gks, Gatekeeper{Identity: id})
	sort.Slice(f.gks, func(i, j int) bool { return bytes.Compare(f.gks[i].Identity[:], f.gks[j].Identity[:]) < 0 })
}

func (f *fakeChain) gk(id keys.PublicKey) *Gatekeeper {
	for i := range f.gks {
		if f.gks[i].Identity == id {
			return &f.gks[i]
		}
	}
	return nil
}

func sortKeys(ks []keys.PublicKey) {
	sort.Slice(ks, func(i, j int) bool { return bytes.Compare(ks[i][:], ks[j][:]) < 0 })
}

func (f *fakeChain) addCluster(id [32]byte, workers ...keys.PublicKey) {
	ws := append([]keys.PublicKey(nil), workers...)
	sortKeys(ws)
	f.clusters[id] = &Cluster{ID: id, Workers: ws}
}

func (f *fakeChain) addClusterWorker(id [32]byte, w keys.PublicKey) {
	cl := f.clusters[id]
	cl.Workers = append(cl.Workers, w)
	sortKeys(cl.Workers)
}

// submit applies one signed message as mq.submit and the topic's handler
// would; ok reports whether it was delivered.
func (f *fakeChain) submit(sm msg.SignedMessage) (msg.Message, bool) {
	origin := sm.Message.Origin
	next, err := mq.NextSequence(f.st, origin)
	if err != nil || sm.Sequence != next {
		return msg.Message{}, false
	}
	var signer keys.PublicKey
	switch {
	case len(origin) == 33 && origin[0] == msg.OriginKindWorker:
		copy(signer[:], origin[1:])
		if _, gone := f.dereg[signer]; gone {
			return msg.Message{}, false // mq: CodeMqWorkerDeregistered
		}
	case isClusterOrigin(origin):
		var id [32]byte
		copy(id[:], origin[1:])
		cl := f.clusters[id]
		if cl == nil || !cl.HasPubkey {
			return msg.Message{}, false
		}
		signer = cl.Pubkey
		if es := f.epochs[id]; !sm.Verify(signer) && len(es) >= 2 {
			signer = es[len(es)-2].Pubkey // a rotated cluster's previous key
		}
	default:
		return msg.Message{}, false
	}
	if !sm.Verify(signer) {
		return msg.Message{}, false
	}
	setNext(f.st, origin, next+1)
	if !f.accept(signer, sm.Message) {
		f.refused++
		return msg.Message{}, false
	}
	return sm.Message, true
}

func (f *fakeChain) accept(sender keys.PublicKey, m msg.Message) bool {
	switch string(m.Topic) {
	case msg.TopicMasterPubkey:
		var p msg.MasterPubkey
		g := f.gk(sender)
		if scale.Decode(m.Payload, &p) != nil || g == nil {
			return false
		}
		if f.master != nil {
			r := f.rotation
			if r == nil || r.Generator != sender || p.Epoch != r.Epoch || f.master.Epoch+1 != r.Epoch {
				return false
			}
			f.master = &MasterRecord{Epoch: p.Epoch, Pubkey: p.Pubkey}
			f.history = append(f.history, *f.master)
			for i := range f.gks {
				f.gks[i].Active = f.gks[i].Identity == sender
			}
			f.finishRotation()
			return true
		}
		if p.Epoch != 0 {
			return false
		}
		f.master = &MasterRecord{Epoch: 0, Pubkey: p.Pubkey}
		f.history = []MasterRecord{*f.master}
		g.Active = true
	case msg.TopicMasterKeyShare:
		var p msg.MasterKeyShare
		g := f.gk(sender)
		if scale.Decode(m.Payload, &p) != nil || g == nil || !g.Active {
			return false
		}
		if r := f.gk(p.Receiver); r == nil || r.Active {
			return false
		}
	case msg.TopicGatekeeperReady:
		var p msg.GatekeeperReady
		g := f.gk(sender)
		if scale.Decode(m.Payload, &p) != nil || g == nil || f.master == nil || p.Pubkey != f.master.Pubkey {
			return false
		}
		g.Active = true
		f.finishRotation()
	case msg.TopicClusterKeys:
		var p msg.ClusterKeyShares
		g := f.gk(sender)
		if scale.Decode(m.Payload, &p) != nil || g == nil || !g.Active {
			return false
		}
		cl := f.clusters[p.Cluster]
		if cl == nil || f.master == nil || p.Epoch != f.master.Epoch {
			return false
		}
		if cl.HasPubkey && p.Epoch > cl.Epoch {
			es := f.epochs[p.Cluster]
			if len(es) == 0 {
				es = []ClusterEpoch{{Epoch: cl.Epoch, Pubkey: cl.Pubkey}}
			}
			f.epochs[p.Cluster] = append(es, ClusterEpoch{Epoch: p.Epoch, Pubkey: p.Pubkey, Height: uint64(f.height), Grace: f.grace})
			cl.Pubkey, cl.Epoch, cl.Keyed = p.Pubkey, p.Epoch, nil
			f.rekeyed = append(f.rekeyed, msg.Message{Origin: msg.OriginModule(msg.PhatModuleName), Topic: []byte(msg.TopicClusterRekeyed),
				Payload: scale.Encode(&msg.ClusterRekeyed{Cluster: p.Cluster, Epoch: p.Epoch})})
		}
		if cl.HasPubkey && cl.Pubkey != p.Pubkey {
			return false
		}
		for _, s := range p.Shares {
			if !containsKey(cl.Workers, s.Worker) {
				return false
			}
		}
		cl.Pubkey, cl.HasPubkey, cl.Epoch = p.Pubkey, true, p.Epoch
		for _, s := range p.Shares {
			if !containsKey(cl.Keyed, s.Worker) {
				cl.Keyed = append(cl.Keyed, s.Worker)
			}
		}
		sortKeys(cl.Keyed)
	case msg.TopicWorkerHeartbeat:
		var p msg.HeartbeatPayload
		if _, ok := f.workers[sender]; !ok || scale.Decode(m.Payload, &p) != nil || p.Height == 0 || p.Height > f.height {
			return false
		}
		f.lastSeen[sender] = f.height
	case msg.TopicContractKey:
		var p msg.ContractKey
		if scale.Decode(m.Payload, &p) != nil {
			return false
		}
		f.contracts[p.Contract] = p.Pubkey
	case msg.TopicContractKeys:
		var p msg.ContractKeys
		if scale.Decode(m.Payload, &p) != nil {
			return false
		}
		for _, k := range p.Keys {
			f.contracts[k.Contract] = k.Pubkey
		}
	case msg.TopicClusterOutcome, msg.TopicClusterOutcomes:
		os := msg.OutcomesOf(string(m.Topic), m.Payload)
		if os == nil {
			return false
		}
		for _, p := range os {
			f.outcomes[p.CommandID]++
		}
	}
	return true
}

func containsKey(ks []keys.PublicKey, k keys.PublicKey) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// finishRotation ends the rotation once every gatekeeper holds its key.
func (f *fakeChain) finishRotation() {
	if f.rotation == nil || f.master == nil || f.master.Epoch != f.rotation.Epoch {
		return
	}
	for _, g := range f.gks {
		if !g.Active {
			return
		}
	}
	f.rotation = nil
}

// rotate starts a rotation as gatekeeper.rotate_master_key does.
func (f *fakeChain) rotate() bool {
	if f.rotation != nil || f.master == nil {
		return false
	}
	for _, g := range f.gks {
		if g.Active {
			f.rotation = &Rotation{Epoch: f.master.Epoch + 1, Generator: g.Identity}
			return true
		}
	}
	return false
}

type fakeView struct{ f *fakeChain }

func (v fakeView) Rotation() (Rotation, bool, error) {
	if v.f.rotation == nil {
		return Rotation{}, false, v.f.viewErr
	}
	return *v.f.rotation, true, v.f.viewErr
}

func (v fakeView) KeyGrace() (uint32, error) { return v.f.grace, v.f.viewErr }

func (v fakeView) MasterEpochs() ([]MasterRecord, error) {
	return append([]MasterRecord(nil), v.f.history...), v.f.viewErr
}

func (v fakeView) ClusterEpochs(id [32]byte) ([]ClusterEpoch, error) {
	return append([]ClusterEpoch(nil), v.f.epochs[id]...), v.f.viewErr
}

func (v fakeView) Gatekeepers() ([]Gatekeeper, error) {
	return append([]Gatekeeper(nil), v.f.gks...), v.f.viewErr
}

func (v fakeView) MasterKey() (MasterRecord, bool, error) {
	if v.f.master == nil {
		return MasterRecord{}, false, v.f.viewErr
	}
	return *v.f.master, true, v.f.viewErr
}

func (v fakeView) ClusterIDs() ([][32]byte, error) {
	var ids [][32]byte
	for id := range v.f.clusters {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	return ids, v.f.viewErr
}

func (v fakeView) Cluster(id [32]byte) (Cluster, bool, error) {
	if v.f.clusterErr != nil {
		return Cluster{}, false, v.f.clusterErr
	}
	cl := v.f.clusters[id]
	if cl == nil {
		return Cluster{}, false, v.f.viewErr
	}
	out := *cl
	out.Workers = append([]keys.PublicKey(nil), cl.Workers...)
	out.Keyed = append([]keys.PublicKey(nil), cl.Keyed...)
	return out, true, v.f.viewErr
}

func (v fakeView) Worker(id keys.PublicKey) (msg.WorkerRecord, bool, error) {
	rec, ok := v.f.workers[id]
	return rec, ok, v.f.viewErr
}

func (v fakeView) AllowedMeasurements() ([][32]byte, error) {
	return append([][32]byte(nil), v.f.allowed...), v.f.viewErr
}

func (v fakeView) DevAttestation() (bool, keys.PublicKey, error) {
	return v.f.devAllowed, v.f.devRoot, v.f.viewErr
}

// fakeVerifier checks fakeQuote: the report data and the dev root must
// match; the measurement is the dev measurement of the code hash.
type fakeVerifier struct{ calls int }

func (v *fakeVerifier) Verify(att msg.Attestation, rd [64]byte, _ int64, devRoot *keys.PublicKey) (tee.Measurement, error) {
	v.calls++
	q := att.Quote
	if att.Kind != "dev" || devRoot == nil {
		return tee.Measurement{}, tee.ErrUnknownKind
	}
	if len(q) != 32+64+32 {
		return tee.Measurement{}, errors.New("fake quote: bad length")
	}
	if !bytes.Equal(q[32:96], rd[:]) {
		return tee.Measurement{}, tee.ErrReportDataMismatch
	}
	if !bytes.Equal(q[96:], devRoot[:]) {
		return tee.Measurement{}, errors.New("fake quote: not signed by the dev root")
	}
	var code [32]byte
	copy(code[:], q[:32])
	return tee.NewDevMeasurement(code), nil
}

// entropy is a fixed, endless entropy source.
type entropy struct {
	seed byte
	n    uint64
}

func (e *entropy) Read(b []byte) (int, error) {
	for i := range b {
		h := hashing.Blake2b256([]byte{e.seed}, []byte(fmt.Sprint(e.n)))
		b[i] = h[0]
		e.n++
	}
	return len(b), nil
}

// node is one worker in a fake network.
type node struct {
	k  Keys
	c  *Core
	rd Ready
}

func newNode(t *testing.T, f *fakeChain, seed byte) *node {
	t.Helper()
	k := testKeys(seed)
	c, err := NewWithOptions(k, 0, Options{View: f.view, Verifier: &fakeVerifier{}, Entropy: &entropy{seed: seed}})
	if err != nil {
		t.Fatal(err)
	}
	return &node{k: k, c: c}
}

func (n *node) id() keys.PublicKey { return n.k.Identity.Public() }

// net steps nodes block by block; each block delivers what the previous
// one's egress made the chain accept (in node order).
type net struct {
	t      *testing.T
	f      *fakeChain
	nodes  []*node
	height int64
	// inbox is delivered in the next block.
	inbox []msg.Message
	// hold: egress is not submitted (still in flight).
	hold bool
	// extra messages for the next block (e.g. test triggers).
	extra []msg.Message
}

func (n *net) step() {
	n.t.Helper()
	n.height++
	msgs := append(n.inbox, n.extra...)
	n.inbox, n.extra = nil, nil
	var out []msg.SignedMessage
	for _, nd := range n.nodes {
		if nd.c.Height() != n.height-1 {
			continue // a node that joined late
		}
		rd, err := nd.c.Step(block(n.height, n.f.st, msgs...))
		if err != nil {
			n.t.Fatalf("node %s step %d: %v", nd.id().Hex(), n.height, err)
		}
		nd.rd = rd
		out = append(out, rd.Egress...)
	}
	if n.hold {
		return
	}
	n.f.height = uint64(n.height) + 1 // the egress lands in the next block
	for _, sm := range out {
		if m, ok := n.f.submit(sm); ok {
			n.inbox = append(n.inbox, m)
		}
	}
	// The chain's module messages come before the delivered ones.
	n.inbox = append(n.f.rekeyed, n.inbox...)
	n.f.rekeyed = nil
}

func (n *net) run(blocks int) {
	n.t.Helper()
	for i := 0; i < blocks; i++ {
		n.step()
	}
}

func topics(ms []msg.SignedMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Message.Topic))
	}
	return out
}

func hasChange(rd Ready, k ChangeKind) *Change {
	for i := range rd.Changes {
		if rd.Changes[i].Kind == k {
			return &rd.Changes[i]
		}
	}
	return nil
}

// Code answers from the fake chain's uploaded code (all in every cluster).
func (v fakeView) Code(cluster, hash [32]byte) (uint8, []byte, bool, error) {
	c, ok := v.f.codes[hash]
	if !ok {
		return 0, nil, false, v.f.viewErr
	}
	return c.kind, c.code, true, v.f.viewErr
}

type fakeCode struct {
	kind uint8
	code []byte
}

func (v fakeView) Liveness() (registry.Liveness, error) { return v.f.liveness, v.f.viewErr }

func (v fakeView) WorkerLiveness(id keys.PublicKey) (registry.WorkerLiveness, error) {
	rec, ok := v.f.workers[id]
	if !ok {
		return registry.WorkerLiveness{}, v.f.viewErr
	}
	at, gone := v.f.dereg[id]
	hb := v.f.lastSeen[id]
	return registry.WorkerLiveness{LastSeen: max(rec.RegisteredAt, hb), LastHeartbeat: hb, Deregistered: gone, DeregisteredAt: at}, v.f.viewErr
}
