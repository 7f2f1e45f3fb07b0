package engine

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/tasktoken"
)

// maxPendingActivities is Temporal's default limit of pending activities per run.
const maxPendingActivities = 2000

func (t *txn) scheduleActivity(a *commandpb.ScheduleActivityTaskCommandAttributes, wtcID int64) error {
	const cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES
	ms := t.ms
	if a == nil {
		return badCommand(cause, "ScheduleActivityTaskCommandAttributes is not set.")
	}
	if a.GetActivityId() == "" {
		return badCommand(cause, "ActivityId is not set on ScheduleActivityTaskCommand.")
	}
	if a.GetActivityType().GetName() == "" {
		return badCommand(cause, "ActivityType is not set on ScheduleActivityTaskCommand.")
	}
	if ms.activityByID(a.GetActivityId()) != nil {
		return badCommand(cause, "Activity ID %q is already in use by a pending activity.", a.GetActivityId())
	}
	if len(ms.Activities) >= maxPendingActivities {
		return badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_PENDING_ACTIVITIES_LIMIT_EXCEEDED, "the number of pending activities would exceed the limit of %d", maxPendingActivities)
	}
	if err := t.checkPayloads(a.GetInput(), cause); err != nil {
		return err
	}
	queue := a.GetTaskQueue().GetName()
	if queue == "" {
		queue = ms.TaskQueue
	}
	if hasNUL(a.GetActivityId(), a.GetActivityType().GetName(), queue) {
		return badCommand(cause, "ActivityId, ActivityType and TaskQueue must not contain a NUL character.")
	}
	s2c := a.GetScheduleToCloseTimeout().AsDuration()
	s2s := a.GetScheduleToStartTimeout().AsDuration()
	st2c := a.GetStartToCloseTimeout().AsDuration()
	hb := a.GetHeartbeatTimeout().AsDuration()
	if s2c < 0 || s2s < 0 || st2c < 0 || hb < 0 {
		return badCommand(cause, "A timeout on ScheduleActivityTaskCommand is negative.")
	}
	run := ms.RunTimeout
	if run > 0 && (s2c <= 0 || s2c > run) {
		s2c = run
	}
	if st2c <= 0 && s2c <= 0 {
		return badCommand(cause, "A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.")
	}
	if s2c > 0 {
		if s2s <= 0 || s2s > s2c {
			s2s = s2c
		}
		if st2c <= 0 || st2c > s2c {
			st2c = s2c
		}
	}
	if hb > st2c {
		hb = st2c
	}
	rp := normalizeRetryPolicy(a.GetRetryPolicy())
	if rp.GetBackoffCoefficient() < 1 {
		return badCommand(cause, "BackoffCoefficient on the retry policy cannot be less than 1.")
	}
	if rp.GetMaximumAttempts() < 0 {
		return badCommand(cause, "MaximumAttempts on the retry policy cannot be negative.")
	}
	if rp.GetMaximumInterval().AsDuration() < rp.GetInitialInterval().AsDuration() {
		return badCommand(cause, "MaximumInterval on the retry policy cannot be less than InitialInterval.")
	}
	attrs := &historypb.ActivityTaskScheduledEventAttributes{
		ActivityId:                   a.GetActivityId(),
		ActivityType:                 a.GetActivityType(),
		TaskQueue:                    &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Header:                       a.GetHeader(),
		Input:                        a.GetInput(),
		ScheduleToCloseTimeout:       durationpb.New(s2c),
		ScheduleToStartTimeout:       durationpb.New(s2s),
		StartToCloseTimeout:          durationpb.New(st2c),
		HeartbeatTimeout:             durationpb.New(hb),
		WorkflowTaskCompletedEventId: wtcID,
		RetryPolicy:                  rp,
		Priority:                     a.GetPriority(),
	}
	_, err := t.addActivity(attrs)
	return err
}

