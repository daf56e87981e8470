package pruntime

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// workerKeys are the worker's own keys, made inside the pRuntime at first
// initialisation and never leaving it unsealed.
type workerKeys struct {
	// identity signs egress messages and names the worker on chain.
	identity *keys.Pair
	// ecdh is an sr25519 key whose scalar serves ECDH on ristretto255
	// (secure channels with clients and gatekeepers).
	ecdh *keys.Pair
	// channel is ecdh as the secure channel uses it (query envelopes).
	channel *cipher.EcdhKey

	identitySeed, ecdhSeed [32]byte
}

func newWorkerKeys() (*workerKeys, error) {
	var a, b [32]byte
	if _, err := rand.Read(a[:]); err != nil {
		return nil, fmt.Errorf("generate identity key: %w", err)
	}
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("generate ecdh key: %w", err)
	}
	return keysFromSeeds(a, b), nil
}

func keysFromSeeds(a, b [32]byte) *workerKeys {
	ecdh := keys.FromSeed(b)
	return &workerKeys{identity: keys.FromSeed(a), ecdh: ecdh, channel: cipher.NewEcdhKey(ecdh), identitySeed: a, ecdhSeed: b}
}

const keysDomain = "cella/pruntime/keys/v1"

func (k *workerKeys) encode() []byte {
	var w scale.Writer
	w.String(keysDomain)
	w.Raw(k.identitySeed[:])
	w.Raw(k.ecdhSeed[:])
	return w.Bytes()
}

var errBadKeys = errors.New("pruntime: sealed keys do not decode")

func decodeKeys(b []byte) (*workerKeys, error) {
	r := scale.NewReader(b)
	if r.String() != keysDomain {
		return nil, errBadKeys
	}
	var a, c [32]byte
	r.Fixed(a[:])
	r.Fixed(c[:])
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadKeys, err)
	}
	return keysFromSeeds(a, c), nil
}

// core returns the keys as the worker core takes them.
func (k *workerKeys) core() worker.Keys { return worker.Keys{Identity: k.identity, Ecdh: k.ecdh} }
