package pink

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/scale"
)

// PinkEventTopic marks a pink event: the only topic of a contract event whose
// data is a SCALE PinkEvent. It is ink!'s topic of the value
// b"phala.pink.event" as &[u8]: the SCALE encoding (compact length 16 =
// 0x40, then the 16 bytes) is 17 bytes, under 32, so it is zero-padded
// rather than hashed (Phala's snapshot pink__tests__event_topics.snap).
var PinkEventTopic = func() (h engine.Hash) {
	h[0] = 0x40
	copy(h[1:], "phala.pink.event")
	return h
}()

// PinkEventKind is the SCALE index of a PinkEvent variant
// (crates/pink/pink/src/lib.rs).
type PinkEventKind uint8

// The PinkEvent variants.
const (
	EventSetHook           PinkEventKind = 2
	EventDeploySidevmTo    PinkEventKind = 3
	EventSidevmMessage     PinkEventKind = 4
	EventCacheOp           PinkEventKind = 5
	EventStopSidevm        PinkEventKind = 6
	EventForceStopSidevm   PinkEventKind = 7
	EventSetLogHandler     PinkEventKind = 8
	EventSetContractWeight PinkEventKind = 9
	EventUpgradeRuntimeTo  PinkEventKind = 10
	EventSidevmOperation   PinkEventKind = 11
	EventSetJsRuntime      PinkEventKind = 12
)

var pinkEventNames = map[PinkEventKind]string{
	EventSetHook: "SetHook", EventDeploySidevmTo: "DeploySidevmTo",
	EventSidevmMessage: "SidevmMessage", EventCacheOp: "CacheOp",
	EventStopSidevm: "StopSidevm", EventForceStopSidevm: "ForceStopSidevm",
	EventSetLogHandler: "SetLogHandler", EventSetContractWeight: "SetContractWeight",
	EventUpgradeRuntimeTo: "UpgradeRuntimeTo", EventSidevmOperation: "SidevmOperation",
	EventSetJsRuntime: "SetJsRuntime",
}

// String returns Phala's name of the variant.
func (k PinkEventKind) String() string {
	if n, ok := pinkEventNames[k]; ok {
		return n
	}
	return fmt.Sprintf("PinkEvent(%d)", uint8(k))
}

// HookPoint is Phala's HookPoint; OnBlockEnd (0) is its only variant.
type HookPoint uint8

// HookOnBlockEnd calls the hook at the end of each block.
const HookOnBlockEnd HookPoint = 0

// SetHook is PinkEvent::SetHook: call selector on contract with gas_limit at
// every hook point.
type SetHook struct {
	Hook     HookPoint
	Contract engine.AccountID
	Selector uint32
	GasLimit uint64
}

// PinkEvent is a decoded pink event. SetHook and CacheOp carry their
// fields; the other variants are identified by Kind only (their encoding is
// still checked), so that the caller can refuse them with a logged reason.
type PinkEvent struct {
	Kind    PinkEventKind
	SetHook *SetHook // Kind == EventSetHook
	CacheOp *CacheOp // Kind == EventCacheOp
}

// Name is Phala's name of the event's variant.
func (e PinkEvent) Name() string { return e.Kind.String() }

// AllowedInQuery reports Phala's PinkEvent::allowed_in_query.
func (e PinkEvent) AllowedInQuery() bool {
	switch e.Kind {
	case EventSetHook, EventSetLogHandler, EventSetContractWeight, EventUpgradeRuntimeTo, EventSetJsRuntime:
		return false
	}
	return true
}

// RequiresSystem reports whether Phala honours the event only from the
// cluster's system contract (phactory apply_pink_events' ensure_system):
// every variant except SidevmMessage, CacheOp and StopSidevm, which act on
// the emitting contract itself.
func (e PinkEvent) RequiresSystem() bool {
	switch e.Kind {
	case EventSidevmMessage, EventCacheOp, EventStopSidevm:
		return false
	}
	return true
}

// IsPrivate reports Phala's PinkEvent::is_private: such events (CacheOp,
// SidevmMessage) are not published with the contract's other events.
func (e PinkEvent) IsPrivate() bool {
	return e.Kind == EventCacheOp || e.Kind == EventSidevmMessage
}

// ErrBadPinkEvent means an event carried the pink topic but its data is not
// a PinkEvent (Phala logs "Contract emitted an invalid pink event" and keeps
// it as an ordinary event).
var ErrBadPinkEvent = errors.New("pink: invalid pink event")

