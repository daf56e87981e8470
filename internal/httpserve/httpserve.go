// Package httpserve opens the project's HTTP listeners with the same
// defences everywhere: read, write and idle timeouts, and a cap on open
// connections, so that slow or numerous clients cannot hold sockets and
// file descriptors without bound.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/netutil"
)

// Limits bound one listener's connections. Zero fields take the values of
// Default.
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the response: handling included.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a kept-alive connection waits for its
	// next request.
	IdleTimeout time.Duration
	// MaxConns caps the open connections; further ones wait in the
	// kernel's accept queue until one closes.
	MaxConns int
}

// Default suits small requests answered quickly (metrics, public APIs).
var Default = Limits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       2 * time.Minute,
	MaxConns:          256,
}

func (l Limits) withDefaults() Limits {
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = Default.ReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = Default.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = Default.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = Default.IdleTimeout
	}
	if l.MaxConns <= 0 {
		l.MaxConns = Default.MaxConns
	}
	return l
}

// UnixPrefix marks a unix socket address: "unix:/path/to/socket".
const UnixPrefix = "unix:"

// Listen opens addr ("host:port", or "unix:/path" for a unix socket, made
// mode 0600) with at most maxConns open connections (Default.MaxConns when
// 0). A stale socket file left by an earlier run is replaced; any other
// file at the path is an error.
func Listen(addr string, maxConns int) (net.Listener, error) {
	var ln net.Listener
	var err error
	if path, ok := strings.CutPrefix(addr, UnixPrefix); ok {
		if path == "" {
			return nil, errors.New("listen: empty unix socket path")
		}
		if fi, serr := os.Lstat(path); serr == nil {
			if fi.Mode()&os.ModeSocket == 0 {
				return nil, fmt.Errorf("listen %s: the path exists and is not a socket", addr)
			}
			_ = os.Remove(path)
		}
		if ln, err = net.Listen("unix", path); err != nil {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
	} else if ln, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if maxConns <= 0 {
		maxConns = Default.MaxConns
	}
	return netutil.LimitListener(ln, maxConns), nil
}

// Addr renders a listener's address as Listen accepts it back.
func Addr(ln net.Listener) string {
	if ln.Addr().Network() == "unix" {
		return UnixPrefix + ln.Addr().String()
	}
	return ln.Addr().String()
}

// NewServer returns an http.Server for h with l's timeouts.
func NewServer(h http.Handler, l Limits) *http.Server {
	l = l.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}
}

// Server is one listener and its HTTP server.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// Open listens on addr with l's limits, ready to serve h.
func Open(addr string, h http.Handler, l Limits) (*Server, error) {
	l = l.withDefaults()
	ln, err := Listen(addr, l.MaxConns)
	if err != nil {
		return nil, err
	}
	return &Server{ln: ln, srv: NewServer(h, l)}, nil
}

// Addr is the bound address (see the package function Addr).
func (s *Server) Addr() string { return Addr(s.ln) }

// Serve serves until Shutdown or Close; it returns nil after either.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting, waits up to ctx for requests in flight, then
// closes every connection.
func (s *Server) Shutdown(ctx context.Context) {
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
}

// Close closes the listener and every connection at once.
func (s *Server) Close() { _ = s.srv.Close(); _ = s.ln.Close() }
