// Package synth generates synthetic Cella chains for tests and benchmarks,
// without running CometBFT: blocks are executed by the real state machine
// (state.Machine.ExecuteBlock on a MemStore), and each height gets a real
// CometBFT header, a commit signed by in-memory ed25519 validator keys (with
// the canonical vote sign bytes, so VerifyCommitLight accepts it), the
// validator sets, and the state.BlockRecord the node would keep.
//
// Validator updates returned by a block at height H take effect at H+2, as
// in CometBFT: header H+1 carries the new NextValidatorsHash and header H+2
// is the first signed by the new set. Faults are injected through Config's
// HeaderHook (a header tampered before it is hashed and signed, as by a
// dishonest majority), SignCommit's Fault (absent, nil or wrong-key
// signatures, another chain id or height), SignHeader (a commit for any
// header), and by editing the deep copies that Batch returns.
//
// Header fields the light client cannot check are filled deterministically
// but synthetically: LastCommitHash is a placeholder (commits are signed
// lazily, only for the heights asked) and the PartSetHeader of a BlockID is
// derived from the header hash. Transactions are sr25519-signed with random
// signatures, so DataHash and header hashes differ between runs; write-sets and
// AppHashes do not. A Chain is not safe for concurrent use.
package synth

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/crypto/tmhash"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmtversion "github.com/cometbft/cometbft/proto/tendermint/version"
	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tx"
)

// DefaultGenesisTime is the genesis time of synthetic chains unless
// Config.GenesisTime says otherwise.
var DefaultGenesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes a synthetic chain.
type Config struct {
	// ChainID defaults to "cella-synth".
	ChainID string
	// Validators are the genesis validators (ignored when Genesis is set,
	// but their keys still sign). Default: one validator, "val-0".
	Validators []*Validator
	// Powers are the genesis voting powers (default 10 each).
	Powers []int64
	// Extra are keys of validators that may join later (through
	// validators.SetPowerCall), so that they can sign once they do.
	Extra []*Validator
	// Genesis overrides the default DevGenesis(ChainID, Validators, Powers).
	Genesis *state.Genesis
	// GenesisTime is the time of header 1 (default DefaultGenesisTime).
	GenesisTime time.Time
	// BlockInterval separates consecutive header times (default 1 s).
	BlockInterval time.Duration
	// HeaderHook, when set, may modify each header before it is hashed and
	// signed. Execution still uses the genesis app version and the real
	// previous AppHash, so a hook that changes AppHash or Version.App makes
	// a chain that validators signed but honest execution disagrees with.
	HeaderHook func(*types.Header)
	// Messages, when set, gives messages to append to a block's output
	// (the state machine of app version 1 makes none; this stands in for
	// the message queue). The block's AppHash covers them.
	Messages func(height int64) []msg.Message
}

// Block is one height of a synthetic chain. Do not modify it; Batch hands
// out copies.
type Block struct {
	Header  *types.Header
	BlockID types.BlockID
	Txs     [][]byte
	// Results are the state machine's transaction results.
	Results []state.TxResult
	// Record is what the node keeps for this height.
	Record *state.BlockRecord
	// Validators is the set that signs this height (hash = Header.ValidatorsHash).
	Validators *types.ValidatorSet
	// ValidatorUpdates are this block's validator updates (effective at Height+2).
	ValidatorUpdates []state.Validator

	commit *types.Commit
}

// Chain is a synthetic chain under construction.
type Chain struct {
	cfg      Config
	gen      *state.Genesis
	genHash  [32]byte
	doc      *types.GenesisDoc
	m        *state.Machine
	st       *state.MemStore
	keyring  map[string]*Validator // by address; lookups only
	blocks   []*Block              // blocks[h]; blocks[0] holds the genesis record only
	vals     *types.ValidatorSet   // signs the next block
	nextVals *types.ValidatorSet   // signs the block after it
	appHash  [32]byte
	lastRes  []*abci.ExecTxResult
	lastID   types.BlockID
	consHash []byte
	// params are the consensus parameters of the next block (an app
	// version upgrade changes Version.App) and appVersion their app version.
	params     types.ConsensusParams
	appVersion uint64
	nonces     map[keys.PublicKey]uint64
}

