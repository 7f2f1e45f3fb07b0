package temporal

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"
	querypb "go.temporal.io/api/query/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/google/uuid"
)

func (s *Service) validateStart(req *workflowservice.StartWorkflowExecutionRequest) error {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.workflowID(req.GetWorkflowId())
	v.check(req.GetWorkflowType().GetName() != "", "WorkflowType is not set on request.")
	v.check(len(req.GetWorkflowType().GetName()) <= maxNameLength, "WorkflowType length exceeds limit.")
	v.check(req.GetTaskQueue().GetName() != "", "TaskQueue is not set on request.")
	v.check(len(req.GetTaskQueue().GetName()) <= maxNameLength, "TaskQueue length exceeds limit.")
	v.check(len(req.GetRequestId()) <= maxIDLength, "RequestId length exceeds limit.")
	v.text("WorkflowId", req.GetWorkflowId())
	v.text("WorkflowType", req.GetWorkflowType().GetName())
	v.text("TaskQueue", req.GetTaskQueue().GetName())
	v.text("RequestId", req.GetRequestId())
	v.text("CronSchedule", req.GetCronSchedule())
	v.check(req.GetWorkflowExecutionTimeout().AsDuration() >= 0, "Invalid WorkflowExecutionTimeout.")
	v.check(req.GetWorkflowRunTimeout().AsDuration() >= 0, "Invalid WorkflowRunTimeout.")
	v.check(req.GetWorkflowTaskTimeout().AsDuration() >= 0, "Invalid WorkflowTaskTimeout.")
	v.check(req.GetWorkflowStartDelay().AsDuration() >= 0, "Invalid WorkflowStartDelay.")
	if req.GetCronSchedule() != "" {
		v.check(engine.ValidateCron(req.GetCronSchedule()) == nil, "Invalid CronSchedule.")
	}
	v.retryPolicy(req.GetRetryPolicy())
	v.payloadSize(req.GetInput(), s.cfg.MaxPayloadBytes, "Input")
	v.payloadSize(req.GetMemo(), s.cfg.MaxPayloadBytes, "Memo")
	v.payloadSize(req.GetSearchAttributes(), s.cfg.MaxPayloadBytes, "SearchAttributes")
	return v.err
}

// StartWorkflowExecution starts a run, idempotent by request ID.
func (s *Service) StartWorkflowExecution(ctx context.Context, req *workflowservice.StartWorkflowExecutionRequest) (*workflowservice.StartWorkflowExecutionResponse, error) {
	if err := s.validateStart(req); err != nil {
		return nil, err
	}
	if req.GetRequestId() == "" {
		req.RequestId = uuid.NewString()
	}
	res, err := s.e.StartWorkflow(ctx, req, nil)
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.StartWorkflowExecutionResponse{RunId: res.RunID, Started: res.Started}, nil
}

// mapNS maps an engine error, giving an unknown namespace Temporal's typed NamespaceNotFound.
func (s *Service) mapNS(namespace string, err error) error {
	if _, nerr := s.e.Namespace(context.Background(), namespace); nerr != nil {
		return namespaceErr(namespace, nerr)
	}
	return toStatus(err)
}

