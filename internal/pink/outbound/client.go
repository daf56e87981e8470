package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/cella-network/cella/internal/pink"
)

// Client is the outbound HTTP(S) client of pRuntime. It implements
// pink.HTTPClient and is safe for concurrent use.
type Client struct {
	cfg       Config
	transport *http.Transport
	http      *http.Client
	dialer    *dialer
	slots     chan struct{}
}

var _ pink.HTTPClient = (*Client)(nil)

// New makes a Client. It fails on a bad Proxy or ExtraRootCAs.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	proxyURL, err := parseProxy(cfg.Proxy)
	if err != nil {
		return nil, err
	}
	roots, err := rootPool(cfg.ExtraRootCAs)
	if err != nil {
		return nil, err
	}
	d, err := newDialer(cfg, proxyURL)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, dialer: d, slots: make(chan struct{}, cfg.MaxInFlight)}
	c.transport = &http.Transport{
		Proxy:       nil, // never the environment: the proxy is dialled by d
		DialContext: d.DialContext,
		TLSClientConfig: &tls.Config{
			RootCAs:    roots, // never the host's trust store
			MinVersion: tls.VersionTLS12,
		},
		TLSHandshakeTimeout:    cfg.TLSHandshakeTimeout,
		DisableCompression:     true, // the contract gets the bytes the server sent
		MaxIdleConns:           cfg.MaxIdleConns,
		MaxIdleConnsPerHost:    cfg.MaxIdleConnsPerHost,
		MaxConnsPerHost:        cfg.MaxConnsPerHost,
		IdleConnTimeout:        cfg.IdleConnTimeout,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
		// HTTP/1.1 only: net/http's HTTP/1 reader enforces the header
		// limits exactly, while its HTTP/2 client lets a header list
		// somewhat over MaxResponseHeaderBytes through and reports a larger
		// one as a connection error that cannot be told apart.
		ForceAttemptHTTP2: false,
		TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	c.http = &http.Client{Transport: c.transport, CheckRedirect: c.checkRedirect}
	return c, nil
}

// Close closes the idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// errTooManyRedirects unwraps to pink.ErrNetworkError.
var errTooManyRedirects = &kindError{kind: pink.ErrNetworkError, msg: "too many redirects"}

// kindError is an internal error carrying its pink kind.
type kindError struct {
	kind pink.HTTPError
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.cfg.MaxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > c.cfg.MaxRedirects {
		return errTooManyRedirects
	}
	// Each hop obeys the rules of the first request; the address rules are
	// applied again when the hop is dialled.
	if kind, ok := c.checkURL(req.URL); !ok {
		if kind == pink.ErrNotAllowed {
			return &kindError{kind: kind, msg: "redirect to plain http"}
		}
		return &kindError{kind: pink.ErrNetworkError, msg: "redirect to a bad URL"}
	}
	return nil
}

// checkURL applies the URL rules: http or https, a host, no userinfo, a
// port in 1..65535, and plain http only if allowed.
func (c *Client) checkURL(u *url.URL) (pink.HTTPError, bool) {
	if u.Scheme != "https" && u.Scheme != "http" {
		return pink.ErrInvalidURL, false
	}
	if u.Host == "" || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
		return pink.ErrInvalidURL, false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return pink.ErrInvalidURL, false
		}
	}
	if u.Scheme == "http" && !c.cfg.AllowPlainHTTP {
		return pink.ErrNotAllowed, false
	}
	return 0, true
}

