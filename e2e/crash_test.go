package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

const (
	crashWorkflows = 200
	crashDeadline  = 100 * time.Second
)

// crashActs counts every execution of every activity, by workflow ID and activity ID. Executions
// may repeat (delivery to workers is at least once); recorded completions must not.
type crashActs struct {
	mu    sync.Mutex
	execs map[string]int
	n     int
}

// Step is one activity of crashWorkflow. It takes 100 ms, so that a kill finds some activities
// running, whose completions then reach the restarted server.
func (a *crashActs) Step(ctx context.Context, x int) (int, error) {
	info := activity.GetInfo(ctx)
	a.mu.Lock()
	a.execs[info.WorkflowExecution.ID+"/"+info.ActivityID]++
	a.n++
	a.mu.Unlock()
	select {
	case <-time.After(100 * time.Millisecond): // the activity's work
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return step(x), nil
}

func step(x int) int { return 3*x + 1 }

// crashWorkflow runs two activities, a 1–2 s timer, and a third activity.
func crashWorkflow(ctx workflow.Context, n int) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: time.Second},
	})
	var acts *crashActs
	x := n
	for i := 0; i < 3; i++ {
		if i == 2 {
			if err := workflow.Sleep(ctx, time.Second+time.Duration(n%10)*100*time.Millisecond); err != nil {
				return 0, err
			}
		}
		if err := workflow.ExecuteActivity(ctx, acts.Step, x).Get(ctx, &x); err != nil {
			return 0, err
		}
	}
	return x, nil
}

// duroProcess is `duro server` running as a subprocess.
type duroProcess struct {
	t        testing.TB
	bin      string
	env      []string
	grpcAddr string
	sfnAddr  string // the Step Functions API, on a free port rather than the fixed default 8083
	logPath  string
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
}

// buildDuro builds the duro binary into a temp dir.
func buildDuro(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "duro")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/duro-dev/duro/cmd/duro")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/duro:\n%s", out)
	return bin
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func newDuroProcess(t testing.TB, bin, store string) *duroProcess {
	p := &duroProcess{
		t:        t,
		bin:      bin,
		grpcAddr: freeAddr(t),
		sfnAddr:  freeAddr(t),
		logPath:  filepath.Join(t.TempDir(), "duro.log"),
	}
	p.env = append(os.Environ(),
		"DURO_GRPC_ADDR="+p.grpcAddr,
		"DURO_HTTP_ADDR="+freeAddr(t),
		"DURO_SFN_ADDR="+p.sfnAddr,
		"DURO_STORE="+store,
		"DURO_LOG_LEVEL=info",
	)
	t.Cleanup(func() {
		p.kill()
		if b, err := os.ReadFile(p.logPath); err == nil {
			for _, line := range bytes.Split(b, []byte("\n")) {
				if reportsPanic(line) || bytes.HasPrefix(line, []byte("panic: ")) {
					t.Errorf("the duro server reported a panic: %s", line)
				}
			}
		}
		if t.Failed() {
			if b, err := os.ReadFile(p.logPath); err == nil {
				t.Logf("duro server log (last 8 KiB):\n%s", tail(b, 8<<10))
			}
		}
	})
	return p
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// start runs the server and waits until it answers. It may run on any goroutine, so it reports
// failure as an error rather than through t.
func (p *duroProcess) start() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, "server")
	cmd.Env = p.env
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start duro server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	deadline := time.Now().Add(waitFor)
	for {
		select {
		case <-exited:
			return fmt.Errorf("duro server exited during start-up (log: %s)", p.logPath)
		default:
		}
		if p.ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("duro server not ready on %s within %v (log: %s)", p.grpcAddr, waitFor, p.logPath)
		}
		select {
		case <-exited:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ready reports whether the server answers a dial (GetSystemInfo) and a health check.
func (p *duroProcess) ready() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: p.grpcAddr, Namespace: namespace, Logger: quietLogger{}})
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err == nil
}

// kill SIGKILLs the server, if running, and waits for it to exit.
func (p *duroProcess) kill() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// quietLogger drops the SDK's logs; the crash test expects connection errors while the server is down.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// transient reports whether err may come from the server being down or restarting, as opposed to
// an answer about the workflow itself.
func transient(err error) bool {
	var (
		wee *temporal.WorkflowExecutionError
		nf  *serviceerror.NotFound
		ia  *serviceerror.InvalidArgument
	)
	return !errors.As(err, &wee) && !errors.As(err, &nf) && !errors.As(err, &ia)
}

// pause waits a little before a retry, or until ctx ends.
func pause(ctx context.Context) {
	select {
	case <-time.After(200 * time.Millisecond):
	case <-ctx.Done():
	}
}

