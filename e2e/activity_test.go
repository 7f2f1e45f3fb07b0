package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// textActs are small pure activities.
type textActs struct{}

func (*textActs) Upper(_ context.Context, s string) (string, error)   { return strings.ToUpper(s), nil }
func (*textActs) Reverse(_ context.Context, s string) (string, error) { return reverse(s), nil }
func (*textActs) Length(_ context.Context, s string) (int, error)     { return len(s), nil }

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// combineWorkflow runs two activities in sequence, then two in parallel, and combines the results.
func combineWorkflow(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var acts *textActs
	var up, rev string
	if err := workflow.ExecuteActivity(ctx, acts.Upper, s).Get(ctx, &up); err != nil {
		return "", err
	}
	if err := workflow.ExecuteActivity(ctx, acts.Reverse, up).Get(ctx, &rev); err != nil {
		return "", err
	}
	f1 := workflow.ExecuteActivity(ctx, acts.Length, s)
	f2 := workflow.ExecuteActivity(ctx, acts.Length, up+rev)
	var n1, n2 int
	if err := f1.Get(ctx, &n1); err != nil {
		return "", err
	}
	if err := f2.Get(ctx, &n2); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s|%s|%d|%d", up, rev, n1, n2), nil
}

func TestWorkflowCallsSeveralActivities(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{combineWorkflow}, activities: []any{&textActs{}}})

	run := e.start(tq, client.StartWorkflowOptions{}, combineWorkflow, "duro")
	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "DURO|ORUD|4|8", got)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType())
	scheduled := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
	completed := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
	require.Len(t, scheduled, 4)
	require.Len(t, completed, 4)
	var types []string
	byID := map[int64]bool{}
	for _, ev := range scheduled {
		a := ev.GetActivityTaskScheduledEventAttributes()
		types = append(types, a.GetActivityType().GetName())
		// The SDK names an activity after the event ID it predicts for its command: the server must
		// write the command's event exactly there.
		require.Equal(t, strconv.FormatInt(ev.GetEventId(), 10), a.GetActivityId(), "activity ID vs event ID")
		require.Equal(t, tq, a.GetTaskQueue().GetName())
		byID[ev.GetEventId()] = true
	}
	require.Equal(t, []string{"Upper", "Reverse", "Length", "Length"}, types)
	for _, ev := range completed {
		require.True(t, byID[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()],
			"completion %d refers to no scheduled activity", ev.GetEventId())
	}
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED), 4)

	// The server declares sdk_metadata, so it must keep what the SDK sends with each completion:
	// replay reads the SDK's flags back from there.
	info, err := e.raw.GetSystemInfo(e.ctx(), &workflowservice.GetSystemInfoRequest{})
	require.NoError(t, err)
	require.True(t, info.GetCapabilities().GetSdkMetadata())
	wtc := ofType(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)[0].GetWorkflowTaskCompletedEventAttributes()
	require.Equal(t, "temporal-go", wtc.GetSdkMetadata().GetSdkName())
	require.NotEmpty(t, wtc.GetSdkMetadata().GetSdkVersion())

	d, err := e.c.DescribeWorkflowExecution(e.ctx(), run.GetID(), run.GetRunID())
	require.NoError(t, err)
	di := d.GetWorkflowExecutionInfo()
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, di.GetStatus())
	require.Equal(t, "combineWorkflow", di.GetType().GetName())
	require.Equal(t, tq, di.GetTaskQueue())
	require.Equal(t, int64(len(events)), di.GetHistoryLength())
	require.WithinDuration(t, events[0].GetEventTime().AsTime(), di.GetStartTime().AsTime(), time.Millisecond)
	require.WithinDuration(t, events[len(events)-1].GetEventTime().AsTime(), di.GetCloseTime().AsTime(), time.Millisecond)
	require.Empty(t, d.GetPendingActivities())
}

// failingWorkflow fails with an application error that carries details.
func failingWorkflow(ctx workflow.Context) error {
	return temporal.NewApplicationError("bad order", "OrderInvalid", "detail", 42)
}

