package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testTasks covers task rows: insert with store-assigned IDs, listing per queue, consumption.
func (s *suite) testTasks(t *testing.T) {
	t.Parallel()

	t.Run("InsertFillsIDsAndRoundTrips", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-tasks")
		tr := f.start(e)
		t1 := newTask(e, "q", store.TaskWorkflow, 2)
		t1.Attempt, t1.CreatedAt, t1.VisibleAt = 3, at(-time.Minute), at(-time.Second)
		t2 := newTask(e, "q", store.TaskWorkflow, 5)
		t2.Data = nil
		tr.NewTasks = []*store.Task{t1, t2}
		f.mustApply(tr)

		require.NotZero(t, t1.ID)
		require.Greater(t, t2.ID, t1.ID)
		requireTasks(t, []*store.Task{t1, t2}, f.listTasks(t1.TaskQueueKey))
	})

	t.Run("IDsIncreaseAndAreNotReused", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-tasks")
		var last int64
		for i := range 4 {
			tr := next(e)
			a, b := newTask(e, "q", store.TaskActivity, 2), newTask(e, "q", store.TaskActivity, 3)
			m := newTimer(e, at(time.Minute), 2)
			tr.NewTasks, tr.NewTimers = []*store.Task{a, b}, []*store.Timer{m}
			f.mustApply(tr)
			e = tr.Execution
			require.Greater(t, a.ID, last, "round %d", i)
			require.Greater(t, b.ID, a.ID, "round %d", i)
			last = b.ID

			// Consume the newest rows, so a store that reuses IDs would hand them out again.
			consume := next(e)
			consume.DeleteTasks = []int64{a.ID, b.ID}
			consume.DeleteTimers = []int64{m.ID}
			f.mustApply(consume)
			e = consume.Execution
		}
		var lastTimer int64
		for range 2 {
			tr := next(e)
			m := newTimer(e, at(time.Minute), 2)
			tr.NewTimers = []*store.Timer{m}
			f.mustApply(tr)
			e = tr.Execution
			require.Greater(t, m.ID, lastTimer)
			lastTimer = m.ID
			consume := next(e)
			consume.DeleteTimers = []int64{m.ID}
			f.mustApply(consume)
			e = consume.Execution
		}
	})

	t.Run("ListOldestFirstWithLimit", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-tasks")
		var want []*store.Task
		for i := range 3 {
			tr := next(e)
			// Later rows get earlier CreatedAt: the order is by ID, not by time.
			a := newTask(e, "q", store.TaskActivity, int64(2*i))
			a.CreatedAt = at(-time.Duration(i) * time.Minute)
			b := newTask(e, "q", store.TaskActivity, int64(2*i+1))
			tr.NewTasks = []*store.Task{a, b}
			f.mustApply(tr)
			e = tr.Execution
			want = append(want, a, b)
		}
		q := want[0].TaskQueueKey

		got, err := f.st.ListTasks(f.ctx, q, at(0), 4)
		require.NoError(t, err)
		requireTasks(t, want[:4], got)
		got, err = f.st.ListTasks(f.ctx, q, at(0), 100)
		require.NoError(t, err)
		requireTasks(t, want, got)
		got, err = f.st.ListTasks(f.ctx, q, at(0), 1)
		require.NoError(t, err)
		requireTasks(t, want[:1], got)
	})

	t.Run("VisibleAtIsRespected", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-tasks")
		tr := f.start(e)
		now := newTask(e, "q", store.TaskActivity, 1)
		later := newTask(e, "q", store.TaskActivity, 2)
		later.VisibleAt = at(time.Hour)
		past := newTask(e, "q", store.TaskActivity, 3)
		past.VisibleAt = at(-time.Hour)
		tr.NewTasks = []*store.Task{now, later, past}
		f.mustApply(tr)
		q := now.TaskQueueKey

		got, err := f.st.ListTasks(f.ctx, q, at(-time.Hour-time.Microsecond), 10)
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = f.st.ListTasks(f.ctx, q, at(-time.Hour), 10)
		require.NoError(t, err)
		requireTasks(t, []*store.Task{past}, got)
		got, err = f.st.ListTasks(f.ctx, q, at(0), 10)
		require.NoError(t, err)
		requireTasks(t, []*store.Task{now, past}, got)
		got, err = f.st.ListTasks(f.ctx, q, at(time.Hour-time.Microsecond), 10)
		require.NoError(t, err)
		requireTasks(t, []*store.Task{now, past}, got)
		got, err = f.st.ListTasks(f.ctx, q, at(time.Hour), 10)
		require.NoError(t, err)
		requireTasks(t, []*store.Task{now, later, past}, got)

		// Rows not yet visible do not count against the limit.
		got, err = f.st.ListTasks(f.ctx, q, at(-time.Minute), 1)
		require.NoError(t, err)
		requireTasks(t, []*store.Task{past}, got)
		got, err = f.st.ListTasks(f.ctx, q, at(0), 2)
		require.NoError(t, err)
		requireTasks(t, []*store.Task{now, past}, got)
	})

	t.Run("QueuesAreSeparate", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-tasks")
		tr := f.start(e)
		mine := newTask(e, "q", store.TaskActivity, 1)
		otherName := newTask(e, "q2", store.TaskActivity, 1)
		otherKind := newTask(e, "q", store.TaskWorkflow, 1)
		internal := newTask(e, "q", store.TaskInternal, 1)
		tr.NewTasks = []*store.Task{mine, otherName, otherKind, internal}
		other := f.newExecution("wf-tasks")
		other.Namespace = "ns-other"
		tro := f.start(other)
		otherNamespace := newTask(other, "q", store.TaskActivity, 1)
		tro.NewTasks = []*store.Task{otherNamespace}
		f.mustApply(tr, tro)

		for _, task := range []*store.Task{mine, otherName, otherKind, internal, otherNamespace} {
			requireTasks(t, []*store.Task{task}, f.listTasks(task.TaskQueueKey))
			n, err := f.st.CountTasks(f.ctx, task.TaskQueueKey)
			require.NoError(t, err)
			require.Equal(t, int64(1), n)
		}
	})

	t.Run("CountTasks", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-tasks")
		q := store.TaskQueueKey{Namespace: e.Namespace, Name: "q", Kind: store.TaskActivity}
		n, err := f.st.CountTasks(f.ctx, q)
		require.NoError(t, err)
		require.Zero(t, n)

		tr := f.start(e)
		invisible := newTask(e, "q", store.TaskActivity, 3)
		invisible.VisibleAt = at(24 * time.Hour)
		tr.NewTasks = []*store.Task{newTask(e, "q", store.TaskActivity, 1), newTask(e, "q", store.TaskActivity, 2), invisible}
		f.mustApply(tr)

		// The backlog counts rows not yet visible too.
		n, err = f.st.CountTasks(f.ctx, q)
		require.NoError(t, err)
		require.Equal(t, int64(3), n)

		consume := next(e)
		consume.DeleteTasks = []int64{tr.NewTasks[0].ID}
		f.mustApply(consume)
		n, err = f.st.CountTasks(f.ctx, q)
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
	})

	t.Run("DeleteConsumes", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-tasks")
		tr := f.start(e)
		a, b := newTask(e, "q", store.TaskActivity, 1), newTask(e, "q", store.TaskActivity, 2)
		tr.NewTasks = []*store.Task{a, b}
		f.mustApply(tr)

		consume := next(e)
		consume.DeleteTasks = []int64{a.ID}
		f.mustApply(consume)
		requireTasks(t, []*store.Task{b}, f.listTasks(a.TaskQueueKey))

		again := next(consume.Execution)
		again.DeleteTasks = []int64{b.ID, a.ID}
		errs := f.apply(again)
		require.ErrorIs(t, errs[0], store.ErrConflict)
		requireTasks(t, []*store.Task{b}, f.listTasks(a.TaskQueueKey))
		requireExecution(t, consume.Execution, *f.getExecution(e))
	})

	t.Run("DeleteNeverExistedIsConflict", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-tasks")
		tr := next(e)
		tr.DeleteTasks = []int64{987654321}
		errs := f.apply(tr)
		require.ErrorIs(t, errs[0], store.ErrConflict)
	})

	// DropRunTasksAndTimers removes the rows of that run that existed before the transition; the
	// rows the same transition adds are kept.
	t.Run("DropRunTasksAndTimers", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		a := f.newExecution("wf-drop")
		ta := f.start(a)
		ta.NewTasks = []*store.Task{newTask(a, "q", store.TaskActivity, 1), newTask(a, "q", store.TaskWorkflow, 2)}
		ta.NewTimers = []*store.Timer{newTimer(a, at(time.Minute), 1), newTimer(a, at(time.Hour), 2)}
		// Another run of the same workflow ID and another workflow keep their rows.
		sibling := f.newExecution("wf-drop")
		ts := &store.Transition{Execution: sibling, Events: events(1, 1)}
		siblingTask := newTask(sibling, "q", store.TaskActivity, 1)
		siblingTimer := newTimer(sibling, at(2*time.Minute), 1)
		ts.NewTasks, ts.NewTimers = []*store.Task{siblingTask}, []*store.Timer{siblingTimer}
		other := f.newExecution("wf-other")
		to := f.start(other)
		otherTask := newTask(other, "q", store.TaskActivity, 1)
		otherTimer := newTimer(other, at(3*time.Minute), 1)
		to.NewTasks, to.NewTimers = []*store.Task{otherTask}, []*store.Timer{otherTimer}
		f.mustApply(ta, ts, to)

		closeA := next(a)
		closeA.DropRunTasksAndTimers = true
		retention := newTimer(a, at(48*time.Hour), 9)
		outbox := newTask(a, "q", store.TaskInternal, 9)
		closeA.NewTimers = []*store.Timer{retention}
		closeA.NewTasks = []*store.Task{outbox}
		f.mustApply(closeA)

		q := siblingTask.TaskQueueKey
		requireTasks(t, []*store.Task{siblingTask, otherTask}, f.listTasks(q))
		require.Empty(t, f.listTasks(store.TaskQueueKey{Namespace: a.Namespace, Name: "q", Kind: store.TaskWorkflow}))
		requireTasks(t, []*store.Task{outbox}, f.listTasks(outbox.TaskQueueKey))
		requireTimers(t, []*store.Timer{siblingTimer, otherTimer, retention}, f.listTimers())
	})

	// A closing transition usually also consumes the task that closed it: the consumption is
	// still fenced, so DropRunTasksAndTimers must not remove the rows it names first.
	t.Run("DropRunTasksAndTimersWithConsume", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-drop")
		tr := f.start(e)
		claimed, other := newTask(e, "q", store.TaskWorkflow, 2), newTask(e, "q", store.TaskActivity, 3)
		fired, pending := newTimer(e, at(time.Minute), 2), newTimer(e, at(time.Hour), 3)
		tr.NewTasks, tr.NewTimers = []*store.Task{claimed, other}, []*store.Timer{fired, pending}
		f.mustApply(tr)

		// The claimed task is gone (another node claimed it): the close is fenced.
		steal := next(e)
		steal.DeleteTasks = []int64{claimed.ID}
		f.mustApply(steal)
		e = steal.Execution
		late := next(e)
		late.DeleteTasks = []int64{claimed.ID}
		late.DropRunTasksAndTimers = true
		errs := f.apply(late)
		require.ErrorIs(t, errs[0], store.ErrConflict)
		requireTasks(t, []*store.Task{other}, f.listTasks(other.TaskQueueKey))
		requireTimers(t, []*store.Timer{fired, pending}, f.listTimers())

		// With live rows the close consumes them and drops the rest.
		closeRun := next(e)
		closeRun.DeleteTasks = []int64{other.ID}
		closeRun.DeleteTimers = []int64{fired.ID}
		closeRun.DropRunTasksAndTimers = true
		f.mustApply(closeRun)
		require.Empty(t, f.listTasks(other.TaskQueueKey))
		require.Empty(t, f.listTasks(claimed.TaskQueueKey))
		require.Empty(t, f.listTimers())
		requireExecution(t, closeRun.Execution, *f.getExecution(e))
	})
}

