// Package engine holds Duro's durable core: executions as event-sourced state machines speaking
// Temporal's history events and commands, their mutable state, and the one rule everything obeys —
// every transition is one atomic store transition (DESIGN.md, invariant 1).
//
// A transition runs under the execution's in-node lock: load the mutable state (cache or store),
// apply the change, hand the resulting store.Transition to the group committer, and only after the
// commit update the cache and hand new tasks to pollers. Any error drops the cached state. Across
// nodes, transitions are fenced by the execution's record version: a lost race is store.ErrConflict
// and the transition is retried on fresh state.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/keylock"
	"github.com/duro-dev/duro/internal/store"
)

// Config wires an Engine.
type Config struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// MaxPayloadBytes caps one payload (Temporal's blob size limit).
	MaxPayloadBytes int
	// OnTask is called after commit for every new task row, so matching can hand it to a waiting
	// poller at once.
	OnTask func(*store.Task)
	// SFNTaskToken renders the task token of a Step Functions .waitForTaskToken task (an
	// encoded tasktoken) as the text $$.Task.Token holds; nil uses the bytes as they are.
	SFNTaskToken func(token []byte) string
	// SFNMaxHistoryEvents bounds a Step Functions execution's history (events recorded by the
	// decider); 0 means Step Functions' quota of 25,000. Duro allows more when configured.
	SFNMaxHistoryEvents int
	// OnTimer is called after commit with the fire time of every new timer row.
	OnTimer func(time.Time)
	// OnQuery is called when a query waits for a poller of the queue.
	OnQuery func(store.TaskQueueKey)
	// OnHistory is called after commit with every run whose history grew, so that the other nodes
	// sharing the store can wake their history long polls of it ([Engine.HistoryChanged]).
	OnHistory func(runID string)
	// CacheSize bounds the number of cached mutable states (default 10,000).
	CacheSize int
	// HistoryMaxEvents and HistoryMaxBytes terminate a run whose history grows past them
	// (Temporal's defaults: 51,200 events, 50 MB).
	HistoryMaxEvents int
	HistoryMaxBytes  int
	// HistoryWarnEvents and HistoryWarnBytes make WorkflowTaskStarted suggest continue-as-new
	// (Temporal's defaults: 10,240 events, 10 MB).
	HistoryWarnEvents int
	HistoryWarnBytes  int
}

// Engine applies transitions to executions.
type Engine struct {
	// sfnMachines caches compiled state machine definitions (sfn.go).
	sfnMachines sfnMachines

	cfg   Config
	store store.Store
	clock clock.Clock
	log   *slog.Logger

	commitCh chan *commitReq
	stopped  chan struct{}
	stopOnce sync.Once

	locks   keylock.Table[string] // serialises transitions of one workflow ID inside this node
	cacheMu sync.Mutex
	cache   map[execKey]*cachedState

	history *pubsub
	queries *queryRegistry
	updates *updateRegistry
	relay   *relay // queries and updates across nodes (relay.go); nil on a single-node store
	metrics metrics

	internalWake chan struct{}
	ns           *namespaceCache
	sa           *searchAttrCache // custom search attributes per namespace (visibility.go)
}

type execKey struct {
	namespace, workflowID, runID string
}

type cachedState struct {
	ms      *mutableState
	version int64
}

type commitReq struct {
	t    *store.Transition
	done chan error
}

// New builds an engine; Run must be running for transitions to commit.
func New(cfg Config) *Engine {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10000
	}
	if cfg.HistoryMaxEvents == 0 {
		cfg.HistoryMaxEvents = DefaultHistoryMaxEvents
	}
	if cfg.HistoryMaxBytes == 0 {
		cfg.HistoryMaxBytes = DefaultHistoryMaxBytes
	}
	if cfg.HistoryWarnEvents == 0 {
		cfg.HistoryWarnEvents = DefaultHistoryWarnEvents
	}
	if cfg.HistoryWarnBytes == 0 {
		cfg.HistoryWarnBytes = DefaultHistoryWarnBytes
	}
	if cfg.OnTask == nil {
		cfg.OnTask = func(*store.Task) {}
	}
	if cfg.OnTimer == nil {
		cfg.OnTimer = func(time.Time) {}
	}
	if cfg.OnHistory == nil {
		cfg.OnHistory = func(string) {}
	}
	e := &Engine{
		cfg:      cfg,
		store:    cfg.Store,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		commitCh: make(chan *commitReq, 1024),
		stopped:  make(chan struct{}),
		cache:    map[execKey]*cachedState{},
		history:  newPubsub(),
		queries:  newQueryRegistry(),
		updates:  newUpdateRegistry(),
	}
	e.internalWake = make(chan struct{}, 1)
	e.ns = newNamespaceCache(cfg.Store)
	e.sa = newSearchAttrCache(cfg.Store)
	return e
}

