package cli

import "testing"

// --pprof-addr serves only on loopback addresses.
func TestPprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.1.2.3:6060", "example.com:6060", "127.0.0.1"} {
		if stop, err := startPprof(addr); err == nil {
			stop()
			t.Errorf("%q accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		stop, err := startPprof(addr)
		if err != nil {
			if addr == "[::1]:0" {
				continue // no IPv6 loopback on this host
			}
			t.Fatalf("%q: %v", addr, err)
		}
		stop()
	}
}
