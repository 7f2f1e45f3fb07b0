// Package matching pairs tasks with long-polling workers.
//
// The store is the truth: every task is a row inserted by the transition that created it, and a
// poller claims a row by starting it in a transition that consumes the row (fenced against other
// pollers and other nodes by the store). This package only makes that fast: a poller that waits is
// handed a fresh row straight after its commit (no backlog read), pollers are woken when a queue
// may have work (a query arrived, another node signalled), and a poller reads the backlog through
// [store.Store.ClaimTasks], which holds the row it returns for a short lease, so that the pollers
// of other nodes (woken by the same signal) take other rows instead of racing for the same one.
// The row stays a hint: the engine checks it against the execution and consumes it when it starts
// the task, and a row held by a poller that died shows again when the lease ends (waiting pollers
// look at the backlog once per lease, as nothing announces that). A poller whose connection goes
// away stops waiting at once, so no task is handed to a dead poller. A poll rides out a backlog
// read that fails (the database restarting) by reading again shortly, and Drain ends every poll
// with an empty answer when the node shuts down, letting a claim in progress return its task.
package matching

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/store"
)

// StartFunc claims task for a poller; it returns a stale-task error (checked with IsStale) when the
// row no longer matches its execution, in which case the poller moves on.
type StartFunc func(ctx context.Context, task *store.Task) (any, error)

// Config wires a Matcher.
type Config struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// IsStale reports whether a StartFunc error means "try the next task".
	IsStale func(error) bool
	// ClaimLease is how long a backlog row a poller claimed stays hidden from other pollers while
	// it is started (default 5 s): long enough to cover a start on a loaded database, short
	// enough that a row held by a node that died is not delayed for long.
	ClaimLease time.Duration
}

// Matcher holds the waiting pollers of every queue on this node.
type Matcher struct {
	cfg    Config
	mu     sync.Mutex
	queues map[store.TaskQueueKey]*queue
	// draining is closed by Drain: the node is shutting down, so polls end with empty answers
	// instead of waiting (or claiming anything more).
	draining  chan struct{}
	drainOnce sync.Once
	lastSweep time.Time
}

// pollerTTL is how long a poller's last poll keeps it listed (DescribeTaskQueue) and its queue's
// entry alive. Every worker process has its own sticky queue, so without forgetting, a node would
// keep an entry for every worker that ever polled it.
const pollerTTL = 5 * time.Minute

// sweep forgets pollers not seen for pollerTTL and the idle queues they leave. Called with m.mu
// held, at most once a minute.
func (m *Matcher) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < time.Minute {
		return
	}
	m.lastSweep = now
	for key, q := range m.queues {
		for id, at := range q.pollers {
			if now.Sub(at) > pollerTTL {
				delete(q.pollers, id)
			}
		}
		if len(q.waiters) == 0 && len(q.inFlight) == 0 && len(q.pollers) == 0 {
			delete(m.queues, key)
		}
	}
}

type queue struct {
	waiters []*waiter
	// inFlight holds the rows being started by a poller of this node, and done the IDs of rows
	// this node consumed lately (started, or dropped as stale). A row handed over straight after
	// its commit is not held in the store, so a backlog claim may return it while it is being
	// started, or return it just before that start's commit deletes it: without these, the
	// claim's start would lose the DELETE, which costs the engine a conflict and its retry.
	inFlight map[int64]bool
	pollers  map[string]time.Time
	done     map[int64]struct{}
	doneRing []int64
	doneNext int
}

// doneWindow bounds the consumed row IDs a queue remembers.
const doneWindow = 4096

func (q *queue) markDone(id int64) {
	if len(q.doneRing) < doneWindow {
		q.doneRing = append(q.doneRing, id)
	} else {
		delete(q.done, q.doneRing[q.doneNext])
		q.doneRing[q.doneNext] = id
		q.doneNext = (q.doneNext + 1) % doneWindow
	}
	q.done[id] = struct{}{}
}

type waiter struct {
	offer chan *store.Task
	wake  chan struct{}
}

// New builds a Matcher.
func New(cfg Config) *Matcher {
	if cfg.ClaimLease <= 0 {
		cfg.ClaimLease = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Matcher{cfg: cfg, queues: map[store.TaskQueueKey]*queue{}, draining: make(chan struct{})}
}

func (m *Matcher) q(key store.TaskQueueKey) *queue {
	q := m.queues[key]
	if q == nil {
		q = &queue{inFlight: map[int64]bool{}, pollers: map[string]time.Time{}, done: map[int64]struct{}{}}
		m.queues[key] = q
	}
	return q
}

// Offer hands a just-committed task row to a waiting poller of its queue, if there is one, and
// reports whether it did. Without a waiter the row simply stays in the backlog.
func (m *Matcher) Offer(t *store.Task) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[t.TaskQueueKey]
	if q == nil {
		return false
	}
	for _, w := range q.waiters {
		select {
		case w.offer <- t:
			return true
		default: // this waiter already holds an offer
		}
	}
	return false
}

// Drain ends every long poll of this node with an empty answer, now and for every later poll,
// without claiming anything more: the node is shutting down. A poll already claiming a task
// finishes its claim and returns the task, so nothing claimed is left unreturned.
func (m *Matcher) Drain() {
	m.drainOnce.Do(func() { close(m.draining) })
}

