package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/duro-dev/duro/e2e/e2etest"
	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/server"
)

// Task states that run work: Step Functions activity workers (GetActivityTask, SendTask*), a
// Temporal Go SDK worker serving a Step Functions activity, and local resources (a Lambda
// function mapped to an HTTP endpoint or a command by the node's resource file).

// The events of an activity Task's attempt, as AWS records them for a Task whose resource is an
// activity: ActivityScheduled (resource = the activity's ARN, input, timeouts), ActivityStarted
// (workerName, when a worker takes the task) and ActivitySucceeded / ActivityFailed /
// ActivityTimedOut.
const (
	actScheduled = "ActivityScheduled"
	actStarted   = "ActivityStarted"
	actSucceeded = "ActivitySucceeded"
	actFailed    = "ActivityFailed"
	actTimedOut  = "ActivityTimedOut"
)

// newResourceEnv starts a node like newEnv whose resource file (server.Config.SFN.ResourcesFile,
// read by stepfn.LoadResources) maps Task resources and Lambda function names to targets: a
// command, an http:// URL, or {"url": ...} / {"command": ...}. It has no Temporal client.
func newResourceEnv(t *testing.T, resources map[string]any) *env {
	t.Helper()
	b, err := json.Marshal(map[string]any{"resources": resources})
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "resources.json")
	require.NoError(t, os.WriteFile(file, b, 0o600))

	logger := newTestLogger(t)
	e := &env{t: t, clk: clock.NewManual(), logger: logger, seq: new(atomic.Int64)}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		GRPCAddr: "127.0.0.1:0", SFNAddr: "127.0.0.1:0", Store: testStore(t), LogLevel: logLevel(), Clock: e.clk,
		SFN:    server.SFNConfig{ResourcesFile: file},
		Logger: slog.New(slog.NewTextHandler(logger.writer("duro"), &slog.HandlerOptions{Level: slogLevel()})),
	})
	if err != nil {
		cancel()
		require.NoError(t, err, "server.New")
	}
	e.srv = srv
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		e2etest.AwaitStop(t, done, waitFor)
		logger.close()
		for _, p := range logger.recoveredPanics() {
			t.Errorf("the node logged a panic: %s", p)
		}
	})
	return e
}

// activityWorker is a Step Functions activity worker: it polls GetActivityTask until stopped
// and answers each task with work(input) (output, or error name and cause).
func (e *env) activityWorker(c *sfnsdk.Client, activityArn, name string, work func(input string) (output, errName, cause string)) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			task, err := c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: aws.String(activityArn), WorkerName: aws.String(name)})
			if err != nil || aws.ToString(task.TaskToken) == "" {
				continue
			}
			out, errName, cause := work(aws.ToString(task.Input))
			if errName != "" {
				_, _ = c.SendTaskFailure(ctx, &sfnsdk.SendTaskFailureInput{TaskToken: task.TaskToken, Error: aws.String(errName), Cause: aws.String(cause)})
				continue
			}
			_, _ = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(out)})
		}
	}()
	e.t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// TestSFNActivityWorkerCompletesTasks: a worker serving an activity completes the tasks of many
