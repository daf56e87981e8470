package state

import (
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/msg"
)

// TestDispatch: the kernel's rules for dispatching a method from inside a
// call — privileged methods need the root origin, arguments are checked,
// a rejection code from the inner method cannot escape as such, and only a
// successful dispatch merges its writes and output.
func TestDispatch(t *testing.T) {
	okCheck := func([]byte) error { return nil }
	write := func(code uint32) func(c *CallCtx, _ []byte) (uint32, string, error) {
		return func(c *CallCtx, _ []byte) (uint32, string, error) {
			c.Overlay().Set([]byte("k"), []byte("v"))
			c.Emit(msg.Message{Topic: []byte("t")})
			c.AddEvent(Event{Type: "e"})
			if !c.IsRoot() && code == CodeOK {
				return CodeNotRoot, "", nil
			}
			return code, "", nil
		}
	}
	for _, tc := range []struct {
		name   string
		meth   *Method
		origin CallOrigin
		want   uint32
	}{
		{"privileged as root", &Method{Name: "p", Privileged: true, Check: okCheck, Exec: write(CodeOK)}, OriginRoot, CodeOK},
		{"privileged as signer", &Method{Name: "p", Privileged: true, Check: okCheck, Exec: write(CodeOK)}, OriginSigned, CodeNotRoot},
		{"bad args", &Method{Name: "p", Privileged: true, Check: func([]byte) error { return errors.New("no") }, Exec: write(CodeOK)}, OriginRoot, CodeBadDispatchArgs},
		{"inner failure", &Method{Name: "p", Check: okCheck, Exec: write(CodeInsufficientBalance)}, OriginRoot, CodeInsufficientBalance},
		{"inner rejection code", &Method{Name: "p", Check: okCheck, Exec: write(CodeBadArgs)}, OriginRoot, CodeBadDispatchArgs},
	} {
		c := &CallCtx{ov: NewOverlay(emptyStore{})}
		code, _, err := c.Dispatch(tc.meth, nil, tc.origin)
		if err != nil || code != tc.want {
			t.Fatalf("%s: %s %v", tc.name, CodeName(code), err)
		}
		merged := c.ov.Len() == 1 && len(c.msgs) == 1 && len(c.events) == 1
		if merged != (code == CodeOK) {
			t.Fatalf("%s: merged %v with %s", tc.name, merged, CodeName(code))
		}
		if c.IsRoot() {
			t.Fatal("the dispatcher's own origin changed")
		}
	}
}
