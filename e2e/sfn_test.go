package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/server"
)

// sfnClient is an AWS SDK for Go v2 Step Functions client of the env's node, with dummy
// credentials (Duro accepts any signature unless access keys are configured).
func (e *env) sfnClient() *sfnsdk.Client {
	e.t.Helper()
	return sfnsdk.New(sfnsdk.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + e.srv.SFNAddr()),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
}

const sfnRole = "arn:aws:iam::123456789012:role/duro"

// createMachine creates a state machine and returns its ARN.
func (e *env) createMachine(c *sfnsdk.Client, name, definition string) string {
	e.t.Helper()
	out, err := c.CreateStateMachine(e.ctx(), &sfnsdk.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(definition), RoleArn: aws.String(sfnRole),
	})
	require.NoError(e.t, err, "CreateStateMachine %s", name)
	return aws.ToString(out.StateMachineArn)
}

// waitExecution polls DescribeExecution until the execution leaves RUNNING.
func (e *env) waitExecution(c *sfnsdk.Client, arn string) *sfnsdk.DescribeExecutionOutput {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		d, err := c.DescribeExecution(e.ctx(), &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		require.NoError(e.t, err)
		if d.Status != types.ExecutionStatusRunning {
			return d
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("execution %s still RUNNING after %v", arn, waitFor)
		}
		time.Sleep(tick)
	}
}

// historyTypes returns the execution's event types in order, checking ids and previousEventId.
func (e *env) historyTypes(c *sfnsdk.Client, arn string) []string {
	e.t.Helper()
	var types []string
	var token *string
	for {
		h, err := c.GetExecutionHistory(e.ctx(), &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), NextToken: token, MaxResults: 7})
		require.NoError(e.t, err)
		for _, ev := range h.Events {
			require.Equal(e.t, int64(len(types)+1), ev.Id, "event ids are 1, 2, 3, ...")
			types = append(types, string(ev.Type))
		}
		if h.NextToken == nil {
			return types
		}
		token = h.NextToken
	}
}

func TestSFNActivityWaitAndPass(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	act, err := c.CreateActivity(e.ctx(), &sfnsdk.CreateActivityInput{Name: aws.String("greet")})
	require.NoError(t, err)
	def := `{"StartAt":"Prepare","States":{
		"Prepare":{"Type":"Pass","Parameters":{"who.$":"$.name"},"Next":"Pause"},
		"Pause":{"Type":"Wait","Seconds":30,"Next":"Greet"},
		"Greet":{"Type":"Task","Resource":"` + aws.ToString(act.ActivityArn) + `","TimeoutSeconds":300,"End":true}}}`
	sm := e.createMachine(c, "hello", def)
	start, err := c.StartExecution(e.ctx(), &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("run1"), Input: aws.String(`{"name":"Ada"}`)})
	require.NoError(t, err)
	again, err := c.StartExecution(e.ctx(), &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("run1"), Input: aws.String(`{"name":"Ada"}`)})
	require.NoError(t, err, "the same name and input while running is the same execution")
	require.Equal(t, aws.ToString(start.ExecutionArn), aws.ToString(again.ExecutionArn))
	_, err = c.StartExecution(e.ctx(), &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("run1"), Input: aws.String(`{"name":"Bob"}`)})
	var exists *types.ExecutionAlreadyExists
	require.ErrorAs(t, err, &exists)

	// The Wait state is a durable timer on the node's (manual) clock.
	require.Eventually(t, func() bool {
		h, err := c.GetExecutionHistory(e.ctx(), &sfnsdk.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn})
		return err == nil && len(h.Events) > 0 && h.Events[len(h.Events)-1].Type == types.HistoryEventTypeWaitStateEntered
	}, waitFor, tick)
	e.clk.Advance(31 * time.Second)

	task, err := c.GetActivityTask(e.ctx(), &sfnsdk.GetActivityTaskInput{ActivityArn: act.ActivityArn, WorkerName: aws.String("w1")})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(task.TaskToken))
	require.JSONEq(t, `{"who":"Ada"}`, aws.ToString(task.Input))
	_, err = c.SendTaskSuccess(e.ctx(), &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"greeting":"hello Ada"}`)})
	require.NoError(t, err)
	_, err = c.SendTaskSuccess(e.ctx(), &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{}`)})
	var gone *types.TaskDoesNotExist
	require.ErrorAs(t, err, &gone, "a second completion of the same token")

	d := e.waitExecution(c, aws.ToString(start.ExecutionArn))
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	require.JSONEq(t, `{"greeting":"hello Ada"}`, aws.ToString(d.Output))
	require.Equal(t, strings.Join([]string{
		"ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered", "WaitStateExited",
		"TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded",
	}, ","), strings.Join(e.historyTypes(c, aws.ToString(start.ExecutionArn)), ","))

	// One engine, one visibility: the execution is a workflow of type "hello".
	desc, err := e.c.DescribeWorkflowExecution(e.ctx(), "hello:run1", "")
	require.NoError(t, err)
	require.Equal(t, "hello", desc.WorkflowExecutionInfo.Type.Name)
	var out map[string]string
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(d.Output)), &out))
}

