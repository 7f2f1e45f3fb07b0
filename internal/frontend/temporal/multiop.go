package temporal

import (
	"context"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
)

// ExecuteMultiOperation serves update-with-start: a StartWorkflowExecution (whose conflict policy
// decides whether a running workflow is reused) followed by an UpdateWorkflowExecution on the run
// it resolved to. It is the only combination Temporal accepts. A start that fails aborts the update,
// reported as Temporal does: the start's error in its place and the update's as aborted.
func (s *Service) ExecuteMultiOperation(ctx context.Context, req *workflowservice.ExecuteMultiOperationRequest) (*workflowservice.ExecuteMultiOperationResponse, error) {
	ops := req.GetOperations()
	if len(ops) != 2 || ops[0].GetStartWorkflow() == nil || ops[1].GetUpdateWorkflow() == nil {
		return nil, serviceerror.NewInvalidArgument("Operations must be exactly a StartWorkflow followed by an UpdateWorkflow.")
	}
	start, upd := ops[0].GetStartWorkflow(), ops[1].GetUpdateWorkflow()
	if start.GetNamespace() == "" {
		start.Namespace = req.GetNamespace()
	}
	if upd.GetNamespace() == "" {
		upd.Namespace = req.GetNamespace()
	}
	if start.GetNamespace() != req.GetNamespace() || upd.GetNamespace() != req.GetNamespace() {
		return nil, serviceerror.NewInvalidArgument("Operations must use the request's namespace.")
	}
	if upd.GetWorkflowExecution().GetWorkflowId() != start.GetWorkflowId() {
		return nil, serviceerror.NewInvalidArgument("The update must target the started workflow ID.")
	}
	if upd.GetWorkflowExecution().GetRunId() != "" {
		return nil, serviceerror.NewInvalidArgument("The update of an update-with-start must not name a run ID.")
	}
	startResp, err := s.StartWorkflowExecution(ctx, start)
	if err != nil {
		return nil, serviceerror.NewMultiOperationExecution("Update-with-Start could not be executed.",
			[]error{err, serviceerror.NewMultiOperationAborted("Operation was aborted.")})
	}
	upd.WorkflowExecution.RunId = startResp.GetRunId()
	updResp, err := s.UpdateWorkflowExecution(ctx, upd)
	if err != nil {
		return nil, serviceerror.NewMultiOperationExecution("Update-with-Start could not be executed.",
			[]error{serviceerror.NewMultiOperationAborted("Operation was aborted."), err})
	}
	return &workflowservice.ExecuteMultiOperationResponse{Responses: []*workflowservice.ExecuteMultiOperationResponse_Response{
		{Response: &workflowservice.ExecuteMultiOperationResponse_Response_StartWorkflow{StartWorkflow: startResp}},
		{Response: &workflowservice.ExecuteMultiOperationResponse_Response_UpdateWorkflow{UpdateWorkflow: updResp}},
	}}, nil
}
