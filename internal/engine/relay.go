package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/duro-dev/duro/internal/store"
)

// The relay carries queries and updates between the nodes sharing one store (PostgreSQL). On one
// node they wait in memory for a poller of that node (query.go, update.go); with several nodes the
// call and the worker's poll may reach different nodes, so the relay puts what waits in database
// records, the only thing every node sees (DESIGN.md, invariant 6):
//
//   - a query is a record of kind "cluster.query": the node that received QueryWorkflow writes it
//     and waits; a poller of the run's task queue on any node takes it (a version-fenced write,
//     so exactly one worker gets it) and hands it to its worker; the answer, on whichever node the
//     worker sends it, is written into the record and read back by the waiting node;
//   - an admitted update is a record of kind "cluster.update" (name "<run ID>/<update ID>") until
//     the worker accepts it (then the history holds it) or rejects it (the rejection is written
//     into the record, which is kept a minute for the waiting callers and retries);
//   - a run that needs a speculative workflow task for its updates has a record of kind
//     "cluster.spec" (name: the run ID), at most one per run: a poller on any node takes it,
//     starts the speculative task in its own memory as on one node, and gives the record back
//     (or deletes it) when the task ends. Nothing of a speculative task is persisted but this
//     record, so the speculative-task design holds (DESIGN.md, "Workflow tasks").
//
// Records are the truth and NOTIFY messages only wake-ups, as for task rows: a node is told
// (coalesced) that a queue has work waiting, that a run's update records changed, or that a
// query was answered. A missed message costs latency, never the request: a waiting caller looks
// at its records every second and announces them again, and a sweeper on every node
// (RunRelay) looks at records due for attention — queries past their caller's deadline, updates
// nobody delivered, speculative tasks held by a node that died.
//
// Work held by a dead node is given back: a record taken by a node whose membership row expired
// (or taken longer ago than its lease) may be taken again. A worker's answer or completion is
// accepted on any node (the task token names the record), so a worker whose node died answers
// through the node it reconnects to.

// Record kinds of the relay (records' namespace is the execution's).
const (
	kindQuery  = "cluster.query"
	kindUpdate = "cluster.update"
	kindSpec   = "cluster.spec"
)

// Relay timings.
const (
	// relayRecheck is how often a waiting caller re-reads its records and re-announces them.
	relayRecheck = time.Second
	// relaySweep is how often the sweeper reads the records due for attention.
	relaySweep = 2 * time.Second
	// rejectedRetention keeps a rejected update's record for the callers still waiting on it
	// and for retries of the same update ID.
	rejectedRetention = time.Minute
	// updateRevisit is when the sweeper looks again at an update nobody has decided.
	updateRevisit = 30 * time.Second
	// specGrace is added to a speculative task's timeout before another node may take it over.
	specGrace = 2 * time.Second
	// hintTTL forgets the run hints nobody resolved (their records were swept elsewhere).
	hintTTL = 10 * time.Minute
	// maxChecked bounds the queues whose last look at the records is remembered.
	maxChecked = 4096
)

// RelayConfig connects an engine to the other nodes sharing its store.
type RelayConfig struct {
	// Node is this node's ID (its membership row's name).
	Node string
	// Alive reports whether a node counts as alive (its membership row has not expired).
	Alive func(node string) bool
	// DeadAfter is how long after a node took a record the record may be taken from it when
	// Alive says it is gone (the membership TTL: a node that took something just after it
	// registered may not be in every view yet).
	DeadAfter time.Duration
	// PublishWork, PublishUpdates and PublishAnswer announce to the other nodes that a queue has
	// a query or speculative task waiting, that a run's update records changed, that a query was
	// answered; the other nodes call RelayWork, RelayUpdates and RelayAnswer.
	PublishWork    func(store.TaskQueueKey)
	PublishUpdates func(runID string)
	PublishAnswer  func(queryID string)
}

