package e2e

import (
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// counterWithUpdates adds update arguments to a total; the validator rejects negatives; a
// "finish" signal ends it with the total.
func counterWithUpdates(ctx workflow.Context) (int, error) {
	total := 0
	err := workflow.SetUpdateHandlerWithOptions(ctx, "add", func(ctx workflow.Context, n int) (int, error) {
		if n == 13 {
			return 0, errors.New("unlucky") // accepted, then fails in the handler
		}
		total += n
		return total, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, n int) error {
		if n < 0 {
			return errors.New("negative amounts are refused")
		}
		return nil
	}})
	if err != nil {
		return 0, err
	}
	workflow.GetSignalChannel(ctx, "finish").Receive(ctx, nil)
	return total, nil
}

func TestUpdatesRejectedAcceptedAndCompleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{counterWithUpdates}})
	run := e.start(tq, client.StartWorkflowOptions{}, counterWithUpdates)
	e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	before := len(e.historyOf(run))

	// Rejected by the validator: the caller gets the error and the history does not change.
	h, err := e.c.UpdateWorkflow(e.ctx(), client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateName: "add", Args: []any{-5}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	err = h.Get(e.ctx(), nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "negative amounts are refused")
	require.Len(t, e.historyOf(run), before, "a rejected update leaves no event (speculative workflow task)")

	// Accepted and completed, synchronously.
	h, err = e.c.UpdateWorkflow(e.ctx(), client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateName: "add", Args: []any{5}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	var total int
	require.NoError(t, h.Get(e.ctx(), &total))
	require.Equal(t, 5, total)

	// Waiting only for acceptance, then for the result through the handle (PollWorkflowExecutionUpdate).
	id := uuid.NewString()
	h, err = e.c.UpdateWorkflow(e.ctx(), client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateID: id, UpdateName: "add", Args: []any{7}, WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	require.NoError(t, err)
	again := e.c.GetWorkflowUpdateHandle(client.GetWorkflowUpdateHandleOptions{WorkflowID: run.GetID(), UpdateID: id})
	require.NoError(t, again.Get(e.ctx(), &total))
	require.Equal(t, 12, total)

	// The same update ID again returns the first outcome and applies nothing twice.
	h, err = e.c.UpdateWorkflow(e.ctx(), client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateID: id, UpdateName: "add", Args: []any{7}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	require.NoError(t, h.Get(e.ctx(), &total))
	require.Equal(t, 12, total, "a repeated update ID is deduplicated")

	// Accepted, then failed by its handler.
	h, err = e.c.UpdateWorkflow(e.ctx(), client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateName: "add", Args: []any{13}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	require.ErrorContains(t, h.Get(e.ctx(), nil), "unlucky")

	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), "", "finish", nil))
	require.NoError(t, run.Get(e.ctx(), &total))
	require.Equal(t, 12, total)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), 3, "three accepted updates (5, 7, 13)")
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED), 3)
}

func TestUpdateWithStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{counterWithUpdates}})
	wfID := e.id("uws")
	for i, want := range []int{4, 8} {
		op := e.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID: wfID, TaskQueue: tq, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, counterWithUpdates)
		h, err := e.c.UpdateWithStartWorkflow(e.ctx(), client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: op,
			UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: "add", Args: []any{4}, WaitForStage: client.WorkflowUpdateStageCompleted},
		})
		require.NoError(t, err, "update-with-start %d", i)
		var total int
		require.NoError(t, h.Get(e.ctx(), &total))
		require.Equal(t, want, total, "the second update-with-start reuses the running workflow")
	}
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), wfID, "", "finish", nil))
	var total int
	require.NoError(t, e.c.GetWorkflow(e.ctx(), wfID, "").Get(e.ctx(), &total))
	require.Equal(t, 8, total)
}

// waitForever accepts updates it never finishes.
func waitForever(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandler(ctx, "hang", func(ctx workflow.Context) error {
		return workflow.Await(ctx, func() bool { return false })
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return false })
}

func TestUpdateOfAClosingRunIsAnswered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{waitForever}})
	run := e.start(tq, client.StartWorkflowOptions{}, waitForever)
	h, err := e.c.UpdateWorkflow(e.ctx(), client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateName: "hang", WaitForStage: client.WorkflowUpdateStageAccepted,
	})
	require.NoError(t, err, "the update is accepted")
	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), run.GetID(), "", "end"))
	err = h.Get(e.ctx(), nil)
	require.ErrorContains(t, err, "workflow execution already completed", "a waiting update of a run that closed is answered, not left to time out")
}
