package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// The Step Functions durability test: like TestDurabilityAcrossSIGKILL, but the executions are
// state machines driven by the in-engine ASL decider and their tasks are served by AWS SDK
// activity workers.

const (
	sfnCrashExecutions = 200
	sfnCrashTasks      = 4                 // Task states each execution runs: First, Square, Negate, Shift
	sfnCrashDeadline   = 120 * time.Second // a bound for a loaded CI machine; the test takes about 15 s
	sfnCrashMachine    = "crashsfn"
)

// sfnCrashDefinition runs a task, a 1 s Wait (a durable timer on the real clock), a Parallel of
// one task and of two tasks in a row, and a Pass that gathers the results. A task whose poll reply
// was lost in a crash is started but held by no worker: its 5 s timeout and the States.Timeout
// retrier schedule it again.
func sfnCrashDefinition(activityArn string) string {
	task := func(op, x, next string) string {
		return `{"Type":"Task","Resource":"` + activityArn + `","Parameters":{"op":"` + op + `","x.$":"` + x + `","execution.$":"$$.Execution.Name","state.$":"$$.State.Name"},
			"TimeoutSeconds":5,"Retry":[{"ErrorEquals":["States.Timeout"],"IntervalSeconds":1,"BackoffRate":1,"MaxAttempts":20}],` + next + `}`
	}
	return `{"StartAt":"First","States":{
		"First":` + task("triple", "$.n", `"ResultPath":"$.first","Next":"Pause"`) + `,
		"Pause":{"Type":"Wait","Seconds":1,"Next":"Fan"},
		"Fan":{"Type":"Parallel","ResultPath":"$.fan","Next":"Gather","Branches":[
			{"StartAt":"Square","States":{"Square":` + task("square", "$.first.y", `"End":true`) + `}},
			{"StartAt":"Negate","States":{"Negate":` + task("negate", "$.n", `"Next":"Shift"`) + `,
				"Shift":` + task("triple", "$.y", `"End":true`) + `}}]},
		"Gather":{"Type":"Pass","Parameters":{"n.$":"$.n","first.$":"$.first.y","square.$":"$.fan[0].y","shift.$":"$.fan[1].y"},"End":true}}}`
}

// sfnCrashOp is the activity worker's deterministic work.
func sfnCrashOp(op string, x int64) (int64, error) {
	switch op {
	case "triple":
		return 3*x + 1, nil
	case "square":
		return x * x % 1_000_003, nil
	case "negate":
		return 7 - x, nil
	}
	return 0, fmt.Errorf("unknown op %q", op)
}

// sfnCrashWant is the output of the execution of input {"n":n}.
func sfnCrashWant(n int64) string {
	first, _ := sfnCrashOp("triple", n)
	square, _ := sfnCrashOp("square", first)
	neg, _ := sfnCrashOp("negate", n)
	shift, _ := sfnCrashOp("triple", neg)
	return fmt.Sprintf(`{"n":%d,"first":%d,"square":%d,"shift":%d}`, n, first, square, shift)
}

// sfnCrashWorker is a pool of AWS SDK activity workers (GetActivityTask, SendTaskSuccess). It
// rides out the server's deaths: every call that fails for want of a server is retried.
type sfnCrashWorker struct {
	c           *sfnsdk.Client
	activityArn string

	mu sync.Mutex
	// received counts the tasks handed to a worker by execution and state name (from the task
	// input). Deliveries may repeat.
	received map[string]int
	// accepted counts the SendTaskSuccess calls the server accepted, by execution and state.
	accepted map[string]int
	n        int
	// rejected counts completions answered TaskDoesNotExist or TaskTimedOut: a retry of a
	// completion whose first answer was lost in a crash, or a task that timed out meanwhile.
	rejected int
	errs     []error
}

func (w *sfnCrashWorker) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *sfnCrashWorker) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

