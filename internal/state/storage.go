package state

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Storage layout of AppVersion1. Keys are fixed: changing one is a new app
// version.
//
//	"balances/account/" ‖ blake2_128(account) ‖ account  → SCALE(Account)
//	"validators/set"                                    → SCALE(Vec<Validator>) sorted by public key
//	"system/params"                                     → SCALE(Params)
//	"system/app_version"                                → u64 LE app version of the next block (absent: the genesis's)
//	"mq/ingress/" ‖ origin                              → u64 LE next sequence (package mq)
//	"registry/…"                                        → config, allow-list, index, records (package registry)
//
// Account keys follow Substrate's Blake2_128Concat: the hash spreads accounts
// evenly over the key space (for a future state trie), the raw account after
// it keeps the key reversible.
var (
	// PrefixAccount starts every account key.
	PrefixAccount = []byte("balances/account/")
	// KeyValidators holds the validator set.
	KeyValidators = []byte("validators/set")
	// KeyParams holds the Params.
	KeyParams = []byte("system/params")
	// KeyAppVersion holds the app version that the blocks after the last
	// committed one run: written by the block that switches app versions
	// (see BlockResult.AppVersionUpdate), absent until the first switch
	// (the genesis's version).
	KeyAppVersion = []byte("system/app_version")
)

// TreasuryDomain is hashed to make TreasuryAccount.
const TreasuryDomain = "cella/treasury/v1"

// TreasuryAccount receives all fees. Its id is blake2-256("cella/treasury/v1"),
// so nobody holds its secret key.
var TreasuryAccount = keys.PublicKey(hashing.Blake2b256([]byte(TreasuryDomain)))

// ErrCorruptState means a stored value does not decode. It is a store failure,
// not a transaction failure.
var ErrCorruptState = errors.New("state: corrupt stored value")

// ErrNoParams means the store holds no Params (InitChain's write-set was not applied).
var ErrNoParams = errors.New("state: no params in store (genesis not applied?)")

// Account is an account's stored record.
type Account struct {
	// Nonce is the nonce its next transaction must carry (the number sent so far).
	Nonce uint64
	// Free is the spendable balance in base units.
	Free scale.U128
}

// EncodeSCALE writes the account as (u64, u128).
func (a *Account) EncodeSCALE(w *scale.Writer) { w.U64(a.Nonce); w.U128(a.Free) }

// DecodeSCALE reads an account.
func (a *Account) DecodeSCALE(r *scale.Reader) { a.Nonce = r.U64(); a.Free = r.U128() }

// AccountKey returns the storage key of an account.
func AccountKey(a keys.PublicKey) []byte {
	h := hashing.Blake2b128(a[:])
	k := make([]byte, 0, len(PrefixAccount)+16+32)
	k = append(k, PrefixAccount...)
	k = append(k, h[:]...)
	return append(k, a[:]...)
}

// treasuryKey is AccountKey(TreasuryAccount).
var treasuryKey = AccountKey(TreasuryAccount)

// GetAccount reads an account; an absent account is the zero Account.
func GetAccount(st Store, a keys.PublicKey) (Account, error) {
	return GetAccountAt(st, AccountKey(a))
}

// GetAccountAt reads the account stored under key (an AccountKey).
func GetAccountAt(st Store, key []byte) (Account, error) {
	v, err := st.Get(key)
	if err != nil {
		return Account{}, fmt.Errorf("state: reading account: %w", err)
	}
	var acct Account
	if v == nil {
		return acct, nil
	}
	if err := scale.Decode(v, &acct); err != nil {
		return Account{}, fmt.Errorf("%w: account key %x: %w", ErrCorruptState, key, err)
	}
	return acct, nil
}

// PutAccount stores an account under key (an AccountKey), or deletes it
// when it is all zero.
func PutAccount(ov *Overlay, k []byte, acct Account) {
	if acct.Nonce == 0 && acct.Free.IsZero() {
		ov.Delete(k)
		return
	}
	w := scale.NewWriter(24)
	acct.EncodeSCALE(w)
	ov.SetOwned(k, w.Bytes())
}

// GetValidators reads the validator set, sorted by public key.
func GetValidators(st Store) ([]Validator, error) {
	v, err := st.Get(KeyValidators)
	if err != nil {
		return nil, fmt.Errorf("state: reading validators: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	n := r.Len(40)
	vs := make([]Validator, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var val Validator
		val.DecodeSCALE(r)
		vs = append(vs, val)
	}
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: validators: %w", ErrCorruptState, err)
	}
	return vs, nil
}

// PutValidators stores the validator set, which must be sorted by public
// key (SortValidators).
func PutValidators(ov *Overlay, vs []Validator) {
	var w scale.Writer
	w.Compact(uint64(len(vs)))
	for i := range vs {
		vs[i].EncodeSCALE(&w)
	}
	ov.SetOwned(KeyValidators, w.Bytes())
}

// GetParams reads the Params.
func GetParams(st Store) (Params, error) {
	v, err := st.Get(KeyParams)
	if err != nil {
		return Params{}, fmt.Errorf("state: reading params: %w", err)
	}
	if v == nil {
		return Params{}, ErrNoParams
	}
	var p Params
	if err := scale.Decode(v, &p); err != nil {
		return Params{}, fmt.Errorf("%w: params: %w", ErrCorruptState, err)
	}
	return p, nil
}

// GetAppVersion reads the app version that the next block runs: the one
// the last app-version switch wrote (KeyAppVersion), or genesisVersion when
// the chain never switched.
func GetAppVersion(st Store, genesisVersion uint64) (uint64, error) {
	v, err := st.Get(KeyAppVersion)
	if err != nil {
		return 0, fmt.Errorf("state: reading the app version: %w", err)
	}
	if v == nil {
		return genesisVersion, nil
	}
	r := scale.NewReader(v)
	ver := r.U64()
	if err := r.Finish(); err != nil {
		return 0, fmt.Errorf("%w: app version: %w", ErrCorruptState, err)
	}
	return ver, nil
}

// Load reads the SCALE record at key into a T; false when there is none.
// what names the record in errors: a store failure reads "state: reading
// <what>", an undecodable record wraps ErrCorruptState.
func Load[T any, P interface {
	*T
	scale.Decodable
}](st Store, key []byte, what string) (T, bool, error) {
	var out T
	v, err := st.Get(key)
	if err != nil {
		return out, false, fmt.Errorf("state: reading %s: %w", what, err)
	}
	if v == nil {
		return out, false, nil
	}
	if err := scale.Decode(v, P(&out)); err != nil {
		return out, false, fmt.Errorf("%w: %s: %w", ErrCorruptState, what, err)
	}
	return out, true, nil
}