// addActivity records ActivityTaskScheduled with attrs (timeouts and retry policy normalized)
// and makes the activity pending: its state derived from attrs, its first task dispatched, its
// schedule-to-close timer armed. Workflow commands and Step Functions tasks both schedule
// activities through it.
func (t *txn) addActivity(attrs *historypb.ActivityTaskScheduledEventAttributes) (*activityInfo, error) {
	ev := t.appendEvent(&historypb.HistoryEvent{
		EventType:  enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
		Attributes: &historypb.HistoryEvent_ActivityTaskScheduledEventAttributes{ActivityTaskScheduledEventAttributes: attrs},
	})
	raw, err := proto.Marshal(attrs)
	if err != nil {
		return nil, internal(err)
	}
	rp := attrs.GetRetryPolicy()
	s2c := attrs.GetScheduleToCloseTimeout().AsDuration()
	ai := &activityInfo{
		ScheduledEventID: ev.EventId, ActivityID: attrs.GetActivityId(), ActivityType: attrs.GetActivityType().GetName(),
		TaskQueue: attrs.GetTaskQueue().GetName(), Attrs: raw, ScheduleToClose: s2c,
		ScheduleToStart: attrs.GetScheduleToStartTimeout().AsDuration(), StartToClose: attrs.GetStartToCloseTimeout().AsDuration(),
		Heartbeat: attrs.GetHeartbeatTimeout().AsDuration(),
		Attempt:   1, FirstScheduledTime: t.now, CurrentAttemptScheduledTime: t.now,
		RetryInitial: rp.GetInitialInterval().AsDuration(), RetryCoefficient: rp.GetBackoffCoefficient(),
		RetryMaximum: rp.GetMaximumInterval().AsDuration(), RetryMaxAttempts: rp.GetMaximumAttempts(), NonRetryable: rp.GetNonRetryableErrorTypes(),
	}
	if t.ms.Activities == nil {
		t.ms.Activities = map[int64]*activityInfo{}
	}
	t.ms.Activities[ai.ScheduledEventID] = ai
	t.dispatchActivity(ai)
	if s2c > 0 {
		t.addTimer(timerActivityScheduleToClose, t.now.Add(s2c), ai.ScheduledEventID, 0, "")
	}
	return ai, nil
}

// dispatchActivity queues the activity's current attempt and arms its schedule-to-start timeout.
func (t *txn) dispatchActivity(ai *activityInfo) {
	t.addTask(store.TaskActivity, ai.TaskQueue, ai.ScheduledEventID, ai.Attempt)
	if ai.ScheduleToStart > 0 && (ai.ScheduleToClose <= 0 || ai.ScheduleToStart < ai.ScheduleToClose) {
		t.addTimer(timerActivityScheduleToStart, t.now.Add(ai.ScheduleToStart), ai.ScheduledEventID, ai.Attempt, "")
	}
}

// normalizeRetryPolicy fills Temporal's activity retry defaults: 1 s initial interval, coefficient
// 2, maximum 100× the initial interval, unlimited attempts.
func normalizeRetryPolicy(rp *commonpb.RetryPolicy) *commonpb.RetryPolicy {
	out := &commonpb.RetryPolicy{}
	if rp != nil {
		out = proto.Clone(rp).(*commonpb.RetryPolicy)
	}
	if out.GetInitialInterval().AsDuration() <= 0 {
		out.InitialInterval = durationpb.New(time.Second)
	}
	if out.GetBackoffCoefficient() == 0 {
		out.BackoffCoefficient = 2
	}
	if out.GetMaximumInterval().AsDuration() <= 0 {
		out.MaximumInterval = durationpb.New(100 * out.GetInitialInterval().AsDuration())
	}
	return out
}

func (t *txn) requestCancelActivity(a *commandpb.RequestCancelActivityTaskCommandAttributes, wtcID int64) error {
	ai := t.ms.Activities[a.GetScheduledEventId()]
	if ai == nil {
		return badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES,
			"no pending activity with scheduled event ID %d", a.GetScheduledEventId())
	}
	ev := t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
		Attributes: &historypb.HistoryEvent_ActivityTaskCancelRequestedEventAttributes{ActivityTaskCancelRequestedEventAttributes: &historypb.ActivityTaskCancelRequestedEventAttributes{
			ScheduledEventId: ai.ScheduledEventID, WorkflowTaskCompletedEventId: wtcID,
		}},
	})
	if ai.Started {
		ai.CancelRequested = true // the worker learns it from its next heartbeat
		return nil
	}
	// Never started: cancel at once. The event is buffered behind the command events, and a new
	// workflow task delivers it (temporal-protocol.md, sequence g).
	delete(t.ms.Activities, ai.ScheduledEventID)
	return t.externalEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
		Attributes: &historypb.HistoryEvent_ActivityTaskCanceledEventAttributes{ActivityTaskCanceledEventAttributes: &historypb.ActivityTaskCanceledEventAttributes{
			ScheduledEventId: ai.ScheduledEventID, LatestCancelRequestedEventId: ev.EventId,
		}},
	})
}

