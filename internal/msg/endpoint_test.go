package msg

import (
	"net/url"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/scale"
)

func TestValidEndpoint(t *testing.T) {
	for _, s := range []string{"http://127.0.0.1:8000", "https://worker.example.com", "http://[::1]:8000/api/", "http://worker-1.example.com:65535/x/y",
		"http://[2001:db8::1]", "http://[::ffff:1.2.3.4]:80", "http://[1:2:3:4:5:6:7:8]", "http://[::]", "http://h/a%20b"} {
		if err := ValidEndpoint(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "ftp://x", "127.0.0.1:8000", "http://", "http:///path", "http://u:p@host", "http://h/?q=1",
		"http://h/#f", "http://h/ x", "http://h/\x00", "http://h/é", "javascript:alert(1)", "http:opaque", "http://h:", "http://h:0", "http://h:65536", "http://h:8a",
		"http://[::1", "http://[zz]:1", "http://[::1]x", "http://h:1:2", "http://.h", "http://h_x", "HTTP://h", "http://h\\x",
		"http://[0]", "http://[1:2:3:4:5:6:7:8:9]", "http://[1::2::3]", "http://[12345::]", "http://[::1.2.3]", "http://[::g]",
		"http://[1:2:3:4:5:6:7]", "http://[::1.2.3.256]", "http://h/%zz", "http://h/%4",
		"http://h/" + strings.Repeat("a", MaxEndpointLen)} {
		if err := ValidEndpoint(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestEndpointPayloadBounded(t *testing.T) {
	p := EndpointPayload{URL: "http://h"}
	var q EndpointPayload
	if err := scale.Decode(scale.Encode(&p), &q); err != nil || q != p {
		t.Fatalf("%+v %v", q, err)
	}
	long := EndpointPayload{URL: strings.Repeat("a", MaxEndpointLen+1)}
	if err := scale.Decode(scale.Encode(&long), &q); err == nil {
		t.Fatal("over-long endpoint decoded")
	}
}

// FuzzValidEndpoint: an accepted endpoint is an http(s) URL net/url reads
// with a host, no user information, query or fragment, and the payload
// carrying it round-trips.
func FuzzValidEndpoint(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8000", "https://[::1]/x", "http://u@h", "http://h:99999", "ftp://h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidEndpoint(s) != nil {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("accepted %q: %+v %v", s, u, err)
		}
		var q EndpointPayload
		if err := scale.Decode(scale.Encode(&EndpointPayload{URL: s}), &q); err != nil || q.URL != s {
			t.Fatalf("round trip %q: %v", s, err)
		}
	})
}
