package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// benchActs holds the benchmark's one activity.
type benchActs struct{}

// Echo returns its input.
func (*benchActs) Echo(_ context.Context, s string) (string, error) { return s, nil }

// oneActivityWorkflow runs Echo once.
func oneActivityWorkflow(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var acts *benchActs
	var out string
	err := workflow.ExecuteActivity(ctx, acts.Echo, s).Get(ctx, &out)
	return out, err
}

// BenchmarkOneActivityWorkflow runs b.N one-activity workflows, 50 in flight, against an in-process
// node, and reports throughput and the start-to-result latency percentiles.
func BenchmarkOneActivityWorkflow(b *testing.B) {
	const inFlight = 50
	e := newEnv(b)
	tq := e.startWorker(registry{workflows: []any{oneActivityWorkflow}, activities: []any{&benchActs{}}})

	latencies := make([]time.Duration, b.N)
	errs := make(chan error, inFlight)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	b.ResetTimer()
	began := time.Now()
	for i := 0; i < b.N; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			in := fmt.Sprint(i)
			run, err := e.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-%d-%d", b.N, i), TaskQueue: tq}, oneActivityWorkflow, in)
			if err == nil {
				var out string
				err = run.Get(ctx, &out)
				if err == nil && out != in {
					err = fmt.Errorf("workflow %d returned %q", i, out)
				}
			}
			if err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			latencies[i] = time.Since(t0)
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	select {
	case err := <-errs:
		require.NoError(b, err)
	default:
	}

	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "workflows/s")
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
}