func TestWorkflowFailureCarriesApplicationError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{failingWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, failingWorkflow)

	err := run.Get(e.ctx(), nil)
	var wee *temporal.WorkflowExecutionError
	require.ErrorAs(t, err, &wee, "got %v", err)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, "OrderInvalid", appErr.Type())
	require.Equal(t, "bad order", appErr.Message())
	var s string
	var n int
	require.NoError(t, appErr.Details(&s, &n))
	require.Equal(t, "detail", s)
	require.Equal(t, 42, n)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, e.status(run.GetID(), run.GetRunID()))

	events := e.historyOf(run)
	requireWellFormed(t, events)
	last := events[len(events)-1]
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, last.GetEventType())
	require.Equal(t, "OrderInvalid", last.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetApplicationFailureInfo().GetType())
}

// activityCall describes one activity for runActivityWorkflow.
type activityCall struct {
	Activity            string
	TaskQueue           string
	ScheduleToStart     time.Duration
	StartToClose        time.Duration
	ScheduleToClose     time.Duration
	Heartbeat           time.Duration
	Retry               *temporal.RetryPolicy
	WaitForCancellation bool
}

// runActivityWorkflow runs one activity as described and returns its result or its error.
func runActivityWorkflow(ctx workflow.Context, call activityCall) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              call.TaskQueue,
		ScheduleToStartTimeout: call.ScheduleToStart,
		StartToCloseTimeout:    call.StartToClose,
		ScheduleToCloseTimeout: call.ScheduleToClose,
		HeartbeatTimeout:       call.Heartbeat,
		RetryPolicy:            call.Retry,
		WaitForCancellation:    call.WaitForCancellation,
	})
	var out string
	err := workflow.ExecuteActivity(ctx, call.Activity, call.Activity).Get(ctx, &out)
	return out, err
}

// attempt is one recorded execution of an activity.
type attempt struct {
	n  int32
	at time.Time
}

// retryActs record every attempt of every activity. Their methods fail in the ways the tests need;
// Hang blocks, ignoring its context, until release is closed.
type retryActs struct {
	mu       sync.Mutex
	attempts map[string][]attempt
	details  map[string][]string
	release  chan struct{}
}

func newRetryActs() *retryActs {
	return &retryActs{attempts: map[string][]attempt{}, details: map[string][]string{}, release: make(chan struct{})}
}

// releaseOnCleanup frees hung activities before the worker is stopped (Cleanup runs in reverse).
func (a *retryActs) releaseOnCleanup(t testing.TB) {
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(a.release) }) })
}

func (a *retryActs) record(ctx context.Context) int32 {
	info := activity.GetInfo(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	key := info.WorkflowExecution.ID
	a.attempts[key] = append(a.attempts[key], attempt{n: info.Attempt, at: time.Now()})
	return info.Attempt
}

func (a *retryActs) attemptsOf(wfID string) []attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]attempt(nil), a.attempts[wfID]...)
}

func (a *retryActs) numbers(wfID string) []int32 {
	var out []int32
	for _, at := range a.attemptsOf(wfID) {
		out = append(out, at.n)
	}
	return out
}

// Flaky fails attempts 1 and 2 and succeeds on attempt 3.
func (a *retryActs) Flaky(ctx context.Context, _ string) (string, error) {
	n := a.record(ctx)
	if n <= 2 {
		return "", temporal.NewApplicationError(fmt.Sprintf("attempt %d failed", n), "Flaky")
	}
	return fmt.Sprintf("succeeded on attempt %d", n), nil
}

// AlwaysFails fails every attempt with a retryable error.
func (a *retryActs) AlwaysFails(ctx context.Context, _ string) (string, error) {
	n := a.record(ctx)
	return "", temporal.NewApplicationError(fmt.Sprintf("attempt %d failed", n), "Flaky")
}

// Declined fails with an error type the retry policy lists as non-retryable.
func (a *retryActs) Declined(ctx context.Context, _ string) (string, error) {
	a.record(ctx)
	return "", temporal.NewApplicationError("card declined", "CardDeclined", "card 4242")
}

// Fatal fails with an error marked non-retryable.
func (a *retryActs) Fatal(ctx context.Context, _ string) (string, error) {
	a.record(ctx)
	return "", temporal.NewNonRetryableApplicationError("fatal failure", "Fatal", nil)
}

// Hang blocks, ignoring its context, until the test releases it: the server must time it out.
func (a *retryActs) Hang(ctx context.Context, _ string) (string, error) {
	a.record(ctx)
	<-a.release
	return "released", nil
}

