package sdk

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state/phat"
)

// Limits the chain enforces, checked before anything is sent.
const (
	// MaxCodeSize bounds uploaded code.
	MaxCodeSize = msg.MaxCodeSize
	// MaxSaltLen bounds an instantiation's salt.
	MaxSaltLen = msg.MaxSaltLen
	// MaxCommandSize bounds a command's payload.
	MaxCommandSize = msg.MaxCommandPayload
	// DefaultGasLimit is the gas limit the CLI uses when none is given:
	// ample for simple contracts, far below a cluster's maximum.
	DefaultGasLimit uint64 = 100_000_000_000
)

// ClusterID returns the id of the chain's n-th cluster (0 is the first).
func ClusterID(n uint64) Hash { return Hash(phat.ClusterID(n)) }

// ContractAddress is the address instantiating codeHash in cluster with
// salt by deployer gives the contract: blake2-256(deployer ‖ code_hash ‖
// cluster ‖ salt), as Phala's contract_id_preimage.
func ContractAddress(deployer Address, codeHash, cluster Hash, salt []byte) Address {
	return Address(msg.ContractID(keys.PublicKey(deployer), codeHash, cluster, salt))
}

// UploadOptions are Upload's options.
type UploadOptions struct {
	// Cluster is the cluster the code is made available in.
	Cluster Hash
	// Indeterministic uploads code for queries only (floats allowed); it
	// cannot be instantiated.
	Indeterministic bool
	TxOptions
}

// Upload makes code available in a cluster (phat.upload_code) and returns
// its hash. Uploading code the cluster has already succeeds and changes
// nothing.
func (c *Client) Upload(ctx context.Context, key *Key, code []byte, o UploadOptions) (Hash, *TxResult, error) {
	if len(code) == 0 || len(code) > MaxCodeSize {
		return Hash{}, nil, fmt.Errorf("sdk: code of %d bytes, want 1..%d", len(code), MaxCodeSize)
	}
	kind := msg.CodeKindInk
	if o.Indeterministic {
		kind = msg.CodeKindIndeterministic
	}
	call := phat.UploadCodeCall(phat.UploadArgs{Cluster: o.Cluster, Kind: kind, Code: code})
	if o.FeeLimit == nil {
		fl, err := c.feeLimitFor(ctx, len(call.Args), phat.UploadCodeWeight, phat.UploadCodeWeightPerByte)
		if err != nil {
			return Hash{}, nil, err
		}
		o.FeeLimit = fl
	}
	res, err := c.Send(ctx, key, Call(call), o.TxOptions)
	return CodeHash(code), res, err
}

// feeLimitFor returns a fee limit for a call with n bytes of arguments and
// weight base + perByte·n: twice the fee the chain's parameters give (the
// chain charges the fee, never the limit), or nil when the client's
// default limit is higher.
func (c *Client) feeLimitFor(ctx context.Context, n int, base, perByte uint64) (*big.Int, error) {
	ci, err := c.node.ChainInfo(ctx)
	if err != nil {
		return nil, err
	}
	p := ci.Params
	const txOverhead = 512 // signature, signer, nonce and the other body fields, generously
	fee := new(big.Int).Mul(p.ByteFee.Big(), big.NewInt(int64(n+txOverhead)))
	fee.Add(fee, p.BaseFee.Big())
	w := new(big.Int).Mul(new(big.Int).SetUint64(perByte), big.NewInt(int64(n)))
	w.Add(w, new(big.Int).SetUint64(base))
	fee.Add(fee, w.Mul(w, p.WeightFee.Big()))
	fee.Lsh(fee, 1)
	if fee.Cmp(client.DefaultFeeLimit.Big()) <= 0 {
		return nil, nil
	}
	return fee, nil
}

// CodeInfo is the chain's record of uploaded code.
type CodeInfo struct {
	Hash Hash
	// Kind is "ink" or "indeterministic".
	Kind string
	Size int
}

