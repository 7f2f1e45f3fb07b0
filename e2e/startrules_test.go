package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

func quickWorkflow(ctx workflow.Context, fail bool) (string, error) {
	if fail {
		return "", temporal.NewNonRetryableApplicationError("asked to fail", "Asked", nil)
	}
	return "done", nil
}

func TestStartDelayWaitsOnTheDurableClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{quickWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{StartDelay: 2 * time.Hour}, quickWorkflow, false)
	events := e.historyOf(run)
	require.Len(t, events, 1, "nothing is scheduled before the delay has passed")
	require.Equal(t, 2*time.Hour, events[0].GetWorkflowExecutionStartedEventAttributes().GetFirstWorkflowTaskBackoff().AsDuration())
	e.never(func() bool { return len(e.historyOf(run)) > 1 }, 500*time.Millisecond, 50*time.Millisecond, "scheduled before the delay passed")
	e.clk.Advance(2 * time.Hour)
	var out string
	require.NoError(t, run.Get(e.ctx(), &out))
	require.Equal(t, "done", out)
}

func TestReusePoliciesOnClosedRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{quickWorkflow}})
	startRaw := func(id string, policy enumspb.WorkflowIdReusePolicy, fail bool) (*workflowservice.StartWorkflowExecutionResponse, error) {
		p, err := e.c.WorkflowService().StartWorkflowExecution(e.ctx(), &workflowservice.StartWorkflowExecutionRequest{
			Namespace: "default", WorkflowId: id, WorkflowType: &commonpb.WorkflowType{Name: "quickWorkflow"},
			TaskQueue: &taskqueuepb.TaskQueue{Name: tq}, Input: mustPayloads(t, fail), RequestId: e.id("req"),
			WorkflowIdReusePolicy: policy,
		})
		return p, err
	}
	wait := func(id, run string) {
		require.Eventually(t, func() bool { return e.status(id, run) != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING }, waitFor, 20*time.Millisecond)
	}

	// ALLOW_DUPLICATE_FAILED_ONLY: refused after a success, allowed after a failure.
	okID := e.id("ok")
	first, err := startRaw(okID, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, false)
	require.NoError(t, err)
	wait(okID, first.GetRunId())
	_, err = startRaw(okID, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, false)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	require.True(t, errors.As(err, &already), "a completed run blocks ALLOW_DUPLICATE_FAILED_ONLY: %v", err)

	failID := e.id("fail")
	first, err = startRaw(failID, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, true)
	require.NoError(t, err)
	wait(failID, first.GetRunId())
	second, err := startRaw(failID, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, false)
	require.NoError(t, err, "a failed run allows ALLOW_DUPLICATE_FAILED_ONLY")
	require.NotEqual(t, first.GetRunId(), second.GetRunId())

	// REJECT_DUPLICATE refuses any closed run.
	_, err = startRaw(okID, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, false)
	require.True(t, errors.As(err, &already), "REJECT_DUPLICATE: %v", err)
}

func mustPayloads(t *testing.T, v any) *commonpb.Payloads {
	p, err := converterPayloads(v)
	require.NoError(t, err)
	return p
}

func TestReverseHistoryAndTaskQueueBacklog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{quickWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, quickWorkflow, false)
	require.NoError(t, run.Get(e.ctx(), nil))
	forward := e.historyOf(run)

	var reverse []int64
	var token []byte
	for {
		resp, err := e.raw.GetWorkflowExecutionHistoryReverse(e.ctx(), &workflowservice.GetWorkflowExecutionHistoryReverseRequest{
			Namespace: "default", Execution: &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()},
			MaximumPageSize: 2, NextPageToken: token,
		})
		require.NoError(t, err)
		for _, ev := range resp.GetHistory().GetEvents() {
			reverse = append(reverse, ev.GetEventId())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	require.Len(t, reverse, len(forward))
	for i, id := range reverse {
		require.Equal(t, int64(len(forward)-i), id, "newest first")
	}

	// A queue nobody polls keeps its tasks in the backlog.
	idle := e.id("idle-tq")
	_, err := e.c.ExecuteWorkflow(e.ctx(), client.StartWorkflowOptions{TaskQueue: idle}, quickWorkflow, false)
	require.NoError(t, err)
	resp, err := e.raw.DescribeTaskQueue(e.ctx(), &workflowservice.DescribeTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: idle}, IncludeTaskQueueStatus: true,
	})
	require.NoError(t, err)
	require.Equal(t, int64(1), resp.GetTaskQueueStatus().GetBacklogCountHint())
	resp, err = e.raw.DescribeTaskQueue(e.ctx(), &workflowservice.DescribeTaskQueueRequest{
		Namespace: "default", TaskQueue: &taskqueuepb.TaskQueue{Name: tq},
	})
	require.NoError(t, err)
	require.NotEmpty(t, resp.GetPollers(), "the worker's pollers are reported")
}

func converterPayloads(v any) (*commonpb.Payloads, error) {
	return converter.GetDefaultDataConverter().ToPayloads(v)
}
