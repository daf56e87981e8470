package phat

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/cella-network/cella/internal/contract/policy"
	"github.com/cella-network/cella/internal/contract/wasm"
	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

// Methods of contracts, signed by any account (not privileged).
const (
	// MethodUploadCode is phat.upload_code(cluster [u8;32], kind u8, code Vec<u8>).
	MethodUploadCode uint8 = 3
	// MethodInstantiate is phat.instantiate(cluster [u8;32], code_hash
	// [u8;32], data Vec<u8>, salt Vec<u8>, transfer u128, gas_limit u64,
	// storage_deposit_limit Option<u128>).
	MethodInstantiate uint8 = 4
	// MethodPushCommand is phat.push_command(contract [u8;32], payload
	// Vec<u8>, gas_limit u64, deposit u128).
	MethodPushCommand uint8 = 5
)

// Weights of the contract calls. Every byte of the arguments adds its
// per-byte weight (state.Method.WeightPerByte): uploads pay for validation,
// hashing and storage of the code; instantiations and commands for the
// message that carries their data.
const (
	UploadCodeWeight        uint64 = 200_000
	UploadCodeWeightPerByte uint64 = 50
	InstantiateWeight       uint64 = 300_000
	// PushCommandWeight is calibrated with BenchmarkExecuteBlockPushCommands
	// against BenchmarkExecuteBlockPushBaseline (internal/state, 1,000
	// senders, 400-byte payloads, signatures cached: TxBaseWeight covers
	// them; 2-core shared dev box, 2026-11-27): a whole push_command
	// transaction took 11.6–13.0 µs and a balances.transfer (weight
	// TxBaseWeight + 10,000) 4.0–4.6 µs in the same run. 50,000 is about 4×
	// the whole measured transaction (it was 200,000, unmeasured).
	PushCommandWeight    uint64 = 50_000
	PayloadWeightPerByte uint64 = 2
)

// Gas defaults of a new cluster (as Phala: a command's gas limit is clipped
// to GAS_PER_SECOND/2 = 2.5×10^12).
const (
	// GasPriceUnit is the amount of gas that Cluster.GasPrice prices.
	GasPriceUnit = 1_000_000
	// DefaultGasPrice is a new cluster's price of GasPriceUnit gas.
	DefaultGasPrice = 1
	// DefaultMaxGas is a new cluster's largest gas_limit.
	DefaultMaxGas uint64 = 2_500_000_000_000
)

// MaxClusterContracts bounds the contracts of one cluster (the cluster's
// contract list is rewritten by every instantiation).
const MaxClusterContracts = 1024

// Contract states.
const (
	// ContractPending: instantiated on chain, the cluster has not reported yet.
	ContractPending uint8 = 0
	// ContractInstantiated: the cluster published the contract's key.
	ContractInstantiated uint8 = 1
	// ContractFailed: the cluster reported that the constructor failed.
	ContractFailed uint8 = 2
)

// ContractStateName names a contract state ("pending", "instantiated", "failed").
func ContractStateName(s uint8) string {
	switch s {
	case ContractPending:
		return "pending"
	case ContractInstantiated:
		return "instantiated"
	case ContractFailed:
		return "failed"
	}
	return fmt.Sprintf("state(%d)", s)
}

// Kinds of Pending.
const (
	PendingInstantiate uint8 = 0
	PendingCommand     uint8 = 1
)

// Storage prefixes of contracts.
var (
	PrefixCode             = []byte("phat/code/")
	PrefixClusterCode      = []byte("phat/cluster_code/")
	PrefixContract         = []byte("phat/contract/")
	PrefixClusterContracts = []byte("phat/cluster_contracts/")
	PrefixPending          = []byte("phat/pending/")
	PrefixLedger           = []byte("phat/ledger/")
)

