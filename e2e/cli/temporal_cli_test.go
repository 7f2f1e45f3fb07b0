// Package cli runs the official Temporal CLI (`temporal`, v1.5.1, built from its module on the Go
// module proxy by scripts/temporal-cli.sh and cached under $HOME/.cache) against an in-process Duro
// node and checks what each command prints: workflow start, describe, show, signal, query, list (with
// and without a visibility query), cancel, terminate and reset; operator namespace list and
// describe; operator search-attribute create and list.
//
// A Go SDK worker serves the workflows the CLI starts. JSON output (`-o json`) is decoded with the
// same protojson dialect the CLI writes (go.temporal.io/api/temporalproto) and compared field by
// field with what the SDK reads from the server; commands that print only a text confirmation are
// checked by that text and then by the server's state.
//
// If the CLI is not installed and cannot be installed, the test fails: it never skips.
//
// DURO_E2E_STORE selects the store as in package e2e: empty for a temporary SQLite file, or a
// postgres:// URL, on which the test runs in a fresh schema that it drops afterwards.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/duro-dev/duro/e2e/e2etest"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/temporalproto"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/server"
)

const (
	// cliVersion is the pinned release: later ones carry a replace directive in their go.mod that
	// `go install pkg@version` refuses.
	cliVersion = "v1.5.1"
	namespace  = "default"
	// waitFor bounds each wait and each CLI invocation; generous because the machine is shared.
	waitFor = 60 * time.Second
	tick    = 50 * time.Millisecond

	// Workflow, activity, signal and query names the CLI refers to.
	greeterType = "CLIGreeter"
	waiterType  = "CLIWaiter"
	greetAct    = "CLIGreet"
	approveSig  = "approve"
	stateQuery  = "state"
)

// greeter runs one activity and returns its result.
func greeter(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var greeting string
	err := workflow.ExecuteActivity(ctx, greetAct, name).Get(ctx, &greeting)
	return greeting, err
}

// greet is greeter's activity.
func greet(ctx context.Context, name string) (string, error) {
	if activity.GetInfo(ctx).ActivityType.Name != greetAct {
		return "", errors.New("unexpected activity type")
	}
	return "Hello, " + name + "!", nil
}

// waiter answers the "state" query and waits for an "approve" signal carrying the approver's name.
// A cancel request ends it as canceled.
func waiter(ctx workflow.Context) (string, error) {
	state := "waiting for approval"
	if err := workflow.SetQueryHandler(ctx, stateQuery, func() (string, error) { return state, nil }); err != nil {
		return "", err
	}
	// Receive alone does not return on cancellation: select on the context's Done too.
	var approver string
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, approveSig), func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, &approver) })
	sel.AddReceive(ctx.Done(), func(workflow.ReceiveChannel, bool) {})
	sel.Select(ctx)
	if err := ctx.Err(); err != nil {
		return "", err
	}
	state = "approved by " + approver
	return state, nil
}

