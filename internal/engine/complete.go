package engine

import (
	"context"
	"errors"
	"fmt"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/tasktoken"
)

// commandError is a command the engine refuses: the workflow task fails with cause, and the worker
// gets InvalidArgument with the message.
type commandError struct {
	cause enumspb.WorkflowTaskFailedCause
	msg   string
}

func (c *commandError) Error() string { return c.msg }

func badCommand(cause enumspb.WorkflowTaskFailedCause, format string, args ...any) error {
	return &commandError{cause: cause, msg: fmt.Sprintf(format, args...)}
}

// CompleteWorkflowTask applies a worker's RespondWorkflowTaskCompleted: WorkflowTaskCompleted at
// started+1, then exactly one event per command in command order (the SDK predicts these IDs),
// then the events buffered while the task ran, then a new workflow task if anything is new.
func (e *Engine) CompleteWorkflowTask(ctx context.Context, tok tasktoken.Token, req *workflowservice.RespondWorkflowTaskCompletedRequest) error {
	k := execKey{tok.Namespace, tok.WorkflowID, tok.RunID}
	if err := e.prepareCommandSearchAttributes(ctx, k.namespace, req.GetCommands()); err != nil {
		return err
	}
	unlock := e.locks.Lock(lockKey(k.namespace, k.workflowID))
	defer unlock()
	err := e.updateLocked(ctx, k, func(t *txn) error {
		if _, err := checkWFT(t.ms, tok); err != nil {
			return err
		}
		return t.completeWFT(req)
	})
	var ce *commandError
	if !errors.As(err, &ce) {
		return err
	}
	// The commands were refused: nothing of them was kept (the cached state was dropped); record the
	// failed task instead and tell the worker why.
	ferr := e.updateLocked(ctx, k, func(t *txn) error {
		if _, err := checkWFT(t.ms, tok); err != nil {
			return err
		}
		return t.failWFT(ce.cause, &failurepb.Failure{Message: ce.msg}, req.GetIdentity(), false)
	})
	if ferr != nil {
		return ferr
	}
	if ce.cause == enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND {
		return invalidArgument("UnhandledCommand")
	}
	return invalidArgument("%s", ce.msg)
}

func (t *txn) completeWFT(req *workflowservice.RespondWorkflowTaskCompletedRequest) error {
	ms := t.ms
	w := ms.WFT
	if w.Transient {
		for _, ev := range transientEvents(ms, w, t.e.cfg) {
			ev.EventId = 0
			t.appendEvent(ev)
		}
	}
	wtc := t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		Attributes: &historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes{WorkflowTaskCompletedEventAttributes: &historypb.WorkflowTaskCompletedEventAttributes{
			ScheduledEventId: w.ScheduledEventID,
			StartedEventId:   w.StartedEventID,
			Identity:         req.GetIdentity(),
			BinaryChecksum:   req.GetBinaryChecksum(),
			SdkMetadata:      req.GetSdkMetadata(),
			MeteringMetadata: req.GetMeteringMetadata(),
			WorkerVersion:    req.GetWorkerVersionStamp(),
		}},
	})
	ms.LastCompletedWFTStartedID = w.StartedEventID
	if sa := req.GetStickyAttributes(); sa != nil && sa.GetWorkerTaskQueue().GetName() != "" {
		ms.StickyQueue = sa.GetWorkerTaskQueue().GetName()
		ms.StickyScheduleToStart = sa.GetScheduleToStartTimeout().AsDuration()
	} else {
		ms.StickyQueue = ""
	}
	t.msgs = map[string]*protocolpb.Message{}
	for _, m := range req.GetMessages() {
		t.msgs[m.GetId()] = m
	}
	k := execKey{ms.Namespace, ms.WorkflowID, ms.RunID}
	t.after = append(t.after, func() { t.e.applyRejections(k, req.GetMessages()) })
	closed := false
	for i, cmd := range req.GetCommands() {
		if closed {
			return badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES,
				"command %d (%s) follows a command that closes the workflow", i, cmd.GetCommandType())
		}
		c, err := t.applyCommand(cmd, wtc.EventId)
		if err != nil {
			return err
		}
		closed = c
	}
	if closed {
		if len(ms.Buffered) > 0 {
			// New events arrived while the task ran: the workflow must see them before it may close.
			return badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, "UnhandledCommand")
		}
		return nil
	}
	ms.WFT = nil
	if err := t.flushBuffered(); err != nil {
		return err
	}
	if req.GetForceCreateNewWorkflowTask() || t.e.updatesPending(t) {
		t.wftNeeded = true
	}
	return nil
}

