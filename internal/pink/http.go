package pink

import (
	"context"
	"fmt"
)

// Header is one HTTP header, in the order the contract gave it (Phala's
// pink-extension `(String, String)`).
type Header struct {
	Name, Value string
}

// HTTPRequest is pink-extension's `HttpRequest{url, method, headers, body}`.
type HTTPRequest struct {
	URL     string
	Method  string
	Headers []Header
	Body    []byte
}

// HTTPResponse is pink-extension's `HttpResponse{status_code, reason_phrase,
// headers, body}`.
type HTTPResponse struct {
	StatusCode   uint16
	ReasonPhrase string
	Headers      []Header
	Body         []byte
}

// HTTPError is pink-extension's `HttpRequestError`; its value is the SCALE
// variant index. The status a contract sees for a failed http_request is
// the error's Code (variant index + 1) where Phala reports it that way.
type HTTPError uint8

// The HttpRequestError variants, in Phala's order.
const (
	ErrInvalidURL HTTPError = iota
	ErrInvalidMethod
	ErrInvalidHeaderName
	ErrInvalidHeaderValue
	ErrFailedToCreateClient
	ErrTimeout
	ErrNotAllowed
	ErrTooManyRequests
	ErrNetworkError
	ErrResponseTooLarge
	ErrTooManyHeaders
)

var httpErrorNames = [...]string{
	"InvalidUrl", "InvalidMethod", "InvalidHeaderName", "InvalidHeaderValue",
	"FailedToCreateClient", "Timeout", "NotAllowed", "TooManyRequests",
	"NetworkError", "ResponseTooLarge", "TooManyHeaders",
}

// Error implements error with Phala's variant name.
func (e HTTPError) Error() string {
	if int(e) < len(httpErrorNames) {
		return "http request: " + httpErrorNames[e]
	}
	return fmt.Sprintf("http request: error %d", uint8(e))
}

// Code is the status code a contract sees for this error (variant index + 1).
func (e HTTPError) Code() uint32 { return uint32(e) + 1 }

// Limits of outbound HTTP, as Phala's pink runtime.
const (
	// MaxResponseBody is the largest response body; a larger one is
	// ErrResponseTooLarge.
	MaxResponseBody = 2 << 20
	// MaxHeaders is the most request (and response) headers;
	// more is ErrTooManyHeaders.
	MaxHeaders = 256
	// MaxBatch is the most requests in one batch_http_request; more is
	// ErrTooManyRequests.
	MaxBatch = 5
)

// HTTPClient makes a contract's HTTP requests. It is the network edge of the
// extension: the extension itself never touches a socket. Do returns either
// a response or an error. It must honour ctx's deadline, which the extension
// sets to what is left of the query's time (or a batch's timeout).
//
// How the extension reports Do's outcome, as Phala's async_http_request:
//   - an HTTPError (errors.As) is that error: validate in Phala's order,
//     URL (ErrInvalidURL), client (ErrFailedToCreateClient), method
//     (ErrInvalidMethod), more than MaxHeaders headers (ErrTooManyHeaders),
//     header names and values; a failure while reading the response body is
//     ErrNetworkError, a body over MaxResponseBody ErrResponseTooLarge;
//   - any other error means the request could not be sent (refused, DNS,
//     TLS, timed out before a response) and becomes Phala's synthetic 523
//     "Unreachable" response (see Unreachable), with the error text as body;
//   - a response whose body exceeds MaxResponseBody is ErrResponseTooLarge.
type HTTPClient interface {
	Do(ctx context.Context, req HTTPRequest) (HTTPResponse, error)
}
