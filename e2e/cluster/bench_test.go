package cluster

import (
	"context"
	"fmt"
	"github.com/duro-dev/duro/e2e/e2etest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// echo is the benchmark's one activity.
func echo(_ context.Context, s string) (string, error) { return s, nil }

// oneActivityWorkflow runs echo once.
func oneActivityWorkflow(ctx workflow.Context, s string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, echo, s).Get(ctx, &out)
	return out, err
}

// BenchmarkOneActivityWorkflow runs b.N one-activity workflows, 50 in flight, on `duro server`
// subprocesses: SQLite with one node, and PostgreSQL (a fresh schema on DURO_TEST_DATABASE_URL)
// with one, two and three nodes. With several nodes, clients and workers are spread over all of
// them (one SDK worker per node, starts round-robin), as behind a load balancer. It reports
// throughput and start-to-result latency percentiles. Run it with a fixed count, e.g.
//
//	go test -run '^$' -bench OneActivityWorkflow -benchtime 1000x ./e2e/cluster
func BenchmarkOneActivityWorkflow(b *testing.B) {
	b.Run("sqlite/nodes=1", func(b *testing.B) {
		benchCluster(b, "sqlite:"+filepath.Join(b.TempDir(), "duro.db"), "", 1)
	})
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("postgres/nodes=%d", n), func(b *testing.B) {
			// Tag the nodes' sessions, so the benchmark can add up the CPU of their backends.
			app := fmt.Sprintf("duro-bench-%d", time.Now().UnixNano())
			u, err := url.Parse(pgtest.Schema(b))
			require.NoError(b, err)
			q := u.Query()
			q.Set("application_name", app)
			u.RawQuery = q.Encode()
			benchCluster(b, u.String(), app, n)
		})
	}
}

// backendCPU returns the CPU time used so far by each PostgreSQL backend serving sessions tagged
// app (the database runs on this machine).
func backendCPU(b *testing.B, app string) map[int]time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgtest.BaseURL())
	require.NoError(b, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app)
	require.NoError(b, err)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(b, err)
	out := map[int]time.Duration{}
	for _, pid := range pids {
		if c, err := processCPU(int(pid)); err == nil {
			out[int(pid)] = c
		}
	}
	return out
}

func benchCluster(b *testing.B, store, app string, nodes int) {
	const inFlight = 50
	ns := make([]*node, nodes)
	for i := range ns {
		ns[i] = newNode(b, fmt.Sprintf("node%d", i+1), store)
		require.NoError(b, ns[i].start()) // one after the other: the first migrates
	}
	tq := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	clients := make([]client.Client, nodes)
	for i, n := range ns {
		clients[i] = n.dial(b)
		w := worker.New(clients[i], tq, worker.Options{})
		w.RegisterWorkflow(oneActivityWorkflow)
		w.RegisterActivity(echo)
		require.NoError(b, w.Start())
		b.Cleanup(w.Stop)
	}

	prefix := fmt.Sprintf("bench-%d", time.Now().UnixNano())

	cpu0 := make([]time.Duration, nodes)
	for i, n := range ns {
		var err error
		cpu0[i], err = n.cpu()
		require.NoError(b, err)
	}
	self0, err := processCPU(os.Getpid())
	require.NoError(b, err)
	var pg0 map[int]time.Duration
	if app != "" {
		pg0 = backendCPU(b, app)
	}

	elapsed, _ := e2etest.Load(b, inFlight, func(ctx context.Context, i int) error {
		return e2etest.RunEcho(ctx, clients[i%nodes], tq, fmt.Sprintf("%s-%d", prefix, i), oneActivityWorkflow, i)
	})
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "workflows/s")

	// The model's inputs, measured: CPU, transitions and commits per workflow, lost races.
	var duroCPU time.Duration
	for i, n := range ns {
		c, err := n.cpu()
		require.NoError(b, err)
		duroCPU += c - cpu0[i]
	}
	self, err := processCPU(os.Getpid())
	require.NoError(b, err)
	b.ReportMetric(float64(duroCPU.Microseconds())/1000/float64(b.N), "duro-cpu-ms/wf")
	b.ReportMetric(float64((self-self0).Microseconds())/1000/float64(b.N), "sdk-cpu-ms/wf")
	if app != "" {
		var pgCPU time.Duration
		for pid, c := range backendCPU(b, app) {
			pgCPU += c - pg0[pid] // a backend started during the run counts from zero
		}
		b.ReportMetric(float64(pgCPU.Microseconds())/1000/float64(b.N), "pg-cpu-ms/wf")
	}
	total := map[string]float64{}
	for _, n := range ns {
		m, err := n.metrics()
		require.NoError(b, err)
		for k, v := range m {
			total[k] += v
		}
	}
	b.ReportMetric(total["duro_transitions_total"]/float64(b.N), "transitions/wf")
	b.ReportMetric(total["duro_commits_total"]/float64(b.N), "commits/wf")
	b.ReportMetric(total["duro_transition_conflicts_total"]/float64(b.N), "conflicts/wf")
}
