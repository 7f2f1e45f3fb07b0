package schedule

import (
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/google/uuid"
)

// Spec is what the scheduler needs of a compiled schedule spec ([spec.Spec] is one): the next time
// strictly after t, as the nominal time the spec names and the actual time jitter moves it to
// (seeded, so the same schedule always jitters the same way); ok is false past the last time.
type Spec interface {
	Next(t time.Time, seed string) (nominal, actual time.Time, ok bool)
}

// The processing of a schedule's time is pure: it moves a state forward given the compiled spec
// and the time, and leaves the effects (starts, cancels, terminates) as Pending and Kills for the
// caller to make. Its rules are those of Temporal's scheduler workflow.

// seed is the jitter seed, Temporal's "<namespace ID>-<schedule ID>".
func (st *state) seed() string { return st.NamespaceID + "-" + st.ID }

// canTakeScheduledAction tells whether a start may be made: a manual one (trigger, backfill)
// always; a scheduled one unless the schedule is paused or out of remaining actions. With
// decrement, a scheduled start of a limited schedule uses one of its remaining actions.
func (st *state) canTakeScheduledAction(manual, decrement bool) bool {
	if manual {
		return true
	}
	s := st.Schedule.State
	if s.Paused {
		return false
	}
	if !s.LimitedActions {
		return true
	}
	if s.RemainingActions > 0 {
		if decrement {
			s.RemainingActions--
			st.ConflictToken++
		}
		return true
	}
	return false
}