// maxBatch bounds how many transitions share one commit: past 64 savepoints PostgreSQL's
// per-backend subtransaction cache overflows and slows every other session's reads.
const maxBatch = 64

// Run is the group committer: it takes the transitions waiting to commit, commits them together
// (each in its own savepoint) and tells each waiter its own outcome. It runs under its own context,
// never a request's: one client giving up must not roll back another's transition.
func (e *Engine) Run(ctx context.Context) error {
	defer e.stopOnce.Do(func() { close(e.stopped) })
	internalDone := make(chan struct{})
	go func() { defer close(internalDone); e.runInternal(ctx) }()
	for {
		var first *commitReq
		select {
		case <-ctx.Done():
			// Keep committing until the outbox loop has stopped: its in-flight transitions need us.
			for {
				select {
				case r := <-e.commitCh:
					e.commitBatch([]*commitReq{r})
				case <-internalDone:
					e.drain()
					return nil
				}
			}
		case first = <-e.commitCh:
		}
		batch := []*commitReq{first}
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-e.commitCh:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		e.commitBatch(batch)
	}
}

// drain commits what is already queued at shutdown, so no waiter is left hanging.
func (e *Engine) drain() {
	for {
		select {
		case r := <-e.commitCh:
			e.commitBatch([]*commitReq{r})
		default:
			return
		}
	}
}

func (e *Engine) commitBatch(batch []*commitReq) {
	ts := make([]*store.Transition, len(batch))
	for i, r := range batch {
		ts[i] = r.t
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	errs, err := e.store.Apply(ctx, ts)
	cancel()
	e.metrics.commits.Add(1)
	if err != nil {
		e.metrics.commitFails.Add(1)
	}
	for i, r := range batch {
		if err != nil {
			r.done <- fmt.Errorf("commit: %w", err)
			continue
		}
		r.done <- errs[i]
	}
}

// errStopped is returned when the engine is shutting down.
var errStopped = errors.New("engine stopped")

func (e *Engine) commit(t *store.Transition) error {
	r := &commitReq{t: t, done: make(chan error, 1)}
	select {
	case e.commitCh <- r:
	case <-e.stopped:
		return unavailable(errStopped)
	}
	// Wait for the outcome whatever the caller's context says: the commit may land, and the cache
	// must know either way.
	select {
	case err := <-r.done:
		return err
	case <-e.stopped:
		select {
		case err := <-r.done:
			return err
		default:
			return unavailable(errStopped) // the committer is gone: this transition never committed
		}
	}
}

func lockKey(namespace, workflowID string) string { return namespace + "\x00" + workflowID }

func (e *Engine) cached(k execKey) (*cachedState, bool) {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	c, ok := e.cache[k]
	return c, ok
}

func (e *Engine) putCache(k execKey, c *cachedState) {
	e.cacheMu.Lock()
	defer e.cacheMu.Unlock()
	if len(e.cache) >= e.cfg.CacheSize {
		for victim := range e.cache { // map order is random: a cheap random eviction
			delete(e.cache, victim)
			break
		}
	}
	e.cache[k] = c
}

func (e *Engine) dropCache(k execKey) {
	e.cacheMu.Lock()
	delete(e.cache, k)
	e.cacheMu.Unlock()
}

// load returns the run's mutable state and version, from the cache or the store.
func (e *Engine) load(ctx context.Context, k execKey) (*mutableState, int64, error) {
	if c, ok := e.cached(k); ok {
		return c.ms, c.version, nil
	}
	rec, err := e.store.GetExecution(ctx, k.namespace, k.workflowID, k.runID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, 0, &Error{Code: CodeNotFound, cause: errExecutionGone,
				Message: fmt.Sprintf("workflow execution not found: workflow ID %q, run ID %q", k.workflowID, k.runID)}
		}
		return nil, 0, unavailable(fmt.Errorf("load execution: %w", err))
	}
	ms, err := decodeState(rec.State)
	if err != nil {
		return nil, 0, internal(err)
	}
	return ms, rec.Version, nil
}