// relay is the engine's side of the cluster: hints of where records wait, and wake-ups.
type relay struct {
	cfg RelayConfig

	mu sync.Mutex
	// work counts the hints that a queue has records waiting; seen is the count a poller had
	// read when it last found nothing for the queue (both per queue). wakeGen is bumped when
	// every queue must be looked at (start, a reconnect of the notifier); checked holds the
	// generation each queue was last looked at in.
	work    map[store.TaskQueueKey]uint64
	seen    map[store.TaskQueueKey]uint64
	checked map[store.TaskQueueKey]uint64
	wakeGen uint64
	// runs are the runs that may have update records, with when that was last heard.
	runs map[string]time.Time

	answers *pubsub // query ID: its record has an answer
	updates *pubsub // run ID: its update records changed
}

// EnableRelay makes the engine relay queries and updates through records (a store shared by
// several nodes). It must be called before the engine serves calls.
func (e *Engine) EnableRelay(cfg RelayConfig) {
	if cfg.Alive == nil {
		cfg.Alive = func(string) bool { return true }
	}
	if cfg.DeadAfter <= 0 {
		cfg.DeadAfter = 10 * time.Second
	}
	for _, f := range []*func(string){&cfg.PublishUpdates, &cfg.PublishAnswer} {
		if *f == nil {
			*f = func(string) {}
		}
	}
	if cfg.PublishWork == nil {
		cfg.PublishWork = func(store.TaskQueueKey) {}
	}
	e.relay = &relay{cfg: cfg, work: map[store.TaskQueueKey]uint64{}, seen: map[store.TaskQueueKey]uint64{},
		checked: map[store.TaskQueueKey]uint64{}, wakeGen: 1, runs: map[string]time.Time{},
		answers: newPubsub(), updates: newPubsub()}
}

// RelayWork is told by another node that a query or speculative task waits for a poller of key.
func (e *Engine) RelayWork(key store.TaskQueueKey) {
	if r := e.relay; r != nil {
		r.hintWork(key)
	}
}

// RelayUpdates is told by another node that the update records of a run changed.
func (e *Engine) RelayUpdates(runID string) {
	if r := e.relay; r != nil {
		r.hintRun(runID, e.clock.Now())
		r.updates.publish(runID)
	}
}

// RelayAnswer is told by another node that the answer to a query was recorded.
func (e *Engine) RelayAnswer(queryID string) {
	if r := e.relay; r != nil {
		r.answers.publish(queryID)
	}
}

// RelayWakeAll makes every queue's next poll look at the records once: announcements may have
// been missed (the notifier reconnected).
func (e *Engine) RelayWakeAll() {
	if r := e.relay; r != nil {
		r.mu.Lock()
		r.wakeGen++
		r.mu.Unlock()
	}
}

func (r *relay) hintWork(key store.TaskQueueKey) {
	r.mu.Lock()
	r.work[key]++
	r.mu.Unlock()
}

// wants reports whether a poll of key should read the records, and the hint count to settle
// with if it finds nothing.
func (r *relay) wants(key store.TaskQueueKey) (bool, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.work[key]
	return w > r.seen[key] || r.checked[key] < r.wakeGen, w
}

// settle records that a poll of key found nothing available with hint count w: later polls skip
// the records until a new hint.
func (r *relay) settle(key store.TaskQueueKey, w uint64) {
	r.mu.Lock()
	if r.seen[key] < w {
		r.seen[key] = w
	}
	r.checked[key] = r.wakeGen
	if r.seen[key] == r.work[key] {
		// Nothing to remember but the generation: keep the maps small.
		delete(r.work, key)
		delete(r.seen, key)
	}
	r.mu.Unlock()
}

func (r *relay) hintRun(runID string, now time.Time) {
	r.mu.Lock()
	r.runs[runID] = now
	r.mu.Unlock()
}

func (r *relay) hinted(runID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.runs[runID]
	return ok
}

func (r *relay) unhintRun(runID string) {
	r.mu.Lock()
	delete(r.runs, runID)
	r.mu.Unlock()
}

// gone reports whether a record taken by node at takenAt may be taken from it: the node's
// membership row is gone and the take is older than DeadAfter, or the take's lease has passed.
func (r *relay) gone(node string, takenAt, now time.Time, lease time.Duration) bool {
	if node == r.cfg.Node {
		return lease > 0 && now.After(takenAt.Add(lease))
	}
	if lease > 0 && now.After(takenAt.Add(lease)) {
		return true
	}
	return now.Sub(takenAt) > r.cfg.DeadAfter && !r.cfg.Alive(node)
}

