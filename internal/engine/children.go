package engine

import (
	"context"
	"errors"
	"strconv"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/google/uuid"
)

// maxPendingChildren is Temporal's default limit of pending children (and of pending external
// signal / cancel requests) per run.
const maxPendingChildren = 2000

func (t *txn) startChildCommand(a *commandpb.StartChildWorkflowExecutionCommandAttributes, wtcID int64) error {
	const cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES
	ms := t.ms
	if a.GetWorkflowId() == "" {
		return badCommand(cause, "WorkflowId is not set on StartChildWorkflowExecutionCommand.")
	}
	if a.GetWorkflowType().GetName() == "" {
		return badCommand(cause, "WorkflowType is not set on StartChildWorkflowExecutionCommand.")
	}
	if len(ms.Children) >= maxPendingChildren {
		return badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED, "the number of pending child workflows would exceed the limit of %d", maxPendingChildren)
	}
	if err := t.checkPayloads(a.GetInput(), cause); err != nil {
		return err
	}
	ns := a.GetNamespace()
	if ns == "" {
		ns = ms.Namespace
	}
	if err := t.checkCommandSearchAttributes(ns, a.GetSearchAttributes()); err != nil {
		return err
	}
	queue := a.GetTaskQueue().GetName()
	if queue == "" {
		queue = ms.TaskQueue
	}
	if hasNUL(ns, a.GetWorkflowId(), a.GetWorkflowType().GetName(), queue) {
		return badCommand(cause, "Namespace, WorkflowId, WorkflowType and TaskQueue must not contain a NUL character.")
	}
	attrs := &historypb.StartChildWorkflowExecutionInitiatedEventAttributes{
		Namespace: ns, WorkflowId: a.GetWorkflowId(), WorkflowType: a.GetWorkflowType(),
		TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}, Input: a.GetInput(),
		WorkflowExecutionTimeout: a.GetWorkflowExecutionTimeout(), WorkflowRunTimeout: a.GetWorkflowRunTimeout(),
		WorkflowTaskTimeout: a.GetWorkflowTaskTimeout(), ParentClosePolicy: a.GetParentClosePolicy(), Control: a.GetControl(),
		WorkflowTaskCompletedEventId: wtcID, WorkflowIdReusePolicy: a.GetWorkflowIdReusePolicy(), RetryPolicy: a.GetRetryPolicy(),
		CronSchedule: a.GetCronSchedule(), Header: a.GetHeader(), Memo: a.GetMemo(), SearchAttributes: a.GetSearchAttributes(),
		Priority: a.GetPriority(),
	}
	ev := t.appendEvent(&historypb.HistoryEvent{
		EventType:  enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
		Attributes: &historypb.HistoryEvent_StartChildWorkflowExecutionInitiatedEventAttributes{StartChildWorkflowExecutionInitiatedEventAttributes: attrs},
	})
	raw, err := proto.Marshal(attrs)
	if err != nil {
		return internal(err)
	}
	if ms.Children == nil {
		ms.Children = map[int64]*childInfo{}
	}
	ms.Children[ev.EventId] = &childInfo{
		InitiatedID: ev.EventId, Namespace: ns, WorkflowID: a.GetWorkflowId(), WorkflowType: a.GetWorkflowType().GetName(),
		Attrs: raw, ParentClosePolicy: int32(a.GetParentClosePolicy()),
	}
	t.addOutbox(ms.Namespace, ms.WorkflowID, ms.RunID, outboxItem{Type: outboxStartChild, InitiatedID: ev.EventId})
	return nil
}

