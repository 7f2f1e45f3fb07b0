package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/visibility"
)

// Run is the loop of this node: every tick (and at once after a Start here) it takes the jobs
// that are due — new, released by a stopping node, or whose owner's lease ran out — claims each
// with a compare-and-set of its record and works through it in a goroutine; it also deletes
// finished jobs whose retention has passed. When ctx ends it stops its jobs, releases them for
// the next node (or the next start of this one) and returns.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(m.cfg.Tick)
	defer t.Stop()
	for {
		m.scan(ctx, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-m.wake:
		case <-m.clock.Changed():
		}
	}
}

// scan claims the due jobs.
func (m *Manager) scan(ctx context.Context, wg *sync.WaitGroup) {
	due, err := m.st.ListDueRecords(ctx, Kind, m.now(), 32)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("batch: list due jobs", "err", err)
		}
		return
	}
	for i := range due {
		r := due[i]
		key := jobKey{r.Namespace, r.Name}
		m.mu.Lock()
		_, busy := m.active[key]
		m.mu.Unlock()
		if busy {
			continue // ours, and working: its next checkpoint renews the lease
		}
		rec, req, err := decode(&r)
		if err != nil {
			m.log.Error("batch: unreadable job", "namespace", r.Namespace, "job", r.Name, "err", err)
			continue
		}
		if !rec.running() {
			// Its retention has passed.
			if err := m.st.DeleteRecord(ctx, r.Namespace, Kind, r.Name, r.Version); err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
				m.log.Warn("batch: delete expired job", "namespace", r.Namespace, "job", r.Name, "err", err)
			}
			continue
		}
		rec.Owner = m.cfg.NodeID
		if err := m.put(ctx, &r, rec, m.now().Add(m.cfg.Lease)); err != nil {
			if !errors.Is(err, store.ErrConflict) && ctx.Err() == nil {
				m.log.Warn("batch: claim job", "namespace", r.Namespace, "job", r.Name, "err", err)
			}
			continue // another node claimed it, or it was stopped
		}
		jctx, cancel := context.WithCancel(ctx)
		m.mu.Lock()
		m.active[key] = cancel
		m.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				m.mu.Lock()
				delete(m.active, key)
				m.mu.Unlock()
				cancel()
			}()
			w := &worker{m: m, r: &r, rec: rec, req: req}
			w.run(jctx)
		}()
	}
}

// worker works through one claimed job.
type worker struct {
	m   *Manager
	r   *store.Record // the job's record at the version this worker last wrote
	rec *record
	req *workflowservice.StartBatchOperationRequest

	filter  store.ExecutionFilter // the listing of a query job
	targets []target              // the executions of a list job
	bucket  *bucket
}

// target is one execution a job applies to.
type target struct {
	workflowID, runID string
	startTime         time.Time
}

// errLost means the job's record moved under the worker: it was stopped, or another node took it
// over after this node's lease ran out. Either way this worker has nothing more to do.
var errLost = errors.New("batch job taken over or stopped")

// run processes pages until the job is done, lost or ctx ends.
func (w *worker) run(ctx context.Context) {
	m := w.m
	log := m.log.With("namespace", w.r.Namespace, "job", w.r.Name)
	w.bucket = newBucket(w.rec.Rate)
	typ := enumspb.BatchOperationType(w.rec.Type)
	if w.req.GetVisibilityQuery() != "" {
		f, err := m.filter(ctx, w.req, typ, w.rec.StartTime, true)
		if err != nil {
			w.stopOnError(ctx, log, err)
			return
		}
		w.filter = f
	} else {
		for _, ex := range targets(w.req) {
			w.targets = append(w.targets, target{workflowID: ex.GetWorkflowId(), runID: ex.GetRunId()})
		}
	}
	for {
		page, next, err := w.page(ctx)
		if err != nil {
			w.stopOnError(ctx, log, err)
			return
		}
		if len(page) == 0 {
			w.finish(ctx, log)
			return
		}
		done, failed, ok := w.apply(ctx, page)
		if !ok {
			w.release(log) // stopping or stopped: redo this page from its start later
			return
		}
		w.rec.Done += done
		w.rec.Failed += failed
		w.rec.Cursor = next
		if err := w.checkpoint(ctx); err != nil {
			if !errors.Is(err, errLost) {
				if ctx.Err() == nil {
					log.Warn("batch: checkpoint", "err", err)
				}
				w.release(log) // with this page counted: it was done whole
			}
			return
		}
	}
}

