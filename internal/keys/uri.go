package keys

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"golang.org/x/crypto/blake2b"
)

// Junction is one step of a derivation path: a 32-byte chain code and whether
// the step is hard ("//name") or soft ("/name").
type Junction struct {
	// Code is the 32-byte chain code of the step.
	Code [32]byte
	// Hard is true for a hard ("//") junction and false for a soft ("/") one.
	Hard bool
}

// NewJunction returns the junction for the path element s (without its
// slashes), computed as sp_core's DeriveJunction does: a decimal number is
// SCALE-encoded as a little-endian u64, any other text as compact-length
// prefixed bytes; an encoding of up to 32 bytes is zero-padded to 32, a longer
// one is replaced by its blake2b-256 hash.
func NewJunction(s string, hard bool) Junction {
	var enc []byte
	if n, ok := parseRustU64(s); ok {
		enc = binary.LittleEndian.AppendUint64(nil, n)
	} else {
		enc = appendCompact(nil, uint64(len(s)))
		enc = append(enc, s...)
	}
	j := Junction{Hard: hard}
	if len(enc) > 32 {
		j.Code = blake2b.Sum256(enc)
	} else {
		copy(j.Code[:], enc)
	}
	return j
}

// parseRustU64 parses s the way Rust's u64::from_str does: ASCII digits with
// an optional leading '+'.
func parseRustU64(s string) (uint64, bool) {
	d := strings.TrimPrefix(s, "+")
	if d == "" {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(d, 10, 64)
	return n, err == nil
}

// appendCompact appends the SCALE compact encoding of v.
func appendCompact(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v<<2))
	case v < 1<<14:
		return binary.LittleEndian.AppendUint16(b, uint16(v<<2|1))
	case v < 1<<30:
		return binary.LittleEndian.AppendUint32(b, uint32(v<<2|2))
	}
	n := 8
	for n > 4 && v>>(8*(n-1)) == 0 {
		n--
	}
	b = append(b, byte((n-4)<<2|3))
	for i := 0; i < n; i++ {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// URI is a parsed secret URI: PHRASE PATH [///PASSWORD].
type URI struct {
	// Phrase is the mnemonic or the 0x-prefixed hex seed; empty means DevPhrase.
	Phrase string
	// Path holds the derivation junctions in order.
	Path []Junction
	// PathText is the derivation path as written (for example "//Alice/0").
	PathText string
	// Password is the BIP39 password given after "///".
	Password string
	// HasPassword tells whether "///" appeared (an empty password is allowed).
	HasPassword bool
}

// IsHexSeed reports whether the phrase is a 0x-prefixed hex seed.
func (u URI) IsHexSeed() bool { return strings.HasPrefix(u.Phrase, "0x") }

// ParseURI splits a secret URI into phrase, derivation path and password
// following sp_core's SecretUri grammar:
// `^([\w ]+)?((//?[^/]+)*)(///(.*))?$`. It does not check the phrase itself.
func ParseURI(suri string) (URI, error) {
	var u URI
	rest := suri
	if i := strings.Index(rest, "///"); i >= 0 {
		u.Password = rest[i+3:]
		u.HasPassword = true
		rest = rest[:i]
	}
	phrase, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		phrase, path = rest[:i], rest[i:]
	}
	for _, c := range phrase {
		if !(c == ' ' || c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c)) {
			return URI{}, fmt.Errorf("invalid secret URI: unexpected character %q in the phrase or seed", c)
		}
	}
	u.Phrase = phrase
	u.PathText = path
	for p := path; p != ""; {
		hard := strings.HasPrefix(p, "//")
		if hard {
			p = p[2:]
		} else {
			p = p[1:]
		}
		end := strings.IndexByte(p, '/')
		if end < 0 {
			end = len(p)
		}
		if end == 0 {
			return URI{}, errors.New("invalid secret URI: empty derivation path element (too many slashes?)")
		}
		u.Path = append(u.Path, NewJunction(p[:end], hard))
		p = p[end:]
	}
	return u, nil
}

// FromURI returns the pair for a secret URI as subkey and polkadot.js accept
// it: "//Alice", "//Alice//stash", "MNEMONIC//hard/soft", "MNEMONIC///password",
// "0x<32-byte seed hex>", "0xSEED//Alice" or a bare mnemonic. A URI that starts
// with "/" is derived from DevPhrase. A password is ignored for a hex seed, as
// in sp_core.
func FromURI(suri string) (*Pair, error) {
	u, err := ParseURI(suri)
	if err != nil {
		return nil, err
	}
	root, err := u.rootPair()
	if err != nil {
		return nil, err
	}
	return root.Derive(u.Path)
}

// rootPair returns the pair for the URI's phrase or hex seed.
func (u URI) rootPair() (*Pair, error) {
	phrase := u.Phrase
	if strings.TrimSpace(phrase) == "" {
		if u.Phrase != "" {
			return nil, errors.New("invalid secret URI: the phrase is blank")
		}
		phrase = DevPhrase
	}
	if u.IsHexSeed() {
		b, err := hex.DecodeString(phrase[2:])
		if err != nil {
			return nil, errors.New("invalid secret URI: the seed after 0x is not valid hex")
		}
		if len(b) != 32 {
			return nil, fmt.Errorf("invalid secret URI: the hex seed has %d bytes, want 32", len(b))
		}
		return FromSeed([32]byte(b)), nil
	}
	seed, err := MiniSecretFromMnemonic(phrase, u.Password)
	if err != nil {
		return nil, err
	}
	return FromSeed(seed), nil
}

// Derive returns the pair reached from p by following path. A hard junction
// derives a new mini secret key (so the seed stays known); a soft junction
// derives the key directly and the seed is unknown from then on, as in
// sp_core.
func (p *Pair) Derive(path []Junction) (*Pair, error) {
	cur := p
	for _, j := range path {
		sk, err := cur.schnorrkelSecret()
		if err != nil {
			return nil, err
		}
		if j.Hard {
			msk, _, err := sk.HardDeriveMiniSecretKey(nil, j.Code)
			if err != nil {
				return nil, fmt.Errorf("keys: hard derivation: %w", err)
			}
			next := FromSeed(msk.Encode())
			if !cur.hasSeed {
				next.seed, next.hasSeed = [32]byte{}, false
			}
			cur = next
			continue
		}
		ek, err := schnorrkel.DeriveKeySoft(sk, nil, j.Code)
		if err != nil {
			return nil, fmt.Errorf("keys: soft derivation: %w", err)
		}
		dsk, err := ek.Secret()
		if err != nil {
			return nil, fmt.Errorf("keys: soft derivation: %w", err)
		}
		// go-schnorrkel picks a random nonce it does not expose; schnorrkel
		// itself also draws it from a random generator, so a fresh random
		// nonce here is equivalent.
		var nonce [32]byte
		randRead(nonce[:])
		next, err := newPair(dsk.Encode(), nonce)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}
