package phatwire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/cella-network/cella/internal/cipher"
)

// FuzzDecodeContractQuery checks that the query decoder never panics, fails
// only with ErrMalformed, and that whatever decodes re-encodes to the input
// (the encoding is canonical). The checked-in corpus holds the SDK's queries.
func FuzzDecodeContractQuery(f *testing.F) {
	f.Add([]byte{})
	f.Add((&ContractQuery{Data: Query{Kind: QuerySidevm, Sidevm: []byte("{}")}}).Encode())
	f.Add((&ContractQuery{Data: Query{Kind: QueryInkInstantiate}}).Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := DecodeContractQuery(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || q != nil {
				t.Fatalf("error %v with %v", err, q)
			}
			return
		}
		if got := q.Encode(); !bytes.Equal(got, data) {
			t.Fatalf("re-encoded %x, input %x", got, data)
		}
	})
}

// FuzzDecodeResults does the same for the answers: ContractQueryResponse,
// ContractExecResult and ContractInstantiateResult, chosen by the first byte.
func FuzzDecodeResults(f *testing.F) {
	f.Add([]byte{0})
	f.Add(append([]byte{1}, (&ContractExecResult{DebugMessage: "x", Err: &DispatchError{Kind: DispatchModule}}).Encode()...))
	f.Add(append([]byte{2}, (&ContractInstantiateResult{}).Encode()...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		var enc func() []byte
		var err error
		switch data[0] % 3 {
		case 0:
			var r *ContractQueryResponse
			if r, err = DecodeContractQueryResponse(data[1:]); err == nil {
				enc = r.Encode
			}
		case 1:
			var r *ContractExecResult
			if r, err = DecodeContractExecResult(data[1:]); err == nil {
				enc = r.Encode
			}
		default:
			var r *ContractInstantiateResult
			if r, err = DecodeContractInstantiateResult(data[1:]); err == nil {
				enc = r.Encode
			}
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if got := enc(); !bytes.Equal(got, data[1:]) {
			t.Fatalf("re-encoded %x, input %x", got, data[1:])
		}
	})
}

// FuzzCommandPayload decodes command payloads, re-encodes them, and opens
// encrypted ones with the contract key of the oracle vectors (seed 0x33…):
// no panic, only documented errors, and an opened command is a valid one.
// The corpus holds the SDK's plain and encrypted commands.
func FuzzCommandPayload(f *testing.F) {
	f.Add([]byte{0, 0})
	f.Add([]byte{1})
	contract := cipher.EcdhKeyFromSeed([32]byte(bytes.Repeat([]byte{0x33}, 32)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeCommandPayload(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		got, err := p.Encode()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("re-encoded %x (%v), input %x", got, err, data)
		}
		cmd, err := p.Open(contract)
		if err != nil {
			if p.Plain != nil {
				t.Fatalf("plain command failed to open: %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, cipher.ErrDecrypt) && !errors.Is(err, cipher.ErrInvalidPublicKey) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if err := cmd.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzVerifySignature builds a two-level signature from fuzzed parts (leaf
// and root certificate bodies, types and signatures, message and block) and
// checks that Verify and the cache never panic and give the same verdict.
// Seeds are a valid chain and its pieces.
func FuzzVerifySignature(f *testing.F) {
	sig, _, _ := querySig(f, Sr25519, 100, []byte("msg"))
	f.Add([]byte("msg"), sig.SignedBy.EncodedBody, sig.SignedBy.Signature.SignedBy.EncodedBody,
		int32(sig.Type), int32(sig.SignedBy.Signature.Type), sig.Signature, sig.SignedBy.Signature.Signature, uint32(5))
	// An ECDSA root.
	priv := secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x42}, 32))
	root := (&CertificateBody{Pubkey: priv.PubKey().SerializeCompressed(), TTL: 100}).Encode()
	f.Add([]byte("msg"), sig.SignedBy.EncodedBody, root, int32(Sr25519), int32(Ecdsa), sig.Signature,
		substrateEcdsaSign(priv, sig.SignedBy.EncodedBody), uint32(5))
	f.Fuzz(func(t *testing.T, msg, leafBody, rootBody []byte, leafType, rootType int32, leafSig, rootSig []byte, block uint32) {
		s := &Signature{
			SignedBy: &Certificate{EncodedBody: leafBody, Signature: &Signature{
				SignedBy: &Certificate{EncodedBody: rootBody}, Type: SignatureType(rootType), Signature: rootSig}},
			Type: SignatureType(leafType), Signature: leafSig,
		}
		chain, err := s.Verify(msg, block, MaxCertificateDepth)
		cached, cerr := NewVerifyCache(1).VerifyQuery(s, msg, block)
		if (err == nil) != (cerr == nil) || len(chain) != len(cached) {
			t.Fatalf("Verify %x, %v; cache %x, %v", chain, err, cached, cerr)
		}
		if err == nil && (len(chain) != 2 || chain[0] != cached[0] || chain[1] != cached[1]) {
			t.Fatalf("chains %x / %x", chain, cached)
		}
	})
}
