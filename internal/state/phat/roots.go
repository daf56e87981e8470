package phat

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

// Cluster state agreement. Every worker of a cluster that holds the
// cluster key reports, from its own worker origin, the cluster state root
// after each block whose height is a multiple of the cluster's report
// interval (msg.TopicClusterStateRoot). The first report for a height is
// recorded; a later one with the same root adds its worker to the
// agreeing ones; one with another root is a divergence: it is accepted,
// and its effect is an alarm naming the worker (kept, the last MaxAlarms
// per cluster) and a cluster_divergence event.
//
// Storage:
//
//	"phat/report_interval/" ‖ cluster → u32 LE: the report interval (absent: DefaultReportInterval)
//	"phat/root_heights/" ‖ cluster    → SCALE(Vec<u64>) ascending: the heights with a root record (at most MaxRootRecords)
//	"phat/root/" ‖ cluster ‖ u64be(height) → SCALE(RootRecord)
//	"phat/alarms/" ‖ cluster          → SCALE(Vec<Alarm>) oldest first (at most MaxAlarms)

// MethodSetReportInterval is phat.set_report_interval(cluster [u8;32],
// interval u32) (privileged).
const MethodSetReportInterval uint8 = 6

// Report interval bounds and default.
const (
	DefaultReportInterval uint32 = 10
	MaxReportInterval     uint32 = 1_000_000
)

// Bounds of the agreement records.
const (
	// MaxRootRecords is how many report heights a cluster keeps: a report
	// for a height older than all of them, when that many are kept, is
	// refused as stale.
	MaxRootRecords = 16
	// MaxAlarms is how many divergence alarms a cluster keeps.
	MaxAlarms = 16
)

// SetReportIntervalWeight is the weight of phat.set_report_interval.
const SetReportIntervalWeight uint64 = 100_000

// Storage prefixes of the agreement records.
var (
	PrefixReportInterval = []byte("phat/report_interval/")
	PrefixRootHeights    = []byte("phat/root_heights/")
	PrefixRoot           = []byte("phat/root/")
	PrefixAlarms         = []byte("phat/alarms/")
)

func clusterSuffixed(prefix []byte, id [32]byte) []byte {
	return append(slices.Clone(prefix), id[:]...)
}

// RootKey returns the storage key of cluster's root record at height.
func RootKey(cluster [32]byte, height uint64) []byte {
	return binary.BigEndian.AppendUint64(clusterSuffixed(PrefixRoot, cluster), height)
}

// RootRecord is what the chain knows of a cluster's root at one height.
type RootRecord struct {
	Height uint64
	// Root is the first reported root.
	Root [32]byte
	// Agreeing are the workers that reported Root, in report order (the
	// first is the first reporter).
	Agreeing []keys.PublicKey
}

// EncodeSCALE writes (root [u8;32], agreeing Vec<[u8;32]>); the height is
// the key's.
func (r *RootRecord) EncodeSCALE(w *scale.Writer) { w.Raw(r.Root[:]); writeKeys(w, r.Agreeing) }

// DecodeSCALE reads the record (the height is left alone).
func (r *RootRecord) DecodeSCALE(rd *scale.Reader) { rd.Fixed(r.Root[:]); r.Agreeing = readKeys(rd) }

// Alarm is a divergence: Worker reported Root for the cluster's state
// after block Height, where Expected had been reported first.
type Alarm struct {
	Height   uint64
	Worker   keys.PublicKey
	Root     [32]byte
	Expected [32]byte
}

// EncodeSCALE writes (height u64, worker [u8;32], root [u8;32], expected [u8;32]).
func (a *Alarm) EncodeSCALE(w *scale.Writer) {
	w.U64(a.Height)
	w.Raw(a.Worker[:])
	w.Raw(a.Root[:])
	w.Raw(a.Expected[:])
}

// DecodeSCALE reads an alarm.
func (a *Alarm) DecodeSCALE(r *scale.Reader) {
	a.Height = r.U64()
	r.Fixed(a.Worker[:])
	r.Fixed(a.Root[:])
	r.Fixed(a.Expected[:])
}

// SetReportIntervalCall builds phat.set_report_interval (dispatch it
// through admin.sudo).
func SetReportIntervalCall(cluster [32]byte, interval uint32) tx.Call {
	return tx.Call{Module: Index, Method: MethodSetReportInterval,
		Args: binary.LittleEndian.AppendUint32(slices.Clone(cluster[:]), interval)}
}