// maxConflictRetries bounds retries of a transition that lost a race with another node.
const maxConflictRetries = 8

// update runs fn as one transition of the run k under the workflow's lock, retrying on conflict.
// fn mutates the state it is given; on any error the cached copy is dropped, so a half-applied
// change never survives. A transition that consumes a task or timer row (a poller starting a task,
// a timer firing, an outbox effect) stops at once when another transition consumed the row first
// (store.ErrConsumed: every retry would fail again, and the caller moves on); any other conflict
// (the execution changed meanwhile, on this node or another) is retried, because the row is still
// there and still owed. A conflict that outlasts every retry is answered as busy.
func (e *Engine) update(ctx context.Context, k execKey, fn func(t *txn) error) error {
	unlock := e.locks.Lock(lockKey(k.namespace, k.workflowID))
	defer unlock()
	return e.updateLocked(ctx, k, fn)
}

// updateLocked is update for a caller that holds the workflow's lock.
func (e *Engine) updateLocked(ctx context.Context, k execKey, fn func(t *txn) error) error {
	for try := 0; ; try++ {
		if err := ctx.Err(); err != nil {
			return canceled(err)
		}
		ms, version, err := e.load(ctx, k)
		if err != nil {
			return err
		}
		t := e.newTxn(ms, version)
		t.ctx = ctx
		if err := fn(t); err != nil {
			e.dropCache(k)
			if errors.Is(err, errNoChange) {
				return nil
			}
			return err
		}
		err = e.commitTxn(t)
		if err == nil {
			return nil
		}
		e.dropCache(k)
		if errors.Is(err, store.ErrConflict) {
			e.metrics.conflicts.Add(1)
			if try < maxConflictRetries && !errors.Is(err, store.ErrConsumed) {
				continue
			}
		}
		return busy(err)
	}
}

// errExecutionGone is the cause of the NotFound for a run that does not exist (or was deleted).
var errExecutionGone = errors.New("execution not found")

// HistoryChanged wakes this node's history long polls of runID: another node appended to it. The
// polls re-read the store, so a spurious call costs one read.
func (e *Engine) HistoryChanged(runID string) { e.history.publish(runID) }

// HistoryWakeAll wakes every history long poll of this node: the other nodes' announcements may
// have been missed (the notifier reconnected after a database restart, say).
func (e *Engine) HistoryWakeAll() { e.history.publishAll() }

// errNoChange lets a transition function decide that nothing needs writing.
var errNoChange = errors.New("no change")

// commitTxn commits t and, only after the commit, updates the cache and runs its hooks.
func (e *Engine) commitTxn(t *txn) error {
	if t.ms.SFN != nil {
		if err := t.sfnDrive(); err != nil {
			return err
		}
	}
	st, err := t.build()
	if err != nil {
		return internal(err)
	}
	if err := e.commit(st); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists) {
			return err
		}
		return unavailable(err)
	}
	e.committed(t, st)
	return nil
}

// committed runs a committed transition's after-commit work: cache, hand-offs, wake-ups.
func (e *Engine) committed(t *txn, st *store.Transition) {
	e.metrics.transitions.Add(1)
	ms := t.ms
	e.putCache(execKey{ms.Namespace, ms.WorkflowID, ms.RunID}, &cachedState{ms: ms, version: st.Execution.Version})
	for _, task := range st.NewTasks {
		if task.Kind == store.TaskInternal {
			e.wakeInternal()
			continue
		}
		e.cfg.OnTask(task)
	}
	for _, tm := range st.NewTimers {
		e.cfg.OnTimer(tm.FireAt)
	}
	if len(st.Events) > 0 {
		e.history.publish(ms.RunID)
		e.cfg.OnHistory(ms.RunID)
	}
	for _, f := range t.after {
		f()
	}
	for i, l := range t.linked {
		e.committed(l, st.Linked[i])
	}
}
