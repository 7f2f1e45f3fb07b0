package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
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
	if err := e.prepareStartSearchAttributes(ctx, req.GetNamespace(), req.GetSearchAttributes()); err != nil {
		return StartResult{}, err
	}
	return e.startWorkflow(ctx, req, sig, nil)
}

func (e *Engine) startWorkflow(ctx context.Context, req *workflowservice.StartWorkflowExecutionRequest, sig *SignalArgs, parent *parentInfo) (StartResult, error) {
	if _, err := e.ns.get(ctx, req.GetNamespace()); err != nil {
		return StartResult{}, err
	}
	unlock := e.locks.Lock(lockKey(req.GetNamespace(), req.GetWorkflowId()))
	defer unlock()
	for try := 0; ; try++ {
		res, err := e.startLocked(ctx, req, sig, parent)
		if (errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrConflict)) && try < maxConflictRetries {
			continue // another node moved the current pointer; decide again on fresh state
		}
		return res, busy(err)
	}
}

func (e *Engine) startLocked(ctx context.Context, req *workflowservice.StartWorkflowExecutionRequest, sig *SignalArgs, parent *parentInfo) (StartResult, error) {
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

	spec := specFromStart(req)
	if spec.CronSchedule != "" {
		// A cron workflow's first run waits for the first scheduled time, as in Temporal.
		spec.StartDelay += cronBackoff(spec.CronSchedule, e.clock.Now().UTC())
	}
	spec.RunID = uuid.NewString()
	spec.FirstRunID = spec.RunID
	spec.Signal = sig
	if parent != nil {
		spec.Parent = parent
	}
	t := e.newRunTxn(spec, expectedRun)
	if err := e.commitTxn(t); err != nil {
		return StartResult{}, err
	}
	return StartResult{RunID: spec.RunID, Started: true}, nil
}

// parentInfo links a child run to the parent that started it.
type parentInfo struct {
	Namespace   string `json:"ns"`
	WorkflowID  string `json:"wid"`
	RunID       string `json:"rid"`
	InitiatedID int64  `json:"initiated"`
	RootWID     string `json:"rootWid"`
	RootRunID   string `json:"rootRid"`
}

// runSpec is everything a new run is made from: a start request, a continue-as-new command, a
// retry or cron run, or a child workflow.
type runSpec struct {
	Namespace, WorkflowID, RunID, FirstRunID  string
	WorkflowType                              *commonpb.WorkflowType
	TaskQueue                                 string
	Input                                     *commonpb.Payloads
	Header                                    *commonpb.Header
	Memo                                      *commonpb.Memo
	SearchAttributes                          *commonpb.SearchAttributes
	RetryPolicy                               *commonpb.RetryPolicy
	CronSchedule                              string
	ExecutionTimeout, RunTimeout, TaskTimeout time.Duration
	// ExecutionExpiration carries the execution timeout's deadline across runs of one chain.
	ExecutionExpiration time.Time
	StartDelay          time.Duration
	Identity, RequestID string
	Attempt             int32
	ContinuedFrom       string
	Initiator           enumspb.ContinueAsNewInitiator
	ContinuedFailure    *failurepb.Failure
	LastCompletion      *commonpb.Payloads
	Parent              *parentInfo
	Signal              *SignalArgs
	// SFN makes the run a Step Functions execution: no workflow task is scheduled.
	SFN *sfnInfo
}