// TestTemporalCLI drives a Duro node with the official Temporal CLI. Each subtest starts the
// workflows it needs, so a failing command does not hide the result of the others.
func TestTemporalCLI(t *testing.T) {
	bin := ensureCLI(t)
	e := newEnv(t, bin)
	tq := "cli-tq"
	e.startWorker(t, tq)

	// runs records every run the subtests start (run ID -> workflow ID), for the list checks.
	runs := map[string]string{}

	t.Run("start-describe-show", func(t *testing.T) {
		id := "cli-greeter-1"
		var started startOutput
		e.cliJSON(t, &started, "workflow", "start", "--type", greeterType, "--task-queue", tq,
			"--workflow-id", id, "--input", `"Duro"`)
		runs[started.RunID] = id
		require.Equal(t, startOutput{WorkflowID: id, RunID: started.RunID, Type: greeterType, Namespace: namespace, TaskQueue: tq}, started)
		require.NotEmpty(t, started.RunID, "workflow start printed no run ID")

		// The run the CLI started is the one the server knows, and it completes through the worker.
		require.Equal(t, "Hello, Duro!", e.result(t, id, started.RunID))

		// describe: the response as protojson, plus the close event and the decoded result.
		raw := e.cliRaw(t, "workflow", "describe", "--workflow-id", id, "-o", "json")
		var desc workflowservice.DescribeWorkflowExecutionResponse
		unmarshalProto(t, raw, &desc, true)
		info := desc.GetWorkflowExecutionInfo()
		require.Equal(t, id, info.GetExecution().GetWorkflowId())
		require.Equal(t, started.RunID, info.GetExecution().GetRunId())
		require.Equal(t, greeterType, info.GetType().GetName())
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, info.GetStatus())
		require.Equal(t, tq, info.GetTaskQueue())
		require.NotNil(t, info.GetStartTime(), "describe: no start time")
		require.NotNil(t, info.GetCloseTime(), "describe: no close time on a completed run")
		require.False(t, info.GetCloseTime().AsTime().Before(info.GetStartTime().AsTime()), "close time before start time")
		require.Equal(t, int64(11), info.GetHistoryLength(), "describe: history length")
		var extra struct {
			CloseEvent json.RawMessage `json:"closeEvent"`
			Result     any             `json:"result"`
		}
		require.NoError(t, json.Unmarshal(raw, &extra), "describe output: %s", raw)
		require.Equal(t, "Hello, Duro!", extra.Result, "describe: result")
		var closeEvent historypb.HistoryEvent
		unmarshalProto(t, extra.CloseEvent, &closeEvent, true)
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, closeEvent.GetEventType())
		require.Equal(t, int64(11), closeEvent.GetEventId())

		// show -o json: the full history, exactly as the SDK reads it, and replayable by the SDK.
		var hist historypb.History
		unmarshalProto(t, e.cliRaw(t, "workflow", "show", "--workflow-id", id, "-o", "json"), &hist, false)
		require.Equal(t, []enumspb.EventType{
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
		}, eventTypes(hist.GetEvents()))
		sdkEvents := e.history(t, id, started.RunID)
		require.Len(t, hist.GetEvents(), len(sdkEvents))
		for i := range sdkEvents {
			require.True(t, proto.Equal(sdkEvents[i], hist.GetEvents()[i]),
				"event %d printed by workflow show differs from the server's:\nCLI: %v\nSDK: %v", i+1, hist.GetEvents()[i], sdkEvents[i])
		}
		replayer := worker.NewWorkflowReplayer()
		replayer.RegisterWorkflowWithOptions(greeter, workflow.RegisterOptions{Name: greeterType})
		require.NoError(t, replayer.ReplayWorkflowHistory(nil, &hist), "replay the history printed by workflow show")

		// show in text: the table of events names each event type.
		text := e.cliRaw(t, "workflow", "show", "--workflow-id", id)
		for _, want := range []string{"WorkflowExecutionStarted", "ActivityTaskCompleted", "WorkflowExecutionCompleted", `"Hello, Duro!"`} {
			require.Contains(t, string(text), want, "workflow show (text)")
		}
	})

	t.Run("signal-query", func(t *testing.T) {
		id := "cli-waiter-signal"
		var started startOutput
		e.cliJSON(t, &started, "workflow", "start", "--type", waiterType, "--task-queue", tq, "--workflow-id", id)
		runs[started.RunID] = id
		require.Equal(t, id, started.WorkflowID)
		e.waitForEvent(t, id, started.RunID, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)

		require.Equal(t, "waiting for approval", e.cliQuery(t, id, ""))

		out := e.cliRaw(t, "workflow", "signal", "--workflow-id", id, "--name", approveSig, "--input", `"alice"`)
		require.Equal(t, "Signal workflow succeeded\n", string(out))
		require.Equal(t, "approved by alice", e.result(t, id, started.RunID))

		sig := ofType(e.history(t, id, started.RunID), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
		require.Len(t, sig, 1)
		attrs := sig[0].GetWorkflowExecutionSignaledEventAttributes()
		require.Equal(t, approveSig, attrs.GetSignalName())
		require.Equal(t, []string{"alice"}, decodeStrings(t, attrs.GetInput()))
		require.True(t, strings.HasPrefix(attrs.GetIdentity(), "temporal-cli:"), "signal identity %q", attrs.GetIdentity())

		// A closed run is still queried, by its run ID.
		require.Equal(t, "approved by alice", e.cliQuery(t, id, started.RunID))
	})

	t.Run("cancel", func(t *testing.T) {
		id := "cli-waiter-cancel"
		runID := e.startSDK(t, tq, id, waiterType)
		runs[runID] = id
		e.waitForEvent(t, id, runID, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
		out := e.cliRaw(t, "workflow", "cancel", "--workflow-id", id)
		require.Equal(t, "Canceled workflow\n", string(out))
		e.waitForEvent(t, id, runID, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED)
		info := e.cliDescribe(t, id, "")
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, info.GetStatus())
		require.Equal(t, runID, info.GetExecution().GetRunId())
		require.Len(t, ofType(e.history(t, id, runID), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), 1)
	})

	t.Run("terminate", func(t *testing.T) {
		id := "cli-waiter-terminate"
		runID := e.startSDK(t, tq, id, waiterType)
		runs[runID] = id
		e.waitForEvent(t, id, runID, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
		out := e.cliRaw(t, "workflow", "terminate", "--workflow-id", id, "--reason", "stopped by the CLI test")
		require.Equal(t, "Workflow terminated\n", string(out))
		info := e.cliDescribe(t, id, runID)
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, info.GetStatus())
		events := e.history(t, id, runID)
		last := events[len(events)-1]
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, last.GetEventType())
		require.Equal(t, "stopped by the CLI test", last.GetWorkflowExecutionTerminatedEventAttributes().GetReason())
	})

	t.Run("reset-first-workflow-task", func(t *testing.T) {
		// A completed greeter reset to its first workflow task runs again in a new run; the old run
		// stays completed.
		id := "cli-greeter-reset"
		oldRun := e.startSDK(t, tq, id, greeterType, "Reset")
		runs[oldRun] = id
		require.Equal(t, "Hello, Reset!", e.result(t, id, oldRun))

		var resp workflowservice.ResetWorkflowExecutionResponse
		unmarshalProto(t, e.cliRaw(t, "workflow", "reset", "--workflow-id", id, "--type", "FirstWorkflowTask",
			"--reason", "rerun from the start", "-o", "json"), &resp, true)
		newRun := resp.GetRunId()
		require.NotEmpty(t, newRun, "workflow reset printed no run ID")
		runs[newRun] = id
		require.NotEqual(t, oldRun, newRun)
		require.Equal(t, "Hello, Reset!", e.result(t, id, newRun))

		cur := e.cliDescribe(t, id, "")
		require.Equal(t, newRun, cur.GetExecution().GetRunId(), "the reset run is the current run")
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, cur.GetStatus())
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, e.cliDescribe(t, id, oldRun).GetStatus())

		// The new run's history starts with the old one's up to the first WorkflowTaskStarted, then
		// fails that task with cause ResetWorkflow and runs on.
		events := e.history(t, id, newRun)
		require.GreaterOrEqual(t, len(events), 4)
		require.Equal(t, []enumspb.EventType{
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED,
		}, eventTypes(events[:4]))
		f := events[3].GetWorkflowTaskFailedEventAttributes()
		require.Equal(t, enumspb.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW, f.GetCause())
		require.Equal(t, oldRun, f.GetBaseRunId())
		require.Equal(t, newRun, f.GetNewRunId())
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType())
	})

	t.Run("reset-event-id", func(t *testing.T) {
		// A running waiter reset by event ID: the old run is terminated, the new one waits for the
		// signal again.
		id := "cli-waiter-reset"
		oldRun := e.startSDK(t, tq, id, waiterType)
		runs[oldRun] = id
		completed := e.waitForEvent(t, id, oldRun, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)

		var resp workflowservice.ResetWorkflowExecutionResponse
		unmarshalProto(t, e.cliRaw(t, "workflow", "reset", "--workflow-id", id, "--run-id", oldRun,
			"--event-id", fmt.Sprint(completed.GetEventId()), "--reason", "bad deploy", "-o", "json"), &resp, true)
		newRun := resp.GetRunId()
		require.NotEmpty(t, newRun, "workflow reset printed no run ID")
		runs[newRun] = id
		require.NotEqual(t, oldRun, newRun)

		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, e.cliDescribe(t, id, oldRun).GetStatus())
		cur := e.cliDescribe(t, id, "")
		require.Equal(t, newRun, cur.GetExecution().GetRunId())
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, cur.GetStatus())

		e.waitForEvent(t, id, newRun, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
		out := e.cliRaw(t, "workflow", "signal", "--workflow-id", id, "--name", approveSig, "--input", `"bob"`)
		require.Equal(t, "Signal workflow succeeded\n", string(out))
		require.Equal(t, "approved by bob", e.result(t, id, newRun))
	})

	t.Run("list", func(t *testing.T) {
		// The expected sets come from the runs the subtests started, each described by the SDK.
		require.NotEmpty(t, runs)
		type runInfo struct {
			id, typ string
			status  enumspb.WorkflowExecutionStatus
		}
		known := map[string]runInfo{}
		for runID, id := range runs {
			d, err := e.c.DescribeWorkflowExecution(e.ctx(t), id, runID)
			require.NoError(t, err, "describe %s/%s", id, runID)
			known[runID] = runInfo{id: id, typ: d.GetWorkflowExecutionInfo().GetType().GetName(), status: d.GetWorkflowExecutionInfo().GetStatus()}
		}
		expect := func(keep func(runInfo) bool) map[string]runInfo {
			out := map[string]runInfo{}
			for runID, r := range known {
				if keep(r) {
					out[runID] = r
				}
			}
			return out
		}
		// Each query is a subtest of its own, so one the server refuses does not hide the others.
		check := func(query string, want map[string]runInfo) {
			t.Run("query="+query, func(t *testing.T) {
				all := e.cliList(t, query)
				got := map[string]runInfo{}
				for _, info := range all {
					got[info.GetExecution().GetRunId()] = runInfo{id: info.GetExecution().GetWorkflowId(), typ: info.GetType().GetName(), status: info.GetStatus()}
					require.Equal(t, tq, info.GetTaskQueue(), "task queue of %s", info.GetExecution().GetWorkflowId())
					require.NotNil(t, info.GetStartTime(), "start time of %s", info.GetExecution().GetWorkflowId())
				}
				require.Len(t, all, len(got), "workflow list --query %q printed a run twice", query)
				require.Equal(t, want, got, "workflow list --query %q", query)
				for i := 1; i < len(all); i++ {
					require.False(t, all[i].GetStartTime().AsTime().After(all[i-1].GetStartTime().AsTime()), "workflow list --query %q is not newest first", query)
				}
			})
		}

		check("", known)
		check("WorkflowType='"+greeterType+"'", expect(func(r runInfo) bool { return r.typ == greeterType }))
		check("ExecutionStatus='Running'", expect(func(r runInfo) bool { return r.status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING }))
		check("WorkflowType='"+waiterType+"' AND ExecutionStatus='Terminated'", expect(func(r runInfo) bool {
			return r.typ == waiterType && r.status == enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
		}))
		check("WorkflowId='cli-greeter-reset'", expect(func(r runInfo) bool { return r.id == "cli-greeter-reset" }))
	})

	t.Run("operator-namespace", func(t *testing.T) {
		raw := e.cliRaw(t, "operator", "namespace", "list", "-o", "json")
		var list []json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &list), "operator namespace list output: %s", raw)
		var names []string
		var def *workflowservice.DescribeNamespaceResponse
		for _, item := range list {
			ns := &workflowservice.DescribeNamespaceResponse{}
			unmarshalProto(t, item, ns, true)
			names = append(names, ns.GetNamespaceInfo().GetName())
			if ns.GetNamespaceInfo().GetName() == namespace {
				def = ns
			}
		}
		require.Contains(t, names, namespace, "operator namespace list")
		require.Equal(t, enumspb.NAMESPACE_STATE_REGISTERED, def.GetNamespaceInfo().GetState())
		require.NotEmpty(t, def.GetNamespaceInfo().GetId())

		var desc workflowservice.DescribeNamespaceResponse
		unmarshalProto(t, e.cliRaw(t, "operator", "namespace", "describe", namespace, "-o", "json"), &desc, true)
		require.Equal(t, namespace, desc.GetNamespaceInfo().GetName())
		require.Equal(t, def.GetNamespaceInfo().GetId(), desc.GetNamespaceInfo().GetId())
		require.Equal(t, enumspb.NAMESPACE_STATE_REGISTERED, desc.GetNamespaceInfo().GetState())
		require.Positive(t, desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(), "retention")
		sdkDesc, err := e.c.WorkflowService().DescribeNamespace(e.ctx(t), &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
		require.NoError(t, err)
		require.True(t, proto.Equal(sdkDesc, &desc), "operator namespace describe differs from DescribeNamespace:\nCLI: %v\nSDK: %v", &desc, sdkDesc)

		// The text output reads the namespace's info, config and replication config.
		text := string(e.cliRaw(t, "operator", "namespace", "describe"))
		require.Contains(t, text, "NamespaceInfo.Name")
		require.Contains(t, text, def.GetNamespaceInfo().GetId())
	})

	t.Run("operator-search-attribute", func(t *testing.T) {
		out := e.cliRaw(t, "operator", "search-attribute", "create", "--name", "CustomKW", "--type", "Keyword")
		require.Equal(t, "Search attributes have been added\n", string(out))

		var resp operatorservice.ListSearchAttributesResponse
		unmarshalProto(t, e.cliRaw(t, "operator", "search-attribute", "list", "-o", "json"), &resp, true)
		require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD, resp.GetCustomAttributes()["CustomKW"], "custom attributes: %v", resp.GetCustomAttributes())
		for name, typ := range map[string]enumspb.IndexedValueType{
			"WorkflowId":        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"WorkflowType":      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"RunId":             enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"ExecutionStatus":   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"TaskQueue":         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"StartTime":         enumspb.INDEXED_VALUE_TYPE_DATETIME,
			"CloseTime":         enumspb.INDEXED_VALUE_TYPE_DATETIME,
			"ExecutionTime":     enumspb.INDEXED_VALUE_TYPE_DATETIME,
			"ExecutionDuration": enumspb.INDEXED_VALUE_TYPE_INT,
			"HistoryLength":     enumspb.INDEXED_VALUE_TYPE_INT,
		} {
			got, ok := resp.GetSystemAttributes()[name]
			require.True(t, ok, "system attribute %s missing: %v", name, resp.GetSystemAttributes())
			require.Equal(t, typ, got, "type of system attribute %s", name)
		}
		_, clash := resp.GetSystemAttributes()["CustomKW"]
		require.False(t, clash, "CustomKW listed as a system attribute")

		// Creating it again with the same type is accepted (the CLI checks the type first); with
		// another type the CLI refuses.
		out = e.cliRaw(t, "operator", "search-attribute", "create", "--name", "CustomKW", "--type", "Keyword")
		require.Equal(t, "Search attributes have been added\n", string(out))
		_, stderr, err := e.cli(t, "operator", "search-attribute", "create", "--name", "CustomKW", "--type", "Int")
		require.Error(t, err, "creating CustomKW again as Int")
		require.Contains(t, stderr, "search attribute CustomKW already exists and has different type Keyword")
		// A system attribute's name is refused by the server, as Temporal does.
		_, stderr, err = e.cli(t, "operator", "search-attribute", "create", "--name", "WorkflowId", "--type", "Keyword")
		require.Error(t, err, "creating the system attribute WorkflowId")
		require.Contains(t, stderr, "unable to add search attributes: Search attribute WorkflowId is reserved by system.")

		// The new attribute is usable: a workflow started with it is found by it.
		id := "cli-greeter-sa"
		var started startOutput
		e.cliJSON(t, &started, "workflow", "start", "--type", greeterType, "--task-queue", tq,
			"--workflow-id", id, "--input", `"Attr"`, "--search-attribute", `CustomKW="blue"`)
		require.Equal(t, "Hello, Attr!", e.result(t, id, started.RunID))
		info := e.cliDescribe(t, id, "")
		var kw string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(info.GetSearchAttributes().GetIndexedFields()["CustomKW"], &kw),
			"search attributes of %s: %v", id, info.GetSearchAttributes())
		require.Equal(t, "blue", kw)
		var found []string
		for _, info := range e.cliList(t, "CustomKW='blue'") {
			found = append(found, info.GetExecution().GetRunId())
		}
		require.Equal(t, []string{started.RunID}, found, "workflow list --query \"CustomKW='blue'\"")
		require.Empty(t, e.cliList(t, "CustomKW='red'"), "workflow list --query \"CustomKW='red'\"")
	})
}