// HeartbeatThenHang heartbeats 1 then 2, then hangs without heartbeating.
func (a *retryActs) HeartbeatThenHang(ctx context.Context, _ string) (string, error) {
	a.record(ctx)
	activity.RecordHeartbeat(ctx, 1)
	activity.RecordHeartbeat(ctx, 2)
	<-a.release
	return "released", nil
}

// HeartbeatFor5s works for 5 s, heartbeating as it goes, and succeeds.
func (a *retryActs) HeartbeatFor5s(ctx context.Context, _ string) (string, error) {
	a.record(ctx)
	end := time.Now().Add(5 * time.Second)
	for i := 0; time.Now().Before(end); i++ {
		activity.RecordHeartbeat(ctx, i)
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return "worked 5s", nil
}

// Resume heartbeats its progress 1, 2, 3 and fails on its first attempt; a later attempt reads the
// progress from its heartbeat details and resumes from there.
func (a *retryActs) Resume(ctx context.Context, _ string) (string, error) {
	n := a.record(ctx)
	info := activity.GetInfo(ctx)
	progress := 0
	seen := "none"
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &progress); err != nil {
			return "", err
		}
		seen = strconv.Itoa(progress)
	}
	a.mu.Lock()
	a.details[info.WorkflowExecution.ID] = append(a.details[info.WorkflowExecution.ID], seen)
	a.mu.Unlock()
	if n == 1 {
		for progress < 3 {
			progress++
			activity.RecordHeartbeat(ctx, progress)
		}
		return "", temporal.NewApplicationError("interrupted at 3", "Interrupted")
	}
	for progress < 5 {
		progress++
		activity.RecordHeartbeat(ctx, progress)
	}
	return fmt.Sprintf("resumed from %s, reached %d on attempt %d", seen, progress, n), nil
}

func (a *retryActs) seenDetails(wfID string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.details[wfID]...)
}

// activityEnv starts a node and a worker serving runActivityWorkflow and retryActs.
func activityEnv(t *testing.T) (*env, *retryActs, string) {
	e := newEnv(t)
	acts := newRetryActs()
	tq := e.startWorker(registry{
		workflows:  []any{runActivityWorkflow},
		activities: []any{acts},
		options:    fastHeartbeats,
	})
	acts.releaseOnCleanup(t)
	return e, acts, tq
}

func TestActivityRetriesWithBackoffUntilSuccess(t *testing.T) {
	t.Parallel()
	e, acts, tq := activityEnv(t)
	run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
		Activity:     "Flaky",
		StartToClose: 10 * time.Second,
		Retry:        &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 5},
	})
	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "succeeded on attempt 3", got)

	atts := acts.attemptsOf(run.GetID())
	require.Equal(t, []int32{1, 2, 3}, acts.numbers(run.GetID()))
	require.GreaterOrEqual(t, atts[1].at.Sub(atts[0].at), 200*time.Millisecond, "backoff before attempt 2 (initial interval)")
	require.GreaterOrEqual(t, atts[2].at.Sub(atts[1].at), 400*time.Millisecond, "backoff before attempt 3 (initial × coefficient)")

	// Failed attempts write no events: one Started (for the last attempt) and one Completed.
	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Equal(t, []enumspb.EventType{
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
		enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
	}, eventTypes(events))
	started := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED)[0].GetActivityTaskStartedEventAttributes()
	require.Equal(t, int32(3), started.GetAttempt(), "ActivityTaskStarted records the attempt that closed the activity")
	require.Equal(t, "attempt 2 failed", started.GetLastFailure().GetMessage(), "ActivityTaskStarted carries the previous attempt's failure")
	sched := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)[0]
	require.Equal(t, sched.GetEventId(), started.GetScheduledEventId())
	retry := sched.GetActivityTaskScheduledEventAttributes().GetRetryPolicy()
	require.Equal(t, 200*time.Millisecond, retry.GetInitialInterval().AsDuration())
	require.Equal(t, 2.0, retry.GetBackoffCoefficient())
	require.Equal(t, int32(5), retry.GetMaximumAttempts())
}

