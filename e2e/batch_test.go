package e2e

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	batchpb "go.temporal.io/api/batch/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/duro-dev/duro/internal/server"
)

// saBatchTag is the keyword search attribute the batch tests select workflows by.
var saBatchTag = temporal.NewSearchAttributeKeyKeyword("BatchTag")

// batchNode is a node of the batch tests (see restartNode).
type batchNode = restartNode

// newBatchNode starts a node whose batch operations may run at up to 5,000 a second (Temporal's
// 50 would make a 1,000-workflow job take 20 s), with BatchTag registered.
func newBatchNode(t *testing.T) *batchNode {
	t.Helper()
	n := newRestartNode(t, func(c *server.Config) { c.BatchMaxOperationsPerSecond = 5000 })
	_, err := n.e.c.OperatorService().AddSearchAttributes(n.e.ctx(), &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: map[string]enumspb.IndexedValueType{"BatchTag": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	})
	require.NoError(t, err, "register BatchTag")
	return n
}

// startTagged starts count workflows of type "BatchTarget" (no worker serves them) tagged with
// tag ("" for none), 16 at a time, and returns their IDs.
func (e *env) startTagged(tq, tag string, count int) []string {
	e.t.Helper()
	ids := make([]string, count)
	for i := range ids {
		ids[i] = e.id("wf-" + tag)
	}
	errs := make(chan error, count)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			opts := client.StartWorkflowOptions{ID: id, TaskQueue: tq}
			if tag != "" {
				opts.TypedSearchAttributes = temporal.NewSearchAttributes(saBatchTag.ValueSet(tag))
			}
			_, err := e.c.ExecuteWorkflow(e.ctx(), opts, "BatchTarget")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(e.t, err, "start a workflow tagged %q", tag)
	}
	return ids
}

// count counts the executions matching query.
func (e *env) count(query string) int64 {
	e.t.Helper()
	resp, err := e.raw.CountWorkflowExecutions(e.ctx(), &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: query})
	require.NoError(e.t, err, "count %q", query)
	return resp.GetCount()
}

// describeBatch describes a job.
func (e *env) describeBatch(jobID string) *workflowservice.DescribeBatchOperationResponse {
	e.t.Helper()
	d, err := e.raw.DescribeBatchOperation(e.ctx(), &workflowservice.DescribeBatchOperationRequest{Namespace: namespace, JobId: jobID})
	require.NoError(e.t, err, "describe batch job %s", jobID)
	return d
}

// waitBatch polls a job until it is no longer running and returns its description.
func (e *env) waitBatch(jobID string) *workflowservice.DescribeBatchOperationResponse {
	e.t.Helper()
	var d *workflowservice.DescribeBatchOperationResponse
	require.Eventually(e.t, func() bool {
		d = e.describeBatch(jobID)
		return d.GetState() != enumspb.BATCH_OPERATION_STATE_RUNNING
	}, waitFor, tick, "batch job %s still running", jobID)
	return d
}