// run polls and works until ctx ends.
func (w *sfnCrashWorker) run(ctx context.Context, name string) {
	for ctx.Err() == nil {
		task, err := w.c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: aws.String(w.activityArn), WorkerName: aws.String(name)})
		if err != nil {
			if sfnTaskGone(err) || !sfnTransient(err) {
				w.fail(fmt.Errorf("GetActivityTask: %w", err))
			}
			pause(ctx)
			continue
		}
		if aws.ToString(task.TaskToken) == "" {
			continue // the long poll ended without a task
		}
		input := aws.ToString(task.Input)
		var in struct {
			Op        string `json:"op"`
			X         int64  `json:"x"`
			Execution string `json:"execution"`
			State     string `json:"state"`
		}
		if err := json.Unmarshal([]byte(input), &in); err != nil {
			w.fail(fmt.Errorf("task input %q: %w", input, err))
			continue
		}
		key := in.Execution + "/" + in.State
		w.mu.Lock()
		w.received[key]++
		w.n++
		w.mu.Unlock()
		y, err := sfnCrashOp(in.Op, in.X)
		if err != nil {
			w.fail(err)
			continue
		}
		select { // the work takes a little while, so that a kill finds tasks in workers' hands
		case <-time.After(30 * time.Millisecond):
		case <-ctx.Done():
			return
		}
		w.complete(ctx, task.TaskToken, key, fmt.Sprintf(`{"y":%d}`, y))
	}
}

// complete sends the task's result until the server answers it.
func (w *sfnCrashWorker) complete(ctx context.Context, token *string, key, output string) {
	for ctx.Err() == nil {
		_, err := w.c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: token, Output: aws.String(output)})
		switch {
		case err == nil:
			w.mu.Lock()
			w.accepted[key]++
			w.mu.Unlock()
			return
		case sfnTaskGone(err):
			w.mu.Lock()
			w.rejected++
			w.mu.Unlock()
			return
		case !sfnTransient(err):
			w.fail(fmt.Errorf("SendTaskSuccess for %s: %w", key, err))
			return
		}
		pause(ctx)
	}
}

// sfnTaskGone reports the answers to a completion of a task that is no longer open.
func sfnTaskGone(err error) bool {
	var gone *types.TaskDoesNotExist
	var timedOut *types.TaskTimedOut
	return errors.As(err, &gone) || errors.As(err, &timedOut)
}

// sfnTransient reports whether err may come from the server being down or restarting (a
// connection error, a 5xx), as opposed to an answer about the request.
func sfnTransient(err error) bool {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 {
		return false
	}
	return true
}

