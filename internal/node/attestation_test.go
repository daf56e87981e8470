package node

import (
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tee"
)

type countingVerifier struct{ calls int }

func (c *countingVerifier) Verify(quote, _ []byte, rd [64]byte, _ int64) (tee.Measurement, error) {
	c.calls++
	if quote[0] == 0 {
		return tee.Measurement{}, tee.ErrReportDataMismatch
	}
	return tee.NewDevMeasurement([32]byte{quote[0]}), nil
}

// TestVerdictCache checks that a quote is verified once per distinct input
// and that the cached answer, including a mapped error, is the verifier's.
func TestVerdictCache(t *testing.T) {
	cv := &countingVerifier{}
	a := &verifierAdapter{vs: tee.Verifiers{tee.KindDev: cv}, cache: newVerdictCache(2)}
	var rd [64]byte
	m1, err := a.Verify("dev", []byte{1}, nil, rd, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		m, err := a.Verify("dev", []byte{1}, nil, rd, 100)
		if err != nil || string(m) != string(m1) {
			t.Fatalf("cached verdict differs: %x %v", m, err)
		}
	}
	if cv.calls != 1 {
		t.Fatalf("%d verifications, want 1", cv.calls)
	}
	if _, err := a.Verify("dev", []byte{1}, nil, rd, 101); err != nil || cv.calls != 2 {
		t.Fatalf("another block time must verify again (calls %d, err %v)", cv.calls, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := a.Verify("dev", []byte{0}, nil, rd, 100); !errors.Is(err, state.ErrReportDataMismatch) {
			t.Fatalf("mismatch not mapped: %v", err)
		}
	}
	if cv.calls != 3 {
		t.Fatalf("%d verifications, want 3", cv.calls)
	}
	// The cache holds two entries: the first one was evicted.
	if _, err := a.Verify("dev", []byte{1}, nil, rd, 100); err != nil || cv.calls != 4 {
		t.Fatalf("evicted entry not re-verified (calls %d)", cv.calls)
	}
}
