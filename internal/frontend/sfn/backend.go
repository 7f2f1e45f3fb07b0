package sfn

import "context"

// Backend carries out the actions that need storage or the engine. The [Handler] calls it only
// with inputs that passed validation (see the package comment): required members are present,
// lengths, enums and ranges hold, names follow AWS's rules and ARNs are well formed and of the
// right resource type (their region and account may differ from [Config]'s: such an ARN names
// nothing here). A method answers with an [*Error] (possibly wrapped) to choose the client's
// error; any other error is answered as InternalFailure.
//
// What each action must still do is in the service model and the reference
// (shared/reference/stepfunctions-api.md); in short: Create* are idempotent on identical
// parameters (CreateStateMachine otherwise StateMachineAlreadyExists); definitions reaching
// Create/UpdateStateMachine already compile with the asl package; StartExecution takes a state
// machine, version or alias ARN and is idempotent on (name, input) while the execution is open,
// otherwise ExecutionAlreadyExists, with a UUID name when none is given; list actions page with
// opaque nextTokens (InvalidToken when bad; maxResults 0 means 100); malformed or stale task
// tokens are InvalidToken / TaskDoesNotExist, expired ones TaskTimedOut. Required lists in outputs
// may be left nil (the handler sends []); optional members left zero are omitted.
type Backend interface {
	// State machines.
	CreateStateMachine(ctx context.Context, in *CreateStateMachineInput) (*CreateStateMachineOutput, error)
	DescribeStateMachine(ctx context.Context, in *DescribeStateMachineInput) (*DescribeStateMachineOutput, error)
	UpdateStateMachine(ctx context.Context, in *UpdateStateMachineInput) (*UpdateStateMachineOutput, error)
	DeleteStateMachine(ctx context.Context, in *ARNInput) error
	ListStateMachines(ctx context.Context, in *ListInput) (*ListStateMachinesOutput, error)
	DescribeStateMachineForExecution(ctx context.Context, in *ExecutionArnInput) (*DescribeStateMachineForExecutionOutput, error)
	TagResource(ctx context.Context, in *TagResourceInput) error
	UntagResource(ctx context.Context, in *UntagResourceInput) error
	ListTagsForResource(ctx context.Context, in *ARNInput) (*ListTagsForResourceOutput, error)

	// Executions. GetExecutionHistory returns events already rendered in the HistoryEvent shape.
	StartExecution(ctx context.Context, in *StartExecutionInput) (*StartExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *ExecutionArnInput) (*DescribeExecutionOutput, error)
	StopExecution(ctx context.Context, in *StopExecutionInput) (*StopExecutionOutput, error)
	ListExecutions(ctx context.Context, in *ListExecutionsInput) (*ListExecutionsOutput, error)
	GetExecutionHistory(ctx context.Context, in *GetExecutionHistoryInput) (*GetExecutionHistoryOutput, error)

	// Activities and task tokens (activity tasks and .waitForTaskToken callbacks).
	CreateActivity(ctx context.Context, in *CreateActivityInput) (*CreateActivityOutput, error)
	DescribeActivity(ctx context.Context, in *ARNInput) (*DescribeActivityOutput, error)
	DeleteActivity(ctx context.Context, in *ARNInput) error
	ListActivities(ctx context.Context, in *ListInput) (*ListActivitiesOutput, error)
	// GetActivityTask long-polls; it returns an empty output when the poll ends without a task.
	GetActivityTask(ctx context.Context, in *GetActivityTaskInput) (*GetActivityTaskOutput, error)
	SendTaskSuccess(ctx context.Context, in *SendTaskInput) error
	SendTaskFailure(ctx context.Context, in *SendTaskInput) error
	SendTaskHeartbeat(ctx context.Context, in *SendTaskInput) error
}
