package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testSavepoints checks that a failed transition rolls back only itself: the transitions before
// and after it in the same Apply are durable, and none of its own rows is.
func (s *suite) testSavepoints(t *testing.T) {
	t.Parallel()

	// Each case breaks one part of an otherwise valid transition. Every case writes every kind of
	// row, so whichever order a driver writes them in, some cases fail after rows were written.
	cases := []struct {
		name    string
		breakIt func(tr *store.Transition, gone goneRows)
		want    error
	}{
		{"StaleVersion", func(tr *store.Transition, _ goneRows) { tr.ExpectedVersion-- }, store.ErrConflict},
		{"DuplicateEvent", func(tr *store.Transition, _ goneRows) { tr.Events = events(2, 4) }, store.ErrAlreadyExists},
		{"CurrentAlreadyExists", func(tr *store.Transition, _ goneRows) { tr.Current.ExpectedRunID = "" }, store.ErrAlreadyExists},
		{"CurrentMoved", func(tr *store.Transition, _ goneRows) { tr.Current.ExpectedRunID = "another-run" }, store.ErrConflict},
		{"TaskGone", func(tr *store.Transition, g goneRows) {
			tr.DeleteTasks = append(tr.DeleteTasks, g.task)
		}, store.ErrConsumed},
		{"TimerGone", func(tr *store.Transition, g goneRows) {
			tr.DeleteTimers = append(tr.DeleteTimers, g.timer)
		}, store.ErrConsumed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := s.setup(t)

			// Run A at version 3 with events 1..2, one live task and timer, and one task and
			// timer that were already consumed.
			a := f.create("wf-a")
			v2 := next(a)
			taskA := newTask(a, "qa", store.TaskActivity, 2)
			taskGone := newTask(a, "qa", store.TaskActivity, 2)
			timerA := newTimer(a, at(time.Hour), 2)
			timerGone := newTimer(a, at(time.Hour), 2)
			v2.NewTasks = []*store.Task{taskA, taskGone}
			v2.NewTimers = []*store.Timer{timerA, timerGone}
			f.mustApply(v2)
			v3 := next(v2.Execution)
			v3.DeleteTasks = []int64{taskGone.ID}
			v3.DeleteTimers = []int64{timerGone.ID}
			f.mustApply(v3)
			a = v3.Execution
			currentA, err := f.st.GetCurrent(f.ctx, a.Namespace, a.WorkflowID)
			require.NoError(t, err)

			b := f.newExecution("wf-b")
			t1 := f.start(b)
			taskB := newTask(b, "qb", store.TaskWorkflow, 2)
			timerB := newTimer(b, at(2*time.Hour), 2)
			t1.NewTasks, t1.NewTimers = []*store.Task{taskB}, []*store.Timer{timerB}

			t2 := next(a)
			t2.Events = events(3, 4)
			closed := *currentA
			closed.Status = 2
			t2.Current = &store.CurrentUpdate{ExpectedRunID: a.RunID, Current: closed}
			t2.DeleteTasks = []int64{taskA.ID}
			t2.DeleteTimers = []int64{timerA.ID}
			taskT2 := newTask(a, "q2", store.TaskActivity, 4)
			timerT2 := newTimer(a, at(5*time.Hour), 4)
			t2.NewTasks, t2.NewTimers = []*store.Task{taskT2}, []*store.Timer{timerT2}
			tc.breakIt(t2, goneRows{task: taskGone.ID, timer: timerGone.ID})

			c := f.newExecution("wf-c")
			t3 := f.start(c)
			taskC := newTask(c, "qb", store.TaskWorkflow, 2)
			timerC := newTimer(c, at(3*time.Hour), 2)
			t3.NewTasks, t3.NewTimers = []*store.Task{taskC}, []*store.Timer{timerC}

			errs := f.apply(t1, t2, t3)
			require.NoError(t, errs[0])
			require.ErrorIs(t, errs[1], tc.want)
			if tc.want == store.ErrConflict {
				// Only a consumed row is final; a moved version or pointer is worth a retry.
				require.NotErrorIs(t, errs[1], store.ErrConsumed)
			}
			require.NoError(t, errs[2])

			// The other two transitions are durable.
			requireExecution(t, b, *f.getExecution(b))
			requireExecution(t, c, *f.getExecution(c))
			requireEvents(t, events(1, 2), f.readEvents(b))
			requireEvents(t, events(1, 2), f.readEvents(c))
			require.NotZero(t, taskB.ID)
			require.NotZero(t, taskC.ID)
			require.NotZero(t, timerB.ID)
			require.NotZero(t, timerC.ID)
			requireTasks(t, []*store.Task{taskB, taskC}, f.listTasks(taskB.TaskQueueKey))
			for _, e := range []store.Execution{b, c} {
				cur, err := f.st.GetCurrent(f.ctx, e.Namespace, e.WorkflowID)
				require.NoError(t, err)
				require.Equal(t, e.RunID, cur.RunID)
			}

			// None of the failed transition's rows is, and what it consumed is still there.
			requireExecution(t, a, *f.getExecution(a))
			requireEvents(t, events(1, 2), f.readEvents(a))
			cur, err := f.st.GetCurrent(f.ctx, a.Namespace, a.WorkflowID)
			require.NoError(t, err)
			requireCurrent(t, *currentA, *cur)
			require.Zero(t, taskT2.ID, "a failed transition's task ID is not reported")
			require.Zero(t, timerT2.ID, "a failed transition's timer ID is not reported")
			require.Empty(t, f.listTasks(taskT2.TaskQueueKey))
			requireTasks(t, []*store.Task{taskA}, f.listTasks(taskA.TaskQueueKey))
			requireTimers(t, []*store.Timer{timerA, timerB, timerC}, f.listTimers())
		})
	}
	t.Run("LaterTransitionOfSameRunSeesRollback", s.testSavepointsSameRun)
}