// ErrNotFound is wrapped by the errors of lookups that found nothing.
var ErrNotFound = errors.New("not found")

func notFound(err error) error {
	var qe *client.QueryError
	if errors.As(err, &qe) && qe.Code == chainapi.QueryNotFound {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// Code looks up uploaded code by hash (in any cluster); an error wrapping
// ErrNotFound when there is none.
func (c *Client) Code(ctx context.Context, hash Hash) (*CodeInfo, error) {
	ci, err := c.node.Code(ctx, hash)
	if err != nil {
		return nil, notFound(err)
	}
	return &CodeInfo{Hash: hash, Kind: ci.Kind, Size: ci.Size}, nil
}

// InstantiateOptions are Instantiate's arguments besides the code hash and
// constructor data.
type InstantiateOptions struct {
	Cluster Hash
	// Salt distinguishes instances of the same code by the same deployer
	// (at most MaxSaltLen bytes).
	Salt []byte
	// Value is transferred to the new contract (base units; nil: none).
	Value *big.Int
	// GasLimit caps the constructor's gas; 0 means DefaultGasLimit.
	GasLimit uint64
	// StorageDepositLimit caps the storage deposit (nil: no limit).
	StorageDepositLimit *big.Int
	TxOptions
}

// Instantiate asks the cluster to create a contract from uploaded code
// (phat.instantiate) running the constructor call data (from
// Metadata.EncodeConstructor). It returns the contract's address, which the
// chain records as pending until the cluster reports; WaitContract waits.
func (c *Client) Instantiate(ctx context.Context, key *Key, codeHash Hash, data []byte, o InstantiateOptions) (Address, *TxResult, error) {
	if len(o.Salt) > MaxSaltLen {
		return Address{}, nil, fmt.Errorf("sdk: salt of %d bytes, at most %d", len(o.Salt), MaxSaltLen)
	}
	if len(data) > MaxCommandSize {
		return Address{}, nil, fmt.Errorf("sdk: constructor data of %d bytes, at most %d", len(data), MaxCommandSize)
	}
	value, err := toU128(o.Value)
	if err != nil {
		return Address{}, nil, fmt.Errorf("value: %w", err)
	}
	a := phat.InstantiateArgs{Cluster: o.Cluster, CodeHash: codeHash, Data: data, Salt: o.Salt, Transfer: value, GasLimit: gasOr(o.GasLimit)}
	if o.StorageDepositLimit != nil {
		v, err := toU128(o.StorageDepositLimit)
		if err != nil {
			return Address{}, nil, fmt.Errorf("storage deposit limit: %w", err)
		}
		a.StorageDepositLimit = &v
	}
	addr := ContractAddress(key.Address(), codeHash, o.Cluster, o.Salt)
	call := phat.InstantiateCall(a)
	if o.FeeLimit == nil {
		if o.FeeLimit, err = c.feeLimitFor(ctx, len(call.Args), phat.InstantiateWeight, phat.PayloadWeightPerByte); err != nil {
			return Address{}, nil, err
		}
	}
	res, err := c.Send(ctx, key, Call(call), o.TxOptions)
	if res != nil {
		res.match = matchInstantiate(addr)
	}
	return addr, res, err
}

func gasOr(g uint64) uint64 {
	if g == 0 {
		return DefaultGasLimit
	}
	return g
}

// Contract states on chain.
const (
	ContractPending      = "pending"
	ContractInstantiated = "instantiated"
	ContractFailed       = "failed"
)

// ContractInfo is the chain's record of a contract.
type ContractInfo struct {
	Address  Address `json:"address"`
	Cluster  Hash    `json:"cluster"`
	Deployer Address `json:"deployer"`
	CodeHash Hash    `json:"codeHash"`
	// State is ContractPending, ContractInstantiated or ContractFailed.
	State string `json:"state"`
	// Pubkey is the contract's ECDH public key, once the cluster has
	// published it (commands are encrypted to it).
	Pubkey *Address `json:"pubkey,omitempty"`
}

// Contract looks up a contract; an error wrapping ErrNotFound when there
// is none at addr.
func (c *Client) Contract(ctx context.Context, addr Address) (*ContractInfo, error) {
	ci, err := c.node.Contract(ctx, addr)
	if err != nil {
		return nil, notFound(err)
	}
	out := &ContractInfo{Address: addr, State: ci.State}
	var perr error
	if out.Cluster, err = ParseHash(ci.Cluster); err != nil {
		perr = err
	}
	if out.CodeHash, err = ParseHash(ci.CodeHash); err != nil {
		perr = err
	}
	if out.Deployer, err = ParseAddress(ci.Deployer); err != nil {
		perr = err
	}
	if ci.Pubkey != "" {
		p, err := ParseAddress(ci.Pubkey)
		if err != nil {
			perr = err
		}
		out.Pubkey = &p
	}
	if perr != nil {
		return nil, fmt.Errorf("sdk: node's contract record: %w", perr)
	}
	return out, nil
}

// PollInterval is how often the Wait methods ask the node.
var PollInterval = 200 * time.Millisecond

// WaitContract polls until the contract at addr is no longer pending (or
// ctx ends) and returns its record: instantiated, or failed.
func (c *Client) WaitContract(ctx context.Context, addr Address) (*ContractInfo, error) {
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		ci, err := c.Contract(ctx, addr)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err == nil && ci.State != ContractPending {
			return ci, nil
		}
		select {
		case <-ctx.Done():
			return ci, fmt.Errorf("waiting for contract %s: %w", addr.Hex(), ctx.Err())
		case <-t.C:
		}
	}
}

// CallOptions are Call's options.
type CallOptions struct {
	// Plain sends the command unencrypted (anyone can read it on chain).
	// By default it is encrypted to the contract's ECDH key.
	Plain bool
	// Value is transferred to the contract with the call (nil: none).
	Value *big.Int
	// GasLimit caps the call's gas; 0 means DefaultGasLimit. The chain
	// reserves GasLimit × the cluster's gas price and refunds what is
	// unused.
	GasLimit uint64
	// StorageDepositLimit caps the storage deposit (nil: no limit).
	StorageDepositLimit *big.Int
	TxOptions
}

// Call sends a command calling a contract message (phat.push_command): data
// is the call data (Metadata.EncodeMessage). The cluster executes it after
// the block; the transaction's success means the chain accepted it, not
// that the message succeeded (see Outcome, and Query for a dry run).
func (c *Client) Call(ctx context.Context, key *Key, contract Address, data []byte, o CallOptions) (*TxResult, error) {
	payload, value, err := c.commandPayload(ctx, contract, data, o)
	if err != nil {
		return nil, err
	}
	args := phat.PushArgs{Contract: contract, Payload: payload, GasLimit: gasOr(o.GasLimit), Deposit: value}
	call := phat.PushCommandCall(args)
	if o.FeeLimit == nil {
		if o.FeeLimit, err = c.feeLimitFor(ctx, len(call.Args), phat.PushCommandWeight, phat.PayloadWeightPerByte); err != nil {
			return nil, err
		}
	}
	res, err := c.Send(ctx, key, Call(call), o.TxOptions)
	if res != nil {
		res.match = matchCommand(key.Address(), contract, payload)
	}
	return res, err
}

// commandPayload builds the SCALE CommandPayload as @phala/sdk does: an
// InkCommand with a random 32-byte nonce, plain or encrypted from a fresh
// ephemeral key to the contract's published ECDH key.
func (c *Client) commandPayload(ctx context.Context, contract Address, data []byte, o CallOptions) ([]byte, scale.U128, error) {
	value, err := toU128(o.Value)
	if err != nil {
		return nil, value, fmt.Errorf("value: %w", err)
	}
	cmd := &phatwire.InkCommand{Nonce: make([]byte, 32), Message: data, Transfer: value, GasLimit: gasOr(o.GasLimit)}
	if _, err := rand.Read(cmd.Nonce); err != nil {
		return nil, value, err
	}
	if o.StorageDepositLimit != nil {
		v, err := toU128(o.StorageDepositLimit)
		if err != nil {
			return nil, value, fmt.Errorf("storage deposit limit: %w", err)
		}
		cmd.StorageDepositLimit = &v
	}
	if o.Plain {
		b, err := (&phatwire.CommandPayload{Plain: cmd}).Encode()
		if err != nil {
			return nil, value, err
		}
		return checkPayload(b, value)
	}
	ci, err := c.Contract(ctx, contract)
	if err != nil {
		return nil, value, err
	}
	if ci.Pubkey == nil {
		return nil, value, fmt.Errorf("sdk: contract %s is %s and has no published key yet: cannot encrypt a command to it", contract.Hex(), ci.State)
	}
	eph, err := ephemeralECDH()
	if err != nil {
		return nil, value, err
	}
	iv, err := cipher.NewIV(rand.Reader)
	if err != nil {
		return nil, value, err
	}
	p, err := phatwire.EncryptCommand(eph, keys.PublicKey(*ci.Pubkey), iv, cmd)
	if err != nil {
		return nil, value, err
	}
	b, err := p.Encode()
	if err != nil {
		return nil, value, err
	}
	return checkPayload(b, value)
}

func checkPayload(b []byte, value scale.U128) ([]byte, scale.U128, error) {
	if len(b) > MaxCommandSize {
		return nil, value, fmt.Errorf("sdk: command payload of %d bytes, at most %d", len(b), MaxCommandSize)
	}
	return b, value, nil
}

func ephemeralECDH() (*cipher.EcdhKey, error) {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, err
	}
	defer clear(seed[:])
	return cipher.EcdhKeyFromSeed(seed), nil
}

