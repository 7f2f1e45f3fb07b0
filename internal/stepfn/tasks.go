package stepfn

import (
	"context"
	"encoding/base64"
	"errors"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/tasktoken"
)

// DefaultPollTimeout is how long GetActivityTask holds a poll without a task: a little less than
// botocore's 60 s read timeout, so the plain AWS CLI never times out (reference, "Traps").
const DefaultPollTimeout = 50 * time.Second

// EncodeToken renders an engine task token as a Step Functions task token (URL-safe base64,
// well inside AWS's 2,048 characters).
func EncodeToken(tok []byte) string { return base64.RawURLEncoding.EncodeToString(tok) }

// taskRef decodes a Step Functions task token into the activity it completes. A
// .waitForTaskToken token names the task by its activity ID alone (engine.CallbackToken); an
// activity worker's token names the attempt.
func (s *Service) taskRef(token string) (engine.ActivityRef, error) {
	bad := sfn.Errorf(sfn.KindInvalidToken, "Invalid token")
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return engine.ActivityRef{}, bad
	}
	tok, err := tasktoken.Decode(b)
	if err != nil || tok.Kind != tasktoken.Activity {
		return engine.ActivityRef{}, bad
	}
	if tok.EventID == 0 {
		return engine.ActivityRef{Namespace: tok.Namespace, WorkflowID: tok.WorkflowID, RunID: tok.RunID, ActivityID: tok.ActivityID}, nil
	}
	return engine.RefFromToken(tok), nil
}

// GetActivityTask long-polls an activity's task queue. Step Functions activity workers and
// Temporal workers polling the queue of the same name share its tasks.
func (s *Service) GetActivityTask(ctx context.Context, in *sfn.GetActivityTaskInput) (*sfn.GetActivityTaskOutput, error) {
	a, err := s.LookupActivity(ctx, in.ActivityArn)
	if err != nil {
		return nil, err
	}
	timeout := s.cfg.PollTimeout
	if timeout <= 0 {
		timeout = DefaultPollTimeout
	}
	key := store.TaskQueueKey{Namespace: s.cfg.Namespace, Name: a.Name, Kind: store.TaskActivity}
	poll := engine.PollInfo{Identity: in.WorkerName, Queue: a.Name}
	res, err := s.cfg.Matcher.Poll(ctx, key, in.WorkerName, timeout, func(ctx context.Context, t *store.Task) (any, error) {
		return s.cfg.Engine.StartActivityTask(ctx, t, poll)
	}, nil)
	if err != nil {
		if ctx.Err() != nil {
			return &sfn.GetActivityTaskOutput{}, nil // the client went away
		}
		return nil, engineErr(err, nil)
	}
	if res == nil {
		return &sfn.GetActivityTaskOutput{}, nil
	}
	resp := res.(*workflowservice.PollActivityTaskQueueResponse)
	input := "{}"
	if p := resp.GetInput().GetPayloads(); len(p) > 0 {
		input = string(p[0].GetData())
	}
	return &sfn.GetActivityTaskOutput{TaskToken: EncodeToken(resp.GetTaskToken()), Input: &input}, nil
}

// SendTaskSuccess completes a task (an activity attempt or a .waitForTaskToken callback).
func (s *Service) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskInput) error {
	ref, err := s.taskRef(in.TaskToken)
	if err != nil {
		return err
	}
	output := "null"
	if in.Output != nil {
		output = *in.Output
	}
	err = s.cfg.Engine.CompleteActivity(ctx, ref, jsonPayloads(output), "stepfunctions")
	return s.taskErr(ctx, ref, err)
}

// SendTaskFailure fails a task with an error and cause, for the state's Retry and Catch.
func (s *Service) SendTaskFailure(ctx context.Context, in *sfn.SendTaskInput) error {
	ref, err := s.taskRef(in.TaskToken)
	if err != nil {
		return err
	}
	var name, cause string
	if in.Error != nil {
		name = *in.Error
	}
	if in.Cause != nil {
		cause = *in.Cause
	}
	err = s.cfg.Engine.FailActivity(ctx, ref, engine.SFNFailure(name, cause), nil, "stepfunctions")
	return s.taskErr(ctx, ref, err)
}

// SendTaskHeartbeat records that the worker still works on the task (HeartbeatSeconds).
func (s *Service) SendTaskHeartbeat(ctx context.Context, in *sfn.SendTaskInput) error {
	ref, err := s.taskRef(in.TaskToken)
	if err != nil {
		return err
	}
	_, err = s.cfg.Engine.HeartbeatActivity(ctx, ref, nil)
	return s.taskErr(ctx, ref, err)
}

// taskErr answers a task call's engine error: a task that is gone is TaskTimedOut when it timed
// out or its execution ended first (AWS: the token has expired), else TaskDoesNotExist (a
// duplicate completion, or a token that never named a task).
func (s *Service) taskErr(ctx context.Context, ref engine.ActivityRef, err error) error {
	var ee *engine.Error
	if err == nil || !errors.As(err, &ee) || ee.Code != engine.CodeNotFound {
		return engineErr(err, nil)
	}
	switch s.cfg.Engine.SFNTaskEnd(ctx, ref) {
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		return sfn.Errorf(sfn.KindTaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'")
	}
	return sfn.Errorf(sfn.KindTaskDoesNotExist, "Task does not exist anymore")
}

// jsonPayloads is one json/plain payload, the encoding Temporal workers decode as JSON.
func jsonPayloads(data string) *commonpb.Payloads {
	return &commonpb.Payloads{Payloads: []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(data)}}}
}