// testSavepointsSameRun checks that a later transition of the same Apply sees a failed one's
// rollback: its version bump never happened.
func (s *suite) testSavepointsSameRun(t *testing.T) {
	t.Parallel()
	f := s.setup(t)
	e := f.create("wf-same-run")

	failed := next(e) // 1 -> 2, but consumes a task that never existed
	failed.Events = events(3, 3)
	failed.DeleteTasks = []int64{987654321}
	afterFailed := next(failed.Execution) // 2 -> 3: version 2 never committed
	afterFailed.Events = events(4, 4)
	retry := next(e) // 1 -> 2 again, valid this time
	retry.Events = events(3, 3)
	retry.Execution.State = []byte("retried")

	errs := f.apply(failed, afterFailed, retry)
	require.ErrorIs(t, errs[0], store.ErrConflict)
	require.ErrorIs(t, errs[1], store.ErrConflict)
	require.NoError(t, errs[2])
	requireExecution(t, retry.Execution, *f.getExecution(e))
	requireEvents(t, events(1, 3), f.readEvents(e))
}

// goneRows names a task and a timer row that existed and were consumed.
type goneRows struct {
	task, timer int64
}

// testConcurrency races writers of the same rows: exactly one wins, the rest are fenced.
func (s *suite) testConcurrency(t *testing.T) {
	t.Parallel()
	const racers = 16

	// race runs fn(i) for i in [0, racers) at once and returns their per-transition errors.
	race := func(t *testing.T, f *fixture, tr func(i int) *store.Transition) []error {
		t.Helper()
		results := make([]error, racers)
		failures := make([]error, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs, err := f.st.Apply(f.ctx, []*store.Transition{tr(i)})
				if err != nil {
					failures[i] = err
					return
				}
				if len(errs) != 1 {
					failures[i] = fmt.Errorf("got %d results for 1 transition", len(errs))
					return
				}
				results[i] = errs[0]
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range failures {
			require.NoError(t, err, "racer %d: Apply failed as a whole", i)
		}
		return results
	}
	// winner requires exactly one nil result and every other result to be want; it returns the
	// winner's index.
	winner := func(t *testing.T, results []error, want error) int {
		t.Helper()
		won := -1
		for i, err := range results {
			if err == nil {
				require.Equal(t, -1, won, "racers %d and %d both won", won, i)
				won = i
				continue
			}
			require.ErrorIs(t, err, want, "racer %d", i)
		}
		require.NotEqual(t, -1, won, "no racer won")
		return won
	}

	// All racers read version 1 and append event 3; the version check is what fences them, so the
	// losers see ErrConflict even though their event 3 would also collide with the winner's.
	t.Run("SameVersion", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-race")
		trs := make([]*store.Transition, racers)
		for i := range racers {
			tr := next(e)
			tr.Execution.State = []byte(fmt.Sprintf("racer-%d", i))
			tr.Events = []store.Event{{EventID: 3, Data: []byte(fmt.Sprintf("racer-%d", i))}}
			tr.NewTasks = []*store.Task{newTask(e, "race", store.TaskWorkflow, 3)}
			trs[i] = tr
		}
		won := winner(t, race(t, f, func(i int) *store.Transition { return trs[i] }), store.ErrConflict)

		requireExecution(t, trs[won].Execution, *f.getExecution(e))
		requireEvents(t, append(events(1, 2), trs[won].Events...), f.readEvents(e))
		requireTasks(t, trs[won].NewTasks, f.listTasks(trs[won].NewTasks[0].TaskQueueKey))
		for i, tr := range trs {
			if i != won {
				require.Zero(t, tr.NewTasks[0].ID, "loser %d's task ID", i)
			}
		}
	})

	t.Run("CreateSameRun", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-create-race")
		trs := make([]*store.Transition, racers)
		for i := range racers {
			trs[i] = f.start(e)
			trs[i].Execution.State = []byte(fmt.Sprintf("racer-%d", i))
		}
		won := winner(t, race(t, f, func(i int) *store.Transition { return trs[i] }), store.ErrAlreadyExists)
		requireExecution(t, trs[won].Execution, *f.getExecution(e))
	})

	// Racers start different runs of one workflow ID: the current pointer admits one.
	t.Run("StartSameWorkflowID", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		trs := make([]*store.Transition, racers)
		for i := range racers {
			trs[i] = f.start(f.newExecution("wf-start-race"))
		}
		won := winner(t, race(t, f, func(i int) *store.Transition { return trs[i] }), store.ErrAlreadyExists)

		cur, err := f.st.GetCurrent(f.ctx, f.ns, "wf-start-race")
		require.NoError(t, err)
		require.Equal(t, trs[won].Execution.RunID, cur.RunID)
		for i, tr := range trs {
			if i == won {
				continue
			}
			_, err := f.st.GetExecution(f.ctx, f.ns, "wf-start-race", tr.Execution.RunID)
			require.ErrorIs(t, err, store.ErrNotFound, "loser %d's execution", i)
		}
	})

	// Racers on different executions claim the same task row: consuming it fences them.
	t.Run("ClaimSameTask", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		owner := f.newExecution("wf-owner")
		create := f.start(owner)
		task := newTask(owner, "claim", store.TaskActivity, 2)
		create.NewTasks = []*store.Task{task}
		f.mustApply(create)

		trs := make([]*store.Transition, racers)
		for i := range racers {
			e := f.create(fmt.Sprintf("wf-claimer-%d", i))
			trs[i] = next(e)
			trs[i].DeleteTasks = []int64{task.ID}
		}
		won := winner(t, race(t, f, func(i int) *store.Transition { return trs[i] }), store.ErrConflict)

		require.Empty(t, f.listTasks(task.TaskQueueKey))
		for i, tr := range trs {
			want := tr.Execution
			if i != won {
				want.Version, want.State = tr.ExpectedVersion, []byte("state-v1")
			}
			requireExecution(t, want, *f.getExecution(tr.Execution))
		}
	})

	// Racers on different executions all commit, whatever the driver batches together.
	t.Run("IndependentExecutions", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		trs := make([]*store.Transition, racers)
		for i := range racers {
			e := f.newExecution(fmt.Sprintf("wf-independent-%d", i))
			trs[i] = f.start(e)
			trs[i].NewTasks = []*store.Task{newTask(e, "independent", store.TaskWorkflow, 2)}
		}
		for i, err := range race(t, f, func(i int) *store.Transition { return trs[i] }) {
			require.NoError(t, err, "racer %d", i)
		}
		seen := map[int64]bool{}
		for _, tr := range trs {
			requireExecution(t, tr.Execution, *f.getExecution(tr.Execution))
			id := tr.NewTasks[0].ID
			require.NotZero(t, id)
			require.False(t, seen[id], "task ID %d reported twice", id)
			seen[id] = true
		}
		require.Len(t, f.listTasks(trs[0].NewTasks[0].TaskQueueKey), racers)
	})
}
