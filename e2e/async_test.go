package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/duro-dev/duro/internal/server"
)

// approvalWorkflow waits for an activity that a human (another process) completes later.
func approvalWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 24 * time.Hour})
	var decision string
	err := workflow.ExecuteActivity(ctx, "AwaitApproval").Get(ctx, &decision)
	return "decision: " + decision, err
}

type approvals struct{ tokens chan []byte }

func (a *approvals) AwaitApproval(ctx context.Context) (string, error) {
	a.tokens <- activity.GetInfo(ctx).TaskToken
	return "", activity.ErrResultPending
}

// startNode runs a node on addr and store until the returned stop is called.
func startNode(t *testing.T, addr, storeSpec string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{GRPCAddr: addr, Store: storeSpec, LongPollTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(newTestLogger(t).writer("duro"), &slog.HandlerOptions{Level: slogLevel()}))})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitFor):
			t.Errorf("node did not stop")
		}
	}
}

func TestAsyncActivityCompletedByTokenFromAnotherProcessAfterRestart(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	storeSpec := testStore(t) // a SQLite file, or a fresh PostgreSQL schema; both outlive a node

	stop := startNode(t, addr, storeSpec)
	c := dial(t, addr, newTestLogger(t))
	acts := &approvals{tokens: make(chan []byte, 1)}
	w := newWorker(c, "approvals", registry{workflows: []any{approvalWorkflow}, activities: []any{acts}})
	require.NoError(t, w.Start())
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: "approvals"}, approvalWorkflow)
	require.NoError(t, err)
	var token []byte
	select {
	case token = <-acts.tokens:
	case <-ctx.Done():
		t.Fatal("the activity never started")
	}

	// Duro restarts; the token still completes the activity, from another OS process.
	stop()
	stop = startNode(t, addr, storeSpec)
	defer stop()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCompleteActivityHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DURO_E2E_HELPER_ADDR="+addr, "DURO_E2E_HELPER_TOKEN="+base64.StdEncoding.EncodeToString(token))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "helper process: %s", out)

	var result string
	require.NoError(t, run.Get(ctx, &result))
	require.Equal(t, "decision: approved", result)

	// A second completion with the same token is stale.
	err = c.CompleteActivity(ctx, token, "approved again", nil)
	var nf *serviceerror.NotFound
	require.True(t, errors.As(err, &nf), "a stale token is NotFound, got %v", err)
}

// TestCompleteActivityHelperProcess is the "other process" of the test above; on its own (without
// the helper environment) it has nothing to do and passes.
func TestCompleteActivityHelperProcess(t *testing.T) {
	addr, tok := os.Getenv("DURO_E2E_HELPER_ADDR"), os.Getenv("DURO_E2E_HELPER_TOKEN")
	if addr == "" {
		return
	}
	token, err := base64.StdEncoding.DecodeString(tok)
	require.NoError(t, err)
	c, err := client.Dial(client.Options{HostPort: addr})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, c.CompleteActivity(ctx, token, "approved", nil))
}
