package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// TestNodesClaimEachTaskOnce runs two Stores on one schema, as two nodes: each polls the same
// queue and claims what it sees (the run's next version plus DeleteTasks). The database alone
// fences them: every task is claimed exactly once, and the losers see ErrConflict.
func TestNodesClaimEachTaskOnce(t *testing.T) {
	t.Parallel()
	claims, conflicts := claimRace(t, func(s *Store, q store.TaskQueueKey) ([]store.Task, error) {
		return s.ListTasks(t.Context(), q, t0, 5)
	})
	t.Logf("%d claims, %d lost races", claims, conflicts)
}

// claimRace is the claim-race scenario: two Stores on one schema as two nodes, three pollers
// each reading 40 tasks' backlog through read and claiming what they see (the run's next version
// plus DeleteTasks). It checks that every task is claimed exactly once and that the backlog ends
// empty, and returns the claims and the lost races (claims answered ErrConflict).
func claimRace(t *testing.T, read func(s *Store, q store.TaskQueueKey) ([]store.Task, error)) (claimed, conflicts int) {
	t.Helper()
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
	var wg sync.WaitGroup
	for n, s := range nodes {
		for p := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					listed, err := read(s, q)
					if err != nil {
						t.Errorf("node %d poller %d: %v", n, p, err)
						return
					}
					if len(listed) == 0 {
						return
					}
					for _, task := range listed {
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
	n, err := nodes[1].CountTasks(t.Context(), q)
	require.NoError(t, err)
	require.Zero(t, n)
	return len(claims), conflicts
}
