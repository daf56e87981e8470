package pherry

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"connectrpc.com/connect"
)

// TokenFileEnv names the environment variable that may give the token
// file's path instead of a flag.
const TokenFileEnv = "CELLA_PRUNTIME_TOKEN_FILE"

// maxTokenFile bounds what ReadTokenFile reads.
const maxTokenFile = 4 << 10

// ReadTokenFile reads the pRuntime's internal API token from path (the
// pRuntime writes it to its data folder as internal-api.token). The
// token's value never appears in errors.
func ReadTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("pRuntime token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("pRuntime token file %s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("pRuntime token file %s is too large to be a token", path)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("pRuntime token file %s does not hold one token", path)
	}
	return tok, nil
}

// withScheme makes host:port an http URL; unix: and http(s) URLs stay.
func withScheme(u string) string {
	if strings.HasPrefix(u, "unix:") || strings.Contains(u, "://") {
		return u
	}
	return "http://" + u
}

// internalClient returns the client and base URL for the internal API at
// u: for "unix:/path", a copy of base that dials the socket.
func internalClient(base *http.Client, u string) (*http.Client, string) {
	path, ok := strings.CutPrefix(u, "unix:")
	if !ok {
		return base, u
	}
	hc := *base
	hc.Transport = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
		MaxIdleConnsPerHost: 4,
	}
	return &hc, "http://pruntime-internal"
}

// bearer adds the internal API's token to every call.
func bearer(token string) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			res, err := next(ctx, req)
			if connect.CodeOf(err) == connect.CodeUnauthenticated {
				err = fmt.Errorf("%w (is the token file the pRuntime's own internal-api.token?)", err)
			}
			return res, err
		}
	})
}
