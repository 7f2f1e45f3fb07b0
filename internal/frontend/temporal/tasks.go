package temporal

import (
	"context"
	"errors"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/tasktoken"
)

// decodeToken parses a task token of the expected kind; garbage is InvalidArgument, as in Temporal.
func decodeToken(b []byte, kind tasktoken.Kind) (tasktoken.Token, error) {
	if err := taskToken(b); err != nil {
		return tasktoken.Token{}, err
	}
	tok, err := tasktoken.Decode(b)
	if err != nil || tok.Kind != kind {
		return tasktoken.Token{}, serviceerror.NewInvalidArgument("Error deserializing task token.")
	}
	return tok, nil
}

// PollWorkflowTaskQueue long-polls for a workflow task (or a legacy query task). At expiry it
// answers an empty response, never an error (temporal-protocol.md §1).
func (s *Service) PollWorkflowTaskQueue(ctx context.Context, req *workflowservice.PollWorkflowTaskQueueRequest) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.check(req.GetTaskQueue().GetName() != "", "TaskQueue is not set on request.")
	v.check(len(req.GetTaskQueue().GetName()) <= maxNameLength, "TaskQueue length exceeds limit.")
	v.text("TaskQueue", req.GetTaskQueue().GetName())
	if v.err != nil {
		return nil, v.err
	}
	if _, err := s.e.Namespace(ctx, req.GetNamespace()); err != nil {
		return nil, namespaceErr(req.GetNamespace(), err)
	}
	queue := req.GetTaskQueue().GetName()
	key := store.TaskQueueKey{Namespace: req.GetNamespace(), Name: queue, Kind: store.TaskWorkflow}
	poll := engine.PollInfo{Identity: req.GetIdentity(), Queue: queue}
	res, err := s.m.Poll(ctx, key, req.GetIdentity(), s.cfg.LongPollTimeout,
		func(ctx context.Context, t *store.Task) (any, error) {
			resp, err := s.e.StartWorkflowTask(ctx, t, poll)
			if err != nil {
				return nil, err
			}
			return resp, nil
		},
		func(ctx context.Context) (any, error) {
			resp, err := s.e.TakeQuery(ctx, key)
			if err != nil || resp == nil {
				return nil, err
			}
			return resp, nil
		})
	if err != nil {
		return nil, toStatus(err)
	}
	if res == nil {
		return &workflowservice.PollWorkflowTaskQueueResponse{}, nil
	}
	return res.(*workflowservice.PollWorkflowTaskQueueResponse), nil
}

// RespondWorkflowTaskCompleted applies a workflow task's commands.
func (s *Service) RespondWorkflowTaskCompleted(ctx context.Context, req *workflowservice.RespondWorkflowTaskCompletedRequest) (*workflowservice.RespondWorkflowTaskCompletedResponse, error) {
	if tok, err := tasktoken.Decode(req.GetTaskToken()); err == nil && tok.Kind == tasktoken.Speculative {
		return s.completeSpeculative(ctx, tok, req)
	}
	tok, err := decodeToken(req.GetTaskToken(), tasktoken.Workflow)
	if err != nil {
		return nil, err
	}
	if req.GetNamespace() != "" && req.GetNamespace() != tok.Namespace {
		return nil, serviceerror.NewInvalidArgument("Task token does not belong to the request's namespace.")
	}
	if err := s.e.CompleteWorkflowTask(ctx, tok, req); err != nil {
		return nil, toStatus(err)
	}
	return &workflowservice.RespondWorkflowTaskCompletedResponse{}, nil
}

// RespondWorkflowTaskFailed records a failed workflow task.
func (s *Service) RespondWorkflowTaskFailed(ctx context.Context, req *workflowservice.RespondWorkflowTaskFailedRequest) (*workflowservice.RespondWorkflowTaskFailedResponse, error) {
	if tok, err := tasktoken.Decode(req.GetTaskToken()); err == nil && tok.Kind == tasktoken.Speculative {
		s.e.FailSpeculative(tok)
		return &workflowservice.RespondWorkflowTaskFailedResponse{}, nil
	}
	tok, err := decodeToken(req.GetTaskToken(), tasktoken.Workflow)
	if err != nil {
		return nil, err
	}
	if err := s.e.FailWorkflowTask(ctx, tok, req); err != nil {
		return nil, toStatus(err)
	}
	return &workflowservice.RespondWorkflowTaskFailedResponse{}, nil
}

