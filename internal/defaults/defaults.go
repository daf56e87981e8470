// Package defaults holds the default network addresses of Cella's
// processes in one place; every flag, client and doc example refers here.
package defaults

const (
	// NodeRPCAddr is a node's CometBFT RPC address (and `cella dev`'s).
	NodeRPCAddr = "127.0.0.1:26657"
	// NodeP2PAddr is a node's CometBFT P2P address.
	NodeP2PAddr = "127.0.0.1:26656"
	// NodeP2PPort is NodeP2PAddr's port: the first port of `cella testnet`.
	NodeP2PPort = 26656
	// NodeMetricsAddr is where `cella dev` serves the node's Prometheus metrics.
	NodeMetricsAddr = "127.0.0.1:26660"
	// PRuntimePublicAddr is pRuntime's public API, for anyone.
	PRuntimePublicAddr = "127.0.0.1:8000"
	// PRuntimeInternalAddr is pRuntime's internal API, for the operator's
	// pherry only: loopback, on a listener of its own, behind a token.
	PRuntimeInternalAddr = "127.0.0.1:8001"
	// PherryMetricsAddr is the suggested address of pherry's metrics.
	PherryMetricsAddr = "127.0.0.1:9101"
)

// HTTP returns addr as an http:// URL ("unix:/path" stays as it is).
func HTTP(addr string) string {
	if len(addr) >= 5 && addr[:5] == "unix:" {
		return addr
	}
	return "http://" + addr
}
