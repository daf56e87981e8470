package phatwire

import (
	"reflect"
	"testing"

	"github.com/cella-network/cella/internal/scale"
)

func TestCommandOutcomeRoundTrip(t *testing.T) {
	o := &CommandOutcome{Height: 7, Contract: [32]byte{1}, Flags: 1, Output: []byte{2, 3}, Error: "", GasUsed: 99,
		Events: []OutcomeEvent{{Contract: [32]byte{4}, Topics: [][32]byte{{5}, {6}}, Data: []byte{7}}}}
	b := scale.Encode(o)
	got, err := DecodeCommandOutcome(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) || !got.Reverted() {
		t.Fatalf("round trip: %+v", got)
	}
	for _, bad := range [][]byte{b[:len(b)-1], append(append([]byte{}, b...), 0), make([]byte, MaxOutcomeSize+1)} {
		if _, err := DecodeCommandOutcome(bad); err == nil {
			t.Errorf("%d bytes decoded", len(bad))
		}
	}
}