// startOutput is what `temporal workflow start -o json` prints.
type startOutput struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Type       string `json:"type"`
	Namespace  string `json:"namespace"`
	TaskQueue  string `json:"taskQueue"`
}

// env is the test's Duro node, an SDK client dialled to it and the CLI binary.
type env struct {
	srv *server.Server
	c   client.Client
	bin string
	// home is the CLI's $HOME: empty, so no user config file is read.
	home string
}

// newEnv starts an in-process Duro on loopback with a fresh store and dials an SDK client to it;
// both stop in t.Cleanup.
func newEnv(t *testing.T, bin string) *env {
	t.Helper()
	logs := newTestLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		GRPCAddr: "127.0.0.1:0",
		HTTPAddr: "127.0.0.1:0",
		Store:    testStore(t),
		LogLevel: "warn",
		Logger:   slog.New(slog.NewTextHandler(logs.writer("duro"), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		cancel()
		require.NoError(t, err, "server.New")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		e2etest.AwaitStop(t, done, waitFor)
		logs.close()
	})

	dctx, dcancel := context.WithTimeout(context.Background(), waitFor)
	defer dcancel()
	c, err := client.DialContext(dctx, client.Options{
		HostPort:  srv.GRPCAddr(),
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(logs.writer("sdk"), &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	require.NoError(t, err, "dial %s", srv.GRPCAddr())
	t.Cleanup(c.Close) // registered after the server's cleanup, so it runs first
	return &env{srv: srv, c: c, bin: bin, home: t.TempDir()}
}

// startWorker starts a worker on tq serving the test's workflows and activity.
func (e *env) startWorker(t *testing.T, tq string) {
	t.Helper()
	w := worker.New(e.c, tq, worker.Options{})
	w.RegisterWorkflowWithOptions(greeter, workflow.RegisterOptions{Name: greeterType})
	w.RegisterWorkflowWithOptions(waiter, workflow.RegisterOptions{Name: waiterType})
	w.RegisterActivityWithOptions(greet, activity.RegisterOptions{Name: greetAct})
	require.NoError(t, w.Start(), "start worker on %s", tq)
	t.Cleanup(w.Stop)
}

// ctx returns a context bounded by waitFor.
func (e *env) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// startSDK starts a workflow with the SDK and returns its run ID.
func (e *env) startSDK(t *testing.T, tq, id, typ string, args ...any) string {
	t.Helper()
	run, err := e.c.ExecuteWorkflow(e.ctx(t), client.StartWorkflowOptions{ID: id, TaskQueue: tq}, typ, args...)
	require.NoError(t, err, "start %s", id)
	return run.GetRunID()
}

// result waits for a run to complete and returns its string result.
func (e *env) result(t *testing.T, id, runID string) string {
	t.Helper()
	var s string
	require.NoError(t, e.c.GetWorkflow(e.ctx(t), id, runID).GetWithOptions(e.ctx(t), &s, client.WorkflowRunGetOptions{DisableFollowingRuns: true}),
		"result of %s/%s", id, runID)
	return s
}

// history reads the whole history of a run with the SDK.
func (e *env) history(t *testing.T, id, runID string) []*historypb.HistoryEvent {
	t.Helper()
	it := e.c.GetWorkflowHistory(e.ctx(t), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err, "history of %s/%s", id, runID)
		events = append(events, ev)
	}
	return events
}

// waitForEvent polls a run's history until an event of type et is recorded and returns it.
func (e *env) waitForEvent(t *testing.T, id, runID string, et enumspb.EventType) *historypb.HistoryEvent {
	t.Helper()
	var found *historypb.HistoryEvent
	require.Eventually(t, func() bool {
		for _, ev := range e.history(t, id, runID) {
			if ev.GetEventType() == et {
				found = ev
				return true
			}
		}
		return false
	}, waitFor, tick, "no %v in the history of %s", et, id)
	return found
}

// cli runs the CLI with args and the connection flags, and returns its stdout, its stderr and its
// error (an *exec.ExitError when it exited non-zero).
func (e *env) cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	full := append(slices.Clone(args), "--address", e.srv.GRPCAddr(), "--namespace", namespace, "--color", "never")
	cmd := exec.CommandContext(ctx, e.bin, full...)
	cmd.Env = cliEnv(e.home)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	t.Logf("$ temporal %s\n%s%s", strings.Join(full, " "), out.String(), errOut.String())
	return out.String(), errOut.String(), err
}

// cliRaw runs the CLI and fails the test unless it exits zero; it returns stdout.
func (e *env) cliRaw(t *testing.T, args ...string) []byte {
	t.Helper()
	stdout, stderr, err := e.cli(t, args...)
	require.NoError(t, err, "temporal %s failed:\nstderr: %s\nstdout: %s", strings.Join(args, " "), stderr, stdout)
	return []byte(stdout)
}

// cliJSON runs the CLI with -o json and decodes its output into v with encoding/json.
func (e *env) cliJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	raw := e.cliRaw(t, append(args, "-o", "json")...)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v), "decode output of temporal %s: %s", strings.Join(args, " "), raw)
}

