package pink

// GasSchedule is what the extension charges, on top of the engine's
// ChainExtension base cost and its per-byte cost of copying input and output
// through contract memory. Costs are in the engine's gas units and are
// calibrated against engine.DefaultHostCosts (Sr25519Verify 15000,
// EcdsaRecover 20000, HashPerByte 2, StorageWrite 1000): a signature
// operation costs about what the engine's own verify host functions cost,
// and bytes that are hashed, stored or sent cost like hashed bytes.
type GasSchedule struct {
	// Base is charged on every call; PerByte for every input and output
	// byte (decoding and encoding).
	Base, PerByte uint64
	// HashPerByte is charged per message byte that is hashed or signed.
	HashPerByte uint64
	// Sr25519Sign … EcdsaVerify are one signature operation each.
	Sr25519Sign, Sr25519Verify uint64
	Ed25519Sign, Ed25519Verify uint64
	EcdsaSign, EcdsaVerify     uint64
	// PublicKey is deriving a public key from a secret key.
	PublicKey uint64
	// DeriveKey is derive_sr25519_key (HKDF, key expansion, a scalar
	// multiplication).
	DeriveKey uint64
	// HTTPRequest is each HTTP request (queries); HTTPPerByte each byte of
	// request and response body.
	HTTPRequest, HTTPPerByte uint64
	// CacheOp is each cache access; StorePerByte each byte stored in the
	// cache or the log.
	CacheOp, StorePerByte uint64
	// Log is each log line.
	Log uint64
	// StateRead is balance_of and code_exists.
	StateRead uint64
}

// DefaultGas is Cella's first pink gas schedule.
var DefaultGas = GasSchedule{
	Base:          200,
	PerByte:       1,
	HashPerByte:   2,
	Sr25519Sign:   20000,
	Sr25519Verify: 15000,
	Ed25519Sign:   10000,
	Ed25519Verify: 12000,
	EcdsaSign:     20000,
	EcdsaVerify:   20000,
	PublicKey:     10000,
	DeriveKey:     25000,
	HTTPRequest:   100000,
	HTTPPerByte:   2,
	CacheOp:       500,
	StorePerByte:  2,
	Log:           200,
	StateRead:     500,
}