// applyCommand records one command's event and state. It reports whether the command closed the run.
func (t *txn) applyCommand(cmd *commandpb.Command, wtcID int64) (bool, error) {
	ms := t.ms
	switch cmd.GetCommandType() {
	case enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK:
		return false, t.scheduleActivity(cmd.GetScheduleActivityTaskCommandAttributes(), wtcID)
	case enumspb.COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK:
		return false, t.requestCancelActivity(cmd.GetRequestCancelActivityTaskCommandAttributes(), wtcID)
	case enumspb.COMMAND_TYPE_START_TIMER:
		return false, t.startTimer(cmd.GetStartTimerCommandAttributes(), wtcID)
	case enumspb.COMMAND_TYPE_CANCEL_TIMER:
		return false, t.cancelTimer(cmd.GetCancelTimerCommandAttributes(), wtcID)
	case enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
		return false, t.startChildCommand(cmd.GetStartChildWorkflowExecutionCommandAttributes(), wtcID)
	case enumspb.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION:
		return false, t.signalExternalCommand(cmd.GetSignalExternalWorkflowExecutionCommandAttributes(), wtcID)
	case enumspb.COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION:
		return false, t.cancelExternalCommand(cmd.GetRequestCancelExternalWorkflowExecutionCommandAttributes(), wtcID)
	case enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
		if len(ms.Buffered) > 0 {
			return true, nil // refused by the caller: UnhandledCommand
		}
		return true, t.continueAsNew(cmd.GetContinueAsNewWorkflowExecutionCommandAttributes(), wtcID)
	case enumspb.COMMAND_TYPE_PROTOCOL_MESSAGE:
		return false, t.protocolMessage(cmd.GetProtocolMessageCommandAttributes(), t.msgs, wtcID)
	case enumspb.COMMAND_TYPE_RECORD_MARKER:
		a := cmd.GetRecordMarkerCommandAttributes()
		if a == nil || a.GetMarkerName() == "" {
			return false, badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, "MarkerName is not set on RecordMarkerCommand.")
		}
		if err := t.checkPayloadsMap(a.GetDetails(), enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES); err != nil {
			return false, err
		}
		t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
			Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				MarkerName: a.GetMarkerName(), Details: a.GetDetails(), WorkflowTaskCompletedEventId: wtcID, Header: a.GetHeader(), Failure: a.GetFailure(),
			}},
		})
		return false, nil
	case enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
		a := cmd.GetUpsertWorkflowSearchAttributesCommandAttributes()
		if a == nil || len(a.GetSearchAttributes().GetIndexedFields()) == 0 {
			return false, badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "SearchAttributes are not set on UpsertWorkflowSearchAttributesCommand.")
		}
		if err := t.checkUpsert(a.GetSearchAttributes()); err != nil {
			return false, err
		}
		merged, err := mergeSearchAttributes(ms.SearchAttributes, a.GetSearchAttributes())
		if err != nil {
			return false, err
		}
		ms.SearchAttributes = merged
		t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			Attributes: &historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes{UpsertWorkflowSearchAttributesEventAttributes: &historypb.UpsertWorkflowSearchAttributesEventAttributes{
				WorkflowTaskCompletedEventId: wtcID, SearchAttributes: a.GetSearchAttributes(),
			}},
		})
		return false, nil
	case enumspb.COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES:
		a := cmd.GetModifyWorkflowPropertiesCommandAttributes()
		if a == nil || a.GetUpsertedMemo() == nil {
			return false, badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES, "UpsertedMemo is not set on ModifyWorkflowPropertiesCommand.")
		}
		merged, err := mergeMemo(ms.Memo, a.GetUpsertedMemo())
		if err != nil {
			return false, err
		}
		ms.Memo = merged
		t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
			Attributes: &historypb.HistoryEvent_WorkflowPropertiesModifiedEventAttributes{WorkflowPropertiesModifiedEventAttributes: &historypb.WorkflowPropertiesModifiedEventAttributes{
				WorkflowTaskCompletedEventId: wtcID, UpsertedMemo: a.GetUpsertedMemo(),
			}},
		})
		return false, nil
	case enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION:
		a := cmd.GetCompleteWorkflowExecutionCommandAttributes()
		if err := t.checkPayloads(a.GetResult(), enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES); err != nil {
			return false, err
		}
		if len(ms.Buffered) > 0 {
			return true, nil // refused by the caller: UnhandledCommand
		}
		next, _, err := t.successor(nil, false, a.GetResult())
		if err != nil {
			return false, err
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{
				Result: a.GetResult(), WorkflowTaskCompletedEventId: wtcID, NewExecutionRunId: nextRunID(next),
			}},
		})
		t.closeWithSuccessor(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, ev.EventId, next)
		return true, nil
	case enumspb.COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION:
		a := cmd.GetFailWorkflowExecutionCommandAttributes()
		if a.GetFailure() == nil {
			return false, badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES, "Failure is not set on FailWorkflowExecutionCommand.")
		}
		if len(ms.Buffered) > 0 {
			return true, nil
		}
		next, state, err := t.successor(a.GetFailure(), true, nil)
		if err != nil {
			return false, err
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{
				Failure: a.GetFailure(), RetryState: state, WorkflowTaskCompletedEventId: wtcID, NewExecutionRunId: nextRunID(next),
			}},
		})
		t.closeWithSuccessor(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, ev.EventId, next)
		return true, nil
	case enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION:
		a := cmd.GetCancelWorkflowExecutionCommandAttributes()
		if len(ms.Buffered) > 0 {
			return true, nil
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes{WorkflowExecutionCanceledEventAttributes: &historypb.WorkflowExecutionCanceledEventAttributes{
				Details: a.GetDetails(), WorkflowTaskCompletedEventId: wtcID,
			}},
		})
		t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, ev.EventId)
		return true, nil
	}
	return false, badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, "command type %s is not supported by this server", cmd.GetCommandType())
}

