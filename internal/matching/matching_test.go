package matching

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/sqlite"
)

var key = store.TaskQueueKey{Namespace: "default", Name: "q", Kind: store.TaskActivity}

func newMatcher(t *testing.T) (*Matcher, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "duro.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return New(Config{Store: st, Clock: clock.Real{}}), st
}

// addRows commits one execution of the queue with a task row for each scheduled event ID.
func addRows(t *testing.T, st *sqlite.Store, scheduled ...int64) {
	t.Helper()
	now := time.Now().UTC()
	e := store.Execution{Namespace: key.Namespace, WorkflowID: "wf", RunID: "run", Version: 1, State: []byte("s"),
		WorkflowType: "W", TaskQueue: key.Name, Status: 1, StartTime: now}
	tr := &store.Transition{Execution: e}
	for _, id := range scheduled {
		tr.NewTasks = append(tr.NewTasks, &store.Task{TaskQueueKey: key, WorkflowID: e.WorkflowID, RunID: e.RunID,
			ScheduledEventID: id, Attempt: 1, CreatedAt: now, VisibleAt: now})
	}
	errs, err := st.Apply(t.Context(), []*store.Transition{tr})
	require.NoError(t, err)
	require.NoError(t, errs[0])
}

// poll runs m.Poll on a goroutine and returns a channel with its outcome.
func poll(m *Matcher, start StartFunc) chan error {
	done := make(chan error, 1)
	go func() {
		res, err := m.Poll(context.Background(), key, "worker", time.Minute, start, nil)
		if err == nil && res != nil {
			err = errors.New("poll returned a task")
		}
		done <- err
	}()
	return done
}

func waitForWaiter(t *testing.T, m *Matcher) {
	t.Helper()
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		q := m.queues[key]
		return q != nil && len(q.waiters) > 0
	}, 5*time.Second, time.Millisecond)
}

func noStart(context.Context, *store.Task) (any, error) { return nil, errors.New("nothing to start") }

func TestDrainEndsPolls(t *testing.T) {
	m, _ := newMatcher(t)
	done := poll(m, noStart)
	waitForWaiter(t, m)
	m.Drain()
	select {
	case err := <-done:
		require.NoError(t, err, "a drained poll answers empty")
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting poll did not end when the matcher drained")
	}
	// A poll after the drain answers at once.
	select {
	case err := <-poll(m, noStart):
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("a poll after the drain waited")
	}
	require.False(t, m.Offer(&store.Task{ID: 1, TaskQueueKey: key}), "no poller waits any more")
}

func TestOfferReportsAWaitingPoller(t *testing.T) {
	m, _ := newMatcher(t)
	require.False(t, m.Offer(&store.Task{ID: 1, TaskQueueKey: key}), "nobody waits yet")
	started := make(chan int64, 1)
	done := make(chan any, 1)
	go func() {
		res, _ := m.Poll(context.Background(), key, "worker", time.Minute, func(_ context.Context, t *store.Task) (any, error) {
			started <- t.ID
			return t.ID, nil
		}, nil)
		done <- res
	}()
	waitForWaiter(t, m)
	require.True(t, m.Offer(&store.Task{ID: 7, TaskQueueKey: key}))
	require.Equal(t, int64(7), <-started)
	require.Equal(t, int64(7), <-done)
}

func TestPollRidesOutAFailedBacklogRead(t *testing.T) {
	m, st := newMatcher(t)
	require.NoError(t, st.Close()) // every backlog read now fails
	done := poll(m, noStart)
	waitForWaiter(t, m)
	select {
	case err := <-done:
		t.Fatalf("the poll ended on a failed backlog read: %v", err)
	case <-time.After(2 * backlogRetry): // it read (and failed) at least twice meanwhile
	}
	m.Drain()
	require.NoError(t, <-done)
}

