package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// subscribeReadWait is how long a subscription waits for any frame from
// the node. CometBFT's server pings every 27 s, so a live connection is
// never silent that long.
const subscribeReadWait = time.Minute

// Subscription is a websocket subscription to the node's events. Every
// message is bounded by MaxResponseBytes. It does not reconnect: when the
// connection ends, Events is closed and Err says why.
type Subscription struct {
	conn   *websocket.Conn
	events chan json.RawMessage
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	err    error
}

// Subscribe opens a websocket to the node and subscribes to the events
// matching query (e.g. "tm.event='NewBlockHeader'"). ctx bounds the dial
// and the subscription request, not the subscription's life: Close ends it.
func (c *Client) Subscribe(ctx context.Context, query string) (*Subscription, error) {
	return subscribe(ctx, c.addr, query, MaxResponseBytes)
}

func subscribe(ctx context.Context, addr, query string, limit int64) (*Subscription, error) {
	url, err := wsURL(addr)
	if err != nil {
		return nil, err
	}
	dial, err := dialer(addr)
	if err != nil {
		return nil, err
	}
	d := &websocket.Dialer{
		NetDialContext:   dial,
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: DialTimeout,
	}
	conn, res, err := d.DialContext(ctx, url, nil)
	if res != nil && res.Body != nil {
		_ = res.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("node %s: websocket: %w", addr, err)
	}
	conn.SetReadLimit(limit)
	s := &Subscription{conn: conn, events: make(chan json.RawMessage, 16), done: make(chan struct{})}
	req, _ := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": 1, "method": "subscribe",
		"params": map[string]string{"query": query},
	})
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(dl)
	} else {
		_ = conn.SetWriteDeadline(time.Now().Add(DialTimeout))
	}
	if err := conn.WriteMessage(websocket.TextMessage, req); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("node %s: websocket subscribe: %w", addr, err)
	}
	// The first answer acknowledges the subscription (or refuses it).
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	first, err := s.read()
	if !stop() {
		err = errors.Join(ctx.Err(), err)
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("node %s: websocket subscribe: %w", addr, err)
	}
	if first != nil {
		// An event came before the acknowledgement; keep it.
		s.events <- first
	}
	var pingMu sync.Mutex
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(time.Now().Add(subscribeReadWait))
		pingMu.Lock()
		defer pingMu.Unlock()
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	go s.loop()
	return s, nil
}

// read reads one message and returns the result of an event, or nil for
// an answer that carries no event (the subscription's acknowledgement).
func (s *Subscription) read() (json.RawMessage, error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(subscribeReadWait))
	_, data, err := s.conn.ReadMessage()
	if err != nil {
		if errors.Is(err, websocket.ErrReadLimit) {
			return nil, fmt.Errorf("%w: a websocket message was larger", ErrResponseTooLarge)
		}
		return nil, err
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &msg); err != nil {
		return nil, fmt.Errorf("bad websocket message: %w", err)
	}
	if msg.Error != nil {
		return nil, fmt.Errorf("node error %d: %s %s", msg.Error.Code, msg.Error.Message, msg.Error.Data)
	}
	var ev struct {
		Data json.RawMessage `json:"data"`
	}
	if len(msg.Result) == 0 || json.Unmarshal(msg.Result, &ev) != nil || len(ev.Data) == 0 || string(ev.Data) == "null" {
		return nil, nil
	}
	return msg.Result, nil
}

func (s *Subscription) loop() {
	defer close(s.events)
	for {
		ev, err := s.read()
		if err != nil {
			s.mu.Lock()
			if s.err == nil {
				s.err = err
			}
			s.mu.Unlock()
			_ = s.conn.Close()
			return
		}
		if ev != nil {
			select {
			case s.events <- ev:
			case <-s.done:
			}
		}
	}
}

// Events delivers the result of each event (CometBFT's ResultEvent as
// JSON). The channel is closed when the subscription ends.
func (s *Subscription) Events() <-chan json.RawMessage { return s.events }

// Err says why the subscription ended (nil while it runs).
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() error {
	s.mu.Lock()
	if s.err == nil {
		s.err = errors.New("subscription closed")
	}
	s.mu.Unlock()
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.conn.Close()
	})
	return err
}

// wsURL returns the websocket URL of a node address.
func wsURL(addr string) (string, error) {
	scheme, rest, ok := strings.Cut(addr, "://")
	if !ok {
		return "", fmt.Errorf("node address %q has no scheme", addr)
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	switch scheme {
	case "https", "wss":
		return "wss://" + rest + "/websocket", nil
	case "unix":
		// The dialer reaches the socket; the host is only a name.
		return "ws://localhost/websocket", nil
	default:
		return "ws://" + rest + "/websocket", nil
	}
}