func decodeSetInterval(args []byte) ([32]byte, uint32, error) {
	if len(args) != 36 {
		return [32]byte{}, 0, fmt.Errorf("phat.set_report_interval: argument of %d bytes, want 36", len(args))
	}
	n := binary.LittleEndian.Uint32(args[32:])
	if n == 0 || n > MaxReportInterval {
		return [32]byte{}, 0, fmt.Errorf("phat.set_report_interval: interval %d, want 1 to %d", n, MaxReportInterval)
	}
	return [32]byte(args[:32]), n, nil
}

func checkSetInterval(args []byte) error { _, _, err := decodeSetInterval(args); return err }

func execSetInterval(c *state.CallCtx, args []byte) (uint32, string, error) {
	id, n, err := decodeSetInterval(args)
	if err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	if !c.IsRoot() {
		return state.CodeNotRoot, "phat.set_report_interval needs the root origin", nil
	}
	if _, ok, err := GetCluster(c.Overlay(), id); err != nil {
		return 0, "", err
	} else if !ok {
		return state.CodeUnknownCluster, fmt.Sprintf("no cluster %x", id), nil
	}
	c.Overlay().SetOwned(clusterSuffixed(PrefixReportInterval, id), binary.LittleEndian.AppendUint32(nil, n))
	c.AddEvent(state.Event{Type: "cluster_report_interval", Attributes: []state.EventAttribute{
		{Key: "cluster", Value: "0x" + hex.EncodeToString(id[:]), Index: true}, {Key: "interval", Value: fmt.Sprint(n)}}})
	return state.CodeOK, "", nil
}

// ReportInterval returns a cluster's report interval (DefaultReportInterval
// unless set).
func ReportInterval(st state.Store, id [32]byte) (uint32, error) {
	v, err := st.Get(clusterSuffixed(PrefixReportInterval, id))
	if err != nil {
		return 0, fmt.Errorf("state: reading report interval: %w", err)
	}
	if v == nil {
		return DefaultReportInterval, nil
	}
	if len(v) != 4 || binary.LittleEndian.Uint32(v) == 0 {
		return 0, fmt.Errorf("%w: report interval of cluster %x", state.ErrCorruptState, id)
	}
	return binary.LittleEndian.Uint32(v), nil
}

