package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// replayProbe records, per run ID (unique across -count repeats, unlike workflow IDs), what the side-effect function produced and whether the
// second version of the workflow ran from a replay. Workflow code writes to it only for the test's
// eyes; nothing it records feeds back into the workflow.
var replayProbe = struct {
	sync.Mutex
	sideEffects map[string][]string
	v2Replayed  map[string]bool
}{sideEffects: map[string][]string{}, v2Replayed: map[string]bool{}}

func recordSideEffect(runID string) string {
	v := uuid.NewString()
	replayProbe.Lock()
	defer replayProbe.Unlock()
	replayProbe.sideEffects[runID] = append(replayProbe.sideEffects[runID], v)
	return v
}

// versionedWorkflowV1 takes version 1 of "change", draws a random value through SideEffect, and
// waits for the "go" signal.
func versionedWorkflowV1(ctx workflow.Context) (string, error) {
	return versionedBody(ctx, 1)
}

// versionedWorkflowV2 is the same workflow after a later deploy that supports version 2. Replaying a
// run that recorded version 1 must still see version 1, and the recorded side-effect value.
func versionedWorkflowV2(ctx workflow.Context) (string, error) {
	if workflow.IsReplaying(ctx) {
		replayProbe.Lock()
		replayProbe.v2Replayed[workflow.GetInfo(ctx).WorkflowExecution.RunID] = true
		replayProbe.Unlock()
	}
	return versionedBody(ctx, 2)
}

func versionedBody(ctx workflow.Context, maxVersion workflow.Version) (string, error) {
	v := workflow.GetVersion(ctx, "change", workflow.DefaultVersion, maxVersion)
	var value string
	runID := workflow.GetInfo(ctx).WorkflowExecution.RunID
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return recordSideEffect(runID) }).Get(&value); err != nil {
		return "", err
	}
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	return fmt.Sprintf("version %d, side effect %s", v, value), nil
}

func TestSideEffectAndVersionReplayedByFreshWorker(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.id("tq")
	stop := e.startWorkerOn(tq, registry{named: map[string]any{"versioned": versionedWorkflowV1}})

	run := e.start(tq, client.StartWorkflowOptions{}, "versioned")
	// Wait until the first workflow task has completed: both markers are recorded.
	e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	stop()

	replayProbe.Lock()
	first := append([]string(nil), replayProbe.sideEffects[run.GetRunID()]...)
	replayProbe.Unlock()
	require.Len(t, first, 1, "the side effect ran once on the first worker")

	// A fresh worker, with a new task handler (the SDK never reuses another worker's cached state),
	// picks the workflow up after the signal and must rebuild it from the history alone.
	e.startWorkerOn(tq, registry{named: map[string]any{"versioned": versionedWorkflowV2}})
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "go", nil))

	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "version 1, side effect "+first[0], got)

	replayProbe.Lock()
	require.Equal(t, first, replayProbe.sideEffects[run.GetRunID()], "replay must read the side effect from its marker, not run it again")
	require.True(t, replayProbe.v2Replayed[run.GetRunID()], "the second worker replayed the history from the start")
	replayProbe.Unlock()

	events := e.historyOf(run)
	requireWellFormed(t, events)
	markers := ofType(events, enumspb.EVENT_TYPE_MARKER_RECORDED)
	require.Len(t, markers, 2)
	require.Equal(t, "Version", markers[0].GetMarkerRecordedEventAttributes().GetMarkerName())
	require.Equal(t, "SideEffect", markers[1].GetMarkerRecordedEventAttributes().GetMarkerName())
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED), "replay must not fail (nondeterminism)")
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType())
}

// localWorkflow runs a local activity and a MutableSideEffect, both recorded as markers.
func localWorkflow(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	acts := &textActs{}
	var up string
	if err := workflow.ExecuteLocalActivity(ctx, acts.Upper, s).Get(ctx, &up); err != nil {
		return "", err
	}
	var n int
	eq := func(a, b any) bool { return a.(int) == b.(int) }
	if err := workflow.MutableSideEffect(ctx, "n", func(workflow.Context) any { return len(up) }, eq).Get(&n); err != nil {
		return "", err
	}
	// A timer makes a second workflow task, which replays the markers when the cache is cold.
	if err := workflow.Sleep(ctx, 10*time.Millisecond); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s/%d", up, n), nil
}

func TestLocalActivityAndMutableSideEffect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{localWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, localWorkflow, "local")
	var got string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, "LOCAL/5", got)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	var names []string
	for _, ev := range ofType(events, enumspb.EVENT_TYPE_MARKER_RECORDED) {
		names = append(names, ev.GetMarkerRecordedEventAttributes().GetMarkerName())
	}
	require.Equal(t, []string{"LocalActivity", "MutableSideEffect"}, names)
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), "a local activity is not a server activity")
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED))
}
