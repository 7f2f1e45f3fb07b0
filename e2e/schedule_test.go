package e2e

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The schedule tests drive Duro's scheduler with the Go SDK's schedule client. Time is the node's
// manual clock: a test lines it up just after a whole hour and then moves it an hour at a time,
// so each move makes exactly one scheduled time come due (real time flows too, but never an hour
// within a test).

// schedHeldWorkflow runs until it gets a "finish" signal, or is cancelled: a run that outlives its
// schedule's interval.
func schedHeldWorkflow(ctx workflow.Context) (string, error) {
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, "finish"), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	sel.Select(ctx)
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return "finished", nil
}

// schedQuickWorkflow completes at once.
func schedQuickWorkflow(ctx workflow.Context) (string, error) { return "done", nil }

// schedFailingWorkflow fails at once.
func schedFailingWorkflow(ctx workflow.Context) error {
	return temporal.NewNonRetryableApplicationError("scheduled run failed", "Boom", nil)
}

var schedRegistry = registry{workflows: []any{schedHeldWorkflow, schedQuickWorkflow, schedFailingWorkflow}}

// schedAlign moves the node's clock to one second after the next whole hour and returns that hour.
func (e *env) schedAlign() time.Time {
	now := e.clk.Now()
	hour := now.Truncate(time.Hour).Add(time.Hour)
	e.clk.Advance(hour.Add(time.Second).Sub(now))
	return hour.UTC()
}

// schedCreate creates an hourly schedule of wf on tq with the given overlap policy.
func (e *env) schedCreate(id, tq string, wf any, opts client.ScheduleOptions) client.ScheduleHandle {
	e.t.Helper()
	opts.ID = id
	if opts.Spec.Intervals == nil && opts.Spec.CronExpressions == nil && opts.Spec.Calendars == nil {
		opts.Spec.Intervals = []client.ScheduleIntervalSpec{{Every: time.Hour}}
	}
	if opts.Action == nil {
		opts.Action = &client.ScheduleWorkflowAction{ID: id + "-wf", Workflow: wf, TaskQueue: tq}
	}
	h, err := e.c.ScheduleClient().Create(e.ctx(), opts)
	require.NoError(e.t, err, "create schedule %s", id)
	return h
}

// schedRun is a run a schedule started, as ListWorkflowExecutions shows it.
type schedRun struct {
	WorkflowID, RunID string
	Status            enumspb.WorkflowExecutionStatus
	ScheduledStart    time.Time // TemporalScheduledStartTime
}

// schedRuns lists the runs started by schedule id (TemporalScheduledById = id), oldest scheduled
// time first.
func (e *env) schedRuns(id string) []schedRun {
	e.t.Helper()
	var out []schedRun
	var token []byte
	for {
		resp, err := e.raw.ListWorkflowExecutions(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, Query: "TemporalScheduledById = '" + id + "'", NextPageToken: token,
		})
		require.NoError(e.t, err)
		for _, info := range resp.GetExecutions() {
			out = append(out, schedRunOf(e.t, info))
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].ScheduledStart.Equal(out[j].ScheduledStart) {
			return out[i].ScheduledStart.Before(out[j].ScheduledStart)
		}
		return out[i].RunID < out[j].RunID
	})
	return out
}

func schedRunOf(t testing.TB, info *workflowpb.WorkflowExecutionInfo) schedRun {
	r := schedRun{WorkflowID: info.GetExecution().GetWorkflowId(), RunID: info.GetExecution().GetRunId(), Status: info.GetStatus()}
	p := info.GetSearchAttributes().GetIndexedFields()["TemporalScheduledStartTime"]
	require.NotNil(t, p, "run %s has no TemporalScheduledStartTime", r.WorkflowID)
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &r.ScheduledStart))
	r.ScheduledStart = r.ScheduledStart.UTC()
	return r
}

