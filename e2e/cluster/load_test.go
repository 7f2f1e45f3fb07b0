package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// acts counts every execution of every activity, by workflow ID and activity ID. Executions may
// repeat (delivery to workers is at least once); recorded completions must not.
type acts struct {
	mu    sync.Mutex
	execs map[string]int
}

func newActs() *acts { return &acts{execs: map[string]int{}} }

// Step is the workflows' activity.
func (a *acts) Step(ctx context.Context, x int) (int, error) {
	info := activity.GetInfo(ctx)
	a.mu.Lock()
	a.execs[info.WorkflowExecution.ID+"/"+info.ActivityID]++
	a.mu.Unlock()
	return step(x), nil
}

func (a *acts) executions(key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.execs[key]
}

func step(x int) int { return 3*x + 1 }

// signalName is the signal clusterWorkflow waits for; its value is added to the running total.
const signalName = "add"

// clusterWorkflow runs an activity, waits for a signal, sleeps 0.5–0.9 s on a durable timer, and
// runs a second activity.
func clusterWorkflow(ctx workflow.Context, n int) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: time.Second},
	})
	var a *acts
	var x int
	if err := workflow.ExecuteActivity(ctx, a.Step, n).Get(ctx, &x); err != nil {
		return 0, err
	}
	var add int
	workflow.GetSignalChannel(ctx, signalName).Receive(ctx, &add)
	if err := workflow.Sleep(ctx, 500*time.Millisecond+time.Duration(n%5)*100*time.Millisecond); err != nil {
		return 0, err
	}
	if err := workflow.ExecuteActivity(ctx, a.Step, x+add).Get(ctx, &x); err != nil {
		return 0, err
	}
	return x, nil
}

// signalValue is what the driver signals to workflow n, and want its expected result.
func signalValue(n int) int { return 2 * n }
func want(n int) int        { return step(step(n) + signalValue(n)) }

// startWorker runs an SDK worker for clusterWorkflow on tq through c until the test ends.
func startWorker(t testing.TB, c client.Client, tq string, a *acts) {
	t.Helper()
	w := worker.New(c, tq, worker.Options{})
	w.RegisterWorkflow(clusterWorkflow)
	w.RegisterActivity(a)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
}

// outcome is what the driver saw of one workflow.
type outcome struct {
	wfID, runID string
	result      int
	err         error
	latency     time.Duration // start requested → result received
}

// drive starts workflows 0..n-1 through starter (at most inFlight at once), signals each once and
// waits for its result, riding out node and database restarts: a call is repeated until it is
// answered, and every repeat is idempotent (the same workflow ID under REJECT_DUPLICATE, the same
// signal request ID).
func drive(ctx context.Context, starter client.Client, tq, prefix string, n, inFlight int) []outcome {
	out := make([]outcome, n)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			o := &out[i]
			o.wfID = fmt.Sprintf("%s-%d", prefix, i)
			t0 := time.Now()
			o.runID, o.result, o.err = runOne(ctx, starter, tq, o.wfID, i)
			o.latency = time.Since(t0)
		}(i)
	}
	wg.Wait()
	return out
}

func runOne(ctx context.Context, c client.Client, tq, wfID string, n int) (string, int, error) {
	var runID string
	err := retry(ctx, func(ctx context.Context) error {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                    wfID,
			TaskQueue:             tq,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			WorkflowTaskTimeout:   5 * time.Second,
		}, clusterWorkflow, n)
		if err == nil {
			runID = run.GetRunID()
		}
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("start %s: %w", wfID, err)
	}
	input, err := converter.GetDefaultDataConverter().ToPayloads(signalValue(n))
	if err != nil {
		return runID, 0, err
	}
	err = retry(ctx, func(ctx context.Context) error {
		_, err := c.WorkflowService().SignalWorkflowExecution(ctx, &workflowservice.SignalWorkflowExecutionRequest{
			Namespace:         namespace,
			WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
			SignalName:        signalName,
			Input:             input,
			Identity:          "cluster-test",
			RequestId:         "signal-" + wfID, // the same on every repeat: Duro records it once
		})
		return err
	})
	if err != nil {
		return runID, 0, fmt.Errorf("signal %s: %w", wfID, err)
	}
	var result int
	err = retry(ctx, func(ctx context.Context) error {
		return c.GetWorkflow(ctx, wfID, runID).Get(ctx, &result)
	})
	if err != nil {
		return runID, 0, fmt.Errorf("result of %s: %w", wfID, err)
	}
	return runID, result, nil
}