// New makes the chain's genesis (height 0).
func New(cfg Config) (*Chain, error) {
	if cfg.ChainID == "" {
		cfg.ChainID = "cella-synth"
	}
	if len(cfg.Validators) == 0 {
		cfg.Validators = []*Validator{NewValidator("val-0")}
	}
	if cfg.GenesisTime.IsZero() {
		cfg.GenesisTime = DefaultGenesisTime
	}
	if cfg.BlockInterval <= 0 {
		cfg.BlockInterval = time.Second
	}
	g := cfg.Genesis
	if g == nil {
		g = DevGenesis(cfg.ChainID, cfg.Validators, cfg.Powers...)
	}
	m, err := modules.NewMachine(g, state.WithSigCache(nil))
	if err != nil {
		return nil, err
	}
	doc, err := GenesisDoc(g, cfg.GenesisTime)
	if err != nil {
		return nil, err
	}
	ws, appHash, err := m.InitChain()
	if err != nil {
		return nil, err
	}
	st := state.NewMemStore()
	st.Apply(ws)
	c := &Chain{
		cfg: cfg, gen: g, genHash: g.Hash(), doc: doc, m: m, st: st,
		keyring:  make(map[string]*Validator),
		appHash:  appHash,
		consHash: doc.ConsensusParams.Hash(),
		params:   *doc.ConsensusParams,
		nonces:   make(map[keys.PublicKey]uint64),
	}
	c.appVersion = c.params.Version.App
	for _, v := range append(slices.Clone(cfg.Validators), cfg.Extra...) {
		c.AddKey(v)
	}
	vals := make([]*types.Validator, len(g.Validators))
	for i, v := range g.Validators {
		vals[i] = types.NewValidator(ed25519.PubKey(bytes.Clone(v.PubKey[:])), v.Power)
	}
	c.vals = types.NewValidatorSet(vals) // g was validated by state.New
	c.nextVals = c.vals.CopyIncrementProposerPriority(1)
	c.blocks = []*Block{{Record: &state.BlockRecord{Height: 0, WriteSet: ws, AppHash: appHash}}}
	return c, nil
}

// AddKey lets v sign for the chain (for validators added later).
func (c *Chain) AddKey(v *Validator) { c.keyring[string(v.Address())] = v }

// Genesis returns the chain's genesis (do not modify it).
func (c *Chain) Genesis() *state.Genesis { return c.gen }

// GenesisHash returns the genesis hash.
func (c *Chain) GenesisHash() [32]byte { return c.genHash }

// GenesisDoc returns CometBFT's genesis document of the chain.
func (c *Chain) GenesisDoc() *types.GenesisDoc { return c.doc }

// GenesisRecord returns a copy of the height-0 record: the genesis
// write-set and AppHash_0.
func (c *Chain) GenesisRecord() *state.BlockRecord { return CloneRecord(c.blocks[0].Record) }

// Machine returns the state machine that executes the blocks.
func (c *Chain) Machine() *state.Machine { return c.m }

// Store returns the state after the last block (do not modify it).
func (c *Chain) Store() *state.MemStore { return c.st }

// Height returns the last block's height (0 before any block).
func (c *Chain) Height() int64 { return int64(len(c.blocks) - 1) }

// AppHash returns the AppHash after the last block.
func (c *Chain) AppHash() [32]byte { return c.appHash }

// Block returns height h (1 ≤ h ≤ Height), or nil.
func (c *Chain) Block(h int64) *Block {
	if h < 1 || h > c.Height() {
		return nil
	}
	return c.blocks[h]
}

// Header returns header h (do not modify it), or nil.
func (c *Chain) Header(h int64) *types.Header {
	if b := c.Block(h); b != nil {
		return b.Header
	}
	return nil
}

// Record returns a copy of height h's block record (0 ≤ h ≤ Height), or nil.
func (c *Chain) Record(h int64) *state.BlockRecord {
	if h < 0 || h > c.Height() {
		return nil
	}
	return CloneRecord(c.blocks[h].Record)
}