// pageSize keeps one page of work within a third of the lease at the job's rate, so that the
// checkpoint after it renews the lease in time.
func (w *worker) pageSize() int {
	n := int(w.rec.Rate * w.m.cfg.Lease.Seconds() / 3)
	return max(1, min(n, w.m.cfg.PageSize))
}

// page returns the next executions after the cursor and the cursor after them.
func (w *worker) page(ctx context.Context) ([]target, position, error) {
	size := w.pageSize()
	if w.req.GetVisibilityQuery() == "" {
		from := w.rec.Cursor.Index
		if from >= len(w.targets) {
			return nil, w.rec.Cursor, nil
		}
		to := min(from+size, len(w.targets))
		return w.targets[from:to], position{Index: to}, nil
	}
	f := w.filter
	f.PageSize = size
	if c := w.rec.Cursor; c.RunID != "" {
		f.After = &store.ListPosition{StartTime: c.StartTime, RunID: c.RunID}
	} else {
		// Executions started after the job sort first: the listing starts below them, so a
		// job never touches what started after it (the runs a reset job creates among them).
		f.After = &store.ListPosition{StartTime: w.rec.StartTime.Add(time.Microsecond)}
	}
	infos, _, err := w.m.e.ListWorkflows(ctx, f)
	if err != nil {
		return nil, position{}, err
	}
	page := make([]target, len(infos))
	for i, info := range infos {
		page[i] = target{workflowID: info.GetExecution().GetWorkflowId(), runID: info.GetExecution().GetRunId(), startTime: info.GetStartTime().AsTime()}
	}
	if len(page) == 0 {
		return nil, w.rec.Cursor, nil
	}
	last := page[len(page)-1]
	return page, position{StartTime: last.startTime, RunID: last.runID}, nil
}

// apply runs the job's operation on every execution of page, at most Concurrency at once and
// each after a token of the job's bucket, and counts the outcomes. ok is false if ctx ended
// first: the page's outcomes are then not counted, and the page is done again when the job
// resumes — every operation is idempotent, so nothing is applied twice.
func (w *worker) apply(ctx context.Context, page []target) (done, failed int64, ok bool) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := 0
	n := min(w.m.cfg.Concurrency, len(page))
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= len(page) || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				t := page[next]
				next++
				mu.Unlock()
				if w.bucket.wait(ctx, w.m.clock) != nil {
					return
				}
				res := w.m.applyOne(ctx, w.r, w.req, t)
				mu.Lock()
				switch res {
				case outcomeDone:
					done++
				case outcomeFailed:
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return done, failed, ctx.Err() == nil
}

// checkpoint writes the counters and the cursor, and renews the lease.
func (w *worker) checkpoint(ctx context.Context) error {
	m := w.m
	err := m.put(ctx, w.r, w.rec, m.now().Add(m.cfg.Lease))
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return errLost
	}
	return err
}

// finish marks the job completed: every execution it applies to has been dealt with.
func (w *worker) finish(ctx context.Context, log *slog.Logger) {
	m := w.m
	now := m.now()
	done := *w.rec
	done.State = int32(enumspb.BATCH_OPERATION_STATE_COMPLETED)
	done.CloseTime, done.Owner = now, ""
	done.Total = done.Done + done.Failed
	if err := m.put(ctx, w.r, &done, m.expiry(ctx, w.r.Namespace, now)); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return // stopped, or taken over
		}
		if ctx.Err() == nil {
			log.Warn("batch: complete job", "err", err)
		}
		w.release(log) // still running: whoever resumes it finds nothing left and completes it
		return
	}
	log.Info("batch operation completed", "done", done.Done, "failed", done.Failed)
}

