//go:generate sh -c "cd testdata && wat2wasm pinkcall.wat -o pinkcall.wasm && wat2wasm pinkoob.wat -o pinkoob.wasm"

// Package pink implements Phala's pink chain extension (extension id 0) for
// Phat contracts: HTTP requests, signing with contract-derived keys, the
// off-chain cache, logs, randomness and the runtime queries, with Phala's
// function ids and SCALE encodings, so that pink contracts run unmodified.
// The network, the cache store, the clock and the chain state are at the
// edge behind interfaces (HTTPClient, Cache, Logger, Clock, Chain), so the
// extension itself is pure and testable.
//
// # Use
//
// A worker builds one Env per cluster (services, cluster key, worker key,
// quote, runtime version) and, per execution, a Session:
//
//	s := pink.NewSession(env, pink.Exec{Mode: pink.Query, Ctx: ctx, Chain: chain,
//		BlockNumber: n, Entry: contract})
//	// pass s as the engine's Host.Extension; after the execution:
//	ops := s.DeferredCacheOps() // Transaction only: apply after commit
//
// Dry-runs of commands (Phala's Estimating mode) use Transaction and drop the
// deferred operations. Events that contracts emit with PinkEventTopic are
// decoded with DecodePinkEvent (SetHook, CacheOp, and the others by name).
//
// # Calling convention
//
// seal0.call_chain_extension(id, input) with id = func_id (ink! ≤ 4) or
// (ext_id << 16) | func_id (ink! 5); ext_id must be 0, otherwise the call
// traps, as does an unknown func_id (Phala: UnknownChainExtensionId /
// UnknownChainExtensionFunction). Old ink! 3 binaries' 0xff0000NN ids thus
// trap. The input is the SCALE encoding of the argument tuple and must decode
// completely (pallet-contracts' decode_all): malformed input, invalid UTF-8
// in a String or a length prefix past the end of the input traps before
// anything is allocated or done. The output is the SCALE encoding of the
// return value. The status is 0 except for the two functions Phala declares
// handle_status = true, which return Err as (error code, empty output):
// cache_set (StorageQuotaExceeded = 1) and batch_http_request
// (HttpRequestError code = variant index + 1: InvalidUrl 1, InvalidMethod 2,
// InvalidHeaderName 3, InvalidHeaderValue 4, FailedToCreateClient 5,
// Timeout 6, NotAllowed 7, TooManyRequests 8, NetworkError 9,
// ResponseTooLarge 10, TooManyHeaders 11). A failure Phala reports as a
// DispatchError (marked "trap" below) traps the contract with Phala's
// message.
//
// # Functions
//
//	id name                      query                          transaction
//	 1 http_request              HttpResponse (*1)              523 "API Unavailable" response
//	 2 sign                      Vec<u8> (trap: Invalid key)    sr25519: empty; ed25519/ecdsa as query
//	 3 verify                    bool (trap: bad key/sig size)  same
//	 4 derive_sr25519_key        64-byte secret (*2)            same
//	 5 get_public_key            Vec<u8> (trap: Invalid key)    same
//	 6 cache_set                 status 0, or 1 (quota)         deferred CacheOp::Set, status 0
//	 7 cache_set_expiration      ()                             deferred CacheOp::SetExpiration
//	 8 cache_get                 Option<Vec<u8>>                None
//	 9 cache_remove              Option<Vec<u8>> (old value)    deferred CacheOp::Remove, None
//	10 log                       () (level 1 Error..5 Trace;    same
//	                             others are Error)
//	11 getrandom                 Vec<u8> of length bytes        empty
//	12 is_in_transaction         false                          true
//	13 ecdsa_sign_prehashed      [u8; 65] (trap: Invalid key)   same
//	14 ecdsa_verify_prehashed    bool                           same
//	15 system_contract_id        AccountId (trap: missing)      same
//	16 balance_of                (total, free): (u128, u128)    same
//	17 worker_pubkey             [u8; 32]                       zeros
//	18 untrusted_millis_…        u64 (worker clock)             0
//	19 code_exists               bool                           same
//	20 import_latest_system_code None (*3); trap BadOrigin      same
//	                             unless the system contract
//	21 runtime_version           (1, 2) (*4)                    same
//	22 batch_http_request        status 0 + Vec<Result<…>> (*1) status 7 (NotAllowed)
//	23 current_event_chain_head  (u64, Hash) (*5)               same
//	24 js_eval                   JsValue::Exception             JsValue::Exception("Js evaluation
//	                             ("No js runtime") (*3)         is not supported in transaction")
//	25 worker_sgx_quote          Option<SgxQuote>               None
//
// (*1) HTTP, queries only. http_request gets the query's remaining time (10 s
// without a deadline). Errors of pink runtime 1.0 (InvalidUrl … Timeout)
// trap with Phala's message; the later ones (NotAllowed … TooManyHeaders)
// become a 524 "IO Error" response whose body is the variant name; a
// request that cannot be sent is Phala's synthetic 523 "Unreachable"
// response. sidevm://<contract> URLs answer 500 (no SideVM here).
// batch_http_request: more than 5 requests is status 8; the requests run
// concurrently, each with min(timeout_ms, remaining time) (0: each is
// Err(Timeout)); if they are not all done within that plus 200 ms the batch
// is status 6; per-request errors are Err(variant), unsendable requests Ok(523).
//
// (*2) derive_sr25519_key is Phala's derive_sr25519_pair(cluster_key,
// [contract, salt, "keygen"]) (cipher.ContractDerivedKey), returned as the
// 64-byte schnorrkel secret (scalar ‖ nonce): identical on every worker of the
// cluster, and identical to Phala's for the same cluster key. (It is derived
// from the cluster key, as Phala, not from the contract key.)
//
// (*3) Not supported. Phala's own "nothing to do" answers are used: None is
// what Phala returns when the chain holds no system code, and
// Exception("No js runtime") is what a Phala cluster without a JS runtime
// answers. Contracts handle both already.
//
// (*4) 1.2: the version whose function set (1–25) this package serves; js_eval
// answers as a 1.2 cluster without a JS runtime. Env.RuntimeVersion overrides.
//
// (*5) Env.EventChainHead; without one (0, zero hash), Phala's value before the
// first event block.
//
// Signatures: sr25519 uses the signing context "substrate" and a 32-byte
// seed or 64-byte secret key; ed25519 a 32-byte seed (verification with
// ZIP-215 rules, as sp_core's ed25519-zebra); ecdsa is secp256k1 with a
// 32-byte secret, the message hashed with blake2_256, 65-byte r ‖ s ‖ v
// recoverable signatures (low s, RFC 6979) and 33-byte compressed public
// keys; verification recovers the key and compares.
//
// # Gas
//
// Besides the engine's ChainExtension base cost and its per-byte memory
// copying, every call is charged GasSchedule (DefaultGas): Base and PerByte of
// input and output, plus the work: signature operations (≈ the engine's
// sr25519/ecdsa host functions), HashPerByte of signed or verified messages,
// HTTPRequest per request and HTTPPerByte of bodies, CacheOp and
// StorePerByte for cache writes and log lines, StateRead for balance_of and
// code_exists. Running out of gas traps with engine.ErrOutOfGas.
//
// # Known limits
//
// Deferred cache operations are recorded per Session, not per call frame: a
// cache write made by a nested call that reverts while its caller succeeds
// is still returned by DeferredCacheOps (Phala drops the reverted frame's
// event). MemCache keeps the old value when a replacing cache_set exceeds
// the quota (Phala drops it first).
package pink
