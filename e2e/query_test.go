package e2e

import (
	"errors"
	"testing"

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