// stopOnError ends the work on the job after err: a request that can no longer be served (its
// query names an attribute since removed, its namespace is gone) fails the job, as Temporal's
// batcher fails on InvalidArgument; a store outage or shutdown only releases it, to be taken up
// again.
func (w *worker) stopOnError(ctx context.Context, log *slog.Logger, err error) {
	if ctx.Err() != nil {
		w.release(log) // stopping: resume at once elsewhere, or at the next start
		return
	}
	var ee *engine.Error
	if !errors.As(err, &ee) || (ee.Code != engine.CodeInvalidArgument && ee.Code != engine.CodeNotFound) {
		log.Warn("batch: list executions", "err", err)
		w.releaseAfter(log, w.m.cfg.Lease/2)
		return
	}
	m := w.m
	now := m.now()
	failed := *w.rec
	failed.State = int32(enumspb.BATCH_OPERATION_STATE_FAILED)
	failed.CloseTime, failed.Owner, failed.Failure = now, "", err.Error()
	if perr := m.put(ctx, w.r, &failed, m.expiry(ctx, w.r.Namespace, now)); perr != nil {
		if !errors.Is(perr, store.ErrConflict) && !errors.Is(perr, store.ErrNotFound) {
			log.Warn("batch: fail job", "err", perr)
			w.releaseAfter(log, m.cfg.Lease/2)
		}
		return
	}
	log.Info("batch operation failed", "err", err)
}

// release gives the job back at once, for this or another node to resume from its checkpoint.
func (w *worker) release(log *slog.Logger) { w.releaseAfter(log, 0) }

// releaseAfter gives the job back, due after d. It runs when the worker's context may be over
// (shutdown), so it writes under a short context of its own.
func (w *worker) releaseAfter(log *slog.Logger, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.rec.Owner = ""
	if err := w.m.put(ctx, w.r, w.rec, w.m.now().Add(d)); err != nil && !errors.Is(err, store.ErrConflict) {
		log.Warn("batch: release job", "err", err)
	}
}

// filter is the listing (or, for counting, the filter) of a query job. Terminate, cancel and
// signal jobs apply to the executions that were open when the job started: the count takes the
// open ones; the listing takes the open ones and those that closed since the job started — so
// that an execution this job closed before a restart is still listed, and counted, when the job
// redoes the page it was on (its operation then finds it closed, which counts as done, as
// Temporal counts NotFound).
func (m *Manager) filter(ctx context.Context, req *workflowservice.StartBatchOperationRequest, typ enumspb.BatchOperationType, started time.Time, listing bool) (store.ExecutionFilter, error) {
	ns := req.GetNamespace()
	q, err := m.e.ParseQuery(ctx, ns, req.GetVisibilityQuery())
	if err != nil {
		return store.ExecutionFilter{}, err
	}
	f := store.ExecutionFilter{Namespace: ns}
	if q != nil {
		if len(q.GroupBy) > 0 {
			return store.ExecutionFilter{}, &engine.Error{Code: engine.CodeInvalidArgument, Message: "invalid query: 'GROUP BY' clause is not supported in a batch operation"}
		}
		// The order of a listing is the job's own (keyset, newest first): an ORDER BY would
		// page by offset, which skips rows when the operation changes what matches.
		q.OrderBy = nil
	}
	if !onlyOpen(typ) {
		f.Query = q
		return f, nil
	}
	if !listing {
		f.Statuses = []int32{int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)}
		f.Query = q
		return f, nil
	}
	open, err := visibility.Parse(fmt.Sprintf("ExecutionStatus = 'Running' OR CloseTime >= %d", started.UnixNano()), nil)
	if err != nil {
		return store.ExecutionFilter{}, fmt.Errorf("build the open-executions filter: %w", err)
	}
	if q == nil || q.Where == nil {
		f.Query = open
		return f, nil
	}
	f.Query = &visibility.Query{Where: &visibility.And{Left: q.Where, Right: open.Where}}
	return f, nil
}