func key(prefix []byte, parts ...[]byte) []byte {
	k := slices.Clone(prefix)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// CodeKey returns the storage key of code by hash.
func CodeKey(hash [32]byte) []byte { return key(PrefixCode, hash[:]) }

// ClusterCodeKey returns the key that marks code available in a cluster.
func ClusterCodeKey(cluster, hash [32]byte) []byte {
	return key(PrefixClusterCode, cluster[:], hash[:])
}

// ContractKeyOf returns the storage key of a contract's record.
func ContractKeyOf(id [32]byte) []byte { return key(PrefixContract, id[:]) }

// ClusterContractsKey returns the storage key of a cluster's contract list.
func ClusterContractsKey(cluster [32]byte) []byte { return key(PrefixClusterContracts, cluster[:]) }

// PendingKey returns the storage key of a pending reservation.
func PendingKey(commandID [32]byte) []byte { return key(PrefixPending, commandID[:]) }

// LedgerKey returns the storage key of a cluster's ledger total.
func LedgerKey(cluster [32]byte) []byte { return key(PrefixLedger, cluster[:]) }

// ClusterAccount returns a cluster's escrow account: blake2-256("cluster:" ‖
// id), as Phala's cluster_account. Nobody holds its secret key.
func ClusterAccount(id [32]byte) keys.PublicKey {
	return keys.PublicKey(hashing.Blake2b256([]byte("cluster:"), id[:]))
}

// CodeHash returns the hash code is stored under: blake2-256, as
// pallet-contracts (and the engine's CodeHash).
func CodeHash(code []byte) [32]byte { return hashing.Blake2b256(code) }

// Cost returns the price of gas at price per GasPriceUnit gas, rounded up:
// ceil(gas·price / GasPriceUnit); false when it does not fit u128.
func Cost(gas uint64, price scale.U128) (scale.U128, bool) {
	n := new(big.Int).Mul(new(big.Int).SetUint64(gas), price.Big())
	n.Add(n, big.NewInt(GasPriceUnit-1))
	n.Quo(n, big.NewInt(GasPriceUnit))
	v, err := scale.U128FromBig(n)
	return v, err == nil
}

// Code is stored code.
type Code struct {
	Kind uint8
	Code []byte
}

// EncodeSCALE writes (kind u8, code Vec<u8>).
func (c *Code) EncodeSCALE(w *scale.Writer) { w.U8(c.Kind); w.BytesVec(c.Code) }

// DecodeSCALE reads stored code.
func (c *Code) DecodeSCALE(r *scale.Reader) { c.Kind = r.U8(); c.Code = r.BytesVec() }

// Contract is a contract's record.
type Contract struct {
	// ID is the contract id (the key's suffix; not part of the stored value).
	ID       [32]byte
	Cluster  [32]byte
	Deployer keys.PublicKey
	CodeHash [32]byte
	State    uint8
	// Pubkey is the contract's ECDH public key, once its cluster published it.
	Pubkey *keys.PublicKey
}

// EncodeSCALE writes (cluster [u8;32], deployer [u8;32], code_hash [u8;32],
// state u8, pubkey Option<[u8;32]>).
func (c *Contract) EncodeSCALE(w *scale.Writer) {
	w.Raw(c.Cluster[:])
	w.Raw(c.Deployer[:])
	w.Raw(c.CodeHash[:])
	w.U8(c.State)
	scale.WriteOption(w, c.Pubkey, func(w *scale.Writer, k keys.PublicKey) { w.Raw(k[:]) })
}

// DecodeSCALE reads a record (the ID is left alone).
func (c *Contract) DecodeSCALE(r *scale.Reader) {
	r.Fixed(c.Cluster[:])
	r.Fixed(c.Deployer[:])
	r.Fixed(c.CodeHash[:])
	c.State = r.U8()
	c.Pubkey = scale.ReadOption(r, func(r *scale.Reader) (k keys.PublicKey) { r.Fixed(k[:]); return k })
	if r.Err() == nil && c.State > ContractFailed {
		r.Fail(fmt.Errorf("contract state %d", c.State))
	}
}

// Pending is a reservation awaiting its cluster's outcome: Reserved =
// Cost(GasLimit, Price) base units of the Payer's are in the cluster's
// escrow until the cluster reports the gas used.
type Pending struct {
	Cluster  [32]byte
	Kind     uint8
	Contract [32]byte
	Payer    keys.PublicKey
	GasLimit uint64
	Price    scale.U128
	Reserved scale.U128
}

// EncodeSCALE writes (cluster [u8;32], kind u8, contract [u8;32], payer
// [u8;32], gas_limit u64, price u128, reserved u128).
func (p *Pending) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Cluster[:])
	w.U8(p.Kind)
	w.Raw(p.Contract[:])
	w.Raw(p.Payer[:])
	w.U64(p.GasLimit)
	w.U128(p.Price)
	w.U128(p.Reserved)
}

// DecodeSCALE reads a pending reservation.
func (p *Pending) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Cluster[:])
	p.Kind = r.U8()
	r.Fixed(p.Contract[:])
	r.Fixed(p.Payer[:])
	p.GasLimit = r.U64()
	p.Price = r.U128()
	p.Reserved = r.U128()
}

func getDecoded[T any, P interface {
	*T
	scale.Decodable
}](st state.Store, k []byte, what string) (T, bool, error) {
	var v T
	b, err := st.Get(k)
	if err != nil {
		return v, false, fmt.Errorf("state: reading %s: %w", what, err)
	}
	if b == nil {
		return v, false, nil
	}
	if err := scale.Decode(b, P(&v)); err != nil {
		return v, false, fmt.Errorf("%w: %s %x: %w", state.ErrCorruptState, what, k, err)
	}
	return v, true, nil
}

