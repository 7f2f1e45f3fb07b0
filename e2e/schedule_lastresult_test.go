package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// schedCounterWorkflow returns one more than the previous scheduled run's result.
func schedCounterWorkflow(ctx workflow.Context) (int, error) {
	n := 0
	if workflow.HasLastCompletionResult(ctx) {
		if err := workflow.GetLastCompletionResult(ctx, &n); err != nil {
			return 0, err
		}
	}
	return n + 1, nil
}

// TestScheduleRunsSeeLastCompletionResult: each run a schedule starts reads the previous run's
// result, as Temporal's schedules pass it on.
func TestScheduleRunsSeeLastCompletionResult(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{schedCounterWorkflow}})
	id := e.id("counter")
	h := e.schedCreate(id, tq, schedCounterWorkflow, client.ScheduleOptions{})
	for want := 1; want <= 3; want++ {
		e.clk.Advance(time.Minute) // a trigger's run is named after the time it is made
		require.NoError(t, h.Trigger(e.ctx(), client.ScheduleTriggerOptions{}))
		runs := e.schedWaitRuns(id, want)
		r := runs[want-1]
		var got int
		require.NoError(t, e.c.GetWorkflow(e.ctx(), r.WorkflowID, r.RunID).Get(e.ctx(), &got))
		require.Equal(t, want, got, "run %d", want)
		// The schedule records the result when it notices the close (describe makes it look).
		e.schedWait(h, "result recorded", func(d *client.ScheduleDescription) bool { return len(d.Info.RunningWorkflows) == 0 })
	}
}
