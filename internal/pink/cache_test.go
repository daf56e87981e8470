package pink

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
)

func TestMemCacheQuota(t *testing.T) {
	clk := fixedClock(0)
	c := NewMemCache(MemCacheConfig{DefaultQuota: 10}, &clk)
	a := engine.AccountID{1}
	if err := c.Set(a, []byte("k"), []byte("123456789")); err != nil { // 1+9 = 10: fits exactly
		t.Fatal(err)
	}
	if err := c.Set(a, []byte("j"), []byte("1")); err != ErrQuotaExceeded {
		t.Fatalf("over quota: %v", err)
	}
	// Replacing a value counts the old one as freed; a failed replace
	// keeps the old value.
	if err := c.Set(a, []byte("k"), []byte("abcdefghi")); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(a, []byte("k"), []byte("abcdefghij")); err != ErrQuotaExceeded {
		t.Fatalf("replace over quota: %v", err)
	}
	if v, ok := c.Get(a, []byte("k")); !ok || string(v) != "abcdefghi" {
		t.Fatalf("old value lost: %q %v", v, ok)
	}
	// Expired entries make room.
	c.SetExpiration(a, []byte("k"), 5)
	clk = 5000
	if err := c.Set(a, []byte("j"), []byte("1")); err != nil {
		t.Fatalf("expired entry not reclaimed: %v", err)
	}
	if n, total := c.Size(a); n != 2 || total != 2 {
		t.Fatalf("size %d total %d", n, total)
	}
	// Quota 0: the contract may not cache; its data goes.
	c.SetQuota(a, 0)
	if err := c.Set(a, []byte("x"), nil); err != ErrQuotaExceeded {
		t.Fatalf("quota 0: %v", err)
	}
	if _, total := c.Size(a); total != 0 {
		t.Fatalf("total %d after quota 0", total)
	}
}

func TestMemCacheShrinkQuotaEvictsSoonestExpiry(t *testing.T) {
	clk := fixedClock(0)
	c := NewMemCache(MemCacheConfig{DefaultQuota: 100}, &clk)
	a := engine.AccountID{1}
	for i, exp := range []uint64{50, 10, 30} {
		k := []byte{byte('a' + i)}
		if err := c.Set(a, k, []byte("123456789")); err != nil {
			t.Fatal(err)
		}
		c.SetExpiration(a, k, exp)
	}
	c.SetQuota(a, 20) // 30 bytes held: drop b (expires at 10)
	if _, ok := c.Get(a, []byte("b")); ok {
		t.Fatal("b survived")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(a, []byte(k)); !ok {
			t.Fatalf("%s evicted", k)
		}
	}
}

func TestMemCacheExpiry(t *testing.T) {
	clk := fixedClock(1000)
	c := NewMemCache(MemCacheConfig{DefaultQuota: 100}, &clk)
	a := engine.AccountID{1}
	_ = c.Set(a, []byte("k"), []byte("v"))
	clk += DefaultCacheTTL*1000 - 1000
	if _, ok := c.Get(a, []byte("k")); !ok {
		t.Fatal("expired before 7 days")
	}
	clk += 1000
	if _, ok := c.Get(a, []byte("k")); ok {
		t.Fatal("alive after 7 days")
	}
	// An expired key is removed by SetExpiration, but Remove still returns
	// it if it is there (as Phala).
	_ = c.Set(a, []byte("r"), []byte("v"))
	c.SetExpiration(a, []byte("r"), 1)
	clk += 1000
	if v, ok := c.Remove(a, []byte("r")); !ok || string(v) != "v" {
		t.Fatalf("remove expired: %q %v", v, ok)
	}
	// set_expiration(0) removes.
	_ = c.Set(a, []byte("z"), []byte("v"))
	c.SetExpiration(a, []byte("z"), 0)
	if _, ok := c.Remove(a, []byte("z")); ok {
		t.Fatal("expiration 0 did not remove")
	}
}

func TestMemCacheTotalCapDeterministic(t *testing.T) {
	run := func() []string {
		clk := fixedClock(0)
		c := NewMemCache(MemCacheConfig{DefaultQuota: 1000, Total: 800}, &clk)
		for i := range 40 {
			a := engine.AccountID{byte(i % 4)}
			if err := c.Set(a, fmt.Appendf(nil, "k%02d", i), bytes.Repeat([]byte{1}, 47)); err != nil {
				t.Fatal(err)
			}
			clk += 1000
			if _, total := c.Size(a); total > 800 {
				t.Fatalf("total %d over cap", total)
			}
		}
		var live []string
		for i := range 40 {
			if _, ok := c.Get(engine.AccountID{byte(i % 4)}, fmt.Appendf(nil, "k%02d", i)); ok {
				live = append(live, fmt.Sprint(i))
			}
		}
		return live
	}
	a, b := run(), run()
	if fmt.Sprint(a) != fmt.Sprint(b) || len(a) == 0 || a[len(a)-1] != "39" {
		t.Fatalf("eviction not deterministic or newest lost: %v vs %v", a, b)
	}
	if a[0] == "0" {
		t.Fatal("oldest entry survived a full cache")
	}
	// A value larger than the total cap is refused outright.
	clk := fixedClock(0)
	c := NewMemCache(MemCacheConfig{DefaultQuota: 1000, Total: 10}, &clk)
	if err := c.Set(engine.AccountID{}, []byte("k"), make([]byte, 10)); err != ErrQuotaExceeded {
		t.Fatalf("oversized: %v", err)
	}
}

func TestApplyCacheOpsNilCache(t *testing.T) {
	ApplyCacheOps(nil, engine.AccountID{}, []CacheOp{{Kind: CacheSet}}) // must not panic
	clk := fixedClock(0)
	c := NewMemCache(MemCacheConfig{DefaultQuota: 100}, &clk)
	ApplyCacheOps(c, engine.AccountID{}, []CacheOp{
		{Kind: CacheSet, Key: []byte("a"), Value: []byte("1")},
		{Kind: CacheSet, Key: []byte("b"), Value: []byte("2")},
		{Kind: CacheRemove, Key: []byte("a")},
	})
	if _, ok := c.Get(engine.AccountID{}, []byte("a")); ok {
		t.Fatal("remove not applied")
	}
	if v, _ := c.Get(engine.AccountID{}, []byte("b")); string(v) != "2" {
		t.Fatal("set not applied")
	}
}

func TestMemCachePeriodicGC(t *testing.T) {
	clk := fixedClock(0)
	c := NewMemCache(MemCacheConfig{DefaultQuota: 100, TTL: 1}, &clk)
	c.gcEvery = 3
	a, b := engine.AccountID{1}, engine.AccountID{2}
	_ = c.Set(a, []byte("k"), []byte("v")) // write 1
	clk = 2000
	_ = c.Set(b, []byte("x"), []byte("y")) // write 2
	if _, total := c.Size(a); total != 4 {
		t.Fatalf("total %d before gc", total)
	}
	_ = c.Set(b, []byte("x"), []byte("z")) // write 3: gc drops a's expired entry
	if n, total := c.Size(a); n != 0 || total != 2 {
		t.Fatalf("after gc: a %d total %d", n, total)
	}
}