// executions, each with its own input and output, and a custom error it reports is caught by a
// Catch that keeps it in $.error.
func TestSFNActivityWorkerCompletesTasks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	act, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("square")})
	require.NoError(t, err)
	var served atomic.Int64
	e.activityWorker(c, aws.ToString(act.ActivityArn), "squarer", func(input string) (string, string, string) {
		served.Add(1)
		var in struct{ N int }
		if err := json.Unmarshal([]byte(input), &in); err != nil {
			return "", "Worker.BadInput", err.Error()
		}
		if in.N < 0 {
			return "", "Custom.Negative", fmt.Sprintf("%d is negative", in.N)
		}
		return fmt.Sprintf(`{"square":%d}`, in.N*in.N), "", ""
	})
	sm := e.createMachine(c, "squares", `{"StartAt":"Square","States":{
		"Square":{"Type":"Task","Resource":"`+aws.ToString(act.ActivityArn)+`","TimeoutSeconds":60,"ResultPath":"$.result",
			"Catch":[{"ErrorEquals":["Custom.Negative"],"ResultPath":"$.error","Next":"Refused"}],"End":true},
		"Refused":{"Type":"Pass","End":true}}}`)

	const n = 8
	arns := make([]string, n)
	for i := range arns {
		arns[i] = e.startExec(c, sm, fmt.Sprintf("n%d", i), fmt.Sprintf(`{"n":%d}`, i))
	}
	for i, arn := range arns {
		d := e.waitExecution(c, arn)
		require.Equal(t, types.ExecutionStatusSucceeded, d.Status, "%s: %s %s", arn, aws.ToString(d.Error), aws.ToString(d.Cause))
		require.JSONEq(t, fmt.Sprintf(`{"n":%d,"result":{"square":%d}}`, i, i*i), aws.ToString(d.Output))
	}
	require.Equal(t, int64(n), served.Load(), "each task was served once")
	h := e.sfnHistory(c, arns[3])
	require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", actScheduled, actStarted, actSucceeded, "TaskStateExited", "ExecutionSucceeded"}, sfnTypes(h))
	require.Equal(t, int64(60), aws.ToInt64(h[2].ActivityScheduledEventDetails.TimeoutInSeconds))
	require.Equal(t, aws.ToString(act.ActivityArn), aws.ToString(h[2].ActivityScheduledEventDetails.Resource), "the activity's ARN")
	require.JSONEq(t, `{"n":3}`, aws.ToString(h[2].ActivityScheduledEventDetails.Input), "the task's input")
	require.Equal(t, "squarer", aws.ToString(h[3].ActivityStartedEventDetails.WorkerName), "the worker that took it")
	require.JSONEq(t, `{"square":9}`, aws.ToString(h[4].ActivitySucceededEventDetails.Output))

	refused := e.startExec(c, sm, "negative", `{"n":-2}`)
	d := e.waitExecution(c, refused)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	require.JSONEq(t, `{"n":-2,"error":{"Error":"Custom.Negative","Cause":"-2 is negative"}}`, aws.ToString(d.Output))
	require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", actScheduled, actStarted, actFailed, "TaskStateExited",
		"PassStateEntered", "PassStateExited", "ExecutionSucceeded"}, sfnTypes(e.sfnHistory(c, refused)))
	failed := e.sfnHistory(c, refused)[4].ActivityFailedEventDetails
	require.Equal(t, "Custom.Negative", aws.ToString(failed.Error))
	require.Equal(t, "-2 is negative", aws.ToString(failed.Cause))
}

