package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// gate lets a test hold a query handler until it has done something to the cluster.
type gate struct {
	entered chan struct{} // receives once per call of the handler
	release chan struct{} // closed by the test
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 16), release: make(chan struct{})} }

// counterWorkflow keeps a total: update "add" adds to it (its validator refuses negatives),
// query "total" reads it, query "broken" fails, query "held" answers the total once the test
// opens g, and signal "finish" ends the run with the total.
func counterWorkflow(g *gate) func(workflow.Context) (int, error) {
	return func(ctx workflow.Context) (int, error) {
		total := 0
		if err := workflow.SetQueryHandler(ctx, "total", func() (int, error) { return total, nil }); err != nil {
			return 0, err
		}
		if err := workflow.SetQueryHandler(ctx, "broken", func() (int, error) { return 0, errors.New("this query always fails") }); err != nil {
			return 0, err
		}
		if err := workflow.SetQueryHandler(ctx, "held", func() (int, error) {
			select {
			case g.entered <- struct{}{}:
			default:
			}
			select {
			case <-g.release:
			case <-time.After(time.Minute):
			}
			return total, nil
		}); err != nil {
			return 0, err
		}
		err := workflow.SetUpdateHandlerWithOptions(ctx, "add", func(ctx workflow.Context, n int) (int, error) {
			total += n
			return total, nil
		}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, n int) error {
			if n < 0 {
				return errors.New("negative amounts are refused")
			}
			return nil
		}})
		if err != nil {
			return 0, err
		}
		workflow.GetSignalChannel(ctx, "finish").Receive(ctx, nil)
		return total, nil
	}
}

const counterName = "counter"

// startCounterWorker runs an SDK worker for counterWorkflow on tq through c until the test ends.
func startCounterWorker(t testing.TB, c client.Client, tq string, g *gate) {
	t.Helper()
	w := worker.New(c, tq, worker.Options{})
	w.RegisterWorkflowWithOptions(counterWorkflow(g), workflow.RegisterOptions{Name: counterName})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
}

// TestQueriesAndUpdatesAcrossNodes sends queries and updates to one node while the workflow's only
// worker polls the other, in both directions: every answer is the one a single node gives —
// results, QueryFailed, NotFound, a rejection that leaves no event, the lifecycle stages, and
// PollWorkflowExecutionUpdate through a third client on either node.
func TestQueriesAndUpdatesAcrossNodes(t *testing.T) {
	t.Parallel()
	store := pgtest.Schema(t)
	nodes := []*node{newNode(t, "node1", store), newNode(t, "node2", store)}
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- n.start() }()
	}
	for range nodes {
		require.NoError(t, <-errs)
	}
	clients := []client.Client{nodes[0].dial(t), nodes[1].dial(t)}
	for dir, pair := range [][2]int{{0, 1}, {1, 0}} {
		caller, workerSide := clients[pair[0]], clients[pair[1]]
		t.Run(fmt.Sprintf("calls to %s, worker on %s", nodes[pair[0]].name, nodes[pair[1]].name), func(t *testing.T) {
			tq := fmt.Sprintf("relay-%d-%d", dir, time.Now().UnixNano())
			startCounterWorker(t, workerSide, tq, newGate())
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			run, err := caller.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, counterName)
			require.NoError(t, err)

			total := func(c client.Client) int {
				t.Helper()
				v, err := c.QueryWorkflow(ctx, run.GetID(), "", "total")
				require.NoError(t, err, "query")
				var n int
				require.NoError(t, v.Get(&n))
				return n
			}
			require.Equal(t, 0, total(caller))

			// A failing query handler is QueryFailed, a query of no workflow NotFound.
			_, err = caller.QueryWorkflow(ctx, run.GetID(), "", "broken")
			var qf *serviceerror.QueryFailed
			require.ErrorAs(t, err, &qf)
			require.Contains(t, qf.Message, "this query always fails")
			_, err = caller.QueryWorkflow(ctx, "no-such-workflow", "", "total")
			var nf *serviceerror.NotFound
			require.ErrorAs(t, err, &nf)

			// Accepted and completed.
			h, err := caller.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: run.GetID(), UpdateName: "add", Args: []any{5}, WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			require.NoError(t, err)
			var n int
			require.NoError(t, h.Get(ctx, &n))
			require.Equal(t, 5, n)

			// Rejected on a speculative workflow task: the history does not change.
			before := len(history(t, caller, run.GetID(), run.GetRunID()))
			h, err = caller.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: run.GetID(), UpdateName: "add", Args: []any{-1}, WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			require.NoError(t, err)
			require.ErrorContains(t, h.Get(ctx, nil), "negative amounts are refused")
			require.Len(t, history(t, caller, run.GetID(), run.GetRunID()), before, "a rejected update leaves no event")

			// Accepted only, then its result through a handle on each node
			// (PollWorkflowExecutionUpdate), and the same update ID again is deduplicated.
			id := uuid.NewString()
			h, err = caller.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: run.GetID(), UpdateID: id, UpdateName: "add", Args: []any{7}, WaitForStage: client.WorkflowUpdateStageAccepted,
			})
			require.NoError(t, err)
			for _, c := range clients {
				again := c.GetWorkflowUpdateHandle(client.GetWorkflowUpdateHandleOptions{WorkflowID: run.GetID(), UpdateID: id})
				require.NoError(t, again.Get(ctx, &n))
				require.Equal(t, 12, n)
			}
			h, err = caller.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: run.GetID(), UpdateID: id, UpdateName: "add", Args: []any{7}, WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			require.NoError(t, err)
			require.NoError(t, h.Get(ctx, &n))
			require.Equal(t, 12, n, "a repeated update ID is applied once")
			require.Equal(t, 12, total(caller))
			require.Equal(t, 12, total(workerSide), "a query through the worker's own node")

			require.NoError(t, caller.SignalWorkflow(ctx, run.GetID(), "", "finish", nil))
			require.NoError(t, run.Get(ctx, &n))
			require.Equal(t, 12, n)
			events := history(t, caller, run.GetID(), run.GetRunID())
			require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), 2, "5 and 7: %v", eventTypes(events))
			require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED), 2)
		})
	}
}

