package outbound

import (
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want bool
	}{
		{"1.1.1.1", true},
		{"8.8.8.8", true},
		{"2606:4700:4700::1111", true},
		{"::ffff:1.1.1.1", true},
		{"64:ff9b::101:101", true}, // NAT64 of 1.1.1.1
		{"2002:101:101::1", true},  // 6to4 of 1.1.1.1
		{"127.0.0.1", false},
		{"127.255.0.9", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"224.0.0.1", false},
		{"239.1.1.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"2001:db8::1", false},
		{"2001::1", false},          // Teredo
		{"64:ff9b::a00:1", false},   // NAT64 of 10.0.0.1
		{"64:ff9b::7f00:1", false},  // NAT64 of 127.0.0.1
		{"2002:7f00:1::1", false},   // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::", false}, // 6to4 of 169.254.169.254
		{"::127.0.0.1", false},      // IPv4-compatible
		{"fec0::1", false},
	} {
		if got := publicAddr(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("publicAddr(%s) = %v, want %v", tc.ip, got, tc.want)
		}
	}
	if publicAddr(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

func TestLocalName(t *testing.T) {
	for name, want := range map[string]bool{
		"localhost": true, "LOCALHOST.": true, "a.b.localhost": true,
		"localhost.example.com": false, "example.com": false, "notlocalhost": false,
	} {
		if localName(name) != want {
			t.Errorf("localName(%q) = %v", name, !want)
		}
	}
}
