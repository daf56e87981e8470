// Package worker is pRuntime's pure, stepped core, in the style of etcd's
// raft RawNode: the shell (internal/pruntime) verifies and applies blocks
// with internal/chainsync, hands each applied block to Core.Step, and gets
// back a Ready with what the block caused (new egress messages, state
// changes). The core owns no file, socket, clock or random source: its keys
// are given to it, time is the verified header's, and every signature is
// deterministic, so two cores restored from the same snapshot and stepped
// with the same blocks produce identical bytes.
//
// Messages are dispatched by topic to one handler each (Handle); a handler
// may emit messages on any egress stream the core holds. Each stream is one
// origin with its own sequence numbers and signing key: the worker's own
// (its identity key) and one per cluster (the cluster key; counted before
// the core holds it, see gatekeeper.go).
//
// With Options.View the core also takes part in the key hierarchy
// (gatekeeper.go): master key, key shares, cluster keys, contract keys.
package worker

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
)

// Keys are the worker's own keys, made and sealed by the shell.
type Keys struct {
	// Identity names the worker on chain and signs its egress.
	Identity *keys.Pair
	// Ecdh is the sr25519 key whose scalar serves ECDH on ristretto255.
	Ecdh *keys.Pair
}

// Block is one verified, applied block, as chainsync gives it.
type Block struct {
	Height int64
	// TimeUnixNano is verified header Height's time.
	TimeUnixNano int64
	// AppVersion is verified header Height's app version.
	AppVersion uint64
	// Messages are the block's messages, in order.
	Messages []msg.Message
	// State reads the verified state right after the block.
	State state.Store
}

// ChangeKind names a change of the core's state that the shell may act on.
type ChangeKind uint8

// Change kinds. Values are stable (they may appear in logs and tests).
const (
	// ChangeOnline: the worker saw its own registration and announced
	// itself with a worker/online message.
	ChangeOnline ChangeKind = 1
	// ChangeKeys: the core generated or received a key (master key,
	// cluster key). The shell MUST seal a checkpoint (KeysSnapshot)
	// before it releases any egress of the step: a message that names a
	// key (a master public key, a share) must never leave while the key
	// itself could still be lost by a crash.
	ChangeKeys ChangeKind = 2
	// ChangeKeyRefused: a gatekeeper did not send a key to Subject (its
	// attestation does not verify, its measurement is not allowed, it is
	// not registered...); Detail says why. Diagnostic only: the core goes
	// on, and sends the key once the receiver qualifies.
	ChangeKeyRefused ChangeKind = 3
	// ChangeShareRejected: a key share addressed to this worker could not
	// be used (it does not decrypt, or its key does not match the chain's
	// public key); Detail says why. Diagnostic only.
	ChangeShareRejected ChangeKind = 4
	// ChangeClusterState: a cluster's contract state changed; Root is its
	// new state root (see Core.ClusterStates).
	ChangeClusterState ChangeKind = 5
)

// String names the kind.
func (k ChangeKind) String() string {
	switch k {
	case ChangeOnline:
		return "online"
	case ChangeKeys:
		return "keys"
	case ChangeKeyRefused:
		return "key_refused"
	case ChangeShareRejected:
		return "share_rejected"
	case ChangeClusterState:
		return "cluster_state"
	}
	return fmt.Sprintf("change(%d)", uint8(k))
}

// Change is one change of the core's state. It never carries a secret.
type Change struct {
	Kind ChangeKind
	// Height is the block that caused it.
	Height int64
	// Subject is the worker the change concerns, if any.
	Subject keys.PublicKey
	// Cluster is the cluster the change concerns, if any.
	Cluster [32]byte
	// Detail explains a refusal or a rejection.
	Detail string
	// Root is a cluster's new state root (ChangeClusterState).
	Root [32]byte
}

// Ready is what one Step produced.
type Ready struct {
	// Egress holds the messages emitted, in the order they were emitted
	// (within a stream, by sequence). The core keeps them until the chain
	// has accepted them; see Pending.
	Egress []msg.SignedMessage
	// Changes are the state changes, in order.
	Changes []Change
}

// Handler handles one message of a block, routed to it by topic and
// origin. It must be deterministic: it reads only its arguments. A message
// it cannot use (a malformed payload, a record of another worker) it
// ignores; it returns an error only when the core cannot go on (verified
// state that does not decode), and then the whole Step is undone.
type Handler func(ctx *Context, m msg.Message) error

