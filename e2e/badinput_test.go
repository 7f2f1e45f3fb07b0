package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

// requireCode checks that err carries the gRPC status code want and a message saying why.
func requireCode(t testing.TB, err error, want codes.Code) {
	t.Helper()
	require.Error(t, err, "want status %v", want)
	st := serviceerror.ToStatus(err)
	require.Equal(t, want, st.Code(), "status of %v", err)
	require.NotEmpty(t, strings.TrimSpace(st.Message()), "a %v needs a message saying what is wrong", want)
}

// requireNoExecution checks that no execution with wfID exists in the default namespace.
func (e *env) requireNoExecution(wfID string) {
	e.t.Helper()
	_, err := e.c.DescribeWorkflowExecution(e.ctx(), wfID, "")
	requireCode(e.t, err, codes.NotFound)
}

func TestBadStartRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.id("tq")
	cases := []struct {
		name   string
		mutate func(*workflowservice.StartWorkflowExecutionRequest)
		want   codes.Code
	}{
		{"missing namespace", func(r *workflowservice.StartWorkflowExecutionRequest) { r.Namespace = "" }, codes.InvalidArgument},
		{"missing workflow ID", func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowId = "" }, codes.InvalidArgument},
		{"missing workflow type", func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowType = nil }, codes.InvalidArgument},
		{"empty workflow type name", func(r *workflowservice.StartWorkflowExecutionRequest) { r.WorkflowType = &commonpb.WorkflowType{} }, codes.InvalidArgument},
		{"missing task queue", func(r *workflowservice.StartWorkflowExecutionRequest) { r.TaskQueue = nil }, codes.InvalidArgument},
		{"empty task queue name", func(r *workflowservice.StartWorkflowExecutionRequest) { r.TaskQueue = &taskqueuepb.TaskQueue{} }, codes.InvalidArgument},
		{"negative run timeout", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.WorkflowRunTimeout = durationpb.New(-time.Second)
		}, codes.InvalidArgument},
		{"negative execution timeout", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.WorkflowExecutionTimeout = durationpb.New(-time.Second)
		}, codes.InvalidArgument},
		{"negative task timeout", func(r *workflowservice.StartWorkflowExecutionRequest) {
			r.WorkflowTaskTimeout = durationpb.New(-time.Second)
		}, codes.InvalidArgument},
		{"unknown namespace", func(r *workflowservice.StartWorkflowExecutionRequest) { r.Namespace = "no-such-namespace" }, codes.NotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := e.sub(t)
			wfID := e.id("wf")
			req := startRequest(wfID, tq)
			c.mutate(req)
			_, err := e.raw.StartWorkflowExecution(e.ctx(), req)
			requireCode(t, err, c.want)
			if c.want == codes.NotFound {
				var nf *serviceerror.NamespaceNotFound
				require.ErrorAs(t, err, &nf)
			}
			e.requireNoExecution(wfID)
		})
	}
}

func TestUnknownWorkflowsAndNamespaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := e.ctx()
	missing := &commonpb.WorkflowExecution{WorkflowId: "no-such-workflow"}

	_, err := e.raw.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{Namespace: namespace, Execution: missing})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.SignalWorkflowExecution(ctx, &workflowservice.SignalWorkflowExecutionRequest{
		Namespace: namespace, WorkflowExecution: missing, SignalName: "s", RequestId: uuid.NewString(), Identity: "e2e",
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{Namespace: namespace, Execution: missing})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.RequestCancelWorkflowExecution(ctx, &workflowservice.RequestCancelWorkflowExecutionRequest{
		Namespace: namespace, WorkflowExecution: missing, RequestId: uuid.NewString(), Identity: "e2e",
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.TerminateWorkflowExecution(ctx, &workflowservice.TerminateWorkflowExecutionRequest{Namespace: namespace, WorkflowExecution: missing, Identity: "e2e"})
	requireCode(t, err, codes.NotFound)

	// A running workflow, addressed with a run ID that does not exist, and with one that is not a UUID.
	wfID, _ := e.startRaw(e.id("tq"), 0)
	_, err = e.raw.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: uuid.NewString()},
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: "not-a-run-id"},
	})
	requireCode(t, err, codes.InvalidArgument)
	_, err = e.raw.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{Namespace: namespace})
	requireCode(t, err, codes.InvalidArgument)

	// Unknown namespaces.
	_, err = e.raw.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "no-such-namespace"})
	requireCode(t, err, codes.NotFound)
	var nf *serviceerror.NamespaceNotFound
	require.ErrorAs(t, err, &nf)
	_, err = e.raw.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: "no-such-namespace", Execution: &commonpb.WorkflowExecution{WorkflowId: wfID},
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.SignalWorkflowExecution(ctx, &workflowservice.SignalWorkflowExecutionRequest{
		Namespace: "no-such-namespace", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: wfID}, SignalName: "s", RequestId: uuid.NewString(),
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
		Namespace: "no-such-namespace", TaskQueue: &taskqueuepb.TaskQueue{Name: "q"}, Identity: "e2e",
	})
	requireCode(t, err, codes.NotFound)

	// The default namespace exists from the first start.
	d, err := e.raw.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	require.NoError(t, err)
	require.Equal(t, namespace, d.GetNamespaceInfo().GetName())
	require.Equal(t, enumspb.NAMESPACE_STATE_REGISTERED, d.GetNamespaceInfo().GetState())
}

