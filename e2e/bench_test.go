package e2e

import (
	"context"
	"fmt"
	"github.com/duro-dev/duro/e2e/e2etest"
	"testing"
	"time"

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

	elapsed, _ := e2etest.Load(b, inFlight, func(ctx context.Context, i int) error {
		return e2etest.RunEcho(ctx, e.c, tq, fmt.Sprintf("bench-%d-%d", b.N, i), oneActivityWorkflow, i)
	})
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "workflows/s")
}
