package batch

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/store"
	"github.com/google/uuid"
)

// outcome is what one operation of a job came to.
type outcome int

const (
	// outcomeDone: applied, or nothing to apply (the execution had closed or is gone: Temporal's
	// batcher counts NotFound as a success too).
	outcomeDone outcome = iota + 1
	// outcomeFailed: the engine refused it (a limit, a bad reset point) or it kept failing.
	outcomeFailed
	// outcomeAborted: the job is stopping; not counted.
	outcomeAborted
	// outcomeSkipped: not an execution of the job (a run its own reset created); not counted.
	outcomeSkipped
)

// maxAttempts bounds the tries of one operation that fails for a reason that may pass (store
// unavailable, overload) before it counts as failed.
const maxAttempts = 5

// applyOne applies the job's operation to one execution.
func (m *Manager) applyOne(ctx context.Context, r *store.Record, req *workflowservice.StartBatchOperationRequest, t target) outcome {
	if req.GetResetOperation() != nil && req.GetVisibilityQuery() != "" {
		mine, err := m.resetByJob(ctx, r, t)
		if ctx.Err() != nil {
			return outcomeAborted
		}
		if err == nil && mine {
			return outcomeSkipped
		}
	}
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := m.operate(ctx, r, req, t)
		if ctx.Err() != nil {
			return outcomeAborted
		}
		if err == nil {
			return outcomeDone
		}
		var ee *engine.Error
		if !errors.As(err, &ee) {
			ee = &engine.Error{Code: engine.CodeInternal, Message: err.Error()}
		}
		switch ee.Code {
		case engine.CodeNotFound:
			return outcomeDone
		case engine.CodeUnavailable, engine.CodeInternal, engine.CodeResourceExhausted, engine.CodeCanceled, engine.CodeDeadlineExceeded:
			if attempt < maxAttempts {
				select {
				case <-ctx.Done():
					return outcomeAborted
				case <-time.After(backoff):
				}
				backoff *= 2
				continue
			}
		}
		m.log.Debug("batch: operation failed", "namespace", r.Namespace, "job", r.Name,
			"workflow", t.workflowID, "run", t.runID, "err", err)
		return outcomeFailed
	}
}

// requestID is the request ID of the job's operation on one execution: the same every time the
// job applies it (after a restart, or on another node), so the engine answers a repeat from what
// it recorded the first time and never signals or cancels twice.
func requestID(ns, job string, t target) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(ns+"\x00"+job+"\x00"+t.workflowID+"\x00"+t.runID)).String()
}

// resetRequestID is the request ID of a reset job's resets of one workflow: one per workflow ID,
// which becomes the start request ID of the run the reset creates. A repeat is answered with
// that run, and a job that lists two runs of a workflow resets it once.
func resetRequestID(ns, job, workflowID string) string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(ns+"\x00"+job+"\x00"+workflowID+"\x00reset")).String()
}

