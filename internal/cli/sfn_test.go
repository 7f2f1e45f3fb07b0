package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/server"
)

// sfnNode is an in-process Duro serving the Step Functions API, the environment that points the
// verbs at it, and an SDK client for what a test does beside the verbs.
type sfnNode struct {
	env map[string]string
	c   *sfnsdk.Client
}

func startSFNServer(t *testing.T) *sfnNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		GRPCAddr: "127.0.0.1:0", SFNAddr: "127.0.0.1:0", Store: "sqlite:" + filepath.Join(t.TempDir(), "duro.db"),
		LogLevel: "warn", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		require.NoError(t, err, "server.New")
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("the server did not stop")
		}
	})
	endpoint := "http://" + srv.SFNAddr()
	c := sfnsdk.New(sfnsdk.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
	return &sfnNode{env: map[string]string{"DURO_SFN_ENDPOINT": endpoint}, c: c}
}

// sfn runs `duro sfn args...` against the node.
func (n *sfnNode) sfn(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runDuro(t, n.env, append([]string{"sfn"}, args...)...)
}

const sfnGreet = `{"StartAt":"Prepare","States":{
  "Prepare":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('hello {}', $.name)"},"Next":"Done"},
  "Done":{"Type":"Succeed"}}}`

func TestSFNCreateUpdateDescribe(t *testing.T) {
	t.Parallel()
	n := startSFNServer(t)
	file := aslWriteFile(t, "greet.asl.json", sfnGreet)

	code, out, errOut := n.sfn(t, "create", "greet", file)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "created arn:aws:states:us-east-1:123456789012:stateMachine:greet\n", out)

	code, out, errOut = n.sfn(t, "create", "greet", file)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "unchanged arn:aws:states:us-east-1:123456789012:stateMachine:greet\n", out)

	changed := strings.Replace(sfnGreet, "hello", "bonjour", 1)
	require.NoError(t, writeFile(file, changed))
	code, out, errOut = n.sfn(t, "create", "greet", file, "--role", "arn:aws:iam::123456789012:role/other")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "updated arn:aws:states:us-east-1:123456789012:stateMachine:greet\n", out)

	for _, arg := range []string{"greet", "arn:aws:states:us-east-1:123456789012:stateMachine:greet"} {
		code, out, errOut = n.sfn(t, "describe", arg)
		require.Equal(t, 0, code, errOut)
		require.Regexp(t, `(?m)^state machine: +greet$`, out)
		require.Regexp(t, `(?m)^role: +arn:aws:iam::123456789012:role/other$`, out)
		require.Regexp(t, `(?m)^type: +STANDARD$`, out)
		require.Contains(t, out, "definition:\n"+changed+"\n", "the definition as stored, byte for byte")
	}

	// The definition from stdin, and the endpoint from the flag rather than the environment.
	var stdout, stderr bytes.Buffer
	code = Main(t.Context(), []string{"sfn", "create", "--endpoint", n.env["DURO_SFN_ENDPOINT"], "other", "-"},
		strings.NewReader(sfnGreet), &stdout, &stderr, func(string) string { return "" })
	require.Equal(t, 0, code, stderr.String())
	require.Equal(t, "created arn:aws:states:us-east-1:123456789012:stateMachine:other\n", stdout.String())

	code, out, errOut = n.sfn(t, "list")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	require.Regexp(t, `^NAME +TYPE +CREATED +ARN$`, lines[0])
	require.Regexp(t, `^greet +STANDARD +\d{4}-\d\d-\d\dT.* arn:aws:states:us-east-1:123456789012:stateMachine:greet$`, lines[1])
	require.Regexp(t, `^other +STANDARD `, lines[2])
}

func TestSFNCreateInvalidDefinition(t *testing.T) {
	t.Parallel()
	n := startSFNServer(t)
	file := aslWriteFile(t, "bad.json", `{"StartAt":"Missing","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`)
	code, out, errOut := n.sfn(t, "create", "bad", file)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "the definition is invalid:")
	require.Contains(t, errOut, "Missing", "the diagnostics name the missing StartAt state")
	require.Contains(t, errOut, "Nowhere", "and the missing Next state: every diagnostic, not only the first")

	// Nothing was created.
	code, _, errOut = n.sfn(t, "describe", "bad")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `no state machine or execution named "bad"`)
}