// TestBatchTerminateThousandAcrossRestart is issue 5's case: a batch terminate over 1,000
// workflows selected by a custom keyword attribute, among workflows it must not touch, with the
// node restarted in the middle; it ends with exactly those 1,000 terminated, each once, and the
// job's counters right.
func TestBatchTerminateThousandAcrossRestart(t *testing.T) {
	t.Parallel()
	n := newBatchNode(t)
	e := n.e
	tq := e.id("tq")
	began := time.Now()
	doomed := e.startTagged(tq, "doomed", 1000)
	spared := e.startTagged(tq, "spared", 100)
	untagged := e.startTagged(tq, "", 100)
	t.Logf("started 1,200 workflows in %v", time.Since(began))
	require.EqualValues(t, 1000, e.count("BatchTag = 'doomed'"))

	job := uuid.NewString()
	_, err := e.raw.StartBatchOperation(e.ctx(), &workflowservice.StartBatchOperationRequest{
		Namespace: namespace, JobId: job, Reason: "clean up the doomed", VisibilityQuery: "BatchTag = 'doomed'",
		MaxOperationsPerSecond: 250,
		Operation: &workflowservice.StartBatchOperationRequest_TerminationOperation{
			TerminationOperation: &batchpb.BatchOperationTermination{Identity: "batch-test"},
		},
	})
	require.NoError(t, err)
	began = time.Now()
	// Workflows that match but start after the job are not part of it.
	late := e.startTagged(tq, "doomed", 3)

	d := e.describeBatch(job)
	require.Equal(t, enumspb.BATCH_OPERATION_TYPE_TERMINATE, d.GetOperationType())
	require.Equal(t, int64(1000), d.GetTotalOperationCount(), "the estimate counts the matching open workflows")
	require.Equal(t, "batch-test", d.GetIdentity())
	require.Equal(t, "clean up the doomed", d.GetReason())
	require.Equal(t, "BatchTag = 'doomed'", d.GetQuery())

	// Restart once the job is well under way, and before it is done.
	require.Eventually(t, func() bool { return e.describeBatch(job).GetCompleteOperationCount() >= 300 }, waitFor, tick)
	mid := e.describeBatch(job)
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_RUNNING, mid.GetState(), "the job must still be running when the node restarts")
	stopped := time.Now()
	n.restart()
	e = n.e
	t.Logf("restarted in %v with %d of 1000 done, %v after the job started", time.Since(stopped), mid.GetCompleteOperationCount(), stopped.Sub(began))

	d = e.waitBatch(job)
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
	require.Equal(t, int64(1000), d.GetCompleteOperationCount(), "each matching workflow counted once")
	require.Equal(t, int64(0), d.GetFailureOperationCount())
	require.Equal(t, int64(1000), d.GetTotalOperationCount())
	require.NotNil(t, d.GetCloseTime())
	t.Logf("the job took %v, restart included", time.Since(began))

	require.EqualValues(t, 1000, e.count("BatchTag = 'doomed' AND ExecutionStatus = 'Terminated'"))
	require.EqualValues(t, 0, e.count("ExecutionStatus = 'Terminated' AND (BatchTag = 'spared' OR BatchTag IS NULL)"))
	require.EqualValues(t, int64(len(spared)+len(untagged)+len(late)), e.count("ExecutionStatus = 'Running'"))
	for _, id := range late {
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(id, ""), "a workflow started after the job is left alone")
	}
	for _, id := range []string{doomed[0], doomed[499], doomed[999]} {
		events := e.history(id, "")
		requireWellFormed(t, events)
		term := ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
		require.Len(t, term, 1)
		attrs := term[0].GetWorkflowExecutionTerminatedEventAttributes()
		require.Equal(t, "clean up the doomed", attrs.GetReason())
		require.Equal(t, "batch-test", attrs.GetIdentity())
	}

	// The job is a batch operation, not a workflow execution.
	require.EqualValues(t, 1203, e.count(""))
	list, err := e.raw.ListBatchOperations(e.ctx(), &workflowservice.ListBatchOperationsRequest{Namespace: namespace})
	require.NoError(t, err)
	require.Len(t, list.GetOperationInfo(), 1)
	require.Equal(t, job, list.GetOperationInfo()[0].GetJobId())
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, list.GetOperationInfo()[0].GetState())
}

