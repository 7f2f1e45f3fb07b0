package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// BenchmarkRelay measures one query and one update (accepted and completed) at a time: on one
// SQLite node (in memory), and on two PostgreSQL nodes with the workflow's worker on the node
// that gets the call and on the other one (through the relay's records either way). ns/op is
// the latency of one call.
//
//	go test -run '^$' -bench Relay -benchtime 200x ./e2e/cluster
func BenchmarkRelay(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		n := newNode(b, "node1", "sqlite:"+filepath.Join(b.TempDir(), "duro.db"))
		require.NoError(b, n.start())
		c := n.dial(b)
		benchRelay(b, c, []relaySide{{"worker-on-the-same-node", c}})
	})
	b.Run("postgres", func(b *testing.B) {
		store := pgtest.Schema(b)
		nodes := []*node{newNode(b, "node1", store), newNode(b, "node2", store)}
		for _, n := range nodes {
			require.NoError(b, n.start())
		}
		c1, c2 := nodes[0].dial(b), nodes[1].dial(b)
		benchRelay(b, c2, []relaySide{{"worker-on-the-same-node", c2}, {"worker-on-the-other-node", c1}})
	})
}

type relaySide struct {
	name   string
	caller client.Client
}

// benchRelay runs a counter workflow whose worker polls through workerSide and measures queries,
// then updates, from each side.
func benchRelay(b *testing.B, workerSide client.Client, sides []relaySide) {
	tq := fmt.Sprintf("bench-relay-%d", time.Now().UnixNano())
	startCounterWorker(b, workerSide, tq, newGate())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run, err := workerSide.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: tq}, counterName)
	require.NoError(b, err)
	// The first workflow task must have completed before a query is answered.
	h, err := workerSide.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: run.GetID(), UpdateName: "add", Args: []any{0}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	require.NoError(b, err)
	require.NoError(b, h.Get(ctx, nil))
	// Queries first, from every side: a legacy query replays the whole history, which updates grow.
	for _, side := range sides {
		b.Run("query/"+side.name, func(b *testing.B) {
			for range b.N {
				v, err := side.caller.QueryWorkflow(ctx, run.GetID(), "", "total")
				require.NoError(b, err)
				require.NoError(b, v.Get(new(int)))
			}
		})
	}
	for _, side := range sides {
		b.Run("update/"+side.name, func(b *testing.B) {
			for range b.N {
				h, err := side.caller.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
					WorkflowID: run.GetID(), UpdateName: "add", Args: []any{1}, WaitForStage: client.WorkflowUpdateStageCompleted,
				})
				require.NoError(b, err)
				require.NoError(b, h.Get(ctx, nil))
			}
		})
	}
	require.NoError(b, workerSide.SignalWorkflow(ctx, run.GetID(), "", "finish", nil))
}
