package policy_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/policy"
	"github.com/cella-network/cella/internal/contract/wasm"
)

// The chain's copy of the upload rules must be the engine's: a host
// function added to the engine without updating the table fails here.
func TestMatchesEngine(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		cfg    engine.Config
		policy wasm.Policy
	}{
		{"transaction", engine.Config{}, policy.Transaction()},
		{"query", engine.Config{AllowFloats: true}, policy.Query()},
	} {
		e, err := engine.New(ctx, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Policy(); !reflect.DeepEqual(got, c.policy) {
			t.Errorf("%s: engine policy differs from policy.%s()\n engine %v\n policy %v", c.name, c.name, got.ImportKeys(), c.policy.ImportKeys())
		}
		_ = e.Close(ctx)
	}
}

func TestFloats(t *testing.T) {
	code, err := os.ReadFile("../testcontracts/float.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wasm.Check(code, policy.Transaction()); !errors.Is(err, wasm.ErrInvalid) {
		t.Fatalf("float code in transaction mode: %v", err)
	}
	if _, err := wasm.Check(code, policy.Query()); err != nil {
		t.Fatalf("float code in query mode: %v", err)
	}
	flipper, err := os.ReadFile("../testcontracts/flipper.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wasm.Check(flipper, policy.Transaction()); err != nil {
		t.Fatalf("flipper: %v", err)
	}
}
