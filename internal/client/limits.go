package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	jsonrpcclient "github.com/cometbft/cometbft/rpc/jsonrpc/client"
)

// MaxResponseBytes bounds every answer the client reads from a node, over
// HTTP or as one websocket message. The largest legitimate answers are a
// /blocks query (at most chainapi.MaxBlocksQueryBytes = 16 MiB of SCALE,
// base64 in the JSON answer: 4/3 × 16 MiB ≈ 21.4 MiB) and a
// /genesis_chunked chunk (16 MiB, base64 too); /tx carries one transaction
// of at most 4 MiB, and pherry's batches of /blockchain (10 × 20 headers),
// /commit and /validators pages (100 validators) are well under 1 MiB. The
// JSON envelope adds a few hundred bytes. 32 MiB leaves half again as
// much as the largest of them.
const MaxResponseBytes = 32 << 20

// Timeouts of a node client. A node answers queries from memory or its
// local databases; broadcast_tx_sync waits only for CheckTx.
const (
	// DialTimeout bounds connecting to the node.
	DialTimeout = 10 * time.Second
	// ResponseHeaderTimeout bounds the wait for an answer's headers once
	// the request is sent.
	ResponseHeaderTimeout = time.Minute
	// RequestTimeout bounds a whole call, reading the answer included (a
	// node that drips its answer byte by byte is cut off).
	RequestTimeout = 2 * time.Minute
)

// ErrResponseTooLarge is returned (wrapped) when a node's answer exceeds
// MaxResponseBytes.
var ErrResponseTooLarge = fmt.Errorf("node answer exceeds the client's limit of %d bytes (%d MiB)", MaxResponseBytes, MaxResponseBytes>>20)

// newHTTPClient returns the http.Client of a node client: CometBFT's
// default one (which dials tcp:// and unix:// addresses too and asks for
// no compression, so no gzip bomb), with timeouts and answer bodies
// bounded by limit.
func newHTTPClient(addr string, limit int64) (*http.Client, error) {
	hc, err := jsonrpcclient.DefaultHTTPClient(addr)
	if err != nil {
		return nil, err
	}
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		return nil, errors.New("client: unexpected transport")
	}
	dial, err := dialer(addr)
	if err != nil {
		return nil, err
	}
	tr.Dial = nil //nolint:staticcheck // replaced by DialContext
	tr.DialContext = dial
	tr.ResponseHeaderTimeout = ResponseHeaderTimeout
	tr.TLSHandshakeTimeout = DialTimeout
	tr.MaxResponseHeaderBytes = 64 << 10
	hc.Transport = &limitTransport{next: tr, limit: limit}
	hc.Timeout = RequestTimeout
	return hc, nil
}

// dialer dials the host of addr (tcp, http(s) or unix) with DialTimeout,
// whatever address the HTTP layer asks for, as CometBFT's client does.
func dialer(addr string) (func(ctx context.Context, network, address string) (net.Conn, error), error) {
	network, address, err := dialTarget(addr)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, address)
	}, nil
}

// dialTarget splits a node address into the network and address to dial.
func dialTarget(addr string) (network, address string, err error) {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return "", "", fmt.Errorf("node address %q has no scheme", addr)
	}
	switch scheme {
	case "unix":
		return "unix", rest, nil
	case "http", "https", "tcp", "ws", "wss":
	default:
		return "", "", fmt.Errorf("node address %q: unknown scheme %q", addr, scheme)
	}
	host := rest
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		port := "80"
		if scheme == "https" || scheme == "wss" {
			port = "443"
		}
		host = net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	return "tcp", host, nil
}

// limitTransport bounds the body of every answer.
type limitTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if res.ContentLength > t.limit {
		_ = res.Body.Close()
		return nil, fmt.Errorf("%w: it announced %d bytes", ErrResponseTooLarge, res.ContentLength)
	}
	res.Body = &limitedBody{rc: res.Body, left: t.limit}
	return res, nil
}

// limitedBody reads at most left bytes and then fails with
// ErrResponseTooLarge (rather than io.EOF, which would pass a truncated
// answer on as a whole one).
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells an answer of exactly the limit from a
		// longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrResponseTooLarge
		}
		if err == nil {
			return 0, nil
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
