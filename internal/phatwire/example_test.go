package phatwire_test

import (
	"fmt"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/phatwire"
)

// A whole query round trip: the client certifies an ephemeral key with its
// account, seals and signs a query to the worker; the worker opens it,
// verifies the origin, answers with a ContractExecResult; the client opens
// the answer. (Real code draws IVs and nonces from crypto/rand.)
func Example() {
	alice, _ := keys.FromURI("//Alice")
	worker := cipher.EcdhKeyFromSeed([32]byte{0x22})
	eph := keys.FromSeed([32]byte{0x44})
	client := cipher.NewEcdhKey(eph)

	// Client.
	cert, _ := phatwire.IssueCertificate(alice, eph.Public(), 1<<31-1, phatwire.Sr25519)
	q := &phatwire.ContractQuery{
		Head: phatwire.ContractQueryHead{ID: [32]byte{0xcc}, Nonce: [32]byte{0xaa}},
		Data: phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{Payload: []byte{0x2f, 0x86, 0x5b, 0xd9}}},
	}
	env, _ := phatwire.SealQuery(client, worker.Public(), cipher.IV{1}, q)
	encoded := env.Encode() // ContractQueryRequest.encoded_encrypted_data
	sig := phatwire.SignQuery(cert, eph, encoded)

	// Worker.
	got, reqEnv, err := phatwire.OpenQuery(worker, encoded)
	if err != nil {
		panic(err)
	}
	cache := phatwire.NewVerifyCache(1024)
	chain, err := cache.VerifyQuery(sig, encoded, 100)
	if err != nil {
		panic(err)
	}
	origin, _ := phatwire.Origin(chain)
	result := &phatwire.ContractExecResult{
		GasConsumed: phatwire.Weight{RefTime: 1000, ProofSize: 10},
		GasRequired: phatwire.Weight{RefTime: 2000, ProofSize: 20},
		Result:      phatwire.ExecReturnValue{Data: []byte{0, 1}}, // Ok(true)
	}
	resp := &phatwire.ContractQueryResponse{Nonce: got.Head.Nonce, Payload: result.Encode()}
	answer, _ := phatwire.SealResponse(worker, reqEnv.Pubkey, cipher.IV{2}, resp)

	// Client.
	back, err := phatwire.OpenResponse(client, worker.Public(), q.Head, answer.Encode())
	if err != nil {
		panic(err)
	}
	exec, _ := phatwire.DecodeContractExecResult(back.Payload)
	fmt.Println(origin == phatwire.AccountID(alice.Public()), exec.Err == nil, exec.Result.Data)
	// Output: true true [0 1]
}