// Wake tells every poller waiting on the queue to look again (a query arrived, or another node
// added a task).
func (m *Matcher) Wake(key store.TaskQueueKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[key]
	if q == nil {
		return
	}
	for _, w := range q.waiters {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// WakeAll wakes every waiting poller (after a reconnect to the database, for example).
func (m *Matcher) WakeAll() {
	m.mu.Lock()
	keys := make([]store.TaskQueueKey, 0, len(m.queues))
	for k := range m.queues {
		keys = append(keys, k)
	}
	m.mu.Unlock()
	for _, k := range keys {
		m.Wake(k)
	}
}

// Pollers lists the identities that polled a queue recently, with their last poll time.
func (m *Matcher) Pollers(key store.TaskQueueKey) map[string]time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]time.Time{}
	if q := m.queues[key]; q != nil {
		for id, at := range q.pollers {
			out[id] = at
		}
	}
	return out
}

// Poll waits up to timeout for a task of the queue and starts it with start. extra, if set, is
// consulted first on every wake-up (queries for workflow queues). It returns nil, nil when the
// long poll expires or the poller goes away.
func (m *Matcher) Poll(ctx context.Context, key store.TaskQueueKey, identity string, timeout time.Duration, start StartFunc, extra func(ctx context.Context) (any, error)) (any, error) {
	w := &waiter{offer: make(chan *store.Task, 1), wake: make(chan struct{}, 1)}
	m.mu.Lock()
	now := time.Now()
	m.sweep(now)
	q := m.q(key)
	q.waiters = append(q.waiters, w)
	q.pollers[identity] = now
	m.mu.Unlock()
	defer m.leave(key, w)

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	// A row held by a claim that did not start it (its poller's node died, or the start failed)
	// shows again when its lease ends, and nothing announces that: look at the backlog again
	// after every lease period spent waiting, so such a row waits one lease, not a whole poll.
	recheck := time.NewTimer(m.cfg.ClaimLease)
	defer recheck.Stop()
	var retry <-chan time.Time
	for {
		select {
		case <-m.draining:
			return nil, nil
		default:
		}
		if extra != nil {
			if res, err := extra(ctx); res != nil || err != nil {
				return res, err
			}
		}
		// A task offered while we were busy comes first.
		select {
		case t := <-w.offer:
			if res, err := m.claim(ctx, key, t, start); res != nil || err != nil {
				return res, err
			}
			continue
		default:
		}
		res, err := m.backlog(ctx, key, start)
		recheck.Reset(m.cfg.ClaimLease)
		retry = nil
		if errors.Is(err, errBacklogRead) {
			// The store cannot be read right now (a database restart, a dropped connection):
			// keep the poll open and look again shortly, so workers ride out the outage.
			m.cfg.Logger.Debug("backlog read failed; retrying", "queue", key.Name, "error", err)
			retry = time.After(backlogRetry)
			err = nil
		}
		if res != nil || err != nil {
			return res, err
		}
		select {
		case t := <-w.offer:
			if res, err := m.claim(ctx, key, t, start); res != nil || err != nil {
				return res, err
			}
		case <-w.wake:
		case <-retry:
		case <-recheck.C:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		case <-m.draining:
			return nil, nil
		}
	}
}

// leave removes the waiter; an offer it received but did not use goes to another waiter.
func (m *Matcher) leave(key store.TaskQueueKey, w *waiter) {
	m.mu.Lock()
	q := m.queues[key]
	for i, x := range q.waiters {
		if x == w {
			q.waiters = append(q.waiters[:i:i], q.waiters[i+1:]...)
			break
		}
	}
	if len(q.waiters) == 0 && len(q.inFlight) == 0 && len(q.pollers) == 0 {
		delete(m.queues, key)
	}
	m.mu.Unlock()
	select {
	case t := <-w.offer:
		m.Offer(t)
	default:
	}
}

// backlog claims the queue's oldest free row and starts it, row after row while they turn out
// stale, until one starts or the backlog has nothing left for this poller. It claims one row at a
// time: a poll hands out one task, and a row claimed beyond it would stay hidden from every other
// poller until its lease ended.
func (m *Matcher) backlog(ctx context.Context, key store.TaskQueueKey, start StartFunc) (any, error) {
	for {
		select {
		case <-m.draining:
			return nil, nil
		default:
		}
		rows, err := m.cfg.Store.ClaimTasks(ctx, key, m.cfg.Clock.Now(), m.cfg.ClaimLease, 1)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: %w", errBacklogRead, err)
		}
		if len(rows) == 0 {
			return nil, nil
		}
		res, err := m.claim(ctx, key, &rows[0], start)
		if res != nil || err != nil {
			return res, err
		}
	}
}

// errBacklogRead marks a failed backlog read, which a poll waits out rather than returns.
var errBacklogRead = errors.New("read backlog")

// backlogRetry is how soon a poll re-reads a backlog it could not read.
const backlogRetry = 500 * time.Millisecond

// claim starts one row unless another poller of this node is already claiming it.
func (m *Matcher) claim(ctx context.Context, key store.TaskQueueKey, t *store.Task, start StartFunc) (any, error) {
	m.mu.Lock()
	q := m.q(key)
	_, done := q.done[t.ID]
	if q.inFlight[t.ID] || done {
		m.mu.Unlock()
		return nil, nil
	}
	q.inFlight[t.ID] = true
	m.mu.Unlock()
	consumed := false
	defer func() {
		m.mu.Lock()
		delete(q.inFlight, t.ID)
		if consumed {
			q.markDone(t.ID)
		}
		m.mu.Unlock()
	}()
	res, err := start(ctx, t)
	consumed = err == nil || (m.cfg.IsStale != nil && m.cfg.IsStale(err))
	if err != nil {
		if m.cfg.IsStale != nil && m.cfg.IsStale(err) {
			return nil, nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, err
	}
	return res, nil
}