// GetCode reads code by hash; false when none was uploaded. Workers read
// the code of phat/code and phat/instantiate messages with it.
func GetCode(st state.Store, hash [32]byte) (Code, bool, error) {
	return getDecoded[Code](st, CodeKey(hash), "code")
}

// CodeInCluster reports whether code is available in a cluster, and its kind.
func CodeInCluster(st state.Store, cluster, hash [32]byte) (uint8, bool, error) {
	v, err := st.Get(ClusterCodeKey(cluster, hash))
	if err != nil {
		return 0, false, fmt.Errorf("state: reading cluster code: %w", err)
	}
	if v == nil {
		return 0, false, nil
	}
	if len(v) != 1 || v[0] > msg.CodeKindIndeterministic {
		return 0, false, fmt.Errorf("%w: cluster code %x", state.ErrCorruptState, v)
	}
	return v[0], true, nil
}

// GetContract reads a contract's record; false when there is no such contract.
func GetContract(st state.Store, id [32]byte) (Contract, bool, error) {
	c, ok, err := getDecoded[Contract](st, ContractKeyOf(id), "contract")
	c.ID = id
	return c, ok, err
}

// ClusterContracts returns a cluster's contract ids, sorted.
func ClusterContracts(st state.Store, cluster [32]byte) ([][32]byte, error) {
	v, err := st.Get(ClusterContractsKey(cluster))
	if err != nil {
		return nil, fmt.Errorf("state: reading cluster contracts: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	out := scale.ReadVec(r, 32, func(r *scale.Reader) (k [32]byte) { r.Fixed(k[:]); return k })
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: cluster contracts: %w", state.ErrCorruptState, err)
	}
	return out, nil
}

// GetPending reads a pending reservation by command id.
func GetPending(st state.Store, commandID [32]byte) (Pending, bool, error) {
	return getDecoded[Pending](st, PendingKey(commandID), "pending reservation")
}

// Ledger returns the value credited to a cluster's ledger: every transfer
// and deposit moved into its escrow with an instantiation or command.
func Ledger(st state.Store, cluster [32]byte) (scale.U128, error) {
	v, err := st.Get(LedgerKey(cluster))
	if err != nil {
		return scale.U128{}, fmt.Errorf("state: reading ledger: %w", err)
	}
	if v == nil {
		return scale.U128{}, nil
	}
	if len(v) != 16 {
		return scale.U128{}, fmt.Errorf("%w: ledger of %d bytes", state.ErrCorruptState, len(v))
	}
	return scale.U128{Lo: binary.LittleEndian.Uint64(v[:8]), Hi: binary.LittleEndian.Uint64(v[8:])}, nil
}

func putLedger(ov *state.Overlay, cluster [32]byte, v scale.U128) {
	b := binary.LittleEndian.AppendUint64(nil, v.Lo)
	ov.SetOwned(LedgerKey(cluster), binary.LittleEndian.AppendUint64(b, v.Hi))
}

// Arguments of the calls.

// UploadArgs are phat.upload_code's arguments.
type UploadArgs struct {
	Cluster [32]byte
	Kind    uint8
	Code    []byte
}

// InstantiateArgs are phat.instantiate's arguments.
type InstantiateArgs struct {
	Cluster             [32]byte
	CodeHash            [32]byte
	Data                []byte
	Salt                []byte
	Transfer            scale.U128
	GasLimit            uint64
	StorageDepositLimit *scale.U128
}

// PushArgs are phat.push_command's arguments.
type PushArgs struct {
	Contract [32]byte
	// Payload is SCALE CommandPayload (Plain(InkCommand) or Encrypted) as
	// @phala/sdk builds it; the chain does not read it.
	Payload  []byte
	GasLimit uint64
	Deposit  scale.U128
}

// UploadCodeCall builds phat.upload_code.
func UploadCodeCall(a UploadArgs) tx.Call {
	w := scale.NewWriter(38 + len(a.Code))
	w.Raw(a.Cluster[:])
	w.U8(a.Kind)
	w.BytesVec(a.Code)
	return tx.Call{Module: Index, Method: MethodUploadCode, Args: w.Bytes()}
}

// InstantiateCall builds phat.instantiate.
func InstantiateCall(a InstantiateArgs) tx.Call {
	w := scale.NewWriter(64 + 10 + len(a.Data) + len(a.Salt) + 16 + 8 + 17)
	w.Raw(a.Cluster[:])
	w.Raw(a.CodeHash[:])
	w.BytesVec(a.Data)
	w.BytesVec(a.Salt)
	w.U128(a.Transfer)
	w.U64(a.GasLimit)
	scale.WriteOption(w, a.StorageDepositLimit, func(w *scale.Writer, v scale.U128) { w.U128(v) })
	return tx.Call{Module: Index, Method: MethodInstantiate, Args: w.Bytes()}
}

// PushCommandCall builds phat.push_command.
func PushCommandCall(a PushArgs) tx.Call {
	w := scale.NewWriter(32 + 5 + len(a.Payload) + 24)
	w.Raw(a.Contract[:])
	w.BytesVec(a.Payload)
	w.U64(a.GasLimit)
	w.U128(a.Deposit)
	return tx.Call{Module: Index, Method: MethodPushCommand, Args: w.Bytes()}
}

func boundedVec(r *scale.Reader, limit int, what string) []byte {
	b := r.BytesVec()
	if r.Err() == nil && len(b) > limit {
		r.Fail(fmt.Errorf("%s of %d bytes, at most %d", what, len(b), limit))
	}
	return b
}

// DecodeUploadArgs decodes phat.upload_code's arguments: a known kind and
// code of 1..msg.MaxCodeSize bytes.
func DecodeUploadArgs(args []byte) (UploadArgs, error) {
	r := scale.NewReader(args)
	var a UploadArgs
	r.Fixed(a.Cluster[:])
	a.Kind = r.U8()
	a.Code = boundedVec(r, msg.MaxCodeSize, "code")
	if err := r.Finish(); err != nil {
		return UploadArgs{}, fmt.Errorf("phat.upload_code args: %w", err)
	}
	if a.Kind > msg.CodeKindIndeterministic {
		return UploadArgs{}, fmt.Errorf("phat.upload_code args: code kind %d", a.Kind)
	}
	if len(a.Code) == 0 {
		return UploadArgs{}, errors.New("phat.upload_code args: empty code")
	}
	return a, nil
}

// DecodeInstantiateArgs decodes phat.instantiate's arguments: data of at
// most msg.MaxCommandPayload bytes, salt of at most msg.MaxSaltLen.
func DecodeInstantiateArgs(args []byte) (InstantiateArgs, error) {
	r := scale.NewReader(args)
	var a InstantiateArgs
	r.Fixed(a.Cluster[:])
	r.Fixed(a.CodeHash[:])
	a.Data = boundedVec(r, msg.MaxCommandPayload, "constructor data")
	a.Salt = boundedVec(r, msg.MaxSaltLen, "salt")
	a.Transfer = r.U128()
	a.GasLimit = r.U64()
	a.StorageDepositLimit = scale.ReadOption(r, func(r *scale.Reader) scale.U128 { return r.U128() })
	if err := r.Finish(); err != nil {
		return InstantiateArgs{}, fmt.Errorf("phat.instantiate args: %w", err)
	}
	return a, nil
}

// DecodePushArgs decodes phat.push_command's arguments: a payload of
// 1..msg.MaxCommandPayload bytes.
func DecodePushArgs(args []byte) (PushArgs, error) {
	r := scale.NewReader(args)
	var a PushArgs
	r.Fixed(a.Contract[:])
	a.Payload = boundedVec(r, msg.MaxCommandPayload, "command payload")
	a.GasLimit = r.U64()
	a.Deposit = r.U128()
	if err := r.Finish(); err != nil {
		return PushArgs{}, fmt.Errorf("phat.push_command args: %w", err)
	}
	if len(a.Payload) == 0 {
		return PushArgs{}, errors.New("phat.push_command args: empty payload")
	}
	return a, nil
}

func checkUpload(args []byte) error      { _, err := DecodeUploadArgs(args); return err }
func checkInstantiate(args []byte) error { _, err := DecodeInstantiateArgs(args); return err }
func checkPush(args []byte) error        { _, err := DecodePushArgs(args); return err }

func hex32(b [32]byte) string { return "0x" + hex.EncodeToString(b[:]) }

// PolicyFor returns the validation policy of a code kind: the engine's
// transaction policy for ink code, its query policy (floats allowed) for
// indeterministic code.
func PolicyFor(kind uint8) wasm.Policy {
	if kind == msg.CodeKindIndeterministic {
		return policy.Query()
	}
	return policy.Transaction()
}

// loadCluster reads a cluster and checks that the signer may deploy to it.
func loadCluster(c *state.CallCtx, id [32]byte) (Cluster, uint32, string, error) {
	cl, ok, err := GetCluster(c.Overlay(), id)
	if err != nil {
		return Cluster{}, 0, "", err
	}
	if !ok {
		return Cluster{}, state.CodeUnknownCluster, fmt.Sprintf("no cluster %x", id), nil
	}
	if cl.Permission == PermissionOwnerOnly && c.Signer() != cl.Owner {
		return Cluster{}, state.CodeClusterPermission, fmt.Sprintf("cluster %x takes contracts of its owner %s only", id, cl.Owner.Hex()), nil
	}
	return cl, state.CodeOK, "", nil
}

func execUpload(c *state.CallCtx, args []byte) (uint32, string, error) {
	a, err := DecodeUploadArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	if _, code, log, err := loadCluster(c, a.Cluster); code != state.CodeOK || err != nil {
		return code, log, err
	}
	ov := c.Overlay()
	hash := CodeHash(a.Code)
	stored, ok, err := GetCode(ov, hash)
	if err != nil {
		return 0, "", err
	}
	if ok {
		if stored.Kind != a.Kind {
			return state.CodeCodeRejected, fmt.Sprintf("code %x is stored as kind %d already", hash, stored.Kind), nil
		}
	} else {
		if _, err := wasm.Check(a.Code, PolicyFor(a.Kind)); err != nil {
			return state.CodeCodeRejected, err.Error(), nil
		}
		ov.SetOwned(CodeKey(hash), scale.Encode(&Code{Kind: a.Kind, Code: a.Code}))
	}
	if _, in, err := CodeInCluster(ov, a.Cluster, hash); err != nil {
		return 0, "", err
	} else if in {
		return state.CodeOK, "", nil // stored and available already: nothing to announce
	}
	ov.SetOwned(ClusterCodeKey(a.Cluster, hash), []byte{a.Kind})
	c.Emit(msg.Message{Origin: msg.OriginModule(msg.PhatModuleName), Topic: []byte(msg.TopicPhatCode),
		Payload: scale.Encode(&msg.CodeUploaded{Cluster: a.Cluster, CodeHash: hash, Kind: a.Kind})})
	c.AddEvent(state.Event{Type: "code_uploaded", Attributes: []state.EventAttribute{
		{Key: "cluster", Value: hex32(a.Cluster), Index: true}, {Key: "code_hash", Value: hex32(hash), Index: true},
		{Key: "kind", Value: fmt.Sprint(a.Kind)}, {Key: "size", Value: fmt.Sprint(len(a.Code))}}})
	return state.CodeOK, "", nil
}

// reserve moves Cost(gasLimit, price) + value from the signer into the
// cluster's escrow, credits value to the cluster's ledger and records the
// reservation under the command id.
func reserve(c *state.CallCtx, cl *Cluster, p Pending, value scale.U128, id [32]byte) (uint32, string, error) {
	ov := c.Overlay()
	gas, ok := Cost(p.GasLimit, cl.GasPrice)
	if !ok {
		return state.CodeOverflow, "gas cost overflows u128", nil
	}
	total, of := gas.Add(value)
	if of {
		return state.CodeOverflow, "reservation overflows u128", nil
	}
	from, err := state.GetAccountAt(ov, c.SignerKey())
	if err != nil {
		return 0, "", err
	}
	if from.Free.Cmp(total) < 0 {
		return state.CodeInsufficientBalance, fmt.Sprintf("reservation of %s (gas %s + value %s) exceeds free balance %s", total, gas, value, from.Free), nil
	}
	rest, _ := from.Free.Sub(total)
	if ed := c.Params().ExistentialDeposit; !rest.IsZero() && rest.Cmp(ed) < 0 {
		return state.CodeBelowExistentialDeposit, fmt.Sprintf("signer would keep %s, below the existential deposit %s", rest, ed), nil
	}
	escrowKey := state.AccountKey(ClusterAccount(cl.ID))
	escrow, err := state.GetAccountAt(ov, escrowKey)
	if err != nil {
		return 0, "", err
	}
	ledger, err := Ledger(ov, cl.ID)
	if err != nil {
		return 0, "", err
	}
	newEscrow, of1 := escrow.Free.Add(total)
	newLedger, of2 := ledger.Add(value)
	if of1 || of2 {
		return state.CodeOverflow, "cluster escrow would overflow u128", nil
	}
	if _, exists, err := GetPending(ov, id); err != nil {
		return 0, "", err
	} else if exists {
		return 0, "", fmt.Errorf("phat: command id %x reserved twice", id)
	}
	from.Free = rest
	escrow.Free = newEscrow
	state.PutAccount(ov, c.SignerKey(), from)
	state.PutAccount(ov, escrowKey, escrow)
	if !value.IsZero() {
		putLedger(ov, cl.ID, newLedger)
	}
	p.Cluster, p.Payer, p.Price, p.Reserved = cl.ID, c.Signer(), cl.GasPrice, gas
	ov.SetOwned(PendingKey(id), scale.Encode(&p))
	return state.CodeOK, "", nil
}

func (c *Cluster) gasCheck(limit uint64) (uint32, string) {
	if limit > c.MaxGas {
		return state.CodeGasLimitTooHigh, fmt.Sprintf("gas limit %d exceeds cluster %x's maximum %d", limit, c.ID, c.MaxGas)
	}
	return state.CodeOK, ""
}

// commandID returns the id of the message the call emits next.
func commandID(c *state.CallCtx) [32]byte {
	return msg.CommandID(uint64(c.Header().Height), uint32(c.NextMessageIndex()))
}

func execInstantiate(c *state.CallCtx, args []byte) (uint32, string, error) {
	a, err := DecodeInstantiateArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	cl, code, log, err := loadCluster(c, a.Cluster)
	if code != state.CodeOK || err != nil {
		return code, log, err
	}
	ov := c.Overlay()
	kind, ok, err := CodeInCluster(ov, a.Cluster, a.CodeHash)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeUnknownCode, fmt.Sprintf("no code %x in cluster %x", a.CodeHash, a.Cluster), nil
	}
	if kind == msg.CodeKindIndeterministic {
		return state.CodeIndeterministicCode, fmt.Sprintf("code %x is indeterministic: it runs in queries only", a.CodeHash), nil
	}
	if code, log := cl.gasCheck(a.GasLimit); code != state.CodeOK {
		return code, log, nil
	}
	id := msg.ContractID(c.Signer(), a.CodeHash, a.Cluster, a.Salt)
	if _, exists, err := GetContract(ov, id); err != nil {
		return 0, "", err
	} else if exists {
		return state.CodeContractExists, fmt.Sprintf("contract %x exists (same deployer, code, cluster and salt)", id), nil
	}
	list, err := ClusterContracts(ov, a.Cluster)
	if err != nil {
		return 0, "", err
	}
	if len(list) >= MaxClusterContracts {
		return state.CodeTooManyContracts, fmt.Sprintf("cluster %x has %d contracts already", a.Cluster, len(list)), nil
	}
	cmd := commandID(c)
	if code, log, err := reserve(c, &cl, Pending{Kind: PendingInstantiate, Contract: id, GasLimit: a.GasLimit}, a.Transfer, cmd); code != state.CodeOK || err != nil {
		return code, log, err
	}
	ov.SetOwned(ContractKeyOf(id), scale.Encode(&Contract{Cluster: a.Cluster, Deployer: c.Signer(), CodeHash: a.CodeHash, State: ContractPending}))
	i, _ := slices.BinarySearchFunc(list, id, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	list = slices.Insert(list, i, id)
	w := scale.NewWriter(1 + 32*len(list))
	scale.WriteVec(w, list, func(w *scale.Writer, k [32]byte) { w.Raw(k[:]) })
	ov.SetOwned(ClusterContractsKey(a.Cluster), w.Bytes())
	c.Emit(msg.Message{Origin: msg.OriginModule(msg.PhatModuleName), Topic: []byte(msg.TopicPhatInstantiate),
		Payload: scale.Encode(&msg.Instantiate{Cluster: a.Cluster, Contract: id, Deployer: c.Signer(), CodeHash: a.CodeHash,
			Data: a.Data, Salt: a.Salt, Transfer: a.Transfer, GasLimit: a.GasLimit, StorageDepositLimit: a.StorageDepositLimit, CommandID: cmd})})
	c.AddEvent(state.Event{Type: "contract_instantiating", Attributes: []state.EventAttribute{
		{Key: "contract", Value: hex32(id), Index: true}, {Key: "cluster", Value: hex32(a.Cluster), Index: true},
		{Key: "deployer", Value: c.Signer().Hex(), Index: true}, {Key: "code_hash", Value: hex32(a.CodeHash)},
		{Key: "command_id", Value: hex32(cmd), Index: true}}})
	return state.CodeOK, "", nil
}

func execPush(c *state.CallCtx, args []byte) (uint32, string, error) {
	a, err := DecodePushArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	ct, ok, err := GetContract(c.Overlay(), a.Contract)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeUnknownContract, fmt.Sprintf("no contract %x", a.Contract), nil
	}
	if ct.State != ContractInstantiated {
		return state.CodeContractNotReady, fmt.Sprintf("contract %x is %s", a.Contract, ContractStateName(ct.State)), nil
	}
	cl, ok, err := clusterTerms(c.Overlay(), ct.Cluster)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return 0, "", fmt.Errorf("%w: contract %x of missing cluster %x", state.ErrCorruptState, a.Contract, ct.Cluster)
	}
	if code, log := cl.gasCheck(a.GasLimit); code != state.CodeOK {
		return code, log, nil
	}
	cmd := commandID(c)
	if code, log, err := reserve(c, &cl, Pending{Kind: PendingCommand, Contract: a.Contract, GasLimit: a.GasLimit}, a.Deposit, cmd); code != state.CodeOK || err != nil {
		return code, log, err
	}
	c.Emit(msg.Message{Origin: msg.OriginModule(msg.PhatModuleName), Topic: []byte(msg.TopicPhatCommand),
		Payload: scale.Encode(&msg.Command{Cluster: ct.Cluster, Contract: a.Contract, Origin: c.Signer(), Payload: a.Payload,
			CommandID: cmd, GasLimit: a.GasLimit, Deposit: a.Deposit})})
	c.AddEvent(state.Event{Type: "contract_command", Attributes: []state.EventAttribute{
		{Key: "contract", Value: hex32(a.Contract), Index: true}, {Key: "origin", Value: c.Signer().Hex(), Index: true},
		{Key: "command_id", Value: hex32(cmd), Index: true}}})
	return state.CodeOK, "", nil
}

