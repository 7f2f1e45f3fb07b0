package postgres

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// turnCounter counts round trips on the connections it dials: a read that follows a write is the
// client waiting for the server's answer.
type turnCounter struct {
	mu        sync.Mutex
	turns     int
	lastWrite bool
}

func (c *turnCounter) reset() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.turns
	c.turns, c.lastWrite = 0, false
	return n
}

type countingConn struct {
	net.Conn
	c *turnCounter
}

func (cc *countingConn) Write(b []byte) (int, error) {
	cc.c.mu.Lock()
	cc.c.lastWrite = true
	cc.c.mu.Unlock()
	return cc.Conn.Write(b)
}

func (cc *countingConn) Read(b []byte) (int, error) {
	cc.c.mu.Lock()
	if cc.c.lastWrite {
		cc.c.turns++
		cc.c.lastWrite = false
	}
	cc.c.mu.Unlock()
	return cc.Conn.Read(b)
}

// openCounting opens a one-connection store whose round trips c counts, with the pool's idle
// ping turned off (it would add a round trip after a second of idleness).
func openCounting(t *testing.T) (*Store, *turnCounter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.Schema(t))
	require.NoError(t, err)
	c := &turnCounter{}
	var d net.Dialer
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, c: c}, nil
	}
	cfg.MaxConns = 1
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	s, err := openConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	// Connect (and prepare) before counting.
	_, err = s.GetNamespace(t.Context(), "warm-up")
	require.ErrorIs(t, err, store.ErrNotFound)
	c.reset()
	return s, c
}

// TestRoundTrips pins the scaling model's figure: a group commit is one round trip however many
// transitions it carries, and each transition that fails on its own adds one.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	s, c := openCounting(t)
	ctx := t.Context()

	one := startTransition(execution("wf-one"))
	mustCommit(t, s, one)
	require.Equal(t, 1, c.reset(), "one transition (execution, current, 3 events, 1 task)")

	var group []*store.Transition
	var runs []store.Execution
	for i := range 32 {
		e := execution(fmt.Sprintf("wf-group-%d", i))
		runs = append(runs, e)
		group = append(group, startTransition(e))
	}
	mustCommit(t, s, group...)
	require.Equal(t, 1, c.reset(), "32 transitions in one Apply")

	// A later step of each run: consume its task, append events, add a task and a timer.
	var steps []*store.Transition
	for i, e := range runs {
		tr := bump(e)
		tr.DeleteTasks = []int64{group[i].NewTasks[0].ID}
		tr.Events = []store.Event{{EventID: 4, Data: []byte("e4")}, {EventID: 5, Data: []byte("e5")}}
		tr.NewTasks = []*store.Task{{TaskQueueKey: store.TaskQueueKey{Namespace: "ns", Name: "acts", Kind: store.TaskActivity},
			WorkflowID: e.WorkflowID, RunID: e.RunID, ScheduledEventID: 5, Attempt: 1, CreatedAt: t0, VisibleAt: t0}}
		tr.NewTimers = []*store.Timer{{FireAt: t0, Namespace: "ns", WorkflowID: e.WorkflowID, RunID: e.RunID, EventID: 5}}
		steps = append(steps, tr)
		runs[i] = tr.Execution
	}
	// Two of them are stale: each costs one more round trip.
	steps[5].ExpectedVersion, steps[20].ExpectedVersion = 9, 9
	errs, err := s.Apply(ctx, steps)
	require.NoError(t, err)
	for i, e := range errs {
		if i == 5 || i == 20 {
			require.ErrorIs(t, e, store.ErrConflict)
		} else {
			require.NoError(t, e, "transition %d", i)
		}
	}
	require.Equal(t, 3, c.reset(), "32 transitions, 2 of them stale")

	// A failure does not cost the next Apply anything: no statement was invalidated.
	mustCommit(t, s, bump(runs[0]))
	require.Equal(t, 1, c.reset(), "the Apply after a failed one")

	// Reads are one round trip each.
	_, err = s.GetExecution(ctx, "ns", runs[0].WorkflowID, runs[0].RunID)
	require.NoError(t, err)
	_, err = s.ListTasks(ctx, store.TaskQueueKey{Namespace: "ns", Name: "acts", Kind: store.TaskActivity}, t0, 100)
	require.NoError(t, err)
	require.Equal(t, 2, c.reset(), "two reads")
}