// Context is a handler's view of the block being stepped.
type Context struct {
	// Block is the block being stepped.
	Block *Block
	// Index is the message's position in the block.
	Index int
	core  *Core
	ready *Ready
}

// Core returns the core being stepped.
func (x *Context) Core() *Core { return x.core }

// Emit appends a message with the next sequence to origin's stream, signed
// deterministically by the stream's key.
func (x *Context) Emit(origin []byte, topic string, payload []byte) error {
	s := x.core.stream(origin)
	if s == nil || s.signer == nil {
		return fmt.Errorf("worker: no egress stream for origin %x", origin)
	}
	x.ready.Egress = append(x.ready.Egress, s.emit(topic, payload))
	return nil
}

// Record adds a change to the step's Ready.
func (x *Context) Record(kind ChangeKind) {
	x.ready.Changes = append(x.ready.Changes, Change{Kind: kind, Height: x.Block.Height})
}

func (x *Context) recordChange(ch Change) {
	ch.Height = x.Block.Height
	x.ready.Changes = append(x.ready.Changes, ch)
}

// View returns the chain view of the block's verified state (nil when the
// core has none).
func (x *Context) View() ChainView { return x.core.view }

type route struct {
	origin []byte // nil: any origin
	h      Handler
}

// Core is the worker's state machine. It is not safe for concurrent use;
// the shell serialises calls.
type Core struct {
	keys   Keys
	opts   Options
	height int64 // the last block stepped
	online bool
	// endpointSent is the public URL the core sent or found on chain
	// (not in the snapshot: a restarted core checks the record again).
	endpointSent string
	// devChain is the verified chain's dev-attestation switch as of the
	// block being stepped (ExecEnv.DevChain).
	devChain bool
	// streams are the egress streams, sorted by origin: the worker's own
	// and one per cluster known on chain (signer nil until the core holds
	// the cluster key: the sequence is still tracked).
	streams []*stream
	routes  map[string]route
	// opened holds the block's encrypted commands decrypted ahead
	// (predecrypt), by payload, during a Step.
	opened map[string]opened

	// master is the master key, once generated or received.
	master *masterKey
	// clusterKeys are the cluster keys held, by cluster id.
	clusterKeys map[[32]byte]*clusterKey
	// oldMasters are the master keys of past epochs (a gatekeeper keeps
	// them), by epoch; oldClusterKeys the cluster keys of past epochs, by
	// cluster and epoch (a worker keeps them: old data stays readable, and
	// commands encrypted to an old contract key run within the grace
	// period). rotation.go.
	oldMasters     []*masterKey
	oldClusterKeys map[[32]byte][]*clusterKey
	// rekeyed are the clusters the chain re-keyed in the block being
	// stepped, with the new epoch (msg.TopicClusterRekeyed), answered at
	// its end (publishRotatedKeys).
	rekeyed map[[32]byte]uint32
	// masterSent remembers, for the designated gatekeeper, the gatekeepers
	// it sent the master key to (by the receiver's RegisteredAt): the
	// chain delivers a share but marks the receiver active only when it
	// says it is ready, a round trip later. An entry goes when the
	// receiver is active or no longer a gatekeeper; a re-registered
	// receiver (new keys) is sent the key again.
	masterSent map[keys.PublicKey]uint64
	// view is the current block's chain view, during a Step.
	view ChainView
	// refused remembers the refusals reported (target → detail), so that
	// a receiver that keeps failing is reported once, not every block. It
	// only shapes diagnostics and is not part of the snapshot.
	refused map[string]string

	// clusters is the contract state of each cluster the core executed
	// (or retained inputs for), by id (contracts.go).
	clusters map[[32]byte]*clusterState
	// dirty are the clusters a step changed (their roots are recomputed
	// at its end).
	dirty map[[32]byte]bool
	// batches are the clusters' outcomes of the block being stepped
	// (flushOutcomes).
	batches map[[32]byte]*outcomeBatch
	// undo journals cluster-state changes during a Step (undoing set),
	// to put them back if the step fails.
	undo    []func()
	undoing bool
}

// ErrBlockOrder means a block was stepped out of height order.
var ErrBlockOrder = errors.New("worker: block out of order")

// New returns a core for a worker with keys k whose verified state is at
// height (the genesis state: 0). It holds the worker's own egress stream
// and the built-in handlers.
func New(k Keys, height int64) (*Core, error) { return NewWithOptions(k, height, Options{}) }

