package storetest

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testData checks that blobs, times and strings survive the database unchanged.
func (s *suite) testData(t *testing.T) {
	t.Parallel()

	allBytes := make([]byte, 512)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	large := make([]byte, 2<<20) // Temporal's payload limit
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range large {
		large[i] = byte(rng.Uint32())
	}
	blobs := []struct {
		name string
		data []byte
	}{
		{"Nil", nil},
		{"Empty", []byte{}},
		{"AllByteValues", allBytes},
		{"NULAndInvalidUTF8", []byte{0, 0xff, 0xfe, 0, 'x', 0}},
		{"Large2MB", large},
	}
	for _, tc := range blobs {
		t.Run("Blob"+tc.name, func(t *testing.T) {
			t.Parallel()
			f := s.setup(t)
			e := f.newExecution("wf-blob")
			e.State, e.Memo, e.SearchAttributes = tc.data, tc.data, tc.data
			tr := f.start(e)
			tr.Events = []store.Event{{EventID: 1, Data: tc.data}, {EventID: 2, Data: []byte("x")}}
			task := newTask(e, "q", store.TaskActivity, 1)
			task.Data = tc.data
			timer := newTimer(e, at(0), 1)
			timer.Data = tc.data
			tr.NewTasks, tr.NewTimers = []*store.Task{task}, []*store.Timer{timer}
			f.mustApply(tr)

			requireExecution(t, e, *f.getExecution(e))
			requireEvents(t, tr.Events, f.readEvents(e))
			rev, err := f.st.ReadEventsReverse(f.ctx, e.Namespace, e.RunID, 1, 0)
			require.NoError(t, err)
			requireEvents(t, tr.Events[:1], rev)
			requireTasks(t, tr.NewTasks, f.listTasks(task.TaskQueueKey))
			requireTimers(t, tr.NewTimers, f.listTimers())
			listed, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns})
			require.NoError(t, err)
			require.Len(t, listed, 1)
			requireBlob(t, tc.data, listed[0].Memo, "listed Memo")
			requireBlob(t, tc.data, listed[0].SearchAttributes, "listed SearchAttributes")

			ns := store.Namespace{ID: "id", Name: "blob", Data: tc.data, CreatedAt: at(0)}
			require.NoError(t, f.st.CreateNamespace(f.ctx, ns))
			got, err := f.st.GetNamespace(f.ctx, "blob")
			require.NoError(t, err)
			requireBlob(t, tc.data, got.Data, "namespace Data")
			ns.Data = append([]byte("v2"), tc.data...)
			require.NoError(t, f.st.UpdateNamespace(f.ctx, ns))
			got, err = f.st.GetNamespace(f.ctx, "blob")
			require.NoError(t, err)
			requireBlob(t, ns.Data, got.Data, "updated namespace Data")
		})
	}

	// Times come back in UTC, equal to what was written to at least the microsecond, whatever
	// location and monotonic reading they were written with.
	t.Run("Times", func(t *testing.T) {
		t.Parallel()
		zone := time.FixedZone("UTC+05:30", 5*3600+1800)
		times := []struct {
			name string
			t    time.Time
		}{
			{"Nanoseconds", time.Date(2026, 7, 1, 12, 30, 45, 123456789, time.UTC)},
			{"OtherZone", time.Date(2026, 7, 1, 18, 0, 45, 123456000, zone)},
			{"Local", time.Date(2026, 1, 2, 3, 4, 5, 6000, time.Local)},
			{"Monotonic", time.Now()},
			{"Before1970", time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)},
			{"FarFuture", time.Date(2999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
			{"Epoch", time.Unix(0, 0)},
		}
		for _, tc := range times {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := s.setup(t)
				e := f.newExecution("wf-time")
				e.StartTime, e.ExecutionTime, e.CloseTime = tc.t, tc.t, tc.t
				tr := f.start(e)
				task := newTask(e, "q", store.TaskActivity, 1)
				task.CreatedAt, task.VisibleAt = tc.t, tc.t
				timer := newTimer(e, tc.t, 1)
				tr.NewTasks, tr.NewTimers = []*store.Task{task}, []*store.Timer{timer}
				f.mustApply(tr)
				require.NoError(t, f.st.CreateNamespace(f.ctx, store.Namespace{Name: "n", CreatedAt: tc.t}))

				got := f.getExecution(e)
				requireNear(t, tc.t, got.StartTime, "StartTime")
				requireNear(t, tc.t, got.ExecutionTime, "ExecutionTime")
				requireNear(t, tc.t, got.CloseTime, "CloseTime")
				cur, err := f.st.GetCurrent(f.ctx, e.Namespace, e.WorkflowID)
				require.NoError(t, err)
				requireNear(t, tc.t, cur.StartTime, "Current.StartTime")
				tasks, err := f.st.ListTasks(f.ctx, task.TaskQueueKey, tc.t.Add(time.Microsecond), 10)
				require.NoError(t, err)
				require.Len(t, tasks, 1)
				requireNear(t, tc.t, tasks[0].CreatedAt, "Task.CreatedAt")
				requireNear(t, tc.t, tasks[0].VisibleAt, "Task.VisibleAt")
				timers, err := f.st.ListTimers(f.ctx, tc.t.Add(time.Microsecond), 10)
				require.NoError(t, err)
				require.Len(t, timers, 1)
				requireNear(t, tc.t, timers[0].FireAt, "Timer.FireAt")
				ns, err := f.st.GetNamespace(f.ctx, "n")
				require.NoError(t, err)
				requireNear(t, tc.t, ns.CreatedAt, "Namespace.CreatedAt")
				listed, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns})
				require.NoError(t, err)
				require.Len(t, listed, 1)
				requireNear(t, tc.t, listed[0].StartTime, "listed StartTime")
			})
		}
	})

	t.Run("ZeroCloseTime", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-open")
		got := f.getExecution(e)
		require.True(t, got.CloseTime.IsZero(), "CloseTime of an open run: got %s", got.CloseTime)
		listed, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns})
		require.NoError(t, err)
		require.Len(t, listed, 1)
		require.True(t, listed[0].CloseTime.IsZero(), "listed CloseTime: got %s", listed[0].CloseTime)
	})

	t.Run("Strings", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution(`wf 'quoted' "double" ; -- % _ \ ü 日本 🙂`)
		e.Namespace = "ns-ü 'x'"
		e.WorkflowType = "Type'; DROP TABLE executions; --"
		e.TaskQueue = "queue/%_\\"
		tr := f.start(e)
		task := newTask(e, e.TaskQueue, store.TaskActivity, 1)
		tr.NewTasks = []*store.Task{task}
		f.mustApply(tr)

		requireExecution(t, e, *f.getExecution(e))
		requireTasks(t, tr.NewTasks, f.listTasks(task.TaskQueueKey))
		listed, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{
			Namespace: e.Namespace, WorkflowID: e.WorkflowID, WorkflowType: e.WorkflowType,
		})
		require.NoError(t, err)
		require.Len(t, listed, 1)
		// No pattern matching: % and _ are plain characters.
		listed, err = f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: e.Namespace, WorkflowID: "wf %"})
		require.NoError(t, err)
		require.Empty(t, listed)
	})
}

// requireNear requires got to be want to within a microsecond, and in UTC.
func requireNear(t *testing.T, want, got time.Time, field string) {
	t.Helper()
	require.Equal(t, time.UTC, got.Location(), "%s must be in UTC", field)
	d := got.Sub(want)
	require.True(t, d > -time.Microsecond && d < time.Microsecond, "%s: wrote %s, read %s", field, want, got)
}
