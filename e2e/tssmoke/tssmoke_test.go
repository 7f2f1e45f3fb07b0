package tssmoke

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duro-dev/duro/e2e/e2etest"
	"github.com/duro-dev/duro/internal/server"
)

const (
	// projectDir holds the Node project, relative to this package's directory.
	projectDir = "ts"
	// minNodeMajor is the oldest Node.js the pinned SDK supports (its engines field: >= 20.3.0).
	minNodeMajor = 20
	// installTimeout bounds a cold `npm ci`, download included.
	installTimeout = 4 * time.Minute
	// scriptTimeout bounds the whole smoke script; each of its checks has its own 30 s bound.
	scriptTimeout = 90 * time.Second
	// serverStopTimeout bounds the node's shutdown after the test.
	serverStopTimeout = 30 * time.Second
)

// checks are the names the script prints after PASS; every one must pass.
var checks = []string{
	"two-activities",
	"activity-retry",
	"signal",
	"query",
	"timer",
	"patched",
	"cancel",
	"already-started",
}

func TestTypeScriptSDK(t *testing.T) {
	node := requireTool(t, "node", "Node.js (>= 20.3) runs the Temporal TypeScript SDK")
	npm := requireTool(t, "npm", "npm installs the Temporal TypeScript SDK from ts/package-lock.json")
	requireNodeVersion(t, node)

	modules := installModules(t, npm)
	runDir := prepareRunDir(t, modules)
	addr := startServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	out := &lineLog{t: t, prefix: "node: "}
	cmd := exec.CommandContext(ctx, node, "smoke.js")
	cmd.Dir = runDir
	cmd.Env = append(os.Environ(),
		"DURO_ADDRESS="+addr,
		"TSSMOKE_NAMESPACE=default",
		"TSSMOKE_TASK_QUEUE=tssmoke-"+strconv.FormatInt(time.Now().UnixNano(), 36),
	)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err := cmd.Run()
	out.flush()
	t.Logf("smoke script ran for %v", time.Since(start).Round(time.Millisecond))

	text := out.String()
	if ctx.Err() != nil {
		t.Fatalf("smoke script did not finish within %v (killed): %v", scriptTimeout, err)
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Errorf("smoke script exited with code %d, want 0 (its output is above; FAIL lines say what differed)", exit.ExitCode())
		} else {
			t.Fatalf("run node smoke.js: %v", err)
		}
	}
	lines := strings.Split(text, "\n")
	for _, name := range checks {
		if !hasLine(lines, "PASS "+name+" (") {
			t.Errorf("check %q did not print PASS", name)
		}
	}
	want := fmt.Sprintf("TSSMOKE SUMMARY: %d/%d passed", len(checks), len(checks))
	if !hasLine(lines, want) {
		t.Errorf("summary line %q missing from the script's output", want)
	}
}

// hasLine reports whether some line of lines contains s.
func hasLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// requireTool finds name on PATH or fails the test saying why it is needed.
func requireTool(t *testing.T, name, why string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found on PATH (%v): %s; install it to run this suite (it never skips)", name, err, why)
	}
	return p
}

// requireNodeVersion fails the test if node is older than the SDK supports.
func requireNodeVersion(t *testing.T, node string) {
	t.Helper()
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	v := strings.TrimSpace(string(out))
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0])
	if err != nil {
		t.Fatalf("cannot read the Node.js version from %q", v)
	}
	if major < minNodeMajor {
		t.Fatalf("Node.js %s is too old: the pinned Temporal TypeScript SDK needs >= 20.3", v)
	}
	t.Logf("node %s at %s", v, node)
}