// NewWithOptions is New for a core that takes part in the key hierarchy
// (see Options).
func NewWithOptions(k Keys, height int64, o Options) (*Core, error) {
	if k.Identity == nil || k.Ecdh == nil {
		return nil, errors.New("worker: missing keys")
	}
	if height < 0 {
		return nil, fmt.Errorf("worker: negative height %d", height)
	}
	c := &Core{keys: k, opts: o, height: height, routes: map[string]route{},
		clusterKeys: map[[32]byte]*clusterKey{}, refused: map[string]string{},
		oldClusterKeys: map[[32]byte][]*clusterKey{}, rekeyed: map[[32]byte]uint32{},
		masterSent: map[keys.PublicKey]uint64{}, clusters: map[[32]byte]*clusterState{},
		dirty: map[[32]byte]bool{}, batches: map[[32]byte]*outcomeBatch{}}
	c.addStream(msg.OriginWorker(k.Identity.Public()), k.Identity)
	c.registerBuiltins()
	return c, nil
}

// Handle routes messages of topic from origin (nil: any origin) to h. Each
// topic has one handler; registering a topic twice is an error.
func (c *Core) Handle(topic string, origin []byte, h Handler) error {
	if _, dup := c.routes[topic]; dup {
		return fmt.Errorf("worker: topic %q already has a handler", topic)
	}
	c.routes[topic] = route{origin: bytes.Clone(origin), h: h}
	return nil
}

// Height returns the last block stepped.
func (c *Core) Height() int64 { return c.height }

// Identity returns the worker's identity public key.
func (c *Core) Identity() keys.PublicKey { return c.keys.Identity.Public() }

// Ecdh returns the worker's ECDH public key.
func (c *Core) Ecdh() keys.PublicKey { return c.keys.Ecdh.Public() }

// Online reports whether the worker has announced itself.
func (c *Core) Online() bool { return c.online }

// Origin returns the worker's own egress origin.
func (c *Core) Origin() []byte { return msg.OriginWorker(c.keys.Identity.Public()) }

// Step handles block b, which must be the block after Height(): every
// message in order, routed by topic, then forgets the egress the chain
// has accepted by the end of the block. On error the core is unchanged.
func (c *Core) Step(b Block) (Ready, error) {
	if b.Height != c.height+1 {
		return Ready{}, fmt.Errorf("%w: block %d after %d", ErrBlockOrder, b.Height, c.height)
	}
	if b.State == nil {
		return Ready{}, errors.New("worker: block without state")
	}
	undo := c.save()
	c.undo, c.undoing = c.undo[:0], true
	clear(c.batches)
	clear(c.rekeyed)
	defer func() {
		c.undoing = false
		c.undo = c.undo[:0]
		clear(c.dirty)
		clear(c.batches)
		clear(c.rekeyed)
		c.opened = nil
	}()
	var rd Ready
	if c.opts.View != nil {
		c.view = c.opts.View(b.State)
		defer func() { c.view = nil }()
		if dev, _, err := c.view.DevAttestation(); err == nil {
			c.devChain = dev
		}
		if err := c.trackClusters(); err != nil {
			c.restore(undo)
			return Ready{}, fmt.Errorf("worker: block %d: %w", b.Height, err)
		}
	}
	c.predecrypt(&b)
	for i, m := range b.Messages {
		r, ok := c.routes[string(m.Topic)]
		if !ok || (r.origin != nil && !bytes.Equal(r.origin, m.Origin)) {
			continue
		}
		if err := r.h(&Context{Block: &b, Index: i, core: c, ready: &rd}, m); err != nil {
			c.restore(undo)
			return Ready{}, fmt.Errorf("worker: block %d message %d (%q): %w", b.Height, i, m.Topic, err)
		}
	}
	if err := c.blockEnd(&Context{Block: &b, Index: -1, core: c, ready: &rd}); err != nil {
		c.restore(undo)
		return Ready{}, fmt.Errorf("worker: block %d hooks: %w", b.Height, err)
	}
	c.flushOutcomes(&Context{Block: &b, Index: -1, core: c, ready: &rd})
	c.publishRotatedKeys(&Context{Block: &b, Index: -1, core: c, ready: &rd})
	if err := c.prune(b.State); err != nil {
		c.restore(undo)
		return Ready{}, fmt.Errorf("worker: block %d: %w", b.Height, err)
	}
	if c.view != nil {
		if err := c.keysStep(&Context{Block: &b, Index: -1, core: c, ready: &rd}); err != nil {
			c.restore(undo)
			return Ready{}, fmt.Errorf("worker: block %d: %w", b.Height, err)
		}
		if err := c.announceEndpoint(&Context{Block: &b, Index: -1, core: c, ready: &rd}); err != nil {
			c.restore(undo)
			return Ready{}, fmt.Errorf("worker: block %d: %w", b.Height, err)
		}
		if err := c.heartbeat(&Context{Block: &b, Index: -1, core: c, ready: &rd}); err != nil {
			c.restore(undo)
			return Ready{}, fmt.Errorf("worker: block %d: %w", b.Height, err)
		}
	}
	c.pruneAll(b.Height)
	c.updateRoots(&Context{Block: &b, Index: -1, core: c, ready: &rd})
	if c.view != nil {
		if err := c.reportRoots(&Context{Block: &b, Index: -1, core: c, ready: &rd}); err != nil {
			c.restore(undo)
			return Ready{}, fmt.Errorf("worker: block %d: %w", b.Height, err)
		}
	}
	c.height = b.Height
	return rd, nil
}

