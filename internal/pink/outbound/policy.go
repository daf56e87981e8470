package outbound

import (
	"net/netip"
	"strings"
)

// refusedPrefixes are the address blocks that are never a public service:
// special-purpose blocks of the IANA IPv4 and IPv6 registries (RFC 6890 and
// successors) that netip's predicates do not already cover.
var refusedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network" (RFC 791); Linux connects 0.x to the host itself
		"100.64.0.0/10",   // shared address space, carrier-grade NAT (RFC 6598)
		"192.0.0.0/24",    // IETF protocol assignments (RFC 6890)
		"192.0.2.0/24",    // TEST-NET-1 (RFC 5737)
		"192.88.99.0/24",  // deprecated 6to4 relay anycast (RFC 7526)
		"198.18.0.0/15",   // benchmarking (RFC 2544)
		"198.51.100.0/24", // TEST-NET-2
		"203.0.113.0/24",  // TEST-NET-3
		"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
		"::/96",           // deprecated IPv4-compatible IPv6 (RFC 4291)
		"100::/64",        // discard-only (RFC 6666)
		"2001::/23",       // IETF protocol assignments, including Teredo 2001::/32
		"2001:db8::/32",   // documentation (RFC 3849)
		"fec0::/10",       // deprecated site-local (RFC 3879)
		"64:ff9b:1::/48",  // local-use IPv4/IPv6 translation (RFC 8215)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64 prefix (RFC 6052)
	sixToFour = netip.MustParsePrefix("2002::/16")    // 6to4 (RFC 3056)
)

// publicAddr reports whether ip may be dialled by a contract on a
// production chain: a unicast address of the public Internet. Loopback,
// private (RFC 1918, fc00::/7), link-local, unspecified, multicast, CGNAT,
// documentation and other special-purpose addresses are refused, and so are
// IPv6 forms that embed a refused IPv4 address (IPv4-mapped, NAT64, 6to4).
func publicAddr(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return publicAddr(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return publicAddr(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() {
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// localName reports whether host is a name that always means this machine
// or its site ("localhost", "*.localhost", RFC 6761), whatever a resolver
// says. It matters behind a proxy, which resolves names itself.
func localName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}
