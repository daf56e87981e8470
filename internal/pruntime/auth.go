package pruntime

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// TokenFile is the file in the data folder that holds the bearer token of
// the internal API: 32 random bytes in hex, created at the first start with
// mode 0600. The operator's pherry reads it (--pruntime-token-file).
const TokenFile = "internal-api.token"

// TokenPath is where the token of a pRuntime with data folder dir lives.
func TokenPath(dir string) string { return filepath.Join(dir, TokenFile) }

// LoadOrCreateToken returns the internal API's token from dir, creating it
// on the first start. A token file that others may read is refused: anyone
// who has it steers the worker.
func LoadOrCreateToken(dir string) (string, error) {
	path := TokenPath(dir)
	for range 2 {
		fi, err := os.Lstat(path)
		if errors.Is(err, os.ErrNotExist) {
			if err := createToken(path); err != nil && !errors.Is(err, os.ErrExist) {
				return "", err
			}
			continue // created (by us or by a concurrent start): read it back
		}
		if err != nil {
			return "", fmt.Errorf("pruntime: token file: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("pruntime: token file %s is not a regular file", path)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("pruntime: token file %s has mode %v; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("pruntime: token file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if raw, err := hex.DecodeString(tok); err != nil || len(raw) != 32 {
			return "", fmt.Errorf("pruntime: token file %s does not hold 32 bytes in hex (delete it to make a new token)", path)
		}
		return tok, nil
	}
	return "", fmt.Errorf("pruntime: token file %s: cannot create it", path)
}

func createToken(path string) error {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("pruntime: token file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(hex.EncodeToString(raw[:]) + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("pruntime: token file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("pruntime: token file: %w", err)
	}
	return f.Close()
}

// requireToken passes on only requests that carry "Authorization: Bearer
// <token>"; others get 401 before their body is read. The comparison takes
// the same time whatever the guess, and the token is never logged.
func requireToken(token string, h http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if token == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pruntime-internal"`)
			http.Error(w, "the internal API needs the token of this pRuntime (its data folder's "+TokenFile+")", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
