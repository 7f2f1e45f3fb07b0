package e2e

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/duro-dev/duro/e2e/e2etest"
	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/server"
)

// restartNode is a node of the restart tests: a store and a manual clock that outlive it, so a
// test can stop the node gracefully and start another on the same data.
type restartNode struct {
	t      *testing.T
	store  string
	clk    *clock.Manual
	logger *testLogger
	seq    *atomic.Int64
	adjust func(*server.Config)
	e      *env // the running node's view, with a client dialled to it
	stop   func()
}

// newRestartNode starts a node on a fresh store; adjust, if not nil, tunes its configuration
// (at every start). The node is stopped, and its logs checked for panics, at cleanup.
func newRestartNode(t *testing.T, adjust func(*server.Config)) *restartNode {
	t.Helper()
	n := &restartNode{t: t, store: testStore(t), clk: clock.NewManual(), logger: newTestLogger(t), seq: new(atomic.Int64), adjust: adjust}
	n.start()
	t.Cleanup(func() {
		n.stop()
		n.logger.close()
		for _, p := range n.logger.recoveredPanics() {
			t.Errorf("the node logged a panic: %s", p)
		}
	})
	return n
}

// start starts a node on the store and dials a client to it.
func (n *restartNode) start() {
	t := n.t
	ctx, cancel := context.WithCancel(context.Background())
	cfg := server.Config{
		GRPCAddr: "127.0.0.1:0", Store: n.store, LogLevel: logLevel(), Clock: n.clk,
		Logger: slog.New(slog.NewTextHandler(n.logger.writer("duro"), &slog.HandlerOptions{Level: slogLevel()})),
	}
	if n.adjust != nil {
		n.adjust(&cfg)
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		cancel()
		require.NoError(t, err, "server.New")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	dctx, dcancel := context.WithTimeout(context.Background(), waitFor)
	defer dcancel()
	c, err := client.DialContext(dctx, client.Options{
		HostPort: srv.GRPCAddr(), Namespace: namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(n.logger.writer("sdk"), &slog.HandlerOptions{Level: slogLevel()}))),
	})
	if err != nil {
		cancel()
		require.NoError(t, err, "dial %s", srv.GRPCAddr())
	}
	n.e = &env{t: t, srv: srv, clk: n.clk, c: c, raw: c.WorkflowService(), logger: n.logger, seq: n.seq}
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			c.Close()
			cancel()
			e2etest.AwaitStop(t, done, waitFor)
		})
	}
}

// restart stops the node gracefully and starts a new one on the same store.
func (n *restartNode) restart() {
	n.stop()
	n.start()
}
