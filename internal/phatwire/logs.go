package phatwire

import (
	"fmt"

	"github.com/cella-network/cella/internal/scale"
)

// Contract logs (Cella's Public.ContractLogs; Phala sends them to a
// log-server contract instead).
const (
	// MaxLogPage is the most entries one ContractLogs answer carries.
	MaxLogPage = 256
	// MaxLogMessage is the longest log message kept (longer ones are cut).
	MaxLogMessage = 4096
)

// LogRequest is the data of a ContractLogs query: the entries after
// sequence After, at most Max (0 or more than MaxLogPage: MaxLogPage).
//
//	u64 after ‖ u32 max
type LogRequest struct {
	After uint64
	Max   uint32
}

// EncodeSCALE writes the request.
func (q *LogRequest) EncodeSCALE(w *scale.Writer) { w.U64(q.After); w.U32(q.Max) }

// DecodeSCALE reads the request.
func (q *LogRequest) DecodeSCALE(r *scale.Reader) { q.After = r.U64(); q.Max = r.U32() }

// LogEntry is one line a contract logged.
//
//	u64 seq ‖ u32 block ‖ u64 time_ms ‖ u8 level ‖ u8 in_query ‖ String message
type LogEntry struct {
	// Seq is the worker's sequence number of the line (over all contracts).
	Seq uint64
	// Block is the block the worker had verified (or was executing).
	Block uint32
	// TimeMs is the block time of a command's line, the worker's clock
	// for a query's.
	TimeMs uint64
	// Level is Phala's: 1 error, 2 warn, 3 info, 4 debug, 5 trace.
	Level uint8
	// InQuery tells a query's line from a command's.
	InQuery bool
	Message string
}

// LogPage is the answer to a ContractLogs query.
//
//	Vec<LogEntry> entries ‖ u64 next
type LogPage struct {
	Entries []LogEntry
	// Next is the After to ask for the lines that follow. Sequence
	// numbers are the worker's, over all contracts: a contract's lines are
	// increasing but not consecutive.
	Next uint64
}

// EncodeSCALE writes the page.
func (p *LogPage) EncodeSCALE(w *scale.Writer) {
	w.Compact(uint64(len(p.Entries)))
	for i := range p.Entries {
		e := &p.Entries[i]
		w.U64(e.Seq)
		w.U32(e.Block)
		w.U64(e.TimeMs)
		w.U8(e.Level)
		w.Bool(e.InQuery)
		w.String(e.Message)
	}
	w.U64(p.Next)
}

// DecodeSCALE reads the page; at most MaxLogPage entries.
func (p *LogPage) DecodeSCALE(r *scale.Reader) {
	n := r.Len(8 + 4 + 8 + 1 + 1 + 1)
	if n > MaxLogPage {
		r.Fail(fmt.Errorf("log page of %d entries, limit %d", n, MaxLogPage))
		return
	}
	p.Entries = make([]LogEntry, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		p.Entries = append(p.Entries, LogEntry{Seq: r.U64(), Block: r.U32(), TimeMs: r.U64(), Level: r.U8(), InQuery: r.Bool(), Message: r.String()})
	}
	p.Next = r.U64()
}
