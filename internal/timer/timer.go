// Package timer runs the durable timer loop: it reads due timer rows from the store and fires each
// through the engine, which checks the row against the execution's state and consumes it in the
// same transition. Rows are the truth and this loop holds only the rows being fired, so a restart
// (or another node) simply picks up what is due; a row that fails to fire is retried with backoff.
package timer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/store"
)

// FireFunc applies one due timer row.
type FireFunc func(ctx context.Context, t store.Timer) error

// Config wires a Loop.
type Config struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	Fire   FireFunc
	// MaxIdle bounds how long the loop sleeps without looking at the store, so timers created by
	// other nodes fire promptly (default 1 s).
	MaxIdle time.Duration
	// Concurrency bounds timers fired at once (default 16).
	Concurrency int
	// Batch is how many due rows one scan reads (default 256).
	Batch int
}

// Loop is the timer loop of one node.
type Loop struct {
	cfg    Config
	notify chan struct{}

	mu       sync.Mutex
	inFlight map[int64]bool
	retryAt  map[int64]time.Time
}

// New builds a Loop.
func New(cfg Config) *Loop {
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Loop{cfg: cfg, notify: make(chan struct{}, 1), inFlight: map[int64]bool{}, retryAt: map[int64]time.Time{}}
}

// Notify tells the loop a timer was created that may be due before it next looks.
func (l *Loop) Notify(fireAt time.Time) {
	if time.Until(fireAt) > l.cfg.MaxIdle {
		return
	}
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// Run fires due timers until ctx is done.
func (l *Loop) Run(ctx context.Context) error {
	sem := make(chan struct{}, l.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		// Take the clock's change signal before reading it: a jump between the two would
		// otherwise wait for the next idle wake-up.
		changed := l.cfg.Clock.Changed()
		now := l.cfg.Clock.Now()
		rows, err := l.cfg.Store.ListTimers(ctx, now, l.cfg.Batch)
		if err != nil && ctx.Err() == nil {
			l.cfg.Logger.Warn("timer scan failed", "error", err)
		}
		started := 0
		for _, r := range rows {
			if !l.begin(r.ID, now) {
				continue
			}
			started++
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func(r store.Timer) {
				defer wg.Done()
				defer func() { <-sem }()
				fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := l.cfg.Fire(fctx, r)
				cancel()
				l.end(r.ID, err)
				switch {
				case err == nil || ctx.Err() != nil:
				case errors.Is(err, store.ErrConflict):
					// The run kept changing under every retry (other nodes at work on it):
					// expected now and then when several nodes share it; try again shortly.
					l.cfg.Logger.Debug("timer fire conflicted; will retry", "run", r.RunID, "kind", r.Kind, "error", err)
				default:
					l.cfg.Logger.Warn("timer fire failed; will retry", "run", r.RunID, "kind", r.Kind, "error", err)
				}
				select {
				case l.notify <- struct{}{}:
				default:
				}
			}(r)
		}
		if started > 0 && len(rows) == l.cfg.Batch {
			continue // more may be due right now
		}
		wait := l.cfg.MaxIdle
		if next, err := l.cfg.Store.ListTimers(ctx, now.Add(l.cfg.MaxIdle), 1); err == nil && len(next) == 1 {
			// A row already due was not started above: it is in flight or backing off, and its
			// completion notifies the loop, so only a future row shortens the sleep.
			if d := next[0].FireAt.Sub(now); d > 0 && d < wait {
				wait = d
			}
		}
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-l.notify:
			t.Stop()
		case <-changed:
			t.Stop()
		}
	}
}

func (l *Loop) begin(id int64, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight[id] {
		return false
	}
	if len(l.retryAt) > 1024 {
		// Rows that failed once may since have been fired by another node: forget stale backoffs.
		for rid, at := range l.retryAt {
			if time.Since(at) > time.Minute {
				delete(l.retryAt, rid)
			}
		}
	}
	if at, ok := l.retryAt[id]; ok && now.Before(at) {
		return false
	}
	l.inFlight[id] = true
	return true
}

func (l *Loop) end(id int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.inFlight, id)
	if err != nil {
		l.retryAt[id] = time.Now().Add(time.Second)
	} else {
		delete(l.retryAt, id)
	}
}

// SetFire sets the function that applies due timers (the engine is built after the loop, because
// the engine notifies the loop of new timers).
func (l *Loop) SetFire(f FireFunc) { l.cfg.Fire = f }
