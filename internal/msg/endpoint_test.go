package msg

import (
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/scale"
)

func TestValidEndpoint(t *testing.T) {
	for _, s := range []string{"http://127.0.0.1:8000", "https://worker.example.com", "http://[::1]:8000/api/", "http://worker-1.example.com:65535/x/y"} {
		if err := ValidEndpoint(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "ftp://x", "127.0.0.1:8000", "http://", "http:///path", "http://u:p@host", "http://h/?q=1",
		"http://h/#f", "http://h/ x", "http://h/\x00", "http://h/é", "javascript:alert(1)", "http:opaque", "http://h:", "http://h:0", "http://h:65536", "http://h:8a",
		"http://[::1", "http://[zz]:1", "http://[::1]x", "http://h:1:2", "http://.h", "http://h_x", "HTTP://h", "http://h\\x",
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
