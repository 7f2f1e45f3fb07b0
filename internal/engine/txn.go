package engine

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/store"
)

// Timer kinds stored in store.Timer.Kind.
const (
	timerUser int32 = iota + 1
	timerActivityScheduleToStart
	timerActivityScheduleToClose
	timerActivityStartToClose
	timerActivityHeartbeat
	timerActivityRetry
	timerWFTStartToClose
	timerStickyScheduleToStart
	timerWorkflowRun
	timerWorkflowExecution
	timerStartDelay
	timerRetention
)

// txn accumulates one transition of one run: the events it appends, the rows it adds and consumes,
// and what to do once it has committed.
type txn struct {
	e *Engine
	// ctx is the calling request's context, for reads only (writes commit on the committer's).
	ctx     context.Context
	ms      *mutableState
	now     time.Time
	version int64 // version read; 0 for a new execution

	events    []*historypb.HistoryEvent
	tasks     []*store.Task
	timers    []*store.Timer
	delTasks  []int64
	delTimers []int64
	drop      bool
	current   *store.CurrentUpdate

	// wftNeeded asks for a workflow task to be scheduled at the end of the transition.
	wftNeeded bool
	after     []func()
	// linked transitions commit atomically with this one (the next run of a continue-as-new).
	linked []*txn
	// msgs are the protocol messages of the workflow task being completed, by message ID.
	msgs map[string]*protocolpb.Message
	// sfnStarted are the Step Functions task activities a worker took in this transition.
	sfnStarted []sfnTaskStart
}

func (e *Engine) newTxn(ms *mutableState, version int64) *txn {
	return &txn{e: e, ctx: context.Background(), ms: ms, version: version, now: e.clock.Now().UTC()}
}

// appendEvent gives ev the next event ID and the transition's time and appends it to history.
func (t *txn) appendEvent(ev *historypb.HistoryEvent) *historypb.HistoryEvent {
	ev.EventId = t.ms.NextEventID
	t.ms.NextEventID++
	if ev.EventTime == nil {
		ev.EventTime = timestamppb.New(t.now)
	}
	t.events = append(t.events, ev)
	return ev
}

// placeholderStartedID marks, in a buffered activity close event, "the ActivityTaskStarted event
// just before me": its ID is only known when the buffer is flushed.
const placeholderStartedID = -1

// externalEvent records an event that no command of the current workflow task produced (a signal,
// an activity or timer outcome): while a workflow task is started it is buffered and written after
// that task's completion, otherwise it is appended now. Either way a workflow task is needed.
func (t *txn) externalEvent(ev *historypb.HistoryEvent) error {
	t.wftNeeded = true
	if t.ms.WFT.started() {
		ev.EventTime = timestamppb.New(t.now)
		b, err := proto.Marshal(ev)
		if err != nil {
			return fmt.Errorf("buffer event: %w", err)
		}
		t.ms.Buffered = append(t.ms.Buffered, b)
		return nil
	}
	t.appendEvent(ev)
	return nil
}

// flushBuffered writes the buffered events after the current task's events, fixing up the started
// event IDs that were not known when they were buffered.
func (t *txn) flushBuffered() error {
	if len(t.ms.Buffered) == 0 {
		return nil
	}
	lastStarted := int64(0)
	for _, b := range t.ms.Buffered {
		ev := &historypb.HistoryEvent{}
		if err := proto.Unmarshal(b, ev); err != nil {
			return fmt.Errorf("decode buffered event: %w", err)
		}
		fixStartedID(ev, lastStarted)
		t.appendEvent(ev)
		switch ev.EventType {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			lastStarted = ev.EventId
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
			if ci := t.ms.Children[ev.GetChildWorkflowExecutionStartedEventAttributes().GetInitiatedEventId()]; ci != nil {
				ci.StartedEventID = ev.EventId
			}
		}
	}
	t.ms.Buffered = nil
	t.wftNeeded = true
	return nil
}

func fixStartedID(ev *historypb.HistoryEvent, started int64) {
	switch a := ev.Attributes.(type) {
	case *historypb.HistoryEvent_ActivityTaskCompletedEventAttributes:
		if a.ActivityTaskCompletedEventAttributes.StartedEventId == placeholderStartedID {
			a.ActivityTaskCompletedEventAttributes.StartedEventId = started
		}
	case *historypb.HistoryEvent_ActivityTaskFailedEventAttributes:
		if a.ActivityTaskFailedEventAttributes.StartedEventId == placeholderStartedID {
			a.ActivityTaskFailedEventAttributes.StartedEventId = started
		}
	case *historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes:
		if a.ActivityTaskTimedOutEventAttributes.StartedEventId == placeholderStartedID {
			a.ActivityTaskTimedOutEventAttributes.StartedEventId = started
		}
	case *historypb.HistoryEvent_ActivityTaskCanceledEventAttributes:
		if a.ActivityTaskCanceledEventAttributes.StartedEventId == placeholderStartedID {
			a.ActivityTaskCanceledEventAttributes.StartedEventId = started
		}
	}
}

func (t *txn) addTask(kind store.TaskKind, queue string, scheduledEventID int64, attempt int32) {
	t.tasks = append(t.tasks, &store.Task{
		TaskQueueKey:     store.TaskQueueKey{Namespace: t.ms.Namespace, Name: queue, Kind: kind},
		WorkflowID:       t.ms.WorkflowID,
		RunID:            t.ms.RunID,
		ScheduledEventID: scheduledEventID,
		Attempt:          attempt,
		CreatedAt:        t.now,
		VisibleAt:        t.now,
	})
}

