package appdb

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// Every level writes bloom filters and the cache is not pebble's 8 MiB
// default: both are what keeps a loaded node's point reads off the disk.
func TestStoreOptions(t *testing.T) {
	o := storeOptions()
	if o.CacheSize < cacheBytes {
		t.Fatalf("cache %d bytes, want at least %d", o.CacheSize, cacheBytes)
	}
	for i, l := range o.Levels {
		if l.FilterPolicy != bloom.FilterPolicy(bloomBitsPerKey) {
			t.Fatalf("level %d filter policy %v", i, l.FilterPolicy)
		}
	}
}

// A store written before filters existed (pebble's defaults) opens and
// reads the same with today's options, present and absent keys alike, and
// tables written after it carry filters.
func TestOpensStoreWrittenWithoutFilters(t *testing.T) {
	dir := t.TempDir()
	old, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := old.Set(stateKey(fmt.Appendf(nil, "old%03d", i)), []byte{byte(i)}, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 100 {
		v, err := db.Get(fmt.Appendf(nil, "old%03d", i))
		if err != nil || !bytes.Equal(v, []byte{byte(i)}) {
			t.Fatalf("old%03d: %x %v", i, v, err)
		}
	}
	if v, err := db.Get([]byte("missing")); err != nil || v != nil {
		t.Fatalf("missing key: %x %v", v, err)
	}
	if err := db.db.Set(stateKey([]byte("new")), []byte("v"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if v, err := db.Get([]byte("new")); err != nil || string(v) != "v" {
		t.Fatalf("new: %q %v", v, err)
	}
	// A Get of an absent key must consult the new table's filter.
	if v, err := db.Get([]byte("absent")); err != nil || v != nil {
		t.Fatalf("absent: %x %v", v, err)
	}
	if m := db.db.Metrics().Filter; m.Hits+m.Misses == 0 {
		t.Fatal("no bloom filter consulted after a flush with filters on")
	}
}
