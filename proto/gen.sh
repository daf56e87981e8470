#!/bin/sh
# Regenerates the Go code of the protobuf APIs. Needs protoc (Debian:
# protobuf-compiler) and the two plugins:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1
# The output is committed, so building and testing need none of this.
set -eu
cd "$(dirname "$0")"
out=../internal/pruntime/api
mkdir -p "$out"
protoc -I . \
  --go_out="$out" --go_opt=module=github.com/cella-network/cella/internal/pruntime/api \
  --connect-go_out="$out" --connect-go_opt=module=github.com/cella-network/cella/internal/pruntime/api,simple \
  cella/pruntime/v1/pruntime.proto
# Phala-compatible pRPC messages (plain protobuf, no service): see
# proto/phala/pruntime_rpc.proto.
out=../internal/phatwire/prpcpb
mkdir -p "$out"
protoc -I . \
  --go_out="$out" --go_opt=module=github.com/cella-network/cella/internal/phatwire/prpcpb \
  phala/pruntime_rpc.proto phala/prpc.proto
