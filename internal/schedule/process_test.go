package schedule

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// newState is a schedule created at t0 firing every interval.
func newState(t *testing.T, every time.Duration, policies *schedulepb.SchedulePolicies) (*state, Spec) {
	t.Helper()
	spec := &schedulepb.ScheduleSpec{Interval: []*schedulepb.IntervalSpec{{Interval: durationpb.New(every)}}}
	sp, canon, err := CompileSpec(spec)
	require.NoError(t, err)
	st := &state{
		Schedule: &schedulepb.Schedule{
			Spec: canon,
			Action: &schedulepb.ScheduleAction{Action: &schedulepb.ScheduleAction_StartWorkflow{StartWorkflow: &workflowpb.NewWorkflowExecutionInfo{
				WorkflowId: "wf", WorkflowType: &commonpb.WorkflowType{Name: "W"}, TaskQueue: &taskqueuepb.TaskQueue{Name: "tq"},
			}}},
			Policies: policies,
		},
		Info:      &schedulepb.ScheduleInfo{CreateTime: timestamppb.New(t0)},
		Namespace: "default", NamespaceID: "ns-id", ID: "sched", Incarnation: "inc", LastProcessed: t0,
	}
	st.ensureFields()
	return st, sp
}

// nominals lists the nominal times of the pending starts.
func nominals(st *state) []time.Time {
	var out []time.Time
	for _, p := range st.Pending {
		out = append(out, p.Nominal)
	}
	return out
}

// startAll records every pending start as made (run IDs "run-<seq>").
func startAll(st *state, now time.Time) {
	for _, p := range st.Pending {
		st.recordStart(p, "run-"+p.WorkflowID, now)
	}
	st.Pending = nil
}

func TestDecideOverlap(t *testing.T) {
	t.Parallel()
	resolve := func(p enumspb.ScheduleOverlapPolicy) enumspb.ScheduleOverlapPolicy {
		if p == enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED {
			return enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		}
		return p
	}
	buf := func(policy enumspb.ScheduleOverlapPolicy, n int) []*bufferedStart {
		var out []*bufferedStart
		for i := 0; i < n; i++ {
			out = append(out, &bufferedStart{Nominal: t0.Add(time.Duration(i) * time.Minute), Overlap: policy})
		}
		return out
	}
	for _, tc := range []struct {
		name                    string
		policy                  enumspb.ScheduleOverlapPolicy
		n                       int
		running                 bool
		allowAll, keep          int
		next, cancel, terminate bool
		skipped                 int64
	}{
		{name: "skip idle", policy: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, n: 3, next: true, skipped: 2},
		{name: "skip running", policy: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, n: 2, running: true, skipped: 2},
		{name: "buffer one running", policy: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, n: 3, running: true, keep: 1, skipped: 2},
		{name: "buffer one idle", policy: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, n: 3, next: true, keep: 1, skipped: 1},
		{name: "buffer all running", policy: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL, n: 3, running: true, keep: 3},
		{name: "buffer all idle", policy: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL, n: 3, next: true, keep: 2},
		{name: "cancel other running", policy: enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, n: 1, running: true, keep: 1, cancel: true},
		{name: "cancel other idle replaces", policy: enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, n: 3, next: true},
		{name: "terminate other running", policy: enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER, n: 2, running: true, keep: 2, terminate: true},
		{name: "allow all", policy: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, n: 4, running: true, allowAll: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decideOverlap(buf(tc.policy, tc.n), tc.running, resolve)
			require.Len(t, d.allowAll, tc.allowAll)
			require.Len(t, d.keep, tc.keep)
			require.Equal(t, tc.next, d.next != nil, "next")
			require.Equal(t, tc.cancel, d.cancel, "cancel")
			require.Equal(t, tc.terminate, d.terminate, "terminate")
			require.Equal(t, tc.skipped, d.skipped, "skipped")
		})
	}
	t.Run("cancel other idle keeps the last", func(t *testing.T) {
		b := buf(enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, 3)
		d := decideOverlap(b, false, resolve)
		require.Same(t, b[2], d.next)
	})
	t.Run("terminate drops allow-all", func(t *testing.T) {
		b := append(buf(enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, 1), buf(enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER, 1)...)
		d := decideOverlap(b, true, resolve)
		require.Empty(t, d.allowAll)
		require.True(t, d.terminate)
	})
}

