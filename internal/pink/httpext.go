package pink

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cella-network/cella/internal/scale"
)

// httpErrorDisplay is Phala's HttpRequestError::display, the message of the
// DispatchError with which http_request traps.
var httpErrorDisplay = [...]string{
	"Invalid URL", "Invalid method", "Invalid header name", "Invalid header value",
	"Failed to create client", "Timeout", "Not allowed", "Too many requests",
	"Network error", "Response too large", "Too many headers",
}

// Display returns Phala's display text of the error.
func (e HTTPError) Display() string {
	if int(e) < len(httpErrorDisplay) {
		return httpErrorDisplay[e]
	}
	return e.Error()
}

// Name returns the variant name (Rust's Debug form), e.g. "NetworkError".
func (e HTTPError) Name() string {
	if int(e) < len(httpErrorNames) {
		return httpErrorNames[e]
	}
	return e.Error()
}

// Unreachable is Phala's synthetic response for a request that could not be
// sent (connection refused, DNS failure, TLS failure, timeout before the
// response): status 523 "Unreachable" with the error text as body (cut to
// 1 KiB). The extension answers any client error that is not an HTTPError
// with it.
func Unreachable(err error) HTTPResponse {
	msg := "unreachable"
	if err != nil {
		msg = truncateUTF8(err.Error(), maxUnreachableBodyBytes)
	}
	return HTTPResponse{StatusCode: unreachableStatus, ReasonPhrase: unreachableReason, Body: []byte(msg)}
}

// decodeRequest reads pink's HttpRequest{url, method, headers, body}.
func (c *call) decodeRequest() HTTPRequest {
	var req HTTPRequest
	req.URL = c.stringArg()
	req.Method = c.stringArg()
	n := c.r.Len(2) // each header is at least two empty strings
	if n > 0 {
		req.Headers = make([]Header, 0, n)
	}
	for i := 0; i < n && c.r.Err() == nil; i++ {
		name := c.stringArg()
		value := c.stringArg()
		req.Headers = append(req.Headers, Header{Name: name, Value: value})
	}
	req.Body = c.bytesArg()
	return req
}

// validString is s, or "" when it is not UTF-8 (a contract decoding a
// String would trap on it; Phala's header values fall back to "" alike).
func validString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return ""
}

// encodeResponse appends pink's HttpResponse{status_code, reason_phrase,
// headers, body}.
func encodeResponse(w *scale.Writer, r HTTPResponse) {
	w.U16(r.StatusCode)
	w.String(validString(r.ReasonPhrase))
	w.Compact(uint64(len(r.Headers)))
	for _, h := range r.Headers {
		w.String(validString(h.Name))
		w.String(validString(h.Value))
	}
	w.BytesVec(r.Body)
}

func responseSize(r HTTPResponse) int {
	n := 16 + len(r.ReasonPhrase) + len(r.Body)
	for _, h := range r.Headers {
		n += 10 + len(h.Name) + len(h.Value)
	}
	return n
}

func encResponse(r HTTPResponse) []byte {
	w := scale.NewWriter(responseSize(r))
	encodeResponse(w, r)
	return w.Bytes()
}

// remainingMs is what is left of the execution's time: Phala gives HTTP
// requests the query's remaining time (10 s without a deadline).
func (s *Session) remainingMs() uint64 {
	d, ok := s.ctx.Deadline()
	if !ok {
		return defaultHTTPTimeoutMs
	}
	ms := time.Until(d).Milliseconds()
	if ms <= 0 {
		return 0
	}
	return uint64(ms)
}

// do sends one request with a timeout and maps the outcome as Phala's
// async_http_request: an HTTPError is the request's error, any other error
// is the synthetic 523 response, a body over MaxResponseBody is
// ResponseTooLarge.
func (s *Session) do(ctx context.Context, req HTTPRequest, timeoutMs uint64) (HTTPResponse, error) {
	if timeoutMs == 0 {
		return HTTPResponse{}, ErrTimeout
	}
	if s.env.HTTP == nil {
		return Unreachable(errors.New("outbound HTTP is not configured on this worker")), nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(timeoutMs)*time.Millisecond)
	defer cancel()
	resp, err := s.env.HTTP.Do(ctx, req)
	if err != nil {
		var he HTTPError
		if errors.As(err, &he) {
			return HTTPResponse{}, he
		}
		return Unreachable(err), nil
	}
	if len(resp.Body) > MaxResponseBody {
		return HTTPResponse{}, ErrResponseTooLarge
	}
	return resp, nil
}

func (c *call) httpCost(req HTTPRequest) uint64 {
	return c.s.gas.HTTPRequest + c.s.gas.HTTPPerByte*uint64(len(req.Body))
}

