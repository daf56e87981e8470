package state

// Unexported helpers that the external tests (package state_test) use.
var (
	ComputeFee  = computeFee
	ProtoTxSize = protoTxSize
	CodeNames   = codeNames
)
