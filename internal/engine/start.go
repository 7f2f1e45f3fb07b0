package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/store"
	"github.com/google/uuid"
)

// DefaultWorkflowTaskTimeout is Temporal's default workflow task start-to-close timeout.
const DefaultWorkflowTaskTimeout = 10 * time.Second

// maxWorkflowTaskTimeout is Temporal's cap on the workflow task timeout.
const maxWorkflowTaskTimeout = 120 * time.Second

// StartResult says which run a start call resolved to.
type StartResult struct {
	RunID   string
	Started bool
}

// SignalArgs is the signal of a SignalWithStart call.
type SignalArgs struct {
	Name      string
	Input     *commonpb.Payloads
	Header    *commonpb.Header
	Identity  string
	RequestID string
}

// StartWorkflow starts a run (StartWorkflowExecution, and SignalWithStart when sig is set and no run
// is open). It is idempotent by request ID and applies the workflow-ID reuse and conflict policies.
func (e *Engine) StartWorkflow(ctx context.Context, req *workflowservice.StartWorkflowExecutionRequest, sig *SignalArgs) (StartResult, error) {
	if _, err := e.ns.get(ctx, req.GetNamespace()); err != nil {
		return StartResult{}, err
	}
	unlock := e.locks.lock(lockKey(req.GetNamespace(), req.GetWorkflowId()))
	defer unlock()
	for try := 0; ; try++ {
		res, err := e.startLocked(ctx, req, sig)
		if (errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrConflict)) && try < maxConflictRetries {
			continue // another node moved the current pointer; decide again on fresh state
		}
		return res, err
	}
}

func (e *Engine) startLocked(ctx context.Context, req *workflowservice.StartWorkflowExecutionRequest, sig *SignalArgs) (StartResult, error) {
	ns, wid := req.GetNamespace(), req.GetWorkflowId()
	cur, err := e.store.GetCurrent(ctx, ns, wid)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return StartResult{}, unavailable(err)
	}
	expectedRun := ""
	if cur != nil {
		expectedRun = cur.RunID
		running := cur.Status == int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
		if req.GetRequestId() != "" && cur.StartRequestID == req.GetRequestId() {
			if sig != nil && running {
				if err := e.signalLocked(ctx, execKey{ns, wid, cur.RunID}, sig); err != nil {
					return StartResult{}, err
				}
			}
			return StartResult{RunID: cur.RunID, Started: true}, nil
		}
		if running {
			if sig != nil {
				if err := e.signalLocked(ctx, execKey{ns, wid, cur.RunID}, sig); err != nil {
					return StartResult{}, err
				}
				return StartResult{RunID: cur.RunID, Started: false}, nil
			}
			switch req.GetWorkflowIdConflictPolicy() {
			case enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING:
				return StartResult{RunID: cur.RunID, Started: false}, nil
			case enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING:
				if err := e.terminateLocked(ctx, execKey{ns, wid, cur.RunID}, "terminated by a start with conflict policy TerminateExisting", nil, req.GetIdentity()); err != nil {
					return StartResult{}, err
				}
			default:
				if req.GetWorkflowIdReusePolicy() == enumspb.WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING {
					if err := e.terminateLocked(ctx, execKey{ns, wid, cur.RunID}, "terminated by a start with reuse policy TerminateIfRunning", nil, req.GetIdentity()); err != nil {
						return StartResult{}, err
					}
					break
				}
				return StartResult{}, &Error{Code: CodeAlreadyStarted, Message: "Workflow execution is already running. WorkflowId: " + wid + ", RunId: " + cur.RunID + ".", StartRequestID: cur.StartRequestID, RunID: cur.RunID}
			}
		} else {
			switch req.GetWorkflowIdReusePolicy() {
			case enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE:
				return StartResult{}, &Error{Code: CodeAlreadyStarted, Message: "Workflow execution already finished and WorkflowIdReusePolicy is RejectDuplicate. WorkflowId: " + wid + ", RunId: " + cur.RunID + ".", StartRequestID: cur.StartRequestID, RunID: cur.RunID}
			case enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY:
				switch enumspb.WorkflowExecutionStatus(cur.Status) {
				case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED,
					enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
				default:
					return StartResult{}, &Error{Code: CodeAlreadyStarted, Message: "Workflow execution already finished successfully and WorkflowIdReusePolicy is AllowDuplicateFailedOnly. WorkflowId: " + wid + ", RunId: " + cur.RunID + ".", StartRequestID: cur.StartRequestID, RunID: cur.RunID}
				}
			}
		}
		if cur2, err := e.store.GetCurrent(ctx, ns, wid); err == nil {
			expectedRun = cur2.RunID // a terminate above kept the same run; re-read to be exact
		}
	}

	runID := uuid.NewString()
	ms := newRunState(req, runID, e.clock.Now().UTC())
	t := e.newTxn(ms, 0)
	ms.StartTime, ms.ExecutionTime = t.now, t.now
	if d := req.GetWorkflowStartDelay().AsDuration(); d > 0 {
		ms.ExecutionTime = t.now.Add(d)
	}
	t.appendEvent(startedEvent(req, ms, t))
	if sig != nil {
		t.appendEvent(signaledEvent(sig))
		ms.SignalCount++
		if sig.RequestID != "" {
			ms.SignalRequestIDs = map[string]bool{sig.RequestID: true}
		}
	}
	if d := req.GetWorkflowStartDelay().AsDuration(); d > 0 {
		t.addTimer(timerStartDelay, ms.ExecutionTime, 0, 0, "")
	} else {
		t.scheduleWFT(1)
	}
	if ms.RunTimeout > 0 {
		t.addTimer(timerWorkflowRun, ms.ExecutionTime.Add(ms.RunTimeout), 0, 0, "")
	}
	if ms.ExecutionTimeout > 0 {
		t.addTimer(timerWorkflowExecution, ms.ExecutionTime.Add(ms.ExecutionTimeout), 0, 0, "")
	}
	t.current = &store.CurrentUpdate{ExpectedRunID: expectedRun, Current: store.Current{
		Namespace: ns, WorkflowID: wid, RunID: runID, Status: ms.Status, StartRequestID: ms.StartRequestID, StartTime: ms.StartTime,
	}}
	if err := e.commitTxn(t); err != nil {
		return StartResult{}, err
	}
	return StartResult{RunID: runID, Started: true}, nil
}