// schedCount counts the runs schedule id started.
func (e *env) schedCount(id string) int64 {
	e.t.Helper()
	resp, err := e.raw.CountWorkflowExecutions(e.ctx(), &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: namespace, Query: "TemporalScheduledById = '" + id + "'",
	})
	require.NoError(e.t, err)
	return resp.GetCount()
}

// schedWait polls a schedule's description until ok holds, and returns it.
func (e *env) schedWait(h client.ScheduleHandle, what string, ok func(d *client.ScheduleDescription) bool) *client.ScheduleDescription {
	e.t.Helper()
	var last *client.ScheduleDescription
	require.Eventually(e.t, func() bool {
		d, err := h.Describe(e.ctx())
		if err != nil {
			return false
		}
		last = d
		return ok(d)
	}, waitFor, tick, "schedule %s: %s", h.GetID(), what)
	return last
}

// schedWaitRuns waits until schedule id has started n runs and returns them.
func (e *env) schedWaitRuns(id string, n int) []schedRun {
	e.t.Helper()
	var runs []schedRun
	require.Eventually(e.t, func() bool {
		runs = e.schedRuns(id)
		return len(runs) >= n
	}, waitFor, tick, "schedule %s: want %d runs", id, n)
	require.Len(e.t, runs, n, "schedule %s started too many runs", id)
	return runs
}

// schedFinish signals a held run to finish and waits for it to close.
func (e *env) schedFinish(r schedRun) {
	e.t.Helper()
	require.NoError(e.t, e.c.SignalWorkflow(e.ctx(), r.WorkflowID, r.RunID, "finish", nil))
	var out string
	require.NoError(e.t, e.c.GetWorkflow(e.ctx(), r.WorkflowID, r.RunID).Get(e.ctx(), &out))
}

// schedClosed waits for a run to close.
func (e *env) schedClosed(r schedRun) {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		return e.status(r.WorkflowID, r.RunID) != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	}, waitFor, tick, "run %s never closed", r.WorkflowID)
}

func hourly(first time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = first.Add(time.Duration(i) * time.Hour)
	}
	return out
}

func schedStarts(runs []schedRun) []time.Time {
	out := make([]time.Time, len(runs))
	for i, r := range runs {
		out[i] = r.ScheduledStart
	}
	return out
}

func TestScheduleOverlapPolicies(t *testing.T) {
	t.Parallel()
	for _, policy := range []enumspb.ScheduleOverlapPolicy{
		enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
		enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
		enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
		enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER,
		enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
	} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tq := e.startWorker(schedRegistry)
			id := e.id("sched")
			h := e.schedCreate(id, tq, schedHeldWorkflow, client.ScheduleOptions{Overlap: policy})

			// The first time starts a run that holds on past the next two times.
			first := e.schedAlign()
			runs := e.schedWaitRuns(id, 1)
			require.Equal(t, first, runs[0].ScheduledStart)
			require.Equal(t, id+"-wf-"+first.Format(time.RFC3339), runs[0].WorkflowID, "the workflow ID carries the nominal time")
			// The next two times come due together, while that run holds on.
			e.clk.Advance(2 * time.Hour)
			times := hourly(first, 3)

			switch policy {
			case enumspb.SCHEDULE_OVERLAP_POLICY_SKIP:
				d := e.schedWait(h, "two times skipped", func(d *client.ScheduleDescription) bool { return d.Info.NumActionsSkippedOverlap == 2 })
				require.Equal(t, 1, d.Info.NumActions)
				e.schedFinish(runs[0])
				require.Len(t, e.schedRuns(id), 1)

			case enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
				e.schedWait(h, "one skipped", func(d *client.ScheduleDescription) bool { return d.Info.NumActionsSkippedOverlap == 1 })
				e.schedFinish(runs[0])
				runs = e.schedWaitRuns(id, 2)
				require.Equal(t, times[:2], schedStarts(runs), "the buffered (first overlapping) time runs after the first closes")
				e.schedFinish(runs[1])

			case enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
				e.schedFinish(runs[0])
				runs = e.schedWaitRuns(id, 2)
				e.schedFinish(runs[1])
				runs = e.schedWaitRuns(id, 3)
				require.Equal(t, times, schedStarts(runs), "every buffered time runs, one after the other")
				d := e.schedWait(h, "third running", func(d *client.ScheduleDescription) bool { return len(d.Info.RunningWorkflows) == 1 })
				require.Zero(t, d.Info.NumActionsSkippedOverlap)
				e.schedFinish(runs[2])

			case enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER:
				want := enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
				if policy == enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER {
					want = enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
				}
				// The first run is cancelled (or terminated); once it has closed, the later of the two
				// waiting times replaces the earlier and starts, as in Temporal.
				runs = e.schedWaitRuns(id, 2)
				require.Equal(t, want, e.status(runs[0].WorkflowID, runs[0].RunID))
				require.Equal(t, times[2], runs[1].ScheduledStart)
				e.schedFinish(runs[1])

			case enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL:
				runs = e.schedWaitRuns(id, 3)
				require.Equal(t, times, schedStarts(runs))
				for _, r := range runs {
					require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, r.Status, "all three run at once")
				}
				d, err := h.Describe(e.ctx())
				require.NoError(t, err)
				require.Empty(t, d.Info.RunningWorkflows, "ALLOW_ALL runs are not tracked, as in Temporal")
				for _, r := range runs {
					e.schedFinish(r)
				}
			}
			require.NoError(t, h.Delete(e.ctx()))
		})
	}
}

func TestScheduleBackfillThirtyDailyRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(schedRegistry)
	id := e.id("daily")
	h := e.schedCreate(id, tq, schedQuickWorkflow, client.ScheduleOptions{
		Spec:   client.ScheduleSpec{CronExpressions: []string{"0 6 * * *"}},
		Paused: true, // only the backfill acts
	})
	today := e.clk.Now().UTC().Truncate(24 * time.Hour)
	start, end := today.AddDate(0, 0, -40), today.AddDate(0, 0, -10)
	require.NoError(t, h.Backfill(e.ctx(), client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{{
		Start: start, End: end, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
	}}}))
	runs := e.schedWaitRuns(id, 30)
	var want []time.Time
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		want = append(want, d.Add(6*time.Hour))
	}
	require.Equal(t, want, schedStarts(runs), "exactly one run per day of the range, with its scheduled time")
	seen := map[string]bool{}
	for _, r := range runs {
		require.False(t, seen[r.WorkflowID], "workflow ID %s twice", r.WorkflowID)
		seen[r.WorkflowID] = true
		require.Equal(t, id+"-wf-"+r.ScheduledStart.Format(time.RFC3339), r.WorkflowID)
	}
	d := e.schedWait(h, "all thirty recorded", func(d *client.ScheduleDescription) bool { return d.Info.NumActions == 30 })
	require.Len(t, d.Info.RecentActions, 10, "the last ten actions")
	require.Equal(t, want[29], d.Info.RecentActions[9].ScheduleTime.UTC())
	require.True(t, d.Schedule.State.Paused)

	// A buffered backfill of the five days before runs them one after the other.
	require.NoError(t, h.Backfill(e.ctx(), client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{{
		Start: start.AddDate(0, 0, -5), End: start, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	}}}))
	runs = e.schedWaitRuns(id, 35)
	for _, r := range runs[:4] {
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, e.status(r.WorkflowID, r.RunID))
	}

	// ListScheduleMatchingTimes gives the spec's times in a range (after the start, up to the end).
	mt, err := e.raw.ListScheduleMatchingTimes(e.ctx(), &workflowservice.ListScheduleMatchingTimesRequest{
		Namespace: namespace, ScheduleId: id, StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.AddDate(0, 0, 3)),
	})
	require.NoError(t, err)
	require.Len(t, mt.GetStartTime(), 3)
	require.Equal(t, start.Add(6*time.Hour), mt.GetStartTime()[0].AsTime())
}

