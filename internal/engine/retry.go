package engine

import (
	"fmt"
	"math"
	"slices"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"
)

// cronParser reads the legacy cron_schedule of StartWorkflowExecution: five fields, descriptors
// (@hourly, @every 1h) and a CRON_TZ= prefix, as Temporal accepts.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ValidateCron reports whether spec is a cron schedule Duro can run.
func ValidateCron(spec string) error {
	if _, err := cronParser.Parse(spec); err != nil {
		return fmt.Errorf("invalid CronSchedule %q: %w", spec, err)
	}
	return nil
}

// cronBackoff is how long after now the next cron run starts.
func cronBackoff(spec string, now time.Time) time.Duration {
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return 0
	}
	next := sched.Next(now)
	if next.IsZero() {
		return 0
	}
	return next.Sub(now)
}

// successor decides whether a closing run is followed by another — a retry under the workflow's
// retry policy (failures and run timeouts), else the next cron run — and returns its spec and the
// retry state to record on the close event.
func (t *txn) successor(failure *failurepb.Failure, failedOrTimedOut bool, result *commonpb.Payloads) (*runSpec, enumspb.RetryState, error) {
	ms := t.ms
	state := enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET
	var spec *runSpec
	if failedOrTimedOut && len(ms.RetryPolicy) > 0 {
		rp := &commonpb.RetryPolicy{}
		if err := proto.Unmarshal(ms.RetryPolicy, rp); err != nil {
			return nil, 0, internal(err)
		}
		rp = normalizeRetryPolicy(rp)
		var delay time.Duration
		state, delay = workflowRetry(ms, rp, failure, t.now)
		if state == enumspb.RETRY_STATE_IN_PROGRESS {
			s, err := t.nextRunSpec(delay, enumspb.CONTINUE_AS_NEW_INITIATOR_RETRY)
			if err != nil {
				return nil, 0, err
			}
			s.Attempt = ms.Attempt + 1
			s.ContinuedFailure = failure
			spec = s
		}
	}
	if spec == nil && ms.CronSchedule != "" {
		s, err := t.nextRunSpec(cronBackoff(ms.CronSchedule, t.now), enumspb.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE)
		if err != nil {
			return nil, 0, err
		}
		s.LastCompletion = result
		if failure != nil {
			s.ContinuedFailure = failure
		}
		if !ms.ExecutionExpiration.IsZero() && t.now.Add(s.StartDelay).After(ms.ExecutionExpiration) {
			s = nil // the chain's execution timeout ends the cron
		}
		spec = s
	}
	return spec, state, nil
}

// workflowRetry is the workflow-level retry decision (Temporal applies the same rules as for
// activities, bounded by the execution timeout instead of schedule-to-close).
func workflowRetry(ms *mutableState, rp *commonpb.RetryPolicy, f *failurepb.Failure, now time.Time) (enumspb.RetryState, time.Duration) {
	if ms.CancelRequested {
		return enumspb.RETRY_STATE_CANCEL_REQUESTED, 0
	}
	if app := f.GetApplicationFailureInfo(); app != nil {
		if app.GetNonRetryable() || slices.Contains(rp.GetNonRetryableErrorTypes(), app.GetType()) {
			return enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE, 0
		}
	}
	if rp.GetMaximumAttempts() > 0 && ms.Attempt >= rp.GetMaximumAttempts() {
		return enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED, 0
	}
	d := float64(rp.GetInitialInterval().AsDuration()) * math.Pow(rp.GetBackoffCoefficient(), float64(ms.Attempt-1))
	if max := float64(rp.GetMaximumInterval().AsDuration()); max > 0 && d > max {
		d = max
	}
	if nd := f.GetApplicationFailureInfo().GetNextRetryDelay().AsDuration(); nd > 0 {
		d = float64(nd)
	}
	delay := time.Duration(d)
	if !ms.ExecutionExpiration.IsZero() && now.Add(delay).After(ms.ExecutionExpiration) {
		return enumspb.RETRY_STATE_TIMEOUT, 0
	}
	return enumspb.RETRY_STATE_IN_PROGRESS, delay
}

// nextRunSpec builds the spec of a retry or cron run from this run's WorkflowExecutionStarted.
func (t *txn) nextRunSpec(delay time.Duration, initiator enumspb.ContinueAsNewInitiator) (*runSpec, error) {
	ms := t.ms
	wes, err := t.startedAttrs()
	if err != nil {
		return nil, err
	}
	return &runSpec{
		Namespace: ms.Namespace, WorkflowID: ms.WorkflowID, RunID: uuid.NewString(), FirstRunID: ms.FirstRunID,
		WorkflowType: wes.GetWorkflowType(), TaskQueue: ms.TaskQueue, Input: wes.GetInput(), Header: wes.GetHeader(),
		Memo: wes.GetMemo(), SearchAttributes: wes.GetSearchAttributes(), RetryPolicy: wes.GetRetryPolicy(),
		CronSchedule: ms.CronSchedule, ExecutionTimeout: ms.ExecutionTimeout, RunTimeout: ms.RunTimeout,
		TaskTimeout: ms.WorkflowTaskTimeout, ExecutionExpiration: ms.ExecutionExpiration, StartDelay: delay,
		Identity: "duro", RequestID: uuid.NewString(), Attempt: 1, ContinuedFrom: ms.RunID, Initiator: initiator, Parent: ms.Parent,
	}, nil
}

// startedAttrs reads this run's first event.
func (t *txn) startedAttrs() (*historypb.WorkflowExecutionStartedEventAttributes, error) {
	events, err := t.e.readEvents(t.ctx, t.ms.Namespace, t.ms.RunID, 1, 2, 1)
	if err != nil {
		return nil, err
	}
	if len(events) != 1 || events[0].GetWorkflowExecutionStartedEventAttributes() == nil {
		return nil, internal(fmt.Errorf("run %s has no WorkflowExecutionStarted event", t.ms.RunID))
	}
	return events[0].GetWorkflowExecutionStartedEventAttributes(), nil
}

// closeWithSuccessor links the successor run (if any) to the closing transition. The close event
// must already carry spec.RunID as its new_execution_run_id.
func (t *txn) closeWithSuccessor(status enumspb.WorkflowExecutionStatus, closeEventID int64, spec *runSpec) {
	if spec == nil {
		t.closeRun(status, closeEventID)
		return
	}
	// The chain goes on: the parent hears only from its last run, so close like a continue-as-new
	// for the outbox, but keep the run's own status.
	parent := t.ms.Parent
	t.ms.Parent = nil
	t.closeRun(status, closeEventID)
	t.ms.Parent = parent
	t.linked = append(t.linked, t.e.newRunTxn(*spec, t.ms.RunID))
}