// ValidatorSet returns a copy of the set that signs height h, or nil.
func (c *Chain) ValidatorSet(h int64) *types.ValidatorSet {
	if b := c.Block(h); b != nil {
		return b.Validators.Copy()
	}
	return nil
}

// AddBlock executes a block of txs at the next height and builds its header
// from the state after the previous block.
func (c *Chain) AddBlock(txs ...[]byte) (*Block, error) {
	h := c.Height() + 1
	t := c.cfg.GenesisTime.Add(time.Duration(h-1) * c.cfg.BlockInterval)
	hdr := &types.Header{
		Version:            cmtversion.Consensus{Block: version.BlockProtocol, App: c.appVersion},
		ChainID:            c.gen.ChainID,
		Height:             h,
		Time:               t,
		LastBlockID:        c.lastID,
		LastCommitHash:     lastCommitHash(h),
		DataHash:           txsHash(txs),
		ValidatorsHash:     c.vals.Hash(),
		NextValidatorsHash: c.nextVals.Hash(),
		ConsensusHash:      c.consHash,
		AppHash:            bytes.Clone(c.appHash[:]),
		LastResultsHash:    types.NewResults(c.lastRes).Hash(),
		EvidenceHash:       types.EvidenceList{}.Hash(),
		ProposerAddress:    c.vals.GetProposer().Address,
	}
	if c.cfg.HeaderHook != nil {
		c.cfg.HeaderHook(hdr)
	}
	hash := hdr.Hash()
	if len(hash) == 0 {
		return nil, fmt.Errorf("synth: header %d does not hash", h)
	}
	blockID := makeBlockID(hash)

	sh := state.Header{Height: h, TimeUnixNano: t.UnixNano(), AppVersion: c.appVersion, ProposerAddress: hdr.ProposerAddress}
	res, err := c.m.ExecuteBlock(c.st, c.appHash, sh, txs)
	if err != nil {
		return nil, fmt.Errorf("synth: block %d: %w", h, err)
	}
	if c.cfg.Messages != nil {
		if msgs := c.cfg.Messages(h); len(msgs) > 0 {
			res.Messages = append(res.Messages, msgs...)
			res.AppHash = state.AppHash(c.appVersion, c.appHash, res.WriteSet, res.Messages)
		}
	}
	changes := make([]*types.Validator, len(res.ValidatorUpdates))
	for i, u := range res.ValidatorUpdates {
		changes[i] = types.NewValidator(ed25519.PubKey(bytes.Clone(u.PubKey[:])), u.Power)
	}
	nv := c.nextVals.Copy()
	if len(changes) > 0 {
		if err := nv.UpdateWithChangeSet(changes); err != nil {
			return nil, fmt.Errorf("synth: block %d: validator updates: %w", h, err)
		}
	}
	nv.IncrementProposerPriority(1)

	c.st.Apply(res.WriteSet)
	b := &Block{
		Header: hdr, BlockID: blockID, Txs: txs, Results: res.TxResults,
		Record:           &state.BlockRecord{Height: h, WriteSet: res.WriteSet, Messages: res.Messages, AppHash: res.AppHash},
		Validators:       c.vals.Copy(),
		ValidatorUpdates: res.ValidatorUpdates,
	}
	c.blocks = append(c.blocks, b)
	c.appHash = res.AppHash
	c.lastID = blockID
	c.lastRes = execResults(res.TxResults)
	c.vals = c.nextVals
	c.nextVals = nv
	if v := res.AppVersionUpdate; v != 0 {
		// As CometBFT's updateState: the next header carries the new
		// app version and the new parameters' hash.
		c.params.Version.App = v
		c.appVersion = v
		c.consHash = c.params.Hash()
	}
	return b, nil
}

// AddBlocks adds n blocks; txsFor, when not nil, gives each height's
// transactions.
func (c *Chain) AddBlocks(n int, txsFor func(height int64) [][]byte) error {
	for i := 0; i < n; i++ {
		var txs [][]byte
		if txsFor != nil {
			txs = txsFor(c.Height() + 1)
		}
		if _, err := c.AddBlock(txs...); err != nil {
			return err
		}
	}
	return nil
}

