package e2e

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
)

// fuzzText makes fuzzer input fit a proto string field (valid UTF-8) of a sane length; names longer
// than Temporal's 1,000-character ID limit are not what these fuzzers are about.
func fuzzText(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return s
}

// codeSet is the set of acceptable outcomes of a request; codes.OK means success.
type codeSet map[codes.Code]bool

func (s codeSet) String() string {
	var out []string
	for c := range s {
		out = append(out, c.String())
	}
	return strings.Join(out, "|")
}

// FuzzStartWorkflowExecution sends starts with arbitrary names, timeouts and input to a live node.
// Each request has an oracle: every rule it breaks names the status Temporal answers with, and a
// request that breaks none must succeed. Whatever the answer, a rejected start leaves no execution.
func FuzzStartWorkflowExecution(f *testing.F) {
	f.Add("default", "id", false, "wfType", "queue", int64(0), int64(0), int64(0), []byte("input"))
	f.Add("", "id", false, "wfType", "queue", int64(0), int64(0), int64(0), []byte{})
	f.Add("default", "", true, "wfType", "queue", int64(0), int64(0), int64(0), []byte{})
	f.Add("default", "id", false, "", "queue", int64(0), int64(0), int64(0), []byte{})
	f.Add("default", "id", false, "wfType", "", int64(0), int64(0), int64(0), []byte{})
	f.Add("default", "id", false, "wfType", "queue", int64(-1), int64(0), int64(0), []byte{})
	f.Add("default", "id", false, "wfType", "queue", int64(0), int64(-time.Second), int64(0), []byte{})
	f.Add("default", "id", false, "wfType", "queue", int64(0), int64(0), int64(-time.Hour), []byte{})
	f.Add("elsewhere", "id", false, "wfType", "queue", int64(0), int64(0), int64(0), []byte{})
	f.Add("default", "ü\x00\n", false, "ü\x00\n", "ü\x00\n", int64(time.Hour), int64(time.Minute), int64(time.Second), []byte{0xff, 0})
	e := newEnv(f)
	// Plain gRPC: the SDK's client puts the workflow ID in a header, which gRPC refuses to send
	// when it holds control characters.
	plain := e.plainClient()
	var seq atomic.Int64

	f.Fuzz(func(t *testing.T, ns, id string, emptyID bool, wfType, tq string, execTimeout, runTimeout, taskTimeout int64, input []byte) {
		e := e.sub(t)
		ns, wfType, tq = fuzzText(ns), fuzzText(wfType), fuzzText(tq)
		// A unique ID per call, so that success and failure can be told apart by describing it.
		wfID := ""
		if !emptyID {
			wfID = fmt.Sprintf("fuzz-%d-%s", seq.Add(1), fuzzText(id))
		}
		req := &workflowservice.StartWorkflowExecutionRequest{
			Namespace:                ns,
			WorkflowId:               wfID,
			WorkflowType:             &commonpb.WorkflowType{Name: wfType},
			TaskQueue:                &taskqueuepb.TaskQueue{Name: tq, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			Input:                    &commonpb.Payloads{Payloads: []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("binary/plain")}, Data: input}}},
			WorkflowExecutionTimeout: durationpb.New(time.Duration(execTimeout)),
			WorkflowRunTimeout:       durationpb.New(time.Duration(runTimeout)),
			WorkflowTaskTimeout:      durationpb.New(time.Duration(taskTimeout)),
			RequestId:                uuid.NewString(),
			Identity:                 "fuzz",
		}

		// definite: the statuses Temporal answers for the rules this request breaks (with several,
		// which rule is checked first is not specified). lenient: Temporal accepts the request, but a
		// stricter InvalidArgument (odd characters, blank or reserved names) is not a bug either.
		definite := codeSet{}
		lenient := false
		switch {
		case ns == "":
			definite[codes.InvalidArgument] = true
		case ns != namespace:
			definite[codes.NotFound] = true
		}
		if wfID == "" || wfType == "" || tq == "" || execTimeout < 0 || runTimeout < 0 || taskTimeout < 0 {
			definite[codes.InvalidArgument] = true
		}
		for _, name := range []string{wfID, wfType, tq} {
			if strings.TrimSpace(name) != name || strings.IndexFunc(name, unicode.IsControl) >= 0 {
				lenient = true
			}
		}
		if strings.HasPrefix(tq, "/_sys/") {
			lenient = true
		}
		want := definite
		if len(want) == 0 {
			want = codeSet{codes.OK: true}
		}
		if lenient {
			want[codes.InvalidArgument] = true
		}

		resp, err := plain.StartWorkflowExecution(e.ctx(), req)
		got := serviceerror.ToStatus(err).Code()
		require.True(t, want[got], "start %+v: got %v (%v), want %v", req, got, err, want)
		if err != nil {
			require.NotEmpty(t, serviceerror.ToStatus(err).Message(), "a rejection says why")
			if wfID != "" {
				_, err := plain.DescribeWorkflowExecution(e.ctx(), &workflowservice.DescribeWorkflowExecutionRequest{
					Namespace: namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: wfID},
				})
				require.Equal(t, codes.NotFound, serviceerror.ToStatus(err).Code(), "a rejected start creates no execution (%v)", err)
			}
			return
		}
		require.NotEmpty(t, resp.GetRunId())
		require.True(t, resp.GetStarted())
		d, err := plain.DescribeWorkflowExecution(e.ctx(), &workflowservice.DescribeWorkflowExecutionRequest{
			Namespace: namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: wfID},
		})
		require.NoError(t, err)
		require.Equal(t, resp.GetRunId(), d.GetWorkflowExecutionInfo().GetExecution().GetRunId())
		require.Equal(t, wfType, d.GetWorkflowExecutionInfo().GetType().GetName())
	})
}

