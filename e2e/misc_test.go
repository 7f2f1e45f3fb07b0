package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// pendingTask is what an asynchronously completed activity hands to the test.
type pendingTask struct {
	token      []byte
	wfID       string
	runID      string
	activityID string
}

// asyncActs returns ErrResultPending; the test completes the activity through the client.
type asyncActs struct{ pending chan pendingTask }

// Later leaves its result to the client.
func (a *asyncActs) Later(ctx context.Context, _ string) (string, error) {
	info := activity.GetInfo(ctx)
	a.pending <- pendingTask{token: info.TaskToken, wfID: info.WorkflowExecution.ID, runID: info.WorkflowExecution.RunID, activityID: info.ActivityID}
	return "", activity.ErrResultPending
}

// twoLaterWorkflow runs Later twice and joins the results.
func twoLaterWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var a, b string
	if err := workflow.ExecuteActivity(ctx, "Later", "first").Get(ctx, &a); err != nil {
		return "", err
	}
	if err := workflow.ExecuteActivity(ctx, "Later", "second").Get(ctx, &b); err != nil {
		return "", err
	}
	return a + "+" + b, nil
}

func TestAsyncActivityCompletion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acts := &asyncActs{pending: make(chan pendingTask, 2)}
	tq := e.startWorker(registry{workflows: []any{twoLaterWorkflow}, activities: []any{acts}})
	run := e.start(tq, client.StartWorkflowOptions{}, twoLaterWorkflow)

	next := func() pendingTask {
		select {
		case p := <-acts.pending:
			return p
		case <-time.After(waitFor):
			t.Fatal("the activity did not start")
			return pendingTask{}
		}
	}
	first := next()
	require.NoError(t, e.c.RecordActivityHeartbeat(e.ctx(), first.token, "progress"))
	require.NoError(t, e.c.CompleteActivity(e.ctx(), first.token, "by token", nil))
	second := next()
	require.Equal(t, run.GetID(), second.wfID)
	require.NoError(t, e.c.RecordActivityHeartbeatByID(e.ctx(), namespace, second.wfID, second.runID, second.activityID, "progress"))
	require.NoError(t, e.c.CompleteActivityByID(e.ctx(), namespace, second.wfID, second.runID, second.activityID, "by ID", nil))

	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "by token+by ID", got)

	// Completing again is stale.
	requireCode(t, e.c.CompleteActivity(e.ctx(), first.token, "again", nil), codes.NotFound)
	requireCode(t, e.c.CompleteActivityByID(e.ctx(), namespace, second.wfID, second.runID, second.activityID, "again", nil), codes.NotFound)
	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 2)
}

// signalCountWorkflow counts "add" signals until it gets a "stop" signal.
func signalCountWorkflow(ctx workflow.Context, start int) (int, error) {
	n := start
	add := workflow.GetSignalChannel(ctx, "add")
	stop := workflow.GetSignalChannel(ctx, "stop")
	for done := false; !done; {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(add, func(c workflow.ReceiveChannel, _ bool) {
			var d int
			c.Receive(ctx, &d)
			n += d
		})
		sel.AddReceive(stop, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, nil)
			done = true
		})
		sel.Select(ctx)
	}
	// Take every "add" that came before "stop".
	for {
		var d int
		if !add.ReceiveAsync(&d) {
			break
		}
		n += d
	}
	return n, nil
}

func TestSignalWithStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{signalCountWorkflow}})
	wfID := e.id("wf")
	opts := client.StartWorkflowOptions{ID: wfID, TaskQueue: tq}

	run, err := e.c.SignalWithStartWorkflow(e.ctx(), wfID, "add", 5, opts, signalCountWorkflow, 100)
	require.NoError(t, err, "signal-with-start starts the workflow")
	again, err := e.c.SignalWithStartWorkflow(e.ctx(), wfID, "add", 7, opts, signalCountWorkflow, 100)
	require.NoError(t, err, "signal-with-start signals the running workflow")
	require.Equal(t, run.GetRunID(), again.GetRunID())
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), wfID, "", "stop", nil))

	var n int
	require.NoError(t, run.Get(e.ctx(), &n))
	require.Equal(t, 112, n)
	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), 1)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 3)
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, events[1].GetEventType(),
		"signal-with-start records the signal right after the start")

	// On a closed ID, signal-with-start begins a new run that gets the signal.
	next, err := e.c.SignalWithStartWorkflow(e.ctx(), wfID, "add", 1, opts, signalCountWorkflow, 10)
	require.NoError(t, err)
	require.NotEqual(t, run.GetRunID(), next.GetRunID())
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), wfID, next.GetRunID(), "stop", nil))
	require.NoError(t, next.Get(e.ctx(), &n))
	require.Equal(t, 11, n)
}