// sfnCrashClient is an SDK client without the SDK's own retries: the test retries itself, at its
// own pace, and the standard retryer's quota would run dry while the server is down.
func sfnCrashClient(addr string) *sfnsdk.Client {
	return sfnsdk.New(sfnsdk.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr), Retryer: aws.NopRetryer{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
}

func TestSFNDurabilityAcrossSIGKILL(t *testing.T) {
	bin := buildDuro(t)
	p := newDuroProcess(t, bin, testStore(t))
	require.NoError(t, p.start())
	c := sfnCrashClient(p.sfnAddr)
	ctx, cancel := context.WithTimeout(context.Background(), sfnCrashDeadline)
	defer cancel()

	act, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("crash-step")})
	require.NoError(t, err)
	sm, err := c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{
		Name: aws.String(sfnCrashMachine), Definition: aws.String(sfnCrashDefinition(aws.ToString(act.ActivityArn))), RoleArn: aws.String(sfnRole),
	})
	require.NoError(t, err)
	machineArn := aws.ToString(sm.StateMachineArn)

	w := &sfnCrashWorker{c: c, activityArn: aws.ToString(act.ActivityArn), received: map[string]int{}, accepted: map[string]int{}}
	workCtx, stopWork := context.WithCancel(ctx)
	var workers sync.WaitGroup
	for i := range 8 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			w.run(workCtx, fmt.Sprintf("worker-%d", i))
		}()
	}
	defer func() { stopWork(); workers.Wait() }()

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	// Kill at random moments while work is surely in flight: once a random number of tasks has
	// reached the workers, out of the sfnCrashTasks × sfnCrashExecutions the run needs (so at
	// least one execution still waits for a task when the server dies).
	total := sfnCrashTasks * sfnCrashExecutions
	kills := []int{total/8 + rng.IntN(total/4), total/2 + rng.IntN(total*3/8)}
	killerDone := make(chan error, 1)
	go func() {
		for i, at := range kills {
			for w.total() < at {
				select {
				case <-time.After(5 * time.Millisecond):
				case <-ctx.Done():
					killerDone <- fmt.Errorf("kill %d at %d tasks: only %d reached the workers: %w", i+1, at, w.total(), ctx.Err())
					return
				}
			}
			p.kill()
			if err := p.start(); err != nil {
				killerDone <- fmt.Errorf("restart after kill %d: %w", i+1, err)
				return
			}
		}
		killerDone <- nil
	}()

	// Start every execution, riding out the restarts. A start repeated after a lost answer is
	// the same execution (same name and input); ExecutionAlreadyExists on a repeat means the
	// first attempt started it and it has finished since — its input is checked below.
	arns := make([]string, sfnCrashExecutions)
	var starters sync.WaitGroup
	startErrs := make([]error, sfnCrashExecutions)
	sem := make(chan struct{}, 20)
	for i := range sfnCrashExecutions {
		starters.Add(1)
		go func() {
			defer starters.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			arns[i], startErrs[i] = sfnStartThroughCrashes(ctx, c, machineArn, fmt.Sprintf("x-%03d", i), fmt.Sprintf(`{"n":%d}`, i))
		}()
	}
	starters.Wait()
	for i, err := range startErrs {
		require.NoError(t, err, "start x-%03d", i)
	}
	require.NoError(t, sfnWaitAllClosed(ctx, c, machineArn, sfnCrashExecutions), "waiting for the executions to end")
	require.NoError(t, <-killerDone)
	stopWork()
	workers.Wait()
	w.mu.Lock()
	require.Empty(t, w.errs, "activity worker errors")
	w.mu.Unlock()

	// The checks read with the SDK's standard retryer: with a server this fast on loopback, Go's
	// transport and the SDK race on the request body now and then and close the connection under
	// a 200 answer ("use of closed network connection", aws-sdk-go-v2#2737), which it retries.
	c = sfnClientAt(p.sfnAddr)
	for i, arn := range arns {
		d, err := c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		require.NoError(t, err)
		require.Equal(t, types.ExecutionStatusSucceeded, d.Status, "%s: %s %s", arn, aws.ToString(d.Error), aws.ToString(d.Cause))
		require.JSONEq(t, fmt.Sprintf(`{"n":%d}`, i), aws.ToString(d.Input), arn)
		require.JSONEq(t, sfnCrashWant(int64(i)), aws.ToString(d.Output), arn)
	}

	// No task completed twice, from each Step Functions history and from the Temporal one.
	tc, err := client.Dial(client.Options{HostPort: p.grpcAddr, Namespace: namespace, Logger: quietLogger{}})
	require.NoError(t, err)
	defer tc.Close()
	e := &env{t: t, c: tc, raw: tc.WorkflowService()}
	var retried int
	for i, arn := range arns {
		retried += sfnRequireTasksOnce(t, sfnHistory(ctx, t, c, arn))
		events := e.history(fmt.Sprintf("%s:x-%03d", sfnCrashMachine, i), "")
		requireWellFormed(t, events)
		outcomes := map[int64]int{}
		for _, ev := range events {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				outcomes[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]++
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
				outcomes[ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()]++
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
				outcomes[ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()]++
			}
		}
		scheduled := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
		for _, ev := range scheduled {
			require.Equal(t, 1, outcomes[ev.GetEventId()], "%s: outcomes of the activity scheduled at %d: %v", arn, ev.GetEventId(), eventTypes(events))
		}
		require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), sfnCrashTasks, arn)
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType(), arn)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	redelivered := 0
	require.Len(t, w.received, total, "tasks that reached a worker, by execution and state")
	for key, n := range w.accepted {
		require.LessOrEqual(t, n, 1, "the server accepted %d completions of task %s", n, key)
	}
	for _, n := range w.received {
		if n > 1 {
			redelivered++
		}
	}
	t.Logf("killed and restarted the server after %d and %d tasks; %d executions succeeded; %d tasks timed out and were retried, %d reached a worker more than once, %d completions were answered as stale; none completed twice",
		kills[0], kills[1], sfnCrashExecutions, retried, redelivered, w.rejected)
}

// sfnStartThroughCrashes starts an execution and returns its ARN, repeating the start until the
// server answers it.
func sfnStartThroughCrashes(ctx context.Context, c *sfnsdk.Client, machineArn, name, input string) (string, error) {
	for try := 0; ; try++ {
		out, err := c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(machineArn), Name: aws.String(name), Input: aws.String(input)})
		if err == nil {
			return aws.ToString(out.ExecutionArn), nil
		}
		var exists *types.ExecutionAlreadyExists
		if try > 0 && errors.As(err, &exists) {
			return strings.Replace(machineArn, ":stateMachine:", ":execution:", 1) + ":" + name, nil
		}
		if !sfnTransient(err) || ctx.Err() != nil {
			return "", err
		}
		pause(ctx)
	}
}

