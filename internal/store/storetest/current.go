package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testCurrent covers the current-run pointer: insert, move, and its fences.
func (s *suite) testCurrent(t *testing.T) {
	t.Parallel()

	t.Run("Insert", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-current")
		tr := f.start(e)
		f.mustApply(tr)

		got, err := f.st.GetCurrent(f.ctx, e.Namespace, e.WorkflowID)
		require.NoError(t, err)
		requireCurrent(t, tr.Current.Current, *got)
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-current")

		_, err := f.st.GetCurrent(f.ctx, e.Namespace, "no-such-workflow")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = f.st.GetCurrent(f.ctx, "other-namespace", e.WorkflowID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("InsertExistingIsAlreadyExists", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		first := f.newExecution("wf-current")
		firstStart := f.start(first)
		f.mustApply(firstStart)

		second := f.newExecution("wf-current")
		errs := f.apply(f.start(second))
		require.ErrorIs(t, errs[0], store.ErrAlreadyExists)

		got, err := f.st.GetCurrent(f.ctx, first.Namespace, first.WorkflowID)
		require.NoError(t, err)
		requireCurrent(t, firstStart.Current.Current, *got)
		_, err = f.st.GetExecution(f.ctx, second.Namespace, second.WorkflowID, second.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("MoveToNewRun", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		first := f.create("wf-current")

		second := f.newExecution("wf-current")
		second.StartTime = at(time.Hour)
		tr := f.start(second)
		tr.Current.ExpectedRunID = first.RunID
		tr.Current.Current.Status = 1
		f.mustApply(tr)

		got, err := f.st.GetCurrent(f.ctx, second.Namespace, second.WorkflowID)
		require.NoError(t, err)
		requireCurrent(t, tr.Current.Current, *got)
		// The old run is still there; only the pointer moved.
		requireExecution(t, first, *f.getExecution(first))
	})

	t.Run("UpdateSameRun", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-current")
		start := f.start(e)
		f.mustApply(start)

		tr := next(e)
		tr.Execution.Status = 2
		closed := start.Current.Current
		closed.Status = 2
		tr.Current = &store.CurrentUpdate{ExpectedRunID: e.RunID, Current: closed}
		f.mustApply(tr)

		got, err := f.st.GetCurrent(f.ctx, e.Namespace, e.WorkflowID)
		require.NoError(t, err)
		requireCurrent(t, closed, *got)
	})

	t.Run("MoveWithWrongRunIsConflict", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		first := f.newExecution("wf-current")
		firstStart := f.start(first)
		f.mustApply(firstStart)

		second := f.newExecution("wf-current")
		tr := f.start(second)
		tr.Current.ExpectedRunID = "not-the-current-run"
		errs := f.apply(tr)
		require.ErrorIs(t, errs[0], store.ErrConflict)

		got, err := f.st.GetCurrent(f.ctx, first.Namespace, first.WorkflowID)
		require.NoError(t, err)
		requireCurrent(t, firstStart.Current.Current, *got)
		_, err = f.st.GetExecution(f.ctx, second.Namespace, second.WorkflowID, second.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("MoveWithoutPointerIsConflict", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-current")
		tr := f.start(e)
		tr.Current.ExpectedRunID = "some-old-run"
		errs := f.apply(tr)
		require.ErrorIs(t, errs[0], store.ErrConflict)

		_, err := f.st.GetCurrent(f.ctx, e.Namespace, e.WorkflowID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("TransitionWithoutCurrentLeavesIt", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-current")
		start := f.start(e)
		f.mustApply(start)
		f.mustApply(next(e))

		got, err := f.st.GetCurrent(f.ctx, e.Namespace, e.WorkflowID)
		require.NoError(t, err)
		requireCurrent(t, start.Current.Current, *got)
	})
}

// testEvents covers appending history events and reading them by range, limit and in reverse.
func (s *suite) testEvents(t *testing.T) {
	t.Parallel()

	// setup10 creates a run whose history is events 1..10, appended by three transitions.
	setup10 := func(t *testing.T) (*fixture, store.Execution) {
		f := s.setup(t)
		e := f.create("wf-events")
		v2 := next(e)
		v2.Events = events(3, 7)
		v3 := next(v2.Execution)
		v3.Events = events(8, 10)
		f.mustApply(v2)
		f.mustApply(v3)
		return f, e
	}

	t.Run("ReadEvents", func(t *testing.T) {
		t.Parallel()
		f, e := setup10(t)
		cases := []struct {
			name             string
			from, to         int64
			limit            int
			wantFrom, wantTo int64 // wantTo < wantFrom: none
		}{
			{"All", 1, 0, 0, 1, 10},
			{"FromZero", 0, 0, 0, 1, 10},
			{"NegativeTo", 1, -1, -1, 1, 10},
			{"Range", 3, 7, 0, 3, 6},
			{"ToIsExclusive", 1, 10, 0, 1, 9},
			{"ToPastEnd", 4, 100, 0, 4, 10},
			{"Limit", 1, 0, 4, 1, 4},
			{"RangeAndLimit", 5, 9, 2, 5, 6},
			{"LimitPastRange", 5, 7, 10, 5, 6},
			{"SingleEvent", 10, 11, 0, 10, 10},
			{"FromPastEnd", 11, 0, 0, 11, 10},
			{"EmptyRange", 5, 5, 0, 5, 4},
		}
		for _, tc := range cases {
			got, err := f.st.ReadEvents(f.ctx, e.Namespace, e.RunID, tc.from, tc.to, tc.limit)
			require.NoError(t, err, tc.name)
			var want []store.Event
			if tc.wantTo >= tc.wantFrom {
				want = events(tc.wantFrom, tc.wantTo)
			}
			t.Run(tc.name, func(t *testing.T) { requireEvents(t, want, got) })
		}
	})

	t.Run("ReadEventsReverse", func(t *testing.T) {
		t.Parallel()
		f, e := setup10(t)
		cases := []struct {
			name       string
			beforeOrAt int64
			limit      int
			want       []int64
		}{
			{"All", 0, 0, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
			{"NegativeMeansLast", -1, 3, []int64{10, 9, 8}},
			{"BeforeOrAtIsInclusive", 7, 0, []int64{7, 6, 5, 4, 3, 2, 1}},
			{"Limit", 0, 3, []int64{10, 9, 8}},
			{"BeforeOrAtAndLimit", 5, 2, []int64{5, 4}},
			{"PastEnd", 100, 2, []int64{10, 9}},
			{"First", 1, 5, []int64{1}},
		}
		for _, tc := range cases {
			got, err := f.st.ReadEventsReverse(f.ctx, e.Namespace, e.RunID, tc.beforeOrAt, tc.limit)
			require.NoError(t, err, tc.name)
			var want []store.Event
			for _, id := range tc.want {
				want = append(want, events(id, id)...)
			}
			t.Run(tc.name, func(t *testing.T) { requireEvents(t, want, got) })
		}
	})

	t.Run("NoEventsIsEmpty", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		got, err := f.st.ReadEvents(f.ctx, f.ns, "no-such-run", 1, 0, 0)
		require.NoError(t, err)
		require.Empty(t, got)
		got, err = f.st.ReadEventsReverse(f.ctx, f.ns, "no-such-run", 0, 0)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("RunsAreSeparate", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		a := f.create("wf-a")
		b := f.newExecution("wf-b")
		tb := f.start(b)
		tb.Events = []store.Event{{EventID: 1, Data: []byte("b1")}, {EventID: 2, Data: []byte("b2")}, {EventID: 3, Data: []byte("b3")}}
		f.mustApply(tb)

		requireEvents(t, events(1, 2), f.readEvents(a))
		requireEvents(t, tb.Events, f.readEvents(b))
		got, err := f.st.ReadEvents(f.ctx, "other-namespace", a.RunID, 1, 0, 0)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("DuplicateEventIsAlreadyExists", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-events")
		tr := next(e)
		tr.Events = []store.Event{{EventID: 2, Data: []byte("rewritten")}}
		errs := f.apply(tr)
		require.ErrorIs(t, errs[0], store.ErrAlreadyExists)

		requireEvents(t, events(1, 2), f.readEvents(e))
		requireExecution(t, e, *f.getExecution(e))
	})

	t.Run("DuplicateWithinTransitionIsAlreadyExists", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-events")
		tr := next(e)
		tr.Events = []store.Event{{EventID: 3, Data: []byte("a")}, {EventID: 3, Data: []byte("b")}}
		errs := f.apply(tr)
		require.ErrorIs(t, errs[0], store.ErrAlreadyExists)
		requireEvents(t, events(1, 2), f.readEvents(e))
	})
}