func specFromStart(req *workflowservice.StartWorkflowExecutionRequest) runSpec {
	return runSpec{
		Namespace: req.GetNamespace(), WorkflowID: req.GetWorkflowId(), WorkflowType: req.GetWorkflowType(),
		TaskQueue: req.GetTaskQueue().GetName(), Input: req.GetInput(), Header: req.GetHeader(), Memo: req.GetMemo(),
		SearchAttributes: req.GetSearchAttributes(), RetryPolicy: req.GetRetryPolicy(), CronSchedule: req.GetCronSchedule(),
		ExecutionTimeout: req.GetWorkflowExecutionTimeout().AsDuration(), RunTimeout: req.GetWorkflowRunTimeout().AsDuration(),
		TaskTimeout: req.GetWorkflowTaskTimeout().AsDuration(), StartDelay: req.GetWorkflowStartDelay().AsDuration(),
		Identity: req.GetIdentity(), RequestID: req.GetRequestId(), Attempt: 1,
		// A schedule's runs read the previous run's result or failure (GetLastCompletionResult).
		ContinuedFailure: req.GetContinuedFailure(), LastCompletion: req.GetLastCompletionResult(),
	}
}

// newRunTxn builds the transition that creates a run: WorkflowExecutionStarted, an optional
// signal, the first workflow task (or the start-delay timer), the run's timeout timers and the
// current-run pointer move (from expectedRun, "" for a brand-new workflow ID).
func (e *Engine) newRunTxn(spec runSpec, expectedRun string) *txn {
	now := e.clock.Now().UTC()
	ms := newRunState(spec)
	t := e.newTxn(ms, 0)
	t.now = now
	ms.StartTime, ms.ExecutionTime = now, now.Add(spec.StartDelay)
	if ms.ExecutionTimeout > 0 && spec.ExecutionExpiration.IsZero() {
		spec.ExecutionExpiration = ms.ExecutionTime.Add(ms.ExecutionTimeout)
	}
	ms.ExecutionExpiration = spec.ExecutionExpiration
	t.appendEvent(startedEvent(spec, ms))
	if sig := spec.Signal; sig != nil {
		t.appendEvent(signaledEvent(sig))
		ms.SignalCount++
		if sig.RequestID != "" {
			ms.SignalRequestIDs = map[string]bool{sig.RequestID: true}
		}
	}
	if spec.SFN != nil {
		ms.SFN = spec.SFN
	} else if spec.StartDelay > 0 {
		t.addTimer(timerStartDelay, ms.ExecutionTime, 0, 0, "")
	} else {
		t.scheduleWFT(1)
	}
	if ms.RunTimeout > 0 {
		t.addTimer(timerWorkflowRun, ms.ExecutionTime.Add(ms.RunTimeout), 0, 0, "")
	}
	if !ms.ExecutionExpiration.IsZero() {
		t.addTimer(timerWorkflowExecution, ms.ExecutionExpiration, 0, 0, "")
	}
	t.current = &store.CurrentUpdate{ExpectedRunID: expectedRun, Current: store.Current{
		Namespace: ms.Namespace, WorkflowID: ms.WorkflowID, RunID: ms.RunID, Status: ms.Status, StartRequestID: ms.StartRequestID, StartTime: ms.StartTime,
	}}
	return t
}

func newRunState(spec runSpec) *mutableState {
	wft := spec.TaskTimeout
	if wft <= 0 {
		wft = DefaultWorkflowTaskTimeout
	}
	if wft > maxWorkflowTaskTimeout {
		wft = maxWorkflowTaskTimeout
	}
	run, exec := spec.RunTimeout, spec.ExecutionTimeout
	if run <= 0 || (exec > 0 && run > exec) {
		run = exec
	}
	if run > 0 && wft > run {
		wft = run
	}
	ms := &mutableState{
		Namespace:           spec.Namespace,
		WorkflowID:          spec.WorkflowID,
		RunID:               spec.RunID,
		FirstRunID:          spec.FirstRunID,
		WorkflowType:        spec.WorkflowType.GetName(),
		TaskQueue:           spec.TaskQueue,
		WorkflowTaskTimeout: wft,
		RunTimeout:          run,
		ExecutionTimeout:    exec,
		Status:              int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
		StartRequestID:      spec.RequestID,
		Attempt:             spec.Attempt,
		NextEventID:         1,
		Parent:              spec.Parent,
		CronSchedule:        spec.CronSchedule,
	}
	if ms.Attempt < 1 {
		ms.Attempt = 1
	}
	if spec.Memo != nil {
		ms.Memo, _ = proto.Marshal(spec.Memo)
	}
	if spec.SearchAttributes != nil {
		ms.SearchAttributes, _ = proto.Marshal(spec.SearchAttributes)
	}
	if spec.RetryPolicy != nil {
		ms.RetryPolicy, _ = proto.Marshal(spec.RetryPolicy)
	}
	if spec.Header != nil {
		ms.Header, _ = proto.Marshal(spec.Header)
	}
	return ms
}