func newRunState(req *workflowservice.StartWorkflowExecutionRequest, runID string, now time.Time) *mutableState {
	wft := req.GetWorkflowTaskTimeout().AsDuration()
	if wft <= 0 {
		wft = DefaultWorkflowTaskTimeout
	}
	if wft > maxWorkflowTaskTimeout {
		wft = maxWorkflowTaskTimeout
	}
	run := req.GetWorkflowRunTimeout().AsDuration()
	exec := req.GetWorkflowExecutionTimeout().AsDuration()
	if run <= 0 || (exec > 0 && run > exec) {
		run = exec
	}
	if run > 0 && wft > run {
		wft = run
	}
	ms := &mutableState{
		Namespace:           req.GetNamespace(),
		WorkflowID:          req.GetWorkflowId(),
		RunID:               runID,
		FirstRunID:          runID,
		WorkflowType:        req.GetWorkflowType().GetName(),
		TaskQueue:           req.GetTaskQueue().GetName(),
		WorkflowTaskTimeout: wft,
		RunTimeout:          run,
		ExecutionTimeout:    exec,
		Status:              int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
		StartRequestID:      req.GetRequestId(),
		Attempt:             1,
		NextEventID:         1,
	}
	if req.GetMemo() != nil {
		ms.Memo, _ = proto.Marshal(req.GetMemo())
	}
	if req.GetSearchAttributes() != nil {
		ms.SearchAttributes, _ = proto.Marshal(req.GetSearchAttributes())
	}
	return ms
}

func startedEvent(req *workflowservice.StartWorkflowExecutionRequest, ms *mutableState, t *txn) *historypb.HistoryEvent {
	attrs := &historypb.WorkflowExecutionStartedEventAttributes{
		WorkflowType:             req.GetWorkflowType(),
		TaskQueue:                &taskqueuepb.TaskQueue{Name: ms.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input:                    req.GetInput(),
		WorkflowExecutionTimeout: durationpb.New(ms.ExecutionTimeout),
		WorkflowRunTimeout:       durationpb.New(ms.RunTimeout),
		WorkflowTaskTimeout:      durationpb.New(ms.WorkflowTaskTimeout),
		OriginalExecutionRunId:   ms.RunID,
		Identity:                 req.GetIdentity(),
		FirstExecutionRunId:      ms.FirstRunID,
		RetryPolicy:              req.GetRetryPolicy(),
		Attempt:                  ms.Attempt,
		CronSchedule:             req.GetCronSchedule(),
		Memo:                     req.GetMemo(),
		SearchAttributes:         req.GetSearchAttributes(),
		Header:                   req.GetHeader(),
		WorkflowId:               ms.WorkflowID,
	}
	if d := req.GetWorkflowStartDelay(); d != nil && d.AsDuration() > 0 {
		attrs.FirstWorkflowTaskBackoff = d
	}
	if ms.ExecutionTimeout > 0 {
		attrs.WorkflowExecutionExpirationTime = timestamppb.New(ms.ExecutionTime.Add(ms.ExecutionTimeout))
	}
	return &historypb.HistoryEvent{
		EventType:  enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: attrs},
	}
}

func signaledEvent(sig *SignalArgs) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
			SignalName: sig.Name, Input: sig.Input, Identity: sig.Identity, Header: sig.Header,
		}},
	}
}

// resolveRun returns the run ID to act on: runID itself, or the workflow's current run.
func (e *Engine) resolveRun(ctx context.Context, namespace, workflowID, runID string) (string, error) {
	if runID != "" {
		return runID, nil
	}
	cur, err := e.store.GetCurrent(ctx, namespace, workflowID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", notFound("workflow execution not found: workflow ID %q", workflowID)
		}
		return "", unavailable(fmt.Errorf("read current run: %w", err))
	}
	return cur.RunID, nil
}
