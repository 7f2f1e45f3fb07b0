package sfn

import (
	"context"
	"encoding/json"
)

// actions routes each X-Amz-Target action name to its handler.
var actions = map[string]action{
	"CreateStateMachine": route(checkCreateStateMachine, callBackend(func(h *Handler, ctx context.Context, in *CreateStateMachineInput) (*CreateStateMachineOutput, error) {
		return h.backend.CreateStateMachine(ctx, in)
	})),
	"DescribeStateMachine": route(checkDescribeStateMachine, callBackend(func(h *Handler, ctx context.Context, in *DescribeStateMachineInput) (*DescribeStateMachineOutput, error) {
		return h.backend.DescribeStateMachine(ctx, in)
	})),
	"UpdateStateMachine": route(checkUpdateStateMachine, callBackend(func(h *Handler, ctx context.Context, in *UpdateStateMachineInput) (*UpdateStateMachineOutput, error) {
		return h.backend.UpdateStateMachine(ctx, in)
	})),
	"DeleteStateMachine": route(checkARNInput("stateMachineArn", "stateMachine"), emptyCall(func(h *Handler) func(context.Context, *ARNInput) error { return h.backend.DeleteStateMachine })),
	"ListStateMachines": route(checkList, callBackend(func(h *Handler, ctx context.Context, in *ListInput) (*ListStateMachinesOutput, error) {
		return nonNil(h.backend.ListStateMachines(ctx, in))
	})),
	"ValidateStateMachineDefinition": route(checkValidate, func(h *Handler, _ context.Context, in *ValidateStateMachineDefinitionInput) (*ValidateStateMachineDefinitionOutput, error) {
		return validateDefinition(in), nil
	}),
	"DescribeStateMachineForExecution": route(checkExecutionArnInput, callBackend(func(h *Handler, ctx context.Context, in *ExecutionArnInput) (*DescribeStateMachineForExecutionOutput, error) {
		return h.backend.DescribeStateMachineForExecution(ctx, in)
	})),
	"TagResource":   route(checkTagResource, emptyCall(func(h *Handler) func(context.Context, *TagResourceInput) error { return h.backend.TagResource })),
	"UntagResource": route(checkUntagResource, emptyCall(func(h *Handler) func(context.Context, *UntagResourceInput) error { return h.backend.UntagResource })),
	"ListTagsForResource": route(checkARNInput("resourceArn", "stateMachine", "activity"), callBackend(func(h *Handler, ctx context.Context, in *ARNInput) (*ListTagsForResourceOutput, error) {
		return h.backend.ListTagsForResource(ctx, in)
	})),
	"StartExecution": route(checkStartExecution, callBackend(func(h *Handler, ctx context.Context, in *StartExecutionInput) (*StartExecutionOutput, error) {
		return h.backend.StartExecution(ctx, in)
	})),
	"DescribeExecution": route(checkExecutionArnInput, callBackend(func(h *Handler, ctx context.Context, in *ExecutionArnInput) (*DescribeExecutionOutput, error) {
		return h.backend.DescribeExecution(ctx, in)
	})),
	"StopExecution": route(checkStopExecution, callBackend(func(h *Handler, ctx context.Context, in *StopExecutionInput) (*StopExecutionOutput, error) {
		return h.backend.StopExecution(ctx, in)
	})),
	"ListExecutions": route(checkListExecutions, callBackend(func(h *Handler, ctx context.Context, in *ListExecutionsInput) (*ListExecutionsOutput, error) {
		return nonNil(h.backend.ListExecutions(ctx, in))
	})),
	"GetExecutionHistory": route(checkGetExecutionHistory, callBackend(func(h *Handler, ctx context.Context, in *GetExecutionHistoryInput) (*GetExecutionHistoryOutput, error) {
		return nonNil(h.backend.GetExecutionHistory(ctx, in))
	})),
	"CreateActivity": route(checkCreateActivity, callBackend(func(h *Handler, ctx context.Context, in *CreateActivityInput) (*CreateActivityOutput, error) {
		return h.backend.CreateActivity(ctx, in)
	})),
	"DescribeActivity": route(checkARNInput("activityArn", "activity"), callBackend(func(h *Handler, ctx context.Context, in *ARNInput) (*DescribeActivityOutput, error) {
		return h.backend.DescribeActivity(ctx, in)
	})),
	"DeleteActivity": route(checkARNInput("activityArn", "activity"), emptyCall(func(h *Handler) func(context.Context, *ARNInput) error { return h.backend.DeleteActivity })),
	"ListActivities": route(checkList, callBackend(func(h *Handler, ctx context.Context, in *ListInput) (*ListActivitiesOutput, error) {
		return nonNil(h.backend.ListActivities(ctx, in))
	})),
	"GetActivityTask": route(checkGetActivityTask, callBackend(func(h *Handler, ctx context.Context, in *GetActivityTaskInput) (*GetActivityTaskOutput, error) {
		return h.backend.GetActivityTask(ctx, in)
	})),
	"SendTaskSuccess":   route(checkSendTaskSuccess, emptyCall(func(h *Handler) func(context.Context, *SendTaskInput) error { return h.backend.SendTaskSuccess })),
	"SendTaskFailure":   route(checkSendTaskFailure, emptyCall(func(h *Handler) func(context.Context, *SendTaskInput) error { return h.backend.SendTaskFailure })),
	"SendTaskHeartbeat": route(checkSendTaskHeartbeat, emptyCall(func(h *Handler) func(context.Context, *SendTaskInput) error { return h.backend.SendTaskHeartbeat })),
}

