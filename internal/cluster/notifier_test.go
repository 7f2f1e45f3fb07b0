package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// recorder counts what a notifier delivered.
type recorder struct {
	mu      sync.Mutex
	woken   map[store.TaskQueueKey]int
	runs    map[string]int
	wakeAll int

	work             map[store.TaskQueueKey]int
	updates, answers map[string]int
}

func (r *recorder) run(id string) {
	r.mu.Lock()
	r.runs[id]++
	r.mu.Unlock()
}

func (r *recorder) runCount(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[id]
}

func (r *recorder) wake(k store.TaskQueueKey) {
	r.mu.Lock()
	r.woken[k]++
	r.mu.Unlock()
}

func (r *recorder) all() {
	r.mu.Lock()
	r.wakeAll++
	r.mu.Unlock()
}

func (r *recorder) counts(k store.TaskQueueKey) (woken, wakeAll int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.woken[k], r.wakeAll
}

// start runs a notifier on url until the test ends.
func start(t *testing.T, url string) (*Notifier, *recorder) {
	t.Helper()
	r := &recorder{woken: map[store.TaskQueueKey]int{}, runs: map[string]int{},
		work: map[store.TaskQueueKey]int{}, updates: map[string]int{}, answers: map[string]int{}}
	count := func(m map[string]int) func(string) {
		return func(id string) { r.mu.Lock(); m[id]++; r.mu.Unlock() }
	}
	n, err := New(Config{URL: url, Wake: r.wake, WakeRun: r.run, WakeAll: r.all, MinBackoff: 20 * time.Millisecond, IdleCheck: time.Second,
		WakeWork:    func(k store.TaskQueueKey) { r.mu.Lock(); r.work[k]++; r.mu.Unlock() },
		WakeUpdates: count(r.updates), Answered: count(r.answers)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("notifier did not stop within 10 s of its context ending")
		}
	})
	// Listening once WakeAll has been called.
	require.Eventually(t, func() bool { _, all := r.counts(store.TaskQueueKey{}); return all >= 1 }, 10*time.Second, 5*time.Millisecond)
	return n, r
}

func TestNotifier(t *testing.T) {
	url := pgtest.Schema(t)
	other := pgtest.Schema(t)
	a, ra := start(t, url)
	_, rb := start(t, url)
	_, rc := start(t, other)

	key := store.TaskQueueKey{Namespace: "default", Name: "orders \"quoted\"\n", Kind: store.TaskActivity}
	const n = 200
	for range n {
		a.Publish(key)
	}

	t.Run("another node of the schema is woken", func(t *testing.T) {
		require.Eventually(t, func() bool { w, _ := rb.counts(key); return w >= 1 }, 10*time.Second, 5*time.Millisecond)
	})
	t.Run("runs are announced too", func(t *testing.T) {
		a.PublishRun("run-1")
		require.Eventually(t, func() bool { return rb.runCount("run-1") >= 1 }, 10*time.Second, 5*time.Millisecond)
		require.Zero(t, ra.runCount("run-1"))
	})
	t.Run("query and update signals are announced", func(t *testing.T) {
		work := store.TaskQueueKey{Namespace: "default", Name: "work", Kind: store.TaskWorkflow}
		a.PublishWork(work)
		a.PublishUpdates("run-2")
		a.PublishAnswer("query-1")
		require.Eventually(t, func() bool {
			rb.mu.Lock()
			defer rb.mu.Unlock()
			return rb.work[work] >= 1 && rb.updates["run-2"] >= 1 && rb.answers["query-1"] >= 1
		}, 10*time.Second, 5*time.Millisecond)
		w, _ := rb.counts(work)
		require.Zero(t, w, "work is not a task-row wake-up")
	})
	t.Run("publishes are coalesced", func(t *testing.T) {
		st := a.Stats()
		require.Equal(t, int64(n+4), st.Published)
		require.Less(t, st.Notifies, int64(n/4), "200 publishes of one key in a burst must share NOTIFYs")
	})
	t.Run("the publishing node ignores its own notifications", func(t *testing.T) {
		w, _ := ra.counts(key)
		require.Zero(t, w)
	})
	t.Run("another schema is not woken", func(t *testing.T) {
		// Publish on the other schema too and wait for it, so the first burst has surely been
		// delivered wherever it was going to be.
		marker := store.TaskQueueKey{Namespace: "default", Name: "marker", Kind: store.TaskWorkflow}
		a.Publish(marker)
		require.Eventually(t, func() bool { w, _ := rb.counts(marker); return w >= 1 }, 10*time.Second, 5*time.Millisecond)
		w, _ := rc.counts(key)
		require.Zero(t, w)
	})
}

