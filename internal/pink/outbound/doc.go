// Package outbound is pRuntime's HTTP(S) client for Phat contracts: the
// network edge behind pink.HTTPClient, which the pink extension calls for
// http_request and batch_http_request in queries.
//
// # Security model
//
// The worker's operator (the host running the TEE) owns the network. TLS
// terminates inside the pRuntime process, and certificates are verified
// against a root set compiled into the binary (Mozilla's NSS roots from
// golang.org/x/crypto/x509roots/fallback/bundle) — never the host's trust
// store, which the operator controls, and never an environment variable
// (no HTTP_PROXY, no SSL_CERT_FILE). So the operator:
//
//   - can see the server's host name (DNS lookups and the TLS SNI), the
//     server's address, the sizes of requests and responses and their
//     timing, and can delay, drop or refuse connections (a contract sees
//     ErrTimeout or ErrNetworkError);
//   - cannot read or alter a request's URL path and query, its headers or
//     body, or the response, and cannot impersonate a server without a
//     certificate from one of the compiled-in roots.
//
// Plain http:// is refused (pink.ErrNotAllowed) unless Config.AllowPlainHTTP,
// which is for dev chains only: with plain HTTP the operator reads and
// rewrites everything, so a contract's secrets and its inputs are no longer
// confidential or authentic. The same holds for a redirect to http://.
//
// Loopback, private (RFC 1918, fc00::/7), link-local, CGNAT, unspecified,
// multicast and other special-purpose addresses are refused unless
// Config.AllowPrivate (dev chains only). A contract is code from anyone and
// its queries come from anyone: without this rule it could reach services
// that listen only on the worker's host or its private network (the
// pRuntime API, cloud metadata endpoints, the node's RPC, an admin panel)
// and leak what they say. The rule is applied to the address actually
// dialled — every address a name resolves to is checked, and the socket's
// Control hook checks again just before connect — so a DNS name that
// resolves (or rebinds) to 127.0.0.1 is refused too, and so is each
// redirect's target.
//
// Config.ExtraRootCAs adds trusted roots and is meant for dev chains (a
// local test server); the caller keeps it empty on a production chain.
//
// With Config.Proxy (socks5:// or http:// CONNECT, like Phala's all_proxy)
// the proxy resolves names, so only an IP-literal target (and "localhost"
// names) can be checked here; the proxy must refuse private destinations
// itself. The proxy's own address is operator configuration and may be
// private. TLS still runs end to end inside pRuntime through the tunnel.
//
// # Limits and errors
//
// Each request is checked before any I/O, in Phala's order, each failure
// mapped to its pink.HTTPError variant: the URL (parseable, http or https,
// a host, no userinfo, a valid port; ErrInvalidURL), the method (a token,
// not CONNECT; ErrInvalidMethod), the number of headers (at most
// pink.MaxHeaders; ErrTooManyHeaders), each header's name and value
// (RFC 9110 via httpguts; ErrInvalidHeaderName, ErrInvalidHeaderValue).
// A response with more than pink.MaxHeaders header values or a header
// section over MaxResponseHeaderBytes is ErrTooManyHeaders; a body over
// pink.MaxResponseBody is ErrResponseTooLarge, found after reading at most
// that many bytes plus one chunk (or none, when Content-Length says so).
// The context's deadline (or Config.Timeout) is ErrTimeout. Refused
// addresses and plain http are ErrNotAllowed. DNS, connect and TLS failures
// and too many redirects (more than Config.MaxRedirects, default 10 as
// reqwest) are ErrNetworkError — in Phala every failed send, a redirect
// loop included, is one "Unreachable" case.
//
// The client speaks HTTP/1.1 only (also to servers that offer HTTP/2),
// where net/http enforces the header limits exactly.
//
// Responses are given as Phala's hyper gives them: header names in lower
// case, values that are not visible ASCII as "", reason phrase the
// canonical one for the status. net/http does not keep the order between
// different header names, so they are sorted; the values of one name keep
// the server's order. Responses are not decompressed.
//
// Memory is bounded: at most Config.MaxInFlight requests run at once, and
// each holds at most pink.MaxResponseBody plus one read chunk of body and
// MaxResponseHeaderBytes of headers.
//
// Config.Observe receives, per request, the host name, the status or the
// error kind, the body sizes and the duration — never the URL's path or
// query, headers or bodies — for pRuntime's metrics.
package outbound
