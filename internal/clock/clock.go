// Package clock makes time an input (DESIGN.md, invariant 7): the engine, the timer loop and matching
// read time only through a [Clock], so tests can move it.
//
// The manual clock is an offset over real time rather than a frozen instant: end-to-end tests drive
// real SDK workers whose own deadlines run on real time, so the server's time must keep flowing, and
// a test jumps it forward (Advance) to fire a timer that is days away.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time and says when it has moved.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Changed returns a channel closed the next time the clock jumps (Advance on a manual clock).
	// A real clock never jumps; its channel is never closed.
	Changed() <-chan struct{}
}

// Real is the wall clock.
type Real struct{}

var never = make(chan struct{})

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Changed returns a channel that is never closed.
func (Real) Changed() <-chan struct{} { return never }

// Manual is real time plus an offset that tests move forward.
type Manual struct {
	mu      sync.Mutex
	offset  time.Duration
	changed chan struct{}
}

// NewManual returns a manual clock that starts at real time.
func NewManual() *Manual { return &Manual{changed: make(chan struct{})} }

// Now returns real time plus the accumulated offset.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return time.Now().Add(m.offset)
}

// Advance moves the clock forward by d and wakes everything waiting on Changed.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.offset += d
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
}

// Changed returns a channel closed by the next Advance.
func (m *Manual) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}
