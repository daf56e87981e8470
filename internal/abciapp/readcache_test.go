package abciapp

import (
	"bytes"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/state"
)

func commitWrites(t *testing.T, db *appdb.DB, c *readCache, h int64, ws state.WriteSet) {
	t.Helper()
	if err := db.CommitBlock(&appdb.BlockRecord{Height: h, WriteSet: ws}, [32]byte{byte(h)}); err != nil {
		t.Fatal(err)
	}
	c.committed(ws)
}

func get(t *testing.T, c *readCache, k string) []byte {
	t.Helper()
	v, err := c.Get([]byte(k))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The cache answers what the store holds after every commit: set, changed,
// deleted and created keys, absent ones, empty values and large ones; and
// a caller that changes a returned value changes nothing for others.
func TestReadCacheFollowsCommits(t *testing.T) {
	db, err := appdb.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := newReadCache(db)
	big := bytes.Repeat([]byte{7}, readCacheMaxValue+1)
	commitWrites(t, db, c, 1, state.WriteSet{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("big"), Value: big}, {Key: []byte("e"), Value: []byte{}}})
	for _, k := range []string{"a", "b", "big", "e", "gone"} {
		get(t, c, k) // warm the cache, absent keys too
	}
	if v := get(t, c, "e"); v == nil || len(v) != 0 {
		t.Fatalf("empty value read as %v", v)
	}
	v := get(t, c, "a")
	v[0] = 'X' // a caller scribbling on its copy
	if v := get(t, c, "a"); string(v) != "1" {
		t.Fatalf("cached value changed by a caller: %q", v)
	}
	commitWrites(t, db, c, 2, state.WriteSet{{Key: []byte("a"), Value: []byte("2")}, {Key: []byte("b"), Value: []byte("new")},
		{Key: []byte("big"), Value: []byte("small")}, {Key: []byte("e"), Delete: true}})
	for k, want := range map[string]string{"a": "2", "b": "new", "big": "small", "e": "", "gone": ""} {
		got := get(t, c, k)
		if string(got) != want || (want == "") != (got == nil) {
			t.Fatalf("%s: got %q, want %q", k, got, want)
		}
		if direct, _ := db.Get([]byte(k)); !bytes.Equal(direct, got) {
			t.Fatalf("%s: cache %q, store %q", k, got, direct)
		}
	}
	commitWrites(t, db, c, 3, state.WriteSet{{Key: []byte("a"), Value: big}})
	if v := get(t, c, "a"); !bytes.Equal(v, big) {
		t.Fatal("a large value replacing a cached one")
	}
	if _, ok := c.m["a"]; ok {
		t.Fatal("a value over the limit is cached")
	}
}

// A read that began before a commit does not put its (old) value in the
// cache.
func TestReadCacheSkipsReadsAcrossACommit(t *testing.T) {
	db, err := appdb.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := newReadCache(db)
	commitWrites(t, db, c, 1, state.WriteSet{{Key: []byte("k"), Value: []byte("old")}})
	// Simulate the interleaving: the read took its generation, the commit
	// ran, then the read finishes.
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	commitWrites(t, db, c, 2, state.WriteSet{{Key: []byte("k"), Value: []byte("new")}})
	c.mu.Lock()
	if c.gen == gen {
		t.Fatal("a commit did not start a new generation")
	}
	c.mu.Unlock()
	// And under real concurrency every read sees one of the committed values.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if v, _ := c.Get([]byte("k")); string(v) != "new" && string(v) != "newer" {
					t.Errorf("read %q", v)
					return
				}
			}
		}()
	}
	commitWrites(t, db, c, 3, state.WriteSet{{Key: []byte("k"), Value: []byte("newer")}})
	wg.Wait()
	if v := get(t, c, "k"); string(v) != "newer" {
		t.Fatalf("after the commits: %q", v)
	}
}

// The cache holds at most readCacheBytes.
func TestReadCacheBounded(t *testing.T) {
	db, err := appdb.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := newReadCache(db)
	val := bytes.Repeat([]byte{1}, readCacheMaxValue)
	var ws state.WriteSet
	n := 2*readCacheBytes/readCacheMaxValue + 10
	for i := 0; i < n; i++ {
		ws = append(ws, state.Write{Key: []byte{byte(i >> 16), byte(i >> 8), byte(i)}, Value: val})
	}
	commitWrites(t, db, c, 1, ws)
	for _, w := range ws {
		if v, _ := c.Get(w.Key); len(v) != len(val) {
			t.Fatal("wrong value")
		}
		if c.bytes > readCacheBytes {
			t.Fatalf("cache holds %d bytes", c.bytes)
		}
	}
}