// TestQueryWhileTheWorkersNodeIsKilled sends queries to one node while the only worker's node is
// SIGKILLed: one query is held by the worker when its node dies (the worker's answer reaches the
// restarted node and is relayed), one is sent while that node is down (the restarted node's
// pollers find it). Both are answered within the caller's deadline, as the SDK retries.
func TestQueryWhileTheWorkersNodeIsKilled(t *testing.T) {
	t.Parallel()
	store := pgtest.Schema(t)
	front, back := newNode(t, "front", store), newNode(t, "back", store)
	require.NoError(t, front.start())
	require.NoError(t, back.start())
	g := newGate()
	tq := fmt.Sprintf("relay-kill-%d", time.Now().UnixNano())
	startCounterWorker(t, back.dial(t), tq, g)
	caller, err := client.Dial(client.Options{HostPort: front.grpcAddr, Namespace: namespace, Logger: quiet{}, RPCTimeout: 45 * time.Second})
	require.NoError(t, err)
	t.Cleanup(caller.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	run, err := caller.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, counterName)
	require.NoError(t, err)
	h, err := caller.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateName: "add", Args: []any{3}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))

	query := func(name string) <-chan error {
		done := make(chan error, 1)
		go func() {
			v, err := caller.QueryWorkflow(ctx, run.GetID(), "", name)
			var n int
			if err == nil {
				err = v.Get(&n)
			}
			if err == nil && n != 3 {
				err = fmt.Errorf("query %s answered %d, want 3", name, n)
			}
			done <- err
		}()
		return done
	}

	// Held by the worker when its node dies.
	held := query("held")
	select {
	case <-g.entered:
	case <-ctx.Done():
		t.Fatal("the query never reached the worker")
	}
	_, err = back.signal(syscall.SIGKILL)
	require.NoError(t, err)
	require.NoError(t, back.start())
	close(g.release)
	require.NoError(t, <-held, "a query held by the worker when its node died")

	// Sent while the worker's node is down: it waits in its record until a poller comes back.
	_, err = back.signal(syscall.SIGKILL)
	require.NoError(t, err)
	down := query("total")
	waitForRecord(t, ctx, store, "cluster.query")
	require.NoError(t, back.start())
	require.NoError(t, <-down, "a query sent while the worker's node was down")

	require.NoError(t, caller.SignalWorkflow(ctx, run.GetID(), "", "finish", nil))
	var n int
	require.NoError(t, run.Get(ctx, &n))
	require.Equal(t, 3, n)
}

// TestUpdatesFromEveryNodeAtOnce sends updates to one workflow through both nodes concurrently,
// its worker polling one of them: each is applied exactly once, in some order, and every caller
// gets its own result.
func TestUpdatesFromEveryNodeAtOnce(t *testing.T) {
	t.Parallel()
	store := pgtest.Schema(t)
	nodes := []*node{newNode(t, "node1", store), newNode(t, "node2", store)}
	for _, n := range nodes {
		require.NoError(t, n.start())
	}
	clients := []client.Client{nodes[0].dial(t), nodes[1].dial(t)}
	tq := fmt.Sprintf("relay-many-%d", time.Now().UnixNano())
	startCounterWorker(t, clients[1], tq, newGate())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := clients[0].ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, counterName)
	require.NoError(t, err)

	const updates = 12
	results := make([]int, updates)
	var wg sync.WaitGroup
	errs := make(chan error, updates)
	for i := range updates {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := clients[i%2].UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: run.GetID(), UpdateName: "add", Args: []any{1 << i}, WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			if err == nil {
				err = h.Get(ctx, &results[i])
			}
			if err != nil {
				errs <- fmt.Errorf("update %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, clients[0].SignalWorkflow(ctx, run.GetID(), "", "finish", nil))
	var total int
	require.NoError(t, run.Get(ctx, &total))
	require.Equal(t, 1<<updates-1, total, "every update applied exactly once")
	seen := map[int]bool{}
	for i, r := range results {
		require.NotZero(t, r&(1<<i), "update %d's result includes its own amount", i)
		require.False(t, seen[r], "two updates saw the same total %d", r)
		seen[r] = true
	}
	events := history(t, clients[0], run.GetID(), run.GetRunID())
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), updates)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED), updates)
}