// startListed starts three waitForSignalWorkflow runs and completes the first; it returns each
// workflow ID with its status.
func startListed(t *testing.T, e *env) (string, map[string]enumspb.WorkflowExecutionStatus) {
	tq := e.startWorker(registry{workflows: []any{waitForSignalWorkflow}})
	want := map[string]enumspb.WorkflowExecutionStatus{}
	for i := 0; i < 3; i++ {
		run := e.start(tq, client.StartWorkflowOptions{}, waitForSignalWorkflow)
		want[run.GetID()] = enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		if i == 0 {
			require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), "", "never", nil))
			require.NoError(t, run.Get(e.ctx(), nil))
			want[run.GetID()] = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		}
	}
	return tq, want
}

// Visibility commits with each transition (DESIGN.md, invariant 1), so listings are read without
// waiting, unlike on Temporal, whose visibility is eventually consistent.
func TestListWorkflowExecutions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq, want := startListed(t, e)
	got := map[string]enumspb.WorkflowExecutionStatus{}
	var token []byte
	for {
		resp, err := e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, PageSize: 2, NextPageToken: token})
		require.NoError(t, err)
		for _, info := range resp.GetExecutions() {
			id := info.GetExecution().GetWorkflowId()
			_, dup := got[id]
			require.False(t, dup, "%s listed twice", id)
			got[id] = info.GetStatus()
			require.Equal(t, "waitForSignalWorkflow", info.GetType().GetName())
			require.Equal(t, tq, info.GetTaskQueue())
			require.NotNil(t, info.GetStartTime())
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	require.Equal(t, want, got, fmt.Sprintf("listing of %d workflows", len(want)))
}

func TestHistoryPagingAndCloseEventFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{combineWorkflow}, activities: []any{&textActs{}}})
	run := e.start(tq, client.StartWorkflowOptions{}, combineWorkflow, "paging")
	require.NoError(t, run.Get(e.ctx(), nil))
	all := e.historyOf(run)
	require.Greater(t, len(all), 14, "enough events for several pages")

	exec := &commonpb.WorkflowExecution{WorkflowId: run.GetID(), RunId: run.GetRunID()}
	var paged []*historypb.HistoryEvent
	var token []byte
	pages := 0
	for {
		resp, err := e.raw.GetWorkflowExecutionHistory(e.ctx(), &workflowservice.GetWorkflowExecutionHistoryRequest{
			Namespace: namespace, Execution: exec, MaximumPageSize: 7, NextPageToken: token,
		})
		require.NoError(t, err)
		require.LessOrEqual(t, len(resp.GetHistory().GetEvents()), 7, "a page holds at most MaximumPageSize events")
		paged = append(paged, resp.GetHistory().GetEvents()...)
		pages++
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
		require.Less(t, pages, 100, "paging does not end")
	}
	require.GreaterOrEqual(t, pages, 3)
	require.Equal(t, len(all), len(paged))
	for i := range all {
		require.True(t, proto.Equal(all[i], paged[i]), "event %d differs between the paged and the whole read", i+1)
	}

	resp, err := e.raw.GetWorkflowExecutionHistory(e.ctx(), &workflowservice.GetWorkflowExecutionHistoryRequest{
		Namespace: namespace, Execution: exec, HistoryEventFilterType: enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
	})
	require.NoError(t, err)
	require.Len(t, resp.GetHistory().GetEvents(), 1, "the close-event filter returns only the close event")
	require.True(t, proto.Equal(all[len(all)-1], resp.GetHistory().GetEvents()[0]))
}

func TestListWorkflowQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, want := startListed(t, e)
	list := func(t *testing.T, query string) map[string]bool {
		resp, err := e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: query})
		require.NoError(t, err, "query %q", query)
		ids := map[string]bool{}
		for _, info := range resp.GetExecutions() {
			ids[info.GetExecution().GetWorkflowId()] = true
		}
		return ids
	}
	running, closed := map[string]bool{}, map[string]bool{}
	var oneID string
	for id, st := range want {
		if st == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			running[id] = true
			oneID = id
		} else {
			closed[id] = true
		}
	}
	t.Run("by status", func(t *testing.T) {
		require.Equal(t, running, list(t, "ExecutionStatus = 'Running'"))
		require.Equal(t, closed, list(t, "ExecutionStatus = 'Completed'"))
	})
	t.Run("by ID", func(t *testing.T) {
		require.Equal(t, map[string]bool{oneID: true}, list(t, "WorkflowId = '"+oneID+"'"))
	})
	t.Run("by type", func(t *testing.T) {
		require.Len(t, list(t, "WorkflowType = 'waitForSignalWorkflow'"), len(want))
		require.Empty(t, list(t, "WorkflowType = 'noSuchWorkflow'"))
	})
	t.Run("bad query", func(t *testing.T) {
		_, err := e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: "WorkflowId = "})
		requireCode(t, err, codes.InvalidArgument)
	})
}