// cliDescribe runs `workflow describe -o json` and returns the execution info it prints.
func (e *env) cliDescribe(t *testing.T, id, runID string) *workflowpb.WorkflowExecutionInfo {
	t.Helper()
	args := []string{"workflow", "describe", "--workflow-id", id, "-o", "json"}
	if runID != "" {
		args = append(args, "--run-id", runID)
	}
	var desc workflowservice.DescribeWorkflowExecutionResponse
	unmarshalProto(t, e.cliRaw(t, args...), &desc, true)
	info := desc.GetWorkflowExecutionInfo()
	require.Equal(t, id, info.GetExecution().GetWorkflowId(), "workflow describe: workflow ID")
	if runID != "" {
		require.Equal(t, runID, info.GetExecution().GetRunId(), "workflow describe: run ID")
	}
	return info
}

// cliQuery runs `workflow query --name state -o json` and decodes the string it answers.
func (e *env) cliQuery(t *testing.T, id, runID string) string {
	t.Helper()
	args := []string{"workflow", "query", "--workflow-id", id, "--name", stateQuery, "-o", "json"}
	if runID != "" {
		args = append(args, "--run-id", runID)
	}
	var resp workflowservice.QueryWorkflowResponse
	unmarshalProto(t, e.cliRaw(t, args...), &resp, true)
	require.Nil(t, resp.GetQueryRejected(), "query rejected")
	got := decodeStrings(t, resp.GetQueryResult())
	require.Len(t, got, 1, "query result")
	return got[0]
}