func lastCommitHash(h int64) []byte {
	if h <= 1 {
		return nil
	}
	return tmhash.Sum([]byte("cella/synth/last-commit/" + strconv.FormatInt(h-1, 10)))
}

func makeBlockID(hash []byte) types.BlockID {
	return types.BlockID{
		Hash:          bytes.Clone(hash),
		PartSetHeader: types.PartSetHeader{Total: 1, Hash: tmhash.Sum(append([]byte("cella/synth/parts/"), hash...))},
	}
}

func txsHash(txs [][]byte) []byte {
	ts := make(types.Txs, len(txs))
	for i, t := range txs {
		ts[i] = t
	}
	return ts.Hash()
}

// execResults maps results as the ABCI app does (only Code, Data,
// GasWanted and GasUsed enter LastResultsHash).
func execResults(rs []state.TxResult) []*abci.ExecTxResult {
	out := make([]*abci.ExecTxResult, len(rs))
	for i, r := range rs {
		out[i] = &abci.ExecTxResult{Code: r.Code, Data: r.Data, GasUsed: int64(r.Weight)}
	}
	return out
}

// Fault alters how SignCommit signs. Indices are positions in the signing
// validator set.
type Fault struct {
	// Absent validators do not sign.
	Absent []int
	// Nil validators vote for no block.
	Nil []int
	// WrongKey validators sign with a key that is not theirs.
	WrongKey []int
	// ChainID, when set, is signed instead of the chain's.
	ChainID string
	// VoteHeight, when set, is signed instead of the header's height.
	VoteHeight int64
	// Round is the commit's round.
	Round int32
}

// ErrNoBlock means a height outside the chain was asked for.
var ErrNoBlock = errors.New("synth: no such block")

// Commit returns the honest commit of height h (signed on first use and
// cached; do not modify it), or nil.
func (c *Chain) Commit(h int64) *types.Commit {
	b := c.Block(h)
	if b == nil {
		return nil
	}
	if b.commit == nil {
		b.commit = c.sign(b.Header.Height, b.Header.Time, b.BlockID, b.Validators, Fault{})
	}
	return b.commit
}

// SignCommit returns a fresh commit of height h, signed with the faults f.
func (c *Chain) SignCommit(h int64, f Fault) (*types.Commit, error) {
	b := c.Block(h)
	if b == nil {
		return nil, fmt.Errorf("%w: %d", ErrNoBlock, h)
	}
	return c.sign(b.Header.Height, b.Header.Time, b.BlockID, b.Validators, f), nil
}

// SignHeader returns a commit for any header (for instance a tampered copy
// of a real one), signed by vals (keys the chain knows) with the faults f.
// The BlockID is derived from the header's hash as for real blocks; see
// BlockIDOf.
func (c *Chain) SignHeader(hdr *types.Header, vals *types.ValidatorSet, f Fault) *types.Commit {
	return c.sign(hdr.Height, hdr.Time, BlockIDOf(hdr), vals, f)
}

// BlockIDOf returns the BlockID synth gives a header.
func BlockIDOf(hdr *types.Header) types.BlockID { return makeBlockID(hdr.Hash()) }

func (c *Chain) sign(height int64, t time.Time, blockID types.BlockID, vals *types.ValidatorSet, f Fault) *types.Commit {
	ts := t.Add(c.cfg.BlockInterval / 2)
	chainID := c.gen.ChainID
	if f.ChainID != "" {
		chainID = f.ChainID
	}
	voteHeight := height
	if f.VoteHeight != 0 {
		voteHeight = f.VoteHeight
	}
	sigs := make([]types.CommitSig, len(vals.Validators))
	for i, v := range vals.Validators {
		key := c.keyring[string(v.Address)]
		if key == nil || slices.Contains(f.Absent, i) {
			sigs[i] = types.NewCommitSigAbsent()
			continue
		}
		flag, bid := types.BlockIDFlagCommit, blockID
		if slices.Contains(f.Nil, i) {
			flag, bid = types.BlockIDFlagNil, types.BlockID{}
		}
		if slices.Contains(f.WrongKey, i) {
			key = NewValidator("wrong-key/" + key.Name)
		}
		vote := &types.Vote{
			Type: cmtproto.PrecommitType, Height: voteHeight, Round: f.Round, BlockID: bid,
			Timestamp: ts, ValidatorAddress: v.Address, ValidatorIndex: int32(i),
		}
		pv := vote.ToProto()
		if err := key.SignVote(chainID, pv); err != nil {
			sigs[i] = types.NewCommitSigAbsent()
			continue
		}
		sigs[i] = types.CommitSig{BlockIDFlag: flag, ValidatorAddress: bytes.Clone(v.Address), Timestamp: ts, Signature: pv.Signature}
	}
	return &types.Commit{Height: height, Round: f.Round, BlockID: blockID, Signatures: sigs}
}