// startChild starts the child of an initiated event (idempotent: the request ID is derived from
// the parent run and event) and records ChildWorkflowExecutionStarted or StartChildFailed.
func (e *Engine) startChild(ctx context.Context, parent execKey, rowID int64, item outboxItem) error {
	rec, err := e.store.GetExecution(ctx, parent.namespace, parent.workflowID, parent.runID)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return unavailable(err)
	}
	pms, err := decodeState(rec.State)
	if err != nil {
		return internal(err)
	}
	ci := pms.Children[item.InitiatedID]
	if !pms.open() || ci == nil || ci.RunID != "" {
		return e.consumeRow(ctx, parent, rowID)
	}
	a := &historypb.StartChildWorkflowExecutionInitiatedEventAttributes{}
	if err := proto.Unmarshal(ci.Attrs, a); err != nil {
		return internal(err)
	}
	rootWID, rootRun := pms.WorkflowID, pms.FirstRunID
	if pms.Parent != nil {
		rootWID, rootRun = pms.Parent.RootWID, pms.Parent.RootRunID
	}
	req := &workflowservice.StartWorkflowExecutionRequest{
		Namespace: a.GetNamespace(), WorkflowId: a.GetWorkflowId(), WorkflowType: a.GetWorkflowType(), TaskQueue: a.GetTaskQueue(),
		Input: a.GetInput(), WorkflowExecutionTimeout: a.GetWorkflowExecutionTimeout(), WorkflowRunTimeout: a.GetWorkflowRunTimeout(),
		WorkflowTaskTimeout: a.GetWorkflowTaskTimeout(), Identity: "duro-parent", RequestId: childRequestID(pms.RunID, item.InitiatedID),
		WorkflowIdReusePolicy: a.GetWorkflowIdReusePolicy(), RetryPolicy: a.GetRetryPolicy(), CronSchedule: a.GetCronSchedule(),
		Memo: a.GetMemo(), SearchAttributes: a.GetSearchAttributes(), Header: a.GetHeader(),
	}
	res, serr := e.startWorkflow(ctx, req, nil, &parentInfo{
		Namespace: pms.Namespace, WorkflowID: pms.WorkflowID, RunID: pms.RunID, InitiatedID: item.InitiatedID, RootWID: rootWID, RootRunID: rootRun,
	})
	var ee *Error
	alreadyStarted := errors.As(serr, &ee) && ee.Code == CodeAlreadyStarted
	if serr != nil && !alreadyStarted {
		var nsErr *Error
		if errors.As(serr, &nsErr) && nsErr.Code == CodeNotFound {
			alreadyStarted = false // unknown namespace: report as a start failure below
		} else {
			return serr
		}
	}
	return e.updateOutbox(ctx, parent, rowID, func(t *txn) error {
		ci := t.ms.Children[item.InitiatedID]
		if !t.ms.open() || ci == nil || ci.RunID != "" {
			return nil
		}
		if serr != nil {
			delete(t.ms.Children, item.InitiatedID)
			cause := enumspb.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS
			if !alreadyStarted {
				cause = enumspb.START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND
			}
			return t.externalEvent(&historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
				Attributes: &historypb.HistoryEvent_StartChildWorkflowExecutionFailedEventAttributes{StartChildWorkflowExecutionFailedEventAttributes: &historypb.StartChildWorkflowExecutionFailedEventAttributes{
					Namespace: ci.Namespace, WorkflowId: ci.WorkflowID, WorkflowType: &commonpb.WorkflowType{Name: ci.WorkflowType},
					Cause: cause, Control: a.GetControl(), InitiatedEventId: ci.InitiatedID, WorkflowTaskCompletedEventId: a.GetWorkflowTaskCompletedEventId(),
				}},
			})
		}
		ci.RunID = res.RunID
		ev := &historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_ChildWorkflowExecutionStartedEventAttributes{ChildWorkflowExecutionStartedEventAttributes: &historypb.ChildWorkflowExecutionStartedEventAttributes{
				Namespace: ci.Namespace, InitiatedEventId: ci.InitiatedID,
				WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: ci.WorkflowID, RunId: res.RunID},
				WorkflowType:      &commonpb.WorkflowType{Name: ci.WorkflowType}, Header: a.GetHeader(),
			}},
		}
		if err := t.externalEvent(ev); err != nil {
			return err
		}
		if ev.EventId != 0 {
			ci.StartedEventID = ev.EventId // appended now; if buffered, the flush records it
		}
		return nil
	})
}

func childRequestID(parentRun string, initiated int64) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(parentRun+"/child/"+strconv.FormatInt(initiated, 10))).String()
}

