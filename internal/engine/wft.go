package engine

import (
	"context"
	"errors"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/tasktoken"
)

// Temporal's history warning thresholds, past which WorkflowTaskStarted suggests continue-as-new.
const (
	DefaultHistoryWarnEvents = 10240
	DefaultHistoryWarnBytes  = 10 * 1024 * 1024
)

// PollInfo describes the poll a task is handed to.
type PollInfo struct {
	Identity  string
	RequestID string
	// Queue is the task queue name that was polled (a sticky queue or a normal one).
	Queue string
}

// errStaleTask tells matching that a task row no longer matched its execution and was dropped.
var errStaleTask = errors.New("stale task")

// IsStaleTask reports whether err means the polled task was stale or already taken (try the next
// one). Any other failure, a conflict included, leaves the row owed to a later claim.
func IsStaleTask(err error) bool {
	return errors.Is(err, errStaleTask) || errors.Is(err, store.ErrConsumed)
}

// startedWFT is what a started workflow task needs for its poll response, copied out of the
// mutable state under the lock.
type startedWFT struct {
	resp       *workflowservice.PollWorkflowTaskQueueResponse
	fromID     int64
	startedID  int64
	transient  []*historypb.HistoryEvent
	namespace  string
	runID      string
	workflowID string
}

// StartWorkflowTask claims task for a poller: it checks the row against the run's state (dropping
// it if stale), writes WorkflowTaskStarted (or keeps a transient attempt in memory), arms the task
// timeout, and returns the poll response with the history the worker needs.
func (e *Engine) StartWorkflowTask(ctx context.Context, task *store.Task, poll PollInfo) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	k := execKey{task.Namespace, task.WorkflowID, task.RunID}
	var out *startedWFT
	err := e.update(ctx, k, func(t *txn) error {
		out = nil
		ms := t.ms
		t.delTasks = []int64{task.ID}
		w := ms.WFT
		if !ms.open() || w == nil || w.started() || w.Attempt != task.Attempt || w.TaskQueue != task.Name ||
			(!w.Transient && w.ScheduledEventID != task.ScheduledEventID) {
			return nil // stale: consume the row and report it below
		}
		w.StartedTime = t.now
		w.Identity, w.RequestID = poll.Identity, poll.RequestID
		var transient []*historypb.HistoryEvent
		if w.Transient {
			w.ScheduledEventID = ms.NextEventID
			w.StartedEventID = ms.NextEventID + 1
			transient = transientEvents(ms, w, t.e.cfg)
		} else {
			ev := t.appendEvent(wftStartedEvent(ms, w, t.e.cfg))
			w.StartedEventID = ev.EventId
		}
		t.addTimer(timerWFTStartToClose, t.now.Add(ms.WorkflowTaskTimeout), w.StartedEventID, w.Attempt, "")
		from := int64(1)
		if w.Sticky && poll.Queue == ms.StickyQueue && ms.LastCompletedWFTStartedID > 0 {
			from = ms.LastCompletedWFTStartedID + 1
		}
		out = &startedWFT{
			namespace: ms.Namespace, workflowID: ms.WorkflowID, runID: ms.RunID,
			fromID: from, startedID: w.StartedEventID, transient: transient,
			resp: &workflowservice.PollWorkflowTaskQueueResponse{
				TaskToken: tasktoken.Encode(tasktoken.Token{Kind: tasktoken.Workflow, Namespace: ms.Namespace, WorkflowID: ms.WorkflowID,
					RunID: ms.RunID, EventID: w.StartedEventID, Attempt: w.Attempt}),
				WorkflowExecution:          execution(ms),
				WorkflowType:               workflowType(ms),
				PreviousStartedEventId:     ms.LastCompletedWFTStartedID,
				StartedEventId:             w.StartedEventID,
				Attempt:                    w.Attempt,
				WorkflowExecutionTaskQueue: &taskqueuepb.TaskQueue{Name: ms.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
				ScheduledTime:              timestamppb.New(w.ScheduledTime),
				StartedTime:                timestamppb.New(w.StartedTime),
			},
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errStaleTask
	}
	hist, token, err := e.readTaskHistory(ctx, out.namespace, out.workflowID, out.runID, out.fromID, out.startedID, out.transient)
	if err != nil {
		return nil, err
	}
	out.resp.History = hist
	out.resp.NextPageToken = token
	out.resp.Messages = e.pendingUpdateMessages(ctx, k, out.startedID-1)
	return out.resp, nil
}

func wftStartedEvent(ms *mutableState, w *workflowTask, cfg Config) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		EventTime: timestamppb.New(w.StartedTime),
		Attributes: &historypb.HistoryEvent_WorkflowTaskStartedEventAttributes{WorkflowTaskStartedEventAttributes: &historypb.WorkflowTaskStartedEventAttributes{
			ScheduledEventId:     w.ScheduledEventID,
			Identity:             w.Identity,
			RequestId:            w.RequestID,
			HistorySizeBytes:     ms.HistorySize,
			SuggestContinueAsNew: ms.NextEventID-1 >= int64(cfg.HistoryWarnEvents) || ms.HistorySize >= int64(cfg.HistoryWarnBytes),
		}},
	}
}

