package defaults

import (
	"testing"
)

func TestHTTP(t *testing.T) {
	for in, want := range map[string]string{
		PRuntimePublicAddr:   "http://127.0.0.1:8000",
		PRuntimeInternalAddr: "http://127.0.0.1:8001",
		"unix:/run/p.sock":   "unix:/run/p.sock",
	} {
		if got := HTTP(in); got != want {
			t.Errorf("HTTP(%q) = %q, want %q", in, got, want)
		}
	}
	if PRuntimePublicAddr == PRuntimeInternalAddr {
		t.Fatal("the public and internal APIs share a default address")
	}
}
