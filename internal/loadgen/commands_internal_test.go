package loadgen

import (
	"testing"
	"time"
)

func TestHeightClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	c := newHeightClock(10)
	c.saw(9, t0)  // behind the start: nothing
	c.saw(12, t0) // 11 and 12 first seen at t0
	c.saw(12, t0.Add(time.Second))
	c.saw(13, t0.Add(2*time.Second))
	for _, tc := range []struct {
		h    int64
		ok   bool
		want time.Time
	}{
		{10, false, time.Time{}}, {11, true, t0}, {12, true, t0}, {13, true, t0.Add(2 * time.Second)}, {14, false, time.Time{}},
	} {
		got, ok := c.when(tc.h)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("height %d: %v %v, want %v %v", tc.h, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLatencyOf(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	l := latencyOf(lat, 20)
	if l.P50ms != 50 || l.P99ms != 99 || l.P50Blocks != 2.5 || l.P99Blocks != 4.95 {
		t.Fatalf("%+v", l)
	}
	if l := latencyOf(nil, 0); l != (Latency{}) {
		t.Fatalf("empty: %+v", l)
	}
}
