package outbound

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// Defaults of the zero Config.
const (
	// DefaultTimeout bounds one request (with its redirects and body) when
	// the caller's context has no earlier deadline; Phala's single
	// http_request uses 10 s.
	DefaultTimeout = 10 * time.Second
	// DefaultDialTimeout bounds one TCP connect.
	DefaultDialTimeout = 5 * time.Second
	// DefaultTLSHandshakeTimeout bounds one TLS handshake.
	DefaultTLSHandshakeTimeout = 5 * time.Second
	// DefaultIdleConnTimeout closes an unused keep-alive connection.
	DefaultIdleConnTimeout = 90 * time.Second
	// DefaultMaxRedirects is how many redirects are followed, as reqwest's
	// default policy (which Phala uses).
	DefaultMaxRedirects = 10
	// DefaultMaxConnsPerHost caps the connections to one host.
	DefaultMaxConnsPerHost = 16
	// DefaultMaxIdleConns caps the idle keep-alive connections in all.
	DefaultMaxIdleConns = 64
	// DefaultMaxIdleConnsPerHost caps the idle keep-alive connections per host.
	DefaultMaxIdleConnsPerHost = 4
	// DefaultMaxInFlight caps the requests in progress at once, so that the
	// memory of response bodies is bounded by
	// MaxInFlight × (pink.MaxResponseBody + MaxResponseHeaderBytes).
	DefaultMaxInFlight = 32
	// MaxResponseHeaderBytes caps the bytes of a response's header section;
	// more is pink.ErrTooManyHeaders.
	MaxResponseHeaderBytes = 256 << 10
)

// Config configures a Client. The zero value is the production setting:
// https only, public addresses only, the compiled-in Mozilla roots, no proxy.
type Config struct {
	// AllowPlainHTTP lets contracts use http:// URLs (and redirects to
	// them). Dev chains only: the operator can read and rewrite plain HTTP.
	// When false, an http:// URL is pink.ErrNotAllowed.
	AllowPlainHTTP bool
	// AllowPrivate lets contracts reach loopback, private, link-local and
	// other non-public addresses. Dev chains only: otherwise a contract
	// could probe the worker's host and its network.
	AllowPrivate bool
	// ExtraRootCAs is PEM; its certificates are trusted besides the
	// compiled-in roots. Intended for dev chains (a local test server);
	// the caller enforces that it is empty on a production chain.
	ExtraRootCAs []byte
	// Proxy, when set, is where every connection goes: "socks5://host:port"
	// (the proxy resolves names, like Phala's all_proxy) or
	// "http://host:port" (HTTP CONNECT); userinfo gives the proxy's
	// credentials. The proxy itself may be on a private address. Behind a
	// proxy only an IP-literal target can be checked against the address
	// rules (and "localhost" names are refused); a name is resolved by the
	// proxy, which must itself refuse private destinations.
	Proxy string

	// Timeout bounds one request when the context has no earlier deadline
	// (DefaultTimeout if 0).
	Timeout time.Duration
	// DialTimeout bounds one TCP connect (DefaultDialTimeout if 0).
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds one TLS handshake
	// (DefaultTLSHandshakeTimeout if 0).
	TLSHandshakeTimeout time.Duration
	// IdleConnTimeout closes idle connections (DefaultIdleConnTimeout if 0).
	IdleConnTimeout time.Duration
	// MaxRedirects is how many redirects are followed (DefaultMaxRedirects
	// if 0; negative: none, the 3xx response is returned as it is). One more
	// is pink.ErrNetworkError, as reqwest's "too many redirects" is a send
	// error that Phala reports as a network failure.
	MaxRedirects int
	// MaxConnsPerHost caps connections per host (DefaultMaxConnsPerHost if 0).
	MaxConnsPerHost int
	// MaxIdleConns caps idle connections (DefaultMaxIdleConns if 0).
	MaxIdleConns int
	// MaxIdleConnsPerHost caps idle connections per host
	// (DefaultMaxIdleConnsPerHost if 0).
	MaxIdleConnsPerHost int
	// MaxInFlight caps requests in progress; more wait for a slot within
	// their deadline (DefaultMaxInFlight if 0).
	MaxInFlight int

	// Resolve looks a host name up (net.DefaultResolver if nil). Tests use
	// it to point names at local servers. Every address it returns is
	// checked against the address rules.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Observe, if set, is called once per Do with what may be exported as
	// metrics. It must be fast and must not block.
	Observe func(Observation)
}

// Observation is what a Client tells its Observer about one request: no
// URL path or query, no header and no body, which may carry a contract's
// secrets.
type Observation struct {
	// Host is the URL's host name (empty when the URL did not parse).
	Host string
	// Status is the response's status code, 0 when the request failed.
	Status uint16
	// Err is nil or the pink.HTTPError the request failed with.
	Err error
	// RequestBytes is the request body's length.
	RequestBytes int
	// ResponseBytes is how many body bytes were received.
	ResponseBytes int
	// Duration is the time Do took.
	Duration time.Duration
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.DialTimeout, DefaultDialTimeout)
	def(&c.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	def(&c.IdleConnTimeout, DefaultIdleConnTimeout)
	if c.MaxRedirects == 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	defInt(&c.MaxConnsPerHost, DefaultMaxConnsPerHost)
	defInt(&c.MaxIdleConns, DefaultMaxIdleConns)
	defInt(&c.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost)
	defInt(&c.MaxInFlight, DefaultMaxInFlight)
	return c
}

// parseProxy checks Config.Proxy.
func parseProxy(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("outbound: proxy: %w", err)
	}
	switch u.Scheme {
	case "socks5", "socks5h", "http":
	default:
		return nil, fmt.Errorf("outbound: proxy %q: scheme must be socks5 or http", u.Redacted())
	}
	if u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("outbound: proxy %q: want scheme://host:port", u.Redacted())
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("outbound: proxy %q: unexpected path or query", u.Redacted())
	}
	return u, nil
}

// mozillaRoots parses the compiled-in root bundle once.
var mozillaRoots = sync.OnceValues(func() (*x509.CertPool, error) {
	p := x509.NewCertPool()
	n := 0
	for r := range bundle.Roots() {
		cert, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			return nil, fmt.Errorf("outbound: compiled-in root: %w", err)
		}
		if r.Constraint != nil {
			p.AddCertWithConstraint(cert, r.Constraint)
		} else {
			p.AddCert(cert)
		}
		n++
	}
	if n == 0 {
		return nil, errors.New("outbound: compiled-in root bundle is empty")
	}
	return p, nil
})

// rootPool is the compiled-in roots plus extraPEM's certificates.
func rootPool(extraPEM []byte) (*x509.CertPool, error) {
	base, err := mozillaRoots()
	if err != nil {
		return nil, err
	}
	if len(extraPEM) == 0 {
		return base, nil
	}
	p := base.Clone()
	if !p.AppendCertsFromPEM(extraPEM) {
		return nil, errors.New("outbound: ExtraRootCAs holds no PEM certificate")
	}
	return p, nil
}