func rootHeights(st state.Store, id [32]byte) ([]uint64, error) {
	v, err := st.Get(clusterSuffixed(PrefixRootHeights, id))
	if err != nil {
		return nil, fmt.Errorf("state: reading root heights: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	hs := scale.ReadVec(r, 8, func(r *scale.Reader) uint64 { return r.U64() })
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: root heights of cluster %x: %w", state.ErrCorruptState, id, err)
	}
	return hs, nil
}

func getRoot(st state.Store, id [32]byte, h uint64) (RootRecord, bool, error) {
	v, err := st.Get(RootKey(id, h))
	if err != nil {
		return RootRecord{}, false, fmt.Errorf("state: reading root record: %w", err)
	}
	if v == nil {
		return RootRecord{}, false, nil
	}
	rec := RootRecord{Height: h}
	if err := scale.Decode(v, &rec); err != nil {
		return RootRecord{}, false, fmt.Errorf("%w: root record %x@%d: %w", state.ErrCorruptState, id, h, err)
	}
	return rec, true, nil
}

// RootRecords returns a cluster's kept root records, by ascending height.
func RootRecords(st state.Store, id [32]byte) ([]RootRecord, error) {
	hs, err := rootHeights(st, id)
	if err != nil {
		return nil, err
	}
	out := make([]RootRecord, 0, len(hs))
	for _, h := range hs {
		rec, ok, err := getRoot(st, id, h)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: root record %x@%d missing", state.ErrCorruptState, id, h)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Alarms returns a cluster's kept divergence alarms, oldest first.
func Alarms(st state.Store, id [32]byte) ([]Alarm, error) {
	v, err := st.Get(clusterSuffixed(PrefixAlarms, id))
	if err != nil {
		return nil, fmt.Errorf("state: reading alarms: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	out := scale.ReadVec(r, 104, func(r *scale.Reader) (a Alarm) { a.DecodeSCALE(r); return a })
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: alarms of cluster %x: %w", state.ErrCorruptState, id, err)
	}
	return out, nil
}

// LastAgreed returns the highest kept record that a majority of the
// cluster's keyed workers (keyed, sorted, as Cluster.Keyed) agree on;
// false when none. Only the agreeing workers that are keyed now count: a
// worker removed from the cluster, or deregistered (which removes it from
// every cluster), no longer counts, though its reports stay in the record.
func LastAgreed(recs []RootRecord, keyed []keys.PublicKey) (RootRecord, bool) {
	for i := len(recs) - 1; i >= 0; i-- {
		n := 0
		for _, w := range recs[i].Agreeing {
			if _, in := slices.BinarySearchFunc(keyed, w, cmpKey); in {
				n++
			}
		}
		if 2*n > len(keyed) {
			return recs[i], true
		}
	}
	return RootRecord{}, false
}

// HandleStateRoot: a worker reports a cluster's state root. The sender
// must be a worker of the cluster; the height a positive multiple of the
// cluster's report interval, not above the current block, and not older
// than every kept record when MaxRootRecords are kept. A report that
// differs from the recorded root is accepted and raises an alarm.
func HandleStateRoot(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	if o.Kind != msg.OriginKindWorker {
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of workers, not of %s", msg.TopicClusterStateRoot, o), nil
	}
	var p msg.StateRootReport
	if err := scale.Decode(payload, &p); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", msg.TopicClusterStateRoot, err), nil
	}
	ov := c.Overlay()
	cl, ok, err := GetCluster(ov, p.Cluster)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeUnknownCluster, fmt.Sprintf("no cluster %x", p.Cluster), nil
	}
	if _, in := slices.BinarySearchFunc(cl.Workers, o.Worker, cmpKey); !in {
		return state.CodeNotClusterWorker, fmt.Sprintf("%s is not a worker of cluster %x", o.Worker.Hex(), cl.ID), nil
	}
	if p.Height == 0 || p.Height%uint64(cl.ReportInterval) != 0 || c.Header() == nil || p.Height > uint64(c.Header().Height) {
		return state.CodeBadReportHeight, fmt.Sprintf("state root of height %d: not a multiple of the report interval %d up to the current block", p.Height, cl.ReportInterval), nil
	}
	hs, err := rootHeights(ov, cl.ID)
	if err != nil {
		return 0, "", err
	}
	i, found := slices.BinarySearch(hs, p.Height)
	if !found {
		if len(hs) >= MaxRootRecords && i == 0 {
			return state.CodeStaleReport, fmt.Sprintf("state root of height %d: older than every kept record (from %d)", p.Height, hs[0]), nil
		}
		hs = slices.Insert(hs, i, p.Height)
		for len(hs) > MaxRootRecords {
			ov.Delete(RootKey(cl.ID, hs[0]))
			hs = hs[1:]
		}
		w := scale.NewWriter(1 + 8*len(hs))
		scale.WriteVec(w, hs, func(w *scale.Writer, h uint64) { w.U64(h) })
		ov.SetOwned(clusterSuffixed(PrefixRootHeights, cl.ID), w.Bytes())
		rec := RootRecord{Height: p.Height, Root: p.Root, Agreeing: []keys.PublicKey{o.Worker}}
		ov.SetOwned(RootKey(cl.ID, p.Height), scale.Encode(&rec))
		return state.CodeOK, "", nil
	}
	rec, ok, err := getRoot(ov, cl.ID, p.Height)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return 0, "", fmt.Errorf("%w: root record %x@%d missing", state.ErrCorruptState, cl.ID, p.Height)
	}
	if rec.Root == p.Root {
		if !slices.Contains(rec.Agreeing, o.Worker) {
			rec.Agreeing = append(rec.Agreeing, o.Worker)
			ov.SetOwned(RootKey(cl.ID, p.Height), scale.Encode(&rec))
		}
		return state.CodeOK, "", nil
	}
	alarms, err := Alarms(ov, cl.ID)
	if err != nil {
		return 0, "", err
	}
	alarms = append(alarms, Alarm{Height: p.Height, Worker: o.Worker, Root: p.Root, Expected: rec.Root})
	if len(alarms) > MaxAlarms {
		alarms = alarms[len(alarms)-MaxAlarms:]
	}
	w := scale.NewWriter(1 + 104*len(alarms))
	scale.WriteVec(w, alarms, func(w *scale.Writer, a Alarm) { a.EncodeSCALE(w) })
	ov.SetOwned(clusterSuffixed(PrefixAlarms, cl.ID), w.Bytes())
	c.AddEvent(state.Event{Type: "cluster_divergence", Attributes: []state.EventAttribute{
		{Key: "cluster", Value: "0x" + hex.EncodeToString(cl.ID[:]), Index: true},
		{Key: "height", Value: fmt.Sprint(p.Height)},
		{Key: "worker", Value: o.Worker.Hex(), Index: true},
		{Key: "root", Value: "0x" + hex.EncodeToString(p.Root[:])},
		{Key: "expected_root", Value: "0x" + hex.EncodeToString(rec.Root[:])}}})
	return state.CodeOK, "", nil
}
