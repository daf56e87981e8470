// Package appdb is the node's persistent application store, on pebble/v2.
//
// It holds four things, under separate one-byte prefixes so they can never
// collide:
//
//   - 's' ‖ key: committed chain state, as the state machine sees it;
//   - 'h' ‖ u64 BE height: the record of each block (its write-set, its
//     ordered messages and the AppHash after it), which pherry fetches in
//     ranges to feed pRuntime;
//   - 'b' ‖ u64 BE height: the block's hash (CometBFT's header hash), a side
//     record that is not app state and not in the AppHash; the app serves it
//     to the state machine as its BlockHashes oracle;
//   - 'm': metadata (last committed height and AppHash).
//
// Commit writes all of a block in one atomic, synced pebble batch: after a
// crash the store is at the previous block or the new one, never in between.
package appdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

const (
	prefixState     = 's'
	prefixBlock     = 'h'
	prefixBlockHash = 'b'
)

var metaKey = []byte{'m'}

// ErrNotFound is returned for a block height the store does not hold.
var ErrNotFound = errors.New("appdb: not found")

// BlockRecord is the record kept for each committed height.
type BlockRecord = state.BlockRecord

// Meta is the last committed height and AppHash.
type Meta struct {
	Height  int64
	AppHash [32]byte
}

// DB is the pebble-backed application store. Reads are safe concurrently with
// Commit.
type DB struct {
	db *pebble.DB
}

// ErrCorrupt is returned (wrapped, with the damaged file named) when the
// store finds its files damaged on disk.
var ErrCorrupt = errors.New("appdb: the store is damaged on disk")

// Open opens (or creates) the store in dir. A damaged store fails here or
// on the read that meets the damage, with an error wrapping ErrCorrupt
// that names the file.
func Open(dir string) (_ *DB, err error) {
	defer recoverPebble(&err, "open "+dir)
	opts := storeOptions()
	// Pebble's default reaction to a damaged file is to call the logger's
	// Fatalf (a panic with a stack dump); the read that met the damage
	// returns a corruption error anyway, which corruptErr makes clear.
	opts.EventListener = &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, corruptErr(fmt.Errorf("appdb: open %s: %w", dir, err), err)
	}
	return &DB{db: db}, nil
}

// cacheBytes is the store's block cache. Pebble's 8 MiB default is smaller
// than the index blocks of a busy chain's tables, so every Get re-read and
// decompressed them from disk (a third of a loaded dev node's CPU).
const cacheBytes = 64 << 20

// bloomBitsPerKey sizes the bloom filters written into every table: most
// point reads of the state machine (a new command's pending entry, a fresh
// account) look for keys that do not exist, and without filters each such
// Get searched every level's tables.
const bloomBitsPerKey = 10

// storeOptions returns the pebble options Open uses. None of them changes
// what is stored, only how fast it is read.
func storeOptions() *pebble.Options {
	opts := &pebble.Options{Logger: quietLogger{}, CacheSize: cacheBytes}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(bloomBitsPerKey)
	}
	return opts
}

// corruptErr returns wrapped, or, when cause is pebble's report of damaged
// files, an error wrapping ErrCorrupt that names the file.
func corruptErr(wrapped, cause error) error {
	if !pebble.IsCorruptionError(cause) {
		return wrapped
	}
	detail := firstLine(cause.Error())
	if info := pebble.ExtractDataCorruptionInfo(cause); info != nil {
		if info.Details != nil {
			detail = firstLine(info.Details.Error())
		}
		return fmt.Errorf("%w: file %s: %s (restore the node's data directory from a backup, or resync it)", ErrCorrupt, info.Path, detail)
	}
	return fmt.Errorf("%w: %s (restore the node's data directory from a backup, or resync it)", ErrCorrupt, detail)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// recoverPebble turns a panic inside pebble (which it uses for states it
// cannot handle, such as some damaged files) into an error for what.
func recoverPebble(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %s: pebble failed: %s", ErrCorrupt, what, firstLine(fmt.Sprint(r)))
	}
}

// Close closes the store.
func (d *DB) Close() error { return d.db.Close() }

func stateKey(k []byte) []byte {
	out := make([]byte, 1+len(k))
	out[0] = prefixState
	copy(out[1:], k)
	return out
}

func blockKey(h int64) []byte { return heightKey(prefixBlock, h) }

func blockHashKey(h int64) []byte { return heightKey(prefixBlockHash, h) }

func heightKey(prefix byte, h int64) []byte {
	var k [9]byte
	k[0] = prefix
	binary.BigEndian.PutUint64(k[1:], uint64(h))
	return k[:]
}

