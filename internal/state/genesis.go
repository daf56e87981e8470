package state

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tx"
)

// AppVersion1 is the first state-machine version (CometBFT's
// ConsensusParams.Version.App).
const AppVersion1 uint64 = 1

// AppVersion2 is AppVersion1 plus gov.cancel_upgrade and the on-chain
// upgrade history, which its migration starts (internal/state/modules).
const AppVersion2 uint64 = 2

// Token denomination: 12 decimals.
const (
	Decimals = 12
	// Unit is one whole token in base units (10^12).
	Unit uint64 = 1_000_000_000_000
)

// GenesisDomain is the first field of the genesis hash preimage.
const GenesisDomain = "cella/genesis/v1"

// CometBFT limits that genesis values must respect.
const (
	// MaxChainIDLen is CometBFT's limit on the chain id.
	MaxChainIDLen = 50
	// MaxTotalVotingPower is CometBFT's limit on the validator set's total power.
	MaxTotalVotingPower = math.MaxInt64 / 8
	// MaxBlockSizeBytes is CometBFT's hard limit on ConsensusParams.Block.MaxBytes.
	MaxBlockSizeBytes = 100 << 20
	// blockOverheadBytes is what Validate keeps free in a block, besides
	// evidence, for the header and last commit when a block carries one
	// transaction of tx.MaxTxBytes.
	blockOverheadBytes = 1 << 20
)

// ErrInvalidGenesis is wrapped by every Genesis.Validate error.
var ErrInvalidGenesis = errors.New("state: invalid genesis")

// Validator is a CometBFT validator: an ed25519 public key and its voting power.
type Validator struct {
	PubKey [32]byte
	Power  int64
}

// EncodeSCALE writes the validator as ([u8; 32], i64).
func (v *Validator) EncodeSCALE(w *scale.Writer) { w.Raw(v.PubKey[:]); w.I64(v.Power) }

// DecodeSCALE reads a validator.
func (v *Validator) DecodeSCALE(r *scale.Reader) { r.Fixed(v.PubKey[:]); v.Power = r.I64() }

// ConsensusParams are the CometBFT consensus parameters Cella fixes at
// genesis. The node translates them into CometBFT's types; AppVersion (from
// Genesis) is ConsensusParams.Version.App.
type ConsensusParams struct {
	// BlockMaxBytes is Block.MaxBytes; it must leave room for one transaction
	// of tx.MaxTxBytes plus evidence and overhead.
	BlockMaxBytes int64
	// BlockMaxGas is Block.MaxGas; Cella limits blocks by weight itself, so -1.
	BlockMaxGas int64
	// EvidenceMaxAgeNumBlocks is Evidence.MaxAgeNumBlocks.
	EvidenceMaxAgeNumBlocks int64
	// EvidenceMaxAgeNanos is Evidence.MaxAgeDuration in nanoseconds.
	EvidenceMaxAgeNanos int64
	// EvidenceMaxBytes is Evidence.MaxBytes.
	EvidenceMaxBytes int64
	// ValidatorPubKeyTypes is Validator.PubKeyTypes; only "ed25519" is supported.
	ValidatorPubKeyTypes []string
	// VoteExtensionsEnableHeight is ABCI.VoteExtensionsEnableHeight (0: never).
	VoteExtensionsEnableHeight int64
}

// DefaultConsensusParams returns the consensus parameters of Cella chains:
// 8 MiB blocks, no gas limit, 1 MiB of evidence, evidence valid for 100,000
// blocks or 48 hours, ed25519 validators, no vote extensions.
func DefaultConsensusParams() ConsensusParams {
	return ConsensusParams{
		BlockMaxBytes:           8 << 20,
		BlockMaxGas:             -1,
		EvidenceMaxAgeNumBlocks: 100_000,
		EvidenceMaxAgeNanos:     48 * 3600 * 1_000_000_000,
		EvidenceMaxBytes:        1 << 20,
		ValidatorPubKeyTypes:    []string{"ed25519"},
	}
}

func (c *ConsensusParams) encode(w *scale.Writer, appVersion uint64) {
	w.U64(appVersion)
	w.I64(c.BlockMaxBytes)
	w.I64(c.BlockMaxGas)
	w.I64(c.EvidenceMaxAgeNumBlocks)
	w.I64(c.EvidenceMaxAgeNanos)
	w.I64(c.EvidenceMaxBytes)
	w.Compact(uint64(len(c.ValidatorPubKeyTypes)))
	for _, s := range c.ValidatorPubKeyTypes {
		w.String(s)
	}
	w.I64(c.VoteExtensionsEnableHeight)
}