// build checks req without I/O and makes the net/http request. The checks
// run in the order of Phala's http_request: URL, method, header count,
// then each header's name and value.
func (c *Client) build(ctx context.Context, req pink.HTTPRequest) (*http.Request, *url.URL, error) {
	u, err := url.Parse(req.URL)
	if err != nil || !utf8.ValidString(req.URL) {
		return nil, nil, pink.ErrInvalidURL
	}
	if kind, ok := c.checkURL(u); !ok {
		return nil, u, kind
	}
	if !validMethod(req.Method) {
		return nil, u, pink.ErrInvalidMethod
	}
	if len(req.Headers) > pink.MaxHeaders {
		return nil, u, pink.ErrTooManyHeaders
	}
	h := make(http.Header, len(req.Headers)+1)
	var host string
	for _, kv := range req.Headers {
		if !httpguts.ValidHeaderFieldName(kv.Name) {
			return nil, u, pink.ErrInvalidHeaderName
		}
		if !httpguts.ValidHeaderFieldValue(kv.Value) {
			return nil, u, pink.ErrInvalidHeaderValue
		}
		// As reqwest's HeaderMap::insert in Phala: a later header of the
		// same name replaces an earlier one.
		if strings.EqualFold(kv.Name, "Host") {
			if !httpguts.ValidHostHeader(kv.Value) {
				return nil, u, pink.ErrInvalidHeaderValue
			}
			host = kv.Value
			continue
		}
		h.Set(kv.Name, kv.Value)
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = nil // send none, as reqwest; not Go's default
	}
	var body io.Reader = http.NoBody
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return nil, u, pink.ErrInvalidURL
	}
	hr.Header = h
	if host != "" {
		hr.Host = host
	}
	return hr, u, nil
}

// validMethod: a token (RFC 9110), as http::Method accepts; CONNECT is
// refused, it would make the worker a tunnel client.
func validMethod(m string) bool {
	return m != "" && httpguts.ValidHeaderFieldName(m) && m != http.MethodConnect
}

// Do makes one request. It returns the response or a pink.HTTPError, never
// another error. ctx's deadline (or Config.Timeout, if earlier) is
// pink.ErrTimeout; a cancelled ctx, or a failure to resolve, connect,
// verify TLS or read, is pink.ErrNetworkError. The extension decides what
// the contract sees: Phala's http_request answers a failed send with a 523
// "Unreachable" response and the errors after runtime 1.0 (NotAllowed,
// NetworkError, ResponseTooLarge, TooManyHeaders) with a 524 "IO Error"
// response, and passes the others as errors.
func (c *Client) Do(ctx context.Context, req pink.HTTPRequest) (resp pink.HTTPResponse, err error) {
	start := time.Now()
	var host string
	var got int
	defer func() {
		if c.cfg.Observe == nil {
			return
		}
		o := Observation{Host: host, RequestBytes: len(req.Body), ResponseBytes: got, Duration: time.Since(start)}
		if err != nil {
			o.Err = err
		} else {
			o.Status = resp.StatusCode
		}
		c.cfg.Observe(o)
	}()

	if ctx.Err() != nil {
		return pink.HTTPResponse{}, classify(ctx, ctx.Err())
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	hr, u, err := c.build(ctx, req)
	if u != nil {
		host = u.Hostname()
	}
	if err != nil {
		return pink.HTTPResponse{}, err
	}

	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return pink.HTTPResponse{}, classify(ctx, ctx.Err())
	}

	hresp, err := c.http.Do(hr)
	if err != nil {
		return pink.HTTPResponse{}, classify(ctx, err)
	}
	defer hresp.Body.Close()

	n := 0
	for _, vs := range hresp.Header {
		n += len(vs)
	}
	if n > pink.MaxHeaders {
		return pink.HTTPResponse{}, pink.ErrTooManyHeaders
	}
	length := hresp.ContentLength
	if hresp.Request != nil && hresp.Request.Method == http.MethodHead {
		length = -1 // a HEAD response's Content-Length describes no body here
	}
	if length > pink.MaxResponseBody {
		return pink.HTTPResponse{}, pink.ErrResponseTooLarge
	}
	body, err := readBody(hresp.Body, length, &got)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // the body may have ended because the request was cut
	}
	if err != nil {
		return pink.HTTPResponse{}, classify(ctx, err)
	}
	return pink.HTTPResponse{
		StatusCode:   uint16(hresp.StatusCode),
		ReasonPhrase: http.StatusText(hresp.StatusCode),
		Headers:      responseHeaders(hresp.Header, n),
		Body:         body,
	}, nil
}

