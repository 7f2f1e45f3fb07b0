// Package cluster tests several `duro server` processes sharing one PostgreSQL schema, driven by
// the official Temporal Go SDK: work started on one node is done by workers polling the others,
// nodes are killed (SIGKILL) and stopped (SIGTERM) mid-load, and PostgreSQL itself is restarted,
// and every history must still record each activity completion and timer firing exactly once.
//
// The tests need PostgreSQL (DURO_TEST_DATABASE_URL, default the local server on 127.0.0.1:5432)
// and the PostgreSQL server binaries for the private instance of the fault test; they fail, never
// skip, when either is missing.
package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

const (
	namespace = "default"
	// waitFor bounds one start-up or shutdown of a node.
	waitFor = 30 * time.Second
)

// binDir holds the duro binary built for this run of the tests; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildDuro builds the duro binary once per test binary run.
var buildDuro = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "duro-cluster-bin-")
	if err != nil {
		return "", fmt.Errorf("temp dir: %w", err)
	}
	binDir = dir
	bin := filepath.Join(dir, "duro")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/duro-dev/duro/cmd/duro").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/duro: %w\n%s", err, out)
	}
	return bin, nil
})

func duroBinary(t testing.TB) string {
	t.Helper()
	bin, err := buildDuro()
	require.NoError(t, err)
	return bin
}

// freeAddr returns a loopback address whose port was free at the time of the call.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// node is one `duro server` subprocess; it keeps its addresses across restarts.
type node struct {
	name     string
	bin      string
	env      []string
	grpcAddr string
	httpAddr string
	logPath  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	state  *os.ProcessState
}

// newNode prepares (but does not start) a node on store; t.Cleanup kills it.
func newNode(t testing.TB, name, store string) *node {
	t.Helper()
	logDir := t.TempDir()
	if keep := os.Getenv("DURO_TEST_LOG_DIR"); keep != "" {
		// Kept after the test, for reading a failure's whole logs.
		logDir = filepath.Join(keep, strings.ReplaceAll(t.Name(), "/", "_"))
		require.NoError(t, os.MkdirAll(logDir, 0o755))
	}
	n := &node{name: name, bin: duroBinary(t), grpcAddr: freeAddr(t), httpAddr: freeAddr(t), logPath: filepath.Join(logDir, name+".log")}
	n.env = append(os.Environ(),
		"DURO_GRPC_ADDR="+n.grpcAddr,
		"DURO_HTTP_ADDR="+n.httpAddr,
		"DURO_STORE="+store,
		"DURO_SFN_ADDR=127.0.0.1:0", // several nodes on one machine: not the fixed 8083
		"DURO_LOG_LEVEL=info",
	)
	t.Cleanup(func() {
		n.signal(syscall.SIGKILL)
		if t.Failed() {
			if b, err := os.ReadFile(n.logPath); err == nil {
				if len(b) > 8<<10 {
					b = b[len(b)-8<<10:]
				}
				t.Logf("%s log (last 8 KiB):\n%s", n.name, b)
			}
		}
	})
	return n
}

// start runs the server and waits until it answers a health check. It reports failure as an
// error, so it may run on any goroutine.
func (n *node) start() error {
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	fmt.Fprintf(logf, "=== start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.bin, "server")
	cmd.Env = n.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", n.name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		n.mu.Lock()
		n.state = cmd.ProcessState
		n.mu.Unlock()
		close(exited)
	}()
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()

	deadline := time.Now().Add(waitFor)
	for !n.ready() {
		select {
		case <-exited:
			return fmt.Errorf("%s exited during start-up (log: %s)", n.name, n.logPath)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready on %s within %v (log: %s)", n.name, n.grpcAddr, waitFor, n.logPath)
		}
	}
	return nil
}

// ready reports whether the node answers a dial and a health check.
func (n *node) ready() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: n.grpcAddr, Namespace: namespace, Logger: quiet{}})
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err == nil
}

// signal sends sig to the running server and waits (up to waitFor) for it to exit; it returns the
// exit state, or nil if the node was not running.
func (n *node) signal(sig syscall.Signal) (*os.ProcessState, error) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return nil, nil
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return nil, fmt.Errorf("signal %s: %w", n.name, err)
	}
	select {
	case <-exited:
	case <-time.After(waitFor):
		_ = cmd.Process.Kill()
		<-exited
		return nil, fmt.Errorf("%s did not exit within %v of %v", n.name, waitFor, sig)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state, nil
}

// metrics reads the node's counters from /metrics.
func (n *node) metrics() (map[string]float64, error) {
	resp, err := http.Get("http://" + n.httpAddr + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("metrics of %s: %w", n.name, err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		out[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics of %s: %w", n.name, err)
	}
	return out, nil
}

// cpu returns the CPU time (user and system) the running server has used, from /proc.
func (n *node) cpu() (time.Duration, error) {
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	if cmd == nil {
		return 0, fmt.Errorf("%s is not running", n.name)
	}
	return processCPU(cmd.Process.Pid)
}

// processCPU reads utime+stime of a process from /proc/PID/stat (in clock ticks of 1/100 s, the
// value of CLK_TCK on Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	// The command name (field 2) is parenthesised and may hold spaces: count from after it.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// dial connects an SDK client to the node and closes it when the test ends.
func (n *node) dial(t testing.TB) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: n.grpcAddr, Namespace: namespace, Logger: quiet{}})
	require.NoError(t, err, "dial %s", n.name)
	t.Cleanup(c.Close)
	return c
}

// quiet drops the SDK's logs: the tests provoke connection errors on purpose.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
