package pink

import (
	"bytes"
	"sync"
	"unicode/utf8"

	"github.com/cella-network/cella/internal/contract/engine"
)

// LogLevel is a pink log level, as Phala's log extension (1 = Error … 5 =
// Trace).
type LogLevel uint8

// The pink log levels.
const (
	LevelError LogLevel = 1
	LevelWarn  LogLevel = 2
	LevelInfo  LogLevel = 3
	LevelDebug LogLevel = 4
	LevelTrace LogLevel = 5
)

// String returns the level's name.
func (l LogLevel) String() string {
	switch l {
	case LevelError:
		return "ERROR"
	case LevelWarn:
		return "WARN"
	case LevelInfo:
		return "INFO"
	case LevelDebug:
		return "DEBUG"
	case LevelTrace:
		return "TRACE"
	}
	return "ERROR"
}

// normLevel maps a contract's level byte to a LogLevel; anything outside
// 1..5 is Error, as Phala's DefaultPinkExtension::log.
func normLevel(b uint8) LogLevel {
	if b < 1 || b > 5 {
		return LevelError
	}
	return LogLevel(b)
}

// LogEntry is one contract log line with Phala's PinkLog metadata.
type LogEntry struct {
	// Seq is assigned by the LogRing: strictly increasing over all
	// contracts, starting at 1.
	Seq      uint64
	Contract engine.AccountID
	// Entry is the contract the query or command was addressed to.
	Entry       engine.AccountID
	Level       LogLevel
	BlockNumber uint32
	TimestampMs uint64 // untrusted worker clock
	Mode        Mode
	Message     string
}

// Logger receives contract logs. It must be safe for concurrent use and must
// not block.
type Logger interface {
	Log(e LogEntry)
}

// LogRingConfig bounds a LogRing.
type LogRingConfig struct {
	// PerContractEntries and PerContractBytes cap one contract's ring;
	// the oldest entries go first.
	PerContractEntries int
	PerContractBytes   int
	// TotalBytes caps all rings together. Over it, the oldest entry of
	// the contract holding the most bytes goes first (ties: lower contract
	// id), so that a flooding contract evicts its own logs.
	TotalBytes int
	// MaxMessage truncates longer messages (on a UTF-8 boundary).
	MaxMessage int
	// MaxContracts caps the number of rings; a new contract over it drops
	// the ring that logged least recently (ties: lower contract id).
	MaxContracts int
}

// DefaultLogRingConfig is a LogRing of at most 64 MiB.
var DefaultLogRingConfig = LogRingConfig{
	PerContractEntries: 4096,
	PerContractBytes:   4 << 20,
	TotalBytes:         64 << 20,
	MaxMessage:         16 << 10,
	MaxContracts:       1024,
}

// logEntryOverhead is what an entry is counted as besides its message.
const logEntryOverhead = 128

// LogRing keeps recent contract logs in bounded per-contract rings. It
// implements Logger and is safe for concurrent use.
type LogRing struct {
	mu      sync.Mutex
	cfg     LogRingConfig
	seq     uint64
	total   int
	rings   map[engine.AccountID]*logRing
	changed chan struct{}
}

type logRing struct {
	entries []LogEntry // oldest first; entries[head:] are live
	head    int
	bytes   int
}

// NewLogRing returns an empty LogRing; zero fields of cfg take
// DefaultLogRingConfig's.
func NewLogRing(cfg LogRingConfig) *LogRing {
	d := DefaultLogRingConfig
	if cfg.PerContractEntries <= 0 {
		cfg.PerContractEntries = d.PerContractEntries
	}
	if cfg.PerContractBytes <= 0 {
		cfg.PerContractBytes = d.PerContractBytes
	}
	if cfg.TotalBytes <= 0 {
		cfg.TotalBytes = d.TotalBytes
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = d.MaxMessage
	}
	if cfg.MaxContracts <= 0 {
		cfg.MaxContracts = d.MaxContracts
	}
	return &LogRing{cfg: cfg, rings: map[engine.AccountID]*logRing{}, changed: make(chan struct{})}
}

func entrySize(e *LogEntry) int { return logEntryOverhead + len(e.Message) }

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Log implements Logger: it stores e with the next sequence number.
func (l *LogRing) Log(e LogEntry) {
	e.Message = truncateUTF8(e.Message, l.cfg.MaxMessage)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	e.Seq = l.seq
	r := l.rings[e.Contract]
	if r == nil {
		if len(l.rings) >= l.cfg.MaxContracts {
			l.dropStalest()
		}
		r = &logRing{}
		l.rings[e.Contract] = r
	}
	n := entrySize(&e)
	r.entries = append(r.entries, e)
	r.bytes += n
	l.total += n
	for r.len() > l.cfg.PerContractEntries || (r.bytes > l.cfg.PerContractBytes && r.len() > 1) {
		l.total -= r.pop()
	}
	for l.total > l.cfg.TotalBytes {
		id, big := l.largest()
		if big == nil {
			break
		}
		l.total -= big.pop()
		if big.len() == 0 {
			delete(l.rings, id)
		}
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

// dropStalest drops the ring whose newest entry is oldest (ties: lower id).
func (l *LogRing) dropStalest() {
	var id engine.AccountID
	var stale *logRing
	for k, r := range l.rings {
		if stale == nil || r.last() < stale.last() || (r.last() == stale.last() && bytes.Compare(k[:], id[:]) < 0) {
			id, stale = k, r
		}
	}
	if stale != nil {
		l.total -= stale.bytes
		delete(l.rings, id)
	}
}

// last returns the newest entry's Seq (0 when empty).
func (r *logRing) last() uint64 {
	if r.len() == 0 {
		return 0
	}
	return r.entries[len(r.entries)-1].Seq
}

// largest returns the ring holding the most bytes (ties: lower id).
func (l *LogRing) largest() (engine.AccountID, *logRing) {
	var id engine.AccountID
	var big *logRing
	for k, r := range l.rings {
		if big == nil || r.bytes > big.bytes || (r.bytes == big.bytes && bytes.Compare(k[:], id[:]) < 0) {
			id, big = k, r
		}
	}
	return id, big
}

func (r *logRing) len() int { return len(r.entries) - r.head }

// pop drops the oldest entry and returns its size.
func (r *logRing) pop() int {
	n := entrySize(&r.entries[r.head])
	r.entries[r.head] = LogEntry{}
	r.head++
	r.bytes -= n
	if r.head > 64 && r.head*2 > len(r.entries) { // compact
		r.entries = append([]LogEntry(nil), r.entries[r.head:]...)
		r.head = 0
	}
	return n
}

// Since returns up to max of contract's entries with a sequence number
// greater than seq, oldest first (max <= 0: all). For --follow, call it
// again with the last Seq returned, after Changed fires.
func (l *LogRing) Since(contract engine.AccountID, seq uint64, max int) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rings[contract]
	if r == nil {
		return nil
	}
	live := r.entries[r.head:]
	lo, hi := 0, len(live)
	for lo < hi { // first entry with Seq > seq
		mid := (lo + hi) / 2
		if live[mid].Seq <= seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	out := live[lo:]
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return append([]LogEntry(nil), out...)
}

// LastSeq returns the sequence number of the newest entry ever logged.
func (l *LogRing) LastSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// Changed returns a channel that is closed at the next Log.
func (l *LogRing) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// Usage returns the bytes and entries held and the number of contracts.
func (l *LogRing) Usage() (bytes, entries, contracts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.rings {
		entries += r.len()
	}
	return l.total, entries, len(l.rings)
}
