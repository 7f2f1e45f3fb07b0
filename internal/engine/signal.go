package engine

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/duro-dev/duro/asl/jsonv"
)

// maxPendingSignals is Temporal's default limit on signals per run.
const maxPendingSignals = 10000

// Signal delivers a signal to a run (the current one if runID is empty). A retry with the same
// request ID is answered without signalling twice.
func (e *Engine) Signal(ctx context.Context, namespace, workflowID, runID string, sig *SignalArgs) error {
	k, unlock, err := e.lockRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return err
	}
	defer unlock()
	return e.signalLocked(ctx, k, sig)
}

func (e *Engine) signalLocked(ctx context.Context, k execKey, sig *SignalArgs) error {
	return e.updateLocked(ctx, k, func(t *txn) error {
		ms := t.ms
		if !ms.open() {
			return notFound("workflow execution already completed")
		}
		if sig.RequestID != "" && ms.SignalRequestIDs[sig.RequestID] {
			return errNoChange
		}
		if ms.SignalCount >= maxPendingSignals {
			return invalidArgument("signal count limit exceeded for workflow execution (limit %d)", maxPendingSignals)
		}
		if sig.RequestID != "" {
			if ms.SignalRequestIDs == nil {
				ms.SignalRequestIDs = map[string]bool{}
			}
			ms.SignalRequestIDs[sig.RequestID] = true
		}
		ms.SignalCount++
		return t.externalEvent(signaledEvent(sig))
	})
}

// RequestCancel records a cancellation request for the workflow to act on. A second request (or a
// retry with the same request ID) is accepted without a second event, as Temporal does.
func (e *Engine) RequestCancel(ctx context.Context, namespace, workflowID, runID, reason, identity, requestID string) error {
	k, unlock, err := e.lockRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return err
	}
	defer unlock()
	return e.updateLocked(ctx, k, func(t *txn) error {
		ms := t.ms
		if !ms.open() {
			return notFound("workflow execution already completed")
		}
		if ms.CancelRequested {
			return errNoChange
		}
		ms.CancelRequested, ms.CancelRequestID = true, requestID
		if ms.SFN != nil {
			// A state machine has no workflow code to react: a cancel request through the
			// Temporal API stops it, as StopExecution would (ExecutionAborted).
			if err := t.sfnAbortMarker("", reason); err != nil {
				return err
			}
			ev := t.appendEvent(&historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
				Attributes: &historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes{WorkflowExecutionCanceledEventAttributes: &historypb.WorkflowExecutionCanceledEventAttributes{
					Details: sfnJSONPayloads(jsonv.Marshal(sfnErrorDetails("", reason))),
				}},
			})
			t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, ev.EventId)
			return nil
		}
		return t.externalEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionCancelRequestedEventAttributes{WorkflowExecutionCancelRequestedEventAttributes: &historypb.WorkflowExecutionCancelRequestedEventAttributes{
				Cause: reason, Identity: identity,
			}},
		})
	})
}

// Terminate closes a run at once with a Terminated event.
func (e *Engine) Terminate(ctx context.Context, namespace, workflowID, runID, reason string, details *commonpb.Payloads, identity string) error {
	k, unlock, err := e.lockRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return err
	}
	defer unlock()
	return e.terminateLocked(ctx, k, reason, details, identity)
}

func (e *Engine) terminateLocked(ctx context.Context, k execKey, reason string, details *commonpb.Payloads, identity string) error {
	return e.updateLocked(ctx, k, func(t *txn) error {
		ms := t.ms
		if !ms.open() {
			return notFound("workflow execution already completed")
		}
		if err := t.abortWorkflowTask(enumspb.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND, identity); err != nil {
			return err
		}
		if ms.SFN != nil {
			if err := t.sfnAbortMarker("", reason); err != nil {
				return err
			}
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{
				Reason: reason, Details: details, Identity: identity,
			}},
		})
		t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, ev.EventId)
		return nil
	})
}

// abortWorkflowTask ends a started workflow task that will never complete because the run is being
// closed from outside (terminate, timeout): a persisted task gets a WorkflowTaskFailed event, and
// the buffered events are written so nothing that happened is lost.
func (t *txn) abortWorkflowTask(cause enumspb.WorkflowTaskFailedCause, identity string) error {
	w := t.ms.WFT
	if w.started() && !w.Transient {
		t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskFailedEventAttributes{WorkflowTaskFailedEventAttributes: &historypb.WorkflowTaskFailedEventAttributes{
				ScheduledEventId: w.ScheduledEventID,
				StartedEventId:   w.StartedEventID,
				Cause:            cause,
				Failure:          &failurepb.Failure{Message: "workflow task aborted: " + cause.String()},
				Identity:         identity,
			}},
		})
	}
	t.ms.WFT = nil
	return t.flushBuffered()
}
