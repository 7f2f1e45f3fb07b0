package e2e

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/durationpb"
)

// signalRaw signals a workflow through the raw API.
func (e *env) signalRaw(wfID, runID, name string) {
	e.t.Helper()
	_, err := e.raw.SignalWorkflowExecution(e.ctx(), &workflowservice.SignalWorkflowExecutionRequest{
		Namespace: namespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
		SignalName: name, RequestId: uuid.NewString(), Identity: "e2e",
	})
	require.NoError(e.t, err, "signal %s", name)
}

// pollQueue long-polls one task queue (normal or sticky) until it yields a workflow task.
func (e *env) pollQueue(q *taskqueuepb.TaskQueue) *workflowservice.PollWorkflowTaskQueueResponse {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		resp, err := e.raw.PollWorkflowTaskQueue(e.ctx(), &workflowservice.PollWorkflowTaskQueueRequest{
			Namespace: namespace, TaskQueue: q, Identity: "e2e-raw-poller",
		})
		require.NoError(e.t, err, "poll %s", q.GetName())
		if len(resp.GetTaskToken()) > 0 {
			return resp
		}
	}
	e.t.Fatalf("no workflow task on %s within %v", q.GetName(), waitFor)
	return nil
}

func TestStickyQueueGetsNewEventsAndFallsBackToNormalQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.id("tq")
	sticky := &taskqueuepb.TaskQueue{Name: e.id("sticky"), Kind: enumspb.TASK_QUEUE_KIND_STICKY, NormalName: tq}
	stickyAttrs := &taskqueuepb.StickyExecutionAttributes{WorkerTaskQueue: sticky, ScheduleToStartTimeout: durationpb.New(2 * time.Second)}
	wfID, runID := e.startRaw(tq, 0)

	first := e.pollWorkflowTask(tq)
	_, err := e.raw.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: first.GetTaskToken(), Identity: "e2e-raw-poller", StickyAttributes: stickyAttrs,
	})
	require.NoError(t, err)

	// The worker has the workflow cached: the next task goes to its sticky queue with only the new events.
	e.signalRaw(wfID, runID, "one")
	second := e.pollQueue(sticky)
	require.Equal(t, first.GetStartedEventId(), second.GetPreviousStartedEventId())
	evs := second.GetHistory().GetEvents()
	require.NotEmpty(t, evs)
	require.Equal(t, second.GetPreviousStartedEventId()+1, evs[0].GetEventId(), "a sticky task starts right after the last completed task: %v", eventTypes(evs))
	require.Equal(t, second.GetStartedEventId(), evs[len(evs)-1].GetEventId(), "and ends at its own WorkflowTaskStarted")
	require.Equal(t, []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
	}, eventTypes(evs))
	_, err = e.raw.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: second.GetTaskToken(), Identity: "e2e-raw-poller", StickyAttributes: stickyAttrs,
	})
	require.NoError(t, err)

	// The worker is gone: nobody polls the sticky queue, so after its 2 s schedule-to-start timeout
	// the task falls back to the normal queue, with the full history.
	e.signalRaw(wfID, runID, "two")
	third := e.pollWorkflowTask(tq)
	full := third.GetHistory().GetEvents()
	requireWellFormed(t, full)
	require.Equal(t, third.GetStartedEventId(), full[len(full)-1].GetEventId())
	require.Len(t, ofType(full, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 2)
	_, err = e.raw.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: third.GetTaskToken(), Identity: "e2e-raw-poller", Commands: completeCommand(t, "done"),
	})
	require.NoError(t, err)
	var got string
	require.NoError(t, e.c.GetWorkflow(e.ctx(), wfID, runID).Get(e.ctx(), &got))
	require.Equal(t, "done", got)
	requireWellFormed(t, e.history(wfID, runID))
}

// wftPanics makes panickyWorkflow panic (a bug in workflow code) while its workflow ID maps to true.
var (
	wftPanics     sync.Map // workflow ID → *atomic.Bool
	wftPanicCount sync.Map // workflow ID → *atomic.Int32
)

