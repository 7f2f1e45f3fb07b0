package e2e

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// startRequest is a minimal, valid start of waitForSignalWorkflow.
func startRequest(wfID, tq string) *workflowservice.StartWorkflowExecutionRequest {
	return &workflowservice.StartWorkflowExecutionRequest{
		Namespace:    namespace,
		WorkflowId:   wfID,
		WorkflowType: &commonpb.WorkflowType{Name: "waitForSignalWorkflow"},
		TaskQueue:    &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Identity:     "e2e",
		RequestId:    uuid.NewString(),
	}
}

func TestStartIsIdempotentAndRejectsARunningID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{waitForSignalWorkflow}})
	wfID := e.id("wf")
	req := startRequest(wfID, tq)

	first, err := e.raw.StartWorkflowExecution(e.ctx(), req)
	require.NoError(t, err)
	require.NotEmpty(t, first.GetRunId())
	require.True(t, first.GetStarted())

	// The SDK retries a start with the same request ID (after a timeout, say): it must get the same run.
	again, err := e.raw.StartWorkflowExecution(e.ctx(), proto.Clone(req).(*workflowservice.StartWorkflowExecutionRequest))
	require.NoError(t, err, "a repeated start with the same request ID succeeds")
	require.Equal(t, first.GetRunId(), again.GetRunId(), "a repeated start with the same request ID returns the same run")

	// Let the worker settle the workflow into its wait, so that the history only changes if a start
	// below changes it.
	e.waitForEvent(wfID, first.GetRunId(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	events := e.history(wfID, first.GetRunId())
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), 1, "one start recorded")
	wes := events[0].GetWorkflowExecutionStartedEventAttributes()
	require.Equal(t, "waitForSignalWorkflow", wes.GetWorkflowType().GetName())
	require.Equal(t, tq, wes.GetTaskQueue().GetName())
	require.Equal(t, 10*time.Second, wes.GetWorkflowTaskTimeout().AsDuration(), "an unset workflow task timeout defaults to 10 s")
	require.Equal(t, first.GetRunId(), wes.GetOriginalExecutionRunId())
	require.Equal(t, first.GetRunId(), wes.GetFirstExecutionRunId())

	t.Run("raw start with another request ID", func(t *testing.T) {
		e := e.sub(t)
		other := proto.Clone(req).(*workflowservice.StartWorkflowExecutionRequest)
		other.RequestId = uuid.NewString()
		_, err := e.raw.StartWorkflowExecution(e.ctx(), other)
		requireCode(t, err, codes.AlreadyExists)
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		require.ErrorAs(t, err, &already)
		require.Equal(t, first.GetRunId(), already.RunId)
		require.Equal(t, req.GetRequestId(), already.StartRequestId)
	})

	t.Run("SDK with WorkflowExecutionErrorWhenAlreadyStarted", func(t *testing.T) {
		e := e.sub(t)
		_, err := e.c.ExecuteWorkflow(e.ctx(), client.StartWorkflowOptions{
			ID: wfID, TaskQueue: tq, WorkflowExecutionErrorWhenAlreadyStarted: true,
		}, waitForSignalWorkflow)
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		require.ErrorAs(t, err, &already, "got %v", err)
		require.Equal(t, first.GetRunId(), already.RunId)
	})

	t.Run("SDK without it gets the running run", func(t *testing.T) {
		e := e.sub(t)
		run, err := e.c.ExecuteWorkflow(e.ctx(), client.StartWorkflowOptions{ID: wfID, TaskQueue: tq}, waitForSignalWorkflow)
		require.NoError(t, err)
		require.Equal(t, first.GetRunId(), run.GetRunID())
	})

	t.Run("conflict policy USE_EXISTING", func(t *testing.T) {
		e := e.sub(t)
		other := proto.Clone(req).(*workflowservice.StartWorkflowExecutionRequest)
		other.RequestId = uuid.NewString()
		other.WorkflowIdConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
		resp, err := e.raw.StartWorkflowExecution(e.ctx(), other)
		require.NoError(t, err)
		require.Equal(t, first.GetRunId(), resp.GetRunId())
		require.False(t, resp.GetStarted(), "USE_EXISTING starts nothing")
	})

	require.Len(t, e.history(wfID, first.GetRunId()), len(events), "rejected and deduplicated starts leave the history unchanged")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(wfID, ""))

}

func TestWorkflowIDReuseAndConflictPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{waitForSignalWorkflow}})
	wfID := e.id("wf")
	first := e.start(tq, client.StartWorkflowOptions{ID: wfID}, waitForSignalWorkflow)

	// Close the run; REJECT_DUPLICATE then refuses a new run under the same ID, and the default reuse
	// policy allows one.
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), wfID, first.GetRunID(), "never", nil))
	require.NoError(t, first.Get(e.ctx(), nil))

	t.Run("REJECT_DUPLICATE", func(t *testing.T) {
		e := e.sub(t)
		_, err := e.c.ExecuteWorkflow(e.ctx(), client.StartWorkflowOptions{
			ID: wfID, TaskQueue: tq, WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			// Without this the SDK answers AlreadyStarted with a handle on the existing run.
			WorkflowExecutionErrorWhenAlreadyStarted: true,
		}, waitForSignalWorkflow)
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		require.ErrorAs(t, err, &already, "REJECT_DUPLICATE refuses a closed ID, got %v", err)
		require.Equal(t, first.GetRunID(), already.RunId)
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, e.status(wfID, ""), "the current run is still the closed one")
	})

	second, err := e.c.ExecuteWorkflow(e.ctx(), client.StartWorkflowOptions{ID: wfID, TaskQueue: tq}, waitForSignalWorkflow)
	require.NoError(t, err)
	require.NotEqual(t, first.GetRunID(), second.GetRunID(), "a closed ID may be reused by default")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(wfID, ""), "the current run is the new one")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, e.status(wfID, first.GetRunID()))

	// TERMINATE_EXISTING replaces the running run.
	third, err := e.c.ExecuteWorkflow(e.ctx(), client.StartWorkflowOptions{
		ID: wfID, TaskQueue: tq, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
	}, waitForSignalWorkflow)
	require.NoError(t, err)
	require.NotEqual(t, second.GetRunID(), third.GetRunID())
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, e.status(wfID, second.GetRunID()))
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(wfID, third.GetRunID()))
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(wfID, ""))
}