// Outcome is what the cluster reported on chain for an instantiation or a
// command: the gas it used (the chain refunds the rest of the reservation).
type Outcome struct {
	// CommandID is the chain's id of the command (or instantiation).
	CommandID Hash `json:"commandId"`
	// Height is the block whose messages announced the command.
	Height int64 `json:"height"`
	// Reported is set once the cluster's outcome is on chain.
	Reported bool   `json:"reported"`
	GasUsed  uint64 `json:"gasUsed,omitempty"`
}

// PendingOutcome returns the command (or instantiation) sent by the
// committed transaction res, not yet reported: its id and block. It does not
// wait. CommandResult accepts it, so a sender can read the result from a
// worker as soon as the worker has applied the command's block — one block
// after that block, while the cluster's report (WaitOutcome) lands on chain
// a block later still.
func (c *Client) PendingOutcome(ctx context.Context, res *TxResult) (*Outcome, error) {
	if res == nil || !res.OK() {
		return nil, errors.New("sdk: PendingOutcome needs a successful committed transaction (TxOptions.Wait)")
	}
	id, err := c.commandOf(ctx, res)
	if err != nil {
		return nil, err
	}
	return &Outcome{CommandID: id, Height: res.Height}, nil
}

// WaitOutcome waits until the cluster's outcome of the command or
// instantiation sent by the committed transaction res is on chain. The
// message's own result (return value, revert) is held by the workers:
// CommandResult asks a worker for it.
func (c *Client) WaitOutcome(ctx context.Context, res *TxResult) (*Outcome, error) {
	if res == nil || !res.OK() {
		return nil, errors.New("sdk: WaitOutcome needs a successful committed transaction (TxOptions.Wait)")
	}
	id, err := c.commandOf(ctx, res)
	if err != nil {
		return nil, err
	}
	out := &Outcome{CommandID: id, Height: res.Height}
	from := uint64(res.Height)
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		ci, err := c.node.ChainInfo(ctx)
		if err != nil {
			return nil, err
		}
		if to := uint64(ci.Height); to >= from {
			recs, err := c.node.Blocks(ctx, from, to)
			if err != nil {
				return nil, err
			}
			for _, r := range recs {
				for _, m := range r.Messages {
					for _, o := range msg.OutcomesOf(string(m.Topic), m.Payload) {
						if o.CommandID == [32]byte(id) {
							out.Reported, out.GasUsed = true, o.GasUsed
							return out, nil
						}
					}
				}
			}
			from = to + 1
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("waiting for the outcome of command %s: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// CommandOutcome is what a command (or instantiation) did, as the
// workers of its cluster recorded it for its sender.
type CommandOutcome struct {
	CommandID Hash `json:"commandId"`
	// Height is the block that carried the command.
	Height   int64   `json:"height"`
	Contract Address `json:"contract"`
	// Refused is set when the cluster did not execute the command (a
	// payload that does not decrypt or decode, a nonce seen before, gas
	// over the reservation): why.
	Refused string `json:"refused,omitempty"`
	// Trapped is set when the execution failed (a trap, out of gas, a
	// dispatch error): Error tells.
	Trapped bool   `json:"trapped,omitempty"`
	Error   string `json:"error,omitempty"`
	// Reverted is set when the contract returned with the revert flag.
	Reverted bool `json:"reverted"`
	// Flags are the contract's return flags.
	Flags uint32 `json:"flags"`
	// Output is the message's SCALE return value (Metadata.DecodeReturn).
	Output  []byte `json:"output"`
	GasUsed uint64 `json:"gasUsed"`
	// Events are the events the contract deposited (only when it
	// succeeded).
	Events []Event `json:"events"`
}

// Success reports a command that was executed and neither trapped nor
// reverted.
func (o *CommandOutcome) Success() bool { return o.Refused == "" && !o.Trapped && !o.Reverted }

// Event is one event a contract deposited.
type Event struct {
	Contract Address `json:"contract"`
	Topics   []Hash  `json:"topics"`
	Data     []byte  `json:"data"`
}

// ErrNoOutcome is wrapped by CommandResult's error when the worker, having
// applied the command's block, has no outcome of it for the key's account:
// the command was sent by another account (whose outcome nobody else may
// read), or the worker does not execute the contract's cluster.
var ErrNoOutcome = errors.New("no outcome of the command for this account")

// CommandResult asks worker w (of the contract's cluster) what the command
// or instantiation o did (WaitOutcome gives o), as its sender key: the
// query is signed by key and sealed to the worker, and the worker answers
// it, sealed to the query, only to the account that sent the command. It
// waits for the worker to apply the command's block.
func (c *Client) CommandResult(ctx context.Context, key *Key, w *Worker, o *Outcome) (*CommandOutcome, error) {
	if w == nil || key == nil || o == nil {
		return nil, errors.New("sdk: CommandResult needs a worker, a key and an outcome")
	}
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		// The applied height is read before the outcome is asked for: a
		// block applied in between would otherwise turn a real outcome
		// into a final "no outcome".
		applied, ierr := w.AppliedHeight(ctx)
		if ierr != nil {
			return nil, ierr
		}
		payload, err := c.query(ctx, key, w, Address(o.CommandID), phatwire.Query{Kind: phatwire.QueryInkMessage}, w.api.CommandOutcome)
		if err == nil {
			r, err := phatwire.DecodeCommandOutcome(payload)
			if err != nil {
				return nil, fmt.Errorf("worker %s's answer: %w", w.URL, err)
			}
			return commandOutcome(o.CommandID, r), nil
		}
		var qe *phatwire.QueryError
		if !errors.As(err, &qe) || qe.Kind != phatwire.QueryErrRuntimeError || qe.Message != phatwire.NoOutcome {
			return nil, err
		}
		// No outcome: final when the worker had applied the block before
		// it was asked.
		if applied >= o.Height {
			return nil, fmt.Errorf("worker %s, command %s: %w", w.URL, o.CommandID, ErrNoOutcome)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for worker %s to apply block %d: %w", w.URL, o.Height, ctx.Err())
		case <-t.C:
		}
	}
}

func commandOutcome(id Hash, r *phatwire.CommandOutcome) *CommandOutcome {
	out := &CommandOutcome{CommandID: id, Height: int64(min(r.Height, 1<<62)), Contract: Address(r.Contract), Refused: r.Refused,
		Trapped: r.Refused == "" && r.Error != "", Error: r.Error, Reverted: r.Reverted(), Flags: r.Flags, Output: r.Output,
		GasUsed: r.GasUsed, Events: []Event{}}
	if out.Output == nil {
		out.Output = []byte{}
	}
	for _, ev := range r.Events {
		e := Event{Contract: Address(ev.Contract), Data: ev.Data, Topics: []Hash{}}
		for _, tp := range ev.Topics {
			e.Topics = append(e.Topics, Hash(tp))
		}
		out.Events = append(out.Events, e)
	}
	return out
}

// commandOf finds the command id the block gave the transaction's
// phat/instantiate or phat/command message (recognised by the contract id
// for an instantiation, by the origin, contract and payload, which holds a
// random nonce, for a command).
func (c *Client) commandOf(ctx context.Context, res *TxResult) (Hash, error) {
	if res.match == nil {
		return Hash{}, errors.New("sdk: WaitOutcome takes the result of Instantiate or Call")
	}
	recs, err := c.node.Blocks(ctx, uint64(res.Height), uint64(res.Height))
	if err != nil {
		return Hash{}, err
	}
	for _, r := range recs {
		for _, m := range r.Messages {
			if id, ok := res.match(m); ok {
				return id, nil
			}
		}
	}
	return Hash{}, fmt.Errorf("sdk: block %d holds no message of transaction %s", res.Height, res.Hash)
}

func matchInstantiate(contract Address) func(msg.Message) (Hash, bool) {
	return func(m msg.Message) (Hash, bool) {
		var p msg.Instantiate
		if string(m.Topic) != msg.TopicPhatInstantiate || scale.Decode(m.Payload, &p) != nil || p.Contract != [32]byte(contract) {
			return Hash{}, false
		}
		return Hash(p.CommandID), true
	}
}

func matchCommand(origin, contract Address, payload []byte) func(msg.Message) (Hash, bool) {
	return func(m msg.Message) (Hash, bool) {
		var p msg.Command
		if string(m.Topic) != msg.TopicPhatCommand || scale.Decode(m.Payload, &p) != nil ||
			p.Origin != keys.PublicKey(origin) || p.Contract != [32]byte(contract) || !bytes.Equal(p.Payload, payload) {
			return Hash{}, false
		}
		return Hash(p.CommandID), true
	}
}

// ClusterInfo is the chain's record of a cluster.
type ClusterInfo struct {
	ID Hash `json:"id"`
	// Workers are the identity keys of the cluster's workers; Keyed those
	// that hold the cluster key (and so execute and answer queries).
	Workers []Address `json:"workers"`
	Keyed   []Address `json:"keyedWorkers"`
}

// Cluster looks up a cluster; an error wrapping ErrNotFound when there is
// none with this id.
func (c *Client) Cluster(ctx context.Context, id Hash) (*ClusterInfo, error) {
	ci, err := c.node.Cluster(ctx, id)
	if err != nil {
		return nil, notFound(err)
	}
	out := &ClusterInfo{ID: id}
	for _, l := range []struct {
		in  []string
		out *[]Address
	}{{ci.Workers, &out.Workers}, {ci.Keyed, &out.Keyed}} {
		for _, s := range l.in {
			a, err := ParseAddress(s)
			if err != nil {
				return nil, fmt.Errorf("sdk: node's cluster record: %w", err)
			}
			*l.out = append(*l.out, a)
		}
	}
	return out, nil
}

// HasKeyedWorker reports whether the worker with identity id holds the
// cluster's key.
func (ci *ClusterInfo) HasKeyedWorker(id Address) bool {
	for _, k := range ci.Keyed {
		if k == id {
			return true
		}
	}
	return false
}