// StartActivityTask claims an activity task row for a poller and returns the poll response. A row
// that no longer matches the activity's state is consumed and reported as stale.
func (e *Engine) StartActivityTask(ctx context.Context, task *store.Task, poll PollInfo) (*workflowservice.PollActivityTaskQueueResponse, error) {
	var resp *workflowservice.PollActivityTaskQueueResponse
	err := e.update(ctx, execKey{task.Namespace, task.WorkflowID, task.RunID}, func(t *txn) error {
		resp = nil
		ms := t.ms
		t.delTasks = []int64{task.ID}
		ai := ms.Activities[task.ScheduledEventID]
		if !ms.open() || ai == nil || ai.Started || ai.Attempt != task.Attempt || ai.TaskQueue != task.Name {
			return nil
		}
		attrs := &historypb.ActivityTaskScheduledEventAttributes{}
		if err := proto.Unmarshal(ai.Attrs, attrs); err != nil {
			return internal(err)
		}
		ai.Started, ai.StartedTime, ai.StartedIdentity, ai.StartRequestID = true, t.now, poll.Identity, poll.RequestID
		if ms.SFN != nil {
			t.sfnStarted = append(t.sfnStarted, sfnTaskStart{Sched: ai.ScheduledEventID, Worker: poll.Identity})
		}
		ai.LastHeartbeat = time.Time{}
		t.addTimer(timerActivityStartToClose, t.now.Add(ai.StartToClose), ai.ScheduledEventID, ai.Attempt, "")
		if ai.Heartbeat > 0 {
			t.addTimer(timerActivityHeartbeat, t.now.Add(ai.Heartbeat), ai.ScheduledEventID, ai.Attempt, "")
		}
		resp = &workflowservice.PollActivityTaskQueueResponse{
			TaskToken: tasktoken.Encode(tasktoken.Token{Kind: tasktoken.Activity, Namespace: ms.Namespace, WorkflowID: ms.WorkflowID, RunID: ms.RunID,
				EventID: ai.ScheduledEventID, Attempt: ai.Attempt, ActivityID: ai.ActivityID}),
			WorkflowNamespace:           ms.Namespace,
			WorkflowType:                workflowType(ms),
			WorkflowExecution:           execution(ms),
			ActivityType:                attrs.GetActivityType(),
			ActivityId:                  ai.ActivityID,
			Header:                      attrs.GetHeader(),
			Input:                       attrs.GetInput(),
			ScheduledTime:               timestamppb.New(ai.FirstScheduledTime),
			CurrentAttemptScheduledTime: timestamppb.New(ai.CurrentAttemptScheduledTime),
			StartedTime:                 timestamppb.New(ai.StartedTime),
			Attempt:                     ai.Attempt,
			ScheduleToCloseTimeout:      attrs.GetScheduleToCloseTimeout(),
			StartToCloseTimeout:         attrs.GetStartToCloseTimeout(),
			HeartbeatTimeout:            attrs.GetHeartbeatTimeout(),
			RetryPolicy:                 attrs.GetRetryPolicy(),
			Priority:                    attrs.GetPriority(),
		}
		if len(ai.HeartbeatDetails) > 0 {
			resp.HeartbeatDetails = &commonpb.Payloads{}
			if err := proto.Unmarshal(ai.HeartbeatDetails, resp.HeartbeatDetails); err != nil {
				return internal(err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if resp == nil {
		return nil, errStaleTask
	}
	return resp, nil
}

// ActivityRef names a started activity attempt, by token or by ID.
type ActivityRef struct {
	Namespace, WorkflowID, RunID string
	// ScheduledEventID and Attempt come from a task token; for ById calls ActivityID is set instead
	// and the current attempt is meant.
	ScheduledEventID int64
	Attempt          int32
	ActivityID       string
}

// RefFromToken turns an activity task token into an ActivityRef.
func RefFromToken(tok tasktoken.Token) ActivityRef {
	return ActivityRef{Namespace: tok.Namespace, WorkflowID: tok.WorkflowID, RunID: tok.RunID, ScheduledEventID: tok.EventID, Attempt: tok.Attempt}
}

// updateActivity runs fn on the started activity ref names, rejecting stale references.
func (e *Engine) updateActivity(ctx context.Context, ref ActivityRef, fn func(t *txn, ai *activityInfo) error) error {
	if ref.RunID == "" {
		unlock := e.locks.Lock(lockKey(ref.Namespace, ref.WorkflowID))
		defer unlock()
		run, err := e.resolveRun(ctx, ref.Namespace, ref.WorkflowID, "")
		if err != nil {
			return err
		}
		ref.RunID = run
		return e.updateLocked(ctx, execKey{ref.Namespace, ref.WorkflowID, ref.RunID}, func(t *txn) error { return withActivity(t, ref, fn) })
	}
	return e.update(ctx, execKey{ref.Namespace, ref.WorkflowID, ref.RunID}, func(t *txn) error { return withActivity(t, ref, fn) })
}

func withActivity(t *txn, ref ActivityRef, fn func(t *txn, ai *activityInfo) error) error {
	if !t.ms.open() {
		return notFound("workflow execution already completed")
	}
	var ai *activityInfo
	if ref.ActivityID != "" {
		ai = t.ms.activityByID(ref.ActivityID)
	} else {
		ai = t.ms.Activities[ref.ScheduledEventID]
		if ai != nil && ai.Attempt != ref.Attempt {
			ai = nil
		}
	}
	if ai == nil || (!ai.Started && !ai.Callback) {
		return notFound("Activity task not found.")
	}
	return fn(t, ai)
}

// CompleteActivity records an activity's result.
func (e *Engine) CompleteActivity(ctx context.Context, ref ActivityRef, result *commonpb.Payloads, identity string) error {
	return e.updateActivity(ctx, ref, func(t *txn, ai *activityInfo) error {
		if limit := t.e.cfg.MaxPayloadBytes; limit > 0 && proto.Size(result) > limit {
			return invalidArgument("activity result size %d exceeds the limit of %d bytes", proto.Size(result), limit)
		}
		return t.closeActivity(ai, &historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
			Attributes: &historypb.HistoryEvent_ActivityTaskCompletedEventAttributes{ActivityTaskCompletedEventAttributes: &historypb.ActivityTaskCompletedEventAttributes{
				Result: result, ScheduledEventId: ai.ScheduledEventID, Identity: identity,
			}},
		}, true)
	})
}

// FailActivity records a failed attempt: retried by the server per the retry policy (no event),
// or, when no retry is left, an ActivityTaskFailed event.
func (e *Engine) FailActivity(ctx context.Context, ref ActivityRef, failure *failurepb.Failure, details *commonpb.Payloads, identity string) error {
	return e.updateActivity(ctx, ref, func(t *txn, ai *activityInfo) error {
		if details != nil {
			b, err := proto.Marshal(details)
			if err != nil {
				return internal(err)
			}
			ai.HeartbeatDetails = b
		}
		if failure == nil {
			failure = &failurepb.Failure{Message: "activity failed"}
		}
		state := t.retryActivity(ai, failure, identity)
		if state == enumspb.RETRY_STATE_IN_PROGRESS {
			return nil
		}
		return t.closeActivity(ai, &historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
			Attributes: &historypb.HistoryEvent_ActivityTaskFailedEventAttributes{ActivityTaskFailedEventAttributes: &historypb.ActivityTaskFailedEventAttributes{
				Failure: failure, ScheduledEventId: ai.ScheduledEventID, Identity: identity, RetryState: state,
			}},
		}, true)
	})
}

// CancelActivity records that a started activity acknowledged its cancellation.
func (e *Engine) CancelActivity(ctx context.Context, ref ActivityRef, details *commonpb.Payloads, identity string) error {
	return e.updateActivity(ctx, ref, func(t *txn, ai *activityInfo) error {
		return t.closeActivity(ai, &historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
			Attributes: &historypb.HistoryEvent_ActivityTaskCanceledEventAttributes{ActivityTaskCanceledEventAttributes: &historypb.ActivityTaskCanceledEventAttributes{
				Details: details, ScheduledEventId: ai.ScheduledEventID, Identity: identity,
			}},
		}, true)
	})
}

// HeartbeatActivity records progress details and tells the worker whether cancellation was asked.
func (e *Engine) HeartbeatActivity(ctx context.Context, ref ActivityRef, details *commonpb.Payloads) (cancelRequested bool, err error) {
	err = e.updateActivity(ctx, ref, func(t *txn, ai *activityInfo) error {
		if limit := t.e.cfg.MaxPayloadBytes; limit > 0 && proto.Size(details) > limit {
			return invalidArgument("heartbeat details size %d exceeds the limit of %d bytes", proto.Size(details), limit)
		}
		ai.LastHeartbeat = t.now
		if details != nil {
			b, err := proto.Marshal(details)
			if err != nil {
				return internal(err)
			}
			ai.HeartbeatDetails = b
		}
		cancelRequested = ai.CancelRequested
		return nil
	})
	return cancelRequested, err
}

// closeActivity writes the activity's closing events (ActivityTaskStarted first if it started)
// and removes it. Outcomes arriving while a workflow task runs are buffered.
func (t *txn) closeActivity(ai *activityInfo, closeEv *historypb.HistoryEvent, started bool) error {
	delete(t.ms.Activities, ai.ScheduledEventID)
	startedID := int64(0)
	if started && ai.Started {
		var lastFailure *failurepb.Failure
		if len(ai.LastFailure) > 0 {
			lastFailure = &failurepb.Failure{}
			if err := proto.Unmarshal(ai.LastFailure, lastFailure); err != nil {
				return internal(err)
			}
		}
		startedEv := &historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
			EventTime: timestamppb.New(ai.StartedTime),
			Attributes: &historypb.HistoryEvent_ActivityTaskStartedEventAttributes{ActivityTaskStartedEventAttributes: &historypb.ActivityTaskStartedEventAttributes{
				ScheduledEventId: ai.ScheduledEventID, Identity: ai.StartedIdentity, RequestId: ai.StartRequestID, Attempt: ai.Attempt, LastFailure: lastFailure,
			}},
		}
		if t.ms.WFT.started() {
			if err := t.externalEvent(startedEv); err != nil {
				return err
			}
			startedID = placeholderStartedID
		} else {
			startedID = t.appendEvent(startedEv).EventId
		}
	}
	setStartedID(closeEv, startedID)
	return t.externalEvent(closeEv)
}

func setStartedID(ev *historypb.HistoryEvent, id int64) {
	switch a := ev.Attributes.(type) {
	case *historypb.HistoryEvent_ActivityTaskCompletedEventAttributes:
		a.ActivityTaskCompletedEventAttributes.StartedEventId = id
	case *historypb.HistoryEvent_ActivityTaskFailedEventAttributes:
		a.ActivityTaskFailedEventAttributes.StartedEventId = id
	case *historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes:
		a.ActivityTaskTimedOutEventAttributes.StartedEventId = id
	case *historypb.HistoryEvent_ActivityTaskCanceledEventAttributes:
		a.ActivityTaskCanceledEventAttributes.StartedEventId = id
	}
}

// retryActivity decides, as Temporal's server does, whether a failed attempt is retried. If it is,
// the next attempt is scheduled behind a durable backoff timer and RETRY_STATE_IN_PROGRESS returned.
func (t *txn) retryActivity(ai *activityInfo, failure *failurepb.Failure, identity string) enumspb.RetryState {
	state := retryDecision(ai, failure, t.now)
	if state != enumspb.RETRY_STATE_IN_PROGRESS {
		return state
	}
	delay := backoff(ai, failure)
	if ai.ScheduleToClose > 0 && t.now.Add(delay).After(ai.FirstScheduledTime.Add(ai.ScheduleToClose)) {
		return enumspb.RETRY_STATE_TIMEOUT
	}
	if b, err := proto.Marshal(failure); err == nil {
		ai.LastFailure = b
	}
	ai.LastWorker = identity
	ai.Attempt++
	ai.Started = false
	ai.StartedTime = time.Time{}
	ai.LastHeartbeat = time.Time{}
	t.addTimer(timerActivityRetry, t.now.Add(delay), ai.ScheduledEventID, ai.Attempt, "")
	return enumspb.RETRY_STATE_IN_PROGRESS
}

func retryDecision(ai *activityInfo, f *failurepb.Failure, now time.Time) enumspb.RetryState {
	if ai.CancelRequested {
		return enumspb.RETRY_STATE_CANCEL_REQUESTED
	}
	switch info := f.GetFailureInfo().(type) {
	case *failurepb.Failure_CanceledFailureInfo, *failurepb.Failure_TerminatedFailureInfo:
		return enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
	case *failurepb.Failure_TimeoutFailureInfo:
		tt := info.TimeoutFailureInfo.GetTimeoutType()
		if tt != enumspb.TIMEOUT_TYPE_START_TO_CLOSE && tt != enumspb.TIMEOUT_TYPE_HEARTBEAT {
			return enumspb.RETRY_STATE_TIMEOUT
		}
		if slices.Contains(ai.NonRetryable, "TemporalTimeout:"+timeoutName(tt)) {
			return enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
		}
	case *failurepb.Failure_ApplicationFailureInfo:
		if info.ApplicationFailureInfo.GetNonRetryable() || slices.Contains(ai.NonRetryable, info.ApplicationFailureInfo.GetType()) {
			return enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
		}
	}
	if ai.RetryMaxAttempts > 0 && ai.Attempt >= ai.RetryMaxAttempts {
		return enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
	}
	return enumspb.RETRY_STATE_IN_PROGRESS
}

func timeoutName(tt enumspb.TimeoutType) string {
	switch tt {
	case enumspb.TIMEOUT_TYPE_START_TO_CLOSE:
		return "StartToClose"
	case enumspb.TIMEOUT_TYPE_HEARTBEAT:
		return "Heartbeat"
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START:
		return "ScheduleToStart"
	case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE:
		return "ScheduleToClose"
	}
	return tt.String()
}

// backoff is initial × coefficient^(attempt-1), capped at the maximum interval; the failure's
// next_retry_delay overrides it.
func backoff(ai *activityInfo, f *failurepb.Failure) time.Duration {
	if d := f.GetApplicationFailureInfo().GetNextRetryDelay().AsDuration(); d > 0 {
		return d
	}
	d := float64(ai.RetryInitial) * math.Pow(ai.RetryCoefficient, float64(ai.Attempt-1))
	if ai.RetryMaximum > 0 && d > float64(ai.RetryMaximum) {
		d = float64(ai.RetryMaximum)
	}
	if d > float64(math.MaxInt64/2) {
		d = float64(math.MaxInt64 / 2)
	}
	return time.Duration(d)
}

// timeoutActivity handles an activity timeout timer that is still current.
func (t *txn) timeoutActivity(ai *activityInfo, tt enumspb.TimeoutType) error {
	var details *commonpb.Payloads
	if len(ai.HeartbeatDetails) > 0 {
		details = &commonpb.Payloads{}
		if err := proto.Unmarshal(ai.HeartbeatDetails, details); err != nil {
			return internal(err)
		}
	}
	failure := &failurepb.Failure{
		Message: "activity " + timeoutName(tt) + " timeout",
		FailureInfo: &failurepb.Failure_TimeoutFailureInfo{TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{
			TimeoutType: tt, LastHeartbeatDetails: details,
		}},
	}
	if len(ai.LastFailure) > 0 {
		last := &failurepb.Failure{}
		if proto.Unmarshal(ai.LastFailure, last) == nil {
			failure.Cause = last
		}
	}
	started := ai.Started
	state := enumspb.RETRY_STATE_TIMEOUT
	if tt == enumspb.TIMEOUT_TYPE_START_TO_CLOSE || tt == enumspb.TIMEOUT_TYPE_HEARTBEAT {
		state = t.retryActivity(ai, failure, ai.StartedIdentity)
		if state == enumspb.RETRY_STATE_IN_PROGRESS {
			return nil
		}
	} else if tt == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START {
		state = enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
	}
	return t.closeActivity(ai, &historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
		Attributes: &historypb.HistoryEvent_ActivityTaskTimedOutEventAttributes{ActivityTaskTimedOutEventAttributes: &historypb.ActivityTaskTimedOutEventAttributes{
			Failure: failure, ScheduledEventId: ai.ScheduledEventID, RetryState: state,
		}},
	}, started)
}

// hasNUL reports whether any of ss contains a NUL character, which no store keeps in a name.
func hasNUL(ss ...string) bool {
	for _, s := range ss {
		if strings.ContainsRune(s, 0) {
			return true
		}
	}
	return false
}