func TestAdvanceFiresEachTimeOnce(t *testing.T) {
	t.Parallel()
	st, sp := newState(t, time.Minute, &schedulepb.SchedulePolicies{OverlapPolicy: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL})
	st.advance(sp, t0.Add(30*time.Second))
	require.Empty(t, st.Pending, "nothing due before the first minute")
	st.advance(sp, t0.Add(3*time.Minute+time.Second))
	require.Equal(t, []time.Time{t0.Add(time.Minute), t0.Add(2 * time.Minute), t0.Add(3 * time.Minute)}, nominals(st))
	require.Equal(t, []string{"wf-2030-01-01T00:01:00Z", "wf-2030-01-01T00:02:00Z", "wf-2030-01-01T00:03:00Z"},
		[]string{st.Pending[0].WorkflowID, st.Pending[1].WorkflowID, st.Pending[2].WorkflowID})
	startAll(st, t0.Add(3*time.Minute+time.Second))
	st.advance(sp, t0.Add(3*time.Minute+2*time.Second))
	require.Empty(t, st.Pending, "a time is never fired twice")
	st.advance(sp, t0.Add(2*time.Minute)) // the clock went back
	require.Empty(t, st.Pending)
	require.Equal(t, int64(3), st.Info.ActionCount)
	require.Equal(t, t0.Add(4*time.Minute), st.nextTime(sp))
}

func TestRequestIDsAreStableAndDistinct(t *testing.T) {
	t.Parallel()
	st, _ := newState(t, time.Minute, nil)
	require.Equal(t, st.requestID(1), st.requestID(1))
	require.NotEqual(t, st.requestID(1), st.requestID(2))
	other := *st
	other.Incarnation = "another"
	require.NotEqual(t, st.requestID(1), other.requestID(1), "a schedule created again under the same ID gets new request IDs")
}

func TestCatchupWindow(t *testing.T) {
	t.Parallel()
	st, sp := newState(t, time.Hour, &schedulepb.SchedulePolicies{
		OverlapPolicy: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, CatchupWindow: durationpb.New(150 * time.Minute),
	})
	// Down for five hours and a bit: the times older than the window are missed, the rest start.
	now := t0.Add(5*time.Hour + 10*time.Minute)
	st.advance(sp, now)
	require.Equal(t, []time.Time{t0.Add(3 * time.Hour), t0.Add(4 * time.Hour), t0.Add(5 * time.Hour)}, nominals(st))
	require.Equal(t, int64(2), st.Info.MissedCatchupWindow)
	startAll(st, now)
	st.advance(sp, now.Add(time.Second))
	require.Empty(t, st.Pending)
	require.Equal(t, int64(2), st.Info.MissedCatchupWindow, "a missed time is counted once")
}

func TestCatchupWindowMinimumAndDefault(t *testing.T) {
	t.Parallel()
	st, _ := newState(t, time.Hour, &schedulepb.SchedulePolicies{CatchupWindow: durationpb.New(time.Second)})
	require.Equal(t, MinCatchupWindow, st.catchupWindow())
	st, _ = newState(t, time.Hour, nil)
	require.Equal(t, DefaultCatchupWindow, st.catchupWindow())
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, st.Schedule.Policies.OverlapPolicy)
}

func TestSkipAfterDowntimeStartsOne(t *testing.T) {
	t.Parallel()
	st, sp := newState(t, time.Hour, nil) // SKIP
	st.advance(sp, t0.Add(3*time.Hour))
	require.Equal(t, []time.Time{t0.Add(time.Hour)}, nominals(st))
	require.Equal(t, int64(2), st.Info.OverlapSkipped)
}

