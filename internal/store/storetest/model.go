package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testModel drives a store with random batches of transitions, some of them broken, and after
// every batch compares everything it can read with a simple in-memory model of the semantics.
// Seeds are fixed, so a failure replays.
func (s *suite) testModel(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("Seed%d", seed), func(t *testing.T) {
			t.Parallel()
			m := &model{
				f:       s.setup(t),
				rng:     rand.New(rand.NewPCG(seed, 42)),
				runs:    map[string]*modelRun{},
				current: map[string]store.Current{},
				tasks:   map[int64]store.Task{},
				timers:  map[int64]store.Timer{},
			}
			for batch := range 30 {
				m.step(t, batch)
				m.check(t, batch)
			}
		})
	}
}

// modelRun is the model's view of one run.
type modelRun struct {
	exec   store.Execution
	events []store.Event
}

type model struct {
	f       *fixture
	rng     *rand.Rand
	runs    map[string]*modelRun // by run ID; deleted runs are removed
	order   []string             // run IDs in creation order, for deterministic picks
	current map[string]store.Current
	tasks   map[int64]store.Task
	timers  map[int64]store.Timer
	// goneTasks and goneTimers are IDs of rows that were consumed (task and timer IDs are separate
	// sequences, so a consumed task's ID may well be a live timer's).
	goneTasks, goneTimers []int64
}

var modelWorkflowIDs = []string{"wf-a", "wf-b", "wf-c", "wf-d"}

// plan is a transition with the outcomes the model allows for it.
type plan struct {
	tr      *store.Transition
	allowed []error // nil: must commit
}