// Batch is what pherry hands pRuntime for heights From..To: the headers, the
// commit of the last one, the validator set when it changed at the first
// header, and the block records of those heights.
type Batch struct {
	Headers    []*types.Header
	Commit     *types.Commit
	Validators *types.ValidatorSet
	Records    []*state.BlockRecord
}

// Batch returns deep copies of heights from..to (1 ≤ from ≤ to ≤ Height),
// with the honest commit of to. Validators is set when the set that signs
// from differs from the one that signed from-1.
func (c *Chain) Batch(from, to int64) (Batch, error) {
	if from < 1 || to < from || to > c.Height() {
		return Batch{}, fmt.Errorf("%w: range %d..%d of a chain at height %d", ErrNoBlock, from, to, c.Height())
	}
	var b Batch
	for h := from; h <= to; h++ {
		b.Headers = append(b.Headers, CloneHeader(c.blocks[h].Header))
		b.Records = append(b.Records, CloneRecord(c.blocks[h].Record))
	}
	b.Commit = CloneCommit(c.Commit(to))
	if from > 1 && !bytes.Equal(c.blocks[from].Header.ValidatorsHash, c.blocks[from-1].Header.ValidatorsHash) {
		b.Validators = c.blocks[from].Validators.Copy()
	}
	return b, nil
}

// Batches splits from..to into batches of at most max headers, ending each
// batch where the validator set changes (as pherry must).
func (c *Chain) Batches(from, to int64, max int) ([]Batch, error) {
	if max < 1 {
		max = 1
	}
	var out []Batch
	for start := from; start <= to; {
		end := min(start+int64(max)-1, to)
		for h := start; h < end; h++ {
			if hd := c.Header(h); hd != nil && !bytes.Equal(hd.NextValidatorsHash, hd.ValidatorsHash) {
				end = h
				break
			}
		}
		b, err := c.Batch(start, end)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
		start = end + 1
	}
	return out, nil
}

// Clone returns a deep copy of b.
func (b Batch) Clone() Batch {
	out := Batch{Commit: CloneCommit(b.Commit)}
	if b.Validators != nil {
		out.Validators = b.Validators.Copy()
	}
	for _, h := range b.Headers {
		out.Headers = append(out.Headers, CloneHeader(h))
	}
	for _, r := range b.Records {
		out.Records = append(out.Records, CloneRecord(r))
	}
	return out
}

// CloneHeader returns a deep copy of a header.
func CloneHeader(h *types.Header) *types.Header {
	if h == nil {
		return nil
	}
	c := *h
	c.LastBlockID = types.BlockID{Hash: bytes.Clone(h.LastBlockID.Hash), PartSetHeader: types.PartSetHeader{Total: h.LastBlockID.PartSetHeader.Total, Hash: bytes.Clone(h.LastBlockID.PartSetHeader.Hash)}}
	c.LastCommitHash = bytes.Clone(h.LastCommitHash)
	c.DataHash = bytes.Clone(h.DataHash)
	c.ValidatorsHash = bytes.Clone(h.ValidatorsHash)
	c.NextValidatorsHash = bytes.Clone(h.NextValidatorsHash)
	c.ConsensusHash = bytes.Clone(h.ConsensusHash)
	c.AppHash = bytes.Clone(h.AppHash)
	c.LastResultsHash = bytes.Clone(h.LastResultsHash)
	c.EvidenceHash = bytes.Clone(h.EvidenceHash)
	c.ProposerAddress = bytes.Clone(h.ProposerAddress)
	return &c
}