// retry runs call until it succeeds, fails with an answer about the workflow itself, or ctx ends.
func retry(ctx context.Context, call func(ctx context.Context) error) error {
	for {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := call(cctx)
		cancel()
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

// transient reports whether err may come from a node or the database being down or restarting,
// as opposed to an answer about the workflow itself.
func transient(err error) bool {
	var (
		wee *temporal.WorkflowExecutionError
		nf  *serviceerror.NotFound
		ia  *serviceerror.InvalidArgument
	)
	return !errors.As(err, &wee) && !errors.As(err, &nf) && !errors.As(err, &ia)
}

// checkOutcomes asserts that every workflow completed with its result and that its history
// records each activity completion, timer firing and signal exactly once.
func checkOutcomes(t *testing.T, c client.Client, outcomes []outcome, a *acts) {
	t.Helper()
	describeFailures(t, c, outcomes)
	for i, o := range outcomes {
		require.NoError(t, o.err, "workflow %s", o.wfID)
		require.Equal(t, want(i), o.result, "result of %s", o.wfID)
	}
	redelivered := 0
	for _, o := range outcomes {
		events := history(t, c, o.wfID, o.runID)
		types := eventTypes(events)
		for j, ev := range events {
			require.Equal(t, int64(j+1), ev.GetEventId(), "%s: event IDs must be contiguous from 1: %v", o.wfID, types)
		}
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType(), "%s: %v", o.wfID, types)
		require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), 1, o.wfID)

		scheduled := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
		require.Len(t, scheduled, 2, "%s: %v", o.wfID, types)
		completions := map[int64]int{}
		for _, ev := range ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
			completions[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]++
		}
		require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 2, "%s: %v", o.wfID, types)
		for _, ev := range scheduled {
			require.Equal(t, 1, completions[ev.GetEventId()], "%s: completions of the activity scheduled at %d: %v", o.wfID, ev.GetEventId(), types)
			execs := a.executions(o.wfID + "/" + ev.GetActivityTaskScheduledEventAttributes().GetActivityId())
			require.GreaterOrEqual(t, execs, 1, "%s: activity completed but never ran", o.wfID)
			if execs > 1 {
				redelivered++
			}
		}

		started := ofType(events, enumspb.EVENT_TYPE_TIMER_STARTED)
		require.Len(t, started, 1, "%s: %v", o.wfID, types)
		fired := ofType(events, enumspb.EVENT_TYPE_TIMER_FIRED)
		require.Len(t, fired, 1, "%s: one TimerFired per TimerStarted: %v", o.wfID, types)
		require.Equal(t, started[0].GetEventId(), fired[0].GetTimerFiredEventAttributes().GetStartedEventId(), o.wfID)

		require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 1, "%s: the signal is recorded once: %v", o.wfID, types)

		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		d, err := c.DescribeWorkflowExecution(ctx, o.wfID, "")
		cancel()
		require.NoError(t, err)
		require.Equal(t, o.runID, d.GetWorkflowExecutionInfo().GetExecution().GetRunId(), "%s has exactly one run", o.wfID)
	}
	t.Logf("%d workflows completed with the right results; %d activities ran more than once (delivery is at least once), none was recorded twice", len(outcomes), redelivered)
}

// describeFailures logs, for each workflow the driver saw fail, what the cluster recorded of it
// (its history's event types and its pending work), so that a failure says where it was stuck.
func describeFailures(t *testing.T, c client.Client, outcomes []outcome) {
	t.Helper()
	failed := 0
	for _, o := range outcomes {
		if o.err == nil {
			continue
		}
		failed++
		if failed > 5 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		var types []enumspb.EventType
		it := c.GetWorkflowHistory(ctx, o.wfID, o.runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Logf("%s: read history: %v", o.wfID, err)
				break
			}
			types = append(types, ev.GetEventType())
		}
		d, err := c.DescribeWorkflowExecution(ctx, o.wfID, o.runID)
		cancel()
		t.Logf("%s failed (%v); history %v", o.wfID, o.err, types)
		if err != nil {
			t.Logf("%s: describe: %v", o.wfID, err)
			continue
		}
		t.Logf("%s: status %v, pending activities %v, pending workflow task %v", o.wfID,
			d.GetWorkflowExecutionInfo().GetStatus(), d.GetPendingActivities(), d.GetPendingWorkflowTask())
	}
	if failed > 0 {
		t.Logf("%d of %d workflows failed", failed, len(outcomes))
	}
}

// logSlowest logs the slowest workflow and the longest wait in its history (between which two
// events), so that a slow run says where its time went.
func logSlowest(t *testing.T, c client.Client, outcomes []outcome) {
	t.Helper()
	slowest := -1
	for i, o := range outcomes {
		if o.err == nil && (slowest < 0 || o.latency > outcomes[slowest].latency) {
			slowest = i
		}
	}
	if slowest < 0 {
		return
	}
	o := outcomes[slowest]
	events := history(t, c, o.wfID, o.runID)
	if len(events) < 2 {
		return
	}
	gap, at := time.Duration(0), 0
	for i := 1; i < len(events); i++ {
		if d := events[i].GetEventTime().AsTime().Sub(events[i-1].GetEventTime().AsTime()); d > gap {
			gap, at = d, i
		}
	}
	t.Logf("slowest workflow %s: %v; longest wait in its history %v, from event %d %v to %d %v", o.wfID,
		o.latency.Round(time.Millisecond), gap.Round(time.Millisecond),
		events[at-1].GetEventId(), events[at-1].GetEventType(), events[at].GetEventId(), events[at].GetEventType())
}

// history reads the whole recorded history of a run.
func history(t *testing.T, c client.Client, wfID, runID string) []*historypb.HistoryEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, wfID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err, "read history of %s", wfID)
		events = append(events, ev)
	}
	require.NotEmpty(t, events, "history of %s", wfID)
	return events
}

func eventTypes(events []*historypb.HistoryEvent) []enumspb.EventType {
	out := make([]enumspb.EventType, len(events))
	for i, ev := range events {
		out[i] = ev.GetEventType()
	}
	return out
}

func ofType(events []*historypb.HistoryEvent, et enumspb.EventType) []*historypb.HistoryEvent {
	var out []*historypb.HistoryEvent
	for _, ev := range events {
		if ev.GetEventType() == et {
			out = append(out, ev)
		}
	}
	return out
}
