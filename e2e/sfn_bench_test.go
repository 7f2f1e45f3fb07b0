package e2e

import (
	"context"
	"errors"
	"fmt"
	"github.com/duro-dev/duro/e2e/e2etest"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"
)

// Step Functions benchmarks, on an in-process node over loopback (SQLite, or PostgreSQL when
// DURO_E2E_STORE is set), driven by the AWS SDK:
//
//	go test ./e2e/ -run '^$' -bench SFN
//
// An execution's end is observed through the Temporal API's long poll on the close event (the
// SDK client's GetWorkflow(...).Get), then confirmed SUCCEEDED with DescribeExecution: a
// Step Functions client has no long poll, and polling DescribeExecution would measure the
// polling interval rather than Duro.

// sfnBenchClient is an SDK client whose connection pool holds the benchmark's concurrency, so
// connections are reused rather than opened and closed per call.
func sfnBenchClient(addr string) *sfnsdk.Client {
	return sfnsdk.New(sfnsdk.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr),
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
		}),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
}

// sfnBench is one benchmark's node, SDK client and state machine.
type sfnBench struct {
	e       *env
	c       *sfnsdk.Client
	machine string // name
	arn     string
}

func newSFNBench(b *testing.B, machine, definition string) *sfnBench {
	e := newEnv(b)
	c := sfnBenchClient(e.srv.SFNAddr())
	return &sfnBench{e: e, c: c, machine: machine, arn: e.createMachine(c, machine, definition)}
}

// run runs one execution named name to its end and checks that it succeeded with want (any
// output when want is empty).
func (s *sfnBench) run(ctx context.Context, name, input, want string) error {
	out, err := s.c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(s.arn), Name: aws.String(name), Input: aws.String(input)})
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := s.e.c.GetWorkflow(ctx, s.machine+":"+name, "").Get(ctx, nil); err != nil {
		return fmt.Errorf("wait for %s: %w", name, err)
	}
	d, err := s.c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
	if err != nil {
		return fmt.Errorf("describe %s: %w", name, err)
	}
	if d.Status != types.ExecutionStatusSucceeded || (want != "" && aws.ToString(d.Output) != want) {
		return fmt.Errorf("%s: %s %s%s%s", name, d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	return nil
}

// loop runs b.N executions, inFlight at once, and returns the wall time and each one's latency,
// sorted.
func (s *sfnBench) loop(b *testing.B, inFlight int, input, want string) time.Duration {
	elapsed, _ := e2etest.Load(b, inFlight, func(ctx context.Context, i int) error {
		return s.run(ctx, fmt.Sprintf("b%d-%d", b.N, i), input, want)
	})
	return elapsed
}

// sfnPassChain is a machine of n Pass states in a row, each adding to a counter.
func sfnPassChain(n int) string {
	var sb strings.Builder
	sb.WriteString(`{"StartAt":"S0","States":{`)
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		fmt.Fprintf(&sb, `"S%d":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)"},%s}`, i, next)
	}
	sb.WriteString(`}}`)
	return sb.String()
}

// BenchmarkSFNPassChain: state transitions per second of durable executions of a 100-state Pass
// chain, 16 at once. The decider runs consecutive Pass states inside one engine transition (they
// issue no command), so this measures the interpreter, the history it records (200 state events
// per execution) and one commit per execution.
func BenchmarkSFNPassChain(b *testing.B) {
	const states = 100
	s := newSFNBench(b, "chain", sfnPassChain(states))
	elapsed := s.loop(b, 16, `{"n":0}`, fmt.Sprintf(`{"n":%d}`, states))
	b.ReportMetric(float64(b.N*states)/elapsed.Seconds(), "transitions/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "executions/s")
}

// BenchmarkSFNLatency: StartExecution-to-SUCCEEDED latency of 3-state machines, one execution
// at a time: one that ends inside its start transition (Pass, Choice, Succeed), and one whose
// middle state is an activity Task served by an AWS SDK worker (so its latency includes the
// hand-off to a waiting GetActivityTask poll and the SendTaskSuccess transition).
func BenchmarkSFNLatency(b *testing.B) {
	b.Run("pass-choice-succeed", func(b *testing.B) {
		s := newSFNBench(b, "three", `{"StartAt":"Prepare","States":{
			"Prepare":{"Type":"Pass","Parameters":{"n.$":"$.n","big":true},"Next":"Decide"},
			"Decide":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":10,"Next":"Done"}],"Default":"Done"},
			"Done":{"Type":"Succeed"}}}`)
		s.loop(b, 1, `{"n":42}`, `{"n":42,"big":true}`)
	})
	b.Run("pass-task-pass", func(b *testing.B) {
		e := newEnv(b)
		c := sfnBenchClient(e.srv.SFNAddr())
		act := sfnBenchWorkers(b, c, "bench-echo", 2)
		s := &sfnBench{e: e, c: c, machine: "threetask"}
		s.arn = e.createMachine(c, s.machine, `{"StartAt":"Prepare","States":{
			"Prepare":{"Type":"Pass","Parameters":{"n.$":"$.n"},"Next":"Work"},
			"Work":{"Type":"Task","Resource":"`+act+`","ResultPath":"$.echo","Next":"Done"},
			"Done":{"Type":"Pass","OutputPath":"$.echo","End":true}}}`)
		s.loop(b, 1, `{"n":42}`, `{"n":42}`)
	})
}

// BenchmarkSFNActivity: executions per second of a one-Task machine whose activity is served by
// 8 AWS SDK workers (GetActivityTask / SendTaskSuccess), 50 executions at once.
func BenchmarkSFNActivity(b *testing.B) {
	e := newEnv(b)
	c := sfnBenchClient(e.srv.SFNAddr())
	act := sfnBenchWorkers(b, c, "bench-work", 8)
	s := &sfnBench{e: e, c: c, machine: "onetask"}
	s.arn = e.createMachine(c, s.machine, `{"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"`+act+`","End":true}}}`)
	elapsed := s.loop(b, 50, `{"n":7}`, `{"n":7}`)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "executions/s")
}

// sfnBenchWorkers creates an activity and runs n AWS SDK workers that answer each task with its
// input, until the benchmark ends. It returns the activity's ARN.
func sfnBenchWorkers(b *testing.B, c *sfnsdk.Client, name string, n int) string {
	ctx, cancel := context.WithCancel(context.Background())
	out, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String(name)})
	require.NoError(b, err)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				task, err := c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: out.ActivityArn, WorkerName: aws.String(fmt.Sprint("w", i))})
				if err == nil && aws.ToString(task.TaskToken) != "" {
					_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: task.Input})
				}
				if err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
		}()
	}
	b.Cleanup(func() {
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			if !errors.Is(err, context.Canceled) {
				b.Errorf("activity worker: %v", err)
			}
		}
	})
	return aws.ToString(out.ActivityArn)
}