// SignalWithStartWorkflowExecution signals the open run, or starts one with the signal.
func (s *Service) SignalWithStartWorkflowExecution(ctx context.Context, req *workflowservice.SignalWithStartWorkflowExecutionRequest) (*workflowservice.SignalWithStartWorkflowExecutionResponse, error) {
	start := &workflowservice.StartWorkflowExecutionRequest{
		Namespace: req.GetNamespace(), WorkflowId: req.GetWorkflowId(), WorkflowType: req.GetWorkflowType(), TaskQueue: req.GetTaskQueue(),
		Input: req.GetInput(), WorkflowExecutionTimeout: req.GetWorkflowExecutionTimeout(), WorkflowRunTimeout: req.GetWorkflowRunTimeout(),
		WorkflowTaskTimeout: req.GetWorkflowTaskTimeout(), Identity: req.GetIdentity(), RequestId: req.GetRequestId(),
		WorkflowIdReusePolicy: req.GetWorkflowIdReusePolicy(), WorkflowIdConflictPolicy: req.GetWorkflowIdConflictPolicy(),
		RetryPolicy: req.GetRetryPolicy(), CronSchedule: req.GetCronSchedule(), Memo: req.GetMemo(), SearchAttributes: req.GetSearchAttributes(),
		Header: req.GetHeader(), WorkflowStartDelay: req.GetWorkflowStartDelay(),
	}
	if err := s.validateStart(start); err != nil {
		return nil, err
	}
	v := &validator{}
	v.check(req.GetSignalName() != "", "SignalName is not set on request.")
	v.payloadSize(req.GetSignalInput(), s.cfg.MaxPayloadBytes, "SignalInput")
	if v.err != nil {
		return nil, v.err
	}
	if start.RequestId == "" {
		start.RequestId = uuid.NewString()
	}
	sig := &engine.SignalArgs{Name: req.GetSignalName(), Input: req.GetSignalInput(), Header: req.GetHeader(), Identity: req.GetIdentity(), RequestID: start.RequestId}
	res, err := s.e.StartWorkflow(ctx, start, sig)
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.SignalWithStartWorkflowExecutionResponse{RunId: res.RunID, Started: res.Started}, nil
}

// SignalWorkflowExecution delivers a signal, idempotent by request ID.
func (s *Service) SignalWorkflowExecution(ctx context.Context, req *workflowservice.SignalWorkflowExecutionRequest) (*workflowservice.SignalWorkflowExecutionResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetWorkflowExecution())
	v.check(req.GetSignalName() != "", "SignalName is not set on request.")
	v.check(len(req.GetSignalName()) <= maxNameLength, "SignalName length exceeds limit.")
	v.text("SignalName", req.GetSignalName())
	v.payloadSize(req.GetInput(), s.cfg.MaxPayloadBytes, "Input")
	if v.err != nil {
		return nil, v.err
	}
	ex := req.GetWorkflowExecution()
	err := s.e.Signal(ctx, req.GetNamespace(), ex.GetWorkflowId(), ex.GetRunId(), &engine.SignalArgs{
		Name: req.GetSignalName(), Input: req.GetInput(), Header: req.GetHeader(), Identity: req.GetIdentity(), RequestID: req.GetRequestId(),
	})
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.SignalWorkflowExecutionResponse{}, nil
}

// RequestCancelWorkflowExecution asks the workflow to cancel itself.
func (s *Service) RequestCancelWorkflowExecution(ctx context.Context, req *workflowservice.RequestCancelWorkflowExecutionRequest) (*workflowservice.RequestCancelWorkflowExecutionResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetWorkflowExecution())
	if v.err != nil {
		return nil, v.err
	}
	ex := req.GetWorkflowExecution()
	if err := s.e.RequestCancel(ctx, req.GetNamespace(), ex.GetWorkflowId(), ex.GetRunId(), req.GetReason(), req.GetIdentity(), req.GetRequestId()); err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.RequestCancelWorkflowExecutionResponse{}, nil
}

// TerminateWorkflowExecution closes a run at once.
func (s *Service) TerminateWorkflowExecution(ctx context.Context, req *workflowservice.TerminateWorkflowExecutionRequest) (*workflowservice.TerminateWorkflowExecutionResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetWorkflowExecution())
	v.payloadSize(req.GetDetails(), s.cfg.MaxPayloadBytes, "Details")
	if v.err != nil {
		return nil, v.err
	}
	ex := req.GetWorkflowExecution()
	if err := s.e.Terminate(ctx, req.GetNamespace(), ex.GetWorkflowId(), ex.GetRunId(), req.GetReason(), req.GetDetails(), req.GetIdentity()); err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.TerminateWorkflowExecutionResponse{}, nil
}

// DescribeWorkflowExecution describes one run.
func (s *Service) DescribeWorkflowExecution(ctx context.Context, req *workflowservice.DescribeWorkflowExecutionRequest) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetExecution())
	if v.err != nil {
		return nil, v.err
	}
	resp, err := s.e.Describe(ctx, req.GetNamespace(), req.GetExecution().GetWorkflowId(), req.GetExecution().GetRunId())
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return resp, nil
}

