// Package asllocal runs Task states of an ASL state machine on the local machine for `duro asl
// run`: a resource is mapped to a shell command (the task input on stdin, the result JSON on
// stdout) or to an HTTP(S) URL (the input POSTed as JSON, the response body as the result). It is
// the I/O half of running a state machine locally; package asl itself does no I/O.
package asllocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/duro-dev/duro/asl"
	"github.com/duro-dev/duro/asl/jsonv"
)

// maxOutput bounds what is read from a command or an HTTP response: a little over Step Functions'
// payload limit, so an oversized result still reaches the interpreter and fails there with
// States.DataLimitExceeded.
const maxOutput = asl.MaxPayloadBytes + 1024

// Tasks maps Task resources to local targets. It implements asl.TaskExecutor.
type Tasks struct {
	// Targets maps a resource (exactly as written in the definition) to a shell command or an
	// http:// or https:// URL.
	Targets map[string]string
	// HTTPClient is used for URL targets; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Shell runs command targets; empty means "sh".
	Shell string
}

var _ asl.TaskExecutor = (*Tasks)(nil)

// ErrBadMapping is returned by ParseMapping.
var ErrBadMapping = errors.New("a task mapping must be RESOURCE=COMMAND or RESOURCE=URL")

// ParseMapping splits "RESOURCE=TARGET" at the first '='.
func ParseMapping(s string) (resource, target string, err error) {
	resource, target, ok := strings.Cut(s, "=")
	if !ok || resource == "" || strings.TrimSpace(target) == "" {
		return "", "", fmt.Errorf("%w: %q", ErrBadMapping, s)
	}
	return resource, target, nil
}

// RunTask runs one task attempt on its mapped target.
func (t *Tasks) RunTask(ctx context.Context, tc *asl.TaskCommand) asl.TaskResult {
	target, ok := t.Targets[tc.Resource]
	if !ok {
		return asl.TaskResult{Error: asl.ErrTaskFailed, Cause: fmt.Sprintf("no --task mapping for the resource %s", tc.Resource)}
	}
	input := jsonv.Marshal(tc.Input)
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		return t.post(ctx, target, input)
	}
	return t.command(ctx, target, input, tc)
}

func (t *Tasks) command(ctx context.Context, command string, input []byte, tc *asl.TaskCommand) asl.TaskResult {
	shell := t.Shell
	if shell == "" {
		shell = "sh"
	}
	cmd := exec.CommandContext(ctx, shell, "-c", command)
	// On timeout, kill the whole process group: a shell's children would otherwise keep its
	// output open and the task would outlive its TimeoutSeconds.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr limitedBuffer
	stdout.limit, stderr.limit = maxOutput, 64*1024
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(cmd.Environ(), "DURO_STATE_NAME="+tc.StateName, "DURO_TASK_RESOURCE="+tc.Resource,
		fmt.Sprintf("DURO_TASK_ATTEMPT=%d", tc.Attempt))
	if tc.Token != "" {
		cmd.Env = append(cmd.Env, "DURO_TASK_TOKEN="+tc.Token)
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		return asl.TaskResult{TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded), Error: cancelledError(ctx), Cause: "the command was stopped: " + ctx.Err().Error()}
	}
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return asl.TaskResult{Error: asl.ErrTaskFailed, Cause: fmt.Sprintf("cannot run %q: %v", command, err)}
		}
		if name, cause, ok := errorObject(stdout.Bytes()); ok {
			return asl.TaskResult{Error: name, Cause: cause}
		}
		return asl.TaskResult{Error: asl.ErrTaskFailed, Cause: fmt.Sprintf("the command exited with status %d: %s", exit.ExitCode(), strings.TrimSpace(stderr.String()))}
	}
	return parseResult(stdout.Bytes(), stdout.over)
}

func cancelledError(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ""
	}
	return asl.ErrTaskFailed
}

func (t *Tasks) post(ctx context.Context, url string, input []byte) asl.TaskResult {
	client := t.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(input))
	if err != nil {
		return asl.TaskResult{Error: asl.ErrTaskFailed, Cause: fmt.Sprintf("bad task URL %q: %v", url, err)}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return asl.TaskResult{TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded), Error: cancelledError(ctx), Cause: err.Error()}
		}
		return asl.TaskResult{Error: asl.ErrTaskFailed, Cause: fmt.Sprintf("POST %s: %v", url, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOutput+1))
	if err != nil {
		return asl.TaskResult{Error: asl.ErrTaskFailed, Cause: fmt.Sprintf("read the response of POST %s: %v", url, err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if name, cause, ok := errorObject(body); ok {
			return asl.TaskResult{Error: name, Cause: cause}
		}
		return asl.TaskResult{Error: asl.ErrTaskFailed, Cause: fmt.Sprintf("POST %s: HTTP %d: %s", url, resp.StatusCode, strings.TrimSpace(string(body)))}
	}
	return parseResult(body, len(body) > maxOutput)
}

// parseResult reads a task's result: empty output is null.
func parseResult(out []byte, truncated bool) asl.TaskResult {
	if truncated {
		return asl.TaskResult{Error: asl.ErrDataLimitExceeded, Cause: fmt.Sprintf("the task returned more than %d bytes", asl.MaxPayloadBytes)}
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return asl.TaskResult{Output: nil}
	}
	v, err := jsonv.Parse(out)
	if err != nil {
		return asl.TaskResult{Error: asl.ErrTaskFailed, Cause: fmt.Sprintf("the task's output is not JSON: %v", err)}
	}
	return asl.TaskResult{Output: v}
}

// errorObject reads a failed task's {"error": ..., "cause": ...} (or Lambda's {"errorType",
// "errorMessage"}).
func errorObject(out []byte) (name, cause string, ok bool) {
	v, err := jsonv.Parse(out)
	if err != nil {
		return "", "", false
	}
	o, isObj := v.(*jsonv.Object)
	if !isObj {
		return "", "", false
	}
	for _, keys := range [][2]string{{"error", "cause"}, {"errorType", "errorMessage"}, {"Error", "Cause"}} {
		if n, ok := o.Get(keys[0]); ok {
			if s, isStr := n.(string); isStr && s != "" {
				c, _ := o.Get(keys[1])
				cs, _ := c.(string)
				return s, cs, true
			}
		}
	}
	return "", "", false
}

// limitedBuffer keeps at most limit bytes and notes whether more came.
type limitedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.limit - b.Len()
	if room < len(p) {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// RealClock is the wall clock for asl.Runner: Wait states and retry backoffs really wait. It
// lives here, not in package asl, which never reads the clock.
type RealClock struct{}

var _ asl.Clock = RealClock{}

// Now returns the wall-clock time.
func (RealClock) Now() time.Time { return time.Now() }

// SleepUntil waits until t or until ctx ends.
func (RealClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait until %s: %w", t.Format(time.RFC3339), ctx.Err())
	}
}