func startedEvent(spec runSpec, ms *mutableState) *historypb.HistoryEvent {
	attrs := &historypb.WorkflowExecutionStartedEventAttributes{
		WorkflowType:             spec.WorkflowType,
		TaskQueue:                &taskqueuepb.TaskQueue{Name: ms.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input:                    spec.Input,
		WorkflowExecutionTimeout: durationpb.New(ms.ExecutionTimeout),
		WorkflowRunTimeout:       durationpb.New(ms.RunTimeout),
		WorkflowTaskTimeout:      durationpb.New(ms.WorkflowTaskTimeout),
		ContinuedExecutionRunId:  spec.ContinuedFrom,
		Initiator:                spec.Initiator,
		ContinuedFailure:         spec.ContinuedFailure,
		LastCompletionResult:     spec.LastCompletion,
		OriginalExecutionRunId:   ms.RunID,
		Identity:                 spec.Identity,
		FirstExecutionRunId:      ms.FirstRunID,
		RetryPolicy:              spec.RetryPolicy,
		Attempt:                  ms.Attempt,
		CronSchedule:             spec.CronSchedule,
		Memo:                     spec.Memo,
		SearchAttributes:         spec.SearchAttributes,
		Header:                   spec.Header,
		WorkflowId:               ms.WorkflowID,
	}
	if spec.StartDelay > 0 {
		attrs.FirstWorkflowTaskBackoff = durationpb.New(spec.StartDelay)
	}
	if !ms.ExecutionExpiration.IsZero() {
		attrs.WorkflowExecutionExpirationTime = timestamppb.New(ms.ExecutionExpiration)
	}
	if p := spec.Parent; p != nil {
		attrs.ParentWorkflowNamespace = p.Namespace
		attrs.ParentWorkflowExecution = &commonpb.WorkflowExecution{WorkflowId: p.WorkflowID, RunId: p.RunID}
		attrs.ParentInitiatedEventId = p.InitiatedID
		attrs.RootWorkflowExecution = &commonpb.WorkflowExecution{WorkflowId: p.RootWID, RunId: p.RootRunID}
	} else {
		attrs.RootWorkflowExecution = &commonpb.WorkflowExecution{WorkflowId: ms.WorkflowID, RunId: ms.FirstRunID}
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

// lockRun checks the namespace, takes the workflow's lock and resolves runID ("" means the
// current run): the caller acts on the run while it holds the lock, and releases it with
// unlock (only given on success).
func (e *Engine) lockRun(ctx context.Context, namespace, workflowID, runID string) (k execKey, unlock func(), err error) {
	if _, err := e.ns.get(ctx, namespace); err != nil {
		return execKey{}, nil, err
	}
	unlock = e.locks.Lock(lockKey(namespace, workflowID))
	runID, err = e.resolveRun(ctx, namespace, workflowID, runID)
	if err != nil {
		unlock()
		return execKey{}, nil, err
	}
	return execKey{namespace, workflowID, runID}, unlock, nil
}

// resolveRun returns the run ID to act on: runID itself, or the workflow's current run.
func (e *Engine) resolveRun(ctx context.Context, namespace, workflowID, runID string) (string, error) {
	if hasNUL(namespace, workflowID, runID) {
		return "", notFound("workflow execution not found: workflow ID %q", workflowID) // no store can hold it
	}
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
