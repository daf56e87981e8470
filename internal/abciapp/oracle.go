package abciapp

import (
	"log/slog"
	"sync"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/registry"
)

// hashWindow is how many recent block hashes blockHashes keeps in memory:
// every height the registry's freshness check may ask about.
const hashWindow = registry.FreshnessWindow + 1

// blockHashes is the state machine's BlockHashes oracle on a node: the
// hashes of committed blocks, recorded at Commit, served from memory for the
// recent window and from the store otherwise. It never answers the height
// being executed or any later one, so CheckTx, PrepareProposal,
// ProcessProposal and FinalizeBlock all see the same committed hashes.
type blockHashes struct {
	db  *appdb.DB
	log *slog.Logger

	mu     sync.RWMutex
	last   int64 // last committed height
	recent map[int64][32]byte
}

// newBlockHashes loads the recent window below last from db.
func newBlockHashes(db *appdb.DB, last int64, log *slog.Logger) (*blockHashes, error) {
	b := &blockHashes{db: db, log: log, last: last, recent: make(map[int64][32]byte, hashWindow+1)}
	for h := max(1, last-hashWindow+1); h <= last; h++ {
		v, ok, err := db.BlockHash(h)
		if err != nil {
			return nil, err
		}
		if ok {
			b.recent[h] = v
		}
	}
	return b, nil
}

// committed records the hash of the block just committed at height h.
func (b *blockHashes) committed(h int64, hash [32]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = h
	b.recent[h] = hash
	delete(b.recent, h-hashWindow)
}

// BlockHash implements state.BlockHashes.
func (b *blockHashes) BlockHash(h int64) ([32]byte, bool) {
	b.mu.RLock()
	last := b.last
	v, ok := b.recent[h]
	b.mu.RUnlock()
	if h < 1 || h > last {
		return [32]byte{}, false
	}
	if ok {
		return v, true
	}
	v, ok, err := b.db.BlockHash(h)
	if err != nil {
		// The machine then reports the hash as unavailable; a node whose
		// store fails diverges and CometBFT stops it at the AppHash check.
		b.log.Error("reading a block hash", "height", h, "err", err)
		return [32]byte{}, false
	}
	return v, ok
}

// verifierSlot is the AttestationVerifier the App hands its Machine: it
// forwards to the verifier set last (SetAttestationVerifier), so that the
// node can wire one after building the App.
type verifierSlot struct {
	mu sync.RWMutex
	v  state.AttestationVerifier
}

func (s *verifierSlot) set(v state.AttestationVerifier) {
	s.mu.Lock()
	s.v = v
	s.mu.Unlock()
}

// Verify implements state.AttestationVerifier.
func (s *verifierSlot) Verify(kind string, quote, collateral []byte, reportData [64]byte, nowUnix int64) ([]byte, error) {
	s.mu.RLock()
	v := s.v
	s.mu.RUnlock()
	if v == nil {
		return nil, state.ErrAttestationUnverifiable
	}
	return v.Verify(kind, quote, collateral, reportData, nowUnix)
}