func TestSchedulePauseUnpauseTrigger(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(schedRegistry)
	id := e.id("pause")
	h := e.schedCreate(id, tq, schedQuickWorkflow, client.ScheduleOptions{Note: "created"})

	d, err := h.Describe(e.ctx())
	require.NoError(t, err)
	require.Equal(t, "created", d.Schedule.State.Note)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, d.Schedule.Policy.Overlap, "defaults are shown")
	require.Equal(t, 365*24*time.Hour, d.Schedule.Policy.CatchupWindow)
	require.Len(t, d.Info.NextActionTimes, 10)
	require.False(t, d.Info.CreatedAt.IsZero())

	require.NoError(t, h.Pause(e.ctx(), client.SchedulePauseOptions{Note: "maintenance"}))
	first := e.schedAlign()
	e.clk.Advance(time.Hour)
	d = e.schedWait(h, "paused", func(d *client.ScheduleDescription) bool { return d.Schedule.State.Paused })
	require.Equal(t, "maintenance", d.Schedule.State.Note)

	// A trigger acts even while paused.
	require.NoError(t, h.Trigger(e.ctx(), client.ScheduleTriggerOptions{}))
	runs := e.schedWaitRuns(id, 1)
	require.True(t, runs[0].ScheduledStart.After(first.Add(time.Hour)), "a trigger runs at the time it is asked for, not a scheduled one")
	require.Zero(t, e.schedWait(h, "trigger recorded", func(d *client.ScheduleDescription) bool { return d.Info.NumActions == 1 }).Info.NumActionsMissedCatchupWindow,
		"time passed while paused is not missed")

	e.schedClosed(runs[0]) // closed before the next time, so that SKIP lets it run
	require.NoError(t, h.Unpause(e.ctx(), client.ScheduleUnpauseOptions{Note: "back"}))
	e.clk.Advance(time.Hour)
	runs = e.schedWaitRuns(id, 2)
	require.Equal(t, first.Add(2*time.Hour), runs[1].ScheduledStart, "the next scheduled time after the unpause")
	d = e.schedWait(h, "unpaused", func(d *client.ScheduleDescription) bool { return d.Info.NumActions == 2 })
	require.Equal(t, "back", d.Schedule.State.Note)
	require.False(t, d.Schedule.State.Paused)
	require.Equal(t, first.Add(3*time.Hour), d.Info.NextActionTimes[0].UTC())
	require.Len(t, d.Info.RecentActions, 2)
	require.Equal(t, runs[1].WorkflowID, d.Info.RecentActions[1].StartWorkflowResult.WorkflowID)

	// Pause on failure: a failed run pauses the schedule with a note.
	e.schedClosed(runs[1])
	require.NoError(t, h.Update(e.ctx(), client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Action = &client.ScheduleWorkflowAction{ID: id + "-wf", Workflow: schedFailingWorkflow, TaskQueue: tq}
		s.Policy.PauseOnFailure = true
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}}))
	e.clk.Advance(time.Hour)
	e.schedClosed(e.schedWaitRuns(id, 3)[2])
	// Temporal notices the failure when it next looks at its runs: at the next time or a describe.
	e.clk.Advance(time.Hour)
	d = e.schedWait(h, "paused by the failure", func(d *client.ScheduleDescription) bool { return d.Schedule.State.Paused })
	require.Contains(t, d.Schedule.State.Note, "paused due to workflow failure: "+id+"-wf-")
	require.Contains(t, d.Schedule.State.Note, "scheduled run failed")
	require.Len(t, e.schedRuns(id), 3, "no run after the failure")
}

