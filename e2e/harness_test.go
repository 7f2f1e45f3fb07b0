package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/duro-dev/duro/e2e/e2etest"
	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/server"
)

const (
	namespace = "default"
	// waitFor bounds every polling wait of the suite; generous because the machine is shared.
	waitFor = 30 * time.Second
	tick    = 50 * time.Millisecond
)

// env is one test's Duro node, its manual clock and a client dialled to it.
type env struct {
	t      testing.TB
	srv    *server.Server
	clk    *clock.Manual
	c      client.Client
	raw    workflowservice.WorkflowServiceClient
	logger *testLogger
	seq    *atomic.Int64
}

type envConfig struct {
	maxPayloadBytes int
	longPollTimeout time.Duration
}

// envOption adjusts the node a test starts.
type envOption func(*envConfig)

// withLongPollTimeout sets how long the node holds an empty task-queue poll.
func withLongPollTimeout(d time.Duration) envOption {
	return func(c *envConfig) { c.longPollTimeout = d }
}

// withMaxPayloadBytes sets the node's payload limit.
func withMaxPayloadBytes(n int) envOption { return func(c *envConfig) { c.maxPayloadBytes = n } }

// newEnv starts an in-process Duro on loopback with a fresh store (a temp SQLite file, or a fresh
// PostgreSQL schema when DURO_E2E_STORE holds a postgres:// URL), dials a client to it, and stops both
// in t.Cleanup.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	cfg := envConfig{longPollTimeout: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	logger := newTestLogger(t)
	e := &env{t: t, clk: clock.NewManual(), logger: logger, seq: new(atomic.Int64)}

	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		GRPCAddr:        "127.0.0.1:0",
		HTTPAddr:        "127.0.0.1:0",
		SFNAddr:         "127.0.0.1:0",
		Store:           testStore(t),
		LogLevel:        logLevel(),
		MaxPayloadBytes: cfg.maxPayloadBytes,
		LongPollTimeout: cfg.longPollTimeout,
		Clock:           e.clk,
		Logger:          slog.New(slog.NewTextHandler(logger.writer("duro"), &slog.HandlerOptions{Level: slogLevel()})),
	})
	if err != nil {
		cancel()
		require.NoError(t, err, "server.New")
	}
	e.srv = srv
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		select {
		case err := <-done:
			t.Errorf("server.Run returned before the test ended: %v", err)
			cancel()
			logger.close()
			return
		default:
		}
		cancel()
		e2etest.AwaitStop(t, done, waitFor)
		logger.close()
		for _, p := range logger.recoveredPanics() {
			t.Errorf("the node logged a panic: %s", p)
		}
	})

	e.c = dial(t, srv.GRPCAddr(), logger)
	e.raw = e.c.WorkflowService()
	return e
}

// plainClient dials the node's Temporal API with plain gRPC: no SDK interceptors, headers or
// retries, so a test controls every byte of a request.
func (e *env) plainClient() workflowservice.WorkflowServiceClient {
	e.t.Helper()
	conn, err := grpc.NewClient(e.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = conn.Close() })
	return workflowservice.NewWorkflowServiceClient(conn)
}

// dial connects an SDK client and closes it in t.Cleanup.
func dial(t testing.TB, addr string, logger *testLogger) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  addr,
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(logger.writer("sdk"), &slog.HandlerOptions{Level: slogLevel()}))),
	})
	require.NoError(t, err, "dial %s", addr)
	t.Cleanup(c.Close)
	return c
}

// testStore returns the store spec for one test (e2etest.Store).
func testStore(t testing.TB) string {
	t.Helper()
	return e2etest.Store(t, "e2e_")
}

// logLevel is the level of the node's and the SDK's logs in test output (DURO_E2E_LOG_LEVEL, warn by
// default so that a failing test shows what went wrong without drowning in chatter).
func logLevel() string {
	if l := os.Getenv("DURO_E2E_LOG_LEVEL"); l != "" {
		return l
	}
	return "warn"
}

func slogLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(logLevel())); err != nil {
		return slog.LevelWarn
	}
	return l
}

// testLogger forwards log lines to t.Log until the test's cleanup closes it: goroutines that outlive
// the test must not call t.Log, which panics.
type testLogger struct {
	t      testing.TB
	mu     sync.Mutex
	closed bool
	panics []string // node log lines that report a recovered panic
}

func newTestLogger(t testing.TB) *testLogger { return &testLogger{t: t} }

func (l *testLogger) writer(prefix string) *logWriter { return &logWriter{l: l, prefix: prefix} }

func (l *testLogger) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

func (l *testLogger) log(prefix string, line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prefix == "duro" && reportsPanic(line) {
		l.panics = append(l.panics, string(line))
	}
	if !l.closed {
		l.t.Logf("%s: %s", prefix, bytes.TrimRight(line, "\n"))
	}
}

// reportsPanic tells whether a node log line (slog text) is an error about a panic.
func reportsPanic(line []byte) bool {
	return bytes.Contains(line, []byte("level=ERROR")) && bytes.Contains(line, []byte("panic"))
}

// recoveredPanics returns the node log lines that report a panic. A recovered panic never reaches a
// client (DESIGN.md, invariant 9), but it is still a bug.
func (l *testLogger) recoveredPanics() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.panics...)
}

type logWriter struct {
	l      *testLogger
	prefix string
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.l.log(w.prefix, p)
	return len(p), nil
}

// registry lists what a worker serves.
type registry struct {
	// workflows are registered under their function names, named ones under the map key.
	workflows []any
	named     map[string]any
	// activities are functions or struct pointers (each exported method is an activity).
	activities []any
	options    worker.Options
}