// CloneCommit returns a deep copy of a commit.
func CloneCommit(c *types.Commit) *types.Commit {
	if c == nil {
		return nil
	}
	out := &types.Commit{
		Height: c.Height, Round: c.Round,
		BlockID:    types.BlockID{Hash: bytes.Clone(c.BlockID.Hash), PartSetHeader: types.PartSetHeader{Total: c.BlockID.PartSetHeader.Total, Hash: bytes.Clone(c.BlockID.PartSetHeader.Hash)}},
		Signatures: make([]types.CommitSig, len(c.Signatures)),
	}
	for i, s := range c.Signatures {
		out.Signatures[i] = types.CommitSig{BlockIDFlag: s.BlockIDFlag, ValidatorAddress: bytes.Clone(s.ValidatorAddress), Timestamp: s.Timestamp, Signature: bytes.Clone(s.Signature)}
	}
	return out
}

// CloneRecord returns a deep copy of a block record.
func CloneRecord(r *state.BlockRecord) *state.BlockRecord { return r.Clone() }

// ---- transactions ----

// DevPairs returns the dev accounts //Alice … //Ferdie that DevGenesis funds.
func DevPairs() []*keys.Pair {
	out := make([]*keys.Pair, len(state.DevAccountNames))
	for i, n := range state.DevAccountNames {
		p, err := keys.FromURI("//" + n)
		if err != nil { // fixed valid URIs
			panic("synth: " + err.Error())
		}
		out[i] = p
	}
	return out
}

// nextNonce returns (and reserves) the nonce of from's next transaction.
// It counts the transactions built since the account's committed nonce, so
// transactions must be included in the order they were built.
func (c *Chain) nextNonce(from keys.PublicKey) (uint64, error) {
	n, ok := c.nonces[from]
	if !ok {
		a, err := state.GetAccount(c.st, from)
		if err != nil {
			return 0, err
		}
		n = a.Nonce
	}
	c.nonces[from] = n + 1
	return n, nil
}

// ResetNonces forgets the nonces reserved by Tx, going back to the
// committed ones (after building transactions that were not included).
func (c *Chain) ResetNonces() { clear(c.nonces) }

// Tx builds a transaction of call signed by from, with the next nonce.
func (c *Chain) Tx(from *keys.Pair, call tx.Call) ([]byte, error) {
	n, err := c.nextNonce(from.Public())
	if err != nil {
		return nil, err
	}
	return c.TxWithNonce(from, n, call), nil
}

// TxWithNonce builds a transaction with an explicit nonce.
func (c *Chain) TxWithNonce(from *keys.Pair, nonce uint64, call tx.Call) []byte {
	body := tx.Body{
		Version: tx.Version1, Scheme: tx.Sr25519, Signer: from.Public(), Genesis: c.genHash,
		Nonce: nonce, FeeLimit: scale.U128From(state.Unit), Call: call,
	}
	return tx.Sign(body, from).Encode()
}

// Transfer builds a signed transfer.
func (c *Chain) Transfer(from *keys.Pair, to keys.PublicKey, amount uint64) ([]byte, error) {
	return c.Tx(from, balances.TransferCall(to, scale.U128From(amount)))
}

// SetPower builds validators.set_power(v, power), signed by from (dev chains
// only). The change is effective two heights after the block that holds it.
func (c *Chain) SetPower(from *keys.Pair, v *Validator, power uint64) ([]byte, error) {
	c.AddKey(v)
	return c.Tx(from, validators.SetPowerCall(v.PubKeyBytes(), power))
}

// Transfers builds n transfers of small amounts from the senders in turn to
// the next sender, with consecutive nonces (valid in one block, in order).
func (c *Chain) Transfers(senders []*keys.Pair, n int) ([][]byte, error) {
	out := make([][]byte, n)
	for i := range out {
		from := senders[i%len(senders)]
		to := senders[(i+1)%len(senders)].Public()
		t, err := c.Transfer(from, to, state.Unit/10+uint64(i))
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}