// putDoc writes v as the data of record rec at expectedVersion and returns the new version.
func (e *Engine) putDoc(ctx context.Context, rec store.Record, v any, expectedVersion int64) (int64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode %s record: %w", rec.Kind, err)
	}
	rec.Data = data
	rec.UpdatedAt = e.clock.Now().UTC()
	return e.store.PutRecord(ctx, rec, expectedVersion)
}

// getDoc reads a record and decodes its data into v.
func (e *Engine) getDoc(ctx context.Context, namespace, kind, name string, v any) (*store.Record, error) {
	rec, err := e.store.GetRecord(ctx, namespace, kind, name)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(rec.Data, v); err != nil {
		return nil, fmt.Errorf("decode %s record %q: %w", kind, name, err)
	}
	return rec, nil
}

// loadStored reads a run's mutable state from the store, not the cache: another node may have
// moved it.
func (e *Engine) loadStored(ctx context.Context, k execKey) (*mutableState, error) {
	rec, err := e.store.GetExecution(ctx, k.namespace, k.workflowID, k.runID)
	if err != nil {
		if isNotFound(err) {
			return nil, &Error{Code: CodeNotFound, cause: errExecutionGone,
				Message: fmt.Sprintf("workflow execution not found: workflow ID %q, run ID %q", k.workflowID, k.runID)}
		}
		return nil, unavailable(fmt.Errorf("load execution: %w", err))
	}
	ms, err := decodeState(rec.State)
	if err != nil {
		return nil, internal(err)
	}
	return ms, nil
}

// RunRelay is the relay's sweeper: until ctx ends it looks, every couple of seconds, at the
// records whose time has come (queries past their caller's deadline, updates nobody delivered,
// speculative tasks of a node that died) and deletes, gives back or announces them again. Every
// node runs one; they are fenced by the records' versions.
func (e *Engine) RunRelay(ctx context.Context) error {
	r := e.relay
	if r == nil {
		return nil
	}
	t := time.NewTicker(relaySweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := e.sweepRelay(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("relay: sweep failed", "error", err)
		}
	}
}

func (e *Engine) sweepRelay(ctx context.Context) error {
	now := e.clock.Now().UTC()
	r := e.relay
	r.mu.Lock()
	for run, at := range r.runs {
		if now.Sub(at) > hintTTL {
			delete(r.runs, run)
		}
	}
	if len(r.checked) > maxChecked {
		// Every worker process has a sticky queue of its own: forget them now and then (a queue
		// forgotten costs its next poll one read of the records).
		clear(r.checked)
	}
	r.mu.Unlock()
	var errs []error
	for _, kind := range []string{kindQuery, kindSpec, kindUpdate} {
		due, err := e.store.ListDueRecords(ctx, kind, now, 100)
		if err != nil {
			errs = append(errs, fmt.Errorf("list due %s records: %w", kind, err))
			continue
		}
		for i := range due {
			var err error
			switch kind {
			case kindQuery:
				// Its caller's deadline has passed: nobody waits for it any more.
				err = e.store.DeleteRecord(ctx, due[i].Namespace, kind, due[i].Name, due[i].Version)
			case kindSpec:
				err = e.sweepSpec(ctx, &due[i], now)
			case kindUpdate:
				err = e.sweepUpdate(ctx, &due[i], now)
			}
			if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
				errs = append(errs, fmt.Errorf("%s record %s/%s: %w", kind, due[i].Namespace, due[i].Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// updateName is the record name of an update: run first, so a run's updates list together.
func updateName(runID, updateID string) string { return runID + "/" + updateID }

// listRunRecords returns the update records of a run.
func (e *Engine) listRunRecords(ctx context.Context, k execKey) ([]store.Record, error) {
	prefix := k.runID + "/"
	var out []store.Record
	after := prefix
	for {
		page, err := e.store.ListRecords(ctx, k.namespace, kindUpdate, after, 100)
		if err != nil {
			return nil, fmt.Errorf("list update records of run %s: %w", k.runID, err)
		}
		for _, rec := range page {
			if !strings.HasPrefix(rec.Name, prefix) {
				return out, nil
			}
			out = append(out, rec)
		}
		if len(page) < 100 {
			return out, nil
		}
		after = page[len(page)-1].Name
	}
}