// GetWorkflowExecutionHistory pages through a run's history, long-polling when asked.
func (s *Service) GetWorkflowExecutionHistory(ctx context.Context, req *workflowservice.GetWorkflowExecutionHistoryRequest) (*workflowservice.GetWorkflowExecutionHistoryResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetExecution())
	v.check(req.GetMaximumPageSize() >= 0, "MaximumPageSize cannot be negative.")
	if v.err != nil {
		return nil, v.err
	}
	hist, token, err := s.e.GetHistory(ctx, engine.HistoryRequest{
		Namespace: req.GetNamespace(), WorkflowID: req.GetExecution().GetWorkflowId(), RunID: req.GetExecution().GetRunId(),
		PageSize: int(req.GetMaximumPageSize()), Token: req.GetNextPageToken(), WaitNewEvent: req.GetWaitNewEvent(),
		CloseEventOnly: req.GetHistoryEventFilterType() == enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
	})
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.GetWorkflowExecutionHistoryResponse{History: hist, NextPageToken: token}, nil
}

// GetWorkflowExecutionHistoryReverse pages through a run's history newest first.
func (s *Service) GetWorkflowExecutionHistoryReverse(ctx context.Context, req *workflowservice.GetWorkflowExecutionHistoryReverseRequest) (*workflowservice.GetWorkflowExecutionHistoryReverseResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetExecution())
	if v.err != nil {
		return nil, v.err
	}
	hist, token, err := s.e.ReverseHistory(ctx, req.GetNamespace(), req.GetExecution().GetWorkflowId(), req.GetExecution().GetRunId(), int(req.GetMaximumPageSize()), req.GetNextPageToken())
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.GetWorkflowExecutionHistoryReverseResponse{History: hist, NextPageToken: token}, nil
}

// QueryWorkflow asks a worker to answer a query.
func (s *Service) QueryWorkflow(ctx context.Context, req *workflowservice.QueryWorkflowRequest) (*workflowservice.QueryWorkflowResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetExecution())
	v.check(req.GetQuery().GetQueryType() != "", "QueryType is not set on request.")
	v.payloadSize(req.GetQuery().GetQueryArgs(), s.cfg.MaxPayloadBytes, "QueryArgs")
	if v.err != nil {
		return nil, v.err
	}
	out, err := s.e.QueryWorkflow(ctx, req.GetNamespace(), req.GetExecution().GetWorkflowId(), req.GetExecution().GetRunId(), req.GetQuery(), req.GetQueryRejectCondition())
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	resp := &workflowservice.QueryWorkflowResponse{QueryResult: out.Result}
	if out.Rejected != enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		resp.QueryRejected = &querypb.QueryRejected{Status: out.Rejected}
	}
	return resp, nil
}

// ResetWorkflowExecution starts a new run from a workflow task of an existing one.
func (s *Service) ResetWorkflowExecution(ctx context.Context, req *workflowservice.ResetWorkflowExecutionRequest) (*workflowservice.ResetWorkflowExecutionResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetWorkflowExecution())
	v.check(req.GetWorkflowTaskFinishEventId() > 0, "WorkflowTaskFinishEventId is not set on request.")
	v.check(len(req.GetRequestId()) <= maxIDLength, "RequestId length exceeds limit.")
	if v.err != nil {
		return nil, v.err
	}
	runID, err := s.e.Reset(ctx, req)
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.ResetWorkflowExecutionResponse{RunId: runID}, nil
}

// DeleteWorkflowExecution deletes a run and its history, terminating it first if it is open.
func (s *Service) DeleteWorkflowExecution(ctx context.Context, req *workflowservice.DeleteWorkflowExecutionRequest) (*workflowservice.DeleteWorkflowExecutionResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetWorkflowExecution())
	if v.err != nil {
		return nil, v.err
	}
	ex := req.GetWorkflowExecution()
	if err := s.e.DeleteWorkflow(ctx, req.GetNamespace(), ex.GetWorkflowId(), ex.GetRunId()); err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.DeleteWorkflowExecutionResponse{}, nil
}