// TestSFNActivityTimeouts: HeartbeatSeconds and TimeoutSeconds are durable timers. A worker that
// stops heartbeating loses its task with States.HeartbeatTimeout (caught by a Catch in one
// machine, failing the execution in another) and its late SendTaskSuccess is TaskTimedOut; a
// worker that heartbeats keeps its task well past HeartbeatSeconds; a task nobody takes ends
// with States.Timeout.
func TestSFNActivityTimeouts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	act, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("slow")})
	require.NoError(t, err)
	res := aws.ToString(act.ActivityArn)
	caught := e.createMachine(c, "caught", `{"StartAt":"Work","States":{
		"Work":{"Type":"Task","Resource":"`+res+`","HeartbeatSeconds":10,"TimeoutSeconds":300,
			"Catch":[{"ErrorEquals":["States.HeartbeatTimeout"],"ResultPath":"$.error","Next":"GaveUp"}],"End":true},
		"GaveUp":{"Type":"Pass","End":true}}}`)
	uncaught := e.createMachine(c, "uncaught", `{"StartAt":"Work","States":{
		"Work":{"Type":"Task","Resource":"`+res+`","HeartbeatSeconds":10,"TimeoutSeconds":300,"End":true}}}`)
	poll := func(want string) *sfnsdk.GetActivityTaskOutput {
		t.Helper()
		task, err := c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: act.ActivityArn, WorkerName: aws.String("w")})
		require.NoError(t, err)
		require.NotEmpty(t, aws.ToString(task.TaskToken))
		require.JSONEq(t, want, aws.ToString(task.Input))
		return task
	}

	// Caught: the heartbeat timeout goes to the Catch.
	a := e.startExec(c, caught, "a", `{"job":"a"}`)
	taskA := poll(`{"job":"a"}`)
	e.clk.Advance(11 * time.Second)
	d := e.waitExecution(c, a)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	var out struct {
		Job   string
		Error struct{ Error, Cause string }
	}
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(d.Output)), &out))
	require.Equal(t, "a", out.Job)
	require.Equal(t, "States.HeartbeatTimeout", out.Error.Error)
	h := e.sfnHistory(c, a)
	require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", actScheduled, actStarted, actTimedOut, "TaskStateExited",
		"PassStateEntered", "PassStateExited", "ExecutionSucceeded"}, sfnTypes(h))
	require.Equal(t, "States.HeartbeatTimeout", aws.ToString(h[4].ActivityTimedOutEventDetails.Error))
	require.Equal(t, int64(10), aws.ToInt64(h[2].ActivityScheduledEventDetails.HeartbeatInSeconds))
	require.Equal(t, int64(300), aws.ToInt64(h[2].ActivityScheduledEventDetails.TimeoutInSeconds))
	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: taskA.TaskToken, Output: aws.String(`{}`)})
	requireSFNError[types.TaskTimedOut](t, err, "a success after the heartbeat timeout")
	_, err = c.SendTaskHeartbeat(ctx, &sfnsdk.SendTaskHeartbeatInput{TaskToken: taskA.TaskToken})
	requireSFNError[types.TaskTimedOut](t, err, "a heartbeat after the heartbeat timeout")

	// Uncaught: the execution fails with the timeout.
	b := e.startExec(c, uncaught, "b", `{"job":"b"}`)
	taskB := poll(`{"job":"b"}`)
	e.clk.Advance(11 * time.Second)
	d = e.waitExecution(c, b)
	require.Equal(t, types.ExecutionStatusFailed, d.Status)
	require.Equal(t, "States.HeartbeatTimeout", aws.ToString(d.Error))
	require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", actScheduled, actStarted, actTimedOut, "ExecutionFailed"}, sfnTypes(e.sfnHistory(c, b)))
	_, err = c.SendTaskFailure(ctx, &sfnsdk.SendTaskFailureInput{TaskToken: taskB.TaskToken, Error: aws.String("Late")})
	requireSFNError[types.TaskTimedOut](t, err)

	// Heartbeats every 6 s keep a task alive for 24 s, over twice its HeartbeatSeconds.
	alive := e.startExec(c, uncaught, "alive", `{"job":"alive"}`)
	taskC := poll(`{"job":"alive"}`)
	for i := 0; i < 4; i++ {
		e.clk.Advance(6 * time.Second)
		_, err := c.SendTaskHeartbeat(ctx, &sfnsdk.SendTaskHeartbeatInput{TaskToken: taskC.TaskToken})
		require.NoError(t, err, "heartbeat %d", i)
	}
	d, err = c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(alive)})
	require.NoError(t, err)
	require.Equal(t, types.ExecutionStatusRunning, d.Status)
	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: taskC.TaskToken, Output: aws.String(`{"kept":"alive"}`)})
	require.NoError(t, err)
	d = e.waitExecution(c, alive)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	require.JSONEq(t, `{"kept":"alive"}`, aws.ToString(d.Output))

	// TimeoutSeconds: nobody takes the task.
	short := e.createMachine(c, "short", `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"`+res+`","TimeoutSeconds":30,"End":true}}}`)
	late := e.startExec(c, short, "late", `{}`)
	e.waitSFNEvent(c, late, types.HistoryEventTypeActivityScheduled)
	e.clk.Advance(31 * time.Second)
	d = e.waitExecution(c, late)
	require.Equal(t, types.ExecutionStatusFailed, d.Status)
	require.Equal(t, "States.Timeout", aws.ToString(d.Error))
	last := e.sfnHistory(c, late)
	require.Equal(t, "States.Timeout", aws.ToString(last[len(last)-2].ActivityTimedOutEventDetails.Error))
}

