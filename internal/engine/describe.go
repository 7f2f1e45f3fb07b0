package engine

import (
	"context"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/store"
)

func execution(ms *mutableState) *commonpb.WorkflowExecution {
	return &commonpb.WorkflowExecution{WorkflowId: ms.WorkflowID, RunId: ms.RunID}
}

func workflowType(ms *mutableState) *commonpb.WorkflowType {
	return &commonpb.WorkflowType{Name: ms.WorkflowType}
}

func historyOf(events []*historypb.HistoryEvent) *historypb.History {
	return &historypb.History{Events: events}
}

func tsOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// executionInfo builds the visibility view of an execution record.
func executionInfo(rec *store.Execution) *workflowpb.WorkflowExecutionInfo {
	info := &workflowpb.WorkflowExecutionInfo{
		Execution:     &commonpb.WorkflowExecution{WorkflowId: rec.WorkflowID, RunId: rec.RunID},
		Type:          &commonpb.WorkflowType{Name: rec.WorkflowType},
		StartTime:     timestamppb.New(rec.StartTime),
		CloseTime:     tsOrNil(rec.CloseTime),
		Status:        enumspb.WorkflowExecutionStatus(rec.Status),
		HistoryLength: rec.HistoryLength,
		ExecutionTime: tsOrNil(rec.ExecutionTime),
		TaskQueue:     rec.TaskQueue,
	}
	if !rec.CloseTime.IsZero() {
		info.ExecutionDuration = durationpb.New(rec.CloseTime.Sub(rec.ExecutionTime))
	}
	if len(rec.Memo) > 0 {
		m := &commonpb.Memo{}
		if proto.Unmarshal(rec.Memo, m) == nil {
			info.Memo = m
		}
	}
	if len(rec.SearchAttributes) > 0 {
		sa := &commonpb.SearchAttributes{}
		if proto.Unmarshal(rec.SearchAttributes, sa) == nil {
			info.SearchAttributes = sa
		}
	}
	return info
}

// Describe serves DescribeWorkflowExecution.
func (e *Engine) Describe(ctx context.Context, namespace, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if _, err := e.ns.get(ctx, namespace); err != nil {
		return nil, err
	}
	runID, err := e.resolveRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return nil, err
	}
	rec, err := e.store.GetExecution(ctx, namespace, workflowID, runID)
	if err != nil {
		if isNotFound(err) {
			return nil, notFound("workflow execution not found: workflow ID %q, run ID %q", workflowID, runID)
		}
		return nil, unavailable(err)
	}
	ms, err := decodeState(rec.State)
	if err != nil {
		return nil, internal(err)
	}
	info := executionInfo(rec)
	info.HistorySizeBytes = ms.HistorySize
	info.FirstRunId = ms.FirstRunID
	resp := &workflowservice.DescribeWorkflowExecutionResponse{
		ExecutionConfig: &workflowpb.WorkflowExecutionConfig{
			TaskQueue:                  &taskqueuepb.TaskQueue{Name: ms.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			WorkflowExecutionTimeout:   durationpb.New(ms.ExecutionTimeout),
			WorkflowRunTimeout:         durationpb.New(ms.RunTimeout),
			DefaultWorkflowTaskTimeout: durationpb.New(ms.WorkflowTaskTimeout),
		},
		WorkflowExecutionInfo: info,
	}
	for _, ai := range ms.Activities {
		pa := &workflowpb.PendingActivityInfo{
			ActivityId:         ai.ActivityID,
			ActivityType:       &commonpb.ActivityType{Name: ai.ActivityType},
			State:              enumspb.PENDING_ACTIVITY_STATE_SCHEDULED,
			Attempt:            ai.Attempt,
			MaximumAttempts:    ai.RetryMaxAttempts,
			ScheduledTime:      tsOrNil(ai.CurrentAttemptScheduledTime),
			LastStartedTime:    tsOrNil(ai.StartedTime),
			LastHeartbeatTime:  tsOrNil(ai.LastHeartbeat),
			LastWorkerIdentity: ai.StartedIdentity,
		}
		if ai.Started {
			pa.State = enumspb.PENDING_ACTIVITY_STATE_STARTED
		}
		if ai.CancelRequested {
			pa.State = enumspb.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
		}
		if len(ai.HeartbeatDetails) > 0 {
			pa.HeartbeatDetails = &commonpb.Payloads{}
			_ = proto.Unmarshal(ai.HeartbeatDetails, pa.HeartbeatDetails)
		}
		if len(ai.LastFailure) > 0 {
			pa.LastFailure = &failurepb.Failure{}
			_ = proto.Unmarshal(ai.LastFailure, pa.LastFailure)
		}
		resp.PendingActivities = append(resp.PendingActivities, pa)
	}
	if w := ms.WFT; w != nil {
		pw := &workflowpb.PendingWorkflowTaskInfo{
			State:         enumspb.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
			ScheduledTime: tsOrNil(w.ScheduledTime),
			Attempt:       w.Attempt,
		}
		if w.started() {
			pw.State = enumspb.PENDING_WORKFLOW_TASK_STATE_STARTED
			pw.StartedTime = tsOrNil(w.StartedTime)
		}
		resp.PendingWorkflowTask = pw
	}
	return resp, nil
}

// ListWorkflows serves the basic ListWorkflowExecutions: a namespace's executions, newest first,
// optionally filtered, with keyset paging.
func (e *Engine) ListWorkflows(ctx context.Context, f store.ExecutionFilter) ([]*workflowpb.WorkflowExecutionInfo, *store.ListPosition, error) {
	if _, err := e.ns.get(ctx, f.Namespace); err != nil {
		return nil, nil, err
	}
	rows, err := e.store.ListExecutions(ctx, f)
	if err != nil {
		return nil, nil, unavailable(err)
	}
	out := make([]*workflowpb.WorkflowExecutionInfo, len(rows))
	for i := range rows {
		out[i] = executionInfo(&rows[i])
	}
	var next *store.ListPosition
	if f.PageSize > 0 && len(rows) == f.PageSize {
		last := rows[len(rows)-1]
		next = &store.ListPosition{StartTime: last.StartTime, RunID: last.RunID}
	}
	return out, next, nil
}

// CountWorkflows serves CountWorkflowExecutions.
func (e *Engine) CountWorkflows(ctx context.Context, f store.ExecutionFilter) (int64, error) {
	if _, err := e.ns.get(ctx, f.Namespace); err != nil {
		return 0, err
	}
	n, err := e.store.CountExecutions(ctx, f)
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}

// Backlog counts a task queue's waiting task rows (stale rows included: it is a hint, as in Temporal).
func (e *Engine) Backlog(ctx context.Context, queue store.TaskQueueKey) (int64, error) {
	n, err := e.store.CountTasks(ctx, queue)
	if err != nil {
		return 0, unavailable(err)
	}
	return n, nil
}
