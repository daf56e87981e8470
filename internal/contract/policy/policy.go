// Package policy holds the upload rules of contract code as data: the
// wasm.Policy the engine applies in transaction mode and in query mode,
// without the engine itself. The chain validates uploaded code with it
// (phat.upload_code), so it must stay pure: it imports only the validator
// (no wazero, no I/O). A test checks that it equals the engine's own policy.
package policy

import (
	"strings"

	"github.com/cella-network/cella/internal/contract/wasm"
)

// MaxMemoryPages is the largest env.memory maximum a contract may declare
// (the engine's MaxMemoryPages).
const MaxMemoryPages = 16

// signatures lists every host function a contract may import, as
// "module.name" → "params:results", one letter a value (i = i32, j = i64).
// It mirrors the engine's host functions (seal_ aliases included).
var signatures = map[string]string{
	"__unstable__.call_runtime":           "ii:i",
	"__unstable__.clear_storage":          "ii:i",
	"__unstable__.contains_storage":       "ii:i",
	"__unstable__.debug_message":          "ii:i",
	"__unstable__.delegate_call":          "iiiiii:i",
	"__unstable__.get_storage":            "iiii:i",
	"__unstable__.reentrance_count":       ":i",
	"__unstable__.seal_call_runtime":      "ii:i",
	"__unstable__.seal_clear_storage":     "ii:i",
	"__unstable__.seal_contains_storage":  "ii:i",
	"__unstable__.seal_debug_message":     "ii:i",
	"__unstable__.seal_delegate_call":     "iiiiii:i",
	"__unstable__.seal_get_storage":       "iiii:i",
	"__unstable__.seal_reentrance_count":  ":i",
	"__unstable__.seal_set_storage":       "iiii:i",
	"__unstable__.seal_sr25519_verify":    "iiii:i",
	"__unstable__.seal_take_storage":      "iiii:i",
	"__unstable__.set_storage":            "iiii:i",
	"__unstable__.sr25519_verify":         "iiii:i",
	"__unstable__.take_storage":           "iiii:i",
	"seal0.account_reentrance_count":      "i:i",
	"seal0.address":                       "ii:",
	"seal0.balance":                       "ii:",
	"seal0.block_number":                  "ii:",
	"seal0.call":                          "iijiiiiii:i",
	"seal0.call_chain_extension":          "iiiii:i",
	"seal0.call_runtime":                  "ii:i",
	"seal0.caller":                        "ii:",
	"seal0.caller_is_origin":              ":i",
	"seal0.caller_is_root":                ":i",
	"seal0.clear_storage":                 "i:",
	"seal0.clear_transient_storage":       "ii:i",
	"seal0.code_hash":                     "iii:i",
	"seal0.contains_storage":              "i:i",
	"seal0.contains_transient_storage":    "ii:i",
	"seal0.debug_message":                 "ii:i",
	"seal0.delegate_call":                 "iiiiii:i",
	"seal0.deposit_event":                 "iiii:",
	"seal0.ecdsa_recover":                 "iii:i",
	"seal0.ecdsa_to_eth_address":          "ii:i",
	"seal0.gas_left":                      "ii:",
	"seal0.get_storage":                   "iii:i",
	"seal0.get_transient_storage":         "iiii:i",
	"seal0.hash_blake2_128":               "iii:",
	"seal0.hash_blake2_256":               "iii:",
	"seal0.hash_keccak_256":               "iii:",
	"seal0.hash_sha2_256":                 "iii:",
	"seal0.input":                         "ii:",
	"seal0.instantiate":                   "iijiiiiiiiiii:i",
	"seal0.instantiation_nonce":           ":j",
	"seal0.is_contract":                   "i:i",
	"seal0.lock_delegate_dependency":      "i:",
	"seal0.minimum_balance":               "ii:",
	"seal0.now":                           "ii:",
	"seal0.own_code_hash":                 "ii:",
	"seal0.random":                        "iiii:",
	"seal0.reentrance_count":              ":i",
	"seal0.rent_allowance":                "ii:",
	"seal0.restore_to":                    "iiiiiiii:",
	"seal0.seal_account_reentrance_count": "i:i",
	"seal0.seal_address":                  "ii:",
	"seal0.seal_balance":                  "ii:",
	"seal0.seal_block_number":             "ii:",
	"seal0.seal_call":                     "iijiiiiii:i",
	"seal0.seal_call_chain_extension":     "iiiii:i",
	"seal0.seal_call_runtime":             "ii:i",
	"seal0.seal_caller":                   "ii:",
	"seal0.seal_caller_is_origin":         ":i",
	"seal0.seal_clear_storage":            "i:",
	"seal0.seal_code_hash":                "iii:i",
	"seal0.seal_contains_storage":         "i:i",
	"seal0.seal_debug_message":            "ii:i",
	"seal0.seal_delegate_call":            "iiiiii:i",
	"seal0.seal_deposit_event":            "iiii:",
	"seal0.seal_ecdsa_recover":            "iii:i",
	"seal0.seal_ecdsa_to_eth_address":     "ii:i",
	"seal0.seal_gas_left":                 "ii:",
	"seal0.seal_get_storage":              "iii:i",
	"seal0.seal_hash_blake2_128":          "iii:",
	"seal0.seal_hash_blake2_256":          "iii:",
	"seal0.seal_hash_keccak_256":          "iii:",
	"seal0.seal_hash_sha2_256":            "iii:",
	"seal0.seal_input":                    "ii:",
	"seal0.seal_instantiate":              "iijiiiiiiiiii:i",
	"seal0.seal_instantiation_nonce":      ":j",
	"seal0.seal_is_contract":              "i:i",
	"seal0.seal_minimum_balance":          "ii:",
	"seal0.seal_now":                      "ii:",
	"seal0.seal_own_code_hash":            "ii:",
	"seal0.seal_random":                   "iiii:",
	"seal0.seal_reentrance_count":         ":i",
	"seal0.seal_rent_allowance":           "ii:",
	"seal0.seal_restore_to":               "iiiiiiii:",
	"seal0.seal_return":                   "iii:",
	"seal0.seal_set_code_hash":            "i:i",
	"seal0.seal_set_rent_allowance":       "ii:",
	"seal0.seal_set_storage":              "iii:",
	"seal0.seal_sr25519_verify":           "iiii:i",
	"seal0.seal_take_storage":             "iiii:i",
	"seal0.seal_terminate":                "ii:",
	"seal0.seal_tombstone_deposit":        "ii:",
	"seal0.seal_transfer":                 "iiii:i",
	"seal0.seal_value_transferred":        "ii:",
	"seal0.seal_weight_to_fee":            "jii:",
	"seal0.set_code_hash":                 "i:i",
	"seal0.set_rent_allowance":            "ii:",
	"seal0.set_storage":                   "iii:",
	"seal0.set_transient_storage":         "iiii:i",
	"seal0.sr25519_verify":                "iiii:i",
	"seal0.take_storage":                  "iiii:i",
	"seal0.take_transient_storage":        "iiii:i",
	"seal0.terminate":                     "ii:",
	"seal0.tombstone_deposit":             "ii:",
	"seal0.transfer":                      "iiii:i",
	"seal0.unlock_delegate_dependency":    "i:",
	"seal0.value_transferred":             "ii:",
	"seal0.weight_to_fee":                 "jii:",
	"seal0.xcm_execute":                   "ii:i",
	"seal0.xcm_send":                      "iiii:i",
	"seal1.call":                          "iijiiiii:i",
	"seal1.clear_storage":                 "ii:i",
	"seal1.contains_storage":              "ii:i",
	"seal1.gas_left":                      "ii:",
	"seal1.get_storage":                   "iiii:i",
	"seal1.instantiate":                   "ijiiiiiiiii:i",
	"seal1.random":                        "iiii:",
	"seal1.restore_to":                    "iiiii:",
	"seal1.seal_call":                     "iijiiiii:i",
	"seal1.seal_clear_storage":            "ii:i",
	"seal1.seal_contains_storage":         "ii:i",
	"seal1.seal_gas_left":                 "ii:",
	"seal1.seal_get_storage":              "iiii:i",
	"seal1.seal_instantiate":              "ijiiiiiiiii:i",
	"seal1.seal_random":                   "iiii:",
	"seal1.seal_restore_to":               "iiiii:",
	"seal1.seal_set_rent_allowance":       "i:",
	"seal1.seal_set_storage":              "iii:i",
	"seal1.seal_terminate":                "i:",
	"seal1.seal_weight_to_fee":            "jjii:",
	"seal1.set_rent_allowance":            "i:",
	"seal1.set_storage":                   "iii:i",
	"seal1.terminate":                     "i:",
	"seal1.weight_to_fee":                 "jjii:",
	"seal2.call":                          "iijjiiiiii:i",
	"seal2.instantiate":                   "ijjiiiiiiiiii:i",
	"seal2.seal_set_storage":              "iiii:i",
	"seal2.set_storage":                   "iiii:i",
}

