package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

const (
	clusterWorkflows = 500
	clusterDeadline  = 110 * time.Second
)

// TestThreeNodes runs 500 workflows on three nodes sharing one schema: the client starts and
// signals them through node 1 only, and the workers poll nodes 2 and 3 only, so every task crosses
// nodes (the wake-up is a NOTIFY). Mid-load node 3 is SIGKILLed and restarted, and node 2 is
// stopped with SIGTERM (it must exit cleanly, handing back what it holds) and restarted.
func TestThreeNodes(t *testing.T) {
	store := pgtest.Schema(t)
	nodes := []*node{newNode(t, "node1", store), newNode(t, "node2", store), newNode(t, "node3", store)}
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- n.start() }()
	}
	for range nodes {
		require.NoError(t, <-errs)
	}

	starter := nodes[0].dial(t)
	a := newActs()
	tq := fmt.Sprintf("cluster-%d", time.Now().UnixNano())
	startWorker(t, nodes[1].dial(t), tq, a)
	startWorker(t, nodes[2].dial(t), tq, a)

	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	killAt := time.Duration(1500+rng.IntN(2500)) * time.Millisecond
	termAt := killAt + time.Duration(1000+rng.IntN(3000))*time.Millisecond
	t.Logf("seed %d: SIGKILL node3 after %v, SIGTERM node2 after %v", seed, killAt, termAt)

	ctx, cancel := context.WithTimeout(context.Background(), clusterDeadline)
	defer cancel()
	chaos := make(chan error, 1)
	go func() { chaos <- faults(ctx, nodes[2], nodes[1], killAt, termAt) }()

	began := time.Now()
	outcomes := drive(ctx, starter, tq, "cluster", clusterWorkflows, 100)
	elapsed := time.Since(began)
	require.NoError(t, <-chaos)
	t.Logf("%d workflows in %v across a SIGKILL and a SIGTERM", clusterWorkflows, elapsed.Round(time.Millisecond))
	logSlowest(t, starter, outcomes)
	checkOutcomes(t, starter, outcomes, a)
}

// faults SIGKILLs victim after killAt and restarts it, then SIGTERMs graceful after termAt,
// requires a clean exit, and restarts it too.
func faults(ctx context.Context, victim, graceful *node, killAt, termAt time.Duration) error {
	began := time.Now()
	wait := func(d time.Duration) error {
		select {
		case <-time.After(time.Until(began.Add(d))):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := wait(killAt); err != nil {
		return fmt.Errorf("before SIGKILL: %w", err)
	}
	if _, err := victim.signal(syscall.SIGKILL); err != nil {
		return err
	}
	if err := victim.start(); err != nil {
		return fmt.Errorf("restart after SIGKILL: %w", err)
	}
	if err := wait(termAt); err != nil {
		return fmt.Errorf("before SIGTERM: %w", err)
	}
	t0 := time.Now()
	st, err := graceful.signal(syscall.SIGTERM)
	if err != nil {
		return err
	}
	if st == nil || !st.Success() {
		return fmt.Errorf("%s after SIGTERM: want a clean exit, got %v", graceful.name, st)
	}
	stopped := time.Since(t0)
	if err := graceful.start(); err != nil {
		return fmt.Errorf("restart after SIGTERM: %w", err)
	}
	if stopped > 10*time.Second {
		// Drain ends every long poll at once; only a stuck call may hold the stop this long.
		return fmt.Errorf("%s took %v to stop gracefully", graceful.name, stopped)
	}
	return nil
}

// TestCrossNodeWakeUp checks that a task created on one node reaches a worker long-polling on
// another without waiting for that poll to expire (a minute): each workflow below is started on
// node 1 while the only worker's polls wait, idle, on node 2.
func TestCrossNodeWakeUp(t *testing.T) {
	store := pgtest.Schema(t)
	n1, n2 := newNode(t, "node1", store), newNode(t, "node2", store)
	require.NoError(t, n1.start())
	require.NoError(t, n2.start())
	starter := n1.dial(t)
	a := newActs()
	tq := fmt.Sprintf("wake-%d", time.Now().UnixNano())
	startWorker(t, n2.dial(t), tq, a)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// One at a time, so that the worker is idle, its polls waiting, whenever a task is created.
	var worst time.Duration
	for i := range 5 {
		o := drive(ctx, starter, tq, fmt.Sprintf("wake%d", i), 1, 1)[0]
		require.NoError(t, o.err)
		require.Equal(t, want(0), o.result)
		worst = max(worst, o.latency)
	}
	// Each workflow has five workflow tasks and two activity tasks created on node 1 or by the
	// timer loop; a missed wake-up would cost up to a minute of the node's long poll.
	require.Less(t, worst, 15*time.Second, "a task waited for a poll to expire instead of being woken")
	t.Logf("slowest workflow (0.5 s of it a timer): %v", worst)
}
