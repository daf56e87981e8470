// Package pink implements Phala's pink chain extension (extension id 0) for
// Phat contracts: HTTP requests, signing with contract-derived keys, the
// off-chain cache, logs, randomness and the runtime queries, with Phala's
// function ids and SCALE encodings. The network, the cache store and the
// clock are at the edge behind interfaces, so that the extension itself is
// pure and testable.
package pink