// TestBatchTerminateAcrossSIGKILL kills the duro process (SIGKILL: no release of the job) while a
// terminate job has done more than its last checkpoint says, restarts it on the same store, and
// checks that the job resumes once the dead node's lease has run out and ends with every matching
// workflow terminated and counted once. The binary runs at Temporal's default 50 a second.
func TestBatchTerminateAcrossSIGKILL(t *testing.T) {
	t.Parallel()
	p := newDuroProcess(t, buildDuro(t), testStore(t))
	require.NoError(t, p.start())
	logger := newTestLogger(t)
	t.Cleanup(logger.close)
	c := dial(t, p.grpcAddr, logger)
	e := &env{t: t, c: c, raw: c.WorkflowService(), logger: logger, seq: new(atomic.Int64)}
	_, err := c.OperatorService().AddSearchAttributes(e.ctx(), &operatorservice.AddSearchAttributesRequest{
		Namespace:        namespace,
		SearchAttributes: map[string]enumspb.IndexedValueType{"BatchTag": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	})
	require.NoError(t, err)
	tq := e.id("tq")
	e.startTagged(tq, "doomed", 200)
	spared := e.startTagged(tq, "spared", 20)

	job := uuid.NewString()
	_, err = e.raw.StartBatchOperation(e.ctx(), &workflowservice.StartBatchOperationRequest{
		Namespace: namespace, JobId: job, Reason: "crash through it", VisibilityQuery: "BatchTag = 'doomed'",
		Operation: &workflowservice.StartBatchOperationRequest_TerminationOperation{
			TerminationOperation: &batchpb.BatchOperationTermination{Identity: "batch-test"},
		},
	})
	require.NoError(t, err)
	// Kill once the job has terminated well past its last checkpoint: that work is lost from its
	// counters and done again after the restart.
	var checkpointed, terminated int64
	require.Eventually(t, func() bool {
		checkpointed = e.describeBatch(job).GetCompleteOperationCount()
		terminated = e.count("ExecutionStatus = 'Terminated'")
		return checkpointed >= 100 && terminated >= checkpointed+20 && terminated < 200
	}, waitFor, 10*time.Millisecond)
	p.kill()
	t.Logf("killed with %d terminated, %d checkpointed", terminated, checkpointed)
	require.NoError(t, p.start())

	var d *workflowservice.DescribeBatchOperationResponse
	require.Eventually(t, func() bool {
		resp, err := e.raw.DescribeBatchOperation(e.ctx(), &workflowservice.DescribeBatchOperationRequest{Namespace: namespace, JobId: job})
		if err != nil {
			return false // the client reconnecting
		}
		d = resp
		return d.GetState() != enumspb.BATCH_OPERATION_STATE_RUNNING
	}, waitFor, tick, "the job resumes after the dead node's lease")
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
	require.Equal(t, int64(200), d.GetCompleteOperationCount(), "each matching workflow counted once")
	require.Equal(t, int64(0), d.GetFailureOperationCount())
	require.EqualValues(t, 200, e.count("BatchTag = 'doomed' AND ExecutionStatus = 'Terminated'"))
	require.EqualValues(t, len(spared), e.count("BatchTag = 'spared' AND ExecutionStatus = 'Running'"))
}

// TestBatchSignalExactlyOnceAcrossRestart signals 200 workflows with the node restarted while a
// page of them is half done: the redone page signals no workflow twice.
func TestBatchSignalExactlyOnceAcrossRestart(t *testing.T) {
	t.Parallel()
	n := newBatchNode(t)
	e := n.e
	tq := e.id("tq")
	ids := e.startTagged(tq, "signal-me", 200)
	other := e.startTagged(tq, "not-me", 5)

	job := uuid.NewString()
	input, err := converter.GetDefaultDataConverter().ToPayloads("wake up")
	require.NoError(t, err)
	_, err = e.raw.StartBatchOperation(e.ctx(), &workflowservice.StartBatchOperationRequest{
		Namespace: namespace, JobId: job, Reason: "nudge", VisibilityQuery: "BatchTag = 'signal-me'",
		MaxOperationsPerSecond: 100,
		Operation: &workflowservice.StartBatchOperationRequest_SignalOperation{
			SignalOperation: &batchpb.BatchOperationSignal{Signal: "nudge", Input: input, Identity: "batch-test"},
		},
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.describeBatch(job).GetCompleteOperationCount() >= 50 }, waitFor, tick)
	n.restart()
	e = n.e

	d := e.waitBatch(job)
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
	require.Equal(t, int64(200), d.GetCompleteOperationCount())
	require.Equal(t, int64(0), d.GetFailureOperationCount())
	for _, id := range ids {
		sigs := ofType(e.history(id, ""), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
		require.Len(t, sigs, 1, "workflow %s signalled exactly once", id)
		attrs := sigs[0].GetWorkflowExecutionSignaledEventAttributes()
		require.Equal(t, "nudge", attrs.GetSignalName())
		require.Equal(t, "batch-test", attrs.GetIdentity())
		var got string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(attrs.GetInput(), &got))
		require.Equal(t, "wake up", got)
	}
	for _, id := range other {
		require.Empty(t, ofType(e.history(id, ""), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED))
	}
}

// batchWaiter waits for a "go" signal; a cancel request ends it as canceled.
func batchWaiter(ctx workflow.Context) (string, error) {
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, "go"), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	sel.Select(ctx)
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return "went", nil
}