// cliList runs `workflow list -o json` (with --query when query is not empty) and returns the
// executions it prints.
func (e *env) cliList(t *testing.T, query string) []*workflowpb.WorkflowExecutionInfo {
	t.Helper()
	args := []string{"workflow", "list", "-o", "json"}
	if query != "" {
		args = append(args, "--query", query)
	}
	raw := e.cliRaw(t, args...)
	var items []json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &items), "workflow list output: %s", raw)
	out := make([]*workflowpb.WorkflowExecutionInfo, len(items))
	for i, item := range items {
		out[i] = &workflowpb.WorkflowExecutionInfo{}
		unmarshalProto(t, item, out[i], true)
	}
	return out
}

// unmarshalProto decodes the CLI's protojson (Temporal's dialect: shorthand enums, and JSON payloads
// when shorthand is set, as `-o json` prints them except in `workflow show`) into m. Fields the CLI
// adds beside the message (describe's closeEvent and result) are ignored.
func unmarshalProto(t *testing.T, raw []byte, m proto.Message, shorthandPayloads bool) {
	t.Helper()
	opts := temporalproto.CustomJSONUnmarshalOptions{DiscardUnknown: true}
	if shorthandPayloads {
		opts.Metadata = map[string]any{commonpb.EnablePayloadShorthandMetadataKey: true}
	}
	require.NoError(t, opts.Unmarshal(raw, m), "decode %T from: %s", m, raw)
}