func (c *ConsensusParams) decode(r *scale.Reader) (appVersion uint64) {
	appVersion = r.U64()
	c.BlockMaxBytes = r.I64()
	c.BlockMaxGas = r.I64()
	c.EvidenceMaxAgeNumBlocks = r.I64()
	c.EvidenceMaxAgeNanos = r.I64()
	c.EvidenceMaxBytes = r.I64()
	n := r.Len(1)
	c.ValidatorPubKeyTypes = nil
	for i := 0; i < n && r.Err() == nil; i++ {
		c.ValidatorPubKeyTypes = append(c.ValidatorPubKeyTypes, r.String())
	}
	c.VoteExtensionsEnableHeight = r.I64()
	return appVersion
}

// Weights: one weight unit is meant as about one nanosecond of execution on
// the reference machine. Every transaction weighs TxBaseWeight (signature
// check, nonce, fee) plus its call's weight.
// Each module's package defines its calls' weights.
const TxBaseWeight uint64 = 40_000

// Params are the state machine's economic and limit parameters. They are part
// of the genesis state and stored under KeyParams; the state machine reads
// them from state each block.
//
// The fee of a transaction of n encoded bytes and weight w (TxBaseWeight +
// call weight) is BaseFee + ByteFee·n + WeightFee·w, in base units, computed
// in checked u128 arithmetic. It is credited to TreasuryAccount.
type Params struct {
	// ExistentialDeposit is the smallest non-zero balance an account may hold
	// after a transfer (0 disables the rule).
	ExistentialDeposit scale.U128
	BaseFee            scale.U128
	ByteFee            scale.U128
	WeightFee          scale.U128
	// MaxBlockWeight bounds the sum of the weights of a block's transactions.
	MaxBlockWeight uint64
	// SS58Prefix is the chain's address prefix (42 = generic Substrate).
	SS58Prefix uint16
}

// EncodeSCALE writes the params.
func (p *Params) EncodeSCALE(w *scale.Writer) {
	w.U128(p.ExistentialDeposit)
	w.U128(p.BaseFee)
	w.U128(p.ByteFee)
	w.U128(p.WeightFee)
	w.U64(p.MaxBlockWeight)
	w.U16(p.SS58Prefix)
}

// DecodeSCALE reads params.
func (p *Params) DecodeSCALE(r *scale.Reader) {
	p.ExistentialDeposit = r.U128()
	p.BaseFee = r.U128()
	p.ByteFee = r.U128()
	p.WeightFee = r.U128()
	p.MaxBlockWeight = r.U64()
	p.SS58Prefix = r.U16()
}

// DefaultParams: existential deposit 0.01 token; fees of 0.001 token per
// transaction, 10^-6 token per byte and 10^-9 token per weight unit (a
// transfer of about 200 bytes costs about 0.00125 token); at most 500,000,000
// weight units per block (about 10,000 transfers); SS58 prefix 42.
func DefaultParams() Params {
	return Params{
		ExistentialDeposit: scale.U128From(Unit / 100),
		BaseFee:            scale.U128From(Unit / 1000),
		ByteFee:            scale.U128From(Unit / 1_000_000),
		WeightFee:          scale.U128From(Unit / 1_000_000_000),
		MaxBlockWeight:     500_000_000,
		SS58Prefix:         42,
	}
}

// Allocation is a genesis balance.
type Allocation struct {
	Account keys.PublicKey
	Free    scale.U128
}

// AppGenesis is the state machine's part of the genesis.
//
// Fees have no configurable recipient: they go to TreasuryAccount, an account
// whose id is blake2-256("cella/treasury/v1"), which nobody holds a key for
// (governance will spend it later). Total issuance is thus constant.
type AppGenesis struct {
	// Dev enables dev-only calls (validators.set_power). Fixed for the chain's life.
	Dev      bool
	Params   Params
	Balances []Allocation
	// Registry configures worker registration.
	Registry RegistryGenesis
	// Admin, when set, is the account that may dispatch privileged calls
	// through admin.sudo (as Substrate's sudo), until governance does.
	Admin *keys.PublicKey
	// DevBootstrap (dev chains with an Admin only): the first worker to
	// register also becomes a gatekeeper and the only worker of cluster 0,
	// owned by the admin.
	DevBootstrap bool
	// Gov configures governance (internal/state/gov); nil takes
	// DefaultGovGenesis (no council: token-holder referendums only). It is
	// encoded last and only when set, so that genesis hashes of chains
	// without it are unchanged.
	Gov *GovGenesis
}

