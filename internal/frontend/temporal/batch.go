package temporal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	batchpb "go.temporal.io/api/batch/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/batch"
	"github.com/duro-dev/duro/internal/engine"
)

// maxBatchExecutions is Temporal's frontend.MaxExecutionCountBatchOperationPerNamespace: the
// longest explicit list of executions a batch operation takes.
const maxBatchExecutions = 1000

// batchServer serves the four batch operation RPCs and hands every other call to the
// WorkflowService it wraps.
type batchServer struct {
	workflowservice.WorkflowServiceServer
	e               *engine.Engine
	m               *batch.Manager
	maxPayloadBytes int
}

// WithBatchOperations returns srv with StartBatchOperation, DescribeBatchOperation,
// ListBatchOperations and StopBatchOperation served by m; srv answers everything else. It wraps
// an interface, so other RPC families can be layered the same way.
func WithBatchOperations(srv workflowservice.WorkflowServiceServer, e *engine.Engine, m *batch.Manager, maxPayloadBytes int) workflowservice.WorkflowServiceServer {
	return &batchServer{WorkflowServiceServer: srv, e: e, m: m, maxPayloadBytes: maxPayloadBytes}
}

// batchErr maps an error of the batch manager (or of the engine under it) to Temporal's status.
func (b *batchServer) batchErr(ns string, err error) error {
	switch {
	case errors.Is(err, batch.ErrNotFound):
		return serviceerror.NewNotFound(err.Error())
	case errors.Is(err, batch.ErrNotRunning):
		// Stopping a finished job terminates a closed batcher workflow in Temporal.
		return serviceerror.NewNotFound("workflow execution already completed")
	case errors.Is(err, batch.ErrAlreadyExists):
		return serviceerror.NewWorkflowExecutionAlreadyStarted(fmt.Sprintf("Batch operation already exists: %v.", err), "", "")
	case errors.Is(err, batch.ErrTooMany):
		return &serviceerror.ResourceExhausted{
			Cause: enumspb.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT, Scope: enumspb.RESOURCE_EXHAUSTED_SCOPE_NAMESPACE,
			Message: "Max concurrent batch operations is reached",
		}
	case errors.Is(err, batch.ErrUnsupported):
		return serviceerror.NewUnimplemented(err.Error())
	}
	var ee *engine.Error
	if errors.As(err, &ee) && ee.Code == engine.CodeNotFound {
		return namespaceErr(ns, err)
	}
	return toStatus(err)
}

// StartBatchOperation validates a job as Temporal's frontend does and records it; the batch loop
// of some node then works through it.
func (b *batchServer) StartBatchOperation(ctx context.Context, req *workflowservice.StartBatchOperationRequest) (*workflowservice.StartBatchOperationResponse, error) {
	if err := b.validateStart(req); err != nil {
		return nil, err
	}
	if err := b.m.Start(ctx, req); err != nil {
		return nil, b.batchErr(req.GetNamespace(), err)
	}
	return &workflowservice.StartBatchOperationResponse{}, nil
}

// validateStart checks a StartBatchOperation request in Temporal's order and with its messages.
func (b *batchServer) validateStart(req *workflowservice.StartBatchOperationRequest) error {
	executions := req.GetExecutions() //nolint:staticcheck // the deprecated field is still sent
	hasTargets := len(executions) > 0 || len(req.GetTargetExecutions()) > 0
	if req.GetOperation() == nil || req.GetReason() == "" || req.GetNamespace() == "" || (req.GetVisibilityQuery() == "" && !hasTargets) {
		return serviceerror.NewInvalidArgument("must provide required parameters: BatchType/Reason/Namespace/Query/Executions")
	}
	v := &validator{}
	v.check(req.GetJobId() != "", "JobId is not set on request.")
	v.namespace(req.GetNamespace())
	v.check(len(req.GetJobId()) <= maxIDLength, "JobId length exceeds limit.")
	v.check(utf8.ValidString(req.GetJobId()), "JobId must be valid UTF-8.")
	v.text("JobId", req.GetJobId())
	v.check(req.GetVisibilityQuery() == "" || !hasTargets, "Workflow executions and visibility filter are both set on request. Only one of them is allowed.")
	v.check(len(executions)+len(req.GetTargetExecutions()) <= maxBatchExecutions, "Workflow executions count exceeded.")
	v.check(len(req.GetReason()) <= maxIDLength, "Reason length exceeds limit.")
	for _, ex := range executions {
		v.execution(ex)
	}
	for _, ex := range req.GetTargetExecutions() {
		if t := ex.GetType(); t != enumspb.EXECUTION_TYPE_UNSPECIFIED && t != enumspb.EXECUTION_TYPE_WORKFLOW {
			if v.err == nil {
				v.err = serviceerror.NewUnimplemented(fmt.Sprintf("batch operations on %v executions are not supported", t))
			}
			continue
		}
		v.execution(&commonpb.WorkflowExecution{WorkflowId: ex.GetBusinessId(), RunId: ex.GetRunId()})
	}
	if v.err != nil {
		return v.err
	}
	switch op := req.GetOperation().(type) {
	case *workflowservice.StartBatchOperationRequest_TerminationOperation,
		*workflowservice.StartBatchOperationRequest_CancellationOperation,
		*workflowservice.StartBatchOperationRequest_DeletionOperation:
		return nil
	case *workflowservice.StartBatchOperationRequest_SignalOperation:
		s := op.SignalOperation
		v.check(s.GetSignal() != "", "must provide signal name")
		v.check(len(s.GetSignal()) <= maxNameLength, "SignalName length exceeds limit.")
		v.text("SignalName", s.GetSignal())
		v.payloadSize(s.GetInput(), b.maxPayloadBytes, "Input")
		return v.err
	case *workflowservice.StartBatchOperationRequest_ResetOperation:
		return validateBatchReset(op.ResetOperation)
	default:
		return serviceerror.NewUnimplemented(fmt.Sprintf("batch operation %T is not supported", op))
	}
}