// FuzzTaskTokens answers tasks with arbitrary tokens: each answer must be InvalidArgument (not a
// token) or NotFound (no such task), never a success, an internal error or a changed history.
func FuzzTaskTokens(f *testing.F) {
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte("\x0a\x07default\x12\x02wf\x1a\x24" + uuid.NewString()))
	f.Add([]byte(strings.Repeat("\xff", 512)))
	e := newEnv(f)
	// A workflow with a pending workflow task, whose history must not move.
	wfID, runID := e.startRaw(e.id("tq"), 0)
	before := eventTypes(e.history(wfID, runID))
	plain := e.plainClient()

	f.Fuzz(func(t *testing.T, token []byte) {
		e := e.sub(t)
		want := codeSet{codes.InvalidArgument: true, codes.NotFound: true}
		calls := map[string]error{}
		_, calls["RespondWorkflowTaskCompleted"] = plain.RespondWorkflowTaskCompleted(e.ctx(), &workflowservice.RespondWorkflowTaskCompletedRequest{
			Namespace: namespace, TaskToken: token, Identity: "fuzz", Commands: completeCommand(t, "fuzz"),
		})
		_, calls["RespondWorkflowTaskFailed"] = plain.RespondWorkflowTaskFailed(e.ctx(), &workflowservice.RespondWorkflowTaskFailedRequest{
			Namespace: namespace, TaskToken: token, Identity: "fuzz", Cause: enumspb.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
		})
		_, calls["RespondActivityTaskCompleted"] = plain.RespondActivityTaskCompleted(e.ctx(), &workflowservice.RespondActivityTaskCompletedRequest{
			Namespace: namespace, TaskToken: token, Identity: "fuzz",
		})
		_, calls["RespondActivityTaskFailed"] = plain.RespondActivityTaskFailed(e.ctx(), &workflowservice.RespondActivityTaskFailedRequest{
			Namespace: namespace, TaskToken: token, Identity: "fuzz",
		})
		_, calls["RecordActivityTaskHeartbeat"] = plain.RecordActivityTaskHeartbeat(e.ctx(), &workflowservice.RecordActivityTaskHeartbeatRequest{
			Namespace: namespace, TaskToken: token, Identity: "fuzz",
		})
		for name, err := range calls {
			got := serviceerror.ToStatus(err).Code()
			require.True(t, want[got], "%s with token %q: got %v (%v), want %v", name, token, got, err, want)
		}
		require.Equal(t, before, eventTypes(e.history(wfID, runID)), "a bad token changes no history")
	})
}
