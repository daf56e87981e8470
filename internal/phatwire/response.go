package phatwire

import (
	"fmt"

	"github.com/cella-network/cella/internal/scale"
)

// QueryErrorKind is the variant index of pRuntime's QueryError (the SDK's
// InkQueryError).
type QueryErrorKind uint8

// QueryError variants.
const (
	QueryErrBadOrigin          QueryErrorKind = 0
	QueryErrRuntimeError       QueryErrorKind = 1 // carries a message
	QueryErrSidevmNotFound     QueryErrorKind = 2
	QueryErrNoResponse         QueryErrorKind = 3
	QueryErrServiceUnavailable QueryErrorKind = 4
	QueryErrTimeout            QueryErrorKind = 5
)

var queryErrNames = [...]string{"BadOrigin", "RuntimeError", "SidevmNotFound", "NoResponse", "ServiceUnavailable", "Timeout"}

func (k QueryErrorKind) String() string {
	if int(k) < len(queryErrNames) {
		return queryErrNames[k]
	}
	return fmt.Sprintf("QueryErrorKind(%d)", uint8(k))
}

// QueryError is a failed query's answer. Message is set only for
// RuntimeError.
type QueryError struct {
	Kind    QueryErrorKind
	Message string
}

// Error implements error.
func (e *QueryError) Error() string {
	if e.Kind == QueryErrRuntimeError {
		return "contract query: RuntimeError: " + e.Message
	}
	return "contract query: " + e.Kind.String()
}

// EncodeSCALE writes the enum.
func (e *QueryError) EncodeSCALE(w *scale.Writer) {
	w.Enum(uint8(e.Kind))
	if e.Kind == QueryErrRuntimeError {
		w.String(e.Message)
	}
}

// DecodeSCALE reads the enum.
func (e *QueryError) DecodeSCALE(r *scale.Reader) {
	*e = QueryError{Kind: QueryErrorKind(r.Enum(uint8(QueryErrTimeout)))}
	if r.Err() == nil && e.Kind == QueryErrRuntimeError {
		e.Message = r.String()
	}
}

// ContractQueryResponse is the plaintext a worker encrypts back: the echoed
// nonce and Result<Response, QueryError>, where Response has the single
// variant Payload(Vec<u8>). The SDK reads the same bytes as
// InkResponse{nonce, result: Result<InkQueryOk::InkMessageReturn(Vec<u8>),
// InkQueryError>}. Exactly one of Payload (Err == nil) and Err is meaningful.
type ContractQueryResponse struct {
	Nonce   [32]byte
	Payload []byte
	Err     *QueryError
}

// EncodeSCALE writes the response.
func (c *ContractQueryResponse) EncodeSCALE(w *scale.Writer) {
	w.Raw(c.Nonce[:])
	if c.Err != nil {
		w.ResultErr()
		c.Err.EncodeSCALE(w)
		return
	}
	w.ResultOk()
	w.Enum(0) // Response::Payload / InkQueryOk::InkMessageReturn
	w.BytesVec(c.Payload)
}

// DecodeSCALE reads the response.
func (c *ContractQueryResponse) DecodeSCALE(r *scale.Reader) {
	*c = ContractQueryResponse{}
	r.Fixed(c.Nonce[:])
	if r.Result() {
		r.Enum(0)
		c.Payload = r.BytesVec()
		return
	}
	if r.Err() != nil {
		return
	}
	c.Err = new(QueryError)
	c.Err.DecodeSCALE(r)
}

// Encode returns the SCALE encoding.
func (c *ContractQueryResponse) Encode() []byte { return scale.Encode(c) }

// DecodeContractQueryResponse decodes a SCALE ContractQueryResponse that must
// fill b exactly.
func DecodeContractQueryResponse(b []byte) (*ContractQueryResponse, error) {
	c := new(ContractQueryResponse)
	if err := decodeBounded(b, MaxResponseSize, c); err != nil {
		return nil, fmt.Errorf("%w: contract query response: %w", ErrMalformed, err)
	}
	return c, nil
}

// MaxResponseSize bounds the responses DecodeContractQueryResponse accepts
// (pRuntime's public port signs answers up to 10 MiB).
const MaxResponseSize = 10 << 20

// CheckNonce returns an error unless the response echoes the request's nonce
// (what binds an answer to its query).
func (c *ContractQueryResponse) CheckNonce(head ContractQueryHead) error {
	if c.Nonce != head.Nonce {
		return fmt.Errorf("phatwire: response nonce %x does not match the query's %x", c.Nonce[:4], head.Nonce[:4])
	}
	return nil
}
