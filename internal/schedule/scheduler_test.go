package schedule

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/storeopen"
)

// testBundle is a scheduler on a real SQLite store and engine, with a manual clock, whose loop the
// test drives by hand (process) instead of running it.
type testBundle struct {
	store store.Store
	e     *engine.Engine
	clk   *clock.Manual
	s     *Scheduler
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st, err := storeopen.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "duro.db"))
	require.NoError(t, err)
	clk := clock.NewManual()
	log := slog.New(slog.DiscardHandler)
	e := engine.New(engine.Config{Store: st, Clock: clk, Logger: log})
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	require.NoError(t, e.EnsureDefaultNamespace(ctx))
	return &testBundle{store: st, e: e, clk: clk, s: New(Config{Store: st, Engine: e, Clock: clk, Logger: log})}
}

func (b *testBundle) create(t *testing.T, id string, policy enumspb.ScheduleOverlapPolicy, patch *schedulepb.SchedulePatch) {
	t.Helper()
	_, err := b.s.Create(context.Background(), &workflowservice.CreateScheduleRequest{
		Namespace: "default", ScheduleId: id, RequestId: "create-" + id, InitialPatch: patch,
		Schedule: &schedulepb.Schedule{
			Spec: &schedulepb.ScheduleSpec{Interval: []*schedulepb.IntervalSpec{{Interval: durationpb.New(time.Hour)}}},
			Action: &schedulepb.ScheduleAction{Action: &schedulepb.ScheduleAction_StartWorkflow{StartWorkflow: &workflowpb.NewWorkflowExecutionInfo{
				WorkflowId: id + "-wf", WorkflowType: &commonpb.WorkflowType{Name: "W"}, TaskQueue: &taskqueuepb.TaskQueue{Name: "tq"},
			}}},
			Policies: &schedulepb.SchedulePolicies{OverlapPolicy: policy},
		},
	})
	require.NoError(t, err)
}

func (b *testBundle) state(t *testing.T, id string) (*store.Record, *state) {
	t.Helper()
	rec, err := b.store.GetRecord(context.Background(), "default", Kind, id)
	require.NoError(t, err)
	st, err := decode(rec.Data)
	require.NoError(t, err)
	return rec, st
}

// runs counts the executions of a workflow ID (every run, open or closed).
func (b *testBundle) runs(t *testing.T, workflowID string) int64 {
	t.Helper()
	n, err := b.store.CountExecutions(context.Background(), store.ExecutionFilter{Namespace: "default", WorkflowID: workflowID})
	require.NoError(t, err)
	return n
}

// TestStartMadeButNotRecordedIsFoundAgain is the crash the two-step start exists for: the starts
// a record has decided on are made, and the node dies before it records them. The next step makes
// them again with the same request IDs, the engine answers with the runs already made, and each
// time has exactly one run (even a manual start, whose workflow ID may be reused).
func TestStartMadeButNotRecordedIsFoundAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	past := b.clk.Now().UTC().Truncate(time.Hour).Add(-10 * time.Hour)
	b.create(t, "crash", enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, &schedulepb.SchedulePatch{
		BackfillRequest: []*schedulepb.BackfillRequest{{StartTime: timestamppb.New(past), EndTime: timestamppb.New(past.Add(4 * time.Hour))}},
	})
	_, st := b.state(t, "crash")
	require.Len(t, st.Pending, 5, "create decides on the backfill's starts and records them")

	// The starts are made, and the record is not written: the node "crashed".
	b.s.execute(ctx, st, b.clk.Now().UTC())
	require.Empty(t, st.Pending)
	made := map[string]string{}
	for _, a := range st.Info.RecentActions {
		made[a.GetStartWorkflowResult().GetWorkflowId()] = a.GetStartWorkflowResult().GetRunId()
	}
	require.Len(t, made, 5)

	require.NoError(t, b.s.process(ctx, key{"default", "crash"}))
	_, st = b.state(t, "crash")
	require.Empty(t, st.Pending)
	require.Empty(t, st.Backfills)
	require.Equal(t, int64(5), st.Info.ActionCount)
	for _, a := range st.Info.RecentActions {
		wid := a.GetStartWorkflowResult().GetWorkflowId()
		require.Equal(t, made[wid], a.GetStartWorkflowResult().GetRunId(), "%s: the run made before the crash", wid)
		require.Equal(t, int64(1), b.runs(t, wid), "%s started once", wid)
	}
}