// panickyWorkflow panics while its test says so, and completes once the "bug" is fixed.
func panickyWorkflow(ctx workflow.Context) (string, error) {
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	if v, ok := wftPanics.Load(id); ok && v.(*atomic.Bool).Load() {
		c, _ := wftPanicCount.LoadOrStore(id, new(atomic.Int32))
		c.(*atomic.Int32).Add(1)
		panic("a bug in workflow code")
	}
	return "fixed", nil
}

func TestFailingWorkflowTaskIsRetriedWithoutGrowingHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{panickyWorkflow}})
	wfID := e.id("wf")
	broken := new(atomic.Bool)
	broken.Store(true)
	wftPanics.Store(wfID, broken)
	panics := new(atomic.Int32)
	wftPanicCount.Store(wfID, panics)

	// The SDK reports the failure of attempt 1 (RespondWorkflowTaskFailed); later attempts it lets
	// time out, so a short task timeout keeps the test quick.
	run := e.start(tq, client.StartWorkflowOptions{ID: wfID, WorkflowTaskTimeout: time.Second}, panickyWorkflow)
	require.Eventually(t, func() bool { return panics.Load() >= 3 }, waitFor, tick, "the workflow task is retried after failing and timing out")
	broken.Store(false)

	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "fixed", got)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Equal(t, []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
	}, eventTypes(events), "attempts after the first are transient: only the one that completed is recorded")
	failed := events[3].GetWorkflowTaskFailedEventAttributes()
	require.Equal(t, enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE, failed.GetCause())
	require.Contains(t, failed.GetFailure().GetMessage(), "a bug in workflow code")
	require.Equal(t, panics.Load()+1, events[4].GetWorkflowTaskScheduledEventAttributes().GetAttempt(),
		"the recorded task is the attempt after the last failing one")
}

func TestEmptyPollsEndWithAnEmptyAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withLongPollTimeout(time.Second))
	q := &taskqueuepb.TaskQueue{Name: e.id("empty"), Kind: enumspb.TASK_QUEUE_KIND_NORMAL}

	// A poll on an empty queue is held (a long poll), then answered with an empty task, not an
	// error: the SDK treats a missing task token as "no task" and polls again.
	began := time.Now()
	wft, err := e.raw.PollWorkflowTaskQueue(e.ctx(), &workflowservice.PollWorkflowTaskQueueRequest{Namespace: namespace, TaskQueue: q, Identity: "e2e"})
	require.NoError(t, err)
	require.Empty(t, wft.GetTaskToken())
	require.GreaterOrEqual(t, time.Since(began), 500*time.Millisecond, "the poll is held rather than answered at once")

	began = time.Now()
	act, err := e.raw.PollActivityTaskQueue(e.ctx(), &workflowservice.PollActivityTaskQueueRequest{Namespace: namespace, TaskQueue: q, Identity: "e2e"})
	require.NoError(t, err)
	require.Empty(t, act.GetTaskToken())
	require.GreaterOrEqual(t, time.Since(began), 500*time.Millisecond, "the poll is held rather than answered at once")

	// A task that arrives while a poll is held is handed to that poll.
	polled := make(chan *workflowservice.PollWorkflowTaskQueueResponse, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		for ctx.Err() == nil {
			resp, err := e.raw.PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{Namespace: namespace, TaskQueue: q, Identity: "e2e"})
			if err == nil && len(resp.GetTaskToken()) > 0 {
				polled <- resp
				return
			}
		}
		close(polled)
	}()
	wfID, _ := e.startRaw(q.GetName(), 0)
	select {
	case resp, ok := <-polled:
		require.True(t, ok, "the held poll got no task")
		require.Equal(t, wfID, resp.GetWorkflowExecution().GetWorkflowId())
	case <-time.After(waitFor):
		t.Fatal("the held poll got no task")
	}
}
