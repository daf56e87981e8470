// Package pherry is the relayer between one Cella node and one pRuntime.
//
// pherry is untrusted: it only carries data. It initialises a fresh pRuntime
// with the chain's genesis, feeds it the chain in batches (headers through
// CometBFT's /blockchain, one commit per batch, validator sets where they
// change, and the block records of the node's /blocks query), follows new
// blocks (a websocket subscription is only a wake-up; blocks are always
// fetched by height, and polling covers a lost subscription), registers the
// worker with the operator's key once it has caught up, and submits the
// worker's signed egress messages to the chain.
//
// Every step tolerates the node or the pRuntime going away, in any order,
// with capped exponential backoff. pherry keeps no state of its own that
// matters: before each batch it re-reads the pRuntime's Info, so a pRuntime
// restored from an older checkpoint is simply fed again from where it is.
// See docs/pherry.md.
package pherry
