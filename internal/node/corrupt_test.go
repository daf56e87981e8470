package node_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
)

// TestStartOnDamagedAppStore: a node whose application store has a
// damaged table refuses to start with a one-line error naming the file,
// not pebble's panic.
func TestStartOnDamagedAppStore(t *testing.T) {
	home := t.TempDir()
	o := nodetest.Options(t)
	n, c := startDev(t, home, o)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitHeight(ctx, t, c, 3)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening replays the store's log into a table.
	db, err := appdb.Open(node.AppDataDir(home))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	tables, _ := filepath.Glob(filepath.Join(node.AppDataDir(home), "*.sst"))
	if len(tables) == 0 {
		t.Fatal("the store has no table to damage")
	}
	for _, p := range tables {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(b)-100; i++ {
			b[i] ^= 0x5a
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err = node.Start(node.NewConfig(home, o), nodetest.Log())
	if err == nil {
		n.Close()
		t.Fatal("the node started on a damaged store")
	}
	if !errors.Is(err, appdb.ErrCorrupt) || !strings.Contains(err.Error(), ".sst") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("start: %q; want one line wrapping appdb.ErrCorrupt and naming the table", err)
	}
	t.Log(err)
}
