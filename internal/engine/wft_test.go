package engine

import (
	"errors"
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

// TestBusy: a conflict that outlasted every retry leaves the engine as Unavailable (each API's
// retryable answer) and still matches store.ErrConflict; a consumed row and other errors pass.
func TestBusy(t *testing.T) {
	lost := fmt.Errorf("apply transition 0: update execution: %w", store.ErrConflict)
	var ee *Error
	require.ErrorAs(t, busy(lost), &ee)
	require.Equal(t, CodeUnavailable, ee.Code)
	require.ErrorIs(t, busy(lost), store.ErrConflict)

	consumed := fmt.Errorf("consume task 7: %w", store.ErrConsumed)
	require.Same(t, consumed, busy(consumed))
	other := errors.New("disk full")
	require.Same(t, other, busy(other))
	require.Nil(t, busy(nil))
}