// HandleOutcome: a cluster (its origin verified against its key by
// mq.submit) reports the gas an instantiate or command used. The command
// must be pending in that cluster and gas_used at most its gas_limit. The
// reservation leaves the escrow: Reserved − Cost(gas_used, Price) back to
// the payer, Cost(gas_used, Price) to the treasury. Then every payout (value
// the cluster's contracts transferred to a plain account, which the cluster
// debited from its ledger) moves from the escrow to its account and lowers
// the cluster's ledger total; payouts above that total are refused
// (payout_over_ledger) with no state change.
func HandleOutcome(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	if o.Kind != msg.OriginKindCluster {
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of clusters, not of %s", msg.TopicClusterOutcome, o), nil
	}
	var p msg.Outcome
	if err := scale.Decode(payload, &p); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", msg.TopicClusterOutcome, err), nil
	}
	return applyOutcome(c, o, &p)
}

// HandleOutcomes: a cluster reports the outcomes of a block's instantiates
// and commands in one message. Every entry is checked and applied as by
// HandleOutcome, in order, over the running state (so payouts of all the
// entries together must fit in the cluster's ledger). The message is all
// or nothing: mq.submit runs the handler in a Sub context whose writes and
// events are dropped on refusal, so the first bad entry refuses the whole
// message with its code and no entry takes effect.
func HandleOutcomes(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	if o.Kind != msg.OriginKindCluster {
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of clusters, not of %s", msg.TopicClusterOutcomes, o), nil
	}
	var p msg.Outcomes
	if err := scale.Decode(payload, &p); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", msg.TopicClusterOutcomes, err), nil
	}
	for i := range p.Entries {
		code, log, err := applyOutcome(c, o, &p.Entries[i])
		if err != nil || code != state.CodeOK {
			if log != "" {
				log = fmt.Sprintf("outcome %d of %d: %s", i, len(p.Entries), log)
			}
			return code, log, err
		}
	}
	return state.CodeOK, "", nil
}

