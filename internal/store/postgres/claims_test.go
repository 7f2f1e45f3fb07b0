package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// TestNodesClaimWithoutLostRaces is TestNodesClaimEachTaskOnce's scenario (two Stores on one
// schema as two nodes, three pollers each, 40 tasks) with the pollers reading the backlog through
// ClaimTasks instead of ListTasks: SKIP LOCKED and the hold split the backlog between them, so no
// claim loses the DELETE race in Apply (ListTasks loses about two per task here).
func TestNodesClaimWithoutLostRaces(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	var nodes []*Store
	for range 2 {
		s, err := Open(t.Context(), url)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		nodes = append(nodes, s)
	}
	const tasks = 40
	var starts []*store.Transition
	for i := range tasks {
		starts = append(starts, startTransition(execution(fmt.Sprintf("wf-%d", i))))
	}
	mustCommit(t, nodes[0], starts...)
	q := starts[0].NewTasks[0].TaskQueueKey

	var mu sync.Mutex
	claims := make(map[int64]int)
	conflicts := 0
	var wg sync.WaitGroup
	for n, s := range nodes {
		for p := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					held, err := s.ClaimTasks(t.Context(), q, t0, time.Minute, 5)
					if err != nil {
						t.Errorf("node %d poller %d: %v", n, p, err)
						return
					}
					if len(held) == 0 {
						return
					}
					for _, task := range held {
						e, err := s.GetExecution(t.Context(), task.Namespace, task.WorkflowID, task.RunID)
						if err != nil {
							t.Errorf("node %d: %v", n, err)
							return
						}
						claim := bump(*e)
						claim.DeleteTasks = []int64{task.ID}
						errs, err := s.Apply(t.Context(), []*store.Transition{claim})
						if err != nil {
							t.Errorf("node %d: %v", n, err)
							return
						}
						mu.Lock()
						switch {
						case errs[0] == nil:
							claims[task.ID]++
						case errors.Is(errs[0], store.ErrConflict):
							conflicts++
						default:
							t.Errorf("node %d: claim %d: %v", n, task.ID, errs[0])
						}
						mu.Unlock()
					}
				}
			}()
		}
	}
	wg.Wait()

	require.Len(t, claims, tasks, "every task claimed")
	for id, n := range claims {
		require.Equal(t, 1, n, "task %d claimed once", id)
	}
	require.Zero(t, conflicts, "a held row reached a second claimer")
	n, err := nodes[1].CountTasks(t.Context(), q)
	require.NoError(t, err)
	require.Zero(t, n)
	t.Logf("%d claims, %d lost races", len(claims), conflicts)
}
