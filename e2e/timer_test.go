package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// timerReport is what shortTimersWorkflow observed, in workflow time.
type timerReport struct {
	Slept        time.Duration
	Waited       time.Duration
	LongCanceled bool
}

// shortTimersWorkflow starts a 1 h timer, sleeps 1 s, cancels the 1 h timer (in a later workflow
// task than the one that started it, so the SDK sends CancelTimer), then waits on a 500 ms timer.
func shortTimersWorkflow(ctx workflow.Context) (timerReport, error) {
	var r timerReport
	longCtx, cancelLong := workflow.WithCancel(ctx)
	long := workflow.NewTimer(longCtx, time.Hour)

	t0 := workflow.Now(ctx)
	if err := workflow.Sleep(ctx, time.Second); err != nil {
		return r, err
	}
	r.Slept = workflow.Now(ctx).Sub(t0)

	cancelLong()
	err := long.Get(ctx, nil)
	var canceled *temporal.CanceledError
	r.LongCanceled = errors.As(err, &canceled)

	t1 := workflow.Now(ctx)
	short := workflow.NewTimer(ctx, 500*time.Millisecond)
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(short, func(f workflow.Future) { err = f.Get(ctx, nil) })
	sel.Select(ctx)
	if err != nil {
		return r, err
	}
	r.Waited = workflow.Now(ctx).Sub(t1)
	return r, nil
}

func TestShortTimers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{shortTimersWorkflow}})

	began := time.Now()
	run := e.start(tq, client.StartWorkflowOptions{}, shortTimersWorkflow)
	var r timerReport
	require.NoError(t, run.Get(e.ctx(), &r))
	require.GreaterOrEqual(t, time.Since(began), 1500*time.Millisecond, "the timers must really wait")
	require.GreaterOrEqual(t, r.Slept, time.Second, "workflow time across Sleep(1s)")
	require.GreaterOrEqual(t, r.Waited, 500*time.Millisecond, "workflow time across NewTimer(500ms)")
	require.True(t, r.LongCanceled, "the cancelled timer's future fails with CanceledError")

	events := e.historyOf(run)
	requireWellFormed(t, events)
	started := ofType(events, enumspb.EVENT_TYPE_TIMER_STARTED)
	require.Len(t, started, 3)
	var durations []time.Duration
	ids := map[string]int64{}
	for _, ev := range started {
		a := ev.GetTimerStartedEventAttributes()
		durations = append(durations, a.GetStartToFireTimeout().AsDuration())
		ids[a.GetTimerId()] = ev.GetEventId()
	}
	require.Equal(t, []time.Duration{time.Hour, time.Second, 500 * time.Millisecond}, durations)
	fired := ofType(events, enumspb.EVENT_TYPE_TIMER_FIRED)
	require.Len(t, fired, 2)
	require.Equal(t, started[1].GetEventId(), fired[0].GetTimerFiredEventAttributes().GetStartedEventId())
	require.Equal(t, started[2].GetEventId(), fired[1].GetTimerFiredEventAttributes().GetStartedEventId())
	for _, ev := range fired {
		a := ev.GetTimerFiredEventAttributes()
		require.Equal(t, ids[a.GetTimerId()], a.GetStartedEventId(), "TimerFired names its timer")
	}
	canceled := ofType(events, enumspb.EVENT_TYPE_TIMER_CANCELED)
	require.Len(t, canceled, 1)
	require.Equal(t, started[0].GetEventId(), canceled[0].GetTimerCanceledEventAttributes().GetStartedEventId())
	require.Equal(t, started[0].GetTimerStartedEventAttributes().GetTimerId(), canceled[0].GetTimerCanceledEventAttributes().GetTimerId())
	require.Greater(t, canceled[0].GetEventId(), fired[0].GetEventId(), "the 1 h timer was cancelled after the 1 s timer fired")
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType())
}

// longSleepWorkflow sleeps 30 days and reports how much workflow time passed.
func longSleepWorkflow(ctx workflow.Context) (time.Duration, error) {
	t0 := workflow.Now(ctx)
	if err := workflow.Sleep(ctx, 30*24*time.Hour); err != nil {
		return 0, err
	}
	return workflow.Now(ctx).Sub(t0), nil
}

func TestLongTimerFiredByManualClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{longSleepWorkflow}})

	run := e.start(tq, client.StartWorkflowOptions{}, longSleepWorkflow)
	ts := e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_TIMER_STARTED)
	require.Equal(t, 30*24*time.Hour, ts.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration())
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(run.GetID(), run.GetRunID()))

	e.clk.Advance(30 * 24 * time.Hour)

	var slept time.Duration
	require.NoError(t, run.Get(e.ctx(), &slept), "the timer must fire once the clock has moved 30 days")
	require.GreaterOrEqual(t, slept, 30*24*time.Hour)
	require.Less(t, slept, 31*24*time.Hour)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	fired := ofType(events, enumspb.EVENT_TYPE_TIMER_FIRED)
	require.Len(t, fired, 1)
	require.Equal(t, ts.GetEventId(), fired[0].GetTimerFiredEventAttributes().GetStartedEventId())
	require.GreaterOrEqual(t, fired[0].GetEventTime().AsTime().Sub(ts.GetEventTime().AsTime()), 30*24*time.Hour,
		"TimerFired is stamped with server time, which moved 30 days")
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType())
}