// startWaiters starts count batchWaiters tagged with tag on tq.
func (e *env) startWaiters(tq, tag string, count int) []client.WorkflowRun {
	e.t.Helper()
	runs := make([]client.WorkflowRun, count)
	for i := range runs {
		runs[i] = e.start(tq, client.StartWorkflowOptions{TypedSearchAttributes: temporal.NewSearchAttributes(saBatchTag.ValueSet(tag))}, batchWaiter)
	}
	return runs
}

// TestBatchCancel asks every matching workflow to cancel; the workflows, served by a worker, end
// as canceled, each with one cancel request.
func TestBatchCancel(t *testing.T) {
	t.Parallel()
	n := newBatchNode(t)
	e := n.e
	tq := e.startWorker(registry{workflows: []any{batchWaiter}})
	runs := e.startWaiters(tq, "cancel-me", 10)
	keep := e.startWaiters(tq, "keep", 2)
	for _, r := range append(runs, keep...) {
		e.waitForEvent(r.GetID(), r.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	}

	job := uuid.NewString()
	_, err := e.raw.StartBatchOperation(e.ctx(), &workflowservice.StartBatchOperationRequest{
		Namespace: namespace, JobId: job, Reason: "shutting down", VisibilityQuery: "BatchTag = 'cancel-me'",
		Operation: &workflowservice.StartBatchOperationRequest_CancellationOperation{
			CancellationOperation: &batchpb.BatchOperationCancellation{Identity: "batch-test"},
		},
	})
	require.NoError(t, err)
	d := e.waitBatch(job)
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
	require.Equal(t, enumspb.BATCH_OPERATION_TYPE_CANCEL, d.GetOperationType())
	require.Equal(t, int64(10), d.GetCompleteOperationCount())
	require.Equal(t, int64(10), d.GetTotalOperationCount())

	for _, r := range runs {
		var canceled *temporal.CanceledError
		require.ErrorAs(t, r.Get(e.ctx(), nil), &canceled)
		events := e.historyOf(r)
		requireWellFormed(t, events)
		reqs := ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
		require.Len(t, reqs, 1)
		require.Equal(t, "shutting down", reqs[0].GetWorkflowExecutionCancelRequestedEventAttributes().GetCause())
		require.Equal(t, "batch-test", reqs[0].GetWorkflowExecutionCancelRequestedEventAttributes().GetIdentity())
	}
	for _, r := range keep {
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.status(r.GetID(), r.GetRunID()))
	}
}

