package e2e

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/duro-dev/duro/internal/server"
)

// newLimitedNode starts a node with small history limits.
func newLimitedNode(t *testing.T, warn, max int) client.Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logger := newTestLogger(t)
	srv, err := server.New(ctx, server.Config{GRPCAddr: "127.0.0.1:0", Store: testStore(t), LongPollTimeout: 5 * time.Second,
		HistoryWarnEvents: warn, HistoryMaxEvents: max,
		Logger: slog.New(slog.NewTextHandler(logger.writer("duro"), &slog.HandlerOptions{Level: slogLevel()}))})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return dial(t, srv.GRPCAddr(), logger)
}

// signalCounter counts "tick" signals; with canContinue it continues as new when the server
// suggests it, carrying the count.
func signalCounter(ctx workflow.Context, canContinue bool, seen int) (int, error) {
	ch := workflow.GetSignalChannel(ctx, "tick")
	for {
		var last bool
		ch.Receive(ctx, &last)
		seen++
		if last {
			return seen, nil
		}
		if canContinue && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			// Drain what already arrived: signals left in the channel would die with this run.
			for ch.ReceiveAsync(&last) {
				seen++
				if last {
					return seen, nil
				}
			}
			return 0, workflow.NewContinueAsNewError(ctx, signalCounter, canContinue, seen)
		}
	}
}

func TestHistoryLimits(t *testing.T) {
	t.Parallel()
	c := newLimitedNode(t, 20, 120)
	w := newWorker(c, "limits", registry{workflows: []any{signalCounter}})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()

	// Past the warning the SDK sees suggest_continue_as_new, and a workflow that listens stays alive.
	wise, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "limits"}, signalCounter, true, 0)
	require.NoError(t, err)
	firstRun := wise.GetRunID()
	for i := 0; i < 30; i++ {
		require.NoError(t, c.SignalWorkflow(ctx, wise.GetID(), "", "tick", false))
	}
	require.Eventually(t, func() bool {
		d, err := c.DescribeWorkflowExecution(ctx, wise.GetID(), "")
		return err == nil && d.GetWorkflowExecutionInfo().GetExecution().GetRunId() != firstRun
	}, waitFor, 20*time.Millisecond, "past the warning it continues as new")
	for i := 30; i < 40; i++ {
		require.NoError(t, c.SignalWorkflow(ctx, wise.GetID(), "", "tick", i == 39))
	}
	var seen int
	require.NoError(t, wise.Get(ctx, &seen))
	require.Equal(t, 40, seen, "every signal counted across continue-as-new")
	require.NotEqual(t, firstRun, wise.GetRunID(), "it continued as new when told to")
	var suggested bool
	iter := c.GetWorkflowHistory(ctx, wise.GetID(), firstRun, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		if ev.GetWorkflowTaskStartedEventAttributes().GetSuggestContinueAsNew() {
			suggested = true
			require.GreaterOrEqual(t, ev.GetEventId(), int64(20))
		}
	}
	require.True(t, suggested)

	// A workflow that ignores the suggestion is terminated at the limit.
	stubborn, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "limits"}, signalCounter, false, 0)
	require.NoError(t, err)
	for i := 0; i < 300; i++ {
		if err := c.SignalWorkflow(ctx, stubborn.GetID(), "", "tick", false); err != nil {
			break // terminated: further signals find no open run
		}
	}
	require.Eventually(t, func() bool {
		d, err := c.DescribeWorkflowExecution(ctx, stubborn.GetID(), stubborn.GetRunID())
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
	}, waitFor, 20*time.Millisecond)
	d, err := c.DescribeWorkflowExecution(ctx, stubborn.GetID(), stubborn.GetRunID())
	require.NoError(t, err)
	require.GreaterOrEqual(t, d.GetWorkflowExecutionInfo().GetHistoryLength(), int64(120), "not before the limit")
	require.LessOrEqual(t, d.GetWorkflowExecutionInfo().GetHistoryLength(), int64(125), "terminated at the limit, not long after")
}
