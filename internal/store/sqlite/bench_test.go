package sqlite_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/sqlite"
)

// BenchmarkApply measures transitions shaped like a workflow step (rewrite a 1 KB state, append 3
// events of 200 bytes, enqueue 1 task), 1, 8 and 32 per Apply, to show what group commit
// buys: every Apply is one fsync'd commit. Run with -benchtime=Nx or -benchtime=5s; the number that
// matters is transitions/s.
func BenchmarkApply(b *testing.B) {
	for _, batch := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("Batch%d", batch), func(b *testing.B) {
			benchmarkApply(b, batch)
		})
	}
}

func benchmarkApply(b *testing.B, batch int) {
	ctx := b.Context()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()

	const runs = 1024
	state := bytes.Repeat([]byte("s"), 1024)
	payload := bytes.Repeat([]byte("e"), 200)
	now := time.Now().UTC()
	execs := make([]store.Execution, runs)
	var create []*store.Transition
	for i := range execs {
		execs[i] = store.Execution{
			Namespace: "default", WorkflowID: fmt.Sprintf("wf-%d", i), RunID: fmt.Sprintf("%08d-bench-run", i),
			Version: 1, State: state, WorkflowType: "Bench", TaskQueue: "bench", Status: 1,
			StartTime: now, ExecutionTime: now, HistoryLength: 0,
		}
		create = append(create, &store.Transition{Execution: execs[i]})
	}
	if _, err := s.Apply(ctx, create); err != nil {
		b.Fatal(err)
	}

	transitions := 0
	ts := make([]*store.Transition, batch)
	for b.Loop() {
		for j := range ts {
			e := &execs[transitions%runs]
			transitions++
			tr := &store.Transition{ExpectedVersion: e.Version, Execution: *e}
			tr.Execution.Version++
			h := e.HistoryLength
			tr.Execution.HistoryLength = h + 3
			tr.Events = []store.Event{{EventID: h + 1, Data: payload}, {EventID: h + 2, Data: payload}, {EventID: h + 3, Data: payload}}
			tr.NewTasks = []*store.Task{{
				TaskQueueKey: store.TaskQueueKey{Namespace: e.Namespace, Name: "bench", Kind: store.TaskWorkflow},
				WorkflowID:   e.WorkflowID, RunID: e.RunID, ScheduledEventID: h + 3, Attempt: 1,
				CreatedAt: now, VisibleAt: now,
			}}
			ts[j] = tr
			*e = tr.Execution
		}
		errs, err := s.Apply(ctx, ts)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(transitions)/b.Elapsed().Seconds(), "transitions/s")
}