func TestSFNStartWaitHistoryListDescribe(t *testing.T) {
	t.Parallel()
	n := startSFNServer(t)
	code, _, errOut := n.sfn(t, "create", "greet", aslWriteFile(t, "greet.json", sfnGreet))
	require.Equal(t, 0, code, errOut)

	code, out, errOut := n.sfn(t, "start", "greet", "--name", "ada", "--input", `{"name":"Ada"}`, "--wait")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, `{"greeting":"hello Ada"}`+"\n", out)
	require.Contains(t, errOut, "started arn:aws:states:us-east-1:123456789012:execution:greet:ada")

	// Without --wait: the ARN; the input from a file.
	in := aslWriteFile(t, "in.json", `{"name":"Bob"}`)
	code, out, errOut = n.sfn(t, "start", "--input", "@"+in, "greet", "--name", "bob")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:execution:greet:bob\n", out)

	for _, arg := range []string{"ada", "greet:ada", "arn:aws:states:us-east-1:123456789012:execution:greet:ada"} {
		code, out, errOut = n.sfn(t, "history", arg)
		require.Equal(t, 0, code, errOut)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 7, out)
		require.Regexp(t, `^OFFSET +ID +TYPE +STATE +DETAIL$`, lines[0])
		want := []string{
			`^\+0\.000s +1 +ExecutionStarted +input \{"name":"Ada"\}$`,
			`^\+\d+\.\d{3}s +2 +PassStateEntered +Prepare +input \{"name":"Ada"\}$`,
			`^\+\d+\.\d{3}s +3 +PassStateExited +Prepare +output \{"greeting":"hello Ada"\}$`,
			`^\+\d+\.\d{3}s +4 +SucceedStateEntered +Done +input`,
			`^\+\d+\.\d{3}s +5 +SucceedStateExited +Done +output`,
			`^\+\d+\.\d{3}s +6 +ExecutionSucceeded +output \{"greeting":"hello Ada"\}$`,
		}
		for i, re := range want {
			require.Regexp(t, re, lines[i+1], "history line %d:\n%s", i+1, out)
		}
	}

	code, out, errOut = n.sfn(t, "describe", "greet:ada")
	require.Equal(t, 0, code, errOut)
	for _, re := range []string{`(?m)^execution: +ada$`, `(?m)^status: +SUCCEEDED$`, `(?m)^input: +\{"name":"Ada"\}$`,
		`(?m)^output: +\{"greeting":"hello Ada"\}$`, `(?m)^stopped: +\S+ \(after \S+\)$`, `(?m)^state machine: +arn:aws:states:us-east-1:123456789012:stateMachine:greet$`} {
		require.Regexp(t, re, out)
	}

	n.waitSucceeded(t, "arn:aws:states:us-east-1:123456789012:execution:greet:bob")
	code, out, errOut = n.sfn(t, "list", "greet")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	require.Regexp(t, `^NAME +STATUS +STARTED +DURATION$`, lines[0])
	require.Regexp(t, `^bob +SUCCEEDED +\d{4}-\d\d-\d\dT\S+Z +\S+$`, lines[1], "newest first")
	require.Regexp(t, `^ada +SUCCEEDED `, lines[2])

	code, out, errOut = n.sfn(t, "list", "greet", "--status", "failed")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "NAME  STATUS  STARTED  DURATION\n", out)
}

