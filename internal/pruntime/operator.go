package pruntime

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cella-network/cella/internal/keys"
)

// Errors of the worker's configuration.
var (
	// ErrNoOperator means no operator was configured (--operator), so the
	// worker cannot make a registration.
	ErrNoOperator = errors.New("pruntime: no operator configured (start it with --operator)")
	// ErrOtherOperator means the data folder is bound to another operator
	// than the configured one.
	ErrOtherOperator = errors.New("pruntime: bound to another operator")
)

// operatorFile holds the operator the worker was bound to at Init (or at
// the first start that named one), sealed to the chain's genesis.
const operatorFile = "operator.sealed"

// checkGenesisPin refuses a genesis other than the configured one.
func (r *Runtime) checkGenesisPin(gh [32]byte) error {
	if r.cfg.GenesisHash != ([32]byte{}) && r.cfg.GenesisHash != gh {
		return fmt.Errorf("%w: this pRuntime is pinned to genesis 0x%x (--genesis-hash), not 0x%x", ErrOtherGenesis, r.cfg.GenesisHash, gh)
	}
	return nil
}

// bindOperator fixes the worker's operator for a data folder bound to
// genesis gh. A fresh folder (fresh: called from Init) takes the configured
// operator. A restored one keeps the operator it was bound to: starting it
// with another is refused; a folder bound to none takes the configured one.
func (r *Runtime) bindOperator(gh [32]byte, fresh bool) error {
	cfgOp := r.cfg.Operator
	if !fresh {
		b, err := r.readSealed(operatorFile, gh)
		switch {
		case err == nil:
			if len(b) != len(keys.PublicKey{}) {
				return fmt.Errorf("pruntime: %s does not hold an account id", operatorFile)
			}
			var bound keys.PublicKey
			copy(bound[:], b)
			if cfgOp != (keys.PublicKey{}) && cfgOp != bound {
				return fmt.Errorf("%w: this worker's data folder is bound to operator %s; it was started with --operator %s (use that operator, or a fresh data folder for a new worker)",
					ErrOtherOperator, keys.EncodeSS58(bound, keys.DefaultSS58Prefix), keys.EncodeSS58(cfgOp, keys.DefaultSS58Prefix))
			}
			r.operator = bound
			return nil
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
	}
	if cfgOp == (keys.PublicKey{}) {
		return nil
	}
	if err := r.writeSealed(operatorFile, gh, cfgOp[:]); err != nil {
		return err
	}
	r.operator = cfgOp
	return nil
}

// Operator returns the worker's operator (zero when none is configured).
func (r *Runtime) Operator() keys.PublicKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.operator == (keys.PublicKey{}) {
		return r.cfg.Operator
	}
	return r.operator
}

// ParseOperator reads an operator's account id given as an SS58 address or
// 0x-prefixed hex (a public account id, not a secret).
func ParseOperator(s string) (keys.PublicKey, error) {
	op, err := keys.ParseAccount(s)
	if err != nil {
		return op, fmt.Errorf("operator %q: want an SS58 address or 0x and 32 bytes in hex: %w", s, err)
	}
	if op == (keys.PublicKey{}) {
		return op, fmt.Errorf("operator %q: the zero account cannot operate a worker", s)
	}
	return op, nil
}

// ParseGenesisHash reads a genesis hash given as 0x-prefixed hex of 32 bytes.
func ParseGenesisHash(s string) ([32]byte, error) {
	var gh [32]byte
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	raw, err := hex.DecodeString(t)
	if err != nil || len(raw) != 32 || (raw != nil && [32]byte(raw) == gh) {
		return gh, fmt.Errorf("genesis hash %q: want 0x and 32 non-zero bytes in hex", s)
	}
	copy(gh[:], raw)
	return gh, nil
}
