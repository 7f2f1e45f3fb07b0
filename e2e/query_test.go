package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// queryWorkflow answers "state" and "echo" queries while it waits for a "finish" signal.
func queryWorkflow(ctx workflow.Context) (string, error) {
	state := "waiting"
	if err := workflow.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil }); err != nil {
		return "", err
	}
	if err := workflow.SetQueryHandler(ctx, "echo", func(s string) (string, error) { return state + ":" + s, nil }); err != nil {
		return "", err
	}
	if err := workflow.SetQueryHandler(ctx, "fail", func() (string, error) { return "", errors.New("this query always fails") }); err != nil {
		return "", err
	}
	var how string
	workflow.GetSignalChannel(ctx, "finish").Receive(ctx, &how)
	state = "done " + how
	return state, nil
}

func TestQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{queryWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, queryWorkflow)
	// A workflow can be queried once its first workflow task has completed (before that, Temporal
	// answers WorkflowNotReady).
	e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)

	query := func(name string, args ...any) (string, error) {
		v, err := e.c.QueryWorkflow(e.ctx(), run.GetID(), run.GetRunID(), name, args...)
		if err != nil {
			return "", err
		}
		var s string
		require.NoError(t, v.Get(&s))
		return s, nil
	}

	// Running: the query is answered by the worker from the workflow's current state.
	got, err := query("state")
	require.NoError(t, err)
	require.Equal(t, "waiting", got)
	got, err = query("echo", "hi")
	require.NoError(t, err)
	require.Equal(t, "waiting:hi", got)

	_, err = query("no-such-query")
	var qf *serviceerror.QueryFailed
	require.ErrorAs(t, err, &qf, "an unknown query type fails with QueryFailed, got %v", err)
	require.Contains(t, qf.Error(), "unknown queryType no-such-query")

	_, err = query("fail")
	require.ErrorAs(t, err, &qf, "a failing query handler fails the query with QueryFailed, got %v", err)
	require.Contains(t, qf.Error(), "this query always fails")

	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "finish", "well"))
	var result string
	require.NoError(t, run.Get(e.ctx(), &result))
	require.Equal(t, "done well", result)

	// Closed (the worker still runs): the worker replays the history to answer.
	got, err = query("state")
	require.NoError(t, err)
	require.Equal(t, "done well", got)
	got, err = query("echo", "again")
	require.NoError(t, err)
	require.Equal(t, "done well:again", got)
	_, err = query("no-such-query")
	require.ErrorAs(t, err, &qf, "an unknown query type on a closed workflow fails with QueryFailed, got %v", err)

	// Queries leave no trace in the history.
	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Equal(t, []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
	}, eventTypes(events))
}

// signalCounterWorkflow counts "add" signals and answers the count to a "count" query.
func signalCounterWorkflow(ctx workflow.Context) error {
	n := 0
	if err := workflow.SetQueryHandler(ctx, "count", func() (int, error) { return n, nil }); err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, "add")
	for {
		ch.Receive(ctx, nil)
		n++
	}
}

// TestQueryIsConsistentWithSignals: a query sees every signal recorded before it, as in
// Temporal, even while the workflow task that delivers them is still pending or running.
func TestQueryIsConsistentWithSignals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{signalCounterWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, signalCounterWorkflow)
	for i := 1; i <= 20; i++ {
		require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "add", nil))
		v, err := e.c.QueryWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "count")
		require.NoError(t, err)
		var n int
		require.NoError(t, v.Get(&n))
		require.Equal(t, i, n, "the query answered before the workflow saw signal %d", i)
	}
}

// TestQueryBeforeTheFirstWorkflowTask: a query of a run no worker has started waits for its first
// workflow task, and is answered once a worker comes.
func TestQueryBeforeTheFirstWorkflowTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.id("tq")
	run := e.start(tq, client.StartWorkflowOptions{}, queryWorkflow)
	answer := make(chan error, 1)
	var got string
	go func() {
		v, err := e.c.QueryWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "state")
		if err == nil {
			err = v.Get(&got)
		}
		answer <- err
	}()
	select {
	case err := <-answer:
		t.Fatalf("the query was answered before any worker ran the workflow: %v", err)
	case <-time.After(time.Second):
	}
	e.startWorkerOn(tq, registry{workflows: []any{queryWorkflow}})
	require.NoError(t, <-answer)
	require.Equal(t, "waiting", got)
}

// panickingWorkflow fails every workflow task.
func panickingWorkflow(ctx workflow.Context) error { panic("this workflow task always fails") }

// TestQueryNotReady: as Temporal, a query fails with WorkflowNotReady when the run closed before any
// workflow task completed, when its first workflow task is not due before the query's deadline,
// and while its workflow task keeps failing.
func TestQueryNotReady(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	notReady := func(wfID, runID string, timeout time.Duration, why string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := e.c.QueryWorkflow(ctx, wfID, runID, "state")
		var nr *serviceerror.WorkflowNotReady
		require.ErrorAs(t, err, &nr, "%s: got %v", why, err)
	}

	closed := e.start(e.id("no-worker"), client.StartWorkflowOptions{}, queryWorkflow)
	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), closed.GetID(), closed.GetRunID(), "test"))
	notReady(closed.GetID(), closed.GetRunID(), waitFor, "closed before its first workflow task")

	delayed := e.start(e.id("no-worker"), client.StartWorkflowOptions{StartDelay: time.Hour}, queryWorkflow)
	notReady(delayed.GetID(), delayed.GetRunID(), 5*time.Second, "first workflow task an hour away")

	tq := e.startWorker(registry{workflows: []any{panickingWorkflow}})
	failing := e.start(tq, client.StartWorkflowOptions{}, panickingWorkflow)
	require.Eventually(t, func() bool {
		d, err := e.c.DescribeWorkflowExecution(e.ctx(), failing.GetID(), failing.GetRunID())
		return err == nil && d.GetPendingWorkflowTask().GetAttempt() >= 3
	}, waitFor, 50*time.Millisecond, "the workflow task fails again and again")
	notReady(failing.GetID(), failing.GetRunID(), waitFor, "workflow task in a failed state")
}
