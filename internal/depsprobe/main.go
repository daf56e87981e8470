package main

import (
	_ "connectrpc.com/connect"
	_ "github.com/ChainSafe/go-schnorrkel"
	_ "github.com/cockroachdb/pebble/v2"
	_ "github.com/cometbft/cometbft/node"
	_ "github.com/cometbft/cometbft/rpc/client/http"
	_ "github.com/google/go-tdx-guest/verify"
	_ "github.com/gtank/ristretto255"
	_ "github.com/oasisprotocol/curve25519-voi/primitives/sr25519"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "github.com/tetratelabs/wazero"
	_ "github.com/vedhavyas/go-subkey/v2"
	_ "golang.org/x/crypto/blake2b"
)

func main() {}
