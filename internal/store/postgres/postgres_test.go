package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
	"github.com/duro-dev/duro/internal/store/storetest"
)

// openTest opens a Store on a fresh schema, closed when t ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	url := pgtest.Schema(t)
	s, err := Open(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// TestConformance runs the store conformance suite, each subtest on its own schema.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t) })
}

var t0 = time.Date(2026, time.March, 14, 15, 9, 26, 535897000, time.UTC)

// execution returns version 1 of a new run of workflowID in namespace "ns".
func execution(workflowID string) store.Execution {
	return store.Execution{
		Namespace: "ns", WorkflowID: workflowID, RunID: uuid.NewString(), Version: 1,
		State: []byte("state-1"), WorkflowType: "Order", TaskQueue: "orders", Status: 1,
		StartTime: t0, ExecutionTime: t0, HistoryLength: 3,
	}
}

// startTransition creates e with its current pointer, events 1..3 and one workflow task.
func startTransition(e store.Execution) *store.Transition {
	return &store.Transition{
		Execution: e,
		Current: &store.CurrentUpdate{Current: store.Current{
			Namespace: e.Namespace, WorkflowID: e.WorkflowID, RunID: e.RunID, Status: e.Status,
			StartRequestID: "req-" + e.RunID, StartTime: e.StartTime,
		}},
		Events: []store.Event{{EventID: 1, Data: []byte("e1")}, {EventID: 2, Data: []byte("e2")}, {EventID: 3, Data: []byte("e3")}},
		NewTasks: []*store.Task{{
			TaskQueueKey: store.TaskQueueKey{Namespace: e.Namespace, Name: e.TaskQueue, Kind: store.TaskWorkflow},
			WorkflowID:   e.WorkflowID, RunID: e.RunID, ScheduledEventID: 2, Attempt: 1,
			CreatedAt: t0, VisibleAt: t0,
		}},
	}
}

// bump returns the transition from e's version to the next.
func bump(e store.Execution) *store.Transition {
	n := e
	n.Version++
	n.State = []byte(fmt.Sprintf("state-%d", n.Version))
	return &store.Transition{ExpectedVersion: e.Version, Execution: n}
}

func TestSmoke(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := context.Background()
	e := execution("wf")
	tr := startTransition(e)
	errs, err := s.Apply(ctx, []*store.Transition{tr})
	require.NoError(t, err)
	require.Equal(t, []error{nil}, errs)
	require.NotZero(t, tr.NewTasks[0].ID)

	got, err := s.GetExecution(ctx, "ns", "wf", e.RunID)
	require.NoError(t, err)
	require.Equal(t, e, *got)
	evs, err := s.ReadEvents(ctx, "ns", e.RunID, 1, 0, 0)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	tasks, err := s.ListTasks(ctx, tr.NewTasks[0].TaskQueueKey, t0, 10)
	require.NoError(t, err)
	require.Equal(t, []store.Task{*tr.NewTasks[0]}, tasks)
}