// childClosed records a child's close event in its parent.
func (e *Engine) childClosed(ctx context.Context, parent execKey, rowID int64, item outboxItem) error {
	rec, err := e.store.GetExecution(ctx, item.ChildNamespace, item.ChildWID, item.ChildRunID)
	if err != nil {
		if isNotFound(err) {
			return e.consumeRow(ctx, parent, rowID)
		}
		return unavailable(err)
	}
	cms, err := decodeState(rec.State)
	if err != nil {
		return internal(err)
	}
	events, err := e.readEvents(ctx, cms.Namespace, cms.RunID, cms.CompletionEventID, cms.CompletionEventID+1, 1)
	if err != nil {
		return err
	}
	if len(events) != 1 {
		return internal(errors.New("child close event missing"))
	}
	closeEv := events[0]
	return e.updateOutbox(ctx, parent, rowID, func(t *txn) error {
		ci := t.ms.Children[item.InitiatedID]
		if !t.ms.open() || ci == nil {
			return nil
		}
		delete(t.ms.Children, item.InitiatedID)
		ex := &commonpb.WorkflowExecution{WorkflowId: ci.WorkflowID, RunId: item.ChildRunID}
		wt := &commonpb.WorkflowType{Name: ci.WorkflowType}
		ev := &historypb.HistoryEvent{}
		switch a := closeEv.Attributes.(type) {
		case *historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes:
			ev.EventType = enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCompletedEventAttributes{ChildWorkflowExecutionCompletedEventAttributes: &historypb.ChildWorkflowExecutionCompletedEventAttributes{
				Result: a.WorkflowExecutionCompletedEventAttributes.GetResult(), Namespace: ci.Namespace, WorkflowExecution: ex, WorkflowType: wt,
				InitiatedEventId: ci.InitiatedID, StartedEventId: ci.StartedEventID,
			}}
		case *historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes:
			ev.EventType = enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionFailedEventAttributes{ChildWorkflowExecutionFailedEventAttributes: &historypb.ChildWorkflowExecutionFailedEventAttributes{
				Failure: a.WorkflowExecutionFailedEventAttributes.GetFailure(), Namespace: ci.Namespace, WorkflowExecution: ex, WorkflowType: wt,
				InitiatedEventId: ci.InitiatedID, StartedEventId: ci.StartedEventID, RetryState: a.WorkflowExecutionFailedEventAttributes.GetRetryState(),
			}}
		case *historypb.HistoryEvent_WorkflowExecutionCanceledEventAttributes:
			ev.EventType = enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCanceledEventAttributes{ChildWorkflowExecutionCanceledEventAttributes: &historypb.ChildWorkflowExecutionCanceledEventAttributes{
				Details: a.WorkflowExecutionCanceledEventAttributes.GetDetails(), Namespace: ci.Namespace, WorkflowExecution: ex, WorkflowType: wt,
				InitiatedEventId: ci.InitiatedID, StartedEventId: ci.StartedEventID,
			}}
		case *historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes:
			ev.EventType = enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionTerminatedEventAttributes{ChildWorkflowExecutionTerminatedEventAttributes: &historypb.ChildWorkflowExecutionTerminatedEventAttributes{
				Namespace: ci.Namespace, WorkflowExecution: ex, WorkflowType: wt, InitiatedEventId: ci.InitiatedID, StartedEventId: ci.StartedEventID,
			}}
		case *historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes:
			ev.EventType = enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT
			ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionTimedOutEventAttributes{ChildWorkflowExecutionTimedOutEventAttributes: &historypb.ChildWorkflowExecutionTimedOutEventAttributes{
				Namespace: ci.Namespace, WorkflowExecution: ex, WorkflowType: wt, InitiatedEventId: ci.InitiatedID, StartedEventId: ci.StartedEventID,
				RetryState: a.WorkflowExecutionTimedOutEventAttributes.GetRetryState(),
			}}
		default:
			return nil
		}
		return t.externalEvent(ev)
	})
}