// applyOutcome checks one outcome and applies it; it writes nothing when it
// refuses the outcome.
func applyOutcome(c *state.CallCtx, o msg.Origin, p *msg.Outcome) (uint32, string, error) {
	ov := c.Overlay()
	pd, ok, err := GetPending(ov, p.CommandID)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeUnknownCommand, fmt.Sprintf("no pending command %x", p.CommandID), nil
	}
	if pd.Cluster != o.Cluster {
		return state.CodeWrongCluster, fmt.Sprintf("command %x belongs to cluster %x, not %x", p.CommandID, pd.Cluster, o.Cluster), nil
	}
	if p.GasUsed > pd.GasLimit {
		return state.CodeGasUsedOverLimit, fmt.Sprintf("gas used %d exceeds the reserved limit %d", p.GasUsed, pd.GasLimit), nil
	}
	charge, ok := Cost(p.GasUsed, pd.Price)
	if !ok || charge.Cmp(pd.Reserved) > 0 {
		return 0, "", fmt.Errorf("%w: pending %x: charge above its reservation", state.ErrCorruptState, p.CommandID)
	}
	refund, _ := pd.Reserved.Sub(charge)
	ledger, err := Ledger(ov, pd.Cluster)
	if err != nil {
		return 0, "", err
	}
	var paid scale.U128
	for _, po := range p.Payouts {
		if keys.PublicKey(po.Account) == ClusterAccount(pd.Cluster) {
			return state.CodePayoutOverLedger, "payout to the cluster's own escrow account", nil
		}
		var of bool
		if paid, of = paid.Add(po.Amount); of {
			return state.CodePayoutOverLedger, "payouts overflow u128", nil
		}
	}
	ledgerLeft, under := ledger.Sub(paid)
	if under {
		return state.CodePayoutOverLedger, fmt.Sprintf("payouts %s exceed the cluster's ledger %s", paid, ledger), nil
	}
	escrowKey := state.AccountKey(ClusterAccount(pd.Cluster))
	escrow, err := state.GetAccountAt(ov, escrowKey)
	if err != nil {
		return 0, "", err
	}
	out, of := pd.Reserved.Add(paid)
	left, under := escrow.Free.Sub(out)
	if of || under {
		return 0, "", fmt.Errorf("%w: cluster %x escrow %s below its reservation %s and ledger payouts %s", state.ErrCorruptState, pd.Cluster, escrow.Free, pd.Reserved, paid)
	}
	// Credits in order: refund, charge, then payouts (an account may get
	// several). Every credit is checked before anything is written.
	type credit struct {
		to     keys.PublicKey
		amount scale.U128
	}
	credits := []credit{{pd.Payer, refund}, {state.TreasuryAccount, charge}}
	for _, po := range p.Payouts {
		credits = append(credits, credit{keys.PublicKey(po.Account), po.Amount})
	}
	sums := map[keys.PublicKey]scale.U128{}
	for _, cr := range credits {
		cur, ok := sums[cr.to]
		if !ok {
			acct, err := state.GetAccountAt(ov, state.AccountKey(cr.to))
			if err != nil {
				return 0, "", err
			}
			cur = acct.Free
		}
		sum, of := cur.Add(cr.amount)
		if of {
			return state.CodeOverflow, fmt.Sprintf("account %s would overflow u128", cr.to.Hex()), nil
		}
		sums[cr.to] = sum
	}
	escrow.Free = left
	state.PutAccount(ov, escrowKey, escrow)
	if !paid.IsZero() {
		putLedger(ov, pd.Cluster, ledgerLeft)
	}
	for _, cr := range credits {
		if cr.amount.IsZero() {
			continue
		}
		k := state.AccountKey(cr.to)
		acct, err := state.GetAccountAt(ov, k)
		if err != nil {
			return 0, "", err
		}
		sum, of := acct.Free.Add(cr.amount)
		if of {
			return state.CodeOverflow, fmt.Sprintf("account %s would overflow u128", cr.to.Hex()), nil
		}
		acct.Free = sum
		state.PutAccount(ov, k, acct)
	}
	ov.Delete(PendingKey(p.CommandID))
	for _, po := range p.Payouts {
		c.AddEvent(state.Event{Type: "contract_payout", Attributes: []state.EventAttribute{
			{Key: "command_id", Value: hex32(p.CommandID), Index: true}, {Key: "account", Value: keys.PublicKey(po.Account).Hex(), Index: true},
			{Key: "amount", Value: po.Amount.String()}}})
	}
	c.AddEvent(state.Event{Type: "contract_outcome", Attributes: []state.EventAttribute{
		{Key: "command_id", Value: hex32(p.CommandID), Index: true}, {Key: "contract", Value: hex32(pd.Contract), Index: true},
		{Key: "gas_used", Value: fmt.Sprint(p.GasUsed)}, {Key: "refund", Value: refund.String()}, {Key: "charge", Value: charge.String()}}})
	return state.CodeOK, "", nil
}

