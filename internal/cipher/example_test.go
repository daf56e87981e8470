package cipher_test

import (
	"fmt"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
)

// A client encrypts a query to a worker's ECDH key; the worker opens it and
// answers; the client opens the answer naming the worker it asked.
func Example() {
	worker := cipher.NewEcdhKey(keys.FromSeed([32]byte{0x22}))
	client := cipher.EcdhKeyFromSeed([32]byte{0x44}) // ephemeral

	query, _ := cipher.Encrypt(client, worker.Public(), cipher.IV{1}, []byte("get_driver"))
	wire := query.Encode()

	env, q, err := cipher.OpenEnvelope(worker, wire)
	fmt.Println(string(q), err)
	answer, _ := cipher.Encrypt(worker, env.Pubkey, cipher.IV{2}, []byte("ok"))

	a, err := answer.DecryptWithPeer(client, worker.Public())
	fmt.Println(string(a), err)
	// Output:
	// get_driver <nil>
	// ok <nil>
}
