// Package admin is the admin module (index 5 of AppVersion1): as Substrate's
// sudo, an optional admin account named in the genesis dispatches the
// privileged methods of other modules (gatekeepers, clusters, and later the
// allow-list, validators) with the root origin. Governance (internal/state/gov)
// dispatches the same methods (LookupPrivileged) and can retire the admin
// with admin.remove.
//
// Storage:
//
//	"admin/key" → [u8; 32]: the admin account (absent: the chain has no admin)
package admin

import (
	"fmt"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

const (
	// Index is the admin module's index.
	Index uint8 = 5
	// MethodSudo is admin.sudo(Call): Call = module u8 ‖ method u8 ‖ args Vec<u8>.
	MethodSudo uint8 = 0
	// MethodRemove is admin.remove() (privileged, no arguments): deletes the
	// admin account for good; admin.sudo then fails with state.CodeNoAdmin.
	// Governance enacts it once the council takes over (or the admin
	// dispatches it through admin.sudo itself).
	MethodRemove uint8 = 1
)

// RemoveWeight is the weight of admin.remove.
const RemoveWeight uint64 = 10_000

// SudoWeight is the weight of admin.sudo itself (admin lookup, decoding);
// the method's weight adds the heaviest privileged method's.
const SudoWeight uint64 = 20_000

// KeyAdmin holds the admin account.
var KeyAdmin = []byte("admin/key")

// Module returns the admin module for the module table rt, whose privileged
// methods sudo dispatches. rt may be filled after this call (the lookup
// happens per call), but the weight is computed from the privileged methods
// rt holds now: build the admin module last.
func Module(rt *state.Runtime) *state.Module {
	var maxW uint64
	for _, mod := range rt.Modules {
		if mod == nil {
			continue
		}
		for _, m := range mod.Methods {
			if m != nil && m.Privileged {
				maxW = max(maxW, m.Weight)
			}
		}
	}
	a := &sudo{rt: rt}
	return &state.Module{Name: "admin", Methods: []*state.Method{
		MethodSudo:   {Name: "sudo", Weight: SudoWeight + max(maxW, RemoveWeight), Check: a.check, Exec: a.exec},
		MethodRemove: {Name: "remove", Weight: RemoveWeight, Privileged: true, Check: checkNoArgs, Exec: execRemove},
	}, InitChain: initChain}
}

// RemoveCall builds admin.remove() (privileged).
func RemoveCall() tx.Call { return tx.Call{Module: Index, Method: MethodRemove} }

func checkNoArgs(args []byte) error {
	if len(args) != 0 {
		return fmt.Errorf("admin.remove takes no arguments, got %d bytes", len(args))
	}
	return nil
}

// execRemove deletes the admin account.
func execRemove(c *state.CallCtx, _ []byte) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "admin.remove needs the root origin", nil
	}
	admin, ok, err := GetAdmin(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeNoAdmin, "this chain has no admin to remove", nil
	}
	c.Overlay().Delete(KeyAdmin)
	c.AddEvent(state.Event{Type: "admin_removed", Attributes: []state.EventAttribute{{Key: "admin", Value: admin.Hex(), Index: true}}})
	return state.CodeOK, "", nil
}

func initChain(ov *state.Overlay, g *state.Genesis) {
	if g.App.Admin != nil {
		ov.Set(KeyAdmin, g.App.Admin[:])
	}
}

// GetAdmin reads the admin account; false when the chain has none.
func GetAdmin(st state.Store) (keys.PublicKey, bool, error) {
	v, err := st.Get(KeyAdmin)
	if err != nil {
		return keys.PublicKey{}, false, fmt.Errorf("state: reading admin: %w", err)
	}
	if v == nil {
		return keys.PublicKey{}, false, nil
	}
	if len(v) != 32 {
		return keys.PublicKey{}, false, fmt.Errorf("%w: admin key of %d bytes", state.ErrCorruptState, len(v))
	}
	return keys.PublicKey(v), true, nil
}

// SudoCall builds admin.sudo(inner).
func SudoCall(inner tx.Call) tx.Call {
	w := scale.NewWriter(3 + len(inner.Args))
	w.U8(inner.Module)
	w.U8(inner.Method)
	w.BytesVec(inner.Args)
	return tx.Call{Module: Index, Method: MethodSudo, Args: w.Bytes()}
}

// DecodeSudoArgs decodes admin.sudo's argument, the inner call.
func DecodeSudoArgs(args []byte) (tx.Call, error) {
	r := scale.NewReader(args)
	var c tx.Call
	c.Module = r.U8()
	c.Method = r.U8()
	c.Args = r.BytesVec()
	if err := r.Finish(); err != nil {
		return tx.Call{}, fmt.Errorf("admin.sudo args: %w", err)
	}
	return c, nil
}

type sudo struct{ rt *state.Runtime }

// LookupPrivileged finds a call's method in rt; it must exist and be
// privileged. admin.sudo and governance share it, so that both dispatch
// exactly the same set of calls.
func LookupPrivileged(rt *state.Runtime, c tx.Call) (*state.Method, error) {
	mod := rt.Modules[c.Module]
	if mod == nil || int(c.Method) >= len(mod.Methods) || mod.Methods[c.Method] == nil {
		return nil, fmt.Errorf("unknown call module(%d).method(%d)", c.Module, c.Method)
	}
	m := mod.Methods[c.Method]
	if !m.Privileged {
		return nil, fmt.Errorf("%s.%s is not a privileged method", mod.Name, m.Name)
	}
	return m, nil
}

// lookup finds the inner call's method; it must be privileged.
func (a *sudo) lookup(c tx.Call) (*state.Method, error) {
	m, err := LookupPrivileged(a.rt, c)
	if err != nil {
		return nil, fmt.Errorf("admin.sudo: %w", err)
	}
	return m, nil
}

// check decodes the inner call statically: a known privileged method whose
// arguments pass its own Check.
func (a *sudo) check(args []byte) error {
	c, err := DecodeSudoArgs(args)
	if err != nil {
		return err
	}
	m, err := a.lookup(c)
	if err != nil {
		return err
	}
	return m.Check(c.Args)
}

// exec checks the signer against the admin and dispatches the inner call
// with the root origin.
func (a *sudo) exec(c *state.CallCtx, args []byte) (uint32, string, error) {
	inner, err := DecodeSudoArgs(args)
	if err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	m, err := a.lookup(inner)
	if err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	admin, ok, err := GetAdmin(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeNoAdmin, "this chain has no admin (none at genesis, or removed by admin.remove)", nil
	}
	if c.Signer() != admin {
		return state.CodeNotAdmin, fmt.Sprintf("signer %s is not the admin", c.Signer().Hex()), nil
	}
	return c.Dispatch(m, inner.Args, state.OriginRoot)
}
