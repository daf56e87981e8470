package pink

import (
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
)

func TestLogRingPerContractBounds(t *testing.T) {
	l := NewLogRing(LogRingConfig{PerContractEntries: 3, PerContractBytes: 1 << 20, TotalBytes: 1 << 20})
	a, b := engine.AccountID{1}, engine.AccountID{2}
	for i := range 5 {
		l.Log(LogEntry{Contract: a, Message: string(rune('a' + i))})
		l.Log(LogEntry{Contract: b, Message: "b"})
	}
	got := l.Since(a, 0, 0)
	if len(got) != 3 || got[0].Message != "c" || got[2].Message != "e" {
		t.Fatalf("ring a = %+v", got)
	}
	// Sequence numbers are global and increasing: a's are 5, 7, 9.
	if got[0].Seq != 5 || got[1].Seq != 7 || got[2].Seq != 9 {
		t.Fatalf("seqs %d %d %d", got[0].Seq, got[1].Seq, got[2].Seq)
	}
	if s := l.Since(a, 7, 0); len(s) != 1 || s[0].Seq != 9 {
		t.Fatalf("since 7 = %+v", s)
	}
	if s := l.Since(a, 0, 2); len(s) != 2 || s[1].Seq != 7 {
		t.Fatalf("max 2 = %+v", s)
	}
	if s := l.Since(a, 9, 0); len(s) != 0 {
		t.Fatalf("since last = %+v", s)
	}
	if l.LastSeq() != 10 {
		t.Fatalf("last seq %d", l.LastSeq())
	}
}

func TestLogRingFloodBounded(t *testing.T) {
	cfg := LogRingConfig{PerContractEntries: 1000, PerContractBytes: 64 << 10, TotalBytes: 256 << 10, MaxMessage: 1024, MaxContracts: 50}
	l := NewLogRing(cfg)
	quiet := engine.AccountID{0xff}
	l.Log(LogEntry{Contract: quiet, Message: "keep me"})
	big := strings.Repeat("x", 5000) // truncated to 1 KiB
	for i := range 20000 {
		l.Log(LogEntry{Contract: engine.AccountID{byte(i % 40)}, Message: big})
		if i%997 == 0 {
			if bytes, _, _ := l.Usage(); bytes > cfg.TotalBytes {
				t.Fatalf("after %d logs: %d bytes held, cap %d", i, bytes, cfg.TotalBytes)
			}
		}
	}
	bytes, entries, contracts := l.Usage()
	if bytes > cfg.TotalBytes || contracts > cfg.MaxContracts {
		t.Fatalf("usage %d bytes %d entries %d contracts", bytes, entries, contracts)
	}
	// The flooding contracts evicted their own logs, not the quiet one's.
	if q := l.Since(quiet, 0, 0); len(q) != 1 || q[0].Message != "keep me" {
		t.Fatalf("quiet contract lost its log: %+v", q)
	}
	if e := l.Since(engine.AccountID{1}, 0, 1); len(e) != 1 || len(e[0].Message) != 1024 {
		t.Fatalf("message not truncated to 1 KiB: %d", len(e[0].Message))
	}
	// Many contracts: the ring count stays at MaxContracts.
	for i := range 200 {
		l.Log(LogEntry{Contract: engine.AccountID{1, byte(i)}, Message: "m"})
	}
	if _, _, contracts := l.Usage(); contracts > cfg.MaxContracts {
		t.Fatalf("%d contracts", contracts)
	}
}

func TestLogRingChanged(t *testing.T) {
	l := NewLogRing(LogRingConfig{})
	ch := l.Changed()
	select {
	case <-ch:
		t.Fatal("fired before a log")
	default:
	}
	l.Log(LogEntry{Message: "x"})
	select {
	case <-ch:
	default:
		t.Fatal("did not fire after a log")
	}
}

func TestTruncateUTF8(t *testing.T) {
	if got := truncateUTF8("aé", 2); got != "a" {
		t.Fatalf("split a rune: %q", got)
	}
}