func (m *model) pickRun() *modelRun {
	var live []*modelRun
	for _, id := range m.order {
		if r, ok := m.runs[id]; ok {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return nil
	}
	return live[m.rng.IntN(len(live))]
}

// step applies one random batch and checks each transition's outcome against the model, which it
// updates with the transitions that commit.
func (m *model) step(t *testing.T, batch int) {
	t.Helper()
	// Work on copies so that a failed transition's effects can be dropped.
	runs := map[string]modelRun{}
	for id, r := range m.runs {
		runs[id] = modelRun{exec: r.exec, events: slices.Clone(r.events)}
	}
	current := maps(m.current)
	tasks, timers := maps(m.tasks), maps(m.timers)

	var plans []plan
	for range 1 + m.rng.IntN(8) {
		p := m.plan(runs, current, tasks, timers)
		plans = append(plans, p)
		if p.allowed == nil {
			m.commitToCopies(p.tr, runs, current, tasks, timers)
		}
	}
	ts := make([]*store.Transition, len(plans))
	for i, p := range plans {
		ts[i] = p.tr
	}
	errs := m.f.apply(ts...)

	for i, p := range plans {
		if p.allowed == nil {
			require.NoError(t, errs[i], "batch %d transition %d", batch, i)
			m.commit(p.tr)
			continue
		}
		require.Error(t, errs[i], "batch %d transition %d should fail with one of %v", batch, i, p.allowed)
		ok := false
		for _, want := range p.allowed {
			ok = ok || errors.Is(errs[i], want)
		}
		require.True(t, ok, "batch %d transition %d: got %v, want one of %v", batch, i, errs[i], p.allowed)
		for _, task := range p.tr.NewTasks {
			require.Zero(t, task.ID)
		}
		for _, timer := range p.tr.NewTimers {
			require.Zero(t, timer.ID)
		}
	}

	if m.rng.IntN(6) == 0 {
		if r := m.pickRun(); r != nil {
			e := r.exec
			require.NoError(t, m.f.st.DeleteExecution(m.f.ctx, e.Namespace, e.WorkflowID, e.RunID))
			m.deleteRun(e)
		}
	}
}

// plan builds the next transition against the copies, which hold the effects of the batch's
// earlier transitions that will commit.
func (m *model) plan(runs map[string]modelRun, current map[string]store.Current,
	tasks map[int64]store.Task, timers map[int64]store.Timer) plan {
	var tr *store.Transition
	var allowed []error
	var r modelRun
	var live []string
	for _, id := range m.order {
		if _, ok := runs[id]; ok {
			live = append(live, id)
		}
	}
	if len(live) == 0 || m.rng.IntN(4) == 0 {
		e := m.f.newExecution(modelWorkflowIDs[m.rng.IntN(len(modelWorkflowIDs))])
		e.StartTime = at(time.Duration(m.rng.IntN(100)) * time.Second)
		tr = m.f.start(e)
		if cur, ok := current[e.WorkflowID]; ok {
			if m.rng.IntN(3) == 0 {
				tr.Current.ExpectedRunID = cur.RunID // continue as new
			} else {
				allowed = append(allowed, store.ErrAlreadyExists) // the pointer is taken
			}
		}
		r = modelRun{exec: e}
	} else {
		r = runs[live[m.rng.IntN(len(live))]]
		tr = next(r.exec)
		tr.Execution.Status = int32(1 + m.rng.IntN(3))
		if m.rng.IntN(8) == 0 {
			// A stale (or future) version: this must be the error, whatever else is wrong.
			if tr.ExpectedVersion > 1 {
				tr.ExpectedVersion--
			} else {
				tr.ExpectedVersion += 5
			}
			return plan{tr: m.decorate(tr, r, tasks, timers, nil), allowed: []error{store.ErrConflict}}
		}
		if cur, ok := current[r.exec.WorkflowID]; ok && cur.RunID == r.exec.RunID && m.rng.IntN(3) == 0 {
			moved := cur
			moved.Status = tr.Execution.Status
			tr.Current = &store.CurrentUpdate{ExpectedRunID: r.exec.RunID, Current: moved}
		}
		next := int64(len(r.events)) + 1
		tr.Events = events(next, next+int64(m.rng.IntN(3)))
		if m.rng.IntN(10) == 0 && len(r.events) > 0 {
			tr.Events = append(tr.Events, r.events[len(r.events)-1])
			allowed = append(allowed, store.ErrAlreadyExists)
		}
	}
	return plan{tr: m.decorate(tr, r, tasks, timers, &allowed), allowed: allowed}
}

// decorate adds task and timer rows to consume, drop and insert; it appends to allowed when it
// names a row that is gone.
func (m *model) decorate(tr *store.Transition, r modelRun, tasks map[int64]store.Task,
	timers map[int64]store.Timer, allowed *[]error) *store.Transition {
	e := tr.Execution
	taskIDs, timerIDs := sortedKeys(tasks), sortedKeys(timers)
	if len(taskIDs) > 0 && m.rng.IntN(3) == 0 {
		tr.DeleteTasks = append(tr.DeleteTasks, taskIDs[m.rng.IntN(len(taskIDs))])
	}
	if len(timerIDs) > 0 && m.rng.IntN(3) == 0 {
		tr.DeleteTimers = append(tr.DeleteTimers, timerIDs[m.rng.IntN(len(timerIDs))])
	}
	if allowed != nil && len(m.goneTasks) > 0 && m.rng.IntN(12) == 0 {
		tr.DeleteTasks = append(tr.DeleteTasks, m.goneTasks[m.rng.IntN(len(m.goneTasks))])
		*allowed = append(*allowed, store.ErrConflict)
	}
	if allowed != nil && len(m.goneTimers) > 0 && m.rng.IntN(12) == 0 {
		tr.DeleteTimers = append(tr.DeleteTimers, m.goneTimers[m.rng.IntN(len(m.goneTimers))])
		*allowed = append(*allowed, store.ErrConflict)
	}
	tr.DropRunTasksAndTimers = tr.ExpectedVersion > 0 && m.rng.IntN(6) == 0
	for range m.rng.IntN(3) {
		task := newTask(e, []string{"q1", "q2"}[m.rng.IntN(2)], store.TaskKind(1+m.rng.IntN(2)), int64(len(r.events)))
		tr.NewTasks = append(tr.NewTasks, task)
	}
	for range m.rng.IntN(3) {
		tr.NewTimers = append(tr.NewTimers, newTimer(e, at(time.Duration(m.rng.IntN(20))*time.Minute), int64(len(r.events))))
	}
	return tr
}

// commitToCopies applies a transition that will commit to the batch's copies.
func (m *model) commitToCopies(tr *store.Transition, runs map[string]modelRun, current map[string]store.Current,
	tasks map[int64]store.Task, timers map[int64]store.Timer) {
	r := runs[tr.Execution.RunID]
	r.exec = tr.Execution
	r.events = append(r.events, tr.Events...)
	runs[tr.Execution.RunID] = r
	if tr.Current != nil {
		current[tr.Current.Current.WorkflowID] = tr.Current.Current
	}
	for _, id := range tr.DeleteTasks {
		delete(tasks, id)
	}
	for _, id := range tr.DeleteTimers {
		delete(timers, id)
	}
	if tr.DropRunTasksAndTimers {
		for id, task := range tasks {
			if task.Namespace == tr.Execution.Namespace && task.RunID == tr.Execution.RunID {
				delete(tasks, id)
			}
		}
		for id, timer := range timers {
			if timer.Namespace == tr.Execution.Namespace && timer.RunID == tr.Execution.RunID {
				delete(timers, id)
			}
		}
	}
	// New rows have no IDs yet; later transitions of the batch cannot name them.
}

// commit applies a committed transition to the model, taking the IDs the store reported.
func (m *model) commit(tr *store.Transition) {
	id := tr.Execution.RunID
	r, ok := m.runs[id]
	if !ok {
		r = &modelRun{}
		m.runs[id] = r
		m.order = append(m.order, id)
	}
	r.exec = tr.Execution
	r.events = append(r.events, tr.Events...)
	if tr.Current != nil {
		m.current[tr.Current.Current.WorkflowID] = tr.Current.Current
	}
	for _, id := range tr.DeleteTasks {
		delete(m.tasks, id)
		m.goneTasks = append(m.goneTasks, id)
	}
	for _, id := range tr.DeleteTimers {
		delete(m.timers, id)
		m.goneTimers = append(m.goneTimers, id)
	}
	if tr.DropRunTasksAndTimers {
		m.dropRun(tr.Execution)
	}
	for _, task := range tr.NewTasks {
		m.tasks[task.ID] = *task
	}
	for _, timer := range tr.NewTimers {
		m.timers[timer.ID] = *timer
	}
}

func (m *model) dropRun(e store.Execution) {
	for id, task := range m.tasks {
		if task.Namespace == e.Namespace && task.RunID == e.RunID {
			delete(m.tasks, id)
			m.goneTasks = append(m.goneTasks, id)
		}
	}
	for id, timer := range m.timers {
		if timer.Namespace == e.Namespace && timer.RunID == e.RunID {
			delete(m.timers, id)
			m.goneTimers = append(m.goneTimers, id)
		}
	}
}

func (m *model) deleteRun(e store.Execution) {
	delete(m.runs, e.RunID)
	if cur, ok := m.current[e.WorkflowID]; ok && cur.RunID == e.RunID {
		delete(m.current, e.WorkflowID)
	}
	m.dropRun(e)
}

// check compares everything readable with the model.
func (m *model) check(t *testing.T, batch int) {
	t.Helper()
	f := m.f
	var ids []int64
	for id := range m.tasks {
		ids = append(ids, id)
	}
	for id := range m.timers {
		ids = append(ids, id)
	}
	for _, id := range ids {
		require.NotZero(t, id, "batch %d", batch)
	}

	for _, id := range m.order {
		r, live := m.runs[id]
		if !live {
			continue
		}
		requireExecution(t, r.exec, *f.getExecution(r.exec))
		requireEvents(t, r.events, f.readEvents(r.exec))
	}
	for _, wid := range modelWorkflowIDs {
		cur, ok := m.current[wid]
		got, err := f.st.GetCurrent(f.ctx, f.ns, wid)
		if !ok {
			require.ErrorIs(t, err, store.ErrNotFound, "batch %d: current of %s", batch, wid)
			continue
		}
		require.NoError(t, err)
		requireCurrent(t, cur, *got)
	}
	for _, name := range []string{"q1", "q2"} {
		for _, kind := range []store.TaskKind{1, 2} {
			q := store.TaskQueueKey{Namespace: f.ns, Name: name, Kind: kind}
			var want []*store.Task
			for _, id := range sortedKeys(m.tasks) {
				if task := m.tasks[id]; task.TaskQueueKey == q {
					want = append(want, &task)
				}
			}
			requireTasks(t, want, f.listTasks(q))
			n, err := f.st.CountTasks(f.ctx, q)
			require.NoError(t, err)
			require.Equal(t, int64(len(want)), n)
		}
	}
	var want []*store.Timer
	for _, id := range sortedKeys(m.timers) {
		timer := m.timers[id]
		want = append(want, &timer)
	}
	slices.SortStableFunc(want, func(a, b *store.Timer) int { return a.FireAt.Compare(b.FireAt) })
	requireTimers(t, want, f.listTimers())

	n, err := f.st.CountExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns})
	require.NoError(t, err)
	require.Equal(t, int64(len(m.runs)), n, "batch %d", batch)
}

func maps[K comparable, V any](m map[K]V) map[K]V {
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