func TestPayloadOverLimit(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	e := newEnv(t, withMaxPayloadBytes(limit))
	tq := e.id("tq")
	big := payloadOf(t, strings.Repeat("x", 100<<10))
	small := payloadOf(t, strings.Repeat("x", 32<<10))

	t.Run("start", func(t *testing.T) {
		e := e.sub(t)
		wfID := e.id("wf")
		req := startRequest(wfID, tq)
		req.Input = big
		_, err := e.raw.StartWorkflowExecution(e.ctx(), req)
		requireCode(t, err, codes.InvalidArgument)
		e.requireNoExecution(wfID)
	})

	t.Run("signal with start", func(t *testing.T) {
		e := e.sub(t)
		wfID := e.id("wf")
		_, err := e.raw.SignalWithStartWorkflowExecution(e.ctx(), &workflowservice.SignalWithStartWorkflowExecutionRequest{
			Namespace: namespace, WorkflowId: wfID, WorkflowType: &commonpb.WorkflowType{Name: "rawWorkflow"},
			TaskQueue: &taskqueuepb.TaskQueue{Name: tq}, SignalName: "s", SignalInput: big, RequestId: uuid.NewString(), Identity: "e2e",
		})
		requireCode(t, err, codes.InvalidArgument)
		e.requireNoExecution(wfID)
	})

	t.Run("under the limit is accepted", func(t *testing.T) {
		e := e.sub(t)
		req := startRequest(e.id("wf"), tq)
		req.Input = small
		_, err := e.raw.StartWorkflowExecution(e.ctx(), req)
		require.NoError(t, err)
	})

	t.Run("signal", func(t *testing.T) {
		e := e.sub(t)
		wfID, runID := e.startRaw(tq, 0)
		before := e.history(wfID, runID)
		_, err := e.raw.SignalWorkflowExecution(e.ctx(), &workflowservice.SignalWorkflowExecutionRequest{
			Namespace: namespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
			SignalName: "s", Input: big, RequestId: uuid.NewString(), Identity: "e2e",
		})
		requireCode(t, err, codes.InvalidArgument)
		require.Equal(t, eventTypes(before), eventTypes(e.history(wfID, runID)), "a rejected signal leaves the history unchanged")
	})
}

func payloadOf(t testing.TB, v any) *commonpb.Payloads {
	p, err := converter.GetDefaultDataConverter().ToPayloads(v)
	require.NoError(t, err)
	return p
}

// pollActivityTask long-polls tq once, as a worker would, and requires a task.
func (e *env) pollActivityTask(tq string) *workflowservice.PollActivityTaskQueueResponse {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		resp, err := e.raw.PollActivityTaskQueue(e.ctx(), &workflowservice.PollActivityTaskQueueRequest{
			Namespace: namespace,
			TaskQueue: &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			Identity:  "e2e-raw-poller",
		})
		require.NoError(e.t, err, "poll activity task queue %s", tq)
		if len(resp.GetTaskToken()) > 0 {
			return resp
		}
	}
	e.t.Fatalf("no activity task on %s within %v", tq, waitFor)
	return nil
}

func scheduleActivityCommand(tq string) *commandpb.Command {
	return &commandpb.Command{
		CommandType: enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
		Attributes: &commandpb.Command_ScheduleActivityTaskCommandAttributes{
			ScheduleActivityTaskCommandAttributes: &commandpb.ScheduleActivityTaskCommandAttributes{
				ActivityId:          "5",
				ActivityType:        &commonpb.ActivityType{Name: "rawActivity"},
				TaskQueue:           &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
				StartToCloseTimeout: durationpb.New(time.Minute),
			},
		},
	}
}

func TestStaleAndGarbageTaskTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.id("tq")
	wfID, runID := e.startRaw(tq, 0)
	unchanged := func(t *testing.T, before []enumspb.EventType) {
		t.Helper()
		require.Equal(t, before, eventTypes(e.history(wfID, runID)), "a rejected call leaves the history unchanged")
	}

	wft := e.pollWorkflowTask(tq)
	for _, tok := range [][]byte{[]byte("garbage"), {}, nil} {
		before := eventTypes(e.history(wfID, runID))
		_, err := e.raw.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
			Namespace: namespace, TaskToken: tok, Identity: "e2e", Commands: completeCommand(t, "garbage"),
		})
		requireCode(t, err, codes.InvalidArgument)
		_, err = e.raw.RespondActivityTaskCompleted(e.ctx(), &workflowservice.RespondActivityTaskCompletedRequest{
			Namespace: namespace, TaskToken: tok, Identity: "e2e",
		})
		requireCode(t, err, codes.InvalidArgument)
		_, err = e.raw.RecordActivityTaskHeartbeat(e.ctx(), &workflowservice.RecordActivityTaskHeartbeatRequest{
			Namespace: namespace, TaskToken: tok, Identity: "e2e",
		})
		requireCode(t, err, codes.InvalidArgument)
		unchanged(t, before)
	}

	// Complete the workflow task by scheduling an activity; completing it again is stale.
	completeWFT := &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: wft.GetTaskToken(), Identity: "e2e",
		Commands: []*commandpb.Command{scheduleActivityCommand(tq)},
	}
	_, err := e.raw.RespondWorkflowTaskCompleted(e.ctx(), completeWFT)
	require.NoError(t, err)
	before := eventTypes(e.history(wfID, runID))
	require.Equal(t, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, before[len(before)-1])
	_, err = e.raw.RespondWorkflowTaskCompleted(e.ctx(), completeWFT)
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.RespondWorkflowTaskFailed(e.ctx(), &workflowservice.RespondWorkflowTaskFailedRequest{
		Namespace: namespace, TaskToken: wft.GetTaskToken(), Identity: "e2e", Cause: enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
	})
	requireCode(t, err, codes.NotFound)
	unchanged(t, before)

	// A workflow task token is not an activity token.
	_, err = e.raw.RespondActivityTaskCompleted(e.ctx(), &workflowservice.RespondActivityTaskCompletedRequest{
		Namespace: namespace, TaskToken: wft.GetTaskToken(), Identity: "e2e",
	})
	require.Error(t, err)
	require.Contains(t, []codes.Code{codes.NotFound, codes.InvalidArgument}, serviceerror.ToStatus(err).Code(), "got %v", err)
	unchanged(t, before)

	act := e.pollActivityTask(tq)
	require.Equal(t, int32(1), act.GetAttempt())
	require.Equal(t, "5", act.GetActivityId())
	require.Equal(t, "rawActivity", act.GetActivityType().GetName())
	require.Equal(t, wfID, act.GetWorkflowExecution().GetWorkflowId())
	complete := &workflowservice.RespondActivityTaskCompletedRequest{
		Namespace: namespace, TaskToken: act.GetTaskToken(), Identity: "e2e", Result: payloadOf(t, "once"),
	}
	_, err = e.raw.RespondActivityTaskCompleted(e.ctx(), complete)
	require.NoError(t, err)
	after := e.history(wfID, runID)
	require.Len(t, ofType(after, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 1)
	before = eventTypes(after)

	// Every later use of the activity's token is stale.
	_, err = e.raw.RespondActivityTaskCompleted(e.ctx(), complete)
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.RespondActivityTaskFailed(e.ctx(), &workflowservice.RespondActivityTaskFailedRequest{
		Namespace: namespace, TaskToken: act.GetTaskToken(), Identity: "e2e",
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.RespondActivityTaskCanceled(e.ctx(), &workflowservice.RespondActivityTaskCanceledRequest{
		Namespace: namespace, TaskToken: act.GetTaskToken(), Identity: "e2e",
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.RecordActivityTaskHeartbeat(e.ctx(), &workflowservice.RecordActivityTaskHeartbeatRequest{
		Namespace: namespace, TaskToken: act.GetTaskToken(), Identity: "e2e",
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.RespondActivityTaskCompletedById(e.ctx(), &workflowservice.RespondActivityTaskCompletedByIdRequest{
		Namespace: namespace, WorkflowId: wfID, RunId: runID, ActivityId: "5", Identity: "e2e",
	})
	requireCode(t, err, codes.NotFound)
	_, err = e.raw.RespondActivityTaskCompletedById(e.ctx(), &workflowservice.RespondActivityTaskCompletedByIdRequest{
		Namespace: namespace, WorkflowId: wfID, RunId: runID, ActivityId: "no-such-activity", Identity: "e2e",
	})
	requireCode(t, err, codes.NotFound)
	unchanged(t, before)
	require.Equal(t, 1, len(ofType(e.history(wfID, runID), enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)), "the activity completed exactly once")
}
