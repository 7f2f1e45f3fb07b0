package cluster

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// privatePG is a PostgreSQL server of the test's own, in a temp directory on a free port, so the
// test may restart it without disturbing anyone else's tests on the shared server.
type privatePG struct {
	bin, dir, data, log string
	port                int
	asPostgres          bool // run the server binaries as the postgres OS user (we are root)
}

// startPrivatePG initdbs and starts a server, stopped and removed when the test ends. A machine
// without the server binaries fails the test.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	ctls, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		ctls = append(ctls, p)
	}
	require.NotEmpty(t, ctls, "the fault test needs the PostgreSQL server binaries (pg_ctl, initdb)")
	slices.Sort(ctls)
	dir, err := os.MkdirTemp("", "duro-pg-")
	require.NoError(t, err)
	p := &privatePG{bin: filepath.Dir(ctls[len(ctls)-1]), dir: dir, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "pg.log")}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	require.NoError(t, os.Mkdir(p.data, 0o700))
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		p.asPostgres = true
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root: the postgres OS user must exist")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
		require.NoError(t, os.Chown(p.data, uid, gid))
	}
	p.port = freePort(t)
	p.run(t, "initdb", "-D", p.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	p.run(t, "pg_ctl", "-D", p.data, "-l", p.log, "-w", "-t", "30",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", p.port, p.data), "start")
	t.Cleanup(func() {
		if out, err := p.cmd("pg_ctl", "-D", p.data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
			t.Logf("stop private PostgreSQL: %v\n%s", err, out)
		}
		if t.Failed() {
			if b, err := os.ReadFile(p.log); err == nil {
				t.Logf("private PostgreSQL log:\n%s", b)
			}
		}
	})
	return p
}

func freePort(t *testing.T) int {
	addr := freeAddr(t)
	port, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	require.NoError(t, err)
	return port
}

// url is the server's connection URL.
func (p *privatePG) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *privatePG) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	if !p.asPostgres {
		return exec.Command(path, args...)
	}
	quoted := []string{shellQuote(path)}
	for _, a := range args {
		quoted = append(quoted, shellQuote(a))
	}
	c := exec.Command("su", "postgres", "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
	c.Dir = p.dir
	return c
}

func (p *privatePG) run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := p.cmd(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v:\n%s", name, args, out)
}

// restart stops the server (fast: sessions are terminated) and starts it again.
func (p *privatePG) restart() error {
	out, err := p.cmd("pg_ctl", "-D", p.data, "-l", p.log, "-m", "fast", "-w", "-t", "30", "restart").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl restart: %w\n%s", err, out)
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestPostgresRestart restarts PostgreSQL under load (two nodes: the client on one, the worker on
// the other): every call meanwhile answers Unavailable (which the SDK retries), never Internal,
// both nodes recover without a restart of their own, and every workflow that was started
// completes with its result, each activity completion and timer firing recorded once.
func TestPostgresRestart(t *testing.T) {
	pg := startPrivatePG(t)
	n1, n2 := newNode(t, "node1", pg.url()), newNode(t, "node2", pg.url())
	require.NoError(t, n1.start())
	require.NoError(t, n2.start())
	starter := n1.dial(t)
	a := newActs()
	tq := fmt.Sprintf("fault-%d", time.Now().UnixNano())
	startWorker(t, n2.dial(t), tq, a)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()

	// A prober outside the SDK (no retries) records every status a store-reading call answers.
	conn, err := grpc.NewClient(n1.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	raw := workflowservice.NewWorkflowServiceClient(conn)
	probeCtx, stopProbe := context.WithCancel(ctx)
	var probes sync.WaitGroup
	seen := map[codes.Code]int{}
	var seenMu sync.Mutex
	probes.Add(1)
	go func() {
		defer probes.Done()
		for probeCtx.Err() == nil {
			cctx, cancel := context.WithTimeout(probeCtx, 2*time.Second)
			_, err := raw.DescribeWorkflowExecution(cctx, &workflowservice.DescribeWorkflowExecutionRequest{
				Namespace: namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: "fault-0"},
			})
			cancel()
			if probeCtx.Err() != nil {
				return
			}
			seenMu.Lock()
			seen[status.Code(err)]++
			seenMu.Unlock()
			select {
			case <-time.After(20 * time.Millisecond):
			case <-probeCtx.Done():
			}
		}
	}()

	restartAt := time.Duration(1500+rand.IntN(2000)) * time.Millisecond
	restarted := make(chan error, 1)
	go func() {
		select {
		case <-time.After(restartAt):
		case <-ctx.Done():
			restarted <- ctx.Err()
			return
		}
		restarted <- pg.restart()
	}()

	outcomes := drive(ctx, starter, tq, "fault", 200, 50)
	require.NoError(t, <-restarted)
	stopProbe()
	probes.Wait()
	t.Logf("PostgreSQL restarted after %v; probe answers: %v", restartAt, seen)
	logSlowest(t, starter, outcomes)
	checkOutcomes(t, starter, outcomes, a)

	for code := range seen {
		require.Contains(t, []codes.Code{codes.OK, codes.NotFound, codes.Unavailable, codes.DeadlineExceeded}, code,
			"a call during the restart answered %v: store failures must be Unavailable", code)
	}
	require.Positive(t, seen[codes.Unavailable], "the probe never saw the outage: %v", seen)

	// Both nodes lost their LISTEN session and listened again without a restart of their own.
	for _, n := range []*node{n1, n2} {
		b, err := os.ReadFile(n.logPath)
		require.NoError(t, err)
		require.True(t, bytes.Contains(b, []byte("cluster notifier: listening again")), "%s never re-LISTENed", n.name)
		require.Equal(t, 1, bytes.Count(b, []byte("=== start")), "%s was restarted", n.name)
	}
}