// httpRequest is http_request(request) -> HttpResponse (no status). In a
// transaction it answers 523 "API Unavailable". In a query, the errors of
// pink runtime 1.0 (InvalidUrl … Timeout) trap with Phala's message and the
// later ones become a 524 "IO Error" response whose body is the variant
// name, as Phala's runtime-1.0 compatibility path.
func (c *call) httpRequest() (uint32, []byte, error) {
	req := c.decodeRequest()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if c.s.inTx() {
		return statusOK, encResponse(HTTPResponse{
			StatusCode: unreachableStatus, ReasonPhrase: txHTTPUnavailableReason,
			Body: []byte(txHTTPUnavailableBody),
		}), nil
	}
	if err := c.charge(c.httpCost(req)); err != nil {
		return 0, nil, err
	}
	if rest, ok := strings.CutPrefix(req.URL, sidevmURLPrefix); ok {
		// Phala routes sidevm://<contract hex> to the contract's local
		// SideVM; Cella runs none, so the query fails as Phala's does when
		// the SideVM is not running.
		if b, err := hex.DecodeString(rest); err != nil || len(b) != 32 {
			return 0, nil, c.fail(ErrInvalidURL.Display())
		}
		return statusOK, encResponse(HTTPResponse{
			StatusCode: sidevmInternalErrorStatus, ReasonPhrase: sidevmInternalErrorReason,
			Body: []byte(sidevmUnsupportedBody),
		}), nil
	}
	resp, err := c.s.do(c.s.ctx, req, c.s.remainingMs())
	if err != nil {
		he := ErrNetworkError
		errors.As(err, &he)
		if he <= ErrTimeout {
			return 0, nil, c.fail(he.Display())
		}
		resp = HTTPResponse{StatusCode: ioErrorStatus, ReasonPhrase: ioErrorReason, Body: []byte(he.Name())}
	}
	if err := c.charge(c.s.gas.HTTPPerByte * uint64(len(resp.Body))); err != nil {
		return 0, nil, err
	}
	return statusOK, encResponse(resp), nil
}

type batchResult struct {
	resp HTTPResponse
	err  HTTPError
	ok   bool
}

// batchHTTPRequest is batch_http_request(requests, timeout_ms) ->
// Result<Vec<Result<HttpResponse, HttpRequestError>>, HttpRequestError>
// (status: 0, or the error's code with empty output). A transaction gets
// NotAllowed (7); more than MaxBatch requests TooManyRequests (8); the
// requests run concurrently, each with min(timeout_ms, remaining time), and
// the batch fails with Timeout (6) when they are not all done within that
// plus 200 ms.
func (c *call) batchHTTPRequest() (uint32, []byte, error) {
	reqs := scale.ReadVec(c.r, 4, func(*scale.Reader) HTTPRequest { return c.decodeRequest() })
	timeoutMs := c.r.U64()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if c.s.inTx() {
		return ErrNotAllowed.Code(), nil, nil
	}
	if len(reqs) > MaxBatch {
		return ErrTooManyRequests.Code(), nil, nil
	}
	var cost uint64
	for _, r := range reqs {
		cost += c.httpCost(r)
	}
	if err := c.charge(cost); err != nil {
		return 0, nil, err
	}
	t := min(c.s.remainingMs(), timeoutMs)
	ctx, cancel := context.WithCancel(c.s.ctx)
	defer cancel()
	results := make([]batchResult, len(reqs))
	done := make(chan int, len(reqs))
	for i, r := range reqs {
		go func() {
			resp, err := c.s.do(ctx, r, t)
			res := batchResult{resp: resp, ok: err == nil}
			if err != nil {
				res.err = ErrNetworkError
				errors.As(err, &res.err)
			}
			results[i] = res
			done <- i
		}()
	}
	grace := min(satAdd(t, batchGraceMs), uint64(1<<40)) // ~35 years: no overflow
	timer := time.NewTimer(time.Duration(grace) * time.Millisecond)
	defer timer.Stop()
	for range reqs {
		select {
		case <-done:
		case <-timer.C:
			return ErrTimeout.Code(), nil, nil
		case <-c.s.ctx.Done():
			return ErrTimeout.Code(), nil, nil
		}
	}
	size := 1
	var body uint64
	for _, r := range results {
		size += 2 + responseSize(r.resp)
		body += uint64(len(r.resp.Body))
	}
	if err := c.charge(c.s.gas.HTTPPerByte * body); err != nil {
		return 0, nil, err
	}
	w := scale.NewWriter(size)
	w.Compact(uint64(len(results)))
	for _, r := range results {
		if r.ok {
			w.ResultOk()
			encodeResponse(w, r.resp)
		} else {
			w.ResultErr()
			w.U8(uint8(r.err))
		}
	}
	return statusOK, w.Bytes(), nil
}
