package postgres

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// TestApplyLargeGroup sends a pipeline far larger than the socket buffers (about 8 MB of events):
// pgx must keep reading the server's answers while it writes, or client and server would wait on
// each other forever.
func TestApplyLargeGroup(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	payload := bytes.Repeat([]byte("x"), 4096)
	var ts []*store.Transition
	for i := range 200 {
		tr := startTransition(execution(fmt.Sprintf("wf-%d", i)))
		tr.Events = nil
		for id := int64(1); id <= 10; id++ {
			tr.Events = append(tr.Events, store.Event{EventID: id, Data: payload})
		}
		ts = append(ts, tr)
	}
	ts[150].ExpectedVersion = 3 // one failure, so a second large pipeline follows
	errs, err := s.Apply(t.Context(), ts)
	require.NoError(t, err)
	for i, e := range errs {
		if i == 150 {
			require.ErrorIs(t, e, store.ErrConflict)
			continue
		}
		require.NoError(t, e, "transition %d", i)
	}
	evs, err := s.ReadEvents(t.Context(), "ns", ts[199].Execution.RunID, 1, 0, 0)
	require.NoError(t, err)
	require.Len(t, evs, 10)
	require.Equal(t, payload, evs[9].Data)
}
