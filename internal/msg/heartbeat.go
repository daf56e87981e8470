package msg

import "github.com/cella-network/cella/internal/scale"

// TopicWorkerHeartbeat is a worker's sign of life, on its own stream
// (origin OriginWorker(identity), signed by its identity key, sequenced as
// any of its egress): every registered worker sends one when it steps a
// block whose height is a multiple of the registry's heartbeat interval.
// The registry records the height of the block that carried it as the
// worker's last-seen height. Its payload is SCALE(HeartbeatPayload).
const TopicWorkerHeartbeat = "worker/heartbeat"

// HeartbeatPayload is the payload of a TopicWorkerHeartbeat message.
type HeartbeatPayload struct {
	// Height is the block whose step made the heartbeat (a multiple of
	// the heartbeat interval when it was made).
	Height uint64
}

// EncodeSCALE writes (u64).
func (p *HeartbeatPayload) EncodeSCALE(w *scale.Writer) { w.U64(p.Height) }

// DecodeSCALE reads the payload.
func (p *HeartbeatPayload) DecodeSCALE(r *scale.Reader) { p.Height = r.U64() }
