package pherry

import (
	"github.com/cella-network/cella/internal/tee/tdx"
)

// PCS settings of Config.PCSURL. The client itself is tdx.PCSClient.
const (
	// DefaultPCSURL is Intel's Provisioning Certification Service; a PCCS
	// mirror serves the same v4 API.
	DefaultPCSURL = tdx.DefaultPCSURL
	// PCSOff as Config.PCSURL disables fetching collateral: TDX
	// registrations then carry what the pRuntime supplied.
	PCSOff = "off"
)
