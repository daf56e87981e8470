package appdb

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/state"
)

// damagedStore commits records of heights 0..199, flushes them to one
// table, closes the store and lets damage change that table's bytes. It
// returns the store's directory and the table's path.
func damagedStore(t *testing.T, damage func([]byte) []byte) (dir, table string) {
	t.Helper()
	dir = t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(&BlockRecord{Height: 0, AppHash: [32]byte{1}}); err != nil {
		t.Fatal(err)
	}
	for h := int64(1); h < 200; h++ {
		rec := &BlockRecord{Height: h, AppHash: [32]byte{byte(h)}, WriteSet: state.WriteSet{{Key: []byte("k"), Value: []byte{byte(h)}}}}
		if err := db.CommitBlock(rec, [32]byte{byte(h)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) != 1 {
		t.Fatalf("tables %v", tables)
	}
	b, err := os.ReadFile(tables[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tables[0], damage(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, tables[0]
}

// TestDamagedTable: a table whose bytes were changed on disk gives a clean
// error naming the file on the read that meets the damage (pebble's
// default is a panic with a stack dump), on every read path.
func TestDamagedTable(t *testing.T) {
	for _, x := range []struct {
		name  string
		upTo  func(n int) int // bytes [0, upTo(len)) are changed
		reads []string
	}{
		// The first data blocks: block hashes and block records.
		{"data blocks", func(n int) int { return n / 2 }, []string{"block", "block hash"}},
		// All but the footer: the index too, so every read fails.
		{"index", func(n int) int { return n - 100 }, []string{"block", "block hash", "get"}},
	} {
		t.Run(x.name, func(t *testing.T) {
			dir, table := damagedStore(t, func(b []byte) []byte {
				for i := 0; i < x.upTo(len(b)); i++ {
					b[i] ^= 0x5a
				}
				return b
			})
			db, err := Open(dir)
			if err != nil {
				checkCorrupt(t, "open", err, table)
				return
			}
			defer db.Close()
			reads := map[string]func() error{
				"block":      func() error { _, err := db.Block(5); return err },
				"block hash": func() error { _, _, err := db.BlockHash(5); return err },
				"get":        func() error { _, err := db.Get([]byte("k")); return err },
			}
			for _, name := range x.reads {
				checkCorrupt(t, name, reads[name](), table)
			}
		})
	}
}

// TestTruncatedTable: a table cut short fails the open, or the first read,
// with a clean error.
func TestTruncatedTable(t *testing.T) {
	dir, table := damagedStore(t, func(b []byte) []byte { return b[:len(b)/3] })
	db, err := Open(dir)
	if err != nil {
		if !strings.Contains(err.Error(), filepath.Base(table)) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("open: %q does not name %s on one line", err, table)
		}
		t.Logf("open: %v", err)
		return
	}
	defer db.Close()
	_, err = db.Block(5)
	checkCorrupt(t, "block", err, table)
}

func checkCorrupt(t *testing.T, what string, err error, table string) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), table) {
		t.Errorf("%s: %v; want ErrCorrupt naming %s", what, err, table)
		return
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: a multi-line error: %q", what, err)
	}
	t.Logf("%s: %v", what, err)
}