// sfnWaitAllClosed polls ListExecutions until want executions of the machine exist and none runs.
func sfnWaitAllClosed(ctx context.Context, c *sfnsdk.Client, machineArn string, want int) error {
	for {
		var seen, running int
		var token *string
		var err error
		for {
			var page *sfnsdk.ListExecutionsOutput
			page, err = c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(machineArn), MaxResults: 1000, NextToken: token})
			if err != nil {
				break
			}
			for _, x := range page.Executions {
				seen++
				if x.Status == types.ExecutionStatusRunning {
					running++
				}
			}
			if token = page.NextToken; token == nil {
				break
			}
		}
		if err == nil && seen >= want && running == 0 {
			return nil
		}
		if err != nil && !sfnTransient(err) {
			return err
		}
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("%d of %d executions seen, %d still running: %w", seen, want, running, ctx.Err())
		}
	}
}

// sfnHistory reads an execution's whole Step Functions history.
func sfnHistory(ctx context.Context, t testing.TB, c *sfnsdk.Client, arn string) []types.HistoryEvent {
	t.Helper()
	var events []types.HistoryEvent
	var token *string
	for {
		h, err := c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000, NextToken: token})
		require.NoError(t, err, "history of %s", arn)
		events = append(events, h.Events...)
		if token = h.NextToken; token == nil {
			return events
		}
	}
}

// sfnRequireTasksOnce checks a Step Functions history: ids chain, every scheduled task has
// exactly one outcome, and each Task state succeeded exactly once. It returns how many attempts
// timed out (and were retried). Activity tasks are counted whether the history names them with
// the Task* events or with AWS's Activity* events.
func sfnRequireTasksOnce(t testing.TB, events []types.HistoryEvent) int {
	t.Helper()
	byID := make(map[int64]types.HistoryEvent, len(events))
	for i, ev := range events {
		require.Equal(t, int64(i+1), ev.Id, "event ids are 1, 2, 3, ...")
		require.Less(t, ev.PreviousEventId, ev.Id)
		byID[ev.Id] = ev
	}
	// scheduledOf walks an event's thread back to the task attempt it belongs to.
	scheduledOf := func(ev types.HistoryEvent) (types.HistoryEvent, bool) {
		for ev.PreviousEventId > 0 {
			ev = byID[ev.PreviousEventId]
			switch ev.Type {
			case types.HistoryEventTypeTaskScheduled, types.HistoryEventTypeActivityScheduled:
				return ev, true
			}
		}
		return ev, false
	}
	// stateOf walks back to the Task state an attempt belongs to.
	stateOf := func(ev types.HistoryEvent) string {
		for ev.PreviousEventId > 0 {
			ev = byID[ev.PreviousEventId]
			if ev.Type == types.HistoryEventTypeTaskStateEntered {
				return aws.ToString(ev.StateEnteredEventDetails.Name)
			}
		}
		return ""
	}
	outcomes := map[int64]int{}
	succeeded := map[string]int{}
	var last types.HistoryEventType
	timedOut := 0
	for _, ev := range events {
		last = ev.Type
		switch ev.Type {
		case types.HistoryEventTypeTaskSucceeded, types.HistoryEventTypeActivitySucceeded:
			s, ok := scheduledOf(ev)
			require.True(t, ok, "%s %d follows no scheduled task", ev.Type, ev.Id)
			outcomes[s.Id]++
			succeeded[stateOf(s)]++
		case types.HistoryEventTypeTaskFailed, types.HistoryEventTypeTaskTimedOut,
			types.HistoryEventTypeActivityFailed, types.HistoryEventTypeActivityTimedOut:
			s, ok := scheduledOf(ev)
			require.True(t, ok, "%s %d follows no scheduled task", ev.Type, ev.Id)
			outcomes[s.Id]++
			timedOut++
		}
	}
	require.Equal(t, types.HistoryEventTypeExecutionSucceeded, last)
	for _, ev := range events {
		if ev.Type == types.HistoryEventTypeTaskScheduled || ev.Type == types.HistoryEventTypeActivityScheduled {
			require.Equal(t, 1, outcomes[ev.Id], "outcomes of the task scheduled at event %d", ev.Id)
		}
	}
	require.Equal(t, map[string]int{"First": 1, "Square": 1, "Negate": 1, "Shift": 1}, succeeded, "successes per Task state")
	return timedOut
}