func TestActivityRetryStopsAtMaximumAttempts(t *testing.T) {
	t.Parallel()
	e, acts, tq := activityEnv(t)
	// Uncapped, the backoffs would be 100 ms, 1 s and 10 s; MaximumInterval caps them at 500 ms.
	run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
		Activity:     "AlwaysFails",
		StartToClose: 10 * time.Second,
		Retry:        &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 10, MaximumInterval: 500 * time.Millisecond, MaximumAttempts: 4},
	})
	err := run.Get(e.ctx(), nil)
	require.Error(t, err)
	var actErr *temporal.ActivityError
	require.ErrorAs(t, err, &actErr)
	require.Equal(t, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, actErr.RetryState())
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, "attempt 4 failed", appErr.Message())
	require.Equal(t, "Flaky", appErr.Type())

	atts := acts.attemptsOf(run.GetID())
	require.Equal(t, []int32{1, 2, 3, 4}, acts.numbers(run.GetID()))
	require.GreaterOrEqual(t, atts[1].at.Sub(atts[0].at), 100*time.Millisecond)
	require.GreaterOrEqual(t, atts[2].at.Sub(atts[1].at), 500*time.Millisecond)
	require.GreaterOrEqual(t, atts[3].at.Sub(atts[2].at), 500*time.Millisecond)
	require.Less(t, atts[3].at.Sub(atts[2].at), 5*time.Second, "MaximumInterval (500 ms) must cap the 10 s backoff")

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED), 1)
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED))
	failed := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED)
	require.Len(t, failed, 1)
	fa := failed[0].GetActivityTaskFailedEventAttributes()
	require.Equal(t, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, fa.GetRetryState())
	require.Equal(t, "attempt 4 failed", fa.GetFailure().GetMessage())
	require.Equal(t, int32(4), ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED)[0].GetActivityTaskStartedEventAttributes().GetAttempt())
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, events[len(events)-1].GetEventType())
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, e.status(run.GetID(), run.GetRunID()))
}

func TestActivityNonRetryableFailure(t *testing.T) {
	t.Parallel()
	e, acts, tq := activityEnv(t)
	policy := &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 10, NonRetryableErrorTypes: []string{"CardDeclined"}}

	t.Run("error type listed in NonRetryableErrorTypes", func(t *testing.T) {
		t.Parallel()
		e := e.sub(t)
		run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{Activity: "Declined", StartToClose: 10 * time.Second, Retry: policy})
		err := run.Get(e.ctx(), nil)
		var actErr *temporal.ActivityError
		require.ErrorAs(t, err, &actErr)
		require.Equal(t, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE, actErr.RetryState())
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, "CardDeclined", appErr.Type())
		require.Equal(t, "card declined", appErr.Message())
		var detail string
		require.NoError(t, appErr.Details(&detail))
		require.Equal(t, "card 4242", detail)
		require.Equal(t, []int32{1}, acts.numbers(run.GetID()), "a non-retryable failure is not retried")
		requireOneFailedAttempt(t, e, run, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE)
	})

	t.Run("NewNonRetryableApplicationError", func(t *testing.T) {
		t.Parallel()
		e := e.sub(t)
		run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{Activity: "Fatal", StartToClose: 10 * time.Second, Retry: policy})
		err := run.Get(e.ctx(), nil)
		var actErr *temporal.ActivityError
		require.ErrorAs(t, err, &actErr)
		require.Equal(t, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE, actErr.RetryState())
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, "Fatal", appErr.Type())
		require.True(t, appErr.NonRetryable())
		require.Equal(t, []int32{1}, acts.numbers(run.GetID()), "a non-retryable failure is not retried")
		requireOneFailedAttempt(t, e, run, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE)
	})
}

func requireOneFailedAttempt(t *testing.T, e *env, run client.WorkflowRun, rs enumspb.RetryState) {
	t.Helper()
	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED), 1)
	failed := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED)
	require.Len(t, failed, 1)
	require.Equal(t, rs, failed[0].GetActivityTaskFailedEventAttributes().GetRetryState())
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, events[len(events)-1].GetEventType())
}

