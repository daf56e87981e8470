package keys

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"strings"

	bip39 "github.com/cosmos/go-bip39"
)

// wordIndex maps each BIP39 English word to its 11-bit index.
var wordIndex = func() map[string]int {
	m := make(map[string]int, len(bip39.EnglishWordList))
	for i, w := range bip39.EnglishWordList {
		m[w] = i
	}
	return m
}()

// randRead fills b from crypto/rand (which never fails on supported systems).
func randRead(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("keys: system random source failed: " + err.Error())
	}
}

// NewMnemonic returns a fresh BIP39 English mnemonic of 12 or 24 words
// (128 or 256 bits of entropy from crypto/rand).
func NewMnemonic(words int) (string, error) {
	var n int
	switch words {
	case 12:
		n = 16
	case 24:
		n = 32
	default:
		return "", fmt.Errorf("mnemonic length must be 12 or 24 words, not %d", words)
	}
	entropy := make([]byte, n)
	randRead(entropy)
	return EntropyToMnemonic(entropy)
}

// EntropyToMnemonic returns the BIP39 English mnemonic for 16, 20, 24, 28 or
// 32 bytes of entropy.
func EntropyToMnemonic(entropy []byte) (string, error) {
	n := len(entropy)
	if n < 16 || n > 32 || n%4 != 0 {
		return "", fmt.Errorf("entropy must be 16, 20, 24, 28 or 32 bytes, not %d", n)
	}
	sum := sha256.Sum256(entropy)
	bits := append(append([]byte(nil), entropy...), sum[0]) // checksum: first n/4 bits of sum
	words := (n*8 + n/4) / 11
	out := make([]string, words)
	for i := range words {
		idx := 0
		for k := range 11 {
			bit := i*11 + k
			idx = idx<<1 | int(bits[bit/8]>>(7-bit%8)&1)
		}
		out[i] = bip39.EnglishWordList[idx]
	}
	return strings.Join(out, " "), nil
}

// MnemonicToEntropy returns the entropy encoded by a BIP39 English mnemonic
// of 12, 15, 18, 21 or 24 words, checking its checksum. Words are separated by
// any whitespace.
func MnemonicToEntropy(mnemonic string) ([]byte, error) {
	words := strings.Fields(mnemonic)
	nw := len(words)
	if nw < 12 || nw > 24 || nw%3 != 0 {
		return nil, fmt.Errorf("invalid mnemonic: %d words, want 12, 15, 18, 21 or 24", nw)
	}
	bits := make([]byte, (nw*11+7)/8)
	for i, w := range words {
		idx, ok := wordIndex[w]
		if !ok {
			return nil, fmt.Errorf("invalid mnemonic: %q (word %d) is not in the BIP39 English word list", w, i+1)
		}
		for k := range 11 {
			if idx>>(10-k)&1 == 1 {
				bit := i*11 + k
				bits[bit/8] |= 1 << (7 - bit%8)
			}
		}
	}
	csBits := nw / 3 // = entropy bits / 32
	n := csBits * 4  // entropy bytes
	entropy := bits[:n]
	sum := sha256.Sum256(entropy)
	want := sum[0] >> (8 - csBits)
	got := bits[n] >> (8 - csBits)
	if want != got {
		return nil, fmt.Errorf("invalid mnemonic: checksum mismatch (a word is wrong or out of order)")
	}
	return append([]byte(nil), entropy...), nil
}

// MiniSecretFromMnemonic derives the 32-byte mini secret key for a mnemonic
// and password exactly as substrate-bip39 does: PBKDF2-HMAC-SHA512 over the
// mnemonic's entropy (not its words), salt "mnemonic"+password, 2048 rounds,
// keeping the first 32 bytes. This differs from standard BIP39 seeds.
func MiniSecretFromMnemonic(mnemonic, password string) ([32]byte, error) {
	entropy, err := MnemonicToEntropy(mnemonic)
	if err != nil {
		return [32]byte{}, err
	}
	return MiniSecretFromEntropy(entropy, password)
}

// MiniSecretFromEntropy is substrate-bip39's mini_secret_from_entropy.
func MiniSecretFromEntropy(entropy []byte, password string) ([32]byte, error) {
	if len(entropy) < 16 || len(entropy) > 32 || len(entropy)%4 != 0 {
		return [32]byte{}, fmt.Errorf("invalid entropy length %d", len(entropy))
	}
	seed, err := pbkdf2.Key(sha512.New, string(entropy), []byte("mnemonic"+password), 2048, 64)
	if err != nil {
		return [32]byte{}, fmt.Errorf("pbkdf2: %w", err)
	}
	return [32]byte(seed[:32]), nil
}