// sfnNode is a Duro node started on a given store and clock, stopped by stop (and at cleanup),
// so a test can restart Duro on the same data.
type sfnNode struct {
	srv  *server.Server
	stop func()
}

func startSFNNode(t *testing.T, store string, clk *clock.Manual, opts ...func(*server.Config)) *sfnNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := server.Config{
		GRPCAddr: "127.0.0.1:0", SFNAddr: "127.0.0.1:0", Store: store, LogLevel: logLevel(), Clock: clk,
		Logger: slog.New(slog.NewTextHandler(sfnLogOut(), nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	n := &sfnNode{srv: srv}
	n.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(waitFor):
				t.Errorf("node did not stop within %v", waitFor)
			}
		})
	}
	t.Cleanup(n.stop)
	return n
}

func sfnClientAt(addr string) *sfnsdk.Client {
	return sfnsdk.New(sfnsdk.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
}

// TestSFNCallbackCompletedAfterRestart: a .waitForTaskToken task waits (no local resource is
// mapped, so nothing is sent) until SendTaskSuccess arrives — here after Duro restarted on the
// same data, so the new node rebuilds the decider from the history. A retry behind a durable
// back-off timer runs before it, across the restart too.
func TestSFNCallbackCompletedAfterRestart(t *testing.T) {
	t.Parallel()
	store, clk := testStore(t), clock.NewManual()
	n1 := startSFNNode(t, store, clk)
	c := sfnClientAt(n1.srv.SFNAddr())
	ctx := context.Background()
	act, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("flaky")})
	require.NoError(t, err)
	def := `{"StartAt":"Flaky","States":{
		"Flaky":{"Type":"Task","Resource":"` + aws.ToString(act.ActivityArn) + `","Retry":[{"ErrorEquals":["Oops"],"IntervalSeconds":10,"MaxAttempts":2}],"Next":"Approve"},
		"Approve":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters":{"QueueUrl":"https://sqs.example/approvals","MessageBody":{"token.$":"$$.Task.Token","order.$":"$.order"}},
			"ResultPath":"$.approval","End":true}}}`
	sm, err := c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("approval"), Definition: aws.String(def), RoleArn: aws.String(sfnRole)})
	require.NoError(t, err)
	start, err := c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"order":42}`)})
	require.NoError(t, err)

	task, err := c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	require.NoError(t, err)
	_, err = c.SendTaskFailure(ctx, &sfnsdk.SendTaskFailureInput{TaskToken: task.TaskToken, Error: aws.String("Oops"), Cause: aws.String("first try")})
	require.NoError(t, err)

	// Restart while the retry's back-off timer is pending.
	n1.stop()
	n2 := startSFNNode(t, store, clk)
	c = sfnClientAt(n2.srv.SFNAddr())
	clk.Advance(11 * time.Second)
	task, err = c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(task.TaskToken), "the retry was scheduled by the timer after the restart")
	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"order":42,"checked":true}`)})
	require.NoError(t, err)

	// The callback token is in the TaskScheduled event's parameters, as a queue consumer would get it.
	var token string
	require.Eventually(t, func() bool {
		h, err := c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn, ReverseOrder: true})
		if err != nil {
			return false
		}
		// Newest first: the callback's TaskScheduled, possibly after its TaskStarted (the node's
		// local runner takes the task and, with no resource mapped, leaves it waiting).
		for _, ev := range h.Events {
			if ev.Type == types.HistoryEventTypeActivitySucceeded {
				return false // the callback task is not scheduled yet
			}
			if ev.Type != types.HistoryEventTypeTaskScheduled {
				continue
			}
			var p struct {
				MessageBody struct {
					Token string `json:"token"`
				}
			}
			if json.Unmarshal([]byte(aws.ToString(ev.TaskScheduledEventDetails.Parameters)), &p) != nil {
				return false
			}
			token = p.MessageBody.Token
			return token != ""
		}
		return false
	}, waitFor, tick)

	n2.stop()
	n3 := startSFNNode(t, store, clk)
	c = sfnClientAt(n3.srv.SFNAddr())
	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"approved":true}`)})
	require.NoError(t, err)
	d := waitExecutionAt(t, c, aws.ToString(start.ExecutionArn))
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	require.JSONEq(t, `{"order":42,"checked":true,"approval":{"approved":true}}`, aws.ToString(d.Output))
	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
	var timedOut *types.TaskTimedOut
	var gone *types.TaskDoesNotExist
	require.True(t, errors.As(err, &timedOut) || errors.As(err, &gone), "a used callback token: %v", err)
}

func waitExecutionAt(t *testing.T, c *sfnsdk.Client, arn string) *sfnsdk.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		d, err := c.DescribeExecution(context.Background(), &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		require.NoError(t, err)
		if d.Status != types.ExecutionStatusRunning {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still RUNNING after %v", arn, waitFor)
		}
		time.Sleep(tick)
	}
}

// TestSFNCancelAndTerminateThroughTemporal: the Temporal API's cancel and terminate stop an
// execution as StopExecution does (ABORTED, ExecutionAborted last).
func TestSFNCancelAndTerminateThroughTemporal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	sm := e.createMachine(c, "sleepy", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	for _, how := range []string{"cancel", "terminate"} {
		start, err := c.StartExecution(e.ctx(), &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(how)})
		require.NoError(t, err)
		if how == "cancel" {
			require.NoError(t, e.c.CancelWorkflow(e.ctx(), "sleepy:"+how, ""))
		} else {
			require.NoError(t, e.c.TerminateWorkflow(e.ctx(), "sleepy:"+how, "", "enough"))
		}
		d := e.waitExecution(c, aws.ToString(start.ExecutionArn))
		require.Equal(t, types.ExecutionStatusAborted, d.Status, how)
		evs := e.historyTypes(c, aws.ToString(start.ExecutionArn))
		require.Equal(t, "ExecutionAborted", evs[len(evs)-1], how)
	}
}

// TestSFNLargeInlineMap: an inline Map over 10,000 items runs to the end when the history limit
// allows its 40,000-odd events (Step Functions' own 25,000-event quota, Duro's default, fails it
// with States.Runtime, as AWS would), and its history pages back whole.
func TestSFNLargeInlineMap(t *testing.T) {
	t.Parallel()
	items := make([]int, 10000)
	for i := range items {
		items[i] = i
	}
	input, err := json.Marshal(map[string]any{"items": items})
	require.NoError(t, err)
	def := `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","ResultSelector":{"n.$":"States.ArrayLength($)"},"End":true,
		"ItemProcessor":{"StartAt":"Double","States":{"Double":{"Type":"Pass","Parameters":{"v.$":"States.MathAdd($, $)"},"End":true}}}}}}`
	for _, tc := range []struct {
		name   string
		limit  int
		status types.ExecutionStatus
	}{
		{"raised", 100000, types.ExecutionStatusSucceeded},
		{"default", 0, types.ExecutionStatusFailed},
	} {
		n := startSFNNode(t, testStore(t), clock.NewManual(), func(c *server.Config) { c.SFN.MaxHistoryEvents = tc.limit })
		c := sfnClientAt(n.srv.SFNAddr())
		ctx := context.Background()
		sm, err := c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("big"), Definition: aws.String(def), RoleArn: aws.String(sfnRole)})
		require.NoError(t, err)
		start, err := c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(string(input))})
		require.NoError(t, err)
		d := waitExecutionAt(t, c, aws.ToString(start.ExecutionArn))
		require.Equal(t, tc.status, d.Status, tc.name)
		if tc.status == types.ExecutionStatusFailed {
			require.Equal(t, "States.Runtime", aws.ToString(d.Error), tc.name)
			continue
		}
		require.JSONEq(t, `{"n":10000}`, aws.ToString(d.Output))
		var count int
		var token *string
		for {
			h, err := c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn, NextToken: token, MaxResults: 1000, IncludeExecutionData: aws.Bool(false)})
			require.NoError(t, err)
			for _, ev := range h.Events {
				count++
				require.Equal(t, int64(count), ev.Id)
			}
			if h.NextToken == nil {
				break
			}
			token = h.NextToken
		}
		require.Greater(t, count, 40000, "4 events per iteration at least")
	}
}

// sfnLogOut is where the nodes of startSFNNode log: nowhere, unless DURO_E2E_LOG_LEVEL is set.
func sfnLogOut() io.Writer {
	if os.Getenv("DURO_E2E_LOG_LEVEL") != "" {
		return os.Stderr
	}
	return io.Discard
}

// TestSFNStartFromVersion: an execution started from a published version runs that version's
// definition and says so, even after the machine moved on.
func TestSFNStartFromVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	out, err := c.CreateStateMachine(e.ctx(), &sfnsdk.CreateStateMachineInput{
		Name: aws.String("versioned"), RoleArn: aws.String(sfnRole), Publish: true,
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"v1","End":true}}}`),
	})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(out.StateMachineVersionArn))
	_, err = c.UpdateStateMachine(e.ctx(), &sfnsdk.UpdateStateMachineInput{StateMachineArn: out.StateMachineArn,
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"v2","End":true}}}`)})
	require.NoError(t, err)
	for _, tc := range []struct{ arn, want, version string }{
		{aws.ToString(out.StateMachineVersionArn), `"v1"`, aws.ToString(out.StateMachineVersionArn)},
		{aws.ToString(out.StateMachineArn), `"v2"`, ""},
	} {
		start, err := c.StartExecution(e.ctx(), &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(tc.arn)})
		require.NoError(t, err)
		d := e.waitExecution(c, aws.ToString(start.ExecutionArn))
		require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
		require.Equal(t, tc.want, aws.ToString(d.Output))
		require.Equal(t, tc.version, aws.ToString(d.StateMachineVersionArn))
		require.Equal(t, aws.ToString(out.StateMachineArn), aws.ToString(d.StateMachineArn))
	}
}

// TestSFNLocalTaskOfADeadNodeRunsAgain: a local resource in flight when its node stops is run
// again by the next node once its heartbeats stop, instead of waiting out the state's timeout.
func TestSFNLocalTaskOfADeadNodeRunsAgain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flag := dir + "/second-node"
	resources := dir + "/resources.json"
	cmd := `if [ -f ` + flag + ` ]; then cat; else sleep 600; fi`
	b, err := json.Marshal(map[string]any{"resources": map[string]string{"slow-fn": cmd}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(resources, b, 0o600))
	withResources := func(c *server.Config) { c.SFN.ResourcesFile = resources }
	store, clk := testStore(t), clock.NewManual()

	n1 := startSFNNode(t, store, clk, withResources)
	c := sfnClientAt(n1.srv.SFNAddr())
	ctx := context.Background()
	sm, err := c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("local"), RoleArn: aws.String(sfnRole),
		Definition: aws.String(`{"StartAt":"Call","States":{"Call":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:slow-fn","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}`)})
	require.NoError(t, err)
	start, err := c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"x":1}`)})
	require.NoError(t, err)
	// The first node has started the task (it is sleeping in the command).
	conn, err := grpc.NewClient(n1.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	raw := workflowservice.NewWorkflowServiceClient(conn)
	require.Eventually(t, func() bool {
		d, err := raw.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{Namespace: namespace,
			Execution: &commonpb.WorkflowExecution{WorkflowId: "local:" + path.Base(strings.ReplaceAll(aws.ToString(start.ExecutionArn), ":", "/"))}})
		return err == nil && len(d.GetPendingActivities()) == 1 && d.GetPendingActivities()[0].GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED
	}, waitFor, tick)
	n1.stop()

	require.NoError(t, os.WriteFile(flag, nil, 0o600))
	n2 := startSFNNode(t, store, clk, withResources)
	c = sfnClientAt(n2.srv.SFNAddr())
	clk.Advance(31 * time.Second) // the heartbeat timeout: the attempt is handed out again
	require.Eventually(t, func() bool {
		clk.Advance(time.Second) // the redelivery's back-off
		d, err := c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
		return err == nil && d.Status != types.ExecutionStatusRunning
	}, waitFor, 100*time.Millisecond)
	d := waitExecutionAt(t, c, aws.ToString(start.ExecutionArn))
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status, "error %s: %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	require.JSONEq(t, `{"x":1}`, aws.ToString(d.Output))
}

// TestSFNQueryThroughTemporalFails: a Temporal query of a state machine execution fails at
// once (QueryFailed) instead of waiting for a workflow worker that will never come.
func TestSFNQueryThroughTemporalFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	sm := e.createMachine(c, "quiet", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	_, err := c.StartExecution(e.ctx(), &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("q")})
	require.NoError(t, err)
	_, err = e.c.QueryWorkflow(e.ctx(), "quiet:q", "", "anything")
	var qf *serviceerror.QueryFailed
	require.ErrorAs(t, err, &qf)
}

// TestSFNUpdateThroughTemporalFails: an update of a state machine execution is refused at once.
func TestSFNUpdateThroughTemporalFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	sm := e.createMachine(c, "closed-door", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100000,"End":true}}}`)
	_, err := c.StartExecution(e.ctx(), &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("u")})
	require.NoError(t, err)
	_, err = e.c.UpdateWorkflow(e.ctx(), client.UpdateWorkflowOptions{WorkflowID: "closed-door:u", UpdateName: "x", WaitForStage: client.WorkflowUpdateStageCompleted})
	var fp *serviceerror.FailedPrecondition
	require.ErrorAs(t, err, &fp)
}