func TestScheduleRemainingActionsAndDescribe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(schedRegistry)
	id := e.id("limited")
	h := e.schedCreate(id, tq, schedHeldWorkflow, client.ScheduleOptions{
		RemainingActions: 2, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
		Memo: map[string]any{"owner": "ops"},
	})
	d, err := h.Describe(e.ctx())
	require.NoError(t, err)
	require.True(t, d.Schedule.State.LimitedActions)
	require.Equal(t, 2, d.Schedule.State.RemainingActions)
	require.Len(t, d.Info.NextActionTimes, 2, "no more next times than remaining actions")

	first := e.schedAlign()
	runs := e.schedWaitRuns(id, 1)
	d = e.schedWait(h, "running", func(d *client.ScheduleDescription) bool { return len(d.Info.RunningWorkflows) == 1 })
	require.Equal(t, runs[0].WorkflowID, d.Info.RunningWorkflows[0].WorkflowID)
	require.Equal(t, runs[0].RunID, d.Info.RunningWorkflows[0].FirstExecutionRunID)
	require.Equal(t, first, d.Info.RecentActions[0].ScheduleTime.UTC())
	require.Equal(t, runs[0].RunID, d.Info.RecentActions[0].StartWorkflowResult.FirstExecutionRunID)
	require.Equal(t, []time.Time{first.Add(time.Hour)}, []time.Time{d.Info.NextActionTimes[0].UTC()})
	require.NotNil(t, d.Memo.GetFields()["owner"])

	e.schedFinish(runs[0])
	for i := 0; i < 3; i++ {
		e.clk.Advance(time.Hour)
	}
	runs = e.schedWaitRuns(id, 2)
	require.Equal(t, first.Add(time.Hour), runs[1].ScheduledStart)
	d = e.schedWait(h, "both actions recorded", func(d *client.ScheduleDescription) bool { return d.Info.NumActions == 2 })
	require.Zero(t, d.Schedule.State.RemainingActions)
	require.Empty(t, d.Info.NextActionTimes)
	e.schedFinish(runs[1])
	e.clk.Advance(time.Hour)
	e.schedWait(h, "nothing running", func(d *client.ScheduleDescription) bool { return len(d.Info.RunningWorkflows) == 0 })
	require.Len(t, e.schedRuns(id), 2)
}

