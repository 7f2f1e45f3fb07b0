package engine

import (
	"context"
	"errors"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/duro-dev/duro/internal/store"
)

func (t *txn) startTimer(a *commandpb.StartTimerCommandAttributes, wtcID int64) error {
	const cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES
	if a.GetTimerId() == "" || hasNUL(a.GetTimerId()) {
		return badCommand(cause, "TimerId is not set on StartTimerCommand, or contains a NUL character.")
	}
	d := a.GetStartToFireTimeout().AsDuration()
	if d <= 0 {
		return badCommand(cause, "A valid StartToFireTimeout is not set on StartTimerCommand.")
	}
	if _, dup := t.ms.Timers[a.GetTimerId()]; dup {
		return badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_START_TIMER_DUPLICATE_ID, "Timer ID %q is already in use by a pending timer.", a.GetTimerId())
	}
	ev := t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_TIMER_STARTED,
		Attributes: &historypb.HistoryEvent_TimerStartedEventAttributes{TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{
			TimerId: a.GetTimerId(), StartToFireTimeout: a.GetStartToFireTimeout(), WorkflowTaskCompletedEventId: wtcID,
		}},
	})
	ti := &timerInfo{TimerID: a.GetTimerId(), StartedEventID: ev.EventId, FireTime: t.now.Add(d)}
	if t.ms.Timers == nil {
		t.ms.Timers = map[string]*timerInfo{}
	}
	t.ms.Timers[ti.TimerID] = ti
	t.addTimer(timerUser, ti.FireTime, ti.StartedEventID, 0, ti.TimerID)
	return nil
}

func (t *txn) cancelTimer(a *commandpb.CancelTimerCommandAttributes, wtcID int64) error {
	ti := t.ms.Timers[a.GetTimerId()]
	if ti == nil {
		return badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES, "no pending timer with ID %q", a.GetTimerId())
	}
	delete(t.ms.Timers, ti.TimerID)
	t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_TIMER_CANCELED,
		Attributes: &historypb.HistoryEvent_TimerCanceledEventAttributes{TimerCanceledEventAttributes: &historypb.TimerCanceledEventAttributes{
			TimerId: ti.TimerID, StartedEventId: ti.StartedEventID, WorkflowTaskCompletedEventId: wtcID,
		}},
	})
	return nil
}

// FireTimer handles a due timer row: it checks the row against the run's state and applies what it
// stands for (a user timer firing, an activity or workflow-task timeout, a retry, a run timeout).
// The row is consumed in the same transition, so a timer fires once however many nodes see it.
func (e *Engine) FireTimer(ctx context.Context, row store.Timer) error {
	if row.Kind == timerRetention {
		return e.fireRetention(ctx, row)
	}
	err := e.update(ctx, execKey{row.Namespace, row.WorkflowID, row.RunID}, func(t *txn) error {
		if !t.ms.open() {
			// A closed run's rows were all dropped by its closing transition: this one is gone.
			return errNoChange
		}
		t.delTimers = []int64{row.ID}
		return t.fire(row)
	})
	var ee *Error
	if errors.As(err, &ee) && ee.Code == CodeNotFound {
		return nil // the run is gone (deleted): nothing left to fire
	}
	if errors.Is(err, store.ErrConsumed) {
		return nil // another node fired the row first
	}
	return err
}