func TestDurabilityAcrossSIGKILL(t *testing.T) {
	bin := buildDuro(t)
	p := newDuroProcess(t, bin, testStore(t))
	require.NoError(t, p.start())

	c, err := client.Dial(client.Options{HostPort: p.grpcAddr, Namespace: namespace, Logger: quietLogger{}})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	acts := &crashActs{execs: map[string]int{}}
	tq := "crash-" + fmt.Sprint(time.Now().UnixNano())
	w := newCrashWorker(t, c, tq, acts)
	defer w()

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	// Kill at random moments while work is surely in flight: once a random number of activity
	// executions has happened, out of the 3 × crashWorkflows the run needs.
	total := 3 * crashWorkflows
	kills := []int{
		total/8 + rng.IntN(total/4),   // between 1/8 and 3/8 of the way
		total/2 + rng.IntN(total*3/8), // between 1/2 and 7/8 of the way
	}
	var completed atomic.Int64
	completedAtKill := make([]int64, len(kills))

	ctx, cancel := context.WithTimeout(context.Background(), crashDeadline)
	defer cancel()

	// The killer: SIGKILL at a random moment, restart on the same data, twice.
	killerDone := make(chan error, 1)
	go func() {
		for i, at := range kills {
			for acts.total() < at {
				select {
				case <-time.After(5 * time.Millisecond):
				case <-ctx.Done():
					killerDone <- fmt.Errorf("kill %d at %d activity executions: only %d happened: %w", i+1, at, acts.total(), ctx.Err())
					return
				}
			}
			completedAtKill[i] = completed.Load()
			p.kill()
			if err := p.start(); err != nil {
				killerDone <- fmt.Errorf("restart after kill %d: %w", i+1, err)
				return
			}
		}
		killerDone <- nil
	}()

	type outcome struct {
		wfID, runID string
		result      int
		err         error
	}
	outcomes := make([]outcome, crashWorkflows)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for i := range crashWorkflows {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			o := &outcomes[i]
			o.wfID = fmt.Sprintf("crash-%d", i)
			o.runID, o.result, o.err = runThroughCrashes(ctx, c, tq, o.wfID, i)
			completed.Add(1)
		}(i)
	}
	wg.Wait()
	require.NoError(t, <-killerDone)
	t.Logf("killed and restarted the server after %d and then %d activity executions, with %d and %d of %d workflows done",
		kills[0], kills[1], completedAtKill[0], completedAtKill[1], crashWorkflows)
	for i, n := range completedAtKill {
		require.Less(t, n, int64(crashWorkflows), "kill %d must come while workflows are still running", i+1)
	}

	want := func(n int) int { return step(step(step(n))) }
	for i, o := range outcomes {
		require.NoError(t, o.err, "workflow %s", o.wfID)
		require.Equal(t, want(i), o.result, "result of %s", o.wfID)
	}

	// From each history: exactly one completion per scheduled activity, one timer fired, one close.
	e := &env{t: t, c: c, raw: c.WorkflowService()}
	var redelivered int
	for _, o := range outcomes {
		events := e.history(o.wfID, o.runID)
		requireWellFormed(t, events)
		scheduled := ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
		require.Len(t, scheduled, 3, "%s: %v", o.wfID, eventTypes(events))
		completions := map[int64]int{}
		for _, ev := range ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
			completions[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]++
		}
		for _, ev := range scheduled {
			require.Equal(t, 1, completions[ev.GetEventId()], "%s: completions of activity scheduled at %d: %v", o.wfID, ev.GetEventId(), eventTypes(events))
			id := ev.GetActivityTaskScheduledEventAttributes().GetActivityId()
			n := acts.executions(o.wfID + "/" + id)
			require.GreaterOrEqual(t, n, 1, "%s: activity %s completed but never ran", o.wfID, id)
			if n > 1 {
				redelivered++
			}
		}
		require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 3)
		require.Len(t, ofType(events, enumspb.EVENT_TYPE_TIMER_FIRED), 1, o.wfID)
		require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED), 1, o.wfID)
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, events[len(events)-1].GetEventType())

		d, err := c.DescribeWorkflowExecution(ctx, o.wfID, "")
		require.NoError(t, err)
		require.Equal(t, o.runID, d.GetWorkflowExecutionInfo().GetExecution().GetRunId(), "%s has exactly one run", o.wfID)
	}
	t.Logf("%d workflows completed across 2 SIGKILLs; %d activities ran more than once (allowed: delivery is at least once), none completed twice", crashWorkflows, redelivered)
}

// total is the number of activity executions so far.
func (a *crashActs) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

func (a *crashActs) executions(key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.execs[key]
}

func newCrashWorker(t testing.TB, c client.Client, tq string, acts *crashActs) func() {
	w := newWorker(c, tq, registry{workflows: []any{crashWorkflow}, activities: []any{acts}})
	require.NoError(t, w.Start())
	var once sync.Once
	stop := func() { once.Do(w.Stop) }
	t.Cleanup(stop)
	return stop
}

// runThroughCrashes starts workflow wfID and waits for its result, riding out server restarts: a
// start is repeated until it is answered (REJECT_DUPLICATE, so a repeat can never begin a second
// run), and a wait until the result arrives.
func runThroughCrashes(ctx context.Context, c client.Client, tq, wfID string, n int) (string, int, error) {
	var run client.WorkflowRun
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		r, err := c.ExecuteWorkflow(sctx, client.StartWorkflowOptions{
			ID:                    wfID,
			TaskQueue:             tq,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			WorkflowTaskTimeout:   5 * time.Second,
		}, crashWorkflow, n)
		cancel()
		if err == nil {
			run = r
			break
		}
		if !transient(err) || ctx.Err() != nil {
			return "", 0, fmt.Errorf("start %s: %w", wfID, err)
		}
		pause(ctx)
	}
	for {
		var result int
		err := c.GetWorkflow(ctx, wfID, run.GetRunID()).Get(ctx, &result)
		if err == nil {
			return run.GetRunID(), result, nil
		}
		if !transient(err) || ctx.Err() != nil {
			return run.GetRunID(), 0, fmt.Errorf("result of %s: %w", wfID, err)
		}
		pause(ctx)
	}
}