// MaxCouncilMembers bounds the governance council.
const MaxCouncilMembers = 64

// GovGenesis is governance's configuration: the council, its approval
// threshold, and the timings and amounts of proposals and referendums.
// Governance changes the council itself (gov.set_council); the rest is
// fixed by the genesis.
type GovGenesis struct {
	// Council members propose and approve privileged calls; stored sorted.
	Council []keys.PublicKey
	// Threshold is how many council ayes approve a council proposal
	// (1 ≤ Threshold ≤ len(Council); 0 with an empty council).
	Threshold uint32
	// EnactmentDelay is how many blocks after its approval a proposal is
	// enacted (≥ 1): an approval at height H enacts at the end of block
	// H + EnactmentDelay.
	EnactmentDelay uint64
	// VotingPeriod is how many blocks a proposal stays open for votes
	// (≥ 1): a referendum is tallied, and an unapproved council proposal
	// expires, at the end of block created + VotingPeriod.
	VotingPeriod uint64
	// ReferendumDeposit is what a token holder locks to propose a
	// referendum; it is returned when the referendum closes.
	ReferendumDeposit scale.U128
	// MinTurnout is the least stake (ayes + nays) a referendum needs to pass.
	MinTurnout scale.U128
}

// DefaultGovGenesis is the configuration of a chain whose genesis has no
// governance section: no council, a 10-block enactment delay, a
// 14,400-block (about a day of 6 s blocks) voting period, a 100-token
// referendum deposit and a 10,000-token minimum turnout.
func DefaultGovGenesis() GovGenesis {
	return GovGenesis{
		EnactmentDelay:    10,
		VotingPeriod:      14_400,
		ReferendumDeposit: scale.U128From(100 * Unit),
		MinTurnout:        scale.U128From(10_000 * Unit),
	}
}

// DevGovGenesis is the governance of `cella dev`: //Alice, //Bob and
// //Charlie on the council with a threshold of 2, a 2-block enactment
// delay, a 20-block voting period, a 10-token deposit and a 1-token
// minimum turnout.
func DevGovGenesis() *GovGenesis {
	g := &GovGenesis{Threshold: 2, EnactmentDelay: 2, VotingPeriod: 20,
		ReferendumDeposit: scale.U128From(10 * Unit), MinTurnout: scale.U128From(Unit)}
	for _, name := range DevAccountNames[:3] {
		p, err := keys.FromURI("//" + name)
		if err != nil { // fixed, valid URIs: cannot happen
			panic(fmt.Sprintf("state: deriving //%s: %v", name, err))
		}
		g.Council = append(g.Council, p.Public())
	}
	return g
}

// EncodeSCALE writes (Vec<[u8; 32]>, u32, u64, u64, u128, u128).
func (g *GovGenesis) EncodeSCALE(w *scale.Writer) {
	scale.WriteVec(w, g.Council, func(w *scale.Writer, k keys.PublicKey) { w.Raw(k[:]) })
	w.U32(g.Threshold)
	w.U64(g.EnactmentDelay)
	w.U64(g.VotingPeriod)
	w.U128(g.ReferendumDeposit)
	w.U128(g.MinTurnout)
}

// DecodeSCALE reads a GovGenesis.
func (g *GovGenesis) DecodeSCALE(r *scale.Reader) {
	g.Council = scale.ReadVec(r, 32, func(r *scale.Reader) (k keys.PublicKey) { r.Fixed(k[:]); return k })
	g.Threshold = r.U32()
	g.EnactmentDelay = r.U64()
	g.VotingPeriod = r.U64()
	g.ReferendumDeposit = r.U128()
	g.MinTurnout = r.U128()
}

// ValidateCouncil checks a council and its threshold: at most
// MaxCouncilMembers distinct members, 1 ≤ threshold ≤ members (threshold 0
// only for an empty council).
func ValidateCouncil(council []keys.PublicKey, threshold uint32) error {
	if len(council) > MaxCouncilMembers {
		return fmt.Errorf("council of %d members, at most %d", len(council), MaxCouncilMembers)
	}
	seen := make(map[keys.PublicKey]bool, len(council))
	for _, k := range council {
		if seen[k] {
			return fmt.Errorf("council member %s twice", k.Hex())
		}
		seen[k] = true
	}
	if len(council) == 0 && threshold != 0 {
		return fmt.Errorf("threshold %d with an empty council", threshold)
	}
	if len(council) > 0 && (threshold == 0 || int(threshold) > len(council)) {
		return fmt.Errorf("threshold %d out of range [1, %d]", threshold, len(council))
	}
	return nil
}

