package e2etest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
)

// Load is the benchmarks' load loop: it calls one(ctx, i) for every i in [0, b.N), at most
// inFlight at once, times each call and fails the benchmark on the first error. The timer runs
// only around the calls. It reports the p50-ms and p99-ms latencies and returns the wall time
// and the sorted latencies, for the caller's throughput metric.
func Load(b *testing.B, inFlight int, one func(ctx context.Context, i int) error) (elapsed time.Duration, sorted []time.Duration) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	latencies := make([]time.Duration, b.N)
	errs := make(chan error, 1)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	b.ResetTimer()
	began := time.Now()
	for i := range b.N {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			if err := one(ctx, i); err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			latencies[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	elapsed = time.Since(began)
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	// The slowest one shows a stall (a wake-up missed, a lease waited out) that p99 hides.
	b.ReportMetric(float64(latencies[len(latencies)-1].Microseconds())/1000, "max-ms")
	return elapsed, latencies
}

// RunEcho starts workflow wf (one that returns its string input) as workflow ID id on task queue
// tq through c, with the input the call's index i, and checks that it returns that input: the one
// call of the one-activity benchmarks.
func RunEcho(ctx context.Context, c client.Client, tq, id string, wf any, i int) error {
	in := fmt.Sprint(i)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, wf, in)
	if err != nil {
		return err
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		return err
	}
	if out != in {
		return fmt.Errorf("workflow %d returned %q", i, out)
	}
	return nil
}