// saved is what Step may change, to undo a failed step. Streams only grow
// at the end or shrink at the front during a step.
// A step may also add cluster streams, give a stream its signer, and
// learn keys; all are put back.
type saved struct {
	online      bool
	endpoint    string
	list        []*stream
	streams     []streamSaved
	master      *masterKey
	masterSeq   uint64
	clusterKeys map[[32]byte]*clusterKey
	masterSent  map[keys.PublicKey]uint64
	oldMasters  []*masterKey
	oldClusters map[[32]byte][]*clusterKey
}

type streamSaved struct {
	next   uint64
	out    []msg.SignedMessage
	signer *keys.Pair
}

func (c *Core) save() saved {
	s := saved{online: c.online, endpoint: c.endpointSent, list: append([]*stream(nil), c.streams...),
		streams: make([]streamSaved, len(c.streams)), master: c.master,
		clusterKeys: make(map[[32]byte]*clusterKey, len(c.clusterKeys))}
	for i, st := range c.streams {
		s.streams[i] = streamSaved{next: st.nextSeq, out: st.out[:len(st.out):len(st.out)], signer: st.signer}
	}
	if c.master != nil {
		s.masterSeq = c.master.gen.Seq()
	}
	for id, k := range c.clusterKeys {
		s.clusterKeys[id] = k
	}
	s.oldMasters = slices.Clone(c.oldMasters)
	s.oldClusters = make(map[[32]byte][]*clusterKey, len(c.oldClusterKeys))
	for id, ks := range c.oldClusterKeys {
		s.oldClusters[id] = slices.Clone(ks)
	}
	s.masterSent = make(map[keys.PublicKey]uint64, len(c.masterSent))
	for id, h := range c.masterSent {
		s.masterSent[id] = h
	}
	return s
}

func (c *Core) restore(s saved) {
	c.rollbackClusters()
	c.online = s.online
	c.endpointSent = s.endpoint
	c.streams = s.list
	for i, st := range c.streams {
		st.nextSeq, st.out, st.signer = s.streams[i].next, s.streams[i].out, s.streams[i].signer
	}
	c.master = s.master
	if c.master != nil && c.master.gen.Seq() != s.masterSeq {
		c.master.gen = cipher.NewIVGenerator(c.master.pair, s.masterSeq)
	}
	c.clusterKeys = s.clusterKeys
	c.masterSent = s.masterSent
	c.oldMasters, c.oldClusterKeys = s.oldMasters, s.oldClusters
}

func (c *Core) addStream(origin []byte, signer *keys.Pair) {
	c.streams = append(c.streams, &stream{origin: origin, signer: signer})
	sort.Slice(c.streams, func(i, j int) bool { return bytes.Compare(c.streams[i].origin, c.streams[j].origin) < 0 })
}

func (c *Core) stream(origin []byte) *stream {
	for _, s := range c.streams {
		if bytes.Equal(s.origin, origin) {
			return s
		}
	}
	return nil
}

// prune forgets, in every stream, the messages the chain has accepted.
func (c *Core) prune(st state.Store) error {
	for _, s := range c.streams {
		next, err := mq.NextSequence(st, s.origin)
		if err != nil {
			return err
		}
		s.forget(next)
		if s.nextSeq < next && isClusterOrigin(s.origin) {
			// The cluster's other workers emitted messages this core
			// did not count: follow the chain.
			s.nextSeq = next
		}
	}
	return nil
}