func valTypes(s string) []wasm.ValType {
	out := make([]wasm.ValType, len(s))
	for i, c := range s {
		if c == 'j' {
			out[i] = wasm.I64
		} else {
			out[i] = wasm.I32
		}
	}
	return out
}

// Imports returns a fresh "module.name" → signature map of the host functions.
func Imports() map[string]wasm.FuncType {
	m := make(map[string]wasm.FuncType, len(signatures))
	for k, sig := range signatures {
		params, results, _ := strings.Cut(sig, ":")
		m[k] = wasm.FuncType{Params: valTypes(params), Results: valTypes(results)}
	}
	return m
}

func base(allowFloats bool) wasm.Policy {
	return wasm.Policy{
		Imports:        Imports(),
		MaxCodeSize:    wasm.DefaultMaxCodeSize,
		MaxMemoryPages: MaxMemoryPages,
		AllowFloats:    allowFloats,
		Start:          wasm.StartReject,
		MaxLocals:      16384,
		MaxGlobals:     1024,
		MaxTableSize:   16384,
		MaxFunctions:   100000,
	}
}

// Transaction returns the policy of code that runs in transactions
// (deterministic ink! code): no floating point. It equals the policy of an
// engine built with the zero engine.Config.
func Transaction() wasm.Policy { return base(false) }

// Query returns the policy of query-only (indeterministic) code: floating
// point allowed. It equals the policy of an engine built with AllowFloats.
func Query() wasm.Policy { return base(true) }