// decodeStrings decodes payloads that each hold a string.
func decodeStrings(t *testing.T, p *commonpb.Payloads) []string {
	t.Helper()
	out := make([]string, len(p.GetPayloads()))
	for i, pl := range p.GetPayloads() {
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(pl, &out[i]), "payload %d: %v", i, pl)
	}
	return out
}

func eventTypes(events []*historypb.HistoryEvent) []enumspb.EventType {
	out := make([]enumspb.EventType, len(events))
	for i, ev := range events {
		out[i] = ev.GetEventType()
	}
	return out
}

func ofType(events []*historypb.HistoryEvent, et enumspb.EventType) []*historypb.HistoryEvent {
	var out []*historypb.HistoryEvent
	for _, ev := range events {
		if ev.GetEventType() == et {
			out = append(out, ev)
		}
	}
	return out
}

// cliEnv is the CLI's environment: this process's, without TEMPORAL_* variables (which would
// override the address, namespace, TLS or config file) and with an empty HOME, so no user config
// file is read.
func cliEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TEMPORAL_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
}

var (
	installOnce sync.Once
	installBin  string
	installErr  error
)

// ensureCLI returns the path of the cached CLI binary, installing it with scripts/temporal-cli.sh
// when it is missing (minutes, once per machine). It fails the test if that is impossible.
func ensureCLI(t *testing.T) string {
	t.Helper()
	installOnce.Do(func() {
		script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "temporal-cli.sh"))
		if err != nil {
			installErr = err
			return
		}
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "TEMPORAL_CLI_VERSION="+cliVersion,
			// The go command that runs this test, first on PATH for the install.
			"PATH="+filepath.Join(runtime.GOROOT(), "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			installErr = fmt.Errorf("%s: %w\n%s", script, err, stderr.String())
			return
		}
		if stderr.Len() > 0 {
			t.Logf("%s (%v):\n%s", script, time.Since(start).Round(time.Second), stderr.String())
		}
		installBin = strings.TrimSpace(stdout.String())
	})
	require.NoError(t, installErr, "install the Temporal CLI %s", cliVersion)
	want := filepath.Join(os.Getenv("HOME"), ".cache", "duro", "temporal-cli-"+cliVersion, "temporal")
	require.Equal(t, want, installBin, "path printed by scripts/temporal-cli.sh")
	st, err := os.Stat(installBin)
	require.NoError(t, err, "the Temporal CLI binary")
	require.False(t, st.IsDir())
	require.NotZero(t, st.Mode()&0o111, "%s is not executable", installBin)

	// `temporal --version` says 0.0.0-DEV in a go-install build; the build info names the module.
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "version", "-m", installBin).CombinedOutput()
	require.NoError(t, err, "go version -m %s: %s", installBin, out)
	require.Regexp(t, `(?m)^\s+path\s+github\.com/temporalio/cli/cmd/temporal\s*$`, string(out), "build info of %s", installBin)
	require.Regexp(t, `(?m)^\s+mod\s+github\.com/temporalio/cli\s+`+regexp.QuoteMeta(cliVersion)+`\s`, string(out), "build info of %s", installBin)
	return installBin
}

// testStore returns the store spec for one test (e2etest.Store).
func testStore(t *testing.T) string {
	t.Helper()
	return e2etest.Store(t, "e2e_cli_")
}

// testLogger forwards log lines to t.Log until the test's cleanup closes it (goroutines that outlive
// the test must not call t.Log).
type testLogger struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
}

func newTestLogger(t *testing.T) *testLogger { return &testLogger{t: t} }

func (l *testLogger) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

func (l *testLogger) writer(prefix string) *logWriter { return &logWriter{l: l, prefix: prefix} }

type logWriter struct {
	l      *testLogger
	prefix string
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	if !w.l.closed {
		w.l.t.Logf("%s: %s", w.prefix, bytes.TrimRight(p, "\n"))
	}
	return len(p), nil
}