func TestSweepForgetsGonePollersAndTheirQueues(t *testing.T) {
	m, _ := newMatcher(t)
	gone := store.TaskQueueKey{Namespace: "default", Name: "host:sticky-of-a-stopped-worker", Kind: store.TaskWorkflow}
	now := time.Now()
	m.mu.Lock()
	m.q(gone).pollers["stopped-worker"] = now.Add(-pollerTTL - time.Second)
	live := m.q(key)
	live.pollers["live-worker"] = now.Add(-time.Second)
	live.pollers["old-worker"] = now.Add(-pollerTTL - time.Second)
	m.sweep(now)
	_, goneKept := m.queues[gone]
	_, liveKept := m.queues[key]
	m.mu.Unlock()
	require.False(t, goneKept, "a queue whose only poller stopped long ago is forgotten")
	require.True(t, liveKept)
	require.Equal(t, map[string]time.Time{"live-worker": now.Add(-time.Second)}, m.Pollers(key), "only recent pollers are listed")

	// A waiting poller keeps its queue even when it polled long ago.
	done := poll(m, noStart)
	waitForWaiter(t, m)
	m.mu.Lock()
	m.queues[key].pollers["worker"] = now.Add(-2 * pollerTTL)
	m.lastSweep = time.Time{}
	m.sweep(now.Add(time.Hour))
	_, kept := m.queues[key]
	m.mu.Unlock()
	require.True(t, kept, "a queue with a waiting poller is never forgotten")
	m.Drain()
	require.NoError(t, <-done)
}

// TestPollersSplitTheBacklog has several pollers drain one queue's backlog at once: each row is
// started exactly once, as the claims hold a row for the poller that took it.
func TestPollersSplitTheBacklog(t *testing.T) {
	m, st := newMatcher(t)
	m.cfg.ClaimLease = time.Hour // the rows are started but never consumed: keep them held
	const rows = 30
	ids := make([]int64, rows)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	addRows(t, st, ids...)

	var mu sync.Mutex
	started := map[int64]int{}
	start := func(_ context.Context, task *store.Task) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		started[task.ID]++
		return task.ID, nil
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				// A short long poll: once the backlog is empty the poll expires and the poller stops.
				res, err := m.Poll(context.Background(), key, "worker", 200*time.Millisecond, start, nil)
				if err != nil {
					t.Error(err)
					return
				}
				if res == nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Len(t, started, rows, "every row started")
	for id, n := range started {
		require.Equal(t, 1, n, "row %d started %d times", id, n)
	}
}

// TestPollTakesARowWhoseLeaseEnded holds a row the way a poller of a node that then died would (a
// claim that never starts it): a poller already waiting takes the row once the lease ends, without
// a wake-up and long before its own poll would expire.
func TestPollTakesARowWhoseLeaseEnded(t *testing.T) {
	m, st := newMatcher(t)
	m.cfg.ClaimLease = 200 * time.Millisecond
	addRows(t, st, 5)
	held, err := st.ClaimTasks(t.Context(), key, time.Now(), m.cfg.ClaimLease, 1)
	require.NoError(t, err)
	require.Len(t, held, 1, "the dead node's claim holds the row")

	started := make(chan int64, 1)
	done := make(chan any, 1)
	go func() {
		res, _ := m.Poll(context.Background(), key, "worker", time.Hour, func(_ context.Context, task *store.Task) (any, error) {
			started <- task.ScheduledEventID
			return task.ID, nil
		}, nil)
		done <- res
	}()
	select {
	case id := <-started:
		require.Equal(t, int64(5), id)
	case <-time.After(30 * time.Second):
		t.Fatal("a row whose lease ended waited for a wake-up that never comes")
	}
	require.Equal(t, held[0].ID, <-done)
}

// TestFailedStartLeavesTheRowOwed: a start that fails for a reason other than a stale row (a lost
// race for the execution's version, the database away) must not make this node skip the row: the
// next poll here takes it once the failed claim's lease ends.
func TestFailedStartLeavesTheRowOwed(t *testing.T) {
	m, st := newMatcher(t)
	m.cfg.ClaimLease = 100 * time.Millisecond
	stale := errors.New("stale")
	m.cfg.IsStale = func(err error) bool { return errors.Is(err, stale) }
	addRows(t, st, 5)

	lost := errors.New("version moved")
	_, err := m.Poll(t.Context(), key, "worker", time.Minute, func(context.Context, *store.Task) (any, error) { return nil, lost }, nil)
	require.ErrorIs(t, err, lost, "the failure reaches the poller")
	res, err := m.Poll(t.Context(), key, "worker", time.Minute, func(_ context.Context, task *store.Task) (any, error) {
		return task.ScheduledEventID, nil
	}, nil)
	require.NoError(t, err)
	require.Equal(t, int64(5), res, "the row is still owed")
}
