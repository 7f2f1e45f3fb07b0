package e2e

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// gateActs holds an activity that tells the test it has started and waits until the test opens the
// gate (or its context ends).
type gateActs struct {
	started chan string
	gate    chan struct{}
	once    sync.Once
}

func newGateActs() *gateActs {
	return &gateActs{started: make(chan string, 16), gate: make(chan struct{})}
}

func (g *gateActs) open() { g.once.Do(func() { close(g.gate) }) }

// Gate reports its start and waits for the gate.
func (g *gateActs) Gate(ctx context.Context) (string, error) {
	g.started <- activity.GetInfo(ctx).WorkflowExecution.ID
	select {
	case <-g.gate:
		return "gate opened", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// signalsWorkflow runs Gate while it collects n signals on channel "sig", then returns them in the
// order received.
func signalsWorkflow(ctx workflow.Context, n int) ([]string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var acts *gateActs
	f := workflow.ExecuteActivity(ctx, acts.Gate)
	ch := workflow.GetSignalChannel(ctx, "sig")
	var got []string
	for len(got) < n {
		var s string
		ch.Receive(ctx, &s)
		got = append(got, s)
	}
	if err := f.Get(ctx, nil); err != nil {
		return got, err
	}
	return got, nil
}

func TestSignalsBeforeAndDuringActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gate := newGateActs()
	tq := e.id("tq")

	// Start with no worker on the queue, and signal before any worker has seen the workflow.
	run := e.start(tq, client.StartWorkflowOptions{}, signalsWorkflow, 4)
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "sig", "a"))
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), "", "sig", "b"))

	e.startWorkerOn(tq, registry{workflows: []any{signalsWorkflow}, activities: []any{gate}})
	t.Cleanup(gate.open)
	select {
	case id := <-gate.started:
		require.Equal(t, run.GetID(), id)
	case <-time.After(waitFor):
		t.Fatal("the activity did not start")
	}
	// The activity is running: signal again.
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "sig", "c"))
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "sig", "d"))
	gate.open()

	var got []string
	require.NoError(t, run.Get(e.ctx(), &got))
	require.Equal(t, []string{"a", "b", "c", "d"}, got)

	events := e.historyOf(run)
	requireWellFormed(t, events)
	signaled := ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
	require.Len(t, signaled, 4)
	var payloads []string
	for _, ev := range signaled {
		a := ev.GetWorkflowExecutionSignaledEventAttributes()
		require.Equal(t, "sig", a.GetSignalName())
		payloads = append(payloads, decodeString(t, a.GetInput()))
	}
	require.Equal(t, []string{"a", "b", "c", "d"}, payloads, "signals are recorded in the order they were sent")

	firstWFTStarted := indexOf(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, 0)
	require.Less(t, indexOf(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, 0), firstWFTStarted,
		"signals a and b arrived before the first workflow task started")
	scheduled := indexOf(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, 0)
	completed := indexOf(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, 0)
	for _, ev := range signaled[2:] {
		i := int(ev.GetEventId() - 1)
		require.Greater(t, i, scheduled, "signal %d recorded after the activity was scheduled", ev.GetEventId())
		require.Less(t, i, completed, "signal %d recorded before the activity completed", ev.GetEventId())
	}
}

func decodeString(t testing.TB, p *commonpb.Payloads) string {
	t.Helper()
	var s string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(p, &s))
	return s
}

func TestSignalRequestIDDeduplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wfID, runID := e.startRaw(e.id("tq"), 0)
	signal := func(requestID, input string) {
		t.Helper()
		_, err := e.raw.SignalWorkflowExecution(e.ctx(), &workflowservice.SignalWorkflowExecutionRequest{
			Namespace: namespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
			SignalName: "sig", Input: payloadOf(t, input), RequestId: requestID, Identity: "e2e",
		})
		require.NoError(t, err)
	}
	// The SDK retries a signal with the same request ID: it must be recorded once.
	id := uuid.NewString()
	signal(id, "once")
	signal(id, "once")
	signal(uuid.NewString(), "twice")

	var got []string
	for _, ev := range ofType(e.history(wfID, runID), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
		got = append(got, decodeString(t, ev.GetWorkflowExecutionSignaledEventAttributes().GetInput()))
	}
	require.Equal(t, []string{"once", "twice"}, got)
}

