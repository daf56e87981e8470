package outbound

import (
	"context"
	"io"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/cella-network/cella/internal/pink"
)

// FuzzBuild checks the request validation on hostile input: it never
// panics, fails only with a pink.HTTPError, and whatever it accepts is an
// https request to a host, with a token method and valid headers, that
// net/http can write.
func FuzzBuild(f *testing.F) {
	f.Add("https://example.com/a?b=c", "GET", "X-Api-Key", "secret")
	f.Add("http://example.com/", "POST", "Host", "other")
	f.Add("https://user@example.com:0/", "G ET", "bad name", "v\r\n")
	f.Add("https://[::1]:443/%zz", "", "", "")
	c, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rawURL, method, name, value string) {
		req := pink.HTTPRequest{URL: rawURL, Method: method, Headers: []pink.Header{{Name: name, Value: value}}}
		hr, _, err := c.build(context.Background(), req)
		if err != nil {
			if _, ok := err.(pink.HTTPError); !ok {
				t.Fatalf("error %v (%T) is not a pink.HTTPError", err, err)
			}
			return
		}
		if hr.URL.Scheme != "https" || hr.URL.Hostname() == "" || hr.URL.User != nil {
			t.Fatalf("accepted %q as %v", rawURL, hr.URL)
		}
		if hr.Method != method || !httpguts.ValidHeaderFieldName(method) {
			t.Fatalf("accepted method %q", method)
		}
		for k, vs := range hr.Header {
			if !httpguts.ValidHeaderFieldName(k) {
				t.Fatalf("accepted header name %q", k)
			}
			for _, v := range vs {
				if !httpguts.ValidHeaderFieldValue(v) {
					t.Fatalf("accepted header value %q", v)
				}
			}
		}
		if err := hr.Write(io.Discard); err != nil {
			t.Fatalf("net/http cannot write the accepted request: %v", err)
		}
	})
}
