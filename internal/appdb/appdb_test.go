package appdb

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
)

func TestCommitAndBlockHashes(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	gen := &BlockRecord{Height: 0, WriteSet: state.WriteSet{{Key: []byte("k"), Value: []byte("v0")}}, AppHash: [32]byte{1}}
	if err := db.Commit(gen); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.BlockHash(0); ok || err != nil {
		t.Fatalf("height 0: %v %v", ok, err)
	}
	if err := db.CommitBlock(&BlockRecord{Height: 0}, [32]byte{}); err == nil {
		t.Fatal("CommitBlock accepted height 0")
	}
	msgs := []msg.Message{{Origin: msg.OriginModule("registry"), Topic: []byte("t"), Payload: []byte("p")}}
	rec := &BlockRecord{Height: 1, WriteSet: state.WriteSet{{Key: []byte("k"), Value: []byte("v1")}}, Messages: msgs, AppHash: [32]byte{2}}
	if err := db.CommitBlock(rec, [32]byte{0xbb, 1}); err != nil {
		t.Fatal(err)
	}
	check := func(db *DB) {
		t.Helper()
		if h, ok, err := db.BlockHash(1); err != nil || !ok || h != ([32]byte{0xbb, 1}) {
			t.Fatalf("block hash 1: %x %v %v", h, ok, err)
		}
		if _, ok, err := db.BlockHash(2); ok || err != nil {
			t.Fatalf("block hash 2: %v %v", ok, err)
		}
		// The side record is not state: no state key sees it.
		if v, err := db.Get([]byte{}); v != nil || err != nil {
			t.Fatalf("state get: %x %v", v, err)
		}
		if v, err := db.Get([]byte("k")); err != nil || string(v) != "v1" {
			t.Fatalf("state k: %q %v", v, err)
		}
		got, err := db.Block(1)
		if err != nil || len(got.Messages) != 1 || !bytes.Equal(got.Messages[0].Payload, []byte("p")) || got.AppHash != rec.AppHash {
			t.Fatalf("block 1: %+v %v", got, err)
		}
		m, err := db.Meta()
		if err != nil || m.Height != 1 || m.AppHash != rec.AppHash {
			t.Fatalf("meta %+v %v", m, err)
		}
		if _, err := db.Block(5); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	check(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check(db)
}
