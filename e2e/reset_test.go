package e2e

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc/codes"
)

// resetActivities fails until the "bad deploy" is fixed.
type resetActivities struct{ fixed atomic.Bool }

func (a *resetActivities) Charge(ctx context.Context, amount int) (string, error) {
	if !a.fixed.Load() {
		return "", temporal.NewNonRetryableApplicationError("bug in charge", "Bug", nil)
	}
	return "charged", nil
}

func resetWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, "Charge", 42).Get(ctx, &out)
	return out, err
}

func TestResetAfterFailedRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acts := &resetActivities{}
	tq := e.startWorker(registry{workflows: []any{resetWorkflow}, activities: []any{acts}})
	run := e.start(tq, client.StartWorkflowOptions{}, resetWorkflow)
	err := run.Get(e.ctx(), nil)
	var we *temporal.WorkflowExecutionError
	require.True(t, errors.As(err, &we), "the first run fails: %v", err)

	// Reset to the first workflow task's completion: the new run redoes the activity, now fixed.
	events := e.historyOf(run)
	wtc := indexOf(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, 0)
	require.GreaterOrEqual(t, wtc, 0)
	acts.fixed.Store(true)
	req := &workflowservice.ResetWorkflowExecutionRequest{
		Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()}, Reason: "bad deploy rolled back",
		WorkflowTaskFinishEventId: events[wtc].GetEventId(), RequestId: uuid.NewString(),
	}
	baseInfo := e.describe(run.GetID(), run.GetRunID())
	resp, err := e.raw.ResetWorkflowExecution(e.ctx(), req)
	require.NoError(t, err)
	require.NotEqual(t, run.GetRunID(), resp.GetRunId())
	// The new run starts at the reset, after the base run closed, as in Temporal.
	resetInfo := e.describe(run.GetID(), resp.GetRunId())
	require.False(t, resetInfo.GetStartTime().AsTime().Before(baseInfo.GetCloseTime().AsTime()),
		"reset run started %v, base run closed %v", resetInfo.GetStartTime().AsTime(), baseInfo.GetCloseTime().AsTime())
	again, err := e.raw.ResetWorkflowExecution(e.ctx(), req)
	require.NoError(t, err, "a retried reset with the same request ID succeeds")
	require.Equal(t, resp.GetRunId(), again.GetRunId(), "and resolves to the same new run")

	var out string
	require.NoError(t, e.c.GetWorkflow(e.ctx(), run.GetID(), resp.GetRunId()).Get(e.ctx(), &out))
	require.Equal(t, "charged", out)

	newEvents := e.history(run.GetID(), resp.GetRunId())
	requireWellFormed(t, newEvents)
	resetFail := ofType(newEvents, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED)
	require.Len(t, resetFail, 1)
	fa := resetFail[0].GetWorkflowTaskFailedEventAttributes()
	require.Equal(t, enumspb.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW, fa.GetCause())
	require.Equal(t, run.GetRunID(), fa.GetBaseRunId())
	require.Equal(t, resp.GetRunId(), fa.GetNewRunId())
	require.Equal(t, events[wtc].GetEventId(), resetFail[0].GetEventId(), "the failure takes the reset event's place")
	for i := int64(0); i < events[wtc].GetEventId()-1; i++ {
		require.Equal(t, events[i].GetEventType(), newEvents[i].GetEventType(), "event %d is copied", i+1)
	}
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, e.status(run.GetID(), run.GetRunID()), "the base run keeps its closed status")
}

// waitingResetWorkflow blocks on a signal.
func waitingResetWorkflow(ctx workflow.Context) (string, error) {
	var v string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &v)
	return v, nil
}

func TestResetOfRunningWorkflowTerminatesIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{waitingResetWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, waitingResetWorkflow)
	first := e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	resp, err := e.raw.ResetWorkflowExecution(e.ctx(), &workflowservice.ResetWorkflowExecutionRequest{
		Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()}, Reason: "test",
		WorkflowTaskFinishEventId: first.GetEventId(), RequestId: uuid.NewString(),
	})
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, e.status(run.GetID(), run.GetRunID()))
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), "", "go", "after reset"))
	var out string
	require.NoError(t, e.c.GetWorkflow(e.ctx(), run.GetID(), resp.GetRunId()).Get(e.ctx(), &out))
	require.Equal(t, "after reset", out, "the workflow ID now points at the new run")

	_, err = e.raw.ResetWorkflowExecution(e.ctx(), &workflowservice.ResetWorkflowExecutionRequest{
		Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: run.GetID()}, WorkflowTaskFinishEventId: 1, RequestId: uuid.NewString(),
	})
	requireCode(t, err, codes.InvalidArgument)
}

func TestDeleteWorkflowExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{waitingResetWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, waitingResetWorkflow)
	e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	_, err := e.raw.DeleteWorkflowExecution(e.ctx(), &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()},
	})
	require.NoError(t, err, "a running workflow is terminated and deleted")
	e.requireNoExecution(run.GetID())
	_, err = e.raw.GetWorkflowExecutionHistory(e.ctx(), &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()},
	})
	requireCode(t, err, codes.NotFound)
}

func TestRetentionDeletesClosedRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{waitingResetWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, waitingResetWorkflow)
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), "", "go", "done"))
	require.NoError(t, run.Get(e.ctx(), nil))
	e.clk.Advance(71 * time.Hour)
	e.never(func() bool {
		_, err := e.c.DescribeWorkflowExecution(e.ctx(), run.GetID(), run.GetRunID())
		return err != nil
	}, time.Second, 100*time.Millisecond, "kept within the default 72 h retention")
	e.clk.Advance(2 * time.Hour)
	require.Eventually(t, func() bool {
		_, err := e.c.DescribeWorkflowExecution(e.ctx(), run.GetID(), run.GetRunID())
		return err != nil
	}, waitFor, 50*time.Millisecond, "deleted once the retention has passed")
	e.requireNoExecution(run.GetID())
}
