package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/tasktoken"
)

// sfnAnswer is a raw answer of the Step Functions API.
type sfnAnswer struct {
	status      int
	contentType string
	requestID   string
	Type        string `json:"__type"`
	Message     string `json:"message"`
}

// postSFN sends one request with plain net/http, so a test controls every byte: target is the
// X-Amz-Target header ("" for none), contentType the Content-Type.
func (e *env) postSFN(method, target, contentType, body string) sfnAnswer {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx(), method, "http://"+e.srv.SFNAddr()+"/", strings.NewReader(body))
	require.NoError(e.t, err)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	a := sfnAnswer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), requestID: resp.Header.Get("x-amzn-RequestId")}
	if resp.StatusCode != http.StatusOK {
		require.NoError(e.t, json.Unmarshal(b, &a), "an error answer is JSON: %s", b)
	}
	return a
}

// requireRejected checks a raw answer is AWS's error shape with the given status and code.
func requireRejected(t testing.TB, a sfnAnswer, status int, code string, what string) {
	t.Helper()
	require.Equal(t, status, a.status, what)
	require.Equal(t, code, a.Type, what)
	require.NotEmpty(t, a.Message, what)
	require.Equal(t, "application/x-amz-json-1.0", a.contentType, what)
	require.NotEmpty(t, a.requestID, what)
}