// TestBatchReset resets every matching workflow to its first workflow task, through the CLI's
// ResetOptions: each gets exactly one new run (the job never resets the runs it creates), and
// the reset runs reach the worker and finish.
func TestBatchReset(t *testing.T) {
	t.Parallel()
	n := newBatchNode(t)
	e := n.e
	tq := e.startWorker(registry{workflows: []any{batchWaiter}})
	runs := e.startWaiters(tq, "reset-me", 20)
	for _, r := range runs {
		e.waitForEvent(r.GetID(), r.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	}

	job := uuid.NewString()
	_, err := e.raw.StartBatchOperation(e.ctx(), &workflowservice.StartBatchOperationRequest{
		Namespace: namespace, JobId: job, Reason: "bad deploy", VisibilityQuery: "BatchTag = 'reset-me'",
		Operation: &workflowservice.StartBatchOperationRequest_ResetOperation{
			ResetOperation: &batchpb.BatchOperationReset{
				Identity: "batch-test",
				Options:  &commonpb.ResetOptions{Target: &commonpb.ResetOptions_FirstWorkflowTask{FirstWorkflowTask: &emptypb.Empty{}}},
			},
		},
	})
	require.NoError(t, err)
	d := e.waitBatch(job)
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
	require.Equal(t, enumspb.BATCH_OPERATION_TYPE_RESET, d.GetOperationType())
	require.Equal(t, int64(20), d.GetCompleteOperationCount(), "each workflow reset once: the runs the job creates are not its executions")
	require.Equal(t, int64(0), d.GetFailureOperationCount())

	for _, r := range runs {
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, e.status(r.GetID(), r.GetRunID()), "the base run is terminated by its reset")
		cur, err := e.c.DescribeWorkflowExecution(e.ctx(), r.GetID(), "")
		require.NoError(t, err)
		newRun := cur.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		require.NotEqual(t, r.GetRunID(), newRun)
		events := e.history(r.GetID(), newRun)
		failed := ofType(events, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED)
		require.NotEmpty(t, failed)
		require.Equal(t, enumspb.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW, failed[0].GetWorkflowTaskFailedEventAttributes().GetCause())
		require.NoError(t, e.c.SignalWorkflow(e.ctx(), r.GetID(), newRun, "go", nil))
		var out string
		require.NoError(t, e.c.GetWorkflow(e.ctx(), r.GetID(), newRun).Get(e.ctx(), &out))
		require.Equal(t, "went", out)
	}
	require.EqualValues(t, 40, e.count(""), "one new run per workflow, none reset again")
}

