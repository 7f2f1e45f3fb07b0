package temporal

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc/metadata"

	"github.com/duro-dev/duro/internal/tasktoken"
)

// UpdateWorkflowExecution admits an update and waits for the requested stage.
func (s *Service) UpdateWorkflowExecution(ctx context.Context, req *workflowservice.UpdateWorkflowExecutionRequest) (*workflowservice.UpdateWorkflowExecutionResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetWorkflowExecution())
	v.check(req.GetRequest().GetMeta().GetUpdateId() != "", "Update ID is not set on request.")
	v.check(len(req.GetRequest().GetMeta().GetUpdateId()) <= maxIDLength, "Update ID length exceeds limit.")
	v.check(req.GetRequest().GetInput().GetName() != "", "Update name is not set on request.")
	v.payloadSize(req.GetRequest().GetInput().GetArgs(), s.cfg.MaxPayloadBytes, "Update arguments")
	if v.err != nil {
		return nil, v.err
	}
	ex := req.GetWorkflowExecution()
	out, err := s.e.UpdateWorkflow(ctx, req.GetNamespace(), ex.GetWorkflowId(), ex.GetRunId(), req.GetRequest(), req.GetWaitPolicy().GetLifecycleStage())
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.UpdateWorkflowExecutionResponse{
		UpdateRef: &updatepb.UpdateRef{WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: ex.GetWorkflowId(), RunId: out.RunID}, UpdateId: req.GetRequest().GetMeta().GetUpdateId()},
		Outcome:   out.Outcome,
		Stage:     out.Stage,
	}, nil
}

// PollWorkflowExecutionUpdate waits for an update, found by its ID, to reach a stage.
func (s *Service) PollWorkflowExecutionUpdate(ctx context.Context, req *workflowservice.PollWorkflowExecutionUpdateRequest) (*workflowservice.PollWorkflowExecutionUpdateResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.execution(req.GetUpdateRef().GetWorkflowExecution())
	v.check(req.GetUpdateRef().GetUpdateId() != "", "Update ID is not set on request.")
	if v.err != nil {
		return nil, v.err
	}
	ex := req.GetUpdateRef().GetWorkflowExecution()
	stage := req.GetWaitPolicy().GetLifecycleStage()
	if stage == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED {
		stage = enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
	}
	out, err := s.e.PollUpdate(ctx, req.GetNamespace(), ex.GetWorkflowId(), ex.GetRunId(), req.GetUpdateRef().GetUpdateId(), stage)
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	return &workflowservice.PollWorkflowExecutionUpdateResponse{
		Outcome:   out.Outcome,
		Stage:     out.Stage,
		UpdateRef: &updatepb.UpdateRef{WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: ex.GetWorkflowId(), RunId: out.RunID}, UpdateId: req.GetUpdateRef().GetUpdateId()},
	}, nil
}

// completeSpeculative completes an in-memory workflow task. The Go SDK is told, through
// reset_history_event_id, to forget the task's events when nothing of it was kept; sdk-core (the
// TypeScript SDK) expects the field to stay 0 and rolls back on its own (temporal-protocol.md,
// TypeScript section).
func (s *Service) completeSpeculative(ctx context.Context, tok tasktoken.Token, req *workflowservice.RespondWorkflowTaskCompletedRequest) (*workflowservice.RespondWorkflowTaskCompletedResponse, error) {
	resetTo, err := s.e.CompleteSpeculative(ctx, tok, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &workflowservice.RespondWorkflowTaskCompletedResponse{}
	if !isCoreSDK(ctx) {
		resp.ResetHistoryEventId = resetTo
	}
	return resp, nil
}

// isCoreSDK reports whether the caller is an SDK built on sdk-core (TypeScript, Python, .NET, Ruby).
func isCoreSDK(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, name := range md.Get("client-name") {
		switch name {
		case "temporal-typescript", "temporal-python", "temporal-dotnet", "temporal-ruby", "temporal-core":
			return true
		}
	}
	return false
}
