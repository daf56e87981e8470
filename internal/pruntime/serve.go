package pruntime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Listeners say where the APIs are served. When InternalAddr is empty or
// equal to PublicAddr, both APIs share one listener.
type Listeners struct {
	PublicAddr   string
	InternalAddr string
}

// Serve serves the runtime's APIs until ctx ends, then shuts down
// gracefully. ready, when not nil, receives the bound addresses once the
// listeners are open.
func Serve(ctx context.Context, r *Runtime, l Listeners, log *slog.Logger, ready func(public, internal string)) error {
	type srv struct {
		ln net.Listener
		hs *http.Server
	}
	var servers []srv
	listen := func(addr string, h http.Handler) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", fmt.Errorf("pruntime: listen %s: %w", addr, err)
		}
		servers = append(servers, srv{ln, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}})
		return ln.Addr().String(), nil
	}
	closeAll := func() {
		for _, s := range servers {
			s.ln.Close()
		}
	}
	var pub, internal string
	var err error
	if l.InternalAddr == "" || l.InternalAddr == l.PublicAddr {
		pub, err = listen(l.PublicAddr, Mux(r))
		internal = pub
	} else {
		pubMux := http.NewServeMux()
		pubMux.Handle(PublicHandler(r))
		inMux := http.NewServeMux()
		inMux.Handle(InternalHandler(r))
		if pub, err = listen(l.PublicAddr, pubMux); err == nil {
			internal, err = listen(l.InternalAddr, inMux)
		}
	}
	if err != nil {
		closeAll()
		return err
	}
	if ready != nil {
		ready(pub, internal)
	}
	log.Info("pRuntime API listening", "public", "http://"+pub, "internal", "http://"+internal)
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func(s srv) { errc <- s.hs.Serve(s.ln) }(s)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.hs.Shutdown(shutdownCtx)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