// processTimeRange goes through the spec's times after start (by nominal time) whose actual time
// is at or before end, adding a start to the buffer for each one that is due. Scheduled (not
// manual) times are taken only if the schedule can act; one older than the catch-up window at end
// is counted missed instead, and one before the schedule's last update is passed over (it belonged
// to the spec as it was). limit, if set, stops after that many starts. It returns the nominal time
// of the last time it dealt with (start if none), the cursor to go on from, and whether the range
// has no time left.
func (st *state) processTimeRange(sp Spec, start, end time.Time, overlap enumspb.ScheduleOverlapPolicy, manual bool, limit *int) (time.Time, bool) {
	if sp == nil {
		return start, true
	}
	if !manual && !st.canTakeScheduledAction(false, false) {
		// Paused or out of actions: the whole range passes without effect (and none of it is
		// counted missed).
		return maxTime(start, end), true
	}
	window := st.catchupWindow()
	updated := st.Info.GetUpdateTime().AsTime()
	cursor := start
	for {
		nominal, actual, ok := sp.Next(cursor, st.seed())
		if !ok || actual.After(end) {
			return cursor, true
		}
		cursor = nominal
		switch {
		case !manual && actual.Before(updated):
			continue
		case !manual && end.Sub(actual) > window:
			st.Info.MissedCatchupWindow++
			continue
		}
		st.addStart(nominal, actual, overlap, manual)
		if limit != nil {
			if *limit--; *limit <= 0 {
				return cursor, false
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// addStart buffers a start, or counts it dropped if the buffer is full.
func (st *state) addStart(nominal, actual time.Time, overlap enumspb.ScheduleOverlapPolicy, manual bool) {
	if len(st.Buffer) >= maxBufferSize {
		st.Info.BufferDropped++
		return
	}
	st.Buffer = append(st.Buffer, &bufferedStart{Nominal: nominal.UTC(), Actual: actual.UTC(), Overlap: overlap, Manual: manual})
}

// processBackfills takes the next times of the queued backfills, at most backfillsPerStep in one
// step and only while the buffer is less than half full, recording how far each got.
func (st *state) processBackfills(sp Spec) {
	limit := backfillsPerStep
	for len(st.Backfills) > 0 && limit > 0 && len(st.Buffer) < maxBufferSize/2 {
		bf := st.Backfills[0]
		cursor, done := st.processTimeRange(sp, bf.Start, bf.End, bf.Overlap, true, &limit)
		if done {
			st.Backfills = st.Backfills[1:]
		} else {
			bf.Start = cursor
		}
	}
	if len(st.Backfills) == 0 {
		st.Backfills = nil
	}
}

// running tells whether a workflow the schedule tracks is running, or about to be (a tracked
// start decided but not yet made).
func (st *state) running() bool {
	if len(st.Info.RunningWorkflows) > 0 {
		return true
	}
	for _, p := range st.Pending {
		if p.Tracked {
			return true
		}
	}
	return false
}

// planBuffer applies the overlap policies to the buffer, moving the starts that may run now to
// Pending and asking for the cancels or terminates they wait for.
func (st *state) planBuffer() {
	for {
		if st.Schedule.GetAction().GetStartWorkflow() == nil || len(st.Buffer) == 0 {
			st.Buffer = nil
			return
		}
		d := decideOverlap(st.Buffer, st.running(), st.resolveOverlap)
		st.Buffer = d.keep
		st.Info.OverlapSkipped += d.skipped
		again := false
		starts := d.allowAll
		if d.next != nil {
			starts = append(starts, d.next)
		}
		for _, b := range starts {
			if !st.canTakeScheduledAction(b.Manual, true) {
				again = true // dropped: the rest of the buffer may now run
				continue
			}
			st.plan(b, b == d.next)
		}
		if d.terminate || d.cancel {
			st.planKills(d.terminate)
		}
		if !again {
			return
		}
	}
}

// plan records a start the scheduler has decided to make, with its workflow ID and request ID.
func (st *state) plan(b *bufferedStart, tracked bool) {
	st.NextSeq++
	policy := st.resolveOverlap(b.Overlap)
	wf := st.Schedule.GetAction().GetStartWorkflow()
	id := wf.GetWorkflowId()
	if !st.Schedule.GetPolicies().GetKeepOriginalWorkflowId() {
		// Temporal appends the nominal time to every scheduled workflow ID (AlwaysAppendTimestamp).
		id += "-" + b.Nominal.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	st.Pending = append(st.Pending, &pendingStart{
		Seq: st.NextSeq, Nominal: b.Nominal, Actual: b.Actual, Overlap: policy, Manual: b.Manual,
		WorkflowID: id, RequestID: st.requestID(st.NextSeq), Tracked: tracked,
	})
}

// requestNS is the UUID namespace the request IDs of scheduled starts are derived in.
var requestNS = uuid.MustParse("5d1f0b5e-3c9e-4c1e-9a53-2f8d0c6b7a41")

// requestID derives the request ID of the seq-th start of this incarnation of the schedule: the
// same start always asks the engine with the same ID, so a start made again after a crash (made,
// but not yet recorded) finds the run it made the first time.
func (st *state) requestID(seq int64) string {
	return uuid.NewSHA1(requestNS, fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", st.Namespace, st.ID, st.Incarnation, seq)).String()
}

// planKills asks for every running workflow not yet asked to be cancelled (or terminated).
func (st *state) planKills(terminate bool) {
	for _, ex := range st.Info.RunningWorkflows {
		if st.wasKilled(ex.GetRunId(), terminate) {
			continue
		}
		st.Kills = append(st.Kills, &kill{WorkflowID: ex.GetWorkflowId(), RunID: ex.GetRunId(), Terminate: terminate})
		st.Killed = append(st.Killed, killMark(ex.GetRunId(), terminate))
	}
}

func killMark(runID string, terminate bool) string {
	if terminate {
		return "terminate:" + runID
	}
	return "cancel:" + runID
}

func (st *state) wasKilled(runID string, terminate bool) bool {
	mark := killMark(runID, terminate)
	for _, k := range st.Killed {
		if k == mark {
			return true
		}
	}
	return false
}

// advance moves the schedule to now: the times that came due, then the backfills, then the
// buffer. It must not run while starts are pending (they count as running for the overlap
// policies only once decided, and their order matters).
func (st *state) advance(sp Spec, now time.Time) {
	// LastProcessed is a cursor of nominal times: a time whose jitter puts it after now is left for
	// a later step even though its nominal time has passed. A clock that went back (another
	// node's) finds nothing due after the cursor, so no time is processed twice.
	st.LastProcessed, _ = st.processTimeRange(sp, st.LastProcessed, now, enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED, false, nil)
	st.processBackfills(sp)
	st.planBuffer()
}

// recordStart records a start the engine made (or found already made): the action count, the
// recent actions and, for a tracked start, the running workflows.
func (st *state) recordStart(p *pendingStart, runID string, now time.Time) {
	st.Info.ActionCount++
	st.Info.RecentActions = append(st.Info.RecentActions, &schedulepb.ScheduleActionResult{
		ScheduleTime:        timestamppb.New(p.Actual),
		ActualTime:          timestamppb.New(now),
		StartWorkflowResult: &commonpb.WorkflowExecution{WorkflowId: p.WorkflowID, RunId: runID},
		StartWorkflowStatus: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
	})
	if n := len(st.Info.RecentActions); n > recentActionCount {
		st.Info.RecentActions = st.Info.RecentActions[n-recentActionCount:]
	}
	if p.Tracked {
		st.Info.RunningWorkflows = append(st.Info.RunningWorkflows, &commonpb.WorkflowExecution{WorkflowId: p.WorkflowID, RunId: runID})
	}
}

// closed records that a tracked workflow is no longer running, with its close status (and, for a
// failure, the failure message): it leaves RunningWorkflows, its recent action shows the status,
// and a failure or timeout pauses a schedule with pause-on-failure.
func (st *state) closed(ex *commonpb.WorkflowExecution, status enumspb.WorkflowExecutionStatus, failureMessage string) {
	running := st.Info.RunningWorkflows[:0]
	for _, r := range st.Info.RunningWorkflows {
		if r.GetWorkflowId() != ex.GetWorkflowId() || r.GetRunId() != ex.GetRunId() {
			running = append(running, r)
		}
	}
	st.Info.RunningWorkflows = running
	if len(running) == 0 {
		st.Info.RunningWorkflows = nil
	}
	killed := st.Killed[:0]
	for _, k := range st.Killed {
		if k != killMark(ex.GetRunId(), true) && k != killMark(ex.GetRunId(), false) {
			killed = append(killed, k)
		}
	}
	st.Killed = killed
	if len(killed) == 0 {
		st.Killed = nil
	}
	for _, a := range st.Info.RecentActions {
		if a.GetStartWorkflowResult().GetWorkflowId() == ex.GetWorkflowId() && a.GetStartWorkflowResult().GetRunId() == ex.GetRunId() {
			a.StartWorkflowStatus = status
		}
	}
	failed := status == enumspb.WORKFLOW_EXECUTION_STATUS_FAILED || status == enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT
	if st.Schedule.Policies.PauseOnFailure && failed && !st.Schedule.State.Paused {
		st.Schedule.State.Paused = true
		if status == enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
			st.Schedule.State.Notes = fmt.Sprintf("paused due to workflow failure: %s: %s", ex.GetWorkflowId(), failureMessage)
		} else {
			st.Schedule.State.Notes = fmt.Sprintf("paused due to workflow timeout: %s", ex.GetWorkflowId())
		}
		st.ConflictToken++
	}
}

// nextTime is the actual time of the spec's next time after LastProcessed (zero if none): when the
// schedule next has something to do.
func (st *state) nextTime(sp Spec) time.Time {
	if sp == nil {
		return time.Time{}
	}
	_, actual, ok := sp.Next(st.LastProcessed, st.seed())
	if !ok {
		return time.Time{}
	}
	return actual
}

// wakeAt is when the schedule next needs attention: at once with starts or kills to make (after
// RetryAt) or backfills to go on with; soon, as a fallback to the close notifications, while
// buffered starts wait for a running workflow; at the next time of the spec while it can act; at
// the end of its retention once it has nothing left to do; else never (zero).
func (st *state) wakeAt(sp Spec, now time.Time, waitPoll time.Duration) time.Time {
	if len(st.Pending) > 0 || len(st.Kills) > 0 {
		if st.RetryAt.After(now) {
			return st.RetryAt
		}
		return now
	}
	if len(st.Backfills) > 0 && len(st.Buffer) < maxBufferSize/2 {
		return now
	}
	var wake time.Time
	if len(st.Buffer) > 0 {
		wake = now.Add(waitPoll)
	}
	next := st.nextTime(sp)
	if !next.IsZero() && st.canTakeScheduledAction(false, false) && (wake.IsZero() || next.Before(wake)) {
		wake = next
	}
	if exp := st.retentionExpiration(next); !exp.IsZero() && (wake.IsZero() || exp.Before(wake)) {
		wake = exp
	}
	return wake
}

// retentionExpiration is when a schedule that will never act again is deleted: RetentionTime
// after its last event (creation, update or action), unless it is paused or still has work.
func (st *state) retentionExpiration(next time.Time) time.Time {
	if st.Schedule.State.Paused || len(st.Buffer) > 0 || len(st.Backfills) > 0 || len(st.Pending) > 0 || len(st.Kills) > 0 {
		return time.Time{}
	}
	if !next.IsZero() && st.canTakeScheduledAction(false, false) {
		return time.Time{}
	}
	return st.lastEvent().Add(RetentionTime)
}

// lastEvent is the time of the schedule's creation, last update or last action, whichever is last.
func (st *state) lastEvent() time.Time {
	t := st.Info.GetCreateTime().AsTime()
	if u := st.Info.GetUpdateTime(); u != nil && u.AsTime().After(t) {
		t = u.AsTime()
	}
	if n := len(st.Info.RecentActions); n > 0 {
		if a := st.Info.RecentActions[n-1].GetActualTime().AsTime(); a.After(t) {
			t = a
		}
	}
	return t
}

// futureTimes lists up to n next action times after LastProcessed, no more than the remaining
// actions of a limited schedule and none before its last update.
func (st *state) futureTimes(sp Spec, n int) []*timestamppb.Timestamp {
	if sp == nil {
		return nil
	}
	if st.Schedule.State.LimitedActions && int(st.Schedule.State.RemainingActions) < n {
		n = int(st.Schedule.State.RemainingActions)
	}
	out := make([]*timestamppb.Timestamp, 0, max(n, 0))
	updated := st.Info.GetUpdateTime().AsTime()
	t := st.LastProcessed
	for len(out) < n {
		nominal, actual, ok := sp.Next(t, st.seed())
		if !ok {
			break
		}
		t = nominal
		if actual.Before(updated) {
			continue
		}
		out = append(out, timestamppb.New(actual))
	}
	return out
}

// applyPatch applies a PatchSchedule: a trigger (buffered as a manual start at its scheduled time,
// with its own overlap policy), backfills (queued, their start inclusive), pause or unpause with
// notes.
func (st *state) applyPatch(p *schedulepb.SchedulePatch, now time.Time) {
	if tr := p.GetTriggerImmediately(); tr != nil {
		at := now
		if tr.GetScheduledTime() != nil {
			at = tr.GetScheduledTime().AsTime()
		}
		st.addStart(at, at, tr.GetOverlapPolicy(), true)
	}
	for _, bf := range p.GetBackfillRequest() {
		if len(st.Backfills) >= maxBufferSize {
			st.Info.BufferDropped++
			continue
		}
		// Temporal's backfill start time is inclusive: look at the times after just before it.
		st.Backfills = append(st.Backfills, &backfill{
			Start:   bf.GetStartTime().AsTime().Add(-time.Millisecond),
			End:     bf.GetEndTime().AsTime(),
			Overlap: bf.GetOverlapPolicy(),
		})
	}
	if p.GetPause() != "" {
		st.Schedule.State.Paused = true
		st.Schedule.State.Notes = p.GetPause()
		st.ConflictToken++
	}
	if p.GetUnpause() != "" {
		st.Schedule.State.Paused = false
		st.Schedule.State.Notes = p.GetUnpause()
		st.ConflictToken++
	}
}

// applyUpdate replaces the schedule's spec, action, policies and state (not its info), and its
// search attributes if the update gives some.
func (st *state) applyUpdate(s *schedulepb.Schedule, sa *commonpb.SearchAttributes, now time.Time) {
	st.Schedule.Spec = s.GetSpec()
	st.Schedule.Action = s.GetAction()
	st.Schedule.Policies = s.GetPolicies()
	st.Schedule.State = s.GetState()
	st.ensureFields()
	if sa != nil {
		st.SearchAttributes = sa
		if len(sa.GetIndexedFields()) == 0 {
			st.SearchAttributes = nil
		}
	}
	st.Info.UpdateTime = timestamppb.New(now)
	st.ConflictToken++
}

// listInfo is the schedule's entry in ListSchedules.
func (st *state) listInfo(sp Spec) *schedulepb.ScheduleListInfo {
	spec := cloneSpec(st.Schedule.Spec)
	spec.TimezoneData = nil
	spec.StructuredCalendar = head(spec.StructuredCalendar, specFieldLimit)
	spec.ExcludeStructuredCalendar = head(spec.ExcludeStructuredCalendar, specFieldLimit)
	spec.Interval = head(spec.Interval, specFieldLimit)
	recent := st.Info.RecentActions
	if n := len(recent); n > recentActionCountForList {
		recent = recent[n-recentActionCountForList:]
	}
	return &schedulepb.ScheduleListInfo{
		Spec:              spec,
		WorkflowType:      st.Schedule.GetAction().GetStartWorkflow().GetWorkflowType(),
		Notes:             st.Schedule.State.Notes,
		Paused:            st.Schedule.State.Paused,
		RecentActions:     recent,
		FutureActionTimes: st.futureTimes(sp, futureActionCountForList),
	}
}

func head[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func cloneSpec(s *schedulepb.ScheduleSpec) *schedulepb.ScheduleSpec {
	if s == nil {
		return &schedulepb.ScheduleSpec{}
	}
	return proto.Clone(s).(*schedulepb.ScheduleSpec)
}