func TestScheduleAPIErrorsAndListing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(schedRegistry)
	id := e.id("api")
	h := e.schedCreate(id, tq, schedQuickWorkflow, client.ScheduleOptions{})

	_, err := e.c.ScheduleClient().Create(e.ctx(), client.ScheduleOptions{
		ID: id, Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Action: &client.ScheduleWorkflowAction{ID: "x", Workflow: schedQuickWorkflow, TaskQueue: tq},
	})
	require.ErrorIs(t, err, temporal.ErrScheduleAlreadyRunning)

	_, err = e.c.ScheduleClient().Create(e.ctx(), client.ScheduleOptions{
		ID: e.id("bad"), Spec: client.ScheduleSpec{CronExpressions: []string{"61 * * * *"}},
		Action: &client.ScheduleWorkflowAction{ID: "x", Workflow: schedQuickWorkflow, TaskQueue: tq},
	})
	var invalid *serviceerror.InvalidArgument
	require.ErrorAs(t, err, &invalid)

	_, err = e.c.ScheduleClient().GetHandle(e.ctx(), "no-such-schedule").Describe(e.ctx())
	var nf *serviceerror.NotFound
	require.ErrorAs(t, err, &nf)

	// A stale conflict token is refused.
	desc, err := e.raw.DescribeSchedule(e.ctx(), &workflowservice.DescribeScheduleRequest{Namespace: namespace, ScheduleId: id})
	require.NoError(t, err)
	require.NoError(t, h.Pause(e.ctx(), client.SchedulePauseOptions{}))
	_, err = e.raw.UpdateSchedule(e.ctx(), &workflowservice.UpdateScheduleRequest{
		Namespace: namespace, ScheduleId: id, Schedule: desc.GetSchedule(), ConflictToken: desc.GetConflictToken(), RequestId: "u1",
	})
	var fp *serviceerror.FailedPrecondition
	require.ErrorAs(t, err, &fp)

	// Schedules are not workflow executions, and list with their info.
	other := e.schedCreate(e.id("api-other"), tq, schedQuickWorkflow, client.ScheduleOptions{})
	list, err := e.raw.ListWorkflowExecutions(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace})
	require.NoError(t, err)
	require.Empty(t, list.GetExecutions())
	it, err := e.c.ScheduleClient().List(e.ctx(), client.ScheduleListOptions{PageSize: 1})
	require.NoError(t, err)
	var ids []string
	for it.HasNext() {
		ent, err := it.Next()
		require.NoError(t, err)
		ids = append(ids, ent.ID)
		require.Equal(t, "schedQuickWorkflow", ent.WorkflowType.Name)
		require.Len(t, ent.Spec.Intervals, 1)
		require.Len(t, ent.NextActionTimes, 5)
	}
	require.ElementsMatch(t, []string{id, other.GetID()}, ids)
	it, err = e.c.ScheduleClient().List(e.ctx(), client.ScheduleListOptions{Query: "TemporalSchedulePaused = true"})
	require.NoError(t, err)
	require.True(t, it.HasNext())
	ent, err := it.Next()
	require.NoError(t, err)
	require.Equal(t, id, ent.ID)
	require.False(t, it.HasNext())

	// Search attributes: the schedule's own (listed, queryable) and its action's (given to its runs,
	// beside TemporalScheduledById and TemporalScheduledStartTime); a trigger at creation.
	e.registerSearchAttributes()
	tagged := e.schedCreate(e.id("api-tagged"), tq, schedQuickWorkflow, client.ScheduleOptions{
		TypedSearchAttributes: temporal.NewSearchAttributes(saCustomer.ValueSet("acme")),
		TriggerImmediately:    true,
		Action: &client.ScheduleWorkflowAction{ID: "tagged-wf", Workflow: schedQuickWorkflow, TaskQueue: tq,
			TypedSearchAttributes: temporal.NewSearchAttributes(saPriority.ValueSet(3))},
	})
	runs := e.schedWaitRuns(tagged.GetID(), 1)
	dw, err := e.c.DescribeWorkflowExecution(e.ctx(), runs[0].WorkflowID, runs[0].RunID)
	require.NoError(t, err)
	sa := dw.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	var prio int64
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(sa["Priority"], &prio))
	require.Equal(t, int64(3), prio)
	var by string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(sa["TemporalScheduledById"], &by))
	require.Equal(t, tagged.GetID(), by)
	require.Len(t, e.listIDs("TemporalScheduledById = '"+tagged.GetID()+"' AND Priority = 3", 10), 1)
	td, err := tagged.Describe(e.ctx())
	require.NoError(t, err)
	cust, ok := td.TypedSearchAttributes.GetKeyword(saCustomer)
	require.True(t, ok, "the schedule's search attributes come back typed")
	require.Equal(t, "acme", cust)
	it, err = e.c.ScheduleClient().List(e.ctx(), client.ScheduleListOptions{Query: "CustomerId = 'acme'"})
	require.NoError(t, err)
	require.True(t, it.HasNext())
	ent, err = it.Next()
	require.NoError(t, err)
	require.Equal(t, tagged.GetID(), ent.ID)
	require.False(t, it.HasNext())
	_, err = e.c.ScheduleClient().Create(e.ctx(), client.ScheduleOptions{
		ID: e.id("api-badsa"), Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Action:                &client.ScheduleWorkflowAction{ID: "x", Workflow: schedQuickWorkflow, TaskQueue: tq},
		TypedSearchAttributes: temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyKeyword("NotRegistered").ValueSet("x")),
	})
	require.ErrorAs(t, err, &invalid)

	require.NoError(t, other.Delete(e.ctx()))
	require.ErrorAs(t, other.Delete(e.ctx()), &nf)
	_, err = other.Describe(e.ctx())
	require.ErrorAs(t, err, &nf)
	// The ID is free again.
	e.schedCreate(other.GetID(), tq, schedQuickWorkflow, client.ScheduleOptions{})
}

