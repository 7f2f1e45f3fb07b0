package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// flakyWorkflow fails until its third attempt, then reports the attempt it succeeded on.
func flakyWorkflow(ctx workflow.Context) (int32, error) {
	attempt := workflow.GetInfo(ctx).Attempt
	if attempt < 3 {
		return 0, temporal.NewApplicationError("not yet", "Flaky")
	}
	return attempt, nil
}

// doomedWorkflow always fails with a non-retryable error.
func doomedWorkflow(ctx workflow.Context) error {
	return temporal.NewApplicationError("never", "Doomed")
}

func TestWorkflowRetryPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{flakyWorkflow, doomedWorkflow}})
	rp := &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumAttempts: 5, NonRetryableErrorTypes: []string{"Doomed"}}

	run := e.start(tq, client.StartWorkflowOptions{RetryPolicy: rp}, flakyWorkflow)
	firstRun := run.GetRunID()
	var attempt int32
	require.NoError(t, run.Get(e.ctx(), &attempt), "run.Get follows the retry chain")
	require.Equal(t, int32(3), attempt)

	first := e.history(run.GetID(), firstRun)
	closeEv := first[len(first)-1]
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, closeEv.GetEventType())
	fa := closeEv.GetWorkflowExecutionFailedEventAttributes()
	require.Equal(t, enumspb.RETRY_STATE_IN_PROGRESS, fa.GetRetryState())
	require.NotEmpty(t, fa.GetNewExecutionRunId())
	second := e.history(run.GetID(), fa.GetNewExecutionRunId())
	wes := second[0].GetWorkflowExecutionStartedEventAttributes()
	require.Equal(t, int32(2), wes.GetAttempt())
	require.Equal(t, enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY, wes.GetInitiator())
	require.Equal(t, firstRun, wes.GetFirstExecutionRunId())
	require.Equal(t, firstRun, wes.GetContinuedExecutionRunId())
	require.Equal(t, "not yet", wes.GetContinuedFailure().GetMessage())
	require.Equal(t, 100*time.Millisecond, wes.GetFirstWorkflowTaskBackoff().AsDuration(), "attempt 2 waits the initial interval")

	doomed := e.start(tq, client.StartWorkflowOptions{RetryPolicy: rp}, doomedWorkflow)
	err := doomed.Get(e.ctx(), nil)
	var we *temporal.WorkflowExecutionError
	require.True(t, errors.As(err, &we), "got %v", err)
	events := e.historyOf(doomed)
	require.Equal(t, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE, events[len(events)-1].GetWorkflowExecutionFailedEventAttributes().GetRetryState())
	require.Equal(t, int32(1), events[0].GetWorkflowExecutionStartedEventAttributes().GetAttempt(), "a non-retryable failure is not retried")
}

// cronWorkflow hands each run the previous run's result plus one.
func cronWorkflow(ctx workflow.Context) (int64, error) {
	var last int64
	if workflow.HasLastCompletionResult(ctx) {
		if err := workflow.GetLastCompletionResult(ctx, &last); err != nil {
			return 0, err
		}
	}
	return last + 1, nil
}

func TestCronScheduleOnStart(t *testing.T) {
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{cronWorkflow}})
	wfID := e.id("cron")
	run := e.start(tq, client.StartWorkflowOptions{ID: wfID, CronSchedule: "@every 1h"}, cronWorkflow)
	firstRun := run.GetRunID()

	// The first run waits for the first scheduled time.
	events := e.history(wfID, firstRun)
	wes := events[0].GetWorkflowExecutionStartedEventAttributes()
	require.Equal(t, "@every 1h", wes.GetCronSchedule())
	require.InDelta(t, time.Hour.Seconds(), wes.GetFirstWorkflowTaskBackoff().AsDuration().Seconds(), 2)
	e.never(func() bool {
		evs := e.history(wfID, firstRun)
		return isCloseEvent(evs[len(evs)-1].GetEventType())
	}, 500*time.Millisecond, 50*time.Millisecond, "the first run does not start before its scheduled time")

	// Each hour one run: it closes pointing at the next, which carries the result and the cron initiator.
	runID := firstRun
	for i := int64(1); i <= 3; i++ {
		e.clk.Advance(time.Hour)
		var evs []*historypb.HistoryEvent
		require.Eventually(t, func() bool {
			evs = e.history(wfID, runID)
			return isCloseEvent(evs[len(evs)-1].GetEventType())
		}, waitFor, 20*time.Millisecond, "cron run %d", i)
		done := evs[len(evs)-1].GetWorkflowExecutionCompletedEventAttributes()
		require.NotNil(t, done, "run %d completed", i)
		var got int64
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(done.GetResult(), &got))
		require.Equal(t, i, got, "run %d sees the previous run's result", i)
		require.NotEmpty(t, done.GetNewExecutionRunId())
		next := e.history(wfID, done.GetNewExecutionRunId())
		nwes := next[0].GetWorkflowExecutionStartedEventAttributes()
		require.Equal(t, enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE, nwes.GetInitiator())
		require.NotNil(t, nwes.GetLastCompletionResult(), "run %d hands its result on", i)
		require.Equal(t, firstRun, nwes.GetFirstExecutionRunId())
		runID = done.GetNewExecutionRunId()
	}
	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), wfID, "", "end of test"))
}