// HandleInstantiateFailed: a cluster reports that a contract's constructor
// failed; the contract must be pending in that cluster, and is marked
// failed (its id stays taken).
func HandleInstantiateFailed(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	if o.Kind != msg.OriginKindCluster {
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of clusters, not of %s", msg.TopicInstantiateFailed, o), nil
	}
	var p msg.InstantiateFailed
	if err := scale.Decode(payload, &p); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", msg.TopicInstantiateFailed, err), nil
	}
	ct, ok, err := GetContract(c.Overlay(), p.Contract)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeUnknownContract, fmt.Sprintf("no contract %x", p.Contract), nil
	}
	if ct.Cluster != o.Cluster {
		return state.CodeWrongCluster, fmt.Sprintf("contract %x belongs to cluster %x, not %x", p.Contract, ct.Cluster, o.Cluster), nil
	}
	if ct.State != ContractPending {
		return state.CodeContractNotPending, fmt.Sprintf("contract %x is %s", p.Contract, ContractStateName(ct.State)), nil
	}
	ct.State = ContractFailed
	c.Overlay().SetOwned(ContractKeyOf(p.Contract), scale.Encode(&ct))
	c.AddEvent(state.Event{Type: "contract_failed", Attributes: []state.EventAttribute{
		{Key: "contract", Value: hex32(p.Contract), Index: true}, {Key: "reason", Value: p.Reason}}})
	return state.CodeOK, "", nil
}

// markInstantiated records a published key on the contract's record, if the
// contract was instantiated through phat.instantiate: it must be of the
// publishing cluster and pending (or instantiated with the same key).
func markInstantiated(c *state.CallCtx, cluster, id [32]byte, pub keys.PublicKey) (uint32, string, error) {
	ct, ok, err := GetContract(c.Overlay(), id)
	if err != nil || !ok {
		return state.CodeOK, "", err
	}
	if ct.Cluster != cluster {
		return state.CodeWrongCluster, fmt.Sprintf("contract %x belongs to cluster %x, not %x", id, ct.Cluster, cluster), nil
	}
	switch ct.State {
	case ContractPending:
		ct.State, ct.Pubkey = ContractInstantiated, &pub
		c.Overlay().SetOwned(ContractKeyOf(id), scale.Encode(&ct))
	case ContractFailed:
		return state.CodeContractNotPending, fmt.Sprintf("contract %x failed to instantiate", id), nil
	}
	return state.CodeOK, "", nil
}
