package cli

import (
	"fmt"
	"net"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// endpointAnnotation marks a flag whose value is an address: "http" for an
// address the command connects to (a node's RPC, a pRuntime's API, a
// worker's URL), "listen" for a CometBFT listen address. Every command's
// PersistentPreRunE normalises such flags with normalizeEndpoint, so that
// every command takes the same spellings.
const endpointAnnotation = "cella_endpoint"

// markEndpoint marks cmd's flag name as an endpoint of kind "http" or
// "listen" (see endpointAnnotation).
func markEndpoint(cmd *cobra.Command, name, kind string) {
	_ = cmd.Flags().SetAnnotation(name, endpointAnnotation, []string{kind})
}

// normalizeEndpoint returns the canonical spelling of an address given on
// the command line, for kind "http" (a URL to connect to) or "listen" (a
// CometBFT listen address):
//
//   - host:port (no scheme) is http://host:port, or tcp://host:port to listen;
//   - tcp://host:port (as CometBFT prints its addresses) is http://host:port
//     to connect to;
//   - http://, https:// and unix: addresses stay as they are (a listen
//     address takes tcp:// and unix: only).
//
// Anything else — another scheme, no host, a bad port — is refused with the
// same error everywhere. An empty value stays empty (it disables what the
// flag enables, where the flag says so).
func normalizeEndpoint(s, kind string) (string, error) {
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

// normalizeEndpointFlags rewrites cmd's endpoint flags (markEndpoint) in
// their canonical form, or fails naming the flag.
func normalizeEndpointFlags(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		kind := f.Annotations[endpointAnnotation]
		if firstErr != nil || len(kind) == 0 {
			return
		}
		v, err := normalizeEndpoint(f.Value.String(), kind[0])
		if err != nil {
			firstErr = invalidArg(fmt.Errorf("--%s %w", f.Name, err))
			return
		}
		if v != f.Value.String() {
			if err := f.Value.Set(v); err != nil {
				firstErr = invalidArg(fmt.Errorf("--%s: %w", f.Name, err))
			}
		}
	})
	return firstErr
}