func (t *txn) externalCommand(cancel bool, ns, wid, run, control string, attrs proto.Message, ev *historypb.HistoryEvent, cause enumspb.WorkflowTaskFailedCause) error {
	ms := t.ms
	if wid == "" {
		return badCommand(cause, "WorkflowId is not set on the external workflow command.")
	}
	if hasNUL(ns, wid, run) {
		return badCommand(cause, "Namespace, WorkflowId and RunId must not contain a NUL character.")
	}
	if len(ms.External) >= maxPendingChildren {
		return badCommand(cause, "the number of pending external requests would exceed the limit of %d", maxPendingChildren)
	}
	t.appendEvent(ev)
	raw, err := proto.Marshal(attrs)
	if err != nil {
		return internal(err)
	}
	if ms.External == nil {
		ms.External = map[int64]*externalInfo{}
	}
	ms.External[ev.EventId] = &externalInfo{Cancel: cancel, Namespace: ns, WorkflowID: wid, RunID: run, Control: control, Attrs: raw}
	typ := outboxSignalExternal
	if cancel {
		typ = outboxCancelExternal
	}
	t.addOutbox(ms.Namespace, ms.WorkflowID, ms.RunID, outboxItem{Type: typ, InitiatedID: ev.EventId})
	return nil
}

func (t *txn) signalExternalCommand(a *commandpb.SignalExternalWorkflowExecutionCommandAttributes, wtcID int64) error {
	const cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES
	if a.GetSignalName() == "" {
		return badCommand(cause, "SignalName is not set on SignalExternalWorkflowExecutionCommand.")
	}
	if err := t.checkPayloads(a.GetInput(), cause); err != nil {
		return err
	}
	ns := a.GetNamespace()
	if ns == "" {
		ns = t.ms.Namespace
	}
	attrs := &historypb.SignalExternalWorkflowExecutionInitiatedEventAttributes{
		WorkflowTaskCompletedEventId: wtcID, Namespace: ns, WorkflowExecution: a.GetExecution(), SignalName: a.GetSignalName(),
		Input: a.GetInput(), Control: a.GetControl(), ChildWorkflowOnly: a.GetChildWorkflowOnly(), Header: a.GetHeader(),
	}
	ev := &historypb.HistoryEvent{
		EventType:  enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
		Attributes: &historypb.HistoryEvent_SignalExternalWorkflowExecutionInitiatedEventAttributes{SignalExternalWorkflowExecutionInitiatedEventAttributes: attrs},
	}
	return t.externalCommand(false, ns, a.GetExecution().GetWorkflowId(), a.GetExecution().GetRunId(), a.GetControl(), attrs, ev, cause)
}

func (t *txn) cancelExternalCommand(a *commandpb.RequestCancelExternalWorkflowExecutionCommandAttributes, wtcID int64) error {
	const cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES
	ns := a.GetNamespace()
	if ns == "" {
		ns = t.ms.Namespace
	}
	attrs := &historypb.RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{
		WorkflowTaskCompletedEventId: wtcID, Namespace: ns,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: a.GetWorkflowId(), RunId: a.GetRunId()},
		Control:           a.GetControl(), ChildWorkflowOnly: a.GetChildWorkflowOnly(), Reason: a.GetReason(),
	}
	ev := &historypb.HistoryEvent{
		EventType:  enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
		Attributes: &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionInitiatedEventAttributes{RequestCancelExternalWorkflowExecutionInitiatedEventAttributes: attrs},
	}
	return t.externalCommand(true, ns, a.GetWorkflowId(), a.GetRunId(), a.GetControl(), attrs, ev, cause)
}