// TestSFNBadInput sends what a broken or hostile client sends — malformed bodies, unknown
// targets, bad ARNs, inputs over 256 KiB, garbage, forged and stale task tokens — and checks
// AWS's error code and HTTP status for each, and that nothing changed: the catalog, the
// executions, the running execution's history and its task are as they were.
func TestSFNBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	act, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("job")})
	require.NoError(t, err)
	sm := e.createMachine(c, "guarded", `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"`+aws.ToString(act.ActivityArn)+`",
		"Retry":[{"ErrorEquals":["Again"],"IntervalSeconds":1,"MaxAttempts":1}],"End":true}}}`)
	arn := e.startExec(c, sm, "keep", `{"v":1}`)
	first, err := c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	require.NoError(t, err)
	_, err = c.SendTaskFailure(ctx, &sfnsdk.SendTaskFailureInput{TaskToken: first.TaskToken, Error: aws.String("Again")})
	require.NoError(t, err)
	e.waitSFNEvent(c, arn, types.HistoryEventTypeActivityFailed)
	e.clk.Advance(2 * time.Second)
	task, err := c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(task.TaskToken), "the retry's task")

	snapshot := func() string {
		t.Helper()
		machines, err := c.ListStateMachines(ctx, &sfnsdk.ListStateMachinesInput{})
		require.NoError(t, err)
		execs, err := c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(sm)})
		require.NoError(t, err)
		acts, err := c.ListActivities(ctx, &sfnsdk.ListActivitiesInput{})
		require.NoError(t, err)
		d, err := c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		require.NoError(t, err)
		var b strings.Builder
		for _, m := range machines.StateMachines {
			b.WriteString("machine " + aws.ToString(m.Name) + "\n")
		}
		for _, x := range execs.Executions {
			b.WriteString("execution " + aws.ToString(x.Name) + " " + string(x.Status) + "\n")
		}
		for _, a := range acts.Activities {
			b.WriteString("activity " + aws.ToString(a.Name) + "\n")
		}
		b.WriteString("status " + string(d.Status) + "\n")
		for _, ev := range e.sfnHistory(c, arn) {
			b.WriteString(string(ev.Type) + "\n")
		}
		return b.String()
	}
	before := snapshot()

	const jsonType = "application/x-amz-json-1.0"
	const target = "AWSStepFunctions."
	machineArn := `"arn:aws:states:us-east-1:123456789012:stateMachine:x"`
	for _, tc := range []struct {
		what, method, target, contentType, body string
		status                                  int
		code                                    string
	}{
		{"a body cut short", "POST", target + "CreateStateMachine", jsonType, `{"name":"x","definition":`, 400, "SerializationException"},
		{"not JSON", "POST", target + "StartExecution", jsonType, `stateMachineArn=x`, 400, "SerializationException"},
		{"an array", "POST", target + "StartExecution", jsonType, `[` + machineArn + `]`, 400, "SerializationException"},
		{"two objects", "POST", target + "StartExecution", jsonType, `{"stateMachineArn":` + machineArn + `}{}`, 400, "SerializationException"},
		{"a member of the wrong type", "POST", target + "DescribeStateMachine", jsonType, `{"stateMachineArn":5}`, 400, "SerializationException"},
		{"an empty body", "POST", target + "ListStateMachines", jsonType, ``, 400, "SerializationException"},
		{"an unknown action", "POST", target + "LaunchRockets", jsonType, `{}`, 400, "UnknownOperationException"},
		{"another service's target", "POST", "AmazonSQS.SendMessage", jsonType, `{}`, 400, "UnknownOperationException"},
		{"no target", "POST", "", jsonType, `{}`, 400, "UnknownOperationException"},
		{"a JSON content type of another protocol", "POST", target + "ListStateMachines", "application/json", `{}`, 404, "UnknownOperationException"},
		{"a GET", "GET", target + "ListStateMachines", jsonType, ``, 404, "UnknownOperationException"},
		{"a missing required member", "POST", target + "StartExecution", jsonType, `{}`, 400, "ValidationException"},
		{"a name too long", "POST", target + "CreateActivity", jsonType, `{"name":"` + strings.Repeat("a", 81) + `"}`, 400, "ValidationException"},
		{"an ARN that is not one", "POST", target + "DescribeExecution", jsonType, `{"executionArn":"execution:guarded:keep"}`, 400, "InvalidArn"},
		{"an ARN over 256 characters", "POST", target + "DescribeExecution", jsonType, `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:guarded:` + strings.Repeat("k", 210) + `"}`, 400, "ValidationException"},
		{"a state machine ARN for an execution", "POST", target + "StopExecution", jsonType, `{"executionArn":` + machineArn + `}`, 400, "InvalidArn"},
		{"an activity ARN for a state machine", "POST", target + "StartExecution", jsonType, `{"stateMachineArn":"` + aws.ToString(act.ActivityArn) + `"}`, 400, "InvalidArn"},
		{"an execution ARN for an activity", "POST", target + "GetActivityTask", jsonType, `{"activityArn":"` + arn + `"}`, 400, "InvalidArn"},
		{"a tag on an execution", "POST", target + "TagResource", jsonType, `{"resourceArn":"` + arn + `","tags":[{"key":"k","value":"v"}]}`, 400, "InvalidArn"},
		{"an error over 256 characters", "POST", target + "StopExecution", jsonType, `{"executionArn":"` + arn + `","error":"` + strings.Repeat("e", 257) + `"}`, 400, "ValidationException"},
		{"a bad status filter", "POST", target + "ListExecutions", jsonType, `{"stateMachineArn":"` + sm + `","statusFilter":"DONE"}`, 400, "ValidationException"},
	} {
		a := e.postSFN(tc.method, tc.target, tc.contentType, tc.body)
		requireRejected(t, a, tc.status, tc.code, tc.what)
	}

	// Inputs: 256 KiB is the limit, one byte more is refused before anything starts.
	limit := 256 * 1024
	big := `{"pad":"` + strings.Repeat("x", limit-len(`{"pad":""}`)) + `"}`
	require.Len(t, big, limit)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("too-big"), Input: aws.String(big[:len(big)-2] + `x"}`)})
	requireSFNError[types.ValidationException](t, err, "an input of 256 KiB + 1")
	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(big[:len(big)-2] + `x"}`)})
	requireSFNCode(t, err, "ValidationException", "an output of 256 KiB + 1")
	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"ok":`)})
	requireSFNError[types.InvalidOutput](t, err, "an output that is not JSON")
	_, err = c.SendTaskFailure(ctx, &sfnsdk.SendTaskFailureInput{TaskToken: task.TaskToken, Cause: aws.String(strings.Repeat("c", 32769))})
	requireSFNCode(t, err, "ValidationException", "a cause over 32 KiB")
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("not-json"), Input: aws.String(`{"v":1`)})
	requireSFNError[types.InvalidExecutionInput](t, err)

	// Task tokens: garbage, too long, well-formed base64 of nothing Duro issued, a forged token of
	// an execution that does not exist, and the retried task's first (stale) token.
	for _, tc := range []struct {
		what, token, code string
	}{
		{"garbage", "not a token!", "InvalidToken"},
		{"base64 of random bytes", base64.RawURLEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")), "InvalidToken"},
		{"a workflow task's token", base64.RawURLEncoding.EncodeToString(tasktoken.Encode(tasktoken.Token{Kind: tasktoken.Workflow, Namespace: namespace, WorkflowID: "guarded:keep", RunID: "r", EventID: 3})), "InvalidToken"},
		{"over 2048 characters", strings.Repeat("A", 2049), "ValidationException"},
		{"a forged token of no execution", base64.RawURLEncoding.EncodeToString(tasktoken.Encode(tasktoken.Token{Kind: tasktoken.Activity, Namespace: namespace,
			WorkflowID: "guarded:nobody", RunID: "00000000-0000-4000-8000-000000000000", EventID: 5, Attempt: 1, ActivityID: "2"})), "TaskDoesNotExist"},
		// AWS seems to answer TaskTimedOut ("Provided task does not exist anymore") for the token
		// of a task that has closed; Duro answers TaskDoesNotExist while the execution runs.
		{"the first attempt's token after the retry", aws.ToString(first.TaskToken), "TaskDoesNotExist"},
	} {
		_, err := c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: aws.String(tc.token), Output: aws.String(`{}`)})
		requireSFNCode(t, err, tc.code, "SendTaskSuccess with %s", tc.what)
		_, err = c.SendTaskFailure(ctx, &sfnsdk.SendTaskFailureInput{TaskToken: aws.String(tc.token), Error: aws.String("E")})
		requireSFNCode(t, err, tc.code, "SendTaskFailure with %s", tc.what)
		_, err = c.SendTaskHeartbeat(ctx, &sfnsdk.SendTaskHeartbeatInput{TaskToken: aws.String(tc.token)})
		requireSFNCode(t, err, tc.code, "SendTaskHeartbeat with %s", tc.what)
	}
	// The signed SDK request and an unsigned raw one are answered alike.
	raw := e.postSFN("POST", target+"SendTaskSuccess", jsonType, `{"taskToken":"not a token!","output":"{}"}`)
	requireRejected(t, raw, 400, "InvalidToken", "an unsigned request with a garbage token")

	require.Equal(t, before, snapshot(), "the bad requests changed nothing")

	// The task is still there for its worker.
	_, err = c.SendTaskHeartbeat(ctx, &sfnsdk.SendTaskHeartbeatInput{TaskToken: task.TaskToken})
	require.NoError(t, err)
	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"done":true}`)})
	require.NoError(t, err)
	d := e.waitExecution(c, arn)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	require.JSONEq(t, `{"done":true}`, aws.ToString(d.Output))

	// A request body over the node's cap (8 MiB) is refused whole.
	huge := e.postSFN("POST", target+"StartExecution", jsonType, `{"input":"`+strings.Repeat("x", 8<<20)+`"}`)
	requireRejected(t, huge, 413, "RequestEntityTooLargeException", "a body over 8 MiB")

	// A raw well-formed request succeeds: the shape the SDK sends is not the only one accepted.
	req, err := http.NewRequestWithContext(context.Background(), "POST", "http://"+e.srv.SFNAddr()+"/", bytes.NewReader([]byte(`{"maxResults":1}`)))
	require.NoError(t, err)
	req.Header.Set("X-Amz-Target", target+"ListStateMachines")
	req.Header.Set("Content-Type", jsonType+"; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var list struct {
		StateMachines []struct{ Name string } `json:"stateMachines"`
	}
	require.Equal(t, 200, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	require.Len(t, list.StateMachines, 1)
}