// RespondQueryTaskCompleted hands a worker's query answer to the waiting caller.
func (s *Service) RespondQueryTaskCompleted(ctx context.Context, req *workflowservice.RespondQueryTaskCompletedRequest) (*workflowservice.RespondQueryTaskCompletedResponse, error) {
	tok, err := decodeToken(req.GetTaskToken(), tasktoken.Query)
	if err != nil {
		return nil, err
	}
	if err := s.e.RespondQuery(tok, req); err != nil {
		return nil, toStatus(err)
	}
	return &workflowservice.RespondQueryTaskCompletedResponse{}, nil
}

// PollActivityTaskQueue long-polls for an activity task.
func (s *Service) PollActivityTaskQueue(ctx context.Context, req *workflowservice.PollActivityTaskQueueRequest) (*workflowservice.PollActivityTaskQueueResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.check(req.GetTaskQueue().GetName() != "", "TaskQueue is not set on request.")
	v.check(len(req.GetTaskQueue().GetName()) <= maxNameLength, "TaskQueue length exceeds limit.")
	v.text("TaskQueue", req.GetTaskQueue().GetName())
	if v.err != nil {
		return nil, v.err
	}
	if _, err := s.e.Namespace(ctx, req.GetNamespace()); err != nil {
		return nil, namespaceErr(req.GetNamespace(), err)
	}
	key := store.TaskQueueKey{Namespace: req.GetNamespace(), Name: req.GetTaskQueue().GetName(), Kind: store.TaskActivity}
	poll := engine.PollInfo{Identity: req.GetIdentity(), Queue: key.Name}
	res, err := s.m.Poll(ctx, key, req.GetIdentity(), s.cfg.LongPollTimeout,
		func(ctx context.Context, t *store.Task) (any, error) {
			resp, err := s.e.StartActivityTask(ctx, t, poll)
			if err != nil {
				return nil, err
			}
			return resp, nil
		}, nil)
	if err != nil {
		return nil, toStatus(err)
	}
	if res == nil {
		return &workflowservice.PollActivityTaskQueueResponse{}, nil
	}
	return res.(*workflowservice.PollActivityTaskQueueResponse), nil
}

func (s *Service) activityRef(token []byte) (engine.ActivityRef, error) {
	tok, err := decodeToken(token, tasktoken.Activity)
	if err != nil {
		return engine.ActivityRef{}, err
	}
	return engine.RefFromToken(tok), nil
}

func (s *Service) activityRefByID(namespace, workflowID, runID, activityID string) (engine.ActivityRef, error) {
	v := &validator{}
	v.namespace(namespace)
	v.workflowID(workflowID)
	v.check(activityID != "", "ActivityId is not set on request.")
	if v.err != nil {
		return engine.ActivityRef{}, v.err
	}
	return engine.ActivityRef{Namespace: namespace, WorkflowID: workflowID, RunID: runID, ActivityID: activityID}, nil
}

func (s *Service) activityErr(ref engine.ActivityRef, err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) && ee.Code == engine.CodeNotFound {
		return toStatus(err)
	}
	return s.mapNS(ref.Namespace, err)
}

// activityCall runs one activity RPC: the activity named by a token or by IDs (refErr is how that
// failed), the payload-size check, then the engine operation, with the error mapped once.
func (s *Service) activityCall(ref engine.ActivityRef, refErr error, payload proto.Message, what string, op func(engine.ActivityRef) error) error {
	if refErr != nil {
		return refErr
	}
	if err := s.checkSize(payload, what); err != nil {
		return err
	}
	if err := op(ref); err != nil {
		return s.activityErr(ref, err)
	}
	return nil
}

