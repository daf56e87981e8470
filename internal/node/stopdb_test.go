package node

import (
	"errors"
	"sync"
	"testing"

	dbm "github.com/cometbft/cometbft-db"
)

// TestStoppableDBAfterClose: once closed, reads answer "not found" instead
// of leveldb's "closed" error (on which CometBFT's block store panics) and
// writes fail; Close is idempotent.
func TestStoppableDBAfterClose(t *testing.T) {
	d, raw := openStoppable(t)
	if v, err := d.Get([]byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("Get before close = %q, %v", v, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Get([]byte("k")); err == nil {
		t.Fatal("the wrapped database was not closed")
	}
	if v, err := d.Get([]byte("k")); err != nil || v != nil {
		t.Fatalf("Get after close = %q, %v; want nil, nil", v, err)
	}
	if ok, err := d.Has([]byte("k")); err != nil || ok {
		t.Fatalf("Has after close = %v, %v; want false, nil", ok, err)
	}
	for name, f := range map[string]func() error{
		"Set":        func() error { return d.Set([]byte("a"), []byte("b")) },
		"SetSync":    func() error { return d.SetSync([]byte("a"), []byte("b")) },
		"Delete":     func() error { return d.Delete([]byte("a")) },
		"DeleteSync": func() error { return d.DeleteSync([]byte("a")) },
		"Iterator":   func() error { _, err := d.Iterator(nil, nil); return err },
		"Reverse":    func() error { _, err := d.ReverseIterator(nil, nil); return err },
	} {
		if err := f(); !errors.Is(err, errDBClosed) {
			t.Errorf("%s after close: %v, want errDBClosed", name, err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestStoppableDBCloseDuringReads closes the database while readers run, as
// CometBFT's reactor goroutines do on stop: no read may see an error (run
// with -race to check the locking too).
func TestStoppableDBCloseDuringReads(t *testing.T) {
	d, _ := openStoppable(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 2000; j++ {
				if _, err := d.Get([]byte("k")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("read during close: %v", err)
	}
}

// openStoppable opens a stoppableDB over a new leveldb holding k = v.
func openStoppable(t *testing.T) (*stoppableDB, dbm.DB) {
	t.Helper()
	raw, err := dbm.NewGoLevelDB("t", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := &stoppableDB{DB: raw}
	if err := d.Set([]byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	return d, raw
}