// Validate checks the governance configuration.
func (g *GovGenesis) Validate() error {
	if err := ValidateCouncil(g.Council, g.Threshold); err != nil {
		return err
	}
	if g.EnactmentDelay == 0 || g.EnactmentDelay > math.MaxUint32 {
		return fmt.Errorf("enactment delay %d out of range [1, 2^32-1]", g.EnactmentDelay)
	}
	if g.VotingPeriod == 0 || g.VotingPeriod > math.MaxUint32 {
		return fmt.Errorf("voting period %d out of range [1, 2^32-1]", g.VotingPeriod)
	}
	return nil
}

// RegistryGenesis is the registry's genesis configuration.
type RegistryGenesis struct {
	// AllowDevAttestation admits attestations of kind "dev"; only a dev
	// chain (Dev = true) may set it.
	AllowDevAttestation bool
	// DevAttestationRoot is the sr25519 public key of the dev TEE root that
	// signs dev quotes (required when AllowDevAttestation is set).
	DevAttestationRoot [32]byte
	// Measurements is the allow-list: blake2-256 hashes of the canonical
	// measurements (registry.MeasurementHash) that workers may run. Stored sorted.
	Measurements [][32]byte
}

// AllowMeasurement adds a measurement hash to the allow-list (once).
func (r *RegistryGenesis) AllowMeasurement(h [32]byte) {
	if !slices.Contains(r.Measurements, h) {
		r.Measurements = append(r.Measurements, h)
	}
}

func (a *AppGenesis) encode(w *scale.Writer) {
	w.Bool(a.Dev)
	a.Params.EncodeSCALE(w)
	w.Compact(uint64(len(a.Balances)))
	for _, b := range a.Balances {
		w.Raw(b.Account[:])
		w.U128(b.Free)
	}
	w.Bool(a.Registry.AllowDevAttestation)
	w.Raw(a.Registry.DevAttestationRoot[:])
	scale.WriteVec(w, a.Registry.Measurements, func(w *scale.Writer, h [32]byte) { w.Raw(h[:]) })
	if a.Admin == nil {
		w.U8(0)
	} else {
		w.U8(1)
		w.Raw(a.Admin[:])
	}
	w.Bool(a.DevBootstrap)
	if a.Gov != nil {
		w.U8(1)
		a.Gov.EncodeSCALE(w)
	}
}

func (a *AppGenesis) decode(r *scale.Reader) {
	a.Dev = r.Bool()
	a.Params.DecodeSCALE(r)
	n := r.Len(48)
	a.Balances = make([]Allocation, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var b Allocation
		r.Fixed(b.Account[:])
		b.Free = r.U128()
		a.Balances = append(a.Balances, b)
	}
	a.Registry.AllowDevAttestation = r.Bool()
	r.Fixed(a.Registry.DevAttestationRoot[:])
	a.Registry.Measurements = scale.ReadVec(r, 32, func(r *scale.Reader) (h [32]byte) { r.Fixed(h[:]); return h })
	a.Admin = nil
	switch tag := r.U8(); tag {
	case 0:
	case 1:
		var k keys.PublicKey
		r.Fixed(k[:])
		a.Admin = &k
	default:
		if r.Err() == nil {
			r.Fail(fmt.Errorf("admin option tag %d", tag))
		}
	}
	a.DevBootstrap = r.Bool()
	a.Gov = nil
	if r.Err() == nil && r.Remaining() > 0 {
		if tag := r.U8(); tag != 1 {
			r.Fail(fmt.Errorf("gov option tag %d", tag))
			return
		}
		a.Gov = new(GovGenesis)
		a.Gov.DecodeSCALE(r)
	}
}

// Genesis is everything a chain starts from. Its hash (Hash) is the chain's
// identity: signed into every transaction and bound into pRuntime.
type Genesis struct {
	ChainID    string
	AppVersion uint64
	Validators []Validator
	Consensus  ConsensusParams
	App        AppGenesis
}

