package e2e

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// childEcho returns its input, fails on "fail", and waits for cancellation on "wait".
func childEcho(ctx workflow.Context, in string) (string, error) {
	switch in {
	case "fail":
		return "", temporal.NewNonRetryableApplicationError("child failed on purpose", "ChildFailure", nil)
	case "wait":
		err := workflow.Await(ctx, func() bool { return false })
		return "", err
	}
	return "child:" + in, nil
}

// parentOfChildren runs a child that succeeds, one that fails, and one it cancels.
func parentOfChildren(ctx workflow.Context) ([]string, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowExecutionTimeout: time.Minute})
	var out []string
	var ok string
	if err := workflow.ExecuteChildWorkflow(cctx, childEcho, "a").Get(ctx, &ok); err != nil {
		return nil, err
	}
	out = append(out, ok)

	err := workflow.ExecuteChildWorkflow(cctx, childEcho, "fail").Get(ctx, nil)
	var ce *temporal.ChildWorkflowExecutionError
	var ae *temporal.ApplicationError
	if errors.As(err, &ce) && errors.As(err, &ae) && ae.Type() == "ChildFailure" {
		out = append(out, "failed:"+ae.Type())
	} else {
		return nil, fmt.Errorf("want a child failure, got %v", err)
	}

	wctx, cancel := workflow.WithCancel(cctx)
	waiting := workflow.ExecuteChildWorkflow(wctx, childEcho, "wait")
	var started workflow.Execution
	if err := waiting.GetChildWorkflowExecution().Get(ctx, &started); err != nil {
		return nil, err
	}
	cancel()
	err = waiting.Get(ctx, nil)
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		out = append(out, "canceled")
	} else {
		return nil, fmt.Errorf("want a canceled child, got %v", err)
	}
	return out, nil
}

func TestChildWorkflowsFinishFailAndCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{parentOfChildren, childEcho}})
	run := e.start(tq, client.StartWorkflowOptions{}, parentOfChildren)
	var out []string
	require.NoError(t, run.Get(e.ctx(), &out))
	require.Equal(t, []string{"child:a", "failed:ChildFailure", "canceled"}, out)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED), 3)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED), 3)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED), 1)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED), 1)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED), 1)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED), 1)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED), 1)
	for _, ev := range ofType(events, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED) {
		a := ev.GetChildWorkflowExecutionCompletedEventAttributes()
		started := events[a.GetStartedEventId()-1]
		require.Equal(t, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, started.GetEventType(), "started_event_id points at the child's started event")
		require.Equal(t, a.GetInitiatedEventId(), started.GetChildWorkflowExecutionStartedEventAttributes().GetInitiatedEventId())
	}
}

// parentThatLeaves starts a waiting child with the given policy and completes without waiting.
func parentThatLeaves(ctx workflow.Context, policy enumspb.ParentClosePolicy, childID string) error {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: childID, ParentClosePolicy: policy})
	f := workflow.ExecuteChildWorkflow(cctx, childEcho, "wait")
	return f.GetChildWorkflowExecution().Get(ctx, nil)
}

func TestParentClosePolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{parentThatLeaves, childEcho}})
	cases := []struct {
		policy enumspb.ParentClosePolicy
		want   enumspb.WorkflowExecutionStatus
	}{
		{enumspb.PARENT_CLOSE_POLICY_TERMINATE, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED},
		{enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED},
		{enumspb.PARENT_CLOSE_POLICY_ABANDON, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING},
	}
	for _, tc := range cases {
		t.Run(tc.policy.String(), func(t *testing.T) {
			e := e.sub(t)
			childID := e.id("child")
			run := e.start(tq, client.StartWorkflowOptions{}, parentThatLeaves, tc.policy, childID)
			require.NoError(t, run.Get(e.ctx(), nil))
			if tc.want == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				// Abandoned: still running well after the parent closed; then clean up.
				e.never(func() bool {
					d, err := e.c.DescribeWorkflowExecution(e.ctx(), childID, "")
					return err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
				}, 2*time.Second, 100*time.Millisecond)
				require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(childID, ""))
				require.NoError(t, e.c.TerminateWorkflow(e.ctx(), childID, "", "cleanup"))
				return
			}
			require.Eventually(t, func() bool { return e.status(childID, "") == tc.want }, waitFor, 50*time.Millisecond,
				"child of a %v parent ends %v", tc.policy, tc.want)
		})
	}
}

// counterWorkflow continues as new `left` more times, counting the signals it receives.
func counterWorkflow(ctx workflow.Context, left, seen int) (int, error) {
	ch := workflow.GetSignalChannel(ctx, "add")
	// Take what arrived, waiting a little for more, then continue as new carrying the count.
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(ch, func(c workflow.ReceiveChannel, more bool) {
		var n int
		c.Receive(ctx, &n)
		seen += n
	})
	timer := workflow.NewTimer(ctx, 20*time.Millisecond)
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.Select(ctx)
	for {
		var n int
		if !ch.ReceiveAsync(&n) {
			break
		}
		seen += n
	}
	if left == 0 {
		return seen, nil
	}
	return 0, workflow.NewContinueAsNewError(ctx, counterWorkflow, left-1, seen)
}