func (n *sfnNode) waitSucceeded(t *testing.T, arn string) {
	t.Helper()
	require.Eventually(t, func() bool {
		d, err := n.c.DescribeExecution(t.Context(), &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		return err == nil && d.Status == "SUCCEEDED"
	}, 30*time.Second, 20*time.Millisecond)
}

// TestSFNStartWaitsForAnActivity: --wait really waits, here for an activity worker that takes
// the task only after the execution started.
func TestSFNStartWaitsForAnActivity(t *testing.T) {
	t.Parallel()
	n := startSFNServer(t)
	act, err := n.c.CreateActivity(t.Context(), &sfnsdk.CreateActivityInput{Name: aws.String("shout")})
	require.NoError(t, err)
	def := `{"StartAt":"Shout","States":{"Shout":{"Type":"Task","Resource":"` + aws.ToString(act.ActivityArn) + `","End":true}}}`
	code, _, errOut := n.sfn(t, "create", "loud", aslWriteFile(t, "loud.json", def))
	require.Equal(t, 0, code, errOut)

	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"sfn", "start", "loud", "--name", "one", "--input", `{"word":"hey"}`, "--wait"},
			strings.NewReader(""), &out, &errb, func(k string) string { return n.env[k] })
		done <- result{code, out.String(), errb.String()}
	}()
	task, err := n.c.GetActivityTask(t.Context(), &sfnsdk.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	require.NoError(t, err)
	require.JSONEq(t, `{"word":"hey"}`, aws.ToString(task.Input))
	select {
	case r := <-done:
		t.Fatalf("start --wait returned before the task was done: %+v", r)
	default:
	}
	_, err = n.c.SendTaskSuccess(t.Context(), &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"word":"HEY"}`)})
	require.NoError(t, err)
	r := <-done
	require.Equal(t, 0, r.code, r.errOut)
	require.Equal(t, `{"word":"HEY"}`+"\n", r.out)

	code, out, errOut := n.sfn(t, "history", "one")
	require.Equal(t, 0, code, errOut)
	for _, re := range []string{
		// Duro records an activity Task with the Task* events (resource activity:NAME); AWS with
		// ActivityScheduled / Started / Succeeded (resource: the activity's ARN).
		`(?m)^\+\S+ +3 +(TaskScheduled +Shout +activity:shout|ActivityScheduled +Shout +` + regexp.QuoteMeta(aws.ToString(act.ActivityArn)) + `) \{"word":"hey"\}$`,
		`(?m)^\+\S+ +\d+ +(TaskSucceeded|ActivitySucceeded) +Shout +output \{"word":"HEY"\}$`,
	} {
		require.Regexp(t, re, out)
	}
}

func TestSFNStartWaitFailure(t *testing.T) {
	t.Parallel()
	n := startSFNServer(t)
	def := `{"StartAt":"Check","States":{"Check":{"Type":"Choice","Choices":[{"Variable":"$.ok","BooleanEquals":true,"Next":"Fine"}],"Default":"Boom"},
	  "Fine":{"Type":"Succeed"},"Boom":{"Type":"Fail","Error":"NotOK","Cause":"the input said no"}}}`
	code, _, errOut := n.sfn(t, "create", "check", aslWriteFile(t, "check.json", def))
	require.Equal(t, 0, code, errOut)

	code, out, errOut := n.sfn(t, "start", "check", "--input", `{"ok":false}`, "--name", "no", "--wait")
	require.Equal(t, 1, code)
	require.Equal(t, `{"error":"NotOK","cause":"the input said no"}`+"\n", out)
	require.Contains(t, errOut, "execution no FAILED")

	code, out, errOut = n.sfn(t, "describe", "no")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^status: +FAILED$`, out)
	require.Regexp(t, `(?m)^error: +NotOK$`, out)
	require.Regexp(t, `(?m)^cause: +the input said no$`, out)
	require.NotContains(t, out, "output:")

	code, out, errOut = n.sfn(t, "history", "no")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^\+\S+ +\d+ +FailStateEntered +Boom `, out)
	require.Regexp(t, `(?m)^\+\S+ +\d+ +ExecutionFailed +NotOK: the input said no$`, out)

	code, out, errOut = n.sfn(t, "list", "check", "--status", "FAILED")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^no +FAILED `, out)
	code, out, errOut = n.sfn(t, "list", "check", "--status", "SUCCEEDED")
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out, "no ")
}

// TestSFNEventStates: every event is placed in the state it belongs to, inside a Parallel and
// after its branches.
func TestSFNEventStates(t *testing.T) {
	t.Parallel()
	n := startSFNServer(t)
	def := `{"StartAt":"Fan","States":{"Fan":{"Type":"Parallel","Next":"After","Branches":[
	  {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
	  {"StartAt":"B","States":{"B":{"Type":"Pass","Next":"B2"},"B2":{"Type":"Pass","End":true}}}]},
	  "After":{"Type":"Pass","End":true}}}`
	code, _, errOut := n.sfn(t, "create", "fan", aslWriteFile(t, "fan.json", def))
	require.Equal(t, 0, code, errOut)
	code, _, errOut = n.sfn(t, "start", "fan", "--name", "f", "--wait")
	require.Equal(t, 0, code, errOut)
	code, out, errOut := n.sfn(t, "history", "f")
	require.Equal(t, 0, code, errOut)
	states := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		state := ""
		if len(f) > 3 && !strings.HasPrefix(f[2], "Execution") {
			state = f[3]
		}
		states[f[2]] = append(states[f[2]], state)
	}
	require.Equal(t, []string{"Fan"}, states["ParallelStateStarted"], out)
	require.Equal(t, []string{"Fan"}, states["ParallelStateSucceeded"], out)
	require.Equal(t, []string{"Fan"}, states["ParallelStateExited"], out)
	require.ElementsMatch(t, []string{"A", "B", "B2", "After"}, states["PassStateEntered"], out)
}

