package node

import (
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tee/tdx"
)

// addHardwareVerifiers adds the verifiers of hardware TEEs. TDX quotes are
// accepted only with TCB status UpToDate (the default policy); making the
// policy a governed parameter comes with governance.
func addHardwareVerifiers(vs tee.Verifiers) {
	vs[tee.KindTDX] = tdx.NewVerifier(tdx.Policy{})
}
