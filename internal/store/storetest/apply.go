package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testApply covers creating and updating execution rows, and Apply as a whole.
func (s *suite) testApply(t *testing.T) {
	t.Parallel()

	t.Run("CreateExecution", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-create")
		f.mustApply(f.start(e))

		requireExecution(t, e, *f.getExecution(e))
	})

	t.Run("CreateExistingIsAlreadyExists", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-dup")

		again := e
		again.State = []byte("other state")
		errs := f.apply(&store.Transition{ExpectedVersion: 0, Execution: again})
		require.ErrorIs(t, errs[0], store.ErrAlreadyExists)

		requireExecution(t, e, *f.getExecution(e))
	})

	t.Run("UpdateWithExpectedVersion", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-update")

		tr := next(e)
		// Every column is rewritten, not only the state.
		tr.Execution.WorkflowType = "Renamed"
		tr.Execution.TaskQueue = "other-queue"
		tr.Execution.Status = 2
		tr.Execution.StartTime = at(-time.Hour)
		tr.Execution.ExecutionTime = at(-30 * time.Minute)
		tr.Execution.CloseTime = at(2 * time.Hour)
		tr.Execution.HistoryLength = 9
		tr.Execution.Memo = []byte("memo-v2")
		tr.Execution.SearchAttributes = []byte("sa-v2")
		f.mustApply(tr)
		requireExecution(t, tr.Execution, *f.getExecution(e))

		tr3 := next(tr.Execution)
		f.mustApply(tr3)
		got := f.getExecution(e)
		require.Equal(t, int64(3), got.Version)
		requireExecution(t, tr3.Execution, *got)
	})

	t.Run("UpdateStaleVersionIsConflict", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-stale")
		v2 := next(e)
		f.mustApply(v2)

		stale := next(e) // still expects version 1
		stale.Events = events(3, 3)
		errs := f.apply(stale)
		require.ErrorIs(t, errs[0], store.ErrConflict)

		requireExecution(t, v2.Execution, *f.getExecution(e))
		requireEvents(t, events(1, 2), f.readEvents(e))
	})

	t.Run("UpdateFutureVersionIsConflict", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-future")

		tr := next(e)
		tr.ExpectedVersion = 5
		tr.Execution.Version = 6
		errs := f.apply(tr)
		require.ErrorIs(t, errs[0], store.ErrConflict)
		requireExecution(t, e, *f.getExecution(e))
	})

	t.Run("UpdateMissingExecutionIsConflict", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-missing")

		errs := f.apply(next(e))
		require.ErrorIs(t, errs[0], store.ErrConflict)
		_, err := f.st.GetExecution(f.ctx, e.Namespace, e.WorkflowID, e.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("GetExecutionNotFound", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-get")

		_, err := f.st.GetExecution(f.ctx, e.Namespace, e.WorkflowID, "no-such-run")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = f.st.GetExecution(f.ctx, e.Namespace, "other-workflow", e.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = f.st.GetExecution(f.ctx, "other-namespace", e.WorkflowID, e.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("SameWorkflowIDInTwoNamespaces", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		a := f.newExecution("wf-shared")
		b := f.newExecution("wf-shared")
		b.Namespace = "ns-other"
		f.mustApply(f.start(a), f.start(b))

		requireExecution(t, a, *f.getExecution(a))
		requireExecution(t, b, *f.getExecution(b))
		ca, err := f.st.GetCurrent(f.ctx, a.Namespace, a.WorkflowID)
		require.NoError(t, err)
		require.Equal(t, a.RunID, ca.RunID)
		cb, err := f.st.GetCurrent(f.ctx, b.Namespace, b.WorkflowID)
		require.NoError(t, err)
		require.Equal(t, b.RunID, cb.RunID)
	})

	// The transitions of one Apply run in order: a later one sees an earlier one's writes.
	t.Run("TransitionsRunInOrder", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-order")
		create := f.start(e)
		task := newTask(e, "q", store.TaskActivity, 2)
		create.NewTasks = []*store.Task{task}
		v2 := next(e)
		v2.Events = events(3, 4)
		v3 := next(v2.Execution)
		v3.Events = events(5, 5)
		f.mustApply(create, v2, v3)

		requireExecution(t, v3.Execution, *f.getExecution(e))
		requireEvents(t, events(1, 5), f.readEvents(e))
	})

	t.Run("EmptyApply", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		errs, err := f.st.Apply(f.ctx, nil)
		require.NoError(t, err)
		require.Empty(t, errs)
	})

	t.Run("ManyTransitionsInOneApply", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		var ts []*store.Transition
		var es []store.Execution
		for range 100 {
			e := f.newExecution("wf-batch-" + f.newExecution("").RunID)
			tr := f.start(e)
			tr.NewTasks = []*store.Task{newTask(e, "batch", store.TaskWorkflow, 2)}
			ts = append(ts, tr)
			es = append(es, e)
		}
		f.mustApply(ts...)
		for _, e := range es {
			requireExecution(t, e, *f.getExecution(e))
			requireEvents(t, events(1, 2), f.readEvents(e))
		}
		var want []*store.Task
		for _, tr := range ts {
			want = append(want, tr.NewTasks...)
		}
		requireTasks(t, want, f.listTasks(want[0].TaskQueueKey))
	})

	// A commit that fails as a whole (here: its context is already canceled) reports the second
	// result, makes nothing durable and fills in no IDs.
	t.Run("CanceledContextCommitsNothing", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-canceled")
		tr := f.start(e)
		task := newTask(e, "q", store.TaskWorkflow, 2)
		timer := newTimer(e, at(0), 2)
		tr.NewTasks, tr.NewTimers = []*store.Task{task}, []*store.Timer{timer}

		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		_, err := f.st.Apply(ctx, []*store.Transition{tr})
		require.Error(t, err)
		require.True(t, errors.Is(err, context.Canceled), "want context.Canceled, got %v", err)

		require.Zero(t, task.ID)
		require.Zero(t, timer.ID)
		_, err = f.st.GetExecution(f.ctx, e.Namespace, e.WorkflowID, e.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = f.st.GetCurrent(f.ctx, e.Namespace, e.WorkflowID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Empty(t, f.readEvents(e))
		require.Empty(t, f.listTasks(task.TaskQueueKey))
		require.Empty(t, f.listTimers())
	})
}