func TestSFNUsageAndErrors(t *testing.T) {
	t.Parallel()
	n := startSFNServer(t)
	code, _, errOut := n.sfn(t, "create", "m", aslWriteFile(t, "m.json", sfnGreet))
	require.Equal(t, 0, code, errOut)
	missing := filepath.Join(t.TempDir(), "missing.json")

	cases := []struct {
		args     []string
		code     int
		contains []string
	}{
		{nil, 2, []string{"usage: duro sfn <verb>"}},
		{[]string{"help"}, 0, []string{"usage: duro sfn <verb>", "--wait"}},
		{[]string{"start", "-h"}, 0, []string{"usage: duro sfn <verb>"}},
		{[]string{"bogus"}, 2, []string{`unknown verb "bogus"`, "Try: duro sfn start"}},
		{[]string{"create"}, 2, []string{"expected NAME FILE, got no arguments", "Try: duro sfn create"}},
		{[]string{"create", "m"}, 2, []string{"expected NAME FILE, got 1: m"}},
		{[]string{"create", "m", missing}, 2, []string{"cannot read the definition", "missing.json"}},
		{[]string{"start"}, 2, []string{"expected the state machine's NAME", "Try: duro sfn start"}},
		{[]string{"start", "m", "--input", "{nope"}, 2, []string{"the input is not valid JSON"}},
		{[]string{"start", "m", "--input", "@" + missing}, 2, []string{"cannot read the input"}},
		{[]string{"start", "m", "--bogus"}, 2, []string{"flag provided but not defined: -bogus", "Try:"}},
		{[]string{"start", "nosuch"}, 1, []string{`no state machine named "nosuch"`, "duro sfn create nosuch FILE"}},
		{[]string{"start", "m", "--name", "bad name"}, 1, []string{"InvalidName"}},
		{[]string{"history"}, 2, []string{"expected one execution"}},
		{[]string{"history", "nosuch"}, 1, []string{`no execution named "nosuch"`}},
		{[]string{"history", "nosuch:x"}, 1, []string{`no state machine named "nosuch"`}},
		{[]string{"history", "m:x"}, 1, []string{"ExecutionDoesNotExist"}},
		{[]string{"history", "arn:aws:states:us-east-1:123456789012:stateMachine:m"}, 2, []string{"is not an execution ARN"}},
		{[]string{"describe", "a", "b"}, 2, []string{"expected one state machine or execution, got 2: a b"}},
		{[]string{"list", "m", "--status", "DONE"}, 2, []string{`unknown status "DONE"`}},
		{[]string{"list", "--status", "RUNNING"}, 2, []string{"name it"}},
		{[]string{"list", "nosuch"}, 1, []string{`no state machine named "nosuch"`}},
	}
	for _, tc := range cases {
		code, _, errOut := n.sfn(t, tc.args...)
		require.Equal(t, tc.code, code, "duro sfn %v: %s", tc.args, errOut)
		for _, s := range tc.contains {
			require.Contains(t, errOut, s, "duro sfn %v", tc.args)
		}
	}

	// An execution name two machines share must be told apart.
	code, _, errOut = n.sfn(t, "create", "m2", aslWriteFile(t, "m2.json", sfnGreet))
	require.Equal(t, 0, code, errOut)
	for _, m := range []string{"m", "m2"} {
		code, _, errOut = n.sfn(t, "start", m, "--name", "same", "--input", `{"name":"x"}`, "--wait")
		require.Equal(t, 0, code, errOut)
	}
	code, _, errOut = n.sfn(t, "history", "same")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `2 state machines have an execution named "same": say which, as m:same or m2:same`)
}

func TestSFNUnreachable(t *testing.T) {
	t.Parallel()
	l := freeLoopbackAddr(t)
	code, _, errOut := runDuro(t, map[string]string{"DURO_SFN_ENDPOINT": l}, "sfn", "list")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "cannot reach the Step Functions API at http://"+l)
	require.Contains(t, errOut, "is `duro server` running?")
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// freeLoopbackAddr is a loopback address nothing listens on (free when the call returns).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