func (t *txn) addTimer(kind int32, at time.Time, eventID int64, attempt int32, data string) {
	t.timers = append(t.timers, &store.Timer{
		FireAt:     at,
		Namespace:  t.ms.Namespace,
		WorkflowID: t.ms.WorkflowID,
		RunID:      t.ms.RunID,
		Kind:       kind,
		EventID:    eventID,
		Attempt:    attempt,
		Data:       []byte(data),
	})
}

// scheduleWFT schedules a workflow task. Attempt 1 is persisted; later attempts are transient.
func (t *txn) scheduleWFT(attempt int32) {
	ms := t.ms
	w := &workflowTask{Attempt: attempt, TaskQueue: ms.TaskQueue, ScheduledTime: t.now}
	if attempt <= 1 {
		w.Attempt = 1
		if ms.StickyQueue != "" {
			w.TaskQueue, w.Sticky = ms.StickyQueue, true
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			Attributes: &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{
				TaskQueue:           &taskqueuepb.TaskQueue{Name: ms.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
				StartToCloseTimeout: durationpb.New(ms.WorkflowTaskTimeout),
				Attempt:             1,
			}},
		})
		w.ScheduledEventID = ev.EventId
	} else {
		w.Transient = true
	}
	ms.WFT = w
	t.addTask(store.TaskWorkflow, w.TaskQueue, w.ScheduledEventID, w.Attempt)
	if w.Sticky {
		timeout := ms.StickyScheduleToStart
		if timeout <= 0 {
			timeout = 5 * time.Second
		}
		t.addTimer(timerStickyScheduleToStart, t.now.Add(timeout), w.ScheduledEventID, w.Attempt, "")
	}
}

// build turns the transition into the store's form and bumps the record version.
func (t *txn) build() (*store.Transition, error) {
	ms := t.ms
	if t.wftNeeded && ms.open() && ms.WFT == nil && ms.SFN == nil {
		t.scheduleWFT(1)
	}
	events := make([]store.Event, 0, len(t.events))
	encode := func(from int) error {
		for _, ev := range t.events[from:] {
			b, err := proto.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode event %d: %w", ev.EventId, err)
			}
			events = append(events, store.Event{EventID: ev.EventId, Data: b})
			ms.HistorySize += int64(len(b))
		}
		return nil
	}
	if err := encode(0); err != nil {
		return nil, err
	}
	if n := len(t.events); ms.open() {
		t.enforceHistoryLimits()
		if err := encode(n); err != nil {
			return nil, err
		}
	}
	state, err := ms.encode()
	if err != nil {
		return nil, err
	}
	var linked []*store.Transition
	for _, l := range t.linked {
		lt, err := l.build()
		if err != nil {
			return nil, err
		}
		linked = append(linked, lt)
	}
	return &store.Transition{
		Linked:          linked,
		ExpectedVersion: t.version,
		Execution: store.Execution{
			Namespace:        ms.Namespace,
			WorkflowID:       ms.WorkflowID,
			RunID:            ms.RunID,
			Version:          t.version + 1,
			State:            state,
			WorkflowType:     ms.WorkflowType,
			TaskQueue:        ms.TaskQueue,
			Status:           ms.Status,
			StartTime:        ms.StartTime,
			ExecutionTime:    ms.ExecutionTime,
			CloseTime:        ms.CloseTime,
			HistoryLength:    ms.NextEventID - 1,
			Memo:             ms.Memo,
			SearchAttributes: ms.SearchAttributes,
			Search:           t.searchValues(),
		},
		Current:               t.current,
		Events:                events,
		NewTasks:              t.tasks,
		NewTimers:             t.timers,
		DeleteTasks:           t.delTasks,
		DeleteTimers:          t.delTimers,
		DropRunTasksAndTimers: t.drop,
	}, nil
}

// closeRun marks the run closed with status and the close event already appended.
func (t *txn) closeRun(status enumspb.WorkflowExecutionStatus, closeEventID int64) {
	ms := t.ms
	ms.Status = int32(status)
	ms.CloseTime = t.now
	ms.CompletionEventID = closeEventID
	ms.WFT = nil
	ms.Activities = nil
	ms.Timers = nil
	ms.StickyQueue = ""
	t.drop = true
	t.tasks = nil
	t.timers = nil
	t.wftNeeded = false
	expected := ms.RunID
	if t.version == 0 && t.current != nil {
		// The run is created by this very transition (a state machine that ends in its first
		// step): the pointer still moves from whatever it pointed at before.
		expected = t.current.ExpectedRunID
	}
	t.current = &store.CurrentUpdate{ExpectedRunID: expected, Current: store.Current{
		Namespace: ms.Namespace, WorkflowID: ms.WorkflowID, RunID: ms.RunID, Status: ms.Status,
		StartRequestID: ms.StartRequestID, StartTime: ms.StartTime,
	}}
	t.onClose(status)
	t.armRetention()
	k := execKey{ms.Namespace, ms.WorkflowID, ms.RunID}
	t.after = append(t.after, func() { t.e.updates.closeRun(k) })
}