func TestOverlapWithRunningWorkflow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy                enumspb.ScheduleOverlapPolicy
		pendingSecond, buffer int
		skipped               int64
		kills                 int
	}{
		{policy: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, skipped: 2},
		{policy: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, buffer: 1, skipped: 1},
		{policy: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL, buffer: 2},
		{policy: enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, buffer: 2, kills: 1},
		{policy: enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER, buffer: 2, kills: 1},
		{policy: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, pendingSecond: 2},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			st, sp := newState(t, time.Minute, &schedulepb.SchedulePolicies{OverlapPolicy: tc.policy})
			st.advance(sp, t0.Add(time.Minute))
			require.Len(t, st.Pending, 1)
			startAll(st, t0.Add(time.Minute))
			st.advance(sp, t0.Add(3*time.Minute))
			require.Len(t, st.Pending, tc.pendingSecond)
			require.Len(t, st.Buffer, tc.buffer)
			require.Equal(t, tc.skipped, st.Info.OverlapSkipped)
			require.Len(t, st.Kills, tc.kills)
			// Asking again does not send a second cancel or terminate.
			st.Kills = nil
			st.advance(sp, t0.Add(3*time.Minute+time.Second))
			require.Empty(t, st.Kills)
			if tc.buffer > 0 {
				// The running workflow closes: the first buffered start runs.
				ex := st.Info.RunningWorkflows[0]
				st.closed(ex, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "")
				st.advance(sp, t0.Add(3*time.Minute+2*time.Second))
				want := t0.Add(2 * time.Minute)
				if tc.kills > 0 {
					// Nothing runs now: the later CANCEL_OTHER / TERMINATE_OTHER start replaces the earlier.
					want = t0.Add(3 * time.Minute)
				}
				require.Equal(t, []time.Time{want}, nominals(st))
				require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, st.Info.RecentActions[0].StartWorkflowStatus)
			}
		})
	}
}

func TestPauseAndRemainingActions(t *testing.T) {
	t.Parallel()
	st, sp := newState(t, time.Minute, &schedulepb.SchedulePolicies{OverlapPolicy: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL})
	st.Schedule.State = &schedulepb.ScheduleState{LimitedActions: true, RemainingActions: 2}
	st.applyPatch(&schedulepb.SchedulePatch{Pause: "maintenance"}, t0)
	st.advance(sp, t0.Add(5*time.Minute))
	require.Empty(t, st.Pending, "paused")
	require.Zero(t, st.Info.MissedCatchupWindow, "time passed while paused is not missed")
	require.True(t, st.wakeAt(sp, t0.Add(5*time.Minute), time.Second).IsZero(), "a paused schedule sleeps until changed")

	// A trigger runs even while paused, and takes no remaining action.
	st.applyPatch(&schedulepb.SchedulePatch{TriggerImmediately: &schedulepb.TriggerImmediatelyRequest{}}, t0.Add(5*time.Minute))
	st.planBuffer()
	require.Len(t, st.Pending, 1)
	require.True(t, st.Pending[0].Manual)
	startAll(st, t0.Add(5*time.Minute))
	require.Equal(t, int64(2), st.Schedule.State.RemainingActions)

	st.applyPatch(&schedulepb.SchedulePatch{Unpause: "back"}, t0.Add(5*time.Minute))
	require.Equal(t, "back", st.Schedule.State.Notes)
	st.advance(sp, t0.Add(10*time.Minute))
	require.Len(t, st.Pending, 2, "two remaining actions")
	require.Zero(t, st.Schedule.State.RemainingActions)
	startAll(st, t0.Add(10*time.Minute))
	st.advance(sp, t0.Add(20*time.Minute))
	require.Empty(t, st.Pending, "out of actions")
	require.Empty(t, st.futureTimes(sp, 10))
	require.Equal(t, t0.Add(10*time.Minute).Add(RetentionTime), st.wakeAt(sp, t0.Add(20*time.Minute), time.Second),
		"a schedule out of actions is kept for its retention after its last action")
}

func TestPauseOnFailure(t *testing.T) {
	t.Parallel()
	st, sp := newState(t, time.Minute, &schedulepb.SchedulePolicies{PauseOnFailure: true})
	st.advance(sp, t0.Add(time.Minute))
	startAll(st, t0.Add(time.Minute))
	token := st.ConflictToken
	st.closed(st.Info.RunningWorkflows[0], enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, "boom")
	require.True(t, st.Schedule.State.Paused)
	require.Equal(t, "paused due to workflow failure: wf-2030-01-01T00:01:00Z: boom", st.Schedule.State.Notes)
	require.Greater(t, st.ConflictToken, token)
	st.advance(sp, t0.Add(5*time.Minute))
	require.Empty(t, st.Pending)
}

