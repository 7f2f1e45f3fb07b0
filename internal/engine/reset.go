package engine

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/store"
	"github.com/google/uuid"
)

// Reset starts a new run whose history is the base run's up to a workflow task, fails that task
// with cause RESET_WORKFLOW so the worker replays from there, re-applies the signals the base run
// received later, and terminates the base run if it is still open (the way teams recover from a
// bad deploy). It is idempotent by request ID.
func (e *Engine) Reset(ctx context.Context, req *workflowservice.ResetWorkflowExecutionRequest) (string, error) {
	ns := req.GetNamespace()
	if _, err := e.ns.get(ctx, ns); err != nil {
		return "", err
	}
	wid := req.GetWorkflowExecution().GetWorkflowId()
	unlock := e.locks.Lock(lockKey(ns, wid))
	defer unlock()
	baseRun, err := e.resolveRun(ctx, ns, wid, req.GetWorkflowExecution().GetRunId())
	if err != nil {
		return "", err
	}
	cur, err := e.store.GetCurrent(ctx, ns, wid)
	if err != nil {
		return "", unavailable(err)
	}
	if req.GetRequestId() != "" && cur.StartRequestID == req.GetRequestId() {
		return cur.RunID, nil // a retry of this reset
	}
	events, err := e.readEvents(ctx, ns, baseRun, 1, 0, 0)
	if err != nil {
		return "", err
	}
	finish := req.GetWorkflowTaskFinishEventId()
	if finish < 2 || finish > int64(len(events)) {
		return "", invalidArgument("WorkflowTaskFinishEventId %d is not an event of the run", finish)
	}
	switch events[finish-1].GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
	default:
		return "", invalidArgument("WorkflowTaskFinishEventId %d must name a WorkflowTaskCompleted, Failed, TimedOut or Started event", finish)
	}
	// The prefix ends at the task's WorkflowTaskStarted.
	started := finish
	if events[finish-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
		started = finish - 1
	}
	if events[started-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
		return "", invalidArgument("event %d is not preceded by its WorkflowTaskStarted", finish)
	}
	baseRec, err := e.store.GetExecution(ctx, ns, wid, baseRun)
	if err != nil {
		return "", unavailable(err)
	}
	base, err := decodeState(baseRec.State)
	if err != nil {
		return "", internal(err)
	}

	newRun := uuid.NewString()
	ms, err := rebuildState(events[:started], ns, wid, newRun, base)
	if err != nil {
		return "", err
	}
	ms.StartRequestID = req.GetRequestId()
	if ms.StartRequestID == "" {
		ms.StartRequestID = uuid.NewString()
	}
	t := e.newTxn(ms, 0)
	t.ctx = ctx
	// The new run starts now, as in Temporal (its copied WorkflowExecutionStarted keeps the
	// base's time, and so does its ExecutionTime).
	ms.StartTime = t.now
	for _, ev := range events[:started] {
		c := proto.Clone(ev).(*historypb.HistoryEvent)
		t.events = append(t.events, c)
	}
	w := ms.WFT
	t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
		Attributes: &historypb.HistoryEvent_WorkflowTaskFailedEventAttributes{WorkflowTaskFailedEventAttributes: &historypb.WorkflowTaskFailedEventAttributes{
			ScheduledEventId: w.ScheduledEventID, StartedEventId: w.StartedEventID, Cause: enumspb.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
			Failure:   &failurepb.Failure{Message: req.GetReason()},
			Identity:  "duro-reset",
			BaseRunId: baseRun, NewRunId: newRun,
		}},
	})
	ms.WFT = nil
	// Re-dispatch what was pending at the reset point: activities from attempt 1, timers at their
	// original fire time (at once if that has passed).
	for _, ai := range ms.Activities {
		ai.Attempt, ai.Started = 1, false
		ai.FirstScheduledTime, ai.CurrentAttemptScheduledTime = t.now, t.now
		t.dispatchActivity(ai)
		if ai.ScheduleToClose > 0 {
			t.addTimer(timerActivityScheduleToClose, t.now.Add(ai.ScheduleToClose), ai.ScheduledEventID, 0, "")
		}
	}
	for _, ti := range ms.Timers {
		t.addTimer(timerUser, ti.FireTime, ti.StartedEventID, 0, ti.TimerID)
	}
	if reapply := req.GetResetReapplyType(); reapply != enumspb.RESET_REAPPLY_TYPE_NONE {
		for _, ev := range events[started:] {
			if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
				t.appendEvent(&historypb.HistoryEvent{
					EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
					Attributes: &historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes{WorkflowExecutionSignaledEventAttributes: &historypb.WorkflowExecutionSignaledEventAttributes{
						SignalName: a.GetSignalName(), Input: a.GetInput(), Identity: a.GetIdentity(), Header: a.GetHeader(),
					}},
				})
				ms.SignalCount++
			}
		}
	}
	t.scheduleWFT(1)
	if ms.RunTimeout > 0 {
		t.addTimer(timerWorkflowRun, t.now.Add(ms.RunTimeout), 0, 0, "")
	}
	if !ms.ExecutionExpiration.IsZero() {
		t.addTimer(timerWorkflowExecution, ms.ExecutionExpiration, 0, 0, "")
	}

	if base.open() && cur.RunID == baseRun {
		if err := e.terminateLocked(ctx, execKey{ns, wid, baseRun}, "reset: "+req.GetReason(), nil, "duro-reset"); err != nil {
			return "", err
		}
	}
	t.current = &store.CurrentUpdate{ExpectedRunID: cur.RunID, Current: store.Current{
		Namespace: ns, WorkflowID: wid, RunID: newRun, Status: ms.Status, StartRequestID: ms.StartRequestID, StartTime: ms.StartTime,
	}}
	if err := e.commitTxn(t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return "", unavailable(fmt.Errorf("reset raced with another change of workflow %s; retry", wid))
		}
		return "", err
	}
	return newRun, nil
}

