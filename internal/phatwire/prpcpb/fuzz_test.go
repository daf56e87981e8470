package prpcpb

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/phatwire"
)

// FuzzContractQueryRequest feeds arbitrary bytes to the worker's receive path
// for a ContractQuery body: protobuf parse, conversion, signature-chain
// verification with and without the cache. It checks that nothing panics,
// that both verifications agree, and that a verified chain is two accounts
// long at most. The corpus holds the SDK's request (from the vectors) and
// variants.
func FuzzContractQueryRequest(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00})
	cache := phatwire.NewVerifyCache(8)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, sig, err := DecodeContractQueryRequest(data)
		if err != nil {
			return
		}
		chain, err := VerifyContractQueryRequest(req, sig, 1, nil)
		cached, cerr := VerifyContractQueryRequest(req, sig, 1, cache)
		if (err == nil) != (cerr == nil) || len(chain) != len(cached) {
			t.Fatalf("Verify %x, %v; cache %x, %v", chain, err, cached, cerr)
		}
		if len(chain) > phatwire.MaxCertificateDepth {
			t.Fatalf("chain of %d", len(chain))
		}
		// Converting to protobuf and back is the identity (unknown protobuf
		// fields are dropped on the first conversion).
		again, err := ToSignature(FromSignature(sig))
		if err != nil || !reflect.DeepEqual(again, sig) {
			t.Fatalf("round trip %+v, %v; was %+v", again, err, sig)
		}
		if b, err := proto.Marshal(&ContractQueryRequest{EncodedEncryptedData: req.EncodedEncryptedData, Signature: FromSignature(sig)}); err != nil || len(b) > len(data) {
			t.Fatalf("re-marshalled to %d bytes from %d (%v)", len(b), len(data), err)
		}
	})
}