// IsPinkEvent reports whether topics mark a pink event: exactly one topic,
// PinkEventTopic.
func IsPinkEvent(topics []engine.Hash) bool {
	return len(topics) == 1 && topics[0] == PinkEventTopic
}

// DecodePinkEvent decodes a contract event as a pink event. ok is false when
// the topics do not mark one (an ordinary ink! event); err is set when they
// do but the data is malformed. Trailing bytes after the event are ignored,
// as Phala's PinkEvent::decode does.
//
// A CacheOp event, whether a contract emitted it itself or it came from the
// extension in Phala, writes the emitting contract's cache and is applied
// only after the command commits (ApplyCacheOps). Events that
// RequiresSystem are honoured only from the cluster's system contract, and
// events that are not AllowedInQuery are refused in queries.
func DecodePinkEvent(topics []engine.Hash, data []byte) (ev PinkEvent, ok bool, err error) {
	if !IsPinkEvent(topics) {
		return PinkEvent{}, false, nil
	}
	ev, err = decodePinkEvent(scale.NewReader(data))
	if err != nil {
		return PinkEvent{}, true, err
	}
	return ev, true, nil
}

func decodePinkEvent(r *scale.Reader) (PinkEvent, error) {
	tag := PinkEventKind(r.U8())
	if r.Err() != nil {
		return PinkEvent{}, fmt.Errorf("%w: %v", ErrBadPinkEvent, r.Err())
	}
	ev := PinkEvent{Kind: tag}
	var id [32]byte
	switch tag {
	case EventSetHook:
		h := &SetHook{Hook: HookPoint(r.Enum(0))}
		r.Fixed(h.Contract[:])
		h.Selector = r.U32()
		h.GasLimit = r.U64()
		ev.SetHook = h
	case EventDeploySidevmTo:
		r.Fixed(id[:])
		r.Fixed(id[:])
	case EventSidevmMessage:
		r.Raw(r.Len(1))
	case EventCacheOp:
		op := decodeCacheOp(r)
		ev.CacheOp = &op
	case EventStopSidevm:
	case EventForceStopSidevm, EventSetLogHandler, EventSetJsRuntime:
		r.Fixed(id[:])
	case EventSetContractWeight:
		r.Fixed(id[:])
		r.U32()
	case EventUpgradeRuntimeTo:
		r.U32()
		r.U32()
	case EventSidevmOperation:
		switch r.Enum(1) {
		case 0: // Start{contract, code_hash, workers, config}
			r.Fixed(id[:])
			r.Fixed(id[:])
			if r.Enum(1) == 1 { // Workers::List(Vec<WorkerId>)
				r.Raw(32 * r.Len(32))
			}
			r.U32() // max_code_size
			r.U32() // max_memory_pages
			r.U64() // vital_capacity
			r.U32() // deadline
		case 1: // SetDeadline{contract, deadline}
			r.Fixed(id[:])
			r.U32()
		}
	default:
		return PinkEvent{}, fmt.Errorf("%w: unknown variant %d", ErrBadPinkEvent, uint8(tag))
	}
	if r.Err() != nil {
		return PinkEvent{}, fmt.Errorf("%w: %s: %v", ErrBadPinkEvent, tag, r.Err())
	}
	return ev, nil
}

func decodeCacheOp(r *scale.Reader) CacheOp {
	var op CacheOp
	op.Kind = CacheOpKind(r.Enum(2))
	op.Key = r.BytesVec()
	switch op.Kind {
	case CacheSet:
		op.Value = r.BytesVec()
	case CacheSetExpiration:
		op.Expiration = r.U64()
	}
	return op
}

// EncodeCacheOp returns the SCALE encoding of PinkEvent::CacheOp(op), the
// data of the event Phala deposits for a cache write in a transaction.
func EncodeCacheOp(op CacheOp) []byte {
	w := scale.NewWriter(16 + len(op.Key) + len(op.Value))
	w.U8(uint8(EventCacheOp))
	w.U8(uint8(op.Kind))
	w.BytesVec(op.Key)
	switch op.Kind {
	case CacheSet:
		w.BytesVec(op.Value)
	case CacheSetExpiration:
		w.U64(op.Expiration)
	}
	return w.Bytes()
}
