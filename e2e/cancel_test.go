package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc/codes"
)

// fastHeartbeats makes the SDK send heartbeats every 200 ms at most (instead of 0.8 × the
// heartbeat timeout), so that a loaded machine does not turn a heartbeating activity into a
// heartbeat timeout.
var fastHeartbeats = worker.Options{MaxHeartbeatThrottleInterval: 200 * time.Millisecond}

// cancelActs has a long activity that heartbeats until it is cancelled, and a cleanup activity that
// records what the workflow saw.
type cancelActs struct {
	started chan struct{}
	mu      sync.Mutex
	events  []string
}

func (a *cancelActs) note(s string) {
	a.mu.Lock()
	a.events = append(a.events, s)
	a.mu.Unlock()
}

func (a *cancelActs) noted() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.events...)
}

// Heartbeating heartbeats every 100 ms until its context is cancelled.
func (a *cancelActs) Heartbeating(ctx context.Context) (string, error) {
	a.started <- struct{}{}
	for i := 0; ; i++ {
		activity.RecordHeartbeat(ctx, i)
		select {
		case <-ctx.Done():
			a.note("activity saw cancellation: " + ctx.Err().Error())
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Cleanup records its argument.
func (a *cancelActs) Cleanup(_ context.Context, what string) error {
	a.note("cleanup: " + what)
	return nil
}

// cancellableWorkflow runs Heartbeating; when cancelled it waits for the activity to acknowledge,
// runs Cleanup on a disconnected context, and ends cancelled.
func cancellableWorkflow(ctx workflow.Context) error {
	actCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    time.Second,
		WaitForCancellation: true,
	})
	var acts *cancelActs
	err := workflow.ExecuteActivity(actCtx, acts.Heartbeating).Get(ctx, nil)
	if ctx.Err() == nil {
		return errors.New("the activity ended but the workflow was not cancelled")
	}
	var canceled *temporal.CanceledError
	what := "workflow context done; activity error is not a CanceledError: " + errString(err)
	if errors.As(err, &canceled) {
		what = "workflow context done; activity canceled"
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteActivity(dctx, acts.Cleanup, what).Get(dctx, nil); err != nil {
		return err
	}
	return ctx.Err()
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestCancelWorkflowWhileActivityHeartbeats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acts := &cancelActs{started: make(chan struct{}, 1)}
	tq := e.startWorker(registry{workflows: []any{cancellableWorkflow}, activities: []any{acts}, options: fastHeartbeats})
	run := e.start(tq, client.StartWorkflowOptions{}, cancellableWorkflow)

	select {
	case <-acts.started:
	case <-time.After(waitFor):
		t.Fatal("the activity did not start")
	}
	require.NoError(t, e.c.CancelWorkflow(e.ctx(), run.GetID(), run.GetRunID()))

	err := run.Get(e.ctx(), nil)
	var canceled *temporal.CanceledError
	require.ErrorAs(t, err, &canceled, "a cancelled workflow's Get fails with CanceledError, got %v", err)
	require.Equal(t, []string{
		"activity saw cancellation: context canceled",
		"cleanup: workflow context done; activity canceled",
	}, acts.noted())
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, e.status(run.GetID(), run.GetRunID()))

	events := e.historyOf(run)
	requireWellFormed(t, events)
	for _, et := range []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
	} {
		require.NotEqual(t, -1, indexOf(events, et, 0), "no %v in %v", et, eventTypes(events))
	}
	require.Less(t, indexOf(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, 0),
		indexOf(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, 0))
	require.Less(t, indexOf(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, 0),
		indexOf(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED, 0))
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 1, "only Cleanup completed")
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, events[len(events)-1].GetEventType())
}

// waitForSignalWorkflow blocks until it gets a "never" signal.
func waitForSignalWorkflow(ctx workflow.Context) error {
	workflow.GetSignalChannel(ctx, "never").Receive(ctx, nil)
	return nil
}

func TestTerminateWorkflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{waitForSignalWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, waitForSignalWorkflow)
	e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)

	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "because the test says so", "detail"))

	err := run.Get(e.ctx(), nil)
	var terminated *temporal.TerminatedError
	require.ErrorAs(t, err, &terminated, "a terminated workflow's Get fails with TerminatedError, got %v", err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, e.status(run.GetID(), run.GetRunID()))

	events := e.historyOf(run)
	requireWellFormed(t, events)
	last := events[len(events)-1]
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, last.GetEventType())
	require.Equal(t, "because the test says so", last.GetWorkflowExecutionTerminatedEventAttributes().GetReason())
	require.Equal(t, "detail", decodeString(t, last.GetWorkflowExecutionTerminatedEventAttributes().GetDetails()))

	// A closed workflow cannot be terminated, cancelled or signalled again.
	err = e.c.TerminateWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "again")
	requireCode(t, err, codes.NotFound)
	err = e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "never", nil)
	requireCode(t, err, codes.NotFound)
	require.Len(t, e.historyOf(run), len(events), "calls on a closed workflow leave its history unchanged")
}

// cancelUnstartedWorkflow schedules an activity on a queue nobody polls, cancels it in a later
// workflow task, and reports how the activity ended.
func cancelUnstartedWorkflow(ctx workflow.Context, nobody string) (string, error) {
	actCtx, cancel := workflow.WithCancel(ctx)
	actCtx = workflow.WithActivityOptions(actCtx, workflow.ActivityOptions{
		TaskQueue: nobody, StartToCloseTimeout: 10 * time.Second, WaitForCancellation: true,
	})
	f := workflow.ExecuteActivity(actCtx, "Never")
	if err := workflow.Sleep(ctx, 100*time.Millisecond); err != nil {
		return "", err
	}
	cancel()
	err := f.Get(ctx, nil)
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return "activity canceled", nil
	}
	return "", fmt.Errorf("want a cancelled activity, got %v", err)
}

func TestCancelActivityThatHasNotStarted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{cancelUnstartedWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, cancelUnstartedWorkflow, e.id("nobody-polls"))
	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "activity canceled", got)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED))
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED))
	requested := indexOf(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED, 0)
	canceled := indexOf(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED, 0)
	require.NotEqual(t, -1, requested, "%v", eventTypes(events))
	require.Greater(t, canceled, requested, "%v", eventTypes(events))
	sched := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)[0].GetEventId()
	require.Equal(t, sched, events[requested].GetActivityTaskCancelRequestedEventAttributes().GetScheduledEventId())
	require.Equal(t, sched, events[canceled].GetActivityTaskCanceledEventAttributes().GetScheduledEventId())
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType())
}

// sleepyWorkflow sleeps an hour.
func sleepyWorkflow(ctx workflow.Context) error {
	return workflow.Sleep(ctx, time.Hour)
}

func TestCancelWorkflowWaitingOnTimer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{sleepyWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, sleepyWorkflow)
	e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_TIMER_STARTED)

	require.NoError(t, e.c.CancelWorkflow(e.ctx(), run.GetID(), ""))
	err := run.Get(e.ctx(), nil)
	var canceled *temporal.CanceledError
	require.ErrorAs(t, err, &canceled, "got %v", err)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_TIMER_CANCELED), 1, "the sleep's timer is cancelled: %v", eventTypes(events))
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_TIMER_FIRED))
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, events[len(events)-1].GetEventType())

	// A second cancel request on the closed run is refused and changes nothing.
	err = e.c.CancelWorkflow(e.ctx(), run.GetID(), run.GetRunID())
	requireCode(t, err, codes.NotFound)
	require.Len(t, e.historyOf(run), len(events))
}

// heartbeatingWorkflow runs cancelActs.Heartbeating.
func heartbeatingWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: time.Second})
	var acts *cancelActs
	return workflow.ExecuteActivity(ctx, acts.Heartbeating).Get(ctx, nil)
}

func TestTerminateStopsARunningActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acts := &cancelActs{started: make(chan struct{}, 1)}
	tq := e.startWorker(registry{workflows: []any{heartbeatingWorkflow}, activities: []any{acts}, options: fastHeartbeats})
	run := e.start(tq, client.StartWorkflowOptions{}, heartbeatingWorkflow)
	select {
	case <-acts.started:
	case <-time.After(waitFor):
		t.Fatal("the activity did not start")
	}
	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "stop"))
	var terminated *temporal.TerminatedError
	require.ErrorAs(t, run.Get(e.ctx(), nil), &terminated)

	// The activity's next heartbeat is answered NotFound, which cancels its context.
	require.Eventually(t, func() bool {
		n := acts.noted()
		return len(n) == 1 && n[0] == "activity saw cancellation: context canceled"
	}, waitFor, tick, "the activity of a terminated workflow is told to stop: %v", acts.noted())
}
