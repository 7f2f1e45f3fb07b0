package e2e

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestWorkflowRunTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{longSleepWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{WorkflowRunTimeout: 2 * time.Second}, longSleepWorkflow)

	err := run.Get(e.ctx(), nil)
	var toErr *temporal.TimeoutError
	require.ErrorAs(t, err, &toErr, "a run that outlives its run timeout ends timed out, got %v", err)
	require.Equal(t, enumspb.TIMEOUT_TYPE_START_TO_CLOSE, toErr.TimeoutType())
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, e.status(run.GetID(), run.GetRunID()))

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, events[len(events)-1].GetEventType())
	require.Equal(t, 2*time.Second, events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowRunTimeout().AsDuration())
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_TIMER_FIRED))
}

func TestWorkflowExecutionTimeoutOnManualClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{longSleepWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{WorkflowExecutionTimeout: 24 * time.Hour}, longSleepWorkflow)
	e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_TIMER_STARTED)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(run.GetID(), run.GetRunID()))

	e.clk.Advance(25 * time.Hour)

	err := run.Get(e.ctx(), nil)
	var toErr *temporal.TimeoutError
	require.ErrorAs(t, err, &toErr, "got %v", err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, e.status(run.GetID(), run.GetRunID()))
	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, events[len(events)-1].GetEventType())
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_TIMER_FIRED), "the 30-day timer had not come due")
}

// pollWorkflowTask long-polls tq once, as a worker would, and requires a task.
func (e *env) pollWorkflowTask(tq string) *workflowservice.PollWorkflowTaskQueueResponse {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		resp, err := e.raw.PollWorkflowTaskQueue(e.ctx(), &workflowservice.PollWorkflowTaskQueueRequest{
			Namespace: namespace,
			TaskQueue: &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			Identity:  "e2e-raw-poller",
		})
		require.NoError(e.t, err, "poll workflow task queue %s", tq)
		if len(resp.GetTaskToken()) > 0 {
			return resp
		}
	}
	e.t.Fatalf("no workflow task on %s within %v", tq, waitFor)
	return nil
}

func completeCommand(t testing.TB, result string) []*commandpb.Command {
	p, err := converter.GetDefaultDataConverter().ToPayloads(result)
	require.NoError(t, err)
	return []*commandpb.Command{{
		CommandType: enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
		Attributes: &commandpb.Command_CompleteWorkflowExecutionCommandAttributes{
			CompleteWorkflowExecutionCommandAttributes: &commandpb.CompleteWorkflowExecutionCommandAttributes{Result: p},
		},
	}}
}

// startRaw starts a workflow of a type no SDK worker serves, so the test plays the worker by hand.
func (e *env) startRaw(tq string, taskTimeout time.Duration) (wfID, runID string) {
	e.t.Helper()
	req := startRequest(e.id("wf"), tq)
	req.WorkflowType = &commonpb.WorkflowType{Name: "rawWorkflow"}
	if taskTimeout > 0 {
		req.WorkflowTaskTimeout = durationpb.New(taskTimeout)
	}
	resp, err := e.raw.StartWorkflowExecution(e.ctx(), req)
	require.NoError(e.t, err)
	return req.GetWorkflowId(), resp.GetRunId()
}

func TestWorkflowTaskTimeoutRetriesTheTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.id("tq")
	wfID, runID := e.startRaw(tq, 2*time.Second)

	first := e.pollWorkflowTask(tq)
	require.Equal(t, int32(1), first.GetAttempt())
	require.Equal(t, int64(3), first.GetStartedEventId())
	require.Equal(t, int64(0), first.GetPreviousStartedEventId())

	// Not answering: after the 2 s workflow task timeout the task is offered again as attempt 2.
	second := e.pollWorkflowTask(tq)
	require.Equal(t, int32(2), second.GetAttempt())
	require.False(t, bytes.Equal(first.GetTaskToken(), second.GetTaskToken()), "each attempt has its own task token")
	require.Equal(t, int64(0), second.GetPreviousStartedEventId())
	evs := second.GetHistory().GetEvents()
	require.Equal(t, []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
	}, eventTypes(evs), "the task carries the history up to its own WorkflowTaskStarted")
	require.Equal(t, second.GetStartedEventId(), evs[len(evs)-1].GetEventId())
	requireWellFormed(t, evs)

	// The first attempt's token is stale now.
	before := e.history(wfID, runID)
	_, err := e.raw.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: first.GetTaskToken(), Identity: "e2e-raw-poller", Commands: completeCommand(t, "stale"),
	})
	requireCode(t, err, codes.NotFound)
	require.Equal(t, eventTypes(before), eventTypes(e.history(wfID, runID)), "a stale completion changes nothing")

	_, err = e.raw.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: second.GetTaskToken(), Identity: "e2e-raw-poller", Commands: completeCommand(t, "done"),
	})
	require.NoError(t, err)

	var got string
	require.NoError(t, e.c.GetWorkflow(e.ctx(), wfID, runID).Get(e.ctx(), &got))
	require.Equal(t, "done", got)

	events := e.history(wfID, runID)
	requireWellFormed(t, events)
	require.Equal(t, []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
	}, eventTypes(events))
	to := events[3].GetWorkflowTaskTimedOutEventAttributes()
	require.Equal(t, enumspb.TIMEOUT_TYPE_START_TO_CLOSE, to.GetTimeoutType())
	require.Equal(t, int64(2), to.GetScheduledEventId())
	require.Equal(t, int64(3), to.GetStartedEventId())
	require.Equal(t, int32(2), events[4].GetWorkflowTaskScheduledEventAttributes().GetAttempt())
	wtc := events[6].GetWorkflowTaskCompletedEventAttributes()
	require.Equal(t, int64(5), wtc.GetScheduledEventId())
	require.Equal(t, int64(6), wtc.GetStartedEventId())
}