func TestNotifierReconnects(t *testing.T) {
	url := pgtest.Schema(t)
	a, _ := start(t, url)
	b, rb := start(t, url)

	// Kill b's listening session from outside, as a database restart or a dropped connection would.
	ctx := t.Context()
	admin, err := pgx.Connect(ctx, pgtest.BaseURL())
	require.NoError(t, err)
	defer admin.Close(context.Background())
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	ch, err := channel(ctx, conn)
	require.NoError(t, err)
	conn.Close(ctx)

	var killed int
	require.NoError(t, admin.QueryRow(ctx,
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1`,
		"LISTEN "+pgx.Identifier{ch}.Sanitize()).Scan(&killed))
	require.Equal(t, 2, killed, "both notifiers' listening sessions")

	require.Eventually(t, func() bool { return b.Stats().Reconnects >= 1 }, 10*time.Second, 5*time.Millisecond)
	_, all := rb.counts(store.TaskQueueKey{})
	require.GreaterOrEqual(t, all, 2, "every poller is woken after a reconnect")

	// Kill the sending session too: the publish is kept and sent after the reconnect.
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_notify%' AND datname = current_database()`)
	require.NoError(t, err)
	key := store.TaskQueueKey{Namespace: "default", Name: "after-" + strings.Repeat("x", 3), Kind: store.TaskWorkflow}
	require.Eventually(t, func() bool {
		a.Publish(key)
		w, _ := rb.counts(key)
		return w >= 1
	}, 10*time.Second, 20*time.Millisecond)
}

func TestEncodeSplitsLongBatches(t *testing.T) {
	b := newBatch()
	for i := range 500 {
		b.keys[store.TaskQueueKey{Namespace: "default", Name: fmt.Sprintf("%s-%d", strings.Repeat("q", 40), i), Kind: store.TaskWorkflow}] = struct{}{}
	}
	b.keys[store.TaskQueueKey{Namespace: "default", Name: strings.Repeat("\x01", 1200), Kind: store.TaskWorkflow}] = struct{}{}
	for i := range 400 {
		b.runs[fmt.Sprintf("%08d-0000-4000-8000-000000000000", i)] = struct{}{}
	}
	for i := range 30 {
		b.work[store.TaskQueueKey{Namespace: "default", Name: fmt.Sprintf("work-%d", i), Kind: store.TaskWorkflow}] = struct{}{}
		b.updates[fmt.Sprintf("run-%d", i)] = struct{}{}
		b.answers[fmt.Sprintf("query-%d", i)] = struct{}{}
	}
	payloads, err := encode("node", b)
	require.NoError(t, err)
	require.Greater(t, len(payloads), 1)
	n := &Notifier{node: "other", cfg: Config{}.WithDefaults()}
	got, gotRuns, gotWork, gotUpdates, gotAnswers := 0, 0, 0, 0, 0
	n.cfg.Wake = func(store.TaskQueueKey) { got++ }
	n.cfg.WakeRun = func(string) { gotRuns++ }
	n.cfg.WakeWork = func(store.TaskQueueKey) { gotWork++ }
	n.cfg.WakeUpdates = func(string) { gotUpdates++ }
	n.cfg.Answered = func(string) { gotAnswers++ }
	for _, p := range payloads {
		require.LessOrEqual(t, len(p), maxPayload)
		n.deliver(p)
	}
	require.Equal(t, 500, got, "every key but the one too long to announce")
	require.Equal(t, 400, gotRuns)
	require.Equal(t, []int{30, 30, 30}, []int{gotWork, gotUpdates, gotAnswers})
}
