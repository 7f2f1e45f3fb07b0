package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/asl/jsonv"
	"github.com/duro-dev/duro/internal/store"
)

// SFNExecution is what DescribeExecution and DescribeStateMachineForExecution show of a Step
// Functions execution.
type SFNExecution struct {
	WorkflowID, RunID string
	Status            enumspb.WorkflowExecutionStatus
	StartTime         time.Time
	CloseTime         time.Time // zero while running
	ExecutionArn      string
	StateMachineArn   string
	Name              string
	Definition        string
	RoleArn           string
	VersionArn        string
	Input             string
	// Output is set when the execution succeeded.
	Output *string
	// Error and Cause are those of a failed, timed-out or aborted execution.
	Error, Cause string
	// HistoryLength is the number of Temporal events (an upper bound for paging).
	HistoryLength int64
}

// DescribeStateMachineExecution reads a Step Functions execution (the current run of workflowID,
// or runID). CodeNotFound if there is none, or it is not a Step Functions execution.
func (e *Engine) DescribeStateMachineExecution(ctx context.Context, namespace, workflowID, runID string) (*SFNExecution, error) {
	runID, err := e.resolveRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return nil, err
	}
	rec, err := e.store.GetExecution(ctx, namespace, workflowID, runID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("execution not found")
		}
		return nil, unavailable(fmt.Errorf("read execution: %w", err))
	}
	ms, err := decodeState(rec.State)
	if err != nil {
		return nil, internal(err)
	}
	if ms.SFN == nil {
		return nil, notFound("workflow %q is not a Step Functions execution", workflowID)
	}
	out := &SFNExecution{
		WorkflowID: workflowID, RunID: runID, Status: enumspb.WorkflowExecutionStatus(ms.Status),
		StartTime: ms.StartTime, CloseTime: ms.CloseTime, ExecutionArn: ms.SFN.ExecutionArn,
		StateMachineArn: ms.SFN.StateMachineArn, Name: ms.SFN.Name, HistoryLength: ms.NextEventID - 1,
	}
	first, err := e.readEvents(ctx, namespace, runID, 1, 3, 0)
	if err != nil {
		return nil, err
	}
	for _, ev := range first {
		if ev.GetEventType() == enumspb.EVENT_TYPE_MARKER_RECORDED {
			start, err := sfnStartOf(ev)
			if err != nil {
				return nil, internal(err)
			}
			out.Definition, out.RoleArn, out.Input, out.VersionArn = start.Definition, start.RoleArn, start.Input, start.VersionArn
		}
	}
	if ms.open() || ms.CompletionEventID == 0 {
		return out, nil
	}
	// The close event, and the last marker before it (a few command events, such as canceled
	// timers, may sit between them): it holds ExecutionTimedOut or ExecutionAborted.
	rows, err := e.store.ReadEventsReverse(ctx, namespace, runID, ms.CompletionEventID, 64)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read history: %w", err))
	}
	var closing []*historypb.HistoryEvent
	for _, row := range rows {
		ev := &historypb.HistoryEvent{}
		if err := proto.Unmarshal(row.Data, ev); err != nil {
			return nil, internal(fmt.Errorf("decode event %d: %w", row.EventID, err))
		}
		closing = append(closing, ev)
		if ev.GetEventType() == enumspb.EVENT_TYPE_MARKER_RECORDED {
			break
		}
	}
	for _, ev := range closing {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			if p := ev.GetWorkflowExecutionCompletedEventAttributes().GetResult().GetPayloads(); len(p) > 0 {
				s := string(p[0].GetData())
				out.Output = &s
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			out.Error, out.Cause = failureErrorCause(ev.GetWorkflowExecutionFailedEventAttributes().GetFailure())
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if out.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || out.Status == enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
				continue // the close event says it all
			}
			// The last marker before a timeout or an abort holds the error and cause.
			evs, err := sfnMarkerEvents(ev)
			if err != nil {
				return nil, internal(err)
			}
			for _, se := range evs {
				obj, ok := se.(*jsonv.Object)
				if !ok {
					continue
				}
				for _, key := range []string{"executionAbortedEventDetails", "executionTimedOutEventDetails"} {
					if d, ok := obj.Get(key); ok {
						if dd, ok := d.(*jsonv.Object); ok {
							if v, ok := dd.Get("error"); ok {
								out.Error, _ = v.(string)
							}
							if v, ok := dd.Get("cause"); ok {
								out.Cause, _ = v.(string)
							}
						}
					}
				}
			}
		}
	}
	return out, nil
}

