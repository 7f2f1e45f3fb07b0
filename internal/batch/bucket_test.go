package batch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBucketTake(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	for _, tc := range []struct {
		name  string
		rate  float64
		takes []time.Time
		waits []time.Duration
	}{
		{
			name: "a second's burst, then one token every 1/rate", rate: 2,
			takes: []time.Time{at(0), at(0), at(0), at(0)},
			waits: []time.Duration{0, 0, 500 * time.Millisecond, time.Second},
		},
		{
			name: "idle time refills, up to the burst", rate: 2,
			takes: []time.Time{at(0), at(0), at(10 * time.Second), at(10 * time.Second), at(10 * time.Second)},
			waits: []time.Duration{0, 0, 0, 0, 500 * time.Millisecond},
		},
		{
			name: "a rate under one a second still holds one token", rate: 0.5,
			takes: []time.Time{at(0), at(0), at(time.Second)},
			waits: []time.Duration{0, 2 * time.Second, 3 * time.Second},
		},
		{
			name: "paying the debt as it falls due", rate: 4,
			takes: []time.Time{at(0), at(0), at(0), at(0), at(0), at(250 * time.Millisecond), at(500 * time.Millisecond)},
			waits: []time.Duration{0, 0, 0, 0, 250 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond},
		},
		{
			name: "a clock that moves back refills nothing", rate: 1,
			takes: []time.Time{at(time.Second), at(0)},
			waits: []time.Duration{0, time.Second},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBucket(tc.rate)
			for i, now := range tc.takes {
				require.Equal(t, tc.waits[i], b.take(now), "take %d", i)
			}
		})
	}
}
