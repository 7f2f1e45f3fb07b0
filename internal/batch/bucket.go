package batch

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/duro-dev/duro/internal/clock"
)

// bucket is a token bucket on the node's clock: it holds at most burst tokens, gains rate tokens a
// second, and each operation of a job takes one. Its arithmetic ([bucket.take]) is pure so that
// tests can drive it with any instants; [bucket.wait] adds the sleeping.
type bucket struct {
	rate  float64 // tokens per second, > 0
	burst float64 // capacity, >= 1

	mu     sync.Mutex
	tokens float64
	last   time.Time // when tokens was computed; zero before the first take
}

// newBucket returns a full bucket of rate tokens a second. Its capacity is one second's worth
// (at least one token), as Temporal's batcher limiter allows.
func newBucket(rate float64) *bucket {
	burst := math.Max(1, math.Floor(rate))
	return &bucket{rate: rate, burst: burst, tokens: burst}
}

// take takes one token at instant now and returns how long the caller must wait before using it:
// 0 if a token was there, else the time the debt takes to refill. A clock that moves backwards
// refills nothing.
func (b *bucket) take(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(math.Ceil(-b.tokens / b.rate * float64(time.Second)))
}

// wait takes a token and sleeps until it may be used, on clk: a manual clock that jumps ahead
// ends the wait early, as the jump refilled the bucket. It returns ctx's error if ctx ends first
// (the token is spent all the same; the caller is stopping).
func (b *bucket) wait(ctx context.Context, clk clock.Clock) error {
	d := b.take(clk.Now())
	if d <= 0 {
		return ctx.Err()
	}
	deadline := clk.Now().Add(d)
	for {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-clk.Changed():
			t.Stop()
		}
		if d = deadline.Sub(clk.Now()); d <= 0 {
			return nil
		}
	}
}
