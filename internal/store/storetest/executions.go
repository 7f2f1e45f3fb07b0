package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testDeleteExecution covers removing a run with everything it owns.
func (s *suite) testDeleteExecution(t *testing.T) {
	t.Parallel()

	// withRows creates a run with events, a task and a timer.
	withRows := func(f *fixture, e store.Execution, current bool) *store.Transition {
		tr := f.start(e)
		if !current {
			tr.Current = nil
		}
		tr.NewTasks = []*store.Task{newTask(e, "q", store.TaskActivity, 2)}
		tr.NewTimers = []*store.Timer{newTimer(e, at(time.Minute), 2)}
		f.mustApply(tr)
		return tr
	}

	t.Run("RemovesEverything", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-delete")
		tr := withRows(f, e, true)
		other := f.newExecution("wf-keep")
		trOther := withRows(f, other, true)

		require.NoError(t, f.st.DeleteExecution(f.ctx, e.Namespace, e.WorkflowID, e.RunID))

		_, err := f.st.GetExecution(f.ctx, e.Namespace, e.WorkflowID, e.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = f.st.GetCurrent(f.ctx, e.Namespace, e.WorkflowID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Empty(t, f.readEvents(e))
		got, err := f.st.ReadEventsReverse(f.ctx, e.Namespace, e.RunID, 0, 0)
		require.NoError(t, err)
		require.Empty(t, got)
		requireTasks(t, trOther.NewTasks, f.listTasks(tr.NewTasks[0].TaskQueueKey))
		requireTimers(t, trOther.NewTimers, f.listTimers())

		// The other run is untouched.
		requireExecution(t, other, *f.getExecution(other))
		requireEvents(t, events(1, 2), f.readEvents(other))
		cur, err := f.st.GetCurrent(f.ctx, other.Namespace, other.WorkflowID)
		require.NoError(t, err)
		require.Equal(t, other.RunID, cur.RunID)

		n, err := f.st.CountExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns})
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
		listed, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns})
		require.NoError(t, err)
		require.Len(t, listed, 1)
		require.Equal(t, other.RunID, listed[0].RunID)

		// The run ID can be used again.
		f.mustApply(f.start(e))
		requireExecution(t, e, *f.getExecution(e))
	})

	t.Run("KeepsCurrentOfAnotherRun", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		old := f.newExecution("wf-delete")
		withRows(f, old, false)
		latest := f.newExecution("wf-delete")
		start := withRows(f, latest, true)

		require.NoError(t, f.st.DeleteExecution(f.ctx, old.Namespace, old.WorkflowID, old.RunID))

		_, err := f.st.GetExecution(f.ctx, old.Namespace, old.WorkflowID, old.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Empty(t, f.readEvents(old))
		cur, err := f.st.GetCurrent(f.ctx, latest.Namespace, latest.WorkflowID)
		require.NoError(t, err)
		requireCurrent(t, start.Current.Current, *cur)
		requireExecution(t, latest, *f.getExecution(latest))
		requireEvents(t, events(1, 2), f.readEvents(latest))
		requireTasks(t, start.NewTasks, f.listTasks(start.NewTasks[0].TaskQueueKey))
		requireTimers(t, start.NewTimers, f.listTimers())
	})

	t.Run("MissingIsNotAnError", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		require.NoError(t, f.st.DeleteExecution(f.ctx, f.ns, "no-such-workflow", "no-such-run"))
		e := f.create("wf-delete")
		require.NoError(t, f.st.DeleteExecution(f.ctx, e.Namespace, e.WorkflowID, e.RunID))
		require.NoError(t, f.st.DeleteExecution(f.ctx, e.Namespace, e.WorkflowID, e.RunID))
	})
}