// resetByJob tells whether t, a run of a query job's listing, is the run this reset job created
// for its workflow: it is not one of the job's executions. Such a run starts at its reset, after
// the job, so the listing (below the job's start) should never reach it; this check keeps a reset
// job from resetting its own work even if a clock step puts it there.
func (m *Manager) resetByJob(ctx context.Context, r *store.Record, t target) (bool, error) {
	cur, err := m.st.GetCurrent(ctx, r.Namespace, t.workflowID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return cur.RunID == t.runID && cur.StartRequestID == resetRequestID(r.Namespace, r.Name, t.workflowID), nil
}

// operate calls the engine once for one execution.
func (m *Manager) operate(ctx context.Context, r *store.Record, req *workflowservice.StartBatchOperationRequest, t target) error {
	ns := r.Namespace
	identity := identityOf(req)
	switch op := req.GetOperation().(type) {
	case *workflowservice.StartBatchOperationRequest_TerminationOperation:
		return m.e.Terminate(ctx, ns, t.workflowID, t.runID, req.GetReason(), nil, identity)
	case *workflowservice.StartBatchOperationRequest_CancellationOperation:
		return m.e.RequestCancel(ctx, ns, t.workflowID, t.runID, req.GetReason(), identity, requestID(ns, r.Name, t))
	case *workflowservice.StartBatchOperationRequest_SignalOperation:
		s := op.SignalOperation
		return m.e.Signal(ctx, ns, t.workflowID, t.runID, &engine.SignalArgs{
			Name: s.GetSignal(), Input: s.GetInput(), Header: s.GetHeader(), Identity: identity, RequestID: requestID(ns, r.Name, t),
		})
	case *workflowservice.StartBatchOperationRequest_DeletionOperation:
		return m.e.DeleteWorkflow(ctx, ns, t.workflowID, t.runID)
	case *workflowservice.StartBatchOperationRequest_ResetOperation:
		return m.reset(ctx, r, req, op.ResetOperation.GetOptions(), t)
	}
	return &engine.Error{Code: engine.CodeInvalidArgument, Message: fmt.Sprintf("batch operation %T is not supported", req.GetOperation())}
}

// reset resets one execution to the workflow task the job's options name.
func (m *Manager) reset(ctx context.Context, r *store.Record, req *workflowservice.StartBatchOperationRequest, opts *commonpb.ResetOptions, t target) error {
	op := req.GetResetOperation()
	ns := r.Namespace
	var eventID int64
	var err error
	reapply := op.GetResetReapplyType() //nolint:staticcheck // the deprecated fields are still sent
	var exclude []enumspb.ResetReapplyExcludeType
	if opts != nil {
		reapply, exclude = opts.GetResetReapplyType(), opts.GetResetReapplyExcludeTypes() //nolint:staticcheck // as Temporal's batcher
		switch target := opts.GetTarget().(type) {
		case *commonpb.ResetOptions_FirstWorkflowTask:
			eventID, err = m.firstWorkflowTask(ctx, ns, t)
		case *commonpb.ResetOptions_LastWorkflowTask:
			eventID, err = m.lastWorkflowTask(ctx, ns, t)
		case *commonpb.ResetOptions_WorkflowTaskId:
			eventID = target.WorkflowTaskId
		default:
			return &engine.Error{Code: engine.CodeInvalidArgument, Message: fmt.Sprintf("reset target %T is not supported", opts.GetTarget())}
		}
	} else {
		switch op.GetResetType() { //nolint:staticcheck // the deprecated fields are still sent
		case enumspb.RESET_TYPE_FIRST_WORKFLOW_TASK:
			eventID, err = m.firstWorkflowTask(ctx, ns, t)
		case enumspb.RESET_TYPE_LAST_WORKFLOW_TASK:
			eventID, err = m.lastWorkflowTask(ctx, ns, t)
		default:
			return &engine.Error{Code: engine.CodeInvalidArgument, Message: fmt.Sprintf("reset type %v is not supported", op.GetResetType())} //nolint:staticcheck // as above
		}
	}
	if err != nil {
		return err
	}
	_, err = m.e.Reset(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 ns,
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: t.workflowID, RunId: t.runID},
		Reason:                    req.GetReason(),
		WorkflowTaskFinishEventId: eventID,
		RequestId:                 resetRequestID(ns, r.Name, t.workflowID),
		ResetReapplyType:          reapply,
		ResetReapplyExcludeTypes:  exclude,
		PostResetOperations:       op.GetPostResetOperations(),
		Identity:                  op.GetIdentity(),
	})
	return err
}

// noWorkflowTask answers a reset of an execution that never had a workflow task to reset to.
var noWorkflowTask = &engine.Error{Code: engine.CodeInvalidArgument, Message: "unable to find any scheduled or completed task"}

// firstWorkflowTask is the first WorkflowTaskCompleted of the run or, if it has none, the event
// after its first WorkflowTaskScheduled, as Temporal's batcher picks a reset point.
func (m *Manager) firstWorkflowTask(ctx context.Context, ns string, t target) (int64, error) {
	var token []byte
	var scheduled int64
	for {
		h, next, err := m.e.GetHistory(ctx, engine.HistoryRequest{Namespace: ns, WorkflowID: t.workflowID, RunID: t.runID, PageSize: 1000, Token: token})
		if err != nil {
			return 0, err
		}
		for _, ev := range h.GetEvents() {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				return ev.GetEventId(), nil
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
				if scheduled == 0 {
					scheduled = ev.GetEventId()
				}
			}
		}
		if len(next) == 0 {
			break
		}
		token = next
	}
	if scheduled == 0 {
		return 0, noWorkflowTask
	}
	return scheduled + 1, nil
}

// lastWorkflowTask is the last WorkflowTaskCompleted of the run or, if it has none, the event
// after its first WorkflowTaskScheduled.
func (m *Manager) lastWorkflowTask(ctx context.Context, ns string, t target) (int64, error) {
	var token []byte
	var scheduled int64
	for {
		h, next, err := m.e.ReverseHistory(ctx, ns, t.workflowID, t.runID, 1000, token)
		if err != nil {
			return 0, err
		}
		if id, ok := lastCompleted(h.GetEvents(), &scheduled); ok {
			return id, nil
		}
		if len(next) == 0 {
			break
		}
		token = next
	}
	if scheduled == 0 {
		return 0, noWorkflowTask
	}
	return scheduled + 1, nil
}

// lastCompleted scans events newest first for a WorkflowTaskCompleted, noting in scheduled the
// earliest WorkflowTaskScheduled seen.
func lastCompleted(events []*historypb.HistoryEvent, scheduled *int64) (int64, bool) {
	for _, ev := range events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			return ev.GetEventId(), true
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
			*scheduled = ev.GetEventId()
		}
	}
	return 0, false
}
