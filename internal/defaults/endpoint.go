package defaults

import (
	"fmt"
	"net"
	"strings"
)

// NormalizeEndpoint returns the canonical spelling of an address given on
// the command line, for kind "http" (a URL to connect to) or "listen" (a
// CometBFT listen address):
//
//   - host:port (no scheme) is http://host:port, or tcp://host:port to listen;
//   - tcp://host:port (as CometBFT prints its addresses) is http://host:port
//     to connect to;
//   - http://, https:// and unix: addresses stay as they are (a listen
//     address takes tcp:// and unix: only).
//
// The cella CLI applies it to every address flag, the pruntime binary to
// its --public-url.
//
// Anything else — another scheme, no host, a bad port — is refused with the
// same error everywhere. An empty value stays empty (it disables what the
// flag enables, where the flag says so).
func NormalizeEndpoint(s, kind string) (string, error) {
	if s == "" {
		return "", nil
	}
	if strings.HasPrefix(s, "unix:") {
		if strings.TrimPrefix(strings.TrimPrefix(s, "unix:"), "//") == "" {
			return "", fmt.Errorf("%q: no socket path after unix:", s)
		}
		return s, nil
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		scheme, rest = "", s
	}
	switch {
	case kind == "listen" && (scheme == "" || scheme == "tcp"):
		scheme = "tcp"
	case kind == "listen":
		return "", fmt.Errorf("%q: a listen address is host:port, tcp://host:port or unix:/path", s)
	case scheme == "" || scheme == "tcp" || scheme == "http":
		scheme = "http"
	case scheme == "https":
	default:
		return "", fmt.Errorf("%q: unknown scheme %q (want host:port, http://, https://, tcp:// or unix:/path)", s, scheme)
	}
	host, path, _ := strings.Cut(rest, "/")
	if host == "" {
		return "", fmt.Errorf("%q: no host", s)
	}
	if strings.ContainsAny(host, "@?# ") {
		return "", fmt.Errorf("%q: the host %q is not host or host:port", s, host)
	}
	if h, port, err := net.SplitHostPort(host); err == nil {
		if port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
			return "", fmt.Errorf("%q: bad port %q", s, port)
		}
		_ = h
	} else if strings.Count(host, ":") == 1 || strings.HasPrefix(host, "[") && !strings.HasSuffix(host, "]") {
		return "", fmt.Errorf("%q: %v", s, err)
	} else if kind == "listen" {
		return "", fmt.Errorf("%q: a listen address needs a port", s)
	}
	out := scheme + "://" + host
	if path != "" {
		out += "/" + path
	}
	return out, nil
}
