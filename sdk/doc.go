// Package sdk is the Go client of a Cella network: it signs and submits
// transactions to a node, and deploys, calls and queries Phat (ink!)
// contracts, in the way @phala/sdk does for Phala.
//
// A Client talks to a node's RPC (Connect). Keys come from secret URIs
// (KeyFromURI: //Alice, a mnemonic, 0xSEED, with derivations). Contract
// metadata (an ink! .contract bundle or its .json) is loaded with
// LoadMetadata and encodes constructor and message calls and decodes their
// return values.
//
// Contracts live in clusters. Upload puts code into a cluster;
// Instantiate creates a contract (its address is computed client-side by
// ContractAddress); Call sends a command (encrypted to the contract's ECDH
// key unless CallOptions.Plain) that the cluster's workers execute; Query
// asks one worker (a Worker, from its public API URL) to run a message
// read-only: the query is signed by the account through a certificate for
// an ephemeral key and encrypted to the worker's ECDH key, whose value is
// taken from the chain's worker registry, not from the worker.
// ClusterWorker and ContractWorker find a worker of a cluster through the
// endpoints workers record in the registry. CommandResult tells a command's
// sender what it did (output, revert, trap, gas, events); nobody else can
// read it.
//
// The chain records a contract's state (pending, instantiated, failed) and
// its ECDH public key once the cluster has published it: WaitContract waits
// for it. Every method takes a context that bounds it.
package sdk
