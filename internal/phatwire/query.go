package phatwire

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/scale"
)

// ErrMalformed is wrapped by every decoding error of this package.
var ErrMalformed = errors.New("phatwire: malformed input")

// MaxQuerySize bounds the SCALE encodings the query decoders accept: pRuntime
// limits a ContractQuery request body to 500 KiB, and the plaintext inside is
// smaller than its envelope.
const MaxQuerySize = 500 << 10

// ContractQueryHead is the head of every query: the contract it addresses and
// a random nonce the answer echoes.
type ContractQueryHead struct {
	ID    [32]byte
	Nonce [32]byte
}

// QueryKind is the variant index of Phala's Query enum (the SDK's
// InkQueryData).
type QueryKind uint8

// Query variants.
const (
	QueryInkMessage     QueryKind = 0
	QuerySidevm         QueryKind = 1
	QueryInkInstantiate QueryKind = 2
)

func (k QueryKind) String() string {
	switch k {
	case QueryInkMessage:
		return "InkMessage"
	case QuerySidevm:
		return "SidevmQuery"
	case QueryInkInstantiate:
		return "InkInstantiate"
	}
	return fmt.Sprintf("QueryKind(%d)", uint8(k))
}

// InkMessageQuery calls a message read-only. Payload is selector ‖ SCALE
// arguments; Estimating asks for a gas estimate.
type InkMessageQuery struct {
	Payload    []byte
	Deposit    scale.U128
	Transfer   scale.U128
	Estimating bool
}

// InkInstantiateQuery dry-runs a constructor.
type InkInstantiateQuery struct {
	CodeHash        [32]byte
	Salt            []byte
	InstantiateData []byte
	Deposit         scale.U128
	Transfer        scale.U128
}

// Query is Phala's Query enum; Kind selects which field is meaningful.
type Query struct {
	Kind        QueryKind
	Message     InkMessageQuery     // Kind == QueryInkMessage
	Sidevm      []byte              // Kind == QuerySidevm
	Instantiate InkInstantiateQuery // Kind == QueryInkInstantiate
}

// EncodeSCALE writes the enum's SCALE encoding. An unknown Kind is written as
// its bare index, which no decoder accepts.
func (q *Query) EncodeSCALE(w *scale.Writer) {
	w.Enum(uint8(q.Kind))
	switch q.Kind {
	case QueryInkMessage:
		w.BytesVec(q.Message.Payload)
		w.U128(q.Message.Deposit)
		w.U128(q.Message.Transfer)
		w.Bool(q.Message.Estimating)
	case QuerySidevm:
		w.BytesVec(q.Sidevm)
	case QueryInkInstantiate:
		w.Raw(q.Instantiate.CodeHash[:])
		w.BytesVec(q.Instantiate.Salt)
		w.BytesVec(q.Instantiate.InstantiateData)
		w.U128(q.Instantiate.Deposit)
		w.U128(q.Instantiate.Transfer)
	}
}

// DecodeSCALE reads the enum.
func (q *Query) DecodeSCALE(r *scale.Reader) {
	*q = Query{Kind: QueryKind(r.Enum(uint8(QueryInkInstantiate)))}
	if r.Err() != nil {
		return
	}
	switch q.Kind {
	case QueryInkMessage:
		q.Message.Payload = r.BytesVec()
		q.Message.Deposit = r.U128()
		q.Message.Transfer = r.U128()
		q.Message.Estimating = r.Bool()
	case QuerySidevm:
		q.Sidevm = r.BytesVec()
	case QueryInkInstantiate:
		r.Fixed(q.Instantiate.CodeHash[:])
		q.Instantiate.Salt = r.BytesVec()
		q.Instantiate.InstantiateData = r.BytesVec()
		q.Instantiate.Deposit = r.U128()
		q.Instantiate.Transfer = r.U128()
	}
}

// ContractQuery is the plaintext a client encrypts to the worker (Phala's
// ContractQuery<Query>, the SDK's InkQuery).
type ContractQuery struct {
	Head ContractQueryHead
	Data Query
}

// EncodeSCALE writes head then data.
func (q *ContractQuery) EncodeSCALE(w *scale.Writer) {
	w.Raw(q.Head.ID[:])
	w.Raw(q.Head.Nonce[:])
	q.Data.EncodeSCALE(w)
}

// DecodeSCALE reads head then data.
func (q *ContractQuery) DecodeSCALE(r *scale.Reader) {
	r.Fixed(q.Head.ID[:])
	r.Fixed(q.Head.Nonce[:])
	q.Data.DecodeSCALE(r)
}

// Encode returns the SCALE encoding.
func (q *ContractQuery) Encode() []byte { return scale.Encode(q) }

// DecodeContractQuery decodes a SCALE ContractQuery that must fill b exactly.
func DecodeContractQuery(b []byte) (*ContractQuery, error) {
	q := new(ContractQuery)
	if err := decodeBounded(b, MaxQuerySize, q); err != nil {
		return nil, fmt.Errorf("%w: contract query: %w", ErrMalformed, err)
	}
	return q, nil
}

// decodeBounded decodes b into v after checking its size.
func decodeBounded(b []byte, max int, v scale.Decodable) error {
	if len(b) > max {
		return fmt.Errorf("%d bytes, limit %d", len(b), max)
	}
	return scale.Decode(b, v)
}
