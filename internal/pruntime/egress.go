package pruntime

import "github.com/cella-network/cella/internal/worker"

// TopicWorkerOnline is the topic of the message a worker sends once it sees
// its own registration in a confirmed block (see worker.TopicWorkerOnline).
const TopicWorkerOnline = worker.TopicWorkerOnline

// OnlinePayload is the payload of a TopicWorkerOnline message (see
// worker.OnlinePayload).
type OnlinePayload = worker.OnlinePayload