// EncodeSCALE writes the genesis (without the domain):
// chain id, validators, consensus params (with the app version first), app state.
func (g *Genesis) EncodeSCALE(w *scale.Writer) {
	w.String(g.ChainID)
	w.Compact(uint64(len(g.Validators)))
	for i := range g.Validators {
		g.Validators[i].EncodeSCALE(w)
	}
	g.Consensus.encode(w, g.AppVersion)
	g.App.encode(w)
}

// DecodeSCALE reads a genesis written by EncodeSCALE.
func (g *Genesis) DecodeSCALE(r *scale.Reader) {
	g.ChainID = r.String()
	n := r.Len(40)
	g.Validators = make([]Validator, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var v Validator
		v.DecodeSCALE(r)
		g.Validators = append(g.Validators, v)
	}
	g.AppVersion = g.Consensus.decode(r)
	g.App.decode(r)
}

// Hash returns the genesis hash:
//
//	blake2-256(SCALE(String("cella/genesis/v1"), chain id, validators,
//	                 consensus params incl. app version, app genesis state))
//
// Lists are hashed in the order given; Validate does not reorder them.
func (g *Genesis) Hash() [32]byte {
	var w scale.Writer
	w.String(GenesisDomain)
	g.EncodeSCALE(&w)
	return hashing.Blake2b256(w.Bytes())
}

// MaxTxWeight is the heaviest transaction any call of rs can make at an
// app version.
func MaxTxWeight(rs Runtimes, appVersion uint64) uint64 {
	return TxBaseWeight + rs.MaxCallWeight(appVersion)
}

// Validate checks the genesis against CometBFT's limits and Cella's rules,
// with rs the module tables of the supported app versions (modules.Runtimes
// for the chain's own). Errors wrap ErrInvalidGenesis.
func (g *Genesis) Validate(rs Runtimes) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidGenesis, fmt.Sprintf(format, a...))
	}
	if g.ChainID == "" || len(g.ChainID) > MaxChainIDLen {
		return bad("chain id must have 1 to %d bytes, has %d", MaxChainIDLen, len(g.ChainID))
	}
	if !rs.Supports(g.AppVersion) {
		return bad("app version %d is not supported", g.AppVersion)
	}
	if len(g.Validators) == 0 {
		return bad("no validators")
	}
	var total int64
	seen := make(map[[32]byte]bool, len(g.Validators))
	for i, v := range g.Validators {
		if v.Power <= 0 {
			return bad("validator %d has power %d, want > 0", i, v.Power)
		}
		if seen[v.PubKey] {
			return bad("validator %d: duplicate public key %x", i, v.PubKey)
		}
		seen[v.PubKey] = true
		if v.Power > MaxTotalVotingPower-total {
			return bad("total voting power exceeds %d", MaxTotalVotingPower)
		}
		total += v.Power
	}
	c := &g.Consensus
	if c.BlockMaxBytes > MaxBlockSizeBytes {
		return bad("block max bytes %d exceeds CometBFT's %d", c.BlockMaxBytes, MaxBlockSizeBytes)
	}
	if c.EvidenceMaxBytes < 0 || c.EvidenceMaxBytes > c.BlockMaxBytes {
		return bad("evidence max bytes %d out of range", c.EvidenceMaxBytes)
	}
	if c.BlockMaxBytes-c.EvidenceMaxBytes < tx.MaxTxBytes+blockOverheadBytes {
		return bad("block max bytes %d leaves no room for a %d-byte transaction", c.BlockMaxBytes, tx.MaxTxBytes)
	}
	if c.BlockMaxGas != -1 {
		return bad("block max gas must be -1 (blocks are limited by weight), is %d", c.BlockMaxGas)
	}
	if c.EvidenceMaxAgeNumBlocks <= 0 || c.EvidenceMaxAgeNanos <= 0 {
		return bad("evidence max age must be positive")
	}
	if !slices.Equal(c.ValidatorPubKeyTypes, []string{"ed25519"}) {
		return bad("validator key types must be [ed25519], are %q", c.ValidatorPubKeyTypes)
	}
	if c.VoteExtensionsEnableHeight < 0 {
		return bad("vote extensions enable height %d < 0", c.VoteExtensionsEnableHeight)
	}
	p := &g.App.Params
	if maxW := MaxTxWeight(rs, g.AppVersion); p.MaxBlockWeight < maxW {
		return bad("max block weight %d is below one transaction's weight %d", p.MaxBlockWeight, maxW)
	}
	if p.SS58Prefix >= 16384 {
		return bad("ss58 prefix %d out of range [0, 16383]", p.SS58Prefix)
	}
	if _, ok := computeFee(p, tx.MaxTxBytes, p.MaxBlockWeight); !ok {
		return bad("fee parameters overflow u128 for the largest transaction")
	}
	var supply scale.U128
	accts := make(map[keys.PublicKey]bool, len(g.App.Balances))
	for i, b := range g.App.Balances {
		if accts[b.Account] {
			return bad("allocation %d: duplicate account %x", i, b.Account)
		}
		accts[b.Account] = true
		if b.Free.IsZero() || b.Free.Cmp(p.ExistentialDeposit) < 0 {
			return bad("allocation %d: balance %s is zero or below the existential deposit %s", i, b.Free, p.ExistentialDeposit)
		}
		var of bool
		if supply, of = supply.Add(b.Free); of {
			return bad("total issuance overflows u128")
		}
	}
	reg := &g.App.Registry
	if reg.AllowDevAttestation && !g.App.Dev {
		return bad("registry: dev attestations can only be allowed on a dev chain")
	}
	if reg.AllowDevAttestation && reg.DevAttestationRoot == ([32]byte{}) {
		return bad("registry: dev attestations are allowed but no dev attestation root is set")
	}
	if g.App.DevBootstrap && (!g.App.Dev || g.App.Admin == nil) {
		return bad("dev bootstrap needs a dev chain with an admin")
	}
	if gv := g.App.Gov; gv != nil {
		if err := gv.Validate(); err != nil {
			return bad("gov: %v", err)
		}
	}
	seenM := make(map[[32]byte]bool, len(reg.Measurements))
	for i, h := range reg.Measurements {
		if seenM[h] {
			return bad("registry: measurement %d: duplicate %x", i, h)
		}
		seenM[h] = true
	}
	return nil
}

