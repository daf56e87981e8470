package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cella-network/cella/internal/defaults"
)

// endpointAnnotation marks a flag whose value is an address: "http" for an
// address the command connects to (a node's RPC, a pRuntime's API, a
// worker's URL), "listen" for a CometBFT listen address. Every command's
// PersistentPreRunE normalises such flags with normalizeEndpoint, so that
// every command takes the same spellings.
const endpointAnnotation = "cella_endpoint"

// markEndpoint marks cmd's flag name as an endpoint of kind "http" or
// "listen" (see endpointAnnotation).
func markEndpoint(cmd *cobra.Command, name, kind string) {
	_ = cmd.Flags().SetAnnotation(name, endpointAnnotation, []string{kind})
}

// normalizeEndpoint is defaults.NormalizeEndpoint, the one normaliser of
// every address flag of cella and pruntime.
func normalizeEndpoint(s, kind string) (string, error) { return defaults.NormalizeEndpoint(s, kind) }

// normalizeEndpointFlags rewrites cmd's endpoint flags (markEndpoint) in
// their canonical form, or fails naming the flag.
func normalizeEndpointFlags(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		kind := f.Annotations[endpointAnnotation]
		if firstErr != nil || len(kind) == 0 {
			return
		}
		v, err := normalizeEndpoint(f.Value.String(), kind[0])
		if err != nil {
			firstErr = invalidArg(fmt.Errorf("--%s %w", f.Name, err))
			return
		}
		if v != f.Value.String() {
			if err := f.Value.Set(v); err != nil {
				firstErr = invalidArg(fmt.Errorf("--%s: %w", f.Name, err))
			}
		}
	})
	return firstErr
}
