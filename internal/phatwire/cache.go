package phatwire

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
)

// VerifyCache remembers certificates whose parent signatures verified, so
// that a client's certificate is checked once and each further query costs
// one signature check (the query's own). It is a bounded LRU, safe for
// concurrent use. Only successes are cached; an entry records the smallest
// TTL along its chain, so expiry is still enforced on every use.
type VerifyCache struct {
	mu  sync.Mutex
	cap int
	ll  *list.List
	m   map[[32]byte]*list.Element

	hits, misses uint64
}

type cacheEntry struct {
	key    [32]byte
	chain  []AccountID // accounts above the leaf, top-down
	minTTL uint32      // smallest TTL of the bodies in chain's certificates
}

// NewVerifyCache returns a cache holding at most n certificates (n ≥ 1).
func NewVerifyCache(n int) *VerifyCache {
	if n < 1 {
		n = 1
	}
	return &VerifyCache{cap: n, ll: list.New(), m: make(map[[32]byte]*list.Element, n)}
}

// VerifyQuery is Signature.Verify(msg, currentBlock, MaxCertificateDepth)
// with the signing certificate's parent chain looked up in, or added to, the
// cache. Its verdicts and chains are those of Verify.
func (c *VerifyCache) VerifyQuery(s *Signature, msg []byte, currentBlock uint32) ([]AccountID, error) {
	if s == nil || s.SignedBy == nil {
		return nil, ErrMissingCertificate
	}
	cert := s.SignedBy
	body, err := DecodeCertificateBody(cert.EncodedBody)
	if err != nil {
		return nil, err
	}
	if body.TTL < currentBlock {
		return nil, fmt.Errorf("%w: ttl %d < block %d", ErrCertificateExpired, body.TTL, currentBlock)
	}
	// The query's own signature first, as Verify does, so that both report
	// the same error for the same input.
	account, err := verifyOne(s.Type, body.Pubkey, s.Signature, msg)
	if err != nil {
		return nil, err
	}
	var parent []AccountID
	if cert.Signature != nil {
		key, ok := certificateKey(cert)
		if !ok {
			// Deeper than Verify would go: let it report the error.
			return s.Verify(msg, currentBlock, MaxCertificateDepth)
		}
		e := c.get(key)
		if e == nil {
			chain, minTTL, err := verifyParent(cert, currentBlock)
			if err != nil {
				return nil, err
			}
			e = &cacheEntry{key: key, chain: chain, minTTL: minTTL}
			c.put(e)
		}
		if e.minTTL < currentBlock {
			return nil, fmt.Errorf("%w: ttl %d < block %d", ErrCertificateExpired, e.minTTL, currentBlock)
		}
		parent = e.chain
	}
	out := make([]AccountID, 0, len(parent)+1)
	return append(append(out, parent...), account), nil
}

// Stats returns the number of cache hits and misses so far.
func (c *VerifyCache) Stats() (hits, misses uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// Len returns the number of cached certificates.
func (c *VerifyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// verifyParent verifies cert's parent signature over its body as Verify
// would at depth MaxCertificateDepth-1 and returns the chain and the smallest
// TTL along it.
func verifyParent(cert *Certificate, currentBlock uint32) ([]AccountID, uint32, error) {
	chain, err := cert.Signature.Verify(cert.EncodedBody, currentBlock, MaxCertificateDepth-1)
	if err != nil {
		return nil, 0, err
	}
	minTTL := ^uint32(0)
	for p := cert.Signature; p != nil && p.SignedBy != nil; p = p.SignedBy.Signature {
		b, err := DecodeCertificateBody(p.SignedBy.EncodedBody)
		if err != nil { // cannot happen after Verify succeeded
			return nil, 0, err
		}
		minTTL = min(minTTL, b.TTL)
	}
	return chain, minTTL, nil
}

// certificateKey hashes everything verification depends on in cert: its body
// and, recursively, its parent signatures. It gives up (false) beyond the
// depth Verify accepts.
func certificateKey(cert *Certificate) ([32]byte, bool) {
	h := sha256.New()
	var n [8]byte
	field := func(tag byte, b []byte) {
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write([]byte{tag})
		h.Write(n[:])
		h.Write(b)
	}
	depth := 0
	for c := cert; c != nil; {
		if depth > MaxCertificateDepth {
			return [32]byte{}, false
		}
		field('b', c.EncodedBody)
		s := c.Signature
		if s == nil {
			break
		}
		binary.LittleEndian.PutUint32(n[:4], uint32(s.Type))
		field('t', n[:4])
		field('s', s.Signature)
		c = s.SignedBy
		if c == nil {
			field('n', nil)
		}
		depth++
	}
	var k [32]byte
	h.Sum(k[:0])
	return k, true
}

func (c *VerifyCache) get(key [32]byte) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		c.misses++
		return nil
	}
	c.hits++
	c.ll.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

func (c *VerifyCache) put(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[e.key]; ok {
		c.ll.MoveToFront(el)
		return
	}
	c.m[e.key] = c.ll.PushFront(e)
	for c.ll.Len() > c.cap {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.m, old.Value.(*cacheEntry).key)
	}
}
