package cluster

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// memberRow is a membership row as the database holds it.
type memberRow struct {
	ID        string    `json:"id"`
	GRPCAddr  string    `json:"grpc"`
	Started   time.Time `json:"started"`
	Heartbeat time.Time `json:"heartbeat"`
	Expires   time.Time `json:"-"`
}

// members reads the membership rows of the schema, by gRPC address.
func members(t *testing.T, ctx context.Context, store string) map[string]memberRow {
	t.Helper()
	conn, err := pgx.Connect(ctx, store)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT data, wake_at FROM records WHERE kind = 'cluster.node'`)
	require.NoError(t, err)
	out := map[string]memberRow{}
	for rows.Next() {
		var data []byte
		var m memberRow
		require.NoError(t, rows.Scan(&data, &m.Expires))
		require.NoError(t, json.Unmarshal(data, &m))
		out[m.GRPCAddr] = m
	}
	require.NoError(t, rows.Err())
	return out
}

// waitForRecord waits until the schema holds a record of kind.
func waitForRecord(t *testing.T, ctx context.Context, store, kind string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, store)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	require.Eventually(t, func() bool {
		var n int
		return conn.QueryRow(ctx, `SELECT count(*) FROM records WHERE kind = $1`, kind).Scan(&n) == nil && n > 0
	}, 30*time.Second, 20*time.Millisecond, "no %s record appeared", kind)
}

// TestMembershipRows checks the nodes' membership rows: each node registers before it serves and
// heartbeats; a node stopped with SIGTERM deletes its row on the way out; the row of a node
// killed with SIGKILL stays until it expires, and then the surviving node deletes it. /metrics
// shows the live nodes.
func TestMembershipRows(t *testing.T) {
	t.Parallel()
	store := pgtest.Schema(t)
	a, b := newNode(t, "a", store), newNode(t, "b", store)
	require.NoError(t, a.start())
	require.NoError(t, b.start())
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()

	rows := members(t, ctx, store)
	require.Contains(t, rows, a.grpcAddr, "a node is registered once it serves")
	require.Contains(t, rows, b.grpcAddr)
	first := rows[b.grpcAddr]
	require.NotEqual(t, rows[a.grpcAddr].ID, first.ID)
	require.True(t, first.Expires.After(first.Heartbeat), "a row expires after its heartbeat")

	// The heartbeat moves the row's expiry on.
	require.Eventually(t, func() bool {
		r, ok := members(t, ctx, store)[b.grpcAddr]
		return ok && r.Heartbeat.After(first.Heartbeat) && r.Expires.After(first.Expires) && r.Started.Equal(first.Started)
	}, 20*time.Second, 100*time.Millisecond, "the row heartbeats")
	require.Eventually(t, func() bool {
		m, err := a.metrics()
		return err == nil && m["duro_cluster_nodes"] == 2
	}, 20*time.Second, 100*time.Millisecond, "/metrics counts both nodes")

	// SIGTERM: the row is gone by the time the process has exited.
	st, err := b.signal(syscall.SIGTERM)
	require.NoError(t, err)
	require.True(t, st.Success(), "clean exit on SIGTERM: %v", st)
	require.NotContains(t, members(t, ctx, store), b.grpcAddr, "a gracefully stopped node deregisters")

	// A restarted node registers under a new ID; SIGKILL leaves its row until it expires.
	require.NoError(t, b.start())
	again := members(t, ctx, store)[b.grpcAddr]
	require.NotEqual(t, first.ID, again.ID, "a restarted node is a new member")
	_, err = b.signal(syscall.SIGKILL)
	require.NoError(t, err)
	killed := members(t, ctx, store)[b.grpcAddr]
	require.Equal(t, again.ID, killed.ID, "a killed node's row outlives it")
	require.Eventually(t, func() bool {
		_, ok := members(t, ctx, store)[b.grpcAddr]
		return !ok
	}, 40*time.Second, 200*time.Millisecond, "the expired row is deleted by the surviving node")
	require.False(t, time.Now().Before(killed.Expires), "deleted no earlier than its expiry")
	require.Eventually(t, func() bool {
		m, err := a.metrics()
		return err == nil && m["duro_cluster_nodes"] == 1
	}, 20*time.Second, 100*time.Millisecond, "only the surviving node is counted")
}