// installModules returns a node_modules directory installed by `npm ci` from the project's lockfile,
// reusing the one in the cache when the project's package.json and package-lock.json are unchanged.
// A fresh install goes to a temporary sibling directory renamed into place once complete, so an
// interrupted install is never reused and concurrent runs do not see each other's half-done work.
func installModules(t *testing.T, npm string) string {
	t.Helper()
	pkg, err := os.ReadFile(filepath.Join(projectDir, "package.json"))
	if err != nil {
		t.Fatalf("read package.json: %v", err)
	}
	lock, err := os.ReadFile(filepath.Join(projectDir, "package-lock.json"))
	if err != nil {
		t.Fatalf("read package-lock.json: %v", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "package.json %d\n", len(pkg))
	h.Write(pkg)
	fmt.Fprintf(h, "package-lock.json %d\n", len(lock))
	h.Write(lock)
	sum := hex.EncodeToString(h.Sum(nil))

	root := cacheRoot(t)
	dir := filepath.Join(root, "tssmoke-"+sum)
	modules := filepath.Join(dir, "node_modules")
	if complete(dir) {
		t.Logf("using the cached npm install at %s", dir)
		return modules
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatalf("create the cache directory: %v", err)
	}
	tmp, err := os.MkdirTemp(root, "tssmoke-install-")
	if err != nil {
		t.Fatalf("create a temp install directory: %v", err)
	}
	defer os.RemoveAll(tmp) // gone after a successful rename; removes the leftovers of a failed install
	for name, data := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	out := &lineLog{t: t, prefix: "npm: "}
	// Install scripts are not needed: @temporalio/core-bridge ships its native library inside the
	// package and @swc/core's native binary comes as an optional dependency.
	cmd := exec.CommandContext(ctx, npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=warn")
	cmd.Dir = tmp
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	out.flush()
	if err != nil {
		t.Fatalf("npm ci in %s failed after %v: %v (its output is above)", tmp, time.Since(start).Round(time.Millisecond), err)
	}
	t.Logf("npm ci took %v", time.Since(start).Round(time.Millisecond))
	if err := os.WriteFile(filepath.Join(tmp, completeMarker), []byte(sum+"\n"), 0o644); err != nil {
		t.Fatalf("mark the install complete: %v", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if !complete(dir) {
			t.Fatalf("move the install into place at %s: %v", dir, err)
		}
		// A concurrent run finished first; use its install.
	}
	return modules
}

// completeMarker is written last into an install directory.
const completeMarker = ".tssmoke-complete"

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, completeMarker))
	return err == nil
}

// cacheRoot is $DURO_TSSMOKE_CACHE, else duro/ in the user's cache directory, else in the temp
// directory.
func cacheRoot(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("DURO_TSSMOKE_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "duro")
	}
	d := filepath.Join(os.TempDir(), "duro-cache")
	t.Logf("no user cache directory; installing npm packages under %s", d)
	return d
}

// prepareRunDir copies the project's scripts into a temp directory next to a node_modules symlink to
// the cached install, so Node and the SDK's workflow bundler resolve packages there.
func prepareRunDir(t *testing.T, modules string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(projectDir)
	if err != nil {
		t.Fatalf("read %s: %v", projectDir, err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".js") && !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(projectDir, e.Name()))
		if err != nil {
			t.Fatalf("read %s: %v", e.Name(), err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatalf("copy %s: %v", e.Name(), err)
		}
	}
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatalf("link node_modules: %v", err)
	}
	return dir
}

// startServer runs an in-process Duro node on a loopback port with a temp SQLite store until the
// test ends, and returns its gRPC address.
func startServer(t *testing.T) string {
	t.Helper()
	level := os.Getenv("DURO_E2E_LOG_LEVEL")
	if level == "" {
		level = "warn"
	}
	var slogLevel slog.Level
	if err := slogLevel.UnmarshalText([]byte(level)); err != nil {
		t.Fatalf("DURO_E2E_LOG_LEVEL=%q: want debug, info, warn or error", level)
	}
	logs := &lineLog{t: t, prefix: "duro: "}
	t.Cleanup(logs.close) // runs after the server has stopped (cleanups run last first)

	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		GRPCAddr:        "127.0.0.1:0",
		Store:           "sqlite:" + filepath.Join(t.TempDir(), "duro.db"),
		LogLevel:        level,
		LongPollTimeout: 10 * time.Second,
		Logger:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slogLevel})),
	})
	if err != nil {
		cancel()
		t.Fatalf("server.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		select {
		case err := <-done:
			t.Errorf("server.Run returned before the test ended: %v", err)
			cancel()
			return
		default:
		}
		cancel()
		e2etest.AwaitStop(t, done, serverStopTimeout)
	})
	addr := srv.GRPCAddr()
	t.Logf("duro listening on %s", addr)
	return addr
}

// lineLog is an io.Writer that logs each complete line with t.Log and keeps all it was given. After
// close it keeps text but stops logging: goroutines that outlive the test must not call t.Log.
type lineLog struct {
	t      *testing.T
	prefix string

	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	closed  bool
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.logLocked(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}

// flush logs a trailing line that has no newline.
func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.logLocked(string(l.partial))
		l.partial = nil
	}
}

func (l *lineLog) logLocked(line string) {
	line = strings.TrimRight(line, "\r")
	if !l.closed && strings.TrimSpace(line) != "" {
		l.t.Log(l.prefix + line)
	}
}

func (l *lineLog) close() {
	l.flush()
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// String returns everything written so far.
func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}
