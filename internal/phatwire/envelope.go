package phatwire

import (
	"fmt"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
)

// SealQuery encrypts q from the client's ephemeral ECDH key to the worker's
// ECDH public key (from GetInfo) with iv, giving the envelope whose SCALE
// encoding is the request's encoded_encrypted_data (and the message a query
// signature signs).
func SealQuery(client *cipher.EcdhKey, worker keys.PublicKey, iv cipher.IV, q *ContractQuery) (*cipher.EncryptedData, error) {
	return cipher.Encrypt(client, worker, iv, q.Encode())
}

// OpenQuery decodes and decrypts a request's encoded_encrypted_data with the
// worker's ECDH key and decodes the query inside. It also returns the
// envelope: its Pubkey is the client key the answer is sealed to.
func OpenQuery(worker *cipher.EcdhKey, encodedEncryptedData []byte) (*ContractQuery, *cipher.EncryptedData, error) {
	if len(encodedEncryptedData) > MaxQuerySize {
		return nil, nil, fmt.Errorf("%w: encrypted query of %d bytes, limit %d", ErrMalformed, len(encodedEncryptedData), MaxQuerySize)
	}
	env, plain, err := cipher.OpenEnvelope(worker, encodedEncryptedData)
	if err != nil {
		return nil, nil, err
	}
	q, err := DecodeContractQuery(plain)
	if err != nil {
		return nil, nil, err
	}
	return q, env, nil
}

// SealResponse encrypts a response from the worker's ECDH key to the
// client's ephemeral key (the query envelope's Pubkey) with iv.
func SealResponse(worker *cipher.EcdhKey, client keys.PublicKey, iv cipher.IV, resp *ContractQueryResponse) (*cipher.EncryptedData, error) {
	return cipher.Encrypt(worker, client, iv, resp.Encode())
}

// OpenResponse decodes and decrypts a response's encoded_encrypted_data with
// the client's ephemeral key, agreeing with the worker it queried (never the
// envelope's claimed key), decodes it and checks the nonce against the
// query's head.
func OpenResponse(client *cipher.EcdhKey, worker keys.PublicKey, head ContractQueryHead, encodedEncryptedData []byte) (*ContractQueryResponse, error) {
	if len(encodedEncryptedData) > MaxResponseSize {
		return nil, fmt.Errorf("%w: encrypted response of %d bytes, limit %d", ErrMalformed, len(encodedEncryptedData), MaxResponseSize)
	}
	env, err := cipher.DecodeEncryptedData(encodedEncryptedData)
	if err != nil {
		return nil, err
	}
	plain, err := env.DecryptWithPeer(client, worker)
	if err != nil {
		return nil, err
	}
	resp, err := DecodeContractQueryResponse(plain)
	if err != nil {
		return nil, err
	}
	if err := resp.CheckNonce(head); err != nil {
		return nil, err
	}
	return resp, nil
}