// callBackend guards a backend call: a nil output with no error is an internal failure, never a
// "null" body.
func callBackend[I any, O any](f func(h *Handler, ctx context.Context, in *I) (*O, error)) func(h *Handler, ctx context.Context, in *I) (*O, error) {
	return func(h *Handler, ctx context.Context, in *I) (*O, error) {
		if h.backend == nil {
			return nil, Errorf(KindInternalFailure, "No backend is configured")
		}
		out, err := f(h, ctx, in)
		if err == nil && out == nil {
			return nil, Errorf(KindInternalFailure, "The backend returned no output")
		}
		return out, err
	}
}

func emptyCall[I any](f func(h *Handler) func(context.Context, *I) error) func(h *Handler, ctx context.Context, in *I) (Empty, error) {
	return func(h *Handler, ctx context.Context, in *I) (Empty, error) {
		if h.backend == nil {
			return Empty{}, Errorf(KindInternalFailure, "No backend is configured")
		}
		return Empty{}, f(h)(ctx, in)
	}
}

// listOutput is an output whose required lists must be sent as [] when empty.
type listOutput interface{ fillLists() }

func (o *ListStateMachinesOutput) fillLists() {
	if o == nil {
		return
	}
	if o.StateMachines == nil {
		o.StateMachines = []StateMachineListItem{}
	}
}

func (o *ListExecutionsOutput) fillLists() {
	if o == nil {
		return
	}
	if o.Executions == nil {
		o.Executions = []ExecutionListItem{}
	}
}

func (o *GetExecutionHistoryOutput) fillLists() {
	if o == nil {
		return
	}
	if o.Events == nil {
		o.Events = []RawJSON{}
	}
	for i, e := range o.Events {
		if !json.Valid(e) || len(e) == 0 || e[0] != '{' {
			o.Events[i] = RawJSON("{}")
		}
	}
}

func (o *ListActivitiesOutput) fillLists() {
	if o == nil {
		return
	}
	if o.Activities == nil {
		o.Activities = []ActivityListItem{}
	}
}

func nonNil[O listOutput](out O, err error) (O, error) {
	if err == nil {
		out.fillLists()
	}
	return out, err
}
