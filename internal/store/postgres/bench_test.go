package postgres

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// BenchmarkApply measures commits on the test server: one transition per Apply (a workflow step:
// the execution's new version, 3 events, 1 task), and 32 such transitions of 32 runs per Apply
// (group commit). It reports transitions/s and Applies/s.
func BenchmarkApply(b *testing.B) {
	for _, perApply := range []int{1, 32} {
		b.Run(fmt.Sprintf("transitions=%d", perApply), func(b *testing.B) {
			s := openTest(b)
			ctx := b.Context()
			runs := make([]store.Execution, perApply)
			next := make([]int64, perApply) // next event ID of each run
			for i := range runs {
				runs[i] = execution(fmt.Sprintf("wf-%d", i))
				start := startTransition(runs[i])
				errs, err := s.Apply(ctx, []*store.Transition{start})
				require.NoError(b, err)
				require.NoError(b, errs[0])
				next[i] = 4
			}
			group := make([]*store.Transition, perApply)
			b.ResetTimer()
			for range b.N {
				for i, e := range runs {
					tr := bump(e)
					tr.Events = []store.Event{
						{EventID: next[i], Data: []byte("completed")},
						{EventID: next[i] + 1, Data: []byte("scheduled")},
						{EventID: next[i] + 2, Data: []byte("signaled")},
					}
					tr.NewTasks = []*store.Task{{
						TaskQueueKey: store.TaskQueueKey{Namespace: e.Namespace, Name: "acts", Kind: store.TaskActivity},
						WorkflowID:   e.WorkflowID, RunID: e.RunID, ScheduledEventID: next[i] + 1, Attempt: 1,
						CreatedAt: t0, VisibleAt: t0, Data: []byte("task"),
					}}
					group[i] = tr
				}
				errs, err := s.Apply(ctx, group)
				if err != nil {
					b.Fatal(err)
				}
				for i, err := range errs {
					if err != nil {
						b.Fatalf("transition %d: %v", i, err)
					}
					runs[i] = group[i].Execution
					next[i] += 3
				}
			}
			b.StopTimer()
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "applies/s")
			b.ReportMetric(float64(b.N*perApply)/secs, "transitions/s")
		})
	}
}