// validateBatchReset checks the reset point of a reset job: the options' target, or the legacy
// reset type.
func validateBatchReset(op *batchpb.BatchOperationReset) error {
	if op == nil {
		return serviceerror.NewInvalidArgument("reset operation is not set")
	}
	if opts := op.GetOptions(); opts != nil {
		switch opts.GetTarget().(type) {
		case nil:
			return serviceerror.NewInvalidArgument("batch reset missing target")
		case *commonpb.ResetOptions_FirstWorkflowTask, *commonpb.ResetOptions_LastWorkflowTask:
			return nil
		case *commonpb.ResetOptions_WorkflowTaskId:
			if opts.GetWorkflowTaskId() <= 0 {
				return serviceerror.NewInvalidArgument("WorkflowTaskId must be positive")
			}
			return nil
		default:
			return serviceerror.NewUnimplemented(fmt.Sprintf("batch reset target %T is not supported", opts.GetTarget()))
		}
	}
	switch t := op.GetResetType(); t { //nolint:staticcheck // the deprecated field is still sent
	case enumspb.RESET_TYPE_FIRST_WORKFLOW_TASK, enumspb.RESET_TYPE_LAST_WORKFLOW_TASK:
		return nil
	default:
		return serviceerror.NewInvalidArgument(fmt.Sprintf("unknown batch reset type %v", t))
	}
}

// DescribeBatchOperation reports a job's state and progress.
func (b *batchServer) DescribeBatchOperation(ctx context.Context, req *workflowservice.DescribeBatchOperationRequest) (*workflowservice.DescribeBatchOperationResponse, error) {
	v := &validator{}
	v.check(req.GetJobId() != "", "JobId is not set on request.")
	v.check(req.GetNamespace() != "", "Namespace is not set on request.")
	if v.err != nil {
		return nil, v.err
	}
	j, err := b.m.Describe(ctx, req.GetNamespace(), req.GetJobId())
	if err != nil {
		return nil, b.batchErr(req.GetNamespace(), err)
	}
	resp := &workflowservice.DescribeBatchOperationResponse{
		OperationType: j.Type, JobId: j.ID, State: j.State,
		StartTime: timestamppb.New(j.StartTime), CloseTime: closeTime(j),
		TotalOperationCount: j.Total, CompleteOperationCount: j.Done, FailureOperationCount: j.Failed,
		Identity: j.Identity, Reason: j.Reason, Query: j.Query,
	}
	for _, ex := range j.Executions {
		resp.Executions = append(resp.Executions, &commonpb.Execution{Type: enumspb.EXECUTION_TYPE_WORKFLOW, BusinessId: ex.GetWorkflowId(), RunId: ex.GetRunId()})
	}
	return resp, nil
}

// closeTime is a job's close time, nil while it runs.
func closeTime(j *batch.Job) *timestamppb.Timestamp {
	if j.CloseTime.IsZero() {
		return nil
	}
	return timestamppb.New(j.CloseTime)
}

// ListBatchOperations lists a namespace's jobs, a page at a time, in job ID order (Temporal lists
// its batcher workflows newest first).
func (b *batchServer) ListBatchOperations(ctx context.Context, req *workflowservice.ListBatchOperationsRequest) (*workflowservice.ListBatchOperationsResponse, error) {
	v := &validator{}
	v.check(req.GetNamespace() != "", "Namespace is not set on request.")
	tok := req.GetNextPageToken()
	v.check(utf8.Valid(tok) && !bytes.ContainsRune(tok, 0), "invalid next page token")
	if v.err != nil {
		return nil, v.err
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > maxListPageSize {
		size = maxListPageSize
	}
	jobs, next, err := b.m.List(ctx, req.GetNamespace(), string(req.GetNextPageToken()), size)
	if err != nil {
		return nil, b.batchErr(req.GetNamespace(), err)
	}
	resp := &workflowservice.ListBatchOperationsResponse{}
	for _, j := range jobs {
		resp.OperationInfo = append(resp.OperationInfo, &batchpb.BatchOperationInfo{
			JobId: j.ID, State: j.State, StartTime: timestamppb.New(j.StartTime), CloseTime: closeTime(j), OperationType: j.Type,
		})
	}
	if next != "" {
		resp.NextPageToken = []byte(next)
	}
	return resp, nil
}

// StopBatchOperation stops a running job; what it did stays done.
func (b *batchServer) StopBatchOperation(ctx context.Context, req *workflowservice.StopBatchOperationRequest) (*workflowservice.StopBatchOperationResponse, error) {
	v := &validator{}
	v.check(req.GetJobId() != "", "JobId is not set on request.")
	v.check(req.GetNamespace() != "", "Namespace is not set on request.")
	v.check(req.GetReason() != "", "Reason is not set on request.")
	if v.err != nil {
		return nil, v.err
	}
	if err := b.m.Stop(ctx, req.GetNamespace(), req.GetJobId(), req.GetReason(), req.GetIdentity()); err != nil {
		return nil, b.batchErr(req.GetNamespace(), err)
	}
	return &workflowservice.StopBatchOperationResponse{}, nil
}
