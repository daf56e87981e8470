package node

import "github.com/cella-network/cella/internal/tee"

// addHardwareVerifiers adds the verifiers of hardware TEEs (none yet: TDX
// verification lands with internal/tee/tdx).
func addHardwareVerifiers(vs tee.Verifiers) {}