// schedNode is a node of the schedule restart tests (see restartNode).
type schedNode = restartNode

func newSchedNode(t *testing.T) *schedNode { return newRestartNode(t, nil) }

// stopOnceCounted stops the node as soon as schedule id has started at least n runs.
func (n *schedNode) stopOnceCounted(id string, n0 int64) int64 {
	n.t.Helper()
	var seen int64
	require.Eventually(n.t, func() bool {
		seen = n.e.schedCount(id)
		return seen >= n0
	}, waitFor, time.Millisecond, "schedule %s never started %d runs", id, n0)
	n.stop()
	return seen
}

// requireExactRuns checks that schedule id started exactly one run for each of want (no time twice,
// none missing) and recorded as many actions.
func requireExactRuns(t *testing.T, e *env, id string, want []time.Time) {
	t.Helper()
	h := e.c.ScheduleClient().GetHandle(e.ctx(), id)
	e.schedWait(h, "every start recorded", func(d *client.ScheduleDescription) bool { return d.Info.NumActions >= len(want) })
	runs := e.schedRuns(id)
	require.Equal(t, want, schedStarts(runs), "one run per scheduled time, none twice, none missing")
	d, err := h.Describe(e.ctx())
	require.NoError(t, err)
	require.Equal(t, len(want), d.Info.NumActions)
}

func TestScheduleRestartMidBackfill(t *testing.T) {
	t.Parallel()
	n := newSchedNode(t)
	id := "restart-backfill"
	// No worker: the runs stay open, which ALLOW_ALL does not mind.
	h := n.e.schedCreate(id, "no-worker", "ScheduledTarget", client.ScheduleOptions{Paused: true})
	start := n.clk.Now().UTC().Truncate(time.Hour).Add(-200 * time.Hour)
	require.NoError(t, h.Backfill(n.e.ctx(), client.ScheduleBackfillOptions{Backfill: []client.ScheduleBackfill{{
		Start: start, End: start.Add(119 * time.Hour), Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
	}}}))
	seen := n.stopOnceCounted(id, 15)
	t.Logf("stopped the node after %d of 120 backfilled runs", seen)
	n.start()
	requireExactRuns(t, n.e, id, hourly(start, 120))
}

func TestScheduleRestartDuringCatchup(t *testing.T) {
	t.Parallel()
	n := newSchedNode(t)
	id := "restart-catchup"
	n.e.schedCreate(id, "no-worker", "ScheduledTarget", client.ScheduleOptions{
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, CatchupWindow: 240 * time.Hour,
	})
	first := n.e.schedAlign()
	n.e.schedWaitRuns(id, 1)

	// Down for thirty days: 720 times pass; on restart the 240 within the catch-up window start and
	// the 480 older ones are missed. A second restart in the middle of the catch-up changes nothing.
	n.stop()
	n.clk.Advance(720 * time.Hour)
	n.start()
	seen := n.stopOnceCounted(id, 20)
	t.Logf("stopped the node again after %d of 241 runs", seen)
	n.start()
	want := append([]time.Time{first}, hourly(first.Add(481*time.Hour), 240)...)
	requireExactRuns(t, n.e, id, want)
	d, err := n.e.c.ScheduleClient().GetHandle(n.e.ctx(), id).Describe(n.e.ctx())
	require.NoError(t, err)
	require.Equal(t, 480, d.Info.NumActionsMissedCatchupWindow)
	require.Equal(t, first.Add(721*time.Hour), d.Info.NextActionTimes[0].UTC())
}