// DevTeeRootURI is the secret URI of the dev TEE root whose public key
// DevGenesis names as DevAttestationRoot. Dev quotes are signed with it;
// a chain that allows dev attestations trusts nothing else about them.
const DevTeeRootURI = "//CellaDevTeeRoot"

// DevAccountNames are the dev accounts DevGenesis funds, as //Name secret URIs.
var DevAccountNames = []string{"Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"}

// DevBalance is each dev account's genesis balance: 1,000,000 tokens.
var DevBalance = scale.U128From(1_000_000 * Unit)

// DevAttestationRoot returns the public key of DevTeeRootURI, the dev TEE
// root that DevGenesis trusts for dev quotes.
func DevAttestationRoot() keys.PublicKey {
	p, err := keys.FromURI(DevTeeRootURI)
	if err != nil { // fixed, valid URI: cannot happen
		panic(fmt.Sprintf("state: deriving %s: %v", DevTeeRootURI, err))
	}
	return p.Public()
}

// DevGenesis returns the genesis of a dev chain: the given validators, the
// default consensus params and Params, Dev = true, //Alice … //Ferdie
// funded with DevBalance each, //Alice as the admin with DevBootstrap set,
// and dev attestations allowed with DevAttestationRoot as their root. The measurement allow-list is empty:
// callers add their pRuntime's (Registry.AllowMeasurement).
func DevGenesis(chainID string, validators []Validator) *Genesis {
	g := &Genesis{
		ChainID:    chainID,
		AppVersion: AppVersion1,
		Validators: slices.Clone(validators),
		Consensus:  DefaultConsensusParams(),
		App: AppGenesis{Dev: true, Params: DefaultParams(), Registry: RegistryGenesis{
			AllowDevAttestation: true,
			DevAttestationRoot:  DevAttestationRoot(),
		}},
	}
	for _, name := range DevAccountNames {
		p, err := keys.FromURI("//" + name)
		if err != nil { // fixed, valid URIs: cannot happen
			panic(fmt.Sprintf("state: deriving //%s: %v", name, err))
		}
		g.App.Balances = append(g.App.Balances, Allocation{Account: p.Public(), Free: DevBalance})
		if name == "Alice" {
			admin := p.Public()
			g.App.Admin = &admin
		}
	}
	g.App.DevBootstrap = true
	return g
}

// SortValidators sorts a validator list by public key.
func SortValidators(vs []Validator) {
	slices.SortFunc(vs, func(a, b Validator) int { return bytes.Compare(a.PubKey[:], b.PubKey[:]) })
}
