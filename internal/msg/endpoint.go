package msg

import (
	"fmt"
	"strings"

	"github.com/cella-network/cella/internal/scale"
)

// TopicWorkerEndpoint is the topic of the message a worker sends (origin
// OriginWorker(identity), so signed by the worker's identity key) to
// record the URL of its public API, as its operator configured it: the
// chain's registry keeps it for clients looking for a worker. Its payload is
// SCALE(EndpointPayload).
const TopicWorkerEndpoint = "worker/endpoint"

// MaxEndpointLen bounds an endpoint URL.
const MaxEndpointLen = 256

// EndpointPayload is the payload of a TopicWorkerEndpoint message.
type EndpointPayload struct {
	// URL is the worker's public API (ValidEndpoint).
	URL string
}

// EncodeSCALE writes (String).
func (p *EndpointPayload) EncodeSCALE(w *scale.Writer) { w.String(p.URL) }

// DecodeSCALE reads the payload; a URL over MaxEndpointLen fails.
func (p *EndpointPayload) DecodeSCALE(r *scale.Reader) {
	n := r.Len(1)
	if n > MaxEndpointLen {
		r.Fail(fmt.Errorf("endpoint of %d bytes, limit %d", n, MaxEndpointLen))
		return
	}
	p.URL = string(r.Raw(n))
}

// ValidEndpoint checks a worker endpoint URL: at most MaxEndpointLen
// bytes of printable ASCII, "http://" or "https://", a host (a DNS name,
// an IPv4 address or a bracketed IPv6 address) with an optional port, an
// optional path; no user information, query or fragment. (The state
// machine may not import net/url: this is a strict subset of it.)
func ValidEndpoint(s string) error {
	if s == "" || len(s) > MaxEndpointLen {
		return fmt.Errorf("endpoint of %d bytes: want 1 to %d", len(s), MaxEndpointLen)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return fmt.Errorf("endpoint %q: byte 0x%02x at %d is not printable ASCII", s, s[i], i)
		}
	}
	if strings.ContainsAny(s, "@?#\\") {
		return fmt.Errorf("endpoint %q: user information, query, fragment or backslash", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return fmt.Errorf("endpoint %q: bad percent escape", s)
		}
	}
	rest, ok := strings.CutPrefix(s, "http://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "https://"); !ok {
			return fmt.Errorf("endpoint %q: want an http:// or https:// URL", s)
		}
	}
	host, _, _ := strings.Cut(rest, "/")
	port := ""
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 || !validIPv6(host[1:end]) {
			return fmt.Errorf("endpoint %q: bad IPv6 host", s)
		}
		if after := host[end+1:]; after != "" {
			if port, ok = strings.CutPrefix(after, ":"); !ok {
				return fmt.Errorf("endpoint %q: bad host", s)
			}
		}
	} else {
		var name string
		name, port, _ = strings.Cut(host, ":")
		if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != "" ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "-") {
			return fmt.Errorf("endpoint %q: no valid host", s)
		}
		if strings.Contains(host, ":") && port == "" {
			return fmt.Errorf("endpoint %q: empty port", s)
		}
	}
	if port != "" {
		n := 0
		for _, r := range port {
			if r < '0' || r > '9' || n > 65535 {
				return fmt.Errorf("endpoint %q: bad port", s)
			}
			n = n*10 + int(r-'0')
		}
		if n == 0 || n > 65535 {
			return fmt.Errorf("endpoint %q: port out of range", s)
		}
	}
	return nil
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// validIPv6 checks a textual IPv6 address (RFC 4291 section 2.2: eight
// groups of 1 to 4 hex digits, one "::" for a run of zero groups, an
// IPv4 tail counting as two groups; no zone).
func validIPv6(a string) bool {
	groups := 0
	head, tail, compressed := strings.Cut(a, "::")
	if compressed && strings.Contains(tail, "::") {
		return false
	}
	for i, part := range []string{head, tail} {
		if part == "" {
			if !compressed && i == 0 {
				return false
			}
			continue
		}
		fields := strings.Split(part, ":")
		for j, f := range fields {
			last := i == 1 || !compressed
			if last && j == len(fields)-1 && strings.Contains(f, ".") {
				if !validIPv4(f) {
					return false
				}
				groups += 2
				continue
			}
			if len(f) < 1 || len(f) > 4 {
				return false
			}
			for k := 0; k < len(f); k++ {
				if !isHex(f[k]) {
					return false
				}
			}
			groups++
		}
	}
	if compressed {
		return groups < 8
	}
	return groups == 8
}

// validIPv4 checks dotted-decimal a.b.c.d (no leading zeros).
func validIPv4(a string) bool {
	fields := strings.Split(a, ".")
	if len(fields) != 4 {
		return false
	}
	for _, f := range fields {
		if len(f) < 1 || len(f) > 3 || (len(f) > 1 && f[0] == '0') {
			return false
		}
		n := 0
		for k := 0; k < len(f); k++ {
			if f[k] < '0' || f[k] > '9' {
				return false
			}
			n = n*10 + int(f[k]-'0')
		}
		if n > 255 {
			return false
		}
	}
	return true
}
