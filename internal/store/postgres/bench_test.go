package postgres

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// BenchmarkApply measures commits on the test server. Each transition is a workflow step: the
// execution's next version, 3 events and 1 task. Cases: one transition per Apply; 32
// transitions of 32 runs per Apply (group commit); and one transition per Apply from 8
// concurrent committers (the server's own WAL group flush, as several nodes would see it). It
// reports transitions/s and Applies/s.
func BenchmarkApply(b *testing.B) {
	for _, c := range []struct {
		perApply, clients int
	}{{1, 1}, {32, 1}, {1, 8}} {
		b.Run(fmt.Sprintf("transitions=%d/clients=%d", c.perApply, c.clients), func(b *testing.B) {
			cfg, err := pgxpool.ParseConfig(pgtest.Schema(b))
			require.NoError(b, err)
			cfg.MaxConns = int32(c.clients)
			s, err := openConfig(b.Context(), cfg)
			require.NoError(b, err)
			defer s.Close()

			committers := make([]*committer, c.clients)
			for i := range committers {
				committers[i] = newCommitter(b, s, fmt.Sprintf("c%d", i), c.perApply)
			}
			var next atomic.Int64
			b.ResetTimer()
			if c.clients == 1 {
				for range b.N {
					committers[0].step(b)
				}
			} else {
				b.SetParallelism((c.clients + 1) / 2) // GOMAXPROCS is 2 here; RunParallel multiplies
				b.RunParallel(func(pb *testing.PB) {
					cm := committers[int(next.Add(1)-1)%len(committers)]
					for pb.Next() {
						cm.step(b)
					}
				})
			}
			b.StopTimer()
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/secs, "applies/s")
			b.ReportMetric(float64(b.N*c.perApply)/secs, "transitions/s")
		})
	}
}

// committer owns a set of runs and commits one step of each per Apply. It is used by one
// goroutine at a time.
type committer struct {
	s     *Store
	runs  []store.Execution
	next  []int64 // next event ID of each run
	group []*store.Transition
}

func newCommitter(b *testing.B, s *Store, prefix string, runs int) *committer {
	cm := &committer{s: s, runs: make([]store.Execution, runs), next: make([]int64, runs),
		group: make([]*store.Transition, runs)}
	for i := range cm.runs {
		cm.runs[i] = execution(fmt.Sprintf("wf-%s-%d", prefix, i))
		mustCommit(b, s, startTransition(cm.runs[i]))
		cm.next[i] = 4
	}
	return cm
}

// step commits the next step of every run in one Apply.
func (cm *committer) step(b *testing.B) {
	for i, e := range cm.runs {
		tr := bump(e)
		id := cm.next[i]
		tr.Events = []store.Event{
			{EventID: id, Data: []byte("completed")},
			{EventID: id + 1, Data: []byte("scheduled")},
			{EventID: id + 2, Data: []byte("signaled")},
		}
		tr.NewTasks = []*store.Task{{
			TaskQueueKey: store.TaskQueueKey{Namespace: e.Namespace, Name: "acts", Kind: store.TaskActivity},
			WorkflowID:   e.WorkflowID, RunID: e.RunID, ScheduledEventID: id + 1, Attempt: 1,
			CreatedAt: t0, VisibleAt: t0, Data: []byte("task"),
		}}
		cm.group[i] = tr
	}
	errs, err := cm.s.Apply(b.Context(), cm.group)
	if err != nil {
		b.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			b.Fatalf("transition %d: %v", i, err)
		}
		cm.runs[i] = cm.group[i].Execution
		cm.next[i] += 3
	}
}