// transientEvents are the Scheduled and Started events of a transient attempt: sent to the worker,
// persisted only if the task completes.
func transientEvents(ms *mutableState, w *workflowTask, cfg Config) []*historypb.HistoryEvent {
	sched := &historypb.HistoryEvent{
		EventId:   w.ScheduledEventID,
		EventTime: timestamppb.New(w.ScheduledTime),
		EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		Attributes: &historypb.HistoryEvent_WorkflowTaskScheduledEventAttributes{WorkflowTaskScheduledEventAttributes: &historypb.WorkflowTaskScheduledEventAttributes{
			TaskQueue:           &taskqueuepb.TaskQueue{Name: ms.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			StartToCloseTimeout: durationpb.New(ms.WorkflowTaskTimeout),
			Attempt:             w.Attempt,
		}},
	}
	started := wftStartedEvent(ms, w, cfg)
	started.EventId = w.StartedEventID
	return []*historypb.HistoryEvent{sched, started}
}

// checkWFT validates a workflow task token against the run's state.
func checkWFT(ms *mutableState, tok tasktoken.Token) (*workflowTask, error) {
	if !ms.open() {
		return nil, notFound("workflow execution already completed")
	}
	w := ms.WFT
	if !w.started() || w.StartedEventID != tok.EventID || w.Attempt != tok.Attempt {
		return nil, notFound("Workflow task not found.")
	}
	return w, nil
}

// FailWorkflowTask records a worker's RespondWorkflowTaskFailed and schedules the next attempt.
func (e *Engine) FailWorkflowTask(ctx context.Context, tok tasktoken.Token, req *workflowservice.RespondWorkflowTaskFailedRequest) error {
	return e.update(ctx, execKey{tok.Namespace, tok.WorkflowID, tok.RunID}, func(t *txn) error {
		if _, err := checkWFT(t.ms, tok); err != nil {
			return err
		}
		return t.failWFT(req.GetCause(), req.GetFailure(), req.GetIdentity(), false)
	})
}

// failWFT ends the started workflow task as failed (or timed out) and schedules the next attempt
// as a transient task. Only a persisted attempt leaves an event.
func (t *txn) failWFT(cause enumspb.WorkflowTaskFailedCause, failure *failurepb.Failure, identity string, timedOut bool) error {
	ms := t.ms
	w := ms.WFT
	if !w.Transient {
		if timedOut {
			t.appendEvent(&historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
				Attributes: &historypb.HistoryEvent_WorkflowTaskTimedOutEventAttributes{WorkflowTaskTimedOutEventAttributes: &historypb.WorkflowTaskTimedOutEventAttributes{
					ScheduledEventId: w.ScheduledEventID, StartedEventId: w.StartedEventID, TimeoutType: enumspb.TIMEOUT_TYPE_START_TO_CLOSE,
				}},
			})
		} else {
			t.appendEvent(&historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
				Attributes: &historypb.HistoryEvent_WorkflowTaskFailedEventAttributes{WorkflowTaskFailedEventAttributes: &historypb.WorkflowTaskFailedEventAttributes{
					ScheduledEventId: w.ScheduledEventID, StartedEventId: w.StartedEventID, Cause: cause, Failure: failure, Identity: identity,
				}},
			})
		}
	}
	ms.WFT = nil
	// A failed task may mean the worker lost its cache: fall back to the normal queue.
	ms.StickyQueue = ""
	if err := t.flushBuffered(); err != nil {
		return err
	}
	next := w.Attempt + 1
	if cause == enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND {
		next = 1 // not the worker's fault: new events arrived; a fresh, persisted task delivers them
	}
	t.scheduleWFT(next)
	return nil
}
