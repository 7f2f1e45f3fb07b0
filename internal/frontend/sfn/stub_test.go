package sfn

import (
	"context"
	"errors"
)

// stubBackend is a TEST FIXTURE, not a backend: it lets the protocol layer's tests reach the
// Backend seam. Every method answers a fixed value or error; the real backend (state machines and
// executions on the engine) is another package's job.
type stubBackend struct {
	err error // returned by every method when set
}

var _ Backend = stubBackend{}

var errStub = errors.New("stub: not implemented")

func (s stubBackend) fail() error {
	if s.err != nil {
		return s.err
	}
	return errStub
}

func (s stubBackend) CreateStateMachine(context.Context, *CreateStateMachineInput) (*CreateStateMachineOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) DescribeStateMachine(context.Context, *DescribeStateMachineInput) (*DescribeStateMachineOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) UpdateStateMachine(context.Context, *UpdateStateMachineInput) (*UpdateStateMachineOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) DeleteStateMachine(context.Context, *ARNInput) error { return s.fail() }
func (s stubBackend) ListStateMachines(context.Context, *ListInput) (*ListStateMachinesOutput, error) {
	if s.err != nil {
		return nil, s.err
	}
	return &ListStateMachinesOutput{}, nil // no machines: the handler must send "stateMachines": []
}
func (s stubBackend) DescribeStateMachineForExecution(context.Context, *ExecutionArnInput) (*DescribeStateMachineForExecutionOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) TagResource(context.Context, *TagResourceInput) error     { return s.fail() }
func (s stubBackend) UntagResource(context.Context, *UntagResourceInput) error { return s.fail() }
func (s stubBackend) ListTagsForResource(context.Context, *ARNInput) (*ListTagsForResourceOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) StartExecution(context.Context, *StartExecutionInput) (*StartExecutionOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) DescribeExecution(context.Context, *ExecutionArnInput) (*DescribeExecutionOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) StopExecution(context.Context, *StopExecutionInput) (*StopExecutionOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) ListExecutions(context.Context, *ListExecutionsInput) (*ListExecutionsOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) GetExecutionHistory(context.Context, *GetExecutionHistoryInput) (*GetExecutionHistoryOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) CreateActivity(context.Context, *CreateActivityInput) (*CreateActivityOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) DescribeActivity(context.Context, *ARNInput) (*DescribeActivityOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) DeleteActivity(context.Context, *ARNInput) error { return s.fail() }
func (s stubBackend) ListActivities(context.Context, *ListInput) (*ListActivitiesOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) GetActivityTask(context.Context, *GetActivityTaskInput) (*GetActivityTaskOutput, error) {
	return nil, s.fail()
}
func (s stubBackend) SendTaskSuccess(context.Context, *SendTaskInput) error   { return s.fail() }
func (s stubBackend) SendTaskFailure(context.Context, *SendTaskInput) error   { return s.fail() }
func (s stubBackend) SendTaskHeartbeat(context.Context, *SendTaskInput) error { return s.fail() }