// Get returns the committed value of a state key, or nil when absent. It
// implements state.Store.
func (d *DB) Get(key []byte) (_ []byte, err error) {
	defer recoverPebble(&err, "get")
	v, closer, err := d.db.Get(stateKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, corruptErr(fmt.Errorf("appdb: get: %w", err), err)
	}
	out := make([]byte, len(v))
	copy(out, v)
	return out, closer.Close()
}

// Meta returns the last committed height and AppHash; a new store returns
// the zero Meta.
func (d *DB) Meta() (_ Meta, err error) {
	defer recoverPebble(&err, "meta")
	v, closer, err := d.db.Get(metaKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return Meta{}, nil
	}
	if err != nil {
		return Meta{}, corruptErr(fmt.Errorf("appdb: meta: %w", err), err)
	}
	defer closer.Close()
	if len(v) != 8+32 {
		return Meta{}, fmt.Errorf("appdb: corrupt metadata (%d bytes)", len(v))
	}
	var m Meta
	m.Height = int64(binary.BigEndian.Uint64(v))
	copy(m.AppHash[:], v[8:])
	return m, nil
}

// Commit applies rec's write-set to the state, stores rec under its height
// and records it as the last committed block, in one synced batch. It is
// for the genesis record (height 0), which has no block hash.
func (d *DB) Commit(rec *BlockRecord) error { return d.commit(rec, nil) }

// CommitBlock is Commit for a block at height ≥ 1 whose hash is blockHash:
// the hash is stored in the same batch (see BlockHash).
func (d *DB) CommitBlock(rec *BlockRecord, blockHash [32]byte) error {
	if rec.Height < 1 {
		return fmt.Errorf("appdb: commit block: height %d has no block", rec.Height)
	}
	return d.commit(rec, &blockHash)
}

func (d *DB) commit(rec *BlockRecord, blockHash *[32]byte) error {
	b := d.db.NewBatch()
	defer b.Close()
	for _, w := range rec.WriteSet {
		var err error
		if w.Delete {
			err = b.Delete(stateKey(w.Key), nil)
		} else {
			err = b.Set(stateKey(w.Key), w.Value, nil)
		}
		if err != nil {
			return fmt.Errorf("appdb: batch: %w", err)
		}
	}
	if err := b.Set(blockKey(rec.Height), scale.Encode(rec), nil); err != nil {
		return fmt.Errorf("appdb: batch: %w", err)
	}
	if blockHash != nil {
		if err := b.Set(blockHashKey(rec.Height), blockHash[:], nil); err != nil {
			return fmt.Errorf("appdb: batch: %w", err)
		}
	}
	meta := make([]byte, 8, 40)
	binary.BigEndian.PutUint64(meta, uint64(rec.Height))
	meta = append(meta, rec.AppHash[:]...)
	if err := b.Set(metaKey, meta, nil); err != nil {
		return fmt.Errorf("appdb: batch: %w", err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return corruptErr(fmt.Errorf("appdb: commit height %d: %w", rec.Height, err), err)
	}
	return nil
}

// Block returns the record of height h.
func (d *DB) Block(h int64) (_ *BlockRecord, err error) {
	defer recoverPebble(&err, fmt.Sprintf("block %d", h))
	v, closer, err := d.db.Get(blockKey(h))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w: block %d", ErrNotFound, h)
	}
	if err != nil {
		return nil, corruptErr(fmt.Errorf("appdb: block %d: %w", h, err), err)
	}
	defer closer.Close()
	rec := new(BlockRecord)
	if err := scale.Decode(v, rec); err != nil {
		return nil, fmt.Errorf("appdb: corrupt block record %d: %w", h, err)
	}
	return rec, nil
}

// BlockHash returns the hash of the committed block at height h, and false
// when the store has none (height 0, not committed, or committed before
// block hashes were recorded).
func (d *DB) BlockHash(h int64) (_ [32]byte, _ bool, err error) {
	defer recoverPebble(&err, fmt.Sprintf("block hash %d", h))
	var out [32]byte
	if h < 1 {
		return out, false, nil
	}
	v, closer, err := d.db.Get(blockHashKey(h))
	if errors.Is(err, pebble.ErrNotFound) {
		return out, false, nil
	}
	if err != nil {
		return out, false, corruptErr(fmt.Errorf("appdb: block hash %d: %w", h, err), err)
	}
	defer closer.Close()
	if len(v) != 32 {
		return out, false, fmt.Errorf("appdb: corrupt block hash %d (%d bytes)", h, len(v))
	}
	copy(out[:], v)
	return out, true, nil
}

// quietLogger keeps pebble's informational chatter out of the node's log;
// fatal errors still stop the process, as pebble expects, with one line
// rather than a stack dump.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fatal: appdb: pebble: %s\n", firstLine(fmt.Sprintf(format, args...)))
	os.Exit(1)
}