// TestSFNTemporalWorkerServesActivity: one engine, both dialects. A Temporal Go SDK worker polls
// the task queue named after a Step Functions activity and serves it with an activity function
// registered under the activity's name, one JSON value in and out; an ApplicationError it returns
// is a Step Functions error (its type the error, its message the cause) that a Catch catches.
// The executions are workflows the Temporal API describes and lists under the machine's name.
func TestSFNTemporalWorkerServesActivity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	greet, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("greet")})
	require.NoError(t, err)
	refuse, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("refuse")})
	require.NoError(t, err)

	type seen struct{ activityType, queue string }
	var mu sync.Mutex
	var calls []seen
	w := worker.New(e.c, "greet", worker.Options{})
	w.RegisterActivityWithOptions(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		info := activity.GetInfo(ctx)
		mu.Lock()
		calls = append(calls, seen{info.ActivityType.Name, info.TaskQueue})
		mu.Unlock()
		return map[string]any{"greeting": fmt.Sprintf("hello %v", in["who"])}, nil
	}, activity.RegisterOptions{Name: "greet"})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	w2 := worker.New(e.c, "refuse", worker.Options{})
	w2.RegisterActivityWithOptions(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		return nil, temporal.NewApplicationError(fmt.Sprintf("will not serve %v", in["who"]), "MyError")
	}, activity.RegisterOptions{Name: "refuse"})
	require.NoError(t, w2.Start())
	t.Cleanup(w2.Stop)

	sm := e.createMachine(c, "welcome", `{"StartAt":"Greet","States":{
		"Greet":{"Type":"Task","Resource":"`+aws.ToString(greet.ActivityArn)+`","TimeoutSeconds":60,"ResultPath":"$.greet","Next":"Refuse"},
		"Refuse":{"Type":"Task","Resource":"`+aws.ToString(refuse.ActivityArn)+`","TimeoutSeconds":60,
			"Catch":[{"ErrorEquals":["MyError"],"ResultPath":"$.refused","Next":"Done"}],"Next":"Done"},
		"Done":{"Type":"Succeed"}}}`)
	arn := e.startExec(c, sm, "ada", `{"who":"Ada"}`)
	d := e.waitExecution(c, arn)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status, "%s: %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	require.JSONEq(t, `{"who":"Ada","greet":{"greeting":"hello Ada"},"refused":{"Error":"MyError","Cause":"will not serve Ada"}}`, aws.ToString(d.Output))
	mu.Lock()
	require.Equal(t, []seen{{"greet", "greet"}}, calls, "the activity type and task queue are the activity's name")
	mu.Unlock()
	h := e.sfnHistory(c, arn)
	require.Equal(t, []string{"ExecutionStarted",
		"TaskStateEntered", actScheduled, actStarted, actSucceeded, "TaskStateExited",
		"TaskStateEntered", actScheduled, actStarted, actFailed, "TaskStateExited",
		"SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}, sfnTypes(h))
	require.Equal(t, "MyError", aws.ToString(h[9].ActivityFailedEventDetails.Error))

	// The same execution through the Temporal API: workflow ID "<machine>:<name>", type the
	// machine's name, completed with the execution's output.
	desc, err := e.c.DescribeWorkflowExecution(ctx, "welcome:ada", "")
	require.NoError(t, err)
	info := desc.GetWorkflowExecutionInfo()
	require.Equal(t, "welcome", info.GetType().GetName())
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, info.GetStatus())
	var result map[string]any
	require.NoError(t, e.c.GetWorkflow(ctx, "welcome:ada", "").Get(ctx, &result))
	require.Equal(t, "hello Ada", result["greet"].(map[string]any)["greeting"])
	second := e.startExec(c, sm, "bob", `{"who":"Bob"}`)
	require.Equal(t, types.ExecutionStatusSucceeded, e.waitExecution(c, second).Status)
	require.Eventually(t, func() bool {
		list, err := e.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: "WorkflowType = 'welcome'"})
		if err != nil || len(list.GetExecutions()) != 2 {
			return false
		}
		ids := map[string]bool{}
		for _, x := range list.GetExecutions() {
			ids[x.GetExecution().GetWorkflowId()] = x.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		}
		return ids["welcome:ada"] && ids["welcome:bob"]
	}, waitFor, tick, "ListWorkflowExecutions WorkflowType = 'welcome' lists both executions")
}

