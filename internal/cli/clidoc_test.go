package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/cli.md")

// TestReferenceCurrent fails when docs/cli.md no longer matches the commands.
func TestReferenceCurrent(t *testing.T) {
	var b bytes.Buffer
	WriteReference(&b)
	path := filepath.Join("..", "..", "docs", "cli.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./internal/cli -run Reference -update)", err)
	}
	if !bytes.Equal(old, b.Bytes()) {
		t.Fatal("docs/cli.md is out of date; run: go test ./internal/cli -run Reference -update")
	}
}

// TestEveryCommandHasHelp checks that every command explains itself.
func TestEveryCommandHasHelp(t *testing.T) {
	root := newRootCmd()
	for _, c := range root.Commands() {
		if c.Short == "" {
			t.Errorf("%s has no short help", c.CommandPath())
		}
		for _, s := range c.Commands() {
			if s.Short == "" {
				t.Errorf("%s has no short help", s.CommandPath())
			}
		}
	}
}
