package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	batchpb "go.temporal.io/api/batch/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// startedBatch is the line `temporal workflow <verb> --query` prints when it started a job.
var startedBatch = regexp.MustCompile(`Started batch for job ID: (\S+)`)

// TestTemporalCLIBatch drives Duro's batch operations with the CLI: `workflow terminate /
// signal / reset / cancel --query ... --yes` start jobs over a custom search attribute, `batch
// describe` and `batch list` follow them, and `batch terminate` stops one; the workflows' states
// are checked with the SDK.
func TestTemporalCLIBatch(t *testing.T) {
	bin := ensureCLI(t)
	e := newEnv(t, bin)
	tq := "cli-batch-tq"
	e.startWorker(t, tq)
	_, err := e.c.OperatorService().AddSearchAttributes(e.ctx(t), &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: map[string]enumspb.IndexedValueType{"BatchKW": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
	})
	require.NoError(t, err)
	batchKW := temporal.NewSearchAttributeKeyKeyword("BatchKW")

	// waiters starts n waiters tagged BatchKW=tag and waits until each has run a workflow task.
	waiters := func(t *testing.T, tag string, n int) map[string]string {
		runs := map[string]string{}
		for i := range n {
			id := "cli-batch-" + tag + "-" + string(rune('a'+i))
			run, err := e.c.ExecuteWorkflow(e.ctx(t), client.StartWorkflowOptions{ID: id, TaskQueue: tq,
				TypedSearchAttributes: temporal.NewSearchAttributes(batchKW.ValueSet(tag))}, waiterType)
			require.NoError(t, err)
			runs[id] = run.GetRunID()
		}
		for id, runID := range runs {
			e.waitForEvent(t, id, runID, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
		}
		return runs
	}
	// startJob runs a `workflow ... --query` command and returns the job ID it prints.
	startJob := func(t *testing.T, n int, args ...string) string {
		out := string(e.cliRaw(t, append(args, "--yes")...))
		require.Contains(t, out, "Start batch against approximately "+string(rune('0'+n))+" workflow(s)? y/N yes")
		m := startedBatch.FindStringSubmatch(out)
		require.NotNil(t, m, "no job ID in %q", out)
		return m[1]
	}
	describe := func(t *testing.T, job string) *workflowservice.DescribeBatchOperationResponse {
		var d workflowservice.DescribeBatchOperationResponse
		unmarshalProto(t, e.cliRaw(t, "batch", "describe", "--job-id", job, "-o", "json"), &d, false)
		require.Equal(t, job, d.GetJobId())
		return &d
	}
	wait := func(t *testing.T, job string) *workflowservice.DescribeBatchOperationResponse {
		var d *workflowservice.DescribeBatchOperationResponse
		require.Eventually(t, func() bool {
			d = describe(t, job)
			return d.GetState() != enumspb.BATCH_OPERATION_STATE_RUNNING
		}, waitFor, tick, "batch job %s still running", job)
		return d
	}
	status := func(t *testing.T, id, runID string) enumspb.WorkflowExecutionStatus {
		d, err := e.c.DescribeWorkflowExecution(e.ctx(t), id, runID)
		require.NoError(t, err)
		return d.GetWorkflowExecutionInfo().GetStatus()
	}

	doomed := waiters(t, "doomed", 5)
	kept := waiters(t, "kept", 3)
	var terminateJob string

	t.Run("workflow-terminate-query", func(t *testing.T) {
		terminateJob = startJob(t, 5, "workflow", "terminate", "--query", "BatchKW='doomed'", "--reason", "cli batch")
		d := wait(t, terminateJob)
		require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
		require.Equal(t, enumspb.BATCH_OPERATION_TYPE_TERMINATE, d.GetOperationType())
		require.Equal(t, int64(5), d.GetCompleteOperationCount())
		require.Equal(t, int64(0), d.GetFailureOperationCount())
		require.Equal(t, int64(5), d.GetTotalOperationCount())
		require.Equal(t, "cli batch", d.GetReason())
		for id, runID := range doomed {
			require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, status(t, id, runID), id)
			term := ofType(e.history(t, id, runID), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
			require.Len(t, term, 1)
			require.Equal(t, "cli batch", term[0].GetWorkflowExecutionTerminatedEventAttributes().GetReason())
		}
		for id, runID := range kept {
			require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, status(t, id, runID), id)
		}

		text := string(e.cliRaw(t, "batch", "describe", "--job-id", terminateJob))
		for _, want := range []string{"Completed", "Terminate", "5/5", "0/5"} {
			require.Contains(t, text, want, "batch describe (text)")
		}
	})

	t.Run("workflow-signal-query", func(t *testing.T) {
		job := startJob(t, 3, "workflow", "signal", "--query", "BatchKW='kept'", "--name", approveSig, "--input", `"the CLI"`, "--reason", "cli signal")
		d := wait(t, job)
		require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
		require.Equal(t, enumspb.BATCH_OPERATION_TYPE_SIGNAL, d.GetOperationType())
		require.Equal(t, int64(3), d.GetCompleteOperationCount())
		for id, runID := range kept {
			require.Equal(t, "approved by the CLI", e.result(t, id, runID), id)
			require.Len(t, ofType(e.history(t, id, runID), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), 1, id)
		}
	})

	t.Run("workflow-reset-query", func(t *testing.T) {
		// The kept workflows have completed; a reset to their first workflow task starts each
		// again, and the signal they had received is re-applied, so the new runs complete too.
		job := startJob(t, 3, "workflow", "reset", "--query", "BatchKW='kept'", "--type", "FirstWorkflowTask", "--reason", "cli reset")
		d := wait(t, job)
		require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
		require.Equal(t, enumspb.BATCH_OPERATION_TYPE_RESET, d.GetOperationType())
		require.Equal(t, int64(3), d.GetCompleteOperationCount())
		require.Equal(t, int64(0), d.GetFailureOperationCount())
		for id, base := range kept {
			cur, err := e.c.DescribeWorkflowExecution(e.ctx(t), id, "")
			require.NoError(t, err)
			newRun := cur.GetWorkflowExecutionInfo().GetExecution().GetRunId()
			require.NotEqual(t, base, newRun, "%s has a new run", id)
			failed := ofType(e.history(t, id, newRun), enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED)
			require.NotEmpty(t, failed)
			require.Equal(t, enumspb.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW, failed[0].GetWorkflowTaskFailedEventAttributes().GetCause())
			require.Equal(t, "approved by the CLI", e.result(t, id, newRun), id)
		}
	})

	t.Run("workflow-cancel-query", func(t *testing.T) {
		victims := waiters(t, "cancel", 2)
		job := startJob(t, 2, "workflow", "cancel", "--query", "BatchKW='cancel'", "--reason", "cli cancel")
		d := wait(t, job)
		require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, d.GetState())
		require.Equal(t, enumspb.BATCH_OPERATION_TYPE_CANCEL, d.GetOperationType())
		require.Equal(t, int64(2), d.GetCompleteOperationCount())
		for id, runID := range victims {
			err := e.c.GetWorkflow(e.ctx(t), id, runID).Get(e.ctx(t), nil)
			var canceled *temporal.CanceledError
			require.ErrorAs(t, err, &canceled, id)
		}
	})

	t.Run("batch-terminate", func(t *testing.T) {
		// At 0.1 a second the job terminates one workflow and then waits ten seconds for the
		// next: `batch terminate` stops it in between.
		slow := waiters(t, "slow", 3)
		job := startJob(t, 3, "workflow", "terminate", "--query", "BatchKW='slow'", "--reason", "slowly", "--rps", "0.1")
		out := string(e.cliRaw(t, "batch", "terminate", "--job-id", job, "--reason", "enough"))
		require.Contains(t, out, "Terminated Batch Job '"+job+"'")
		d := describe(t, job)
		require.Equal(t, enumspb.BATCH_OPERATION_STATE_FAILED, d.GetState(), "a stopped job reports FAILED, as in Temporal")
		require.NotNil(t, d.GetCloseTime())
		running := 0
		for id, runID := range slow {
			if status(t, id, runID) == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				running++
			}
		}
		require.Positive(t, running, "the stopped job left workflows alone")

		_, stderr, err := e.cli(t, "batch", "terminate", "--job-id", job, "--reason", "again")
		require.Error(t, err)
		require.Contains(t, stderr, "could not find Batch Job")
		_, stderr, err = e.cli(t, "batch", "describe", "--job-id", "no-such-job")
		require.Error(t, err)
		require.Contains(t, stderr, "could not find Batch Job 'no-such-job'")
	})

	t.Run("batch-list", func(t *testing.T) {
		raw := e.cliRaw(t, "batch", "list", "-o", "json")
		var items []json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &items), "batch list output: %s", raw)
		require.Len(t, items, 5, "five jobs: terminate, signal, reset, cancel, the stopped one")
		states := map[string]enumspb.BatchOperationState{}
		for _, item := range items {
			var info batchpb.BatchOperationInfo
			unmarshalProto(t, item, &info, false)
			require.NotNil(t, info.GetStartTime())
			require.NotNil(t, info.GetCloseTime())
			states[info.GetJobId()] = info.GetState()
		}
		require.Equal(t, enumspb.BATCH_OPERATION_STATE_COMPLETED, states[terminateJob])
		failed := 0
		for _, s := range states {
			if s == enumspb.BATCH_OPERATION_STATE_FAILED {
				failed++
			}
		}
		require.Equal(t, 1, failed)

		text := string(e.cliRaw(t, "batch", "list"))
		require.Contains(t, text, terminateJob)
		require.Equal(t, 6, len(strings.Split(strings.TrimSpace(text), "\n")), "a header and five jobs: %s", text)
	})
}