// drainSignalsWorkflow counts "add" signals until "stop", then takes the "add"s still pending, so
// that no signal the server accepted goes uncounted.
func drainSignalsWorkflow(ctx workflow.Context) (int, error) {
	add := workflow.GetSignalChannel(ctx, "add")
	stop := workflow.GetSignalChannel(ctx, "stop")
	n := 0
	for stopped := false; !stopped; {
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(add, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); n++ })
		sel.AddReceive(stop, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); stopped = true })
		sel.Select(ctx)
	}
	for add.ReceiveAsync(nil) {
		n++
	}
	return n, nil
}

func TestNoAcceptedSignalIsLost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.startWorker(registry{workflows: []any{drainSignalsWorkflow}})
	run := e.start(tq, client.StartWorkflowOptions{}, drainSignalsWorkflow)

	// Four senders race the workflow's own tasks, before and after "stop": signals that arrive while
	// a workflow task runs are buffered, and a completion that would close the workflow over
	// buffered signals must be refused (UNHANDLED_COMMAND) so that the workflow sees them.
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				err := e.c.SignalWorkflow(context.Background(), run.GetID(), run.GetRunID(), "add", nil)
				if err == nil {
					accepted.Add(1)
					continue
				}
				var nf *serviceerror.NotFound
				if !errors.As(err, &nf) {
					t.Errorf("signal: %v", err)
				}
				return // the workflow has closed
			}
		}()
	}
	require.Eventually(t, func() bool { return accepted.Load() >= 30 }, waitFor, time.Millisecond)
	require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "stop", nil))
	wg.Wait()

	var n int
	require.NoError(t, run.Get(e.ctx(), &n))
	events := e.historyOf(run)
	requireWellFormed(t, events)
	adds := 0
	for _, ev := range ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
		if ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() == "add" {
			adds++
		}
	}
	require.Equal(t, int(accepted.Load()), adds, "every accepted signal is recorded")
	require.Equal(t, adds, n, "the workflow saw every recorded signal")
	for _, ev := range ofType(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
		require.Equal(t, enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND, ev.GetWorkflowTaskFailedEventAttributes().GetCause(),
			"the only workflow task failure expected here is a completion refused over buffered signals")
	}
	t.Logf("%d signals accepted, %d workflow tasks failed (UNHANDLED_COMMAND is expected when a signal races the completion)",
		adds, len(ofType(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED)))
}

// countSignalsWorkflow receives n "sig" signals and returns how many bytes they carried.
func countSignalsWorkflow(ctx workflow.Context, n int) (int, error) {
	ch := workflow.GetSignalChannel(ctx, "sig")
	total := 0
	for i := 0; i < n; i++ {
		var s string
		ch.Receive(ctx, &s)
		total += len(s)
	}
	return total, nil
}

func TestLargeFirstWorkflowTask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tq := e.id("tq")
	const n = 600
	run := e.start(tq, client.StartWorkflowOptions{}, countSignalsWorkflow, n)
	// 600 signals (about 600 KiB) before any worker: the first workflow task carries them all, in
	// as many history pages as the server likes.
	payload := strings.Repeat("s", 1000)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/4; i++ {
				if err := e.c.SignalWorkflow(context.Background(), run.GetID(), run.GetRunID(), "sig", payload); err != nil {
					t.Errorf("signal: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	e.startWorkerOn(tq, registry{workflows: []any{countSignalsWorkflow}})

	var total int
	require.NoError(t, run.Get(e.ctx(), &total))
	require.Equal(t, n*len(payload), total)
	events := e.historyOf(run)
	requireWellFormed(t, events)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), n)
	require.Empty(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED))
}