// testTimers covers timer rows: insert, listing by FireAt then ID, consumption.
func (s *suite) testTimers(t *testing.T) {
	t.Parallel()

	t.Run("InsertFillsIDsAndRoundTrips", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-timers")
		tr := f.start(e)
		m1 := newTimer(e, at(time.Minute), 5)
		m1.Kind, m1.Attempt = 3, 4
		m2 := newTimer(e, at(time.Minute), 6)
		m2.Data = nil
		tr.NewTimers = []*store.Timer{m1, m2}
		f.mustApply(tr)

		require.NotZero(t, m1.ID)
		require.Greater(t, m2.ID, m1.ID)
		requireTimers(t, []*store.Timer{m1, m2}, f.listTimers())
	})

	t.Run("ListByFireAtThenIDWithLimit", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-timers")
		tr := next(e)
		late := newTimer(e, at(3*time.Hour), 1)
		tieA := newTimer(e, at(time.Hour), 2)
		early := newTimer(e, at(-time.Hour), 3)
		tieB := newTimer(e, at(time.Hour), 4)
		tr.NewTimers = []*store.Timer{late, tieA, early, tieB}
		other := f.newExecution("wf-other")
		other.Namespace = "ns-other"
		to := f.start(other)
		otherTimer := newTimer(other, at(2*time.Hour), 1)
		to.NewTimers = []*store.Timer{otherTimer}
		f.mustApply(tr, to)

		cases := []struct {
			name  string
			until time.Time
			limit int
			want  []*store.Timer
		}{
			{"All", at(10 * time.Hour), 10, []*store.Timer{early, tieA, tieB, otherTimer, late}},
			{"UntilIsInclusive", at(time.Hour), 10, []*store.Timer{early, tieA, tieB}},
			{"UntilBeforeTie", at(time.Hour - time.Microsecond), 10, []*store.Timer{early}},
			{"LimitSplitsTie", at(10 * time.Hour), 2, []*store.Timer{early, tieA}},
			{"Limit", at(10 * time.Hour), 4, []*store.Timer{early, tieA, tieB, otherTimer}},
			{"NothingDue", at(-2 * time.Hour), 10, nil},
		}
		for _, tc := range cases {
			got, err := f.st.ListTimers(f.ctx, tc.until, tc.limit)
			require.NoError(t, err, tc.name)
			t.Run(tc.name, func(t *testing.T) { requireTimers(t, tc.want, got) })
		}
	})

	t.Run("DeleteConsumes", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-timers")
		tr := f.start(e)
		a, b := newTimer(e, at(time.Minute), 1), newTimer(e, at(time.Minute), 2)
		tr.NewTimers = []*store.Timer{a, b}
		f.mustApply(tr)

		fire := next(e)
		fire.DeleteTimers = []int64{a.ID}
		f.mustApply(fire)
		requireTimers(t, []*store.Timer{b}, f.listTimers())

		again := next(fire.Execution)
		again.DeleteTimers = []int64{b.ID, a.ID}
		errs := f.apply(again)
		require.ErrorIs(t, errs[0], store.ErrConflict)
		requireTimers(t, []*store.Timer{b}, f.listTimers())
		requireExecution(t, fire.Execution, *f.getExecution(e))
	})

	t.Run("DeleteNeverExistedIsConflict", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-timers")
		tr := next(e)
		tr.DeleteTimers = []int64{987654321}
		errs := f.apply(tr)
		require.ErrorIs(t, errs[0], store.ErrConflict)
	})
}