// TestConcurrentProcessingConverges has two schedulers (two nodes) on one store process the same
// due schedule at once: compare-and-set lets one write each step, and request IDs make the other's
// starts find the same runs.
func TestConcurrentProcessingConverges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	other := New(Config{Store: b.store, Engine: b.e, Clock: b.clk, Logger: slog.New(slog.DiscardHandler)})
	b.create(t, "race", enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, nil)
	start := b.clk.Now()
	next := start.Truncate(time.Hour).Add(time.Hour)
	b.clk.Advance(next.Add(6*time.Hour + time.Second).Sub(start)) // six times due (and the seventh)
	errs := make(chan error, 2)
	for _, s := range []*Scheduler{b.s, other} {
		go func() { errs <- s.process(ctx, key{"default", "race"}) }()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	require.NoError(t, b.s.process(ctx, key{"default", "race"}))
	_, st := b.state(t, "race")
	require.Empty(t, st.Pending)
	require.Equal(t, int64(7), st.Info.ActionCount)
	for i := 0; i < 7; i++ {
		wid := "race-wf-" + next.Add(time.Duration(i)*time.Hour).UTC().Format(time.RFC3339)
		require.Equal(t, int64(1), b.runs(t, wid), "%s started once", wid)
	}
}

// TestCreateIsIdempotentAndPatchDeduplicates checks the request IDs of the API: a retried create
// succeeds, another create of the ID is refused, and a retried trigger triggers once.
func TestCreateIsIdempotentAndPatchDeduplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	b.create(t, "idem", enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, nil)
	b.create(t, "idem", enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, nil) // the same request ID
	_, err := b.s.Create(ctx, &workflowservice.CreateScheduleRequest{Namespace: "default", ScheduleId: "idem", RequestId: "another",
		Schedule: &schedulepb.Schedule{}})
	var ee *engine.Error
	require.ErrorAs(t, err, &ee)
	require.Equal(t, engine.CodeAlreadyStarted, ee.Code)

	trigger := &workflowservice.PatchScheduleRequest{Namespace: "default", ScheduleId: "idem", RequestId: "t1",
		Patch: &schedulepb.SchedulePatch{TriggerImmediately: &schedulepb.TriggerImmediatelyRequest{}}}
	require.NoError(t, b.s.Patch(ctx, trigger))
	require.NoError(t, b.s.Patch(ctx, trigger))
	require.NoError(t, b.s.process(ctx, key{"default", "idem"}))
	_, st := b.state(t, "idem")
	require.Equal(t, int64(1), st.Info.ActionCount)

	err = b.s.Update(ctx, &workflowservice.UpdateScheduleRequest{Namespace: "default", ScheduleId: "idem",
		Schedule: &schedulepb.Schedule{Spec: &schedulepb.ScheduleSpec{CronString: []string{"not a cron"}}}})
	require.ErrorAs(t, err, &ee)
	require.Equal(t, engine.CodeInvalidArgument, ee.Code)

	require.NoError(t, b.s.Delete(ctx, &workflowservice.DeleteScheduleRequest{Namespace: "default", ScheduleId: "idem"}))
	err = b.s.Delete(ctx, &workflowservice.DeleteScheduleRequest{Namespace: "default", ScheduleId: "idem"})
	require.ErrorAs(t, err, &ee)
	require.Equal(t, engine.CodeNotFound, ee.Code)
}
