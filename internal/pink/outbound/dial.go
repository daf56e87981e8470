package outbound

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/proxy"

	"github.com/cella-network/cella/internal/pink"
)

// maxAddrsTried caps how many of a name's addresses are tried in turn.
const maxAddrsTried = 4

// maxProxyResponse caps the bytes of an HTTP proxy's CONNECT response head.
const maxProxyResponse = 16 << 10

// refusedError is a dial refused by the address rules; it unwraps to
// pink.ErrNotAllowed.
type refusedError struct{ what string }

func (e *refusedError) Error() string { return "address not allowed: " + e.what }
func (e *refusedError) Unwrap() error { return pink.ErrNotAllowed }

// dialer makes the Transport's TCP connections: directly, checking every
// resolved address, or through the configured proxy.
type dialer struct {
	permit  func(netip.Addr) bool // nil: every address allowed (AllowPrivate)
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	net     net.Dialer // to targets: checks the connected address in Control
	plain   net.Dialer // to the proxy: no address rules
	proxy   *url.URL
	socks   proxy.ContextDialer
}

func newDialer(cfg Config, proxyURL *url.URL) (*dialer, error) {
	d := &dialer{resolve: cfg.Resolve, proxy: proxyURL}
	if !cfg.AllowPrivate {
		d.permit = publicAddr
	}
	if d.resolve == nil {
		d.resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	d.net = net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second, Control: d.control}
	d.plain = net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	if proxyURL != nil && proxyURL.Scheme != "http" {
		var auth *proxy.Auth
		if proxyURL.User != nil {
			pw, _ := proxyURL.User.Password()
			auth = &proxy.Auth{User: proxyURL.User.Username(), Password: pw}
		}
		s, err := proxy.SOCKS5("tcp", proxyURL.Host, auth, &d.plain)
		if err != nil {
			return nil, fmt.Errorf("outbound: socks5 proxy: %w", err)
		}
		cd, ok := s.(proxy.ContextDialer)
		if !ok {
			return nil, errors.New("outbound: socks5 dialer has no DialContext")
		}
		d.socks = cd
	}
	return d, nil
}

// control runs after the socket is made and before it connects: the last
// word on the address actually dialled, whatever resolved it.
func (d *dialer) control(network, address string, _ syscall.RawConn) error {
	if d.permit == nil {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !d.permit(ap.Addr()) {
		return &refusedError{address}
	}
	return nil
}

// DialContext is the Transport's dial function.
func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("bad port %q", portStr)
	}
	if d.proxy != nil {
		return d.dialProxy(ctx, host, addr)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return d.dialAddrs(ctx, []netip.Addr{ip}, uint16(port))
	}
	if d.permit != nil && localName(host) {
		return nil, &refusedError{host}
	}
	ips, err := d.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("lookup %s: no address", host)
	}
	return d.dialAddrs(ctx, ips, uint16(port))
}

// dialAddrs refuses the whole name if any of its addresses is refused (a
// name that also points inside is not used at all, whatever the order of
// its answers), then tries the addresses in turn.
func (d *dialer) dialAddrs(ctx context.Context, ips []netip.Addr, port uint16) (net.Conn, error) {
	if d.permit != nil {
		for _, ip := range ips {
			if !d.permit(ip) {
				return nil, &refusedError{ip.String()}
			}
		}
	}
	var first error
	for i, ip := range ips {
		if i == maxAddrsTried {
			break
		}
		c, err := d.net.DialContext(ctx, "tcp", netip.AddrPortFrom(ip.Unmap(), port).String())
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// dialProxy connects to addr through the proxy. Only an IP-literal or
// localhost target can be checked here; a name is resolved by the proxy.
func (d *dialer) dialProxy(ctx context.Context, host, addr string) (net.Conn, error) {
	if d.permit != nil {
		if ip, err := netip.ParseAddr(host); err == nil && !d.permit(ip) {
			return nil, &refusedError{host}
		}
		if localName(host) {
			return nil, &refusedError{host}
		}
	}
	if d.socks != nil {
		return d.socks.DialContext(ctx, "tcp", addr)
	}
	return d.connect(ctx, addr)
}

// connect opens an HTTP CONNECT tunnel to addr.
func (d *dialer) connect(ctx context.Context, addr string) (_ net.Conn, err error) {
	c, err := d.plain.DialContext(ctx, "tcp", d.proxy.Host)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: http.Header{"User-Agent": nil},
	}
	if u := d.proxy.User; u != nil {
		pw, _ := u.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(u.Username() + ":" + pw))
		req.Header.Set("Proxy-Authorization", "Basic "+cred)
	}
	if err := req.Write(c); err != nil {
		return nil, err
	}
	br := bufio.NewReader(io.LimitReader(c, maxProxyResponse))
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("proxy CONNECT: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("proxy CONNECT: %s", resp.Status)
	}
	if !stop() && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	c.SetDeadline(time.Time{})
	if n := br.Buffered(); n > 0 {
		// The server spoke first after the tunnel opened: keep its bytes.
		pre := make([]byte, n)
		io.ReadFull(br, pre)
		return &prefixConn{Conn: c, pre: pre}, nil
	}
	return c, nil
}

// prefixConn reads pre before the connection.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.pre) > 0 {
		n := copy(b, p.pre)
		p.pre = p.pre[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
