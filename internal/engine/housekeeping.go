package engine

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/duro-dev/duro/internal/store"
)

// Temporal's default history limits: past the warning thresholds WorkflowTaskStarted suggests
// continue-as-new; at the error thresholds the run is terminated.
const (
	DefaultHistoryMaxEvents = 51200
	DefaultHistoryMaxBytes  = 50 * 1024 * 1024
)

// DeleteWorkflow deletes a run with its history (terminating it first if it is open), as
// DeleteWorkflowExecution does.
func (e *Engine) DeleteWorkflow(ctx context.Context, namespace, workflowID, runID string) error {
	k, unlock, err := e.lockRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return err
	}
	defer unlock()
	ms, _, err := e.load(ctx, k)
	if err != nil {
		return err
	}
	if ms.open() {
		if err := e.terminateLocked(ctx, k, "deleted", nil, "duro-delete"); err != nil {
			var ee *Error
			if !errors.As(err, &ee) || ee.Code != CodeNotFound {
				return err
			}
		}
	}
	return e.deleteRun(ctx, k)
}

func (e *Engine) deleteRun(ctx context.Context, k execKey) error {
	e.dropCache(k)
	if err := e.store.DeleteExecution(ctx, k.namespace, k.workflowID, k.runID); err != nil {
		return unavailable(fmt.Errorf("delete execution: %w", err))
	}
	e.dropCache(k)
	return nil
}

// fireRetention deletes a closed run once its namespace's retention has passed.
func (e *Engine) fireRetention(ctx context.Context, row store.Timer) error {
	unlock := e.locks.Lock(lockKey(row.Namespace, row.WorkflowID))
	defer unlock()
	k := execKey{row.Namespace, row.WorkflowID, row.RunID}
	ms, _, err := e.load(ctx, k)
	if errors.Is(err, errExecutionGone) {
		return nil
	}
	if err != nil {
		return err
	}
	if ms.open() {
		return nil // cannot happen (the row is written at close); never delete an open run
	}
	return e.deleteRun(ctx, k)
}

// armRetention schedules the closed run's deletion after the namespace's retention.
func (t *txn) armRetention() {
	ns, err := t.e.ns.get(t.ctx, t.ms.Namespace)
	if err != nil || ns.Retention <= 0 {
		return
	}
	t.addTimer(timerRetention, t.now.Add(ns.Retention), 0, 0, "")
}

// enforceHistoryLimits terminates a run whose history has grown past the limits, as Temporal does,
// so that long-lived workflows learn to continue as new.
func (t *txn) enforceHistoryLimits() {
	ms := t.ms
	if !ms.open() {
		return
	}
	maxEvents, maxBytes := t.e.cfg.HistoryMaxEvents, t.e.cfg.HistoryMaxBytes
	if (maxEvents <= 0 || ms.NextEventID-1 < int64(maxEvents)) && (maxBytes <= 0 || ms.HistorySize < int64(maxBytes)) {
		return
	}
	_ = t.abortWorkflowTask(enumspb.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, "duro-history-limit")
	ev := t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{
			Reason: fmt.Sprintf("Workflow history size / count exceeds limit (%d events, %d bytes).", ms.NextEventID-1, ms.HistorySize), Identity: "duro-history-limit",
		}},
	})
	t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, ev.EventId)
}