// RespondActivityTaskCompleted records an activity result.
func (s *Service) RespondActivityTaskCompleted(ctx context.Context, req *workflowservice.RespondActivityTaskCompletedRequest) (*workflowservice.RespondActivityTaskCompletedResponse, error) {
	ref, err := s.activityRef(req.GetTaskToken())
	err = s.activityCall(ref, err, req.GetResult(), "Result", func(r engine.ActivityRef) error {
		return s.e.CompleteActivity(ctx, r, req.GetResult(), req.GetIdentity())
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RespondActivityTaskCompletedResponse{}, nil
}

// RespondActivityTaskCompletedById records an activity result by workflow and activity ID.
func (s *Service) RespondActivityTaskCompletedById(ctx context.Context, req *workflowservice.RespondActivityTaskCompletedByIdRequest) (*workflowservice.RespondActivityTaskCompletedByIdResponse, error) {
	ref, err := s.activityRefByID(req.GetNamespace(), req.GetWorkflowId(), req.GetRunId(), req.GetActivityId())
	err = s.activityCall(ref, err, req.GetResult(), "Result", func(r engine.ActivityRef) error {
		return s.e.CompleteActivity(ctx, r, req.GetResult(), req.GetIdentity())
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RespondActivityTaskCompletedByIdResponse{}, nil
}

// RespondActivityTaskFailed records a failed attempt (retried by the server if the policy allows).
func (s *Service) RespondActivityTaskFailed(ctx context.Context, req *workflowservice.RespondActivityTaskFailedRequest) (*workflowservice.RespondActivityTaskFailedResponse, error) {
	ref, err := s.activityRef(req.GetTaskToken())
	err = s.activityCall(ref, err, req.GetFailure(), "Failure", func(r engine.ActivityRef) error {
		return s.e.FailActivity(ctx, r, req.GetFailure(), req.GetLastHeartbeatDetails(), req.GetIdentity())
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RespondActivityTaskFailedResponse{}, nil
}

// RespondActivityTaskFailedById records a failed attempt by workflow and activity ID.
func (s *Service) RespondActivityTaskFailedById(ctx context.Context, req *workflowservice.RespondActivityTaskFailedByIdRequest) (*workflowservice.RespondActivityTaskFailedByIdResponse, error) {
	ref, err := s.activityRefByID(req.GetNamespace(), req.GetWorkflowId(), req.GetRunId(), req.GetActivityId())
	err = s.activityCall(ref, err, req.GetFailure(), "Failure", func(r engine.ActivityRef) error {
		return s.e.FailActivity(ctx, r, req.GetFailure(), req.GetLastHeartbeatDetails(), req.GetIdentity())
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RespondActivityTaskFailedByIdResponse{}, nil
}

// RespondActivityTaskCanceled records that an activity acknowledged cancellation.
func (s *Service) RespondActivityTaskCanceled(ctx context.Context, req *workflowservice.RespondActivityTaskCanceledRequest) (*workflowservice.RespondActivityTaskCanceledResponse, error) {
	ref, err := s.activityRef(req.GetTaskToken())
	err = s.activityCall(ref, err, req.GetDetails(), "Details", func(r engine.ActivityRef) error {
		return s.e.CancelActivity(ctx, r, req.GetDetails(), req.GetIdentity())
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RespondActivityTaskCanceledResponse{}, nil
}

// RespondActivityTaskCanceledById records a cancellation by workflow and activity ID.
func (s *Service) RespondActivityTaskCanceledById(ctx context.Context, req *workflowservice.RespondActivityTaskCanceledByIdRequest) (*workflowservice.RespondActivityTaskCanceledByIdResponse, error) {
	ref, err := s.activityRefByID(req.GetNamespace(), req.GetWorkflowId(), req.GetRunId(), req.GetActivityId())
	err = s.activityCall(ref, err, req.GetDetails(), "Details", func(r engine.ActivityRef) error {
		return s.e.CancelActivity(ctx, r, req.GetDetails(), req.GetIdentity())
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RespondActivityTaskCanceledByIdResponse{}, nil
}

// RecordActivityTaskHeartbeat records progress and reports whether cancellation was requested.
func (s *Service) RecordActivityTaskHeartbeat(ctx context.Context, req *workflowservice.RecordActivityTaskHeartbeatRequest) (*workflowservice.RecordActivityTaskHeartbeatResponse, error) {
	ref, err := s.activityRef(req.GetTaskToken())
	var cancel bool
	err = s.activityCall(ref, err, req.GetDetails(), "Details", func(r engine.ActivityRef) (err error) {
		cancel, err = s.e.HeartbeatActivity(ctx, r, req.GetDetails())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RecordActivityTaskHeartbeatResponse{CancelRequested: cancel}, nil
}

// RecordActivityTaskHeartbeatById records progress by workflow and activity ID.
func (s *Service) RecordActivityTaskHeartbeatById(ctx context.Context, req *workflowservice.RecordActivityTaskHeartbeatByIdRequest) (*workflowservice.RecordActivityTaskHeartbeatByIdResponse, error) {
	ref, err := s.activityRefByID(req.GetNamespace(), req.GetWorkflowId(), req.GetRunId(), req.GetActivityId())
	var cancel bool
	err = s.activityCall(ref, err, req.GetDetails(), "Details", func(r engine.ActivityRef) (err error) {
		cancel, err = s.e.HeartbeatActivity(ctx, r, req.GetDetails())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.RecordActivityTaskHeartbeatByIdResponse{CancelRequested: cancel}, nil
}
