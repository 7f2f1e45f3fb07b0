package engine

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// TestIsStaleTask: a poller moves past a row only when it is stale or already consumed; a row
// whose start lost a race for its execution's version is still owed, so it is not stale.
func TestIsStaleTask(t *testing.T) {
	require.True(t, IsStaleTask(errStaleTask))
	require.True(t, IsStaleTask(fmt.Errorf("apply transition 0: consume task 7: %w", store.ErrConsumed)))
	require.False(t, IsStaleTask(fmt.Errorf("apply transition 0: update execution: %w", store.ErrConflict)))
	require.False(t, IsStaleTask(fmt.Errorf("unavailable: %w", store.ErrNotFound)))
	require.ErrorIs(t, store.ErrConsumed, store.ErrConflict, "a consumed row is a conflict too, for callers that only ask that")
}