// requireActivityTimeout checks that err is an activity's timeout of kind tt.
func requireActivityTimeout(t *testing.T, err error, tt enumspb.TimeoutType) (*temporal.ActivityError, *temporal.TimeoutError) {
	t.Helper()
	require.Error(t, err)
	var actErr *temporal.ActivityError
	require.ErrorAs(t, err, &actErr, "want an ActivityError, got %v", err)
	var toErr *temporal.TimeoutError
	require.ErrorAs(t, err, &toErr, "want a TimeoutError, got %v", err)
	require.Equal(t, tt, toErr.TimeoutType(), "timeout type (error: %v)", err)
	return actErr, toErr
}

func TestActivityTimeouts(t *testing.T) {
	t.Parallel()
	e, acts, tq := activityEnv(t)

	t.Run("ScheduleToStart", func(t *testing.T) {
		t.Parallel()
		e := e.sub(t)
		run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
			Activity:        "Hang",
			TaskQueue:       e.id("nobody-polls"),
			ScheduleToStart: time.Second,
			StartToClose:    10 * time.Second,
			Retry:           &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
		})
		requireActivityTimeout(t, run.Get(e.ctx(), nil), enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START)
		require.Empty(t, acts.numbers(run.GetID()))
		events := e.historyOf(run)
		requireWellFormed(t, events)
		require.Empty(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED), "the activity never started")
		timedOut := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
		require.Len(t, timedOut, 1)
		require.Equal(t, enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START,
			timedOut[0].GetActivityTaskTimedOutEventAttributes().GetFailure().GetTimeoutFailureInfo().GetTimeoutType())
		require.Equal(t, int64(0), timedOut[0].GetActivityTaskTimedOutEventAttributes().GetStartedEventId())
	})

	t.Run("StartToClose", func(t *testing.T) {
		t.Parallel()
		e := e.sub(t)
		run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
			Activity:     "Hang",
			StartToClose: time.Second,
			Retry:        &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 2},
		})
		actErr, _ := requireActivityTimeout(t, run.Get(e.ctx(), nil), enumspb.TIMEOUT_TYPE_START_TO_CLOSE)
		require.Equal(t, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, actErr.RetryState())
		require.Equal(t, []int32{1, 2}, acts.numbers(run.GetID()), "a start-to-close timeout is retried")
		events := e.historyOf(run)
		requireWellFormed(t, events)
		started := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED)
		require.Len(t, started, 1)
		require.Equal(t, int32(2), started[0].GetActivityTaskStartedEventAttributes().GetAttempt())
		timedOut := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
		require.Len(t, timedOut, 1)
		require.Equal(t, enumspb.TIMEOUT_TYPE_START_TO_CLOSE,
			timedOut[0].GetActivityTaskTimedOutEventAttributes().GetFailure().GetTimeoutFailureInfo().GetTimeoutType())
	})

	t.Run("ScheduleToClose", func(t *testing.T) {
		t.Parallel()
		e := e.sub(t)
		// Attempt 1 times out after 3 s and is retried; schedule-to-close expires at 4 s, during attempt 2.
		run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
			Activity:        "Hang",
			StartToClose:    3 * time.Second,
			ScheduleToClose: 4 * time.Second,
			Retry:           &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond},
		})
		actErr, _ := requireActivityTimeout(t, run.Get(e.ctx(), nil), enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE)
		require.Equal(t, enumspb.RETRY_STATE_TIMEOUT, actErr.RetryState())
		require.Equal(t, []int32{1, 2}, acts.numbers(run.GetID()))
		events := e.historyOf(run)
		requireWellFormed(t, events)
		timedOut := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
		require.Len(t, timedOut, 1)
		require.Equal(t, enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
			timedOut[0].GetActivityTaskTimedOutEventAttributes().GetFailure().GetTimeoutFailureInfo().GetTimeoutType())
	})

	t.Run("Heartbeat", func(t *testing.T) {
		t.Parallel()
		e := e.sub(t)
		run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
			Activity:     "HeartbeatThenHang",
			StartToClose: 30 * time.Second,
			Heartbeat:    time.Second,
			Retry:        &temporal.RetryPolicy{MaximumAttempts: 1},
		})
		actErr, toErr := requireActivityTimeout(t, run.Get(e.ctx(), nil), enumspb.TIMEOUT_TYPE_HEARTBEAT)
		require.Equal(t, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, actErr.RetryState())
		require.True(t, toErr.HasLastHeartbeatDetails(), "a heartbeat timeout carries the last heartbeat details")
		var last int
		require.NoError(t, toErr.LastHeartbeatDetails(&last))
		require.Equal(t, 2, last)
		require.Equal(t, []int32{1}, acts.numbers(run.GetID()))
		events := e.historyOf(run)
		requireWellFormed(t, events)
		timedOut := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
		require.Len(t, timedOut, 1)
		require.Equal(t, enumspb.TIMEOUT_TYPE_HEARTBEAT,
			timedOut[0].GetActivityTaskTimedOutEventAttributes().GetFailure().GetTimeoutFailureInfo().GetTimeoutType())
	})
}