func (t *txn) fire(row store.Timer) error {
	ms := t.ms
	switch row.Kind {
	case timerUser:
		ti := ms.Timers[string(row.Data)]
		if ti == nil || ti.StartedEventID != row.EventID {
			return nil
		}
		delete(ms.Timers, ti.TimerID)
		return t.externalEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_TIMER_FIRED,
			Attributes: &historypb.HistoryEvent_TimerFiredEventAttributes{TimerFiredEventAttributes: &historypb.TimerFiredEventAttributes{
				TimerId: ti.TimerID, StartedEventId: ti.StartedEventID,
			}},
		})
	case timerActivityScheduleToStart:
		ai := ms.Activities[row.EventID]
		if ai == nil || ai.Started || ai.Attempt != row.Attempt {
			return nil
		}
		return t.timeoutActivity(ai, enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START)
	case timerActivityScheduleToClose:
		ai := ms.Activities[row.EventID]
		if ai == nil {
			return nil
		}
		return t.timeoutActivity(ai, enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE)
	case timerActivityStartToClose:
		ai := ms.Activities[row.EventID]
		if ai == nil || !ai.Started || ai.Attempt != row.Attempt {
			return nil
		}
		return t.timeoutActivity(ai, enumspb.TIMEOUT_TYPE_START_TO_CLOSE)
	case timerActivityHeartbeat:
		ai := ms.Activities[row.EventID]
		if ai == nil || !ai.Started || ai.Attempt != row.Attempt || ai.Heartbeat <= 0 {
			return nil
		}
		last := ai.StartedTime
		if ai.LastHeartbeat.After(last) {
			last = ai.LastHeartbeat
		}
		if due := last.Add(ai.Heartbeat); t.now.Before(due) {
			// Heartbeats arrived: re-arm lazily instead of writing a timer on every heartbeat.
			t.addTimer(timerActivityHeartbeat, due, ai.ScheduledEventID, ai.Attempt, "")
			return nil
		}
		return t.timeoutActivity(ai, enumspb.TIMEOUT_TYPE_HEARTBEAT)
	case timerActivityRetry:
		ai := ms.Activities[row.EventID]
		if ai == nil || ai.Started || ai.Attempt != row.Attempt {
			return nil
		}
		ai.CurrentAttemptScheduledTime = t.now
		t.dispatchActivity(ai)
		return nil
	case timerWFTStartToClose:
		w := ms.WFT
		if !w.started() || w.StartedEventID != row.EventID || w.Attempt != row.Attempt {
			return nil
		}
		return t.failWFT(enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED, nil, "", true)
	case timerStickyScheduleToStart:
		w := ms.WFT
		if w == nil || w.started() || !w.Sticky || w.ScheduledEventID != row.EventID || w.Attempt != row.Attempt {
			return nil
		}
		// The sticky worker did not pick the task up in time: it may be gone. Any worker can take
		// it from the normal queue, with the full history.
		w.Sticky, w.TaskQueue = false, ms.TaskQueue
		ms.StickyQueue = ""
		t.addTask(store.TaskWorkflow, w.TaskQueue, w.ScheduledEventID, w.Attempt)
		return nil
	case timerStartDelay:
		if ms.WFT == nil && ms.LastCompletedWFTStartedID == 0 {
			t.scheduleWFT(1)
		}
		return nil
	case timerWorkflowRun:
		return t.timeoutWorkflow(true)
	case timerWorkflowExecution:
		return t.timeoutWorkflow(false)
	}
	return nil
}

// timeoutWorkflow closes the run with WorkflowExecutionTimedOut. A run timeout may be retried
// (or followed by the next cron run); the execution timeout ends the whole chain.
func (t *txn) timeoutWorkflow(runTimeout bool) error {
	t.ms.WFT = nil
	if err := t.flushBuffered(); err != nil {
		return err
	}
	var next *runSpec
	state := enumspb.RETRY_STATE_TIMEOUT
	if runTimeout {
		failure := &failurepb.Failure{Message: "workflow run timed out", FailureInfo: &failurepb.Failure_TimeoutFailureInfo{
			TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: enumspb.TIMEOUT_TYPE_START_TO_CLOSE}}}
		var err error
		if next, state, err = t.successor(failure, true, nil); err != nil {
			return err
		}
		if state == enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET {
			state = enumspb.RETRY_STATE_TIMEOUT
		}
	}
	ev := t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes{WorkflowExecutionTimedOutEventAttributes: &historypb.WorkflowExecutionTimedOutEventAttributes{
			RetryState: state, NewExecutionRunId: nextRunID(next),
		}},
	})
	t.closeWithSuccessor(enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, ev.EventId, next)
	return nil
}

// ReleaseStickyQueue moves the workflow tasks waiting on a worker's sticky queue back to their
// normal queues, so they need not wait out the sticky schedule-to-start timeout once that worker has
// said it is shutting down. Each move is a transition that consumes the sticky row and writes a
// normal one.
func (e *Engine) ReleaseStickyQueue(ctx context.Context, namespace, stickyQueue string) error {
	key := store.TaskQueueKey{Namespace: namespace, Name: stickyQueue, Kind: store.TaskWorkflow}
	rows, err := e.store.ListTasks(ctx, key, e.clock.Now().Add(time.Hour), 1000)
	if err != nil {
		return unavailable(err)
	}
	for _, row := range rows {
		err := e.update(ctx, execKey{row.Namespace, row.WorkflowID, row.RunID}, func(t *txn) error {
			ms := t.ms
			t.delTasks = []int64{row.ID}
			w := ms.WFT
			if ms.StickyQueue == stickyQueue {
				ms.StickyQueue = ""
			}
			if !ms.open() || w == nil || w.started() || !w.Sticky || w.TaskQueue != stickyQueue || w.Attempt != row.Attempt {
				return nil
			}
			w.Sticky, w.TaskQueue = false, ms.TaskQueue
			t.addTask(store.TaskWorkflow, w.TaskQueue, w.ScheduledEventID, w.Attempt)
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, errExecutionGone) {
			return err
		}
	}
	return nil
}