// TestBatchStopDescribeList follows a slow job through describe and list, refuses a second job
// while it runs (Temporal allows one per namespace), stops it, and checks the job-ID rules and
// list paging.
func TestBatchStopDescribeList(t *testing.T) {
	t.Parallel()
	n := newBatchNode(t)
	e := n.e
	plain := e.plainClient()
	tq := e.id("tq")
	ids := e.startTagged(tq, "slow", 30)

	terminate := func(job, query string, rps float32) *workflowservice.StartBatchOperationRequest {
		return &workflowservice.StartBatchOperationRequest{
			Namespace: namespace, JobId: job, Reason: "slowly", VisibilityQuery: query, MaxOperationsPerSecond: rps,
			Operation: &workflowservice.StartBatchOperationRequest_TerminationOperation{
				TerminationOperation: &batchpb.BatchOperationTermination{Identity: "batch-test"},
			},
		}
	}
	slow := "a-slow-job"
	_, err := e.raw.StartBatchOperation(e.ctx(), terminate(slow, "BatchTag = 'slow'", 2))
	require.NoError(t, err)
	d := e.describeBatch(slow)
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_RUNNING, d.GetState())
	require.Equal(t, int64(30), d.GetTotalOperationCount())
	require.NotNil(t, d.GetStartTime())
	require.Nil(t, d.GetCloseTime())

	// One running job per namespace by default; the plain client, unlike the SDK's, does not retry.
	_, err = plain.StartBatchOperation(e.ctx(), terminate("another", "BatchTag = 'slow'", 0))
	requireCode(t, err, codes.ResourceExhausted)
	var re *serviceerror.ResourceExhausted
	require.ErrorAs(t, typed(err), &re)
	require.Equal(t, enumspb.RESOURCE_EXHAUSTED_CAUSE_CONCURRENT_LIMIT, re.Cause)

	require.Eventually(t, func() bool { return e.count("BatchTag = 'slow' AND ExecutionStatus = 'Terminated'") >= 2 }, waitFor, tick)
	_, err = e.raw.StopBatchOperation(e.ctx(), &workflowservice.StopBatchOperationRequest{Namespace: namespace, JobId: slow, Reason: "too slow", Identity: "operator"})
	require.NoError(t, err)
	d = e.describeBatch(slow)
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_FAILED, d.GetState(), "a stopped job reports FAILED, like Temporal's terminated batcher workflow")
	require.NotNil(t, d.GetCloseTime())
	require.Equal(t, "slowly", d.GetReason())
	terminated := e.count("BatchTag = 'slow' AND ExecutionStatus = 'Terminated'")
	require.Less(t, terminated, int64(len(ids)), "a stopped job leaves the rest alone")
	require.LessOrEqual(t, d.GetCompleteOperationCount(), terminated)

	_, err = plain.StopBatchOperation(e.ctx(), &workflowservice.StopBatchOperationRequest{Namespace: namespace, JobId: slow, Reason: "again"})
	requireCode(t, err, codes.NotFound)
	// A job ID stays taken while the job is kept (the namespace's retention).
	_, err = plain.StartBatchOperation(e.ctx(), terminate(slow, "BatchTag = 'slow'", 0))
	requireCode(t, err, codes.AlreadyExists)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	require.ErrorAs(t, typed(err), &started)

	// A job over an explicit list: a run that is not there counts as done, as in Temporal.
	listed := e.startTagged(tq, "listed", 2)
	_, err = e.raw.StartBatchOperation(e.ctx(), &workflowservice.StartBatchOperationRequest{
		Namespace: namespace, JobId: "b-list-job", Reason: "by hand",
		Executions: []*commonpb.WorkflowExecution{{WorkflowId: listed[0]}, {WorkflowId: listed[1]}, {WorkflowId: "no-such-workflow"}},
		Operation: &workflowservice.StartBatchOperationRequest_TerminationOperation{
			TerminationOperation: &batchpb.BatchOperationTermination{Identity: "batch-test"},
		},
	})
	require.NoError(t, err)
	d = e.waitBatch("b-list-job")
	require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
	require.Equal(t, int64(3), d.GetCompleteOperationCount())
	require.Len(t, d.GetExecutions(), 3)
	require.Equal(t, listed[1], d.GetExecutions()[1].GetBusinessId())
	for _, id := range listed {
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, e.status(id, ""))
	}

	// List pages through both jobs, in job ID order.
	var seen []string
	var token []byte
	for page := 0; page < 5; page++ {
		resp, err := e.raw.ListBatchOperations(e.ctx(), &workflowservice.ListBatchOperationsRequest{Namespace: namespace, PageSize: 1, NextPageToken: token})
		require.NoError(t, err)
		for _, op := range resp.GetOperationInfo() {
			seen = append(seen, op.GetJobId())
			require.NotEqual(t, enumspb.BATCH_OPERATION_STATE_RUNNING, op.GetState())
			require.NotNil(t, op.GetStartTime())
			require.NotNil(t, op.GetCloseTime())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	require.Equal(t, []string{slow, "b-list-job"}, seen)
}

// typed decodes the status a plain gRPC client returns into its serviceerror type, as the SDK does.
func typed(err error) error { return serviceerror.FromStatus(status.Convert(err)) }

// TestBatchBadRequests sends requests Temporal refuses and checks its status codes, and that none
// of them left a job behind.
func TestBatchBadRequests(t *testing.T) {
	t.Parallel()
	n := newBatchNode(t)
	e := n.e
	plain := e.plainClient()
	term := &workflowservice.StartBatchOperationRequest_TerminationOperation{TerminationOperation: &batchpb.BatchOperationTermination{}}
	start := func(mod func(r *workflowservice.StartBatchOperationRequest)) error {
		r := &workflowservice.StartBatchOperationRequest{Namespace: namespace, JobId: uuid.NewString(), Reason: "r", VisibilityQuery: "BatchTag = 'x'", Operation: term}
		mod(r)
		_, err := plain.StartBatchOperation(e.ctx(), r)
		return err
	}
	for _, c := range []struct {
		name string
		mod  func(r *workflowservice.StartBatchOperationRequest)
		code codes.Code
	}{
		{"no query and no executions", func(r *workflowservice.StartBatchOperationRequest) { r.VisibilityQuery = "" }, codes.InvalidArgument},
		{"query and executions", func(r *workflowservice.StartBatchOperationRequest) {
			r.Executions = []*commonpb.WorkflowExecution{{WorkflowId: "w"}}
		}, codes.InvalidArgument},
		{"no job ID", func(r *workflowservice.StartBatchOperationRequest) { r.JobId = "" }, codes.InvalidArgument},
		{"no reason", func(r *workflowservice.StartBatchOperationRequest) { r.Reason = "" }, codes.InvalidArgument},
		{"no operation", func(r *workflowservice.StartBatchOperationRequest) { r.Operation = nil }, codes.InvalidArgument},
		{"query syntax", func(r *workflowservice.StartBatchOperationRequest) { r.VisibilityQuery = "BatchTag = " }, codes.InvalidArgument},
		{"unknown attribute", func(r *workflowservice.StartBatchOperationRequest) { r.VisibilityQuery = "NoSuchAttr = 'x'" }, codes.InvalidArgument},
		{"group by", func(r *workflowservice.StartBatchOperationRequest) {
			r.VisibilityQuery = "BatchTag = 'x' GROUP BY ExecutionStatus"
		}, codes.InvalidArgument},
		{"signal without a name", func(r *workflowservice.StartBatchOperationRequest) {
			r.Operation = &workflowservice.StartBatchOperationRequest_SignalOperation{SignalOperation: &batchpb.BatchOperationSignal{}}
		}, codes.InvalidArgument},
		{"reset without a target", func(r *workflowservice.StartBatchOperationRequest) {
			r.Operation = &workflowservice.StartBatchOperationRequest_ResetOperation{ResetOperation: &batchpb.BatchOperationReset{Options: &commonpb.ResetOptions{}}}
		}, codes.InvalidArgument},
		{"reset without a type", func(r *workflowservice.StartBatchOperationRequest) {
			r.Operation = &workflowservice.StartBatchOperationRequest_ResetOperation{ResetOperation: &batchpb.BatchOperationReset{}}
		}, codes.InvalidArgument},
		{"bad run ID", func(r *workflowservice.StartBatchOperationRequest) {
			r.VisibilityQuery = ""
			r.Executions = []*commonpb.WorkflowExecution{{WorkflowId: "w", RunId: "not-a-uuid"}}
		}, codes.InvalidArgument},
		{"too many executions", func(r *workflowservice.StartBatchOperationRequest) {
			r.VisibilityQuery = ""
			for i := range 1001 {
				r.Executions = append(r.Executions, &commonpb.WorkflowExecution{WorkflowId: fmt.Sprint("w", i)})
			}
		}, codes.InvalidArgument},
		{"unknown namespace", func(r *workflowservice.StartBatchOperationRequest) { r.Namespace = "no-such-namespace" }, codes.NotFound},
	} {
		t.Run(c.name, func(t *testing.T) { requireCode(t, start(c.mod), c.code) })
	}

	_, err := plain.DescribeBatchOperation(e.ctx(), &workflowservice.DescribeBatchOperationRequest{Namespace: namespace, JobId: "no-such-job"})
	requireCode(t, err, codes.NotFound)
	_, err = plain.DescribeBatchOperation(e.ctx(), &workflowservice.DescribeBatchOperationRequest{Namespace: namespace})
	requireCode(t, err, codes.InvalidArgument)
	_, err = plain.DescribeBatchOperation(e.ctx(), &workflowservice.DescribeBatchOperationRequest{Namespace: "no-such-namespace", JobId: "j"})
	requireCode(t, err, codes.NotFound)
	var nsErr *serviceerror.NamespaceNotFound
	require.ErrorAs(t, typed(err), &nsErr)
	_, err = plain.StopBatchOperation(e.ctx(), &workflowservice.StopBatchOperationRequest{Namespace: namespace, JobId: "no-such-job", Reason: "r"})
	requireCode(t, err, codes.NotFound)
	_, err = plain.StopBatchOperation(e.ctx(), &workflowservice.StopBatchOperationRequest{Namespace: namespace, JobId: "no-such-job"})
	requireCode(t, err, codes.InvalidArgument)
	_, err = plain.ListBatchOperations(e.ctx(), &workflowservice.ListBatchOperationsRequest{})
	requireCode(t, err, codes.InvalidArgument)

	list, err := plain.ListBatchOperations(e.ctx(), &workflowservice.ListBatchOperationsRequest{Namespace: namespace})
	require.NoError(t, err)
	require.Empty(t, list.GetOperationInfo(), "no bad request started a job")
}
