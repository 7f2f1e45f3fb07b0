package storetest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testLinked checks that linked transitions (a run that continues as new and the run it starts)
// commit together or not at all, and that their new rows get IDs.
func (s *suite) testLinked(t *testing.T) {
	t.Parallel()

	// continueAsNew closes old and links the creation of its successor, which takes over the
	// current pointer.
	continueAsNew := func(f *fixture, old store.Execution) (*store.Transition, store.Execution) {
		closeOld := next(old)
		closeOld.Execution.Status = 6
		closeOld.Events = events(3, 3)
		closeOld.DropRunTasksAndTimers = true
		succ := f.newExecution(old.WorkflowID)
		create := f.start(succ)
		create.Current.ExpectedRunID = old.RunID
		create.NewTasks = []*store.Task{newTask(succ, "wf-q", store.TaskWorkflow, 2)}
		create.NewTimers = []*store.Timer{newTimer(succ, at(0), 0)}
		closeOld.Linked = []*store.Transition{create}
		return closeOld, succ
	}

	t.Run("CommitTogether", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		old := f.create("wf-linked")
		tr, succ := continueAsNew(f, old)
		f.mustApply(tr)

		require.Equal(t, int32(6), f.getExecution(tr.Execution).Status)
		require.Equal(t, succ.RunID, f.getExecution(succ).RunID)
		cur, err := f.st.GetCurrent(f.ctx, f.ns, "wf-linked")
		require.NoError(t, err)
		require.Equal(t, succ.RunID, cur.RunID, "the successor took the current pointer")
		require.Len(t, f.readEvents(succ), 2)
		linked := tr.Linked[0]
		require.NotZero(t, linked.NewTasks[0].ID, "a linked transition's task ID is filled in")
		require.NotZero(t, linked.NewTimers[0].ID, "a linked transition's timer ID is filled in")
		tasks := f.listTasks(linked.NewTasks[0].TaskQueueKey)
		require.Len(t, tasks, 1)
		require.Equal(t, linked.NewTasks[0].ID, tasks[0].ID)
	})

	t.Run("FailTogether", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		old := f.create("wf-linked-fail")
		tr, succ := continueAsNew(f, old)
		tr.Linked[0].Current.ExpectedRunID = "someone-else" // the successor's step fails
		other := f.create("wf-bystander")
		bystander := next(other)

		errs := f.apply(tr, bystander)
		require.True(t, errors.Is(errs[0], store.ErrConflict), "the linked failure is the transition's error: %v", errs[0])
		require.NoError(t, errs[1], "other transitions in the group still commit")

		require.Equal(t, old.Version, f.getExecution(old).Version, "the closing run was rolled back with its successor")
		require.Len(t, f.readEvents(old), 2)
		_, err := f.st.GetExecution(f.ctx, f.ns, succ.WorkflowID, succ.RunID)
		require.True(t, errors.Is(err, store.ErrNotFound), "no successor row: %v", err)
		require.Zero(t, tr.Linked[0].NewTasks[0].ID, "a rolled-back linked transition reports no IDs")
		require.Empty(t, f.listTasks(tr.Linked[0].NewTasks[0].TaskQueueKey))
		require.Equal(t, bystander.Execution.Version, f.getExecution(other).Version)
	})
}
