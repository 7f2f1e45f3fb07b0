package batch

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	batchpb "go.temporal.io/api/batch/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/sqlite"
)

// testBundle is a real engine on a fresh SQLite store, a manual clock, and a Manager whose loop
// the test runs (or scans by hand).
type testBundle struct {
	st  *sqlite.Store
	e   *engine.Engine
	clk *clock.Manual
	m   *Manager
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "duro.db"))
	require.NoError(t, err)
	clk := clock.NewManual()
	e := engine.New(engine.Config{Store: st, Clock: clk})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = st.Close()
	})
	require.NoError(t, e.EnsureDefaultNamespace(t.Context()))
	m := New(Config{Store: st, Engine: e, Clock: clk, NodeID: "test-node", MaxOperationsPerSecond: 1000})
	return &testBundle{st: st, e: e, clk: clk, m: m}
}

// run runs the manager's loop until the test ends.
func (b *testBundle) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = b.m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// startWorkflows starts n runs of type W (no worker serves them) and returns their workflow IDs.
func (b *testBundle) startWorkflows(t *testing.T, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("wf-%03d", i)
		_, err := b.e.StartWorkflow(t.Context(), &workflowservice.StartWorkflowExecutionRequest{
			Namespace: "default", WorkflowId: ids[i], WorkflowType: &commonpb.WorkflowType{Name: "W"},
			TaskQueue: &taskqueuepb.TaskQueue{Name: "tq"}, RequestId: ids[i],
		}, nil)
		require.NoError(t, err)
	}
	return ids
}

func terminateJob(id string) *workflowservice.StartBatchOperationRequest {
	return &workflowservice.StartBatchOperationRequest{
		Namespace: "default", JobId: id, Reason: "test", VisibilityQuery: "WorkflowType = 'W'",
		Operation: &workflowservice.StartBatchOperationRequest_TerminationOperation{TerminationOperation: &batchpb.BatchOperationTermination{Identity: "me"}},
	}
}

// waitDone waits until the job is no longer running.
func (b *testBundle) waitDone(t *testing.T, id string) *Job {
	t.Helper()
	var j *Job
	require.Eventually(t, func() bool {
		var err error
		j, err = b.m.Describe(t.Context(), "default", id)
		require.NoError(t, err)
		return j.State != enumspb.BATCH_OPERATION_STATE_RUNNING
	}, 20*time.Second, 10*time.Millisecond)
	return j
}

func (b *testBundle) terminated(t *testing.T) int64 {
	t.Helper()
	n, err := b.e.CountWorkflows(t.Context(), store.ExecutionFilter{Namespace: "default", Statuses: []int32{int32(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED)}})
	require.NoError(t, err)
	return n
}

// TestTakeOverFromDeadNode leaves a job as a node that crashed mid-page leaves it — claimed,
// its lease running, its checkpoint 10 executions in while 15 are terminated — and checks that
// another node waits for the lease, resumes from the checkpoint, and ends with every execution
// terminated and counted once.
func TestTakeOverFromDeadNode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.startWorkflows(t, 30)
	require.NoError(t, b.m.Start(ctx, terminateJob("job")))

	// The dead node: it claimed the job, terminated the 15 newest runs, checkpointed 10.
	infos, _, err := b.e.ListWorkflows(ctx, store.ExecutionFilter{Namespace: "default", PageSize: 30})
	require.NoError(t, err)
	require.Len(t, infos, 30)
	for _, info := range infos[:15] {
		require.NoError(t, b.e.Terminate(ctx, "default", info.GetExecution().GetWorkflowId(), info.GetExecution().GetRunId(), "test", nil, "me"))
	}
	r, err := b.st.GetRecord(ctx, "default", Kind, "job")
	require.NoError(t, err)
	rec, _, err := decode(r)
	require.NoError(t, err)
	rec.Owner, rec.Done = "dead-node", 10
	rec.Cursor = position{StartTime: infos[9].GetStartTime().AsTime(), RunID: infos[9].GetExecution().GetRunId()}
	require.NoError(t, b.m.put(ctx, r, rec, b.m.now().Add(b.m.cfg.Lease)))

	// While the lease runs, the job is not due.
	var wg sync.WaitGroup
	b.m.scan(ctx, &wg)
	wg.Wait()
	r, err = b.st.GetRecord(ctx, "default", Kind, "job")
	require.NoError(t, err)
	rec, _, err = decode(r)
	require.NoError(t, err)
	require.Equal(t, "dead-node", rec.Owner)

	b.clk.Advance(b.m.cfg.Lease + time.Second)
	b.run(t)
	j := b.waitDone(t, "job")
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, j.State)
	require.Equal(t, int64(30), j.Done, "the 5 terminated after the checkpoint count once, found closed")
	require.Equal(t, int64(0), j.Failed)
	require.Equal(t, int64(30), j.Total)
	require.Equal(t, int64(30), b.terminated(t))
}

// TestStopThenExpire stops a job, checks what Describe and List report, and that the job is
// deleted once its namespace's retention has passed.
func TestStopThenExpire(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.startWorkflows(t, 3)
	req := terminateJob("job")
	req.MaxOperationsPerSecond = 0.001 // one token: the job terminates one run, then waits
	require.NoError(t, b.m.Start(ctx, req))
	require.ErrorIs(t, b.m.Start(ctx, terminateJob("other")), ErrTooMany)
	b.run(t)
	require.Eventually(t, func() bool { return b.terminated(t) == 1 }, 20*time.Second, 10*time.Millisecond)

	require.NoError(t, b.m.Stop(ctx, "default", "job", "enough", "operator"))
	j, err := b.m.Describe(ctx, "default", "job")
	require.NoError(t, err)
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_FAILED, j.State)
	require.Equal(t, "enough", j.StopReason)
	require.Equal(t, "operator", j.StopIdentity)
	require.False(t, j.CloseTime.IsZero())
	require.ErrorIs(t, b.m.Stop(ctx, "default", "job", "again", ""), ErrNotRunning)
	require.ErrorIs(t, b.m.Start(ctx, terminateJob("job")), ErrAlreadyExists)
	jobs, next, err := b.m.List(ctx, "default", "", 10)
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, jobs, 1)

	b.clk.Advance(engine.DefaultRetention + time.Minute)
	require.Eventually(t, func() bool {
		_, err := b.m.Describe(ctx, "default", "job")
		return err != nil
	}, 20*time.Second, 10*time.Millisecond)
	_, err = b.m.Describe(ctx, "default", "job")
	require.ErrorIs(t, err, ErrNotFound)
	require.Equal(t, int64(1), b.terminated(t), "a stopped job does nothing more")
}