// TestSFNLocalResources: the node's resource file maps Lambda functions to a local HTTP server
// and to a shell command, so a machine written for AWS runs unchanged. arn:aws:states:::lambda:invoke
// POSTs its Payload and answers Lambda's envelope (Payload, StatusCode); a plain Lambda function ARN
// resource passes its input and answers the function's result. A failing function's error
// reaches Catch; an unmapped resource fails with States.TaskFailed naming it.
func TestSFNLocalResources(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
		mu.Unlock()
		switch r.URL.Path {
		case "/greet":
			var in struct{ Who string }
			_ = json.Unmarshal(b, &in)
			_, _ = fmt.Fprintf(w, `{"greeting":"hello %s"}`, in.Who)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"errorType":"Upstream.Down","errorMessage":"the upstream is down"}`)
		}
	}))
	t.Cleanup(srv.Close)
	e := newResourceEnv(t, map[string]any{
		"greet": srv.URL + "/greet",
		"down":  map[string]string{"url": srv.URL + "/down"},
		"arn:aws:lambda:us-east-1:123456789012:function:shout": map[string]string{"command": "tr a-z A-Z"},
		"refuse": `echo '{"errorType":"Shell.Refused","errorMessage":"no way"}'; exit 3`,
	})
	c := e.sfnClient()
	sm := e.createMachine(c, "local", `{"StartAt":"Greet","States":{
		"Greet":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"greet","Payload":{"who.$":"$.who"}},
			"ResultSelector":{"body.$":"$.Payload","status.$":"$.StatusCode"},"ResultPath":"$.greet","Next":"Shout"},
		"Shout":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:shout","InputPath":"$.greet.body","ResultPath":"$.shout","Next":"Down"},
		"Down":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:down","Payload":{}},
			"Catch":[{"ErrorEquals":["Upstream.Down"],"ResultPath":"$.down","Next":"Refuse"}],"Next":"Refuse"},
		"Refuse":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"refuse","Payload":{}},
			"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.refused","Next":"Unmapped"}],"Next":"Unmapped"},
		"Unmapped":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"nowhere","Payload":{}},
			"Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.unmapped","Next":"Done"}],"Next":"Done"},
		"Done":{"Type":"Succeed"}}}`)
	arn := e.startExec(c, sm, "run", `{"who":"ada"}`)
	d := e.waitExecution(c, arn)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status, "%s: %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	var out struct {
		Who   string
		Greet struct {
			Body   map[string]string
			Status int
		}
		Shout    map[string]string
		Down     struct{ Error, Cause string }
		Refused  struct{ Error, Cause string }
		Unmapped struct{ Error, Cause string }
	}
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(d.Output)), &out), aws.ToString(d.Output))
	require.Equal(t, map[string]string{"greeting": "hello ada"}, out.Greet.Body, "the HTTP endpoint's answer is the Payload")
	require.Equal(t, 200, out.Greet.Status)
	require.Equal(t, map[string]string{"GREETING": "HELLO ADA"}, out.Shout, "the command's stdout is the function's result")
	require.Equal(t, "Upstream.Down", out.Down.Error)
	require.Equal(t, "the upstream is down", out.Down.Cause)
	require.Equal(t, "Shell.Refused", out.Refused.Error)
	require.Equal(t, "no way", out.Refused.Cause)
	require.Equal(t, "States.TaskFailed", out.Unmapped.Error)
	require.Contains(t, out.Unmapped.Cause, "nowhere")
	mu.Lock()
	require.Equal(t, []string{`POST /greet application/json {"who":"ada"}`, `POST /down application/json {}`}, bodies, "the Payload is POSTed as JSON")
	mu.Unlock()

	// lambda:invoke is a service integration: AWS records the Task* trio; for the plain function
	// ARN of Shout it records the legacy LambdaFunction* events.
	h := e.sfnHistory(c, arn)
	require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
		"TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited"}, sfnTypes(h)[:11])
	require.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:shout", aws.ToString(h[7].LambdaFunctionScheduledEventDetails.Resource))
	sched := h[2].TaskScheduledEventDetails
	require.Equal(t, "lambda", aws.ToString(sched.ResourceType))
	require.Equal(t, "invoke", aws.ToString(sched.Resource))
	require.Equal(t, "us-east-1", aws.ToString(sched.Region))
	require.JSONEq(t, `{"FunctionName":"greet","Payload":{"who":"ada"}}`, aws.ToString(sched.Parameters))
}
