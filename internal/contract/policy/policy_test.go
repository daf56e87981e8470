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

// BenchmarkCheckPerByte measures validation under the transaction policy
// (the chain charges phat.UploadCodeWeightPerByte = 50 units ≈ 50 ns per
// byte of an upload).
func BenchmarkCheckPerByte(b *testing.B) {
	for _, name := range []string{"erc20", "flipper"} {
		code, err := os.ReadFile("../testcontracts/" + name + ".wasm")
		if err != nil {
			b.Fatal(err)
		}
		p := policy.Transaction()
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(code)))
			for b.Loop() {
				if _, err := wasm.Check(code, p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(code)), "ns/byte")
		})
	}
}
