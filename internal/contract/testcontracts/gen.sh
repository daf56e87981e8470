#!/bin/sh
# Builds every WAT test contract into its committed .wasm (needs wabt).
set -e
for f in *.wat; do
	wat2wasm "$f" -o "${f%.wat}.wasm"
done
