package cipher

import (
	"crypto/hkdf"
	"crypto/sha256"

	"github.com/cella-network/cella/internal/keys"
)

// KDFSalt is Phala's HKDF salt (phala-crypto sr25519.rs KDF_SALT): the
// genesis block hash of Phala's PoC-4 testnet,
// 0x18e876adfa74cc743b4b7d7f92c96e03de559a3c15270581fce445963d90f85e.
var KDFSalt = [32]byte{
	0x18, 0xe8, 0x76, 0xad, 0xfa, 0x74, 0xcc, 0x74, 0x3b, 0x4b, 0x7d, 0x7f, 0x92, 0xc9, 0x6e, 0x03,
	0xde, 0x55, 0x9a, 0x3c, 0x15, 0x27, 0x05, 0x81, 0xfc, 0xe4, 0x45, 0x96, 0x3d, 0x90, 0xf8, 0x5e,
}

// Info strings of Phala's key hierarchy.
const (
	InfoClusterKey   = "cluster_key"
	InfoContractKey  = "contract_key"
	InfoKeygen       = "keygen"
	InfoRandomNumber = "random_number"
	InfoIVGenerator  = "iv_generator"
)

// DeriveSeed is the seed step of Phala's derive_sr25519_pair:
//
//	seed = HKDF-SHA256(salt = KDFSalt,
//	                   IKM  = parent.SecretBytes()   // 64 bytes: scalar ‖ nonce (to_bytes form)
//	                   info = info[0] ‖ info[1] ‖ … // plain concatenation, as ring's expand
//	                   L    = 32)
//
// The info slices are concatenated without separators or lengths, so
// ("ab", "c") and ("a", "bc") derive the same seed — exactly as Phala does.
func DeriveSeed(parent *keys.Pair, info ...[]byte) [32]byte {
	ikm := parent.SecretBytes()
	defer clear(ikm[:])
	n := 0
	for _, s := range info {
		n += len(s)
	}
	cat := make([]byte, 0, n)
	for _, s := range info {
		cat = append(cat, s...)
	}
	okm, err := hkdf.Key(sha256.New, ikm[:], KDFSalt[:], string(cat), 32)
	if err != nil { // cannot happen: 32 bytes is far below HKDF's limit
		panic("cipher: hkdf: " + err.Error())
	}
	var seed [32]byte
	copy(seed[:], okm)
	clear(okm)
	return seed
}

// DerivePair is Phala's derive_sr25519_pair(info) (phala-crypto sr25519.rs):
// the pair keys.FromSeed(DeriveSeed(parent, info...)), i.e. sp_core's
// sr25519::Pair::from_seed with schnorrkel's Ed25519 expansion.
func DerivePair(parent *keys.Pair, info ...[]byte) *keys.Pair {
	seed := DeriveSeed(parent, info...)
	defer clear(seed[:])
	return keys.FromSeed(seed)
}

// ClusterKey is a cluster's key, derived by the gatekeepers from the master
// key (phactory system/gk.rs get_cluster_key):
//
//	cluster_key = derive_sr25519_pair(master, ["cluster_key", cluster_id])
//
// clusterID is the 32-byte ContractClusterId (H256).
func ClusterKey(master *keys.Pair, clusterID [32]byte) *keys.Pair {
	return DerivePair(master, []byte(InfoClusterKey), clusterID[:])
}

// ContractKey is a contract's key, derived by the workers of its cluster
// from the cluster key (phactory system/mod.rs get_contract_key):
//
//	contract_key = derive_sr25519_pair(cluster_key, ["contract_key", contract_id])
//
// contractID is the contract's 32-byte id (its AccountId / H256). The
// contract's ECDH key (NewEcdhKey) has the same scalar, so clients encrypt
// commands to the contract key's public key.
func ContractKey(cluster *keys.Pair, contractID [32]byte) *keys.Pair {
	return DerivePair(cluster, []byte(InfoContractKey), contractID[:])
}

// ContractDerivedKey is the key the pink chain extension derive_sr25519_key
// hands a contract (pink runtime extension.rs), derived from the cluster key
// (the pink runtime's key):
//
//	derived = derive_sr25519_pair(cluster_key, [contract_address, salt, "keygen"])
//
// The extension returns derived's 64-byte secret in the to_bytes form
// (keys.Pair.SecretBytes).
func ContractDerivedKey(cluster *keys.Pair, contractAddress [32]byte, salt []byte) *keys.Pair {
	return DerivePair(cluster, contractAddress[:], salt, []byte(InfoKeygen))
}

// RandomNumberKey is the gatekeeper's random-number key (gk.rs
// next_random_number): derive_sr25519_pair(master, ["random_number"]).
func RandomNumberKey(master *keys.Pair) *keys.Pair {
	return DerivePair(master, []byte(InfoRandomNumber))
}

// IVGeneratorKey is the gatekeeper's IV generator key (gk.rs generate_iv):
// derive_sr25519_pair(master, ["iv_generator"]). See IVGenerator.
func IVGeneratorKey(master *keys.Pair) *keys.Pair {
	return DerivePair(master, []byte(InfoIVGenerator))
}