func TestBackfillProgressIsRecorded(t *testing.T) {
	t.Parallel()
	st, sp := newState(t, 24*time.Hour, nil)
	from, to := t0.AddDate(0, 0, -30), t0.AddDate(0, 0, -1)
	st.applyPatch(&schedulepb.SchedulePatch{BackfillRequest: []*schedulepb.BackfillRequest{{
		StartTime: timestamppb.New(from), EndTime: timestamppb.New(to), OverlapPolicy: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
	}}}, t0)
	var got []time.Time
	for steps := 0; len(st.Backfills) > 0 || len(st.Pending) > 0; steps++ {
		require.Less(t, steps, 10)
		st.advance(sp, t0)
		require.LessOrEqual(t, len(st.Pending), backfillsPerStep)
		got = append(got, nominals(st)...)
		startAll(st, t0)
		// The record as a restart would read it: progress and all.
		data, err := st.encode()
		require.NoError(t, err)
		st, err = decode(data)
		require.NoError(t, err)
	}
	var want []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		want = append(want, d)
	}
	require.Len(t, want, 30)
	require.Equal(t, want, got, "the start of a backfill is inclusive, its end too, and each time is taken once")
	require.Zero(t, st.Info.MissedCatchupWindow, "backfills ignore the catch-up window")
}

func TestJitteredTimeIsNotLost(t *testing.T) {
	t.Parallel()
	spec := &schedulepb.ScheduleSpec{
		Interval: []*schedulepb.IntervalSpec{{Interval: durationpb.New(time.Minute)}},
		Jitter:   durationpb.New(50 * time.Second),
	}
	sp, canon, err := CompileSpec(spec)
	require.NoError(t, err)
	st, _ := newState(t, time.Minute, &schedulepb.SchedulePolicies{OverlapPolicy: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL})
	st.Schedule.Spec = canon
	var got []time.Time
	for now := t0; now.Before(t0.Add(10 * time.Minute)); now = now.Add(7 * time.Second) {
		st.advance(sp, now)
		for _, p := range st.Pending {
			require.False(t, p.Actual.After(now), "started before its actual time")
			require.Less(t, p.Actual.Sub(p.Nominal), 50*time.Second)
		}
		got = append(got, nominals(st)...)
		startAll(st, now)
	}
	for i := 1; i < len(got); i++ {
		require.Equal(t, time.Minute, got[i].Sub(got[i-1]), "no time lost or repeated: %v", got)
	}
	require.GreaterOrEqual(t, len(got), 8)
}

func TestUpdateAndRequestIDs(t *testing.T) {
	t.Parallel()
	st, sp := newState(t, time.Minute, nil)
	st.advance(sp, t0.Add(90*time.Second))
	startAll(st, t0.Add(90*time.Second))
	token := st.ConflictToken
	next := proto.Clone(st.Schedule).(*schedulepb.Schedule)
	next.Policies = &schedulepb.SchedulePolicies{OverlapPolicy: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL}
	next.State = &schedulepb.ScheduleState{Notes: "updated"}
	st.applyUpdate(next, nil, t0.Add(90*time.Second))
	require.Equal(t, token+1, st.ConflictToken)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL, st.Schedule.Policies.OverlapPolicy)
	require.Equal(t, "updated", st.Schedule.State.Notes)
	require.Equal(t, int64(1), st.Info.ActionCount, "an update keeps the info")
	require.Equal(t, durationpb.New(DefaultCatchupWindow).AsDuration(), st.Schedule.Policies.CatchupWindow.AsDuration())

	require.False(t, st.seenRequest("r1"))
	for i := 0; i < rememberedRequests+5; i++ {
		st.rememberRequest(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	st.rememberRequest("r1")
	require.True(t, st.seenRequest("r1"))
	require.Len(t, st.RequestIDs, rememberedRequests)
	require.False(t, st.seenRequest(""))
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	st, sp := newState(t, time.Minute, &schedulepb.SchedulePolicies{OverlapPolicy: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL})
	st.Memo = &commonpb.Memo{Fields: map[string]*commonpb.Payload{"a": {Data: []byte(`"1"`)}, "b": {Data: []byte(`"2"`)}}}
	st.advance(sp, t0.Add(3*time.Minute))
	startAll(st, t0.Add(3*time.Minute))
	st.advance(sp, t0.Add(5*time.Minute))
	data, err := st.encode()
	require.NoError(t, err)
	back, err := decode(data)
	require.NoError(t, err)
	again, err := back.encode()
	require.NoError(t, err)
	require.Equal(t, string(data), string(again), "encoding is deterministic")
	require.True(t, proto.Equal(st.Schedule, back.Schedule))
	require.True(t, proto.Equal(st.Info, back.Info))
	require.Equal(t, st.Buffer, back.Buffer)
	require.Equal(t, st.LastProcessed, back.LastProcessed)
}