func (t *txn) checkPayloads(p *commonpb.Payloads, cause enumspb.WorkflowTaskFailedCause) error {
	limit := t.e.cfg.MaxPayloadBytes
	if limit > 0 && proto.Size(p) > limit {
		return badCommand(cause, "payload size %d exceeds the limit of %d bytes", proto.Size(p), limit)
	}
	return nil
}

func (t *txn) checkPayloadsMap(m map[string]*commonpb.Payloads, cause enumspb.WorkflowTaskFailedCause) error {
	for _, p := range m {
		if err := t.checkPayloads(p, cause); err != nil {
			return err
		}
	}
	return nil
}

func mergeSearchAttributes(cur []byte, upsert *commonpb.SearchAttributes) ([]byte, error) {
	sa := &commonpb.SearchAttributes{}
	if len(cur) > 0 {
		if err := proto.Unmarshal(cur, sa); err != nil {
			return nil, internal(fmt.Errorf("decode search attributes: %w", err))
		}
	}
	if sa.IndexedFields == nil {
		sa.IndexedFields = map[string]*commonpb.Payload{}
	}
	for k, v := range upsert.GetIndexedFields() {
		if len(v.GetData()) == 0 || string(v.GetData()) == "null" {
			delete(sa.IndexedFields, k) // an empty value unsets the attribute, as in Temporal
			continue
		}
		sa.IndexedFields[k] = v
	}
	return proto.Marshal(sa)
}

func mergeMemo(cur []byte, upsert *commonpb.Memo) ([]byte, error) {
	m := &commonpb.Memo{}
	if len(cur) > 0 {
		if err := proto.Unmarshal(cur, m); err != nil {
			return nil, internal(fmt.Errorf("decode memo: %w", err))
		}
	}
	if m.Fields == nil {
		m.Fields = map[string]*commonpb.Payload{}
	}
	for k, v := range upsert.GetFields() {
		if len(v.GetData()) == 0 || string(v.GetData()) == "null" {
			delete(m.Fields, k)
			continue
		}
		m.Fields[k] = v
	}
	return proto.Marshal(m)
}

func nextRunID(spec *runSpec) string {
	if spec == nil {
		return ""
	}
	return spec.RunID
}