// responseHeaders lists h as hyper gives it to Phala: lowercase names,
// values that are not visible ASCII (or tab) as "". net/http keeps no order
// between names, so names are sorted; the values of one name keep the
// server's order.
func responseHeaders(h http.Header, n int) []pink.Header {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]pink.Header, 0, n)
	for _, k := range names {
		lk := strings.ToLower(k)
		for _, v := range h[k] {
			if !visibleASCII(v) {
				v = ""
			}
			out = append(out, pink.Header{Name: lk, Value: v})
		}
	}
	return out
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; (b < 0x20 && b != '\t') || b > 0x7e {
			return false
		}
	}
	return true
}

// bodyChunk is the unit in which a body of unknown length is read, so that
// a refused body costs at most pink.MaxResponseBody plus one chunk.
const bodyChunk = 32 << 10

// errBodyTooLarge unwraps to pink.ErrResponseTooLarge.
var errBodyTooLarge = &kindError{kind: pink.ErrResponseTooLarge, msg: "response body too large"}

// chunkPool holds the first chunk of bodies of unknown length, so that a
// small chunked response costs a copy of its bytes, not a new 32 KiB
// buffer. At most one pooled chunk is in use per request in flight. A
// pooled chunk still holds an earlier response's bytes (maybe another
// contract's): only the bytes read into it for this response are used, and
// they are copied out before it goes back.
var chunkPool = sync.Pool{New: func() any { return new([bodyChunk]byte) }}

// readBody reads at most pink.MaxResponseBody+1 bytes of r, counting them
// in *got. With a known length it reads into one buffer of that size; else
// into chunks (the first one pooled) that are joined once the end is seen.
func readBody(r io.Reader, length int64, got *int) ([]byte, error) {
	const limit = pink.MaxResponseBody
	if length > limit {
		return nil, errBodyTooLarge
	}
	if length >= 0 {
		buf := make([]byte, length)
		n, err := io.ReadFull(r, buf)
		*got = n
		if err != nil {
			return nil, err
		}
		// One more byte would mean the server lied about the length.
		var one [1]byte
		if m, _ := r.Read(one[:]); m > 0 {
			return nil, errBodyTooLarge
		}
		return buf, nil
	}
	first := chunkPool.Get().(*[bodyChunk]byte)
	defer chunkPool.Put(first) // the result never aliases it: see the join
	var chunks [][]byte
	total := 0
	for done := false; !done; {
		var chunk []byte
		if chunks == nil {
			chunk = first[:]
		} else {
			chunk = make([]byte, bodyChunk)
		}
		n := 0
		for n < len(chunk) {
			m, err := r.Read(chunk[n:])
			n += m
			if err == io.EOF {
				// Only io.EOF ends the body: io.ErrUnexpectedEOF (a
				// connection cut in a chunk) is a failure, not a short body.
				done = true
				break
			}
			if err != nil {
				*got = total + n
				return nil, err
			}
		}
		total += n
		*got = total
		if total > limit {
			return nil, errBodyTooLarge
		}
		chunks = append(chunks, chunk[:n])
	}
	out := make([]byte, 0, total)
	for _, ch := range chunks {
		out = append(out, ch...)
	}
	return out, nil
}

// classify maps a transport error to its pink kind.
func classify(ctx context.Context, err error) pink.HTTPError {
	var he pink.HTTPError
	if errors.As(err, &he) {
		return he
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return pink.ErrTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return pink.ErrTimeout
	}
	if strings.Contains(err.Error(), "server response headers exceeded") {
		return pink.ErrTooManyHeaders
	}
	return pink.ErrNetworkError
}