// sub returns e bound to a subtest, so that its helpers fail and clean up in the subtest.
func (e *env) sub(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// id returns a name unique within the test.
func (e *env) id(prefix string) string {
	name := strings.NewReplacer("/", "-", " ", "_").Replace(e.t.Name())
	if len(name) > 80 {
		name = name[:80]
	}
	return fmt.Sprintf("%s-%s-%d", name, prefix, e.seq.Add(1))
}

// startWorker starts a worker on a fresh task queue and returns the queue's name.
func (e *env) startWorker(r registry) string {
	e.t.Helper()
	tq := e.id("tq")
	e.startWorkerOn(tq, r)
	return tq
}

// startWorkerOn starts a worker on tq and returns a stop function (idempotent, also run in Cleanup).
func (e *env) startWorkerOn(tq string, r registry) (stop func()) {
	e.t.Helper()
	w := newWorker(e.c, tq, r)
	require.NoError(e.t, w.Start(), "start worker on %s", tq)
	var once sync.Once
	stop = func() { once.Do(w.Stop) }
	e.t.Cleanup(stop)
	return stop
}

// newWorker builds (but does not start) a worker on tq serving r.
func newWorker(c client.Client, tq string, r registry) worker.Worker {
	w := worker.New(c, tq, r.options)
	for _, wf := range r.workflows {
		w.RegisterWorkflow(wf)
	}
	for name, wf := range r.named {
		w.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: name})
	}
	for _, a := range r.activities {
		w.RegisterActivity(a)
	}
	return w
}

// ctx returns a context bounded by waitFor.
func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	e.t.Cleanup(cancel)
	return ctx
}

// start starts a workflow on tq with a fresh ID (unless opts sets one).
func (e *env) start(tq string, opts client.StartWorkflowOptions, wf any, args ...any) client.WorkflowRun {
	e.t.Helper()
	if opts.ID == "" {
		opts.ID = e.id("wf")
	}
	opts.TaskQueue = tq
	run, err := e.c.ExecuteWorkflow(e.ctx(), opts, wf, args...)
	require.NoError(e.t, err, "start workflow %s", opts.ID)
	return run
}

// history reads the whole recorded history of a run.
func (e *env) history(wfID, runID string) []*historypb.HistoryEvent {
	e.t.Helper()
	it := e.c.GetWorkflowHistory(e.ctx(), wfID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(e.t, err, "read history of %s/%s", wfID, runID)
		events = append(events, ev)
	}
	return events
}

// historyOf reads the history of run.
func (e *env) historyOf(run client.WorkflowRun) []*historypb.HistoryEvent {
	return e.history(run.GetID(), run.GetRunID())
}

// never checks, on the test's own goroutine, that cond stays false for d, looking every tick.
// require.Never runs cond on goroutines of its own and may return while one is still reading the
// store; its require calls would then report into the test after it ended (its context canceled).
func (e *env) never(cond func() bool, d, tick time.Duration, msgAndArgs ...any) {
	e.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(tick) {
		require.False(e.t, cond(), msgAndArgs...)
	}
}

// waitForEvent polls the history of a run until an event of type et is recorded and returns it.
func (e *env) waitForEvent(wfID, runID string, et enumspb.EventType) *historypb.HistoryEvent {
	e.t.Helper()
	var found *historypb.HistoryEvent
	require.Eventually(e.t, func() bool {
		for _, ev := range e.history(wfID, runID) {
			if ev.GetEventType() == et {
				found = ev
				return true
			}
		}
		return false
	}, waitFor, tick, "no %v in the history of %s", et, wfID)
	return found
}

// describe returns what DescribeWorkflowExecution says of a run.
func (e *env) describe(wfID, runID string) *workflowpb.WorkflowExecutionInfo {
	e.t.Helper()
	d, err := e.c.DescribeWorkflowExecution(e.ctx(), wfID, runID)
	require.NoError(e.t, err, "describe %s", wfID)
	return d.GetWorkflowExecutionInfo()
}

// status returns the status of a run.
func (e *env) status(wfID, runID string) enumspb.WorkflowExecutionStatus {
	e.t.Helper()
	return e.describe(wfID, runID).GetStatus()
}

// eventTypes lists the types of events, in order.
func eventTypes(events []*historypb.HistoryEvent) []enumspb.EventType {
	out := make([]enumspb.EventType, len(events))
	for i, ev := range events {
		out[i] = ev.GetEventType()
	}
	return out
}

// ofType returns the events of type et, in order.
func ofType(events []*historypb.HistoryEvent, et enumspb.EventType) []*historypb.HistoryEvent {
	var out []*historypb.HistoryEvent
	for _, ev := range events {
		if ev.GetEventType() == et {
			out = append(out, ev)
		}
	}
	return out
}

// indexOf returns the position of the first event of type et at or after from, or -1.
func indexOf(events []*historypb.HistoryEvent, et enumspb.EventType, from int) int {
	for i := from; i < len(events); i++ {
		if events[i].GetEventType() == et {
			return i
		}
	}
	return -1
}

// requireWellFormed checks invariants every history must keep: event IDs contiguous from 1, a
// WorkflowExecutionStarted first, and at most one close event, which is last.
func requireWellFormed(t testing.TB, events []*historypb.HistoryEvent) {
	t.Helper()
	require.NotEmpty(t, events, "empty history")
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, events[0].GetEventType(), "first event")
	for i, ev := range events {
		require.Equal(t, int64(i+1), ev.GetEventId(), "event %d (%v) has ID %d: IDs must be contiguous from 1", i, ev.GetEventType(), ev.GetEventId())
		if isCloseEvent(ev.GetEventType()) {
			require.Equal(t, len(events)-1, i, "close event %v is not last", ev.GetEventType())
		}
	}
}

func isCloseEvent(et enumspb.EventType) bool {
	switch et {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		return true
	}
	return false
}
