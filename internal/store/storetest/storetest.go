// Package storetest is the conformance suite every [store.Store] driver runs: one behaviour, tested
// once, against every database. A driver's test calls [Run] with a factory that returns a fresh,
// empty store (a new SQLite file, a new PostgreSQL schema).
//
// The suite checks every semantic store.go documents, plus a few that follow from it and that the
// engine relies on (each named in its subtest):
//
//   - inside a transition the execution's version check comes first, so a stale transition reports
//     [store.ErrConflict] even when its events would also collide with the winner's;
//   - the transitions of one Apply run in slice order, so a later one sees an earlier one's writes;
//   - DropRunTasksAndTimers removes the rows that existed before the transition: the task and timer
//     rows that same transition adds are kept (a closing run may enqueue a retention timer);
//   - new task and timer IDs increase and are never reused, even after the newest row is consumed;
//   - reading the events of a run that has none is an empty result, not an error.
//
// Besides the cases written out one by one, a model-based test (Model) applies random batches in
// which some transitions are broken in one way or another, and after every batch compares all it
// can read with an in-memory model of these semantics.
//
// Times are compared at microsecond precision (PostgreSQL's) and must come back in UTC. Blobs must
// round-trip byte for byte; a driver may return nil for an empty blob.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// Run runs the conformance suite. newStore must return a new, empty store each time it is called
// and arrange (with t.Cleanup) for it to be closed; subtests call it concurrently.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := &suite{newStore: newStore}
	t.Run("Apply", s.testApply)
	t.Run("Savepoints", s.testSavepoints)
	t.Run("Concurrency", s.testConcurrency)
	t.Run("Current", s.testCurrent)
	t.Run("Events", s.testEvents)
	t.Run("Tasks", s.testTasks)
	t.Run("Claims", s.testClaims)
	t.Run("Timers", s.testTimers)
	t.Run("DeleteExecution", s.testDeleteExecution)
	t.Run("ListExecutions", s.testListExecutions)
	t.Run("Namespaces", s.testNamespaces)
	t.Run("Data", s.testData)
	t.Run("Model", s.testModel)
	t.Run("Linked", s.testLinked)
	t.Run("Search", s.testSearch)
	t.Run("Records", s.testRecords)
}

type suite struct {
	newStore func(t *testing.T) store.Store
}

// fixture is one subtest's store and helpers bound to it.
type fixture struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	ns  string
}

// setup gives a subtest a fresh store.
func (s *suite) setup(t *testing.T) *fixture {
	t.Helper()
	return &fixture{t: t, ctx: t.Context(), st: s.newStore(t), ns: "ns-test"}
}

