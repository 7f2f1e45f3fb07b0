package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// TestNodesClaimWithoutLostRaces is TestNodesClaimEachTaskOnce's scenario (two Stores on one
// schema as two nodes, three pollers each, 40 tasks) with the pollers reading the backlog through
// ClaimTasks instead of ListTasks: SKIP LOCKED and the hold split the backlog between them, so no
// claim loses the DELETE race in Apply (ListTasks loses about two per task here).
func TestNodesClaimWithoutLostRaces(t *testing.T) {
	t.Parallel()
	claims, conflicts := claimRace(t, func(s *Store, q store.TaskQueueKey) ([]store.Task, error) {
		return s.ClaimTasks(t.Context(), q, t0, time.Minute, 5)
	})
	require.Zero(t, conflicts, "a held row reached a second claimer")
	t.Logf("%d claims, %d lost races", claims, conflicts)
}