// sfnMarkerEvents returns the Step Functions events a marker holds (jsonv objects), or nil for an
// event that is not a Step Functions marker.
func sfnMarkerEvents(ev *historypb.HistoryEvent) ([]any, error) {
	a := ev.GetMarkerRecordedEventAttributes()
	if ev.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED || a.GetMarkerName() != SFNMarker {
		return nil, nil
	}
	p := a.GetDetails()["events"].GetPayloads()
	if len(p) == 0 {
		return nil, nil
	}
	v, err := jsonv.Parse(p[0].GetData())
	if err != nil {
		return nil, fmt.Errorf("decode the events of marker %d: %w", ev.GetEventId(), err)
	}
	arr, _ := v.([]any)
	return arr, nil
}

// SFNEventPage is a run of Step Functions events read from an execution's markers.
type SFNEventPage struct {
	// Events are the events, each a jsonv object in the HistoryEvent shape, in order.
	Events []any
	// Next is the Temporal event ID to continue reading from (0 when the history is exhausted).
	Next int64
}

// StateMachineEvents reads the Step Functions events of a run's markers, from Temporal event from
// on, reading at most about limit Temporal events.
func (e *Engine) StateMachineEvents(ctx context.Context, namespace, runID string, from int64, limit int) (*SFNEventPage, error) {
	if from < 1 {
		from = 1
	}
	evs, err := e.readEvents(ctx, namespace, runID, from, 0, limit)
	if err != nil {
		return nil, err
	}
	page := &SFNEventPage{}
	for _, ev := range evs {
		arr, err := sfnMarkerEvents(ev)
		if err != nil {
			return nil, internal(err)
		}
		page.Events = append(page.Events, arr...)
	}
	if limit > 0 && len(evs) == limit {
		page.Next = evs[len(evs)-1].GetEventId() + 1
	}
	return page, nil
}

// StateMachineEventsReverse reads the Step Functions events of a run's markers newest first,
// from Temporal event beforeOrAt down (0: from the last event), reading at most about limit
// Temporal events. Next is the Temporal event ID to continue down from (0: exhausted).
func (e *Engine) StateMachineEventsReverse(ctx context.Context, namespace, runID string, beforeOrAt int64, limit int) (*SFNEventPage, error) {
	rows, err := e.store.ReadEventsReverse(ctx, namespace, runID, beforeOrAt, limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read history: %w", err))
	}
	page := &SFNEventPage{}
	for _, row := range rows {
		ev := &historypb.HistoryEvent{}
		if err := proto.Unmarshal(row.Data, ev); err != nil {
			return nil, internal(fmt.Errorf("decode event %d: %w", row.EventID, err))
		}
		arr, err := sfnMarkerEvents(ev)
		if err != nil {
			return nil, internal(err)
		}
		for i := len(arr) - 1; i >= 0; i-- {
			page.Events = append(page.Events, arr[i])
		}
	}
	if n := len(rows); limit > 0 && n == limit && rows[n-1].EventID > 1 {
		page.Next = rows[n-1].EventID - 1
	}
	return page, nil
}

// SFNTaskEnd tells why a task activity that is no longer pending ended: the type of the event
// that closed it (ActivityTaskCompleted, Failed, TimedOut) or, when it never closed, of the
// run's close event; EVENT_TYPE_UNSPECIFIED when the run or the activity cannot be found. It
// reads the whole history, and serves only error answers (TaskTimedOut or TaskDoesNotExist).
func (e *Engine) SFNTaskEnd(ctx context.Context, ref ActivityRef) enumspb.EventType {
	runID, err := e.resolveRun(ctx, ref.Namespace, ref.WorkflowID, ref.RunID)
	if err != nil {
		return enumspb.EVENT_TYPE_UNSPECIFIED
	}
	evs, err := e.readEvents(ctx, ref.Namespace, runID, 1, 0, 0)
	if err != nil {
		return enumspb.EVENT_TYPE_UNSPECIFIED
	}
	sched := int64(-1)
	for _, ev := range evs {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a := ev.GetActivityTaskScheduledEventAttributes()
			if (ref.ActivityID != "" && a.GetActivityId() == ref.ActivityID) || (ref.ActivityID == "" && ev.GetEventId() == ref.ScheduledEventID) {
				sched = ev.GetEventId()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId() == sched {
				return ev.GetEventType()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			if ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId() == sched {
				return ev.GetEventType()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			if ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId() == sched {
				return ev.GetEventType()
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
			if sched > 0 {
				return ev.GetEventType()
			}
		}
	}
	return enumspb.EVENT_TYPE_UNSPECIFIED
}