func TestHeartbeatsKeepALongActivityAlive(t *testing.T) {
	t.Parallel()
	e, acts, tq := activityEnv(t)
	// Each heartbeat must push the 2 s heartbeat deadline out; the activity runs 2.5 times as long.
	run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
		Activity:     "HeartbeatFor5s",
		StartToClose: 30 * time.Second,
		Heartbeat:    2 * time.Second,
		Retry:        &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "worked 5s", got)
	require.Equal(t, []int32{1}, acts.numbers(run.GetID()))
	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT))
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 1)
}

func TestHeartbeatDetailsSurviveRetry(t *testing.T) {
	t.Parallel()
	e, acts, tq := activityEnv(t)
	run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
		Activity:     "Resume",
		StartToClose: 10 * time.Second,
		Heartbeat:    5 * time.Second,
		Retry:        &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
	})
	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "resumed from 3, reached 5 on attempt 2", got)
	require.Equal(t, []int32{1, 2}, acts.numbers(run.GetID()))
	require.Equal(t, []string{"none", "3"}, acts.seenDetails(run.GetID()),
		"attempt 1 starts with no details; attempt 2 gets attempt 1's last heartbeat")

	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED), 1)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 1)
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED))
}

func TestDescribeShowsPendingActivity(t *testing.T) {
	t.Parallel()
	e, acts, tq := activityEnv(t)
	run := e.start(tq, client.StartWorkflowOptions{}, runActivityWorkflow, activityCall{
		Activity:     "Hang",
		StartToClose: time.Second,
		Retry:        &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
	})
	require.Eventually(t, func() bool { return len(acts.numbers(run.GetID())) >= 2 }, waitFor, tick, "attempt 2 starts")

	d, err := e.c.DescribeWorkflowExecution(e.ctx(), run.GetID(), run.GetRunID())
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, d.GetWorkflowExecutionInfo().GetStatus())
	require.Len(t, d.GetPendingActivities(), 1)
	pa := d.GetPendingActivities()[0]
	require.Equal(t, "Hang", pa.GetActivityType().GetName())
	require.Equal(t, "5", pa.GetActivityId())
	if pa.GetAttempt() == 2 { // attempt 2 may already have timed out on a slow machine
		require.Equal(t, enumspb.PENDING_ACTIVITY_STATE_STARTED, pa.GetState())
	}
	require.GreaterOrEqual(t, pa.GetAttempt(), int32(2))
	require.Equal(t, int32(3), pa.GetMaximumAttempts())
	require.Equal(t, enumspb.TIMEOUT_TYPE_START_TO_CLOSE, pa.GetLastFailure().GetTimeoutFailureInfo().GetTimeoutType(),
		"the pending activity shows why the last attempt failed")

	requireActivityTimeout(t, run.Get(e.ctx(), nil), enumspb.TIMEOUT_TYPE_START_TO_CLOSE)
	require.Equal(t, []int32{1, 2, 3}, acts.numbers(run.GetID()))
}

// echoWorkflow passes its input through the Echo activity.
func echoWorkflow(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var acts *benchActs
	var out string
	err := workflow.ExecuteActivity(ctx, acts.Echo, s).Get(ctx, &out)
	return out, err
}

func TestLargePayloadsUnderTheDefaultLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // the default limit: 2 MB per payload
	tq := e.startWorker(registry{workflows: []any{echoWorkflow}, activities: []any{&benchActs{}}})
	big := strings.Repeat("0123456789abcdef", 96<<10) // 1.5 MiB
	run := e.start(tq, client.StartWorkflowOptions{}, echoWorkflow, big)
	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, len(big), len(got))
	require.True(t, got == big, "the payload came back changed")
	requireWellFormed(t, e.historyOf(run))
}
