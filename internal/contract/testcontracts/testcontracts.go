// Package testcontracts holds the contracts Cella's own tests and benchmarks
// run: hand-written WAT sources in the ink! ABI, their built .wasm (committed,
// so tests never need wat2wasm) and hand-written ink!-style metadata.
//
// Regenerate the .wasm files with `go generate` (needs wabt's wat2wasm).
package testcontracts

//go:generate sh gen.sh

import (
	"embed"
	"fmt"
)

//go:embed *.wasm *.json
var files embed.FS

// Wasm returns the built code of the named contract (e.g. "flipper").
func Wasm(name string) []byte { return mustRead(name + ".wasm") }

// Metadata returns the metadata JSON of the named contract.
func Metadata(name string) []byte { return mustRead(name + ".json") }

// Names lists the contracts with code, in a fixed order.
var Names = []string{"bomb", "caller", "compute", "erc20", "events", "flipper", "float", "hooker", "hostfns", "loop", "oob", "pricefeed", "recurse", "reverter"}

func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("testcontracts: %v", err))
	}
	return b
}