// deliverExternal performs a signal-external or cancel-external request and records its outcome.
func (e *Engine) deliverExternal(ctx context.Context, origin execKey, rowID int64, item outboxItem) error {
	rec, err := e.store.GetExecution(ctx, origin.namespace, origin.workflowID, origin.runID)
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return unavailable(err)
	}
	oms, err := decodeState(rec.State)
	if err != nil {
		return internal(err)
	}
	xi := oms.External[item.InitiatedID]
	if !oms.open() || xi == nil {
		return e.consumeRow(ctx, origin, rowID)
	}
	var derr error
	reqID := uuid.NewSHA1(uuid.NameSpaceOID, []byte(oms.RunID+"/external/"+strconv.FormatInt(item.InitiatedID, 10))).String()
	if xi.Cancel {
		derr = e.RequestCancel(ctx, xi.Namespace, xi.WorkflowID, xi.RunID, "requested by workflow "+oms.WorkflowID, "duro", reqID)
	} else {
		a := &historypb.SignalExternalWorkflowExecutionInitiatedEventAttributes{}
		if err := proto.Unmarshal(xi.Attrs, a); err != nil {
			return internal(err)
		}
		derr = e.Signal(ctx, xi.Namespace, xi.WorkflowID, xi.RunID, &SignalArgs{Name: a.GetSignalName(), Input: a.GetInput(), Header: a.GetHeader(), Identity: "duro", RequestID: reqID})
	}
	var ee *Error
	notFound := errors.As(derr, &ee) && ee.Code == CodeNotFound
	if derr != nil && !notFound {
		return derr
	}
	return e.updateOutbox(ctx, origin, rowID, func(t *txn) error {
		xi := t.ms.External[item.InitiatedID]
		if !t.ms.open() || xi == nil {
			return nil
		}
		delete(t.ms.External, item.InitiatedID)
		ex := &commonpb.WorkflowExecution{WorkflowId: xi.WorkflowID, RunId: xi.RunID}
		ev := &historypb.HistoryEvent{}
		switch {
		case xi.Cancel && !notFound:
			ev.EventType = enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED
			ev.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionCancelRequestedEventAttributes{ExternalWorkflowExecutionCancelRequestedEventAttributes: &historypb.ExternalWorkflowExecutionCancelRequestedEventAttributes{
				InitiatedEventId: item.InitiatedID, Namespace: xi.Namespace, WorkflowExecution: ex,
			}}
		case xi.Cancel:
			ev.EventType = enumspb.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED
			ev.Attributes = &historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionFailedEventAttributes{RequestCancelExternalWorkflowExecutionFailedEventAttributes: &historypb.RequestCancelExternalWorkflowExecutionFailedEventAttributes{
				Cause: enumspb.CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND, InitiatedEventId: item.InitiatedID,
				Namespace: xi.Namespace, WorkflowExecution: ex, Control: xi.Control,
			}}
		case !notFound:
			ev.EventType = enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED
			ev.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionSignaledEventAttributes{ExternalWorkflowExecutionSignaledEventAttributes: &historypb.ExternalWorkflowExecutionSignaledEventAttributes{
				InitiatedEventId: item.InitiatedID, Namespace: xi.Namespace, WorkflowExecution: ex, Control: xi.Control,
			}}
		default:
			ev.EventType = enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED
			ev.Attributes = &historypb.HistoryEvent_SignalExternalWorkflowExecutionFailedEventAttributes{SignalExternalWorkflowExecutionFailedEventAttributes: &historypb.SignalExternalWorkflowExecutionFailedEventAttributes{
				Cause: enumspb.SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND, InitiatedEventId: item.InitiatedID,
				Namespace: xi.Namespace, WorkflowExecution: ex, Control: xi.Control,
			}}
		}
		return t.externalEvent(ev)
	})
}

// applyParentClose terminates or cancels a child whose parent closed, per its parent-close policy.
func (e *Engine) applyParentClose(ctx context.Context, child execKey, rowID int64, item outboxItem) error {
	var err error
	if item.Action == "terminate" {
		err = e.Terminate(ctx, child.namespace, child.workflowID, "", item.Reason, nil, "duro-parent-close-policy")
	} else {
		err = e.RequestCancel(ctx, child.namespace, child.workflowID, "", item.Reason, "duro-parent-close-policy", "parent-close/"+child.runID)
	}
	var ee *Error
	if err != nil && !(errors.As(err, &ee) && ee.Code == CodeNotFound) {
		return err
	}
	return e.consumeRow(ctx, child, rowID)
}

// onClose queues what a closing run owes others: its parent learns of the close (unless the run
// continued as new: the chain's last run tells the parent), and open children get their
// parent-close policy applied.
func (t *txn) onClose(status enumspb.WorkflowExecutionStatus) {
	ms := t.ms
	if p := ms.Parent; p != nil && status != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
		t.addOutbox(p.Namespace, p.WorkflowID, p.RunID, outboxItem{
			Type: outboxChildClosed, InitiatedID: p.InitiatedID, ChildNamespace: ms.Namespace, ChildWID: ms.WorkflowID, ChildRunID: ms.RunID,
		})
	}
	for _, ci := range ms.Children {
		if ci.RunID == "" {
			continue
		}
		switch enumspb.ParentClosePolicy(ci.ParentClosePolicy) {
		case enumspb.PARENT_CLOSE_POLICY_ABANDON:
		case enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL:
			t.addOutbox(ci.Namespace, ci.WorkflowID, ci.RunID, outboxItem{Type: outboxParentClose, Action: "cancel", Reason: "parent closed: " + status.String()})
		default: // TERMINATE is Temporal's default policy
			t.addOutbox(ci.Namespace, ci.WorkflowID, ci.RunID, outboxItem{Type: outboxParentClose, Action: "terminate", Reason: "parent closed: " + status.String()})
		}
	}
	ms.Children = nil
	ms.External = nil
}

