package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// TestRelayHints covers when a poll reads the relay's records: once per queue after the start,
// after every hint until a poll finds nothing, and once more after a wake-all.
func TestRelayHints(t *testing.T) {
	e := New(Config{})
	e.EnableRelay(RelayConfig{Node: "self"})
	r := e.relay
	q := store.TaskQueueKey{Namespace: "default", Name: "q", Kind: store.TaskWorkflow}

	want, w := r.wants(q)
	require.True(t, want, "the first poll of a queue looks once")
	r.settle(q, w)
	want, _ = r.wants(q)
	require.False(t, want, "then not until a hint")

	e.RelayWork(q)
	want, w = r.wants(q)
	require.True(t, want)
	e.RelayWork(q) // a hint arriving while the poll reads
	r.settle(q, w)
	want, w = r.wants(q)
	require.True(t, want, "a hint that arrived during the read is not lost")
	r.settle(q, w)
	want, _ = r.wants(q)
	require.False(t, want)

	e.RelayWakeAll()
	want, w = r.wants(q)
	require.True(t, want, "a wake-all makes every queue look once")
	r.settle(q, w)
	want, _ = r.wants(q)
	require.False(t, want)

	require.False(t, r.hinted("run-1"))
	e.RelayUpdates("run-1")
	require.True(t, r.hinted("run-1"))
	r.unhintRun("run-1")
	require.False(t, r.hinted("run-1"))
}

// TestRelayGone covers when work taken by a node may be taken from it.
func TestRelayGone(t *testing.T) {
	e := New(Config{})
	alive := map[string]bool{"live": true}
	e.EnableRelay(RelayConfig{Node: "self", DeadAfter: 10 * time.Second, Alive: func(n string) bool { return alive[n] }})
	r := e.relay
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name    string
		node    string
		takenAt time.Time
		lease   time.Duration
		gone    bool
	}{
		{"this node, no lease", "self", now.Add(-time.Hour), 0, false},
		{"this node, lease passed", "self", now.Add(-time.Minute), 30 * time.Second, true},
		{"this node, within its lease", "self", now.Add(-time.Second), 30 * time.Second, false},
		{"a live node", "live", now.Add(-time.Hour), 0, false},
		{"a live node past its lease", "live", now.Add(-time.Minute), 30 * time.Second, true},
		{"a dead node", "dead", now.Add(-time.Minute), 0, true},
		{"a node not seen yet, just taken", "new", now.Add(-time.Second), 0, false},
	} {
		require.Equal(t, c.gone, r.gone(c.node, c.takenAt, now, c.lease), c.name)
	}
}