// rebuildState derives the mutable state of a run from a history prefix ending at a
// WorkflowTaskStarted: what is pending at that point (activities, timers), and the task itself.
func rebuildState(events []*historypb.HistoryEvent, ns, wid, runID string, base *mutableState) (*mutableState, error) {
	wes := events[0].GetWorkflowExecutionStartedEventAttributes()
	if wes == nil {
		return nil, invalidArgument("the run's history does not start with WorkflowExecutionStarted")
	}
	spec := runSpec{
		Namespace: ns, WorkflowID: wid, RunID: runID, FirstRunID: base.FirstRunID, WorkflowType: wes.GetWorkflowType(),
		TaskQueue: wes.GetTaskQueue().GetName(), Memo: wes.GetMemo(), SearchAttributes: wes.GetSearchAttributes(),
		RetryPolicy: wes.GetRetryPolicy(), CronSchedule: wes.GetCronSchedule(), ExecutionTimeout: wes.GetWorkflowExecutionTimeout().AsDuration(),
		RunTimeout: wes.GetWorkflowRunTimeout().AsDuration(), TaskTimeout: wes.GetWorkflowTaskTimeout().AsDuration(),
		Attempt: wes.GetAttempt(), Parent: base.Parent, Header: wes.GetHeader(),
	}
	ms := newRunState(spec)
	ms.StartTime, ms.ExecutionTime = base.StartTime, base.ExecutionTime
	ms.ExecutionExpiration = base.ExecutionExpiration
	ms.NextEventID = int64(len(events)) + 1
	ms.Activities = map[int64]*activityInfo{}
	ms.Timers = map[string]*timerInfo{}
	for _, ev := range events {
		switch a := ev.Attributes.(type) {
		case *historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes:
			ms.WFT = &workflowTask{ScheduledEventID: ev.EventId, Attempt: 1, TaskQueue: ms.TaskQueue, ScheduledTime: ev.GetEventTime().AsTime()}
		case *historypb.HistoryEvent_WorkflowTaskStartedEventAttributes:
			if ms.WFT != nil {
				ms.WFT.StartedEventID = ev.EventId
			}
		case *historypb.HistoryEvent_WorkflowTaskCompletedEventAttributes:
			ms.LastCompletedWFTStartedID = a.WorkflowTaskCompletedEventAttributes.GetStartedEventId()
			ms.WFT = nil
		case *historypb.HistoryEvent_WorkflowTaskFailedEventAttributes, *historypb.HistoryEvent_WorkflowTaskTimedOutEventAttributes:
			ms.WFT = nil
		case *historypb.HistoryEvent_ActivityTaskScheduledEventAttributes:
			sa := a.ActivityTaskScheduledEventAttributes
			raw, _ := proto.Marshal(sa)
			rp := normalizeRetryPolicy(sa.GetRetryPolicy())
			ms.Activities[ev.EventId] = &activityInfo{
				ScheduledEventID: ev.EventId, ActivityID: sa.GetActivityId(), ActivityType: sa.GetActivityType().GetName(),
				TaskQueue: sa.GetTaskQueue().GetName(), Attrs: raw, ScheduleToClose: sa.GetScheduleToCloseTimeout().AsDuration(),
				ScheduleToStart: sa.GetScheduleToStartTimeout().AsDuration(), StartToClose: sa.GetStartToCloseTimeout().AsDuration(),
				Heartbeat: sa.GetHeartbeatTimeout().AsDuration(), Attempt: 1,
				RetryInitial: rp.GetInitialInterval().AsDuration(), RetryCoefficient: rp.GetBackoffCoefficient(),
				RetryMaximum: rp.GetMaximumInterval().AsDuration(), RetryMaxAttempts: rp.GetMaximumAttempts(), NonRetryable: rp.GetNonRetryableErrorTypes(),
			}
		case *historypb.HistoryEvent_ActivityTaskCompletedEventAttributes:
			delete(ms.Activities, a.ActivityTaskCompletedEventAttributes.GetScheduledEventId())
		case *historypb.HistoryEvent_ActivityTaskFailedEventAttributes:
			delete(ms.Activities, a.ActivityTaskFailedEventAttributes.GetScheduledEventId())
		case *historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes:
			delete(ms.Activities, a.ActivityTaskTimedOutEventAttributes.GetScheduledEventId())
		case *historypb.HistoryEvent_ActivityTaskCanceledEventAttributes:
			delete(ms.Activities, a.ActivityTaskCanceledEventAttributes.GetScheduledEventId())
		case *historypb.HistoryEvent_ActivityTaskCancelRequestedEventAttributes:
			if ai := ms.Activities[a.ActivityTaskCancelRequestedEventAttributes.GetScheduledEventId()]; ai != nil {
				ai.CancelRequested = true
			}
		case *historypb.HistoryEvent_TimerStartedEventAttributes:
			ts := a.TimerStartedEventAttributes
			ms.Timers[ts.GetTimerId()] = &timerInfo{TimerID: ts.GetTimerId(), StartedEventID: ev.EventId,
				FireTime: ev.GetEventTime().AsTime().Add(ts.GetStartToFireTimeout().AsDuration())}
		case *historypb.HistoryEvent_TimerFiredEventAttributes:
			delete(ms.Timers, a.TimerFiredEventAttributes.GetTimerId())
		case *historypb.HistoryEvent_TimerCanceledEventAttributes:
			delete(ms.Timers, a.TimerCanceledEventAttributes.GetTimerId())
		case *historypb.HistoryEvent_WorkflowExecutionSignaledEventAttributes:
			ms.SignalCount++
		case *historypb.HistoryEvent_WorkflowExecutionCancelRequestedEventAttributes:
			ms.CancelRequested = true
		case *historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes:
			merged, err := mergeSearchAttributes(ms.SearchAttributes, a.UpsertWorkflowSearchAttributesEventAttributes.GetSearchAttributes())
			if err != nil {
				return nil, err
			}
			ms.SearchAttributes = merged
		case *historypb.HistoryEvent_WorkflowPropertiesModifiedEventAttributes:
			merged, err := mergeMemo(ms.Memo, a.WorkflowPropertiesModifiedEventAttributes.GetUpsertedMemo())
			if err != nil {
				return nil, err
			}
			ms.Memo = merged
		case *historypb.HistoryEvent_StartChildWorkflowExecutionInitiatedEventAttributes,
			*historypb.HistoryEvent_SignalExternalWorkflowExecutionInitiatedEventAttributes,
			*historypb.HistoryEvent_RequestCancelExternalWorkflowExecutionInitiatedEventAttributes:
			// Cross-workflow effects already happened in the base run; Temporal's reset does not
			// redo them either (a pending one would fail the reset there; here it stays undone).
		}
	}
	if !ms.WFT.started() {
		return nil, invalidArgument("the reset point is not a started workflow task")
	}
	return ms, nil
}