// testListExecutions covers visibility listing: filters, order and keyset paging, and counting.
func (s *suite) testListExecutions(t *testing.T) {
	t.Parallel()

	// populate writes 12 executions: 3 workflow IDs x 2 types, statuses 1..3, start times with
	// ties (several runs share a StartTime, so RunID breaks them), plus one in another namespace.
	populate := func(f *fixture) []store.Execution {
		var all []store.Execution
		var ts []*store.Transition
		for i := range 12 {
			e := f.newExecution(fmt.Sprintf("wf-%d", i%3))
			e.RunID = fmt.Sprintf("run-%02d-%s", (i*7)%12, e.RunID[:8])
			e.WorkflowType = []string{"Alpha", "Beta"}[i%2]
			e.Status = int32(1 + i%3)
			e.StartTime = at(time.Duration(i/3) * time.Minute)
			e.State = []byte("state that list results leave out")
			if e.Status != 1 {
				e.CloseTime = e.StartTime.Add(time.Second)
			}
			tr := &store.Transition{Execution: e}
			ts = append(ts, tr)
			all = append(all, e)
		}
		foreign := f.newExecution("wf-0")
		foreign.Namespace = "ns-other"
		ts = append(ts, &store.Transition{Execution: foreign})
		f.mustApply(ts...)
		return all
	}
	// expect returns the executions of all that match keep, in list order, with State left out.
	expect := func(all []store.Execution, keep func(store.Execution) bool) []store.Execution {
		var want []store.Execution
		for _, e := range all {
			if keep(e) {
				e.State = nil
				want = append(want, e)
			}
		}
		for i := 1; i < len(want); i++ {
			for j := i; j > 0 && listsBefore(want[j], want[j-1]); j-- {
				want[j], want[j-1] = want[j-1], want[j]
			}
		}
		return want
	}
	requireList := func(t *testing.T, want, got []store.Execution) {
		t.Helper()
		require.Len(t, got, len(want), "want runs %v, got %v", runIDs(want), runIDs(got))
		for i := range want {
			require.Empty(t, got[i].State, "list results leave State empty")
			requireExecution(t, want[i], got[i])
		}
	}

	filters := []struct {
		name   string
		filter store.ExecutionFilter
		keep   func(store.Execution) bool
	}{
		{"Namespace", store.ExecutionFilter{}, func(store.Execution) bool { return true }},
		{"WorkflowID", store.ExecutionFilter{WorkflowID: "wf-1"}, func(e store.Execution) bool { return e.WorkflowID == "wf-1" }},
		{"WorkflowType", store.ExecutionFilter{WorkflowType: "Beta"}, func(e store.Execution) bool { return e.WorkflowType == "Beta" }},
		{"OneStatus", store.ExecutionFilter{Statuses: []int32{2}}, func(e store.Execution) bool { return e.Status == 2 }},
		{"TwoStatuses", store.ExecutionFilter{Statuses: []int32{1, 3}}, func(e store.Execution) bool { return e.Status != 2 }},
		{"Combined", store.ExecutionFilter{WorkflowID: "wf-2", WorkflowType: "Alpha", Statuses: []int32{3, 1}},
			func(e store.Execution) bool {
				return e.WorkflowID == "wf-2" && e.WorkflowType == "Alpha" && e.Status != 2
			}},
		{"NoMatch", store.ExecutionFilter{WorkflowID: "wf-none"}, func(store.Execution) bool { return false }},
	}

	t.Run("FilterAndOrder", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		all := populate(f)
		for _, tc := range filters {
			filter := tc.filter
			filter.Namespace = f.ns
			got, err := f.st.ListExecutions(f.ctx, filter)
			require.NoError(t, err, tc.name)
			want := expect(all, tc.keep)
			n, err := f.st.CountExecutions(f.ctx, filter)
			require.NoError(t, err, tc.name)
			t.Run(tc.name, func(t *testing.T) {
				requireList(t, want, got)
				require.Equal(t, int64(len(want)), n, "CountExecutions")
			})
		}
	})

	t.Run("KeysetPaging", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		all := populate(f)
		for _, tc := range filters {
			for _, pageSize := range []int{1, 2, 5} {
				filter := tc.filter
				filter.Namespace = f.ns
				filter.PageSize = pageSize
				var got []store.Execution
				for pages := 0; ; pages++ {
					require.Less(t, pages, 20, "%s: paging does not end", tc.name)
					page, err := f.st.ListExecutions(f.ctx, filter)
					require.NoError(t, err)
					require.LessOrEqual(t, len(page), pageSize)
					got = append(got, page...)
					if len(page) < pageSize {
						break
					}
					last := page[len(page)-1]
					filter.After = &store.ListPosition{StartTime: last.StartTime, RunID: last.RunID}
				}
				t.Run(fmt.Sprintf("%s/PageSize%d", tc.name, pageSize), func(t *testing.T) {
					requireList(t, expect(all, tc.keep), got)
				})
			}
		}
	})

	t.Run("AfterPosition", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		all := populate(f)
		want := expect(all, func(store.Execution) bool { return true })
		// A position between two runs with the same StartTime continues with the lower RunID.
		mid := want[4]
		got, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{
			Namespace: f.ns,
			After:     &store.ListPosition{StartTime: mid.StartTime, RunID: mid.RunID},
		})
		require.NoError(t, err)
		requireList(t, want[5:], got)

		// A position need not name an existing row.
		got, err = f.st.ListExecutions(f.ctx, store.ExecutionFilter{
			Namespace: f.ns,
			After:     &store.ListPosition{StartTime: at(90 * time.Second), RunID: "zzz"},
			PageSize:  3,
		})
		require.NoError(t, err)
		requireList(t, expect(all, func(e store.Execution) bool { return e.StartTime.Before(at(90 * time.Second)) })[:3], got)

		// Paging fields do not change the count.
		n, err := f.st.CountExecutions(f.ctx, store.ExecutionFilter{
			Namespace: f.ns, PageSize: 2, After: &store.ListPosition{StartTime: mid.StartTime, RunID: mid.RunID},
		})
		require.NoError(t, err)
		require.Equal(t, int64(len(all)), n)
	})

	t.Run("ReflectsUpdates", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-list")
		closed := next(e)
		closed.Execution.Status = 2
		closed.Execution.CloseTime = at(time.Hour)
		closed.Execution.HistoryLength = 5
		f.mustApply(closed)

		got, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, Statuses: []int32{2}})
		require.NoError(t, err)
		want := closed.Execution
		want.State = nil
		requireList(t, []store.Execution{want}, got)
		got, err = f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, Statuses: []int32{1}})
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("EmptyNamespace", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		got, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, PageSize: 10})
		require.NoError(t, err)
		require.Empty(t, got)
		n, err := f.st.CountExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns})
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// listsBefore reports whether a comes before b in list order: StartTime, then RunID, descending.
func listsBefore(a, b store.Execution) bool {
	if !a.StartTime.Equal(b.StartTime) {
		return a.StartTime.After(b.StartTime)
	}
	return a.RunID > b.RunID
}

func runIDs(es []store.Execution) []string {
	ids := make([]string, 0, len(es))
	for _, e := range es {
		ids = append(ids, e.RunID)
	}
	return ids
}