// baseTime is the suite's reference instant: microsecond precision, UTC.
var baseTime = time.Date(2026, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// at returns baseTime plus d.
func at(d time.Duration) time.Time { return baseTime.Add(d) }

// newExecution returns version 1 of a new run of workflowID with every column set.
func (f *fixture) newExecution(workflowID string) store.Execution {
	return store.Execution{
		Namespace:        f.ns,
		WorkflowID:       workflowID,
		RunID:            uuid.NewString(),
		Version:          1,
		State:            []byte("state-v1"),
		WorkflowType:     "OrderWorkflow",
		TaskQueue:        "orders",
		Status:           1,
		StartTime:        at(0),
		ExecutionTime:    at(time.Second),
		HistoryLength:    2,
		Memo:             []byte("memo"),
		SearchAttributes: []byte("search-attributes"),
	}
}

// start returns the transition that creates e, points its workflow ID at it and appends events 1..2.
func (f *fixture) start(e store.Execution) *store.Transition {
	return &store.Transition{
		ExpectedVersion: 0,
		Execution:       e,
		Current: &store.CurrentUpdate{Current: store.Current{
			Namespace:      e.Namespace,
			WorkflowID:     e.WorkflowID,
			RunID:          e.RunID,
			Status:         e.Status,
			StartRequestID: "request-" + e.RunID,
			StartTime:      e.StartTime,
		}},
		Events: events(1, 2),
	}
}

// next returns a transition that moves e from its version to the next, with new state.
func next(e store.Execution) *store.Transition {
	n := e
	n.Version = e.Version + 1
	n.State = []byte(fmt.Sprintf("state-v%d", n.Version))
	return &store.Transition{ExpectedVersion: e.Version, Execution: n}
}

// events returns events with IDs from..to, each with distinct data.
func events(from, to int64) []store.Event {
	var es []store.Event
	for id := from; id <= to; id++ {
		es = append(es, store.Event{EventID: id, Data: []byte(fmt.Sprintf("event-%d", id))})
	}
	return es
}

// newTask returns a task row of e on queue name and kind k, visible at baseTime.
func newTask(e store.Execution, name string, k store.TaskKind, scheduledEventID int64) *store.Task {
	return &store.Task{
		TaskQueueKey:     store.TaskQueueKey{Namespace: e.Namespace, Name: name, Kind: k},
		WorkflowID:       e.WorkflowID,
		RunID:            e.RunID,
		ScheduledEventID: scheduledEventID,
		Attempt:          1,
		CreatedAt:        at(0),
		VisibleAt:        at(0),
		Data:             []byte(fmt.Sprintf("task-%s-%d", name, scheduledEventID)),
	}
}

// newTimer returns a timer row of e firing at fireAt.
func newTimer(e store.Execution, fireAt time.Time, eventID int64) *store.Timer {
	return &store.Timer{
		FireAt:     fireAt,
		Namespace:  e.Namespace,
		WorkflowID: e.WorkflowID,
		RunID:      e.RunID,
		Kind:       7,
		EventID:    eventID,
		Attempt:    1,
		Data:       []byte(fmt.Sprintf("timer-%d", eventID)),
	}
}

// apply runs Apply, requires the commit to succeed and returns the per-transition errors.
func (f *fixture) apply(ts ...*store.Transition) []error {
	f.t.Helper()
	errs, err := f.st.Apply(f.ctx, ts)
	require.NoError(f.t, err)
	require.Len(f.t, errs, len(ts))
	return errs
}

// mustApply runs Apply and requires every transition to commit.
func (f *fixture) mustApply(ts ...*store.Transition) {
	f.t.Helper()
	for i, err := range f.apply(ts...) {
		require.NoError(f.t, err, "transition %d", i)
	}
}

// create commits a new run of workflowID (with its current pointer and events 1..2) and returns it.
func (f *fixture) create(workflowID string) store.Execution {
	f.t.Helper()
	e := f.newExecution(workflowID)
	f.mustApply(f.start(e))
	return e
}

func (f *fixture) getExecution(e store.Execution) *store.Execution {
	f.t.Helper()
	got, err := f.st.GetExecution(f.ctx, e.Namespace, e.WorkflowID, e.RunID)
	require.NoError(f.t, err)
	return got
}

func (f *fixture) readEvents(e store.Execution) []store.Event {
	f.t.Helper()
	got, err := f.st.ReadEvents(f.ctx, e.Namespace, e.RunID, 1, 0, 0)
	require.NoError(f.t, err)
	return got
}

func (f *fixture) listTasks(q store.TaskQueueKey) []store.Task {
	f.t.Helper()
	got, err := f.st.ListTasks(f.ctx, q, at(1000*time.Hour), 0)
	require.NoError(f.t, err)
	return got
}

func (f *fixture) listTimers() []store.Timer {
	f.t.Helper()
	got, err := f.st.ListTimers(f.ctx, at(100000*time.Hour), 1000)
	require.NoError(f.t, err)
	return got
}

// requireTime requires got to be want (both at microsecond precision) and in UTC.
func requireTime(t *testing.T, want, got time.Time, field string) {
	t.Helper()
	require.Equal(t, time.UTC, got.Location(), "%s must be in UTC", field)
	require.True(t, want.Equal(got), "%s: want %s, got %s", field, want, got)
}

// requireBlob requires got to hold want's bytes (nil and empty are the same blob).
func requireBlob(t *testing.T, want, got []byte, field string) {
	t.Helper()
	require.True(t, bytes.Equal(want, got), "%s: want %d bytes %.40q, got %d bytes %.40q",
		field, len(want), want, len(got), got)
}

// requireExecution requires got to equal want column by column.
func requireExecution(t *testing.T, want store.Execution, got store.Execution) {
	t.Helper()
	requireTime(t, want.StartTime, got.StartTime, "StartTime")
	requireTime(t, want.ExecutionTime, got.ExecutionTime, "ExecutionTime")
	requireTime(t, want.CloseTime, got.CloseTime, "CloseTime")
	requireBlob(t, want.State, got.State, "State")
	requireBlob(t, want.Memo, got.Memo, "Memo")
	requireBlob(t, want.SearchAttributes, got.SearchAttributes, "SearchAttributes")
	got.StartTime, got.ExecutionTime, got.CloseTime = want.StartTime, want.ExecutionTime, want.CloseTime
	got.State, got.Memo, got.SearchAttributes = want.State, want.Memo, want.SearchAttributes
	require.Equal(t, want, got)
}

// requireCurrent requires got to equal want field by field.
func requireCurrent(t *testing.T, want store.Current, got store.Current) {
	t.Helper()
	requireTime(t, want.StartTime, got.StartTime, "StartTime")
	got.StartTime = want.StartTime
	require.Equal(t, want, got)
}

// requireEvents requires got to hold exactly want, in order.
func requireEvents(t *testing.T, want, got []store.Event) {
	t.Helper()
	require.Len(t, got, len(want), "events: want IDs %v, got %v", eventIDs(want), eventIDs(got))
	for i := range want {
		require.Equal(t, want[i].EventID, got[i].EventID, "event %d", i)
		requireBlob(t, want[i].Data, got[i].Data, fmt.Sprintf("event %d data", want[i].EventID))
	}
}

func eventIDs(es []store.Event) []int64 {
	ids := make([]int64, 0, len(es))
	for _, e := range es {
		ids = append(ids, e.EventID)
	}
	return ids
}

// requireTasks requires got to hold exactly want (IDs included), in order.
func requireTasks(t *testing.T, want []*store.Task, got []store.Task) {
	t.Helper()
	require.Len(t, got, len(want), "tasks: want IDs %v, got %v", taskIDs(want), listedTaskIDs(got))
	for i := range want {
		w, g := *want[i], got[i]
		requireTime(t, w.CreatedAt, g.CreatedAt, "CreatedAt")
		requireTime(t, w.VisibleAt, g.VisibleAt, "VisibleAt")
		requireBlob(t, w.Data, g.Data, "Data")
		g.CreatedAt, g.VisibleAt, g.Data = w.CreatedAt, w.VisibleAt, w.Data
		require.Equal(t, w, g, "task %d", i)
	}
}

func taskIDs(ts []*store.Task) []int64 {
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

func listedTaskIDs(ts []store.Task) []int64 {
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

// requireTimers requires got to hold exactly want (IDs included), in order.
func requireTimers(t *testing.T, want []*store.Timer, got []store.Timer) {
	t.Helper()
	require.Len(t, got, len(want), "timers: want IDs %v, got %v", timerIDs(want), listedTimerIDs(got))
	for i := range want {
		w, g := *want[i], got[i]
		requireTime(t, w.FireAt, g.FireAt, "FireAt")
		requireBlob(t, w.Data, g.Data, "Data")
		g.FireAt, g.Data = w.FireAt, w.Data
		require.Equal(t, w, g, "timer %d", i)
	}
}

func timerIDs(ts []*store.Timer) []int64 {
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

func listedTimerIDs(ts []store.Timer) []int64 {
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}