// continueAsNew closes the run with WorkflowExecutionContinuedAsNew and links the creation of the
// next run, so the two commit as one.
func (t *txn) continueAsNew(a *commandpb.ContinueAsNewWorkflowExecutionCommandAttributes, wtcID int64) error {
	const cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CONTINUE_AS_NEW_ATTRIBUTES
	ms := t.ms
	if err := t.checkPayloads(a.GetInput(), cause); err != nil {
		return err
	}
	if err := t.checkCommandSearchAttributes(ms.Namespace, a.GetSearchAttributes()); err != nil {
		return err
	}
	wt := a.GetWorkflowType()
	if wt.GetName() == "" {
		wt = &commonpb.WorkflowType{Name: ms.WorkflowType}
	}
	queue := a.GetTaskQueue().GetName()
	if queue == "" {
		queue = ms.TaskQueue
	}
	runTimeout := a.GetWorkflowRunTimeout().AsDuration()
	if runTimeout <= 0 {
		runTimeout = ms.RunTimeout
	}
	taskTimeout := a.GetWorkflowTaskTimeout().AsDuration()
	if taskTimeout <= 0 {
		taskTimeout = ms.WorkflowTaskTimeout
	}
	memo, sa, rp, header := a.GetMemo(), a.GetSearchAttributes(), a.GetRetryPolicy(), a.GetHeader()
	if memo == nil && len(ms.Memo) > 0 {
		memo = &commonpb.Memo{}
		_ = proto.Unmarshal(ms.Memo, memo)
	}
	if sa == nil && len(ms.SearchAttributes) > 0 {
		sa = &commonpb.SearchAttributes{}
		_ = proto.Unmarshal(ms.SearchAttributes, sa)
	}
	if rp == nil && len(ms.RetryPolicy) > 0 {
		rp = &commonpb.RetryPolicy{}
		_ = proto.Unmarshal(ms.RetryPolicy, rp)
	}
	spec := runSpec{
		Namespace: ms.Namespace, WorkflowID: ms.WorkflowID, RunID: uuid.NewString(), FirstRunID: ms.FirstRunID,
		WorkflowType: wt, TaskQueue: queue, Input: a.GetInput(), Header: header, Memo: memo, SearchAttributes: sa,
		RetryPolicy: rp, CronSchedule: a.GetCronSchedule(), ExecutionTimeout: ms.ExecutionTimeout, RunTimeout: runTimeout,
		TaskTimeout: taskTimeout, ExecutionExpiration: ms.ExecutionExpiration, StartDelay: a.GetBackoffStartInterval().AsDuration(),
		Identity: "duro-continue-as-new", RequestID: uuid.NewString(), Attempt: 1, ContinuedFrom: ms.RunID,
		Initiator: a.GetInitiator(), ContinuedFailure: a.GetFailure(), LastCompletion: a.GetLastCompletionResult(), Parent: ms.Parent,
	}
	if spec.Initiator == enumspb.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED {
		spec.Initiator = enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW
	}
	ev := t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
			NewExecutionRunId: spec.RunID, WorkflowType: wt, TaskQueue: &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			Input: a.GetInput(), WorkflowRunTimeout: durationpb.New(runTimeout), WorkflowTaskTimeout: durationpb.New(taskTimeout),
			WorkflowTaskCompletedEventId: wtcID, BackoffStartInterval: a.GetBackoffStartInterval(), Initiator: spec.Initiator,
			Failure: a.GetFailure(), LastCompletionResult: a.GetLastCompletionResult(), Header: header, Memo: memo, SearchAttributes: sa,
		}},
	})
	t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, ev.EventId)
	t.linked = append(t.linked, t.e.newRunTxn(spec, ms.RunID))
	return nil
}