func TestContinueAsNewHundredTimesWithSignals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{counterWorkflow}})
	wfID := e.id("wf")
	run := e.start(tq, client.StartWorkflowOptions{ID: wfID}, counterWorkflow, 100, 0)
	firstRunID := run.GetRunID() // run.Get below moves the handle along the chain
	const signals = 60
	for i := 0; i < signals; i++ {
		require.NoError(t, e.c.SignalWorkflow(e.ctx(), wfID, "", "add", 1), "signal %d", i)
	}
	var total int
	require.NoError(t, run.Get(e.ctx(), &total), "run.Get follows the continue-as-new chain")
	require.Equal(t, signals, total, "no signal lost across 100 continue-as-new")

	// The chain: 101 runs, each started by the previous one, first-execution run ID kept.
	desc, err := e.c.DescribeWorkflowExecution(e.ctx(), wfID, "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())
	last := e.history(wfID, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	wes := last[0].GetWorkflowExecutionStartedEventAttributes()
	require.Equal(t, firstRunID, wes.GetFirstExecutionRunId())
	require.NotEqual(t, firstRunID, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId())
	require.NotEmpty(t, wes.GetContinuedExecutionRunId())
	require.Equal(t, enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW, wes.GetInitiator())
	first := e.history(wfID, firstRunID)
	closeEv := first[len(first)-1]
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, closeEv.GetEventType())
}

// signaller signals another workflow, and one that does not exist.
func signaller(ctx workflow.Context, target string) (string, error) {
	if err := workflow.SignalExternalWorkflow(ctx, target, "", "poke", "hello").Get(ctx, nil); err != nil {
		return "", err
	}
	err := workflow.SignalExternalWorkflow(ctx, "no-such-workflow-"+target, "", "poke", "x").Get(ctx, nil)
	if err == nil {
		return "", errors.New("signalling a missing workflow succeeded")
	}
	return "ok", nil
}

func waitForPoke(ctx workflow.Context) (string, error) {
	var v string
	workflow.GetSignalChannel(ctx, "poke").Receive(ctx, &v)
	return v, nil
}

func TestSignalExternalWorkflow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{signaller, waitForPoke}})
	target := e.start(tq, client.StartWorkflowOptions{}, waitForPoke)
	src := e.start(tq, client.StartWorkflowOptions{}, signaller, target.GetID())
	var got string
	require.NoError(t, target.Get(e.ctx(), &got))
	require.Equal(t, "hello", got)
	require.NoError(t, src.Get(e.ctx(), &got))
	require.Equal(t, "ok", got)
	events := e.historyOf(src)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED), 1)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED), 1)
	require.Len(t, ofType(e.historyOf(target), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 1, "signalled exactly once")
}

// parentOfFixedChild starts a child under a given ID and reports how it ended.
func parentOfFixedChild(ctx workflow.Context, childID string) (string, error) {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: childID})
	err := workflow.ExecuteChildWorkflow(cctx, childEcho, "wait").Get(ctx, nil)
	var already *temporal.ChildWorkflowExecutionAlreadyStartedError
	var terminated *temporal.TerminatedError
	switch {
	case errors.As(err, &already):
		return "already started", nil
	case errors.As(err, &terminated):
		return "terminated", nil
	}
	return "", fmt.Errorf("unexpected child outcome: %v", err)
}

func TestChildStartConflictAndTerminatedChild(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{parentOfFixedChild, childEcho}})

	// A child whose ID is already running fails to start: StartChildWorkflowExecutionFailed.
	busyID := e.id("busy")
	busy := e.start(tq, client.StartWorkflowOptions{ID: busyID}, childEcho, "wait")
	parent := e.start(tq, client.StartWorkflowOptions{}, parentOfFixedChild, busyID)
	var out string
	require.NoError(t, parent.Get(e.ctx(), &out))
	require.Equal(t, "already started", out)
	failed := ofType(e.historyOf(parent), enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED)
	require.Len(t, failed, 1)
	require.Equal(t, enumspb.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS, failed[0].GetStartChildWorkflowExecutionFailedEventAttributes().GetCause())
	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), busy.GetID(), "", "cleanup"))

	// A child terminated from outside: the parent sees ChildWorkflowExecutionTerminated.
	childID := e.id("child")
	parent = e.start(tq, client.StartWorkflowOptions{}, parentOfFixedChild, childID)
	e.waitForEvent(parent.GetID(), parent.GetRunID(), enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)
	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), childID, "", "stop the child"))
	require.NoError(t, parent.Get(e.ctx(), &out))
	require.Equal(t, "terminated", out)
	require.Len(t, ofType(e.historyOf(parent), enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED), 1)
	child := e.history(childID, "")
	wes := child[0].GetWorkflowExecutionStartedEventAttributes()
	require.Equal(t, parent.GetID(), wes.GetParentWorkflowExecution().GetWorkflowId(), "the child knows its parent")
	require.Equal(t, parent.GetID(), wes.GetRootWorkflowExecution().GetWorkflowId())
	require.Positive(t, wes.GetParentInitiatedEventId())
}
