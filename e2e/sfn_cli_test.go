package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// awsCLI runs `aws stepfunctions <args> --endpoint-url <node> --output json` (the AWS CLI v1
// installed on every machine here) with dummy credentials and a region in the environment, and
// decodes its JSON output. A failing command fails the test unless wantErr, in which case its
// stderr is returned.
func (e *env) awsCLI(wantErr bool, args ...string) (map[string]any, string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	defer cancel()
	args = append(append([]string{"stepfunctions"}, args...), "--endpoint-url", "http://"+e.srv.SFNAddr(), "--output", "json")
	cmd := exec.CommandContext(ctx, "aws", args...)
	cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=dummy", "AWS_SECRET_ACCESS_KEY=dummy", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if wantErr {
		var exit *exec.ExitError
		require.True(e.t, errors.As(err, &exit), "aws %v should fail: %v\n%s", args, err, stdout.String())
		return nil, stderr.String()
	}
	require.NoError(e.t, err, "aws %v\n%s", args, stderr.String())
	var out map[string]any
	if stdout.Len() > 0 {
		require.NoError(e.t, json.Unmarshal(stdout.Bytes(), &out), "aws %v printed %q", args, stdout.String())
	}
	return out, stderr.String()
}

// cliTime reads a timestamp the CLI printed: with the CLI v1's default cli_timestamp_format
// (none) it is the API's epoch seconds as they came; with iso8601, a string.
func cliTime(t testing.TB, v any) time.Time {
	t.Helper()
	switch x := v.(type) {
	case float64:
		require.Greater(t, x, 1e9, "epoch seconds")
		return time.UnixMilli(int64(math.Round(x * 1000)))
	case string:
		ts, err := time.Parse(time.RFC3339Nano, x)
		require.NoError(t, err, "timestamp %q", x)
		return ts
	}
	t.Fatalf("timestamp %v (%T)", v, v)
	return time.Time{}
}

// TestSFNAWSCLI drives a node with the AWS CLI: create-state-machine, start-execution,
// describe-execution while running, after success and once aborted, get-execution-history (the
// CLI pages it itself), list-executions with and without a status filter, stop-execution, and an
// error the CLI reports by its code.
func TestSFNAWSCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	def := `{"StartAt":"Nap","States":{"Nap":{"Type":"Wait","Seconds":30,"Next":"Say"},"Say":{"Type":"Pass","Parameters":{"said.$":"$.word"},"End":true}}}`
	created, _ := e.awsCLI(false, "create-state-machine", "--name", "cli", "--definition", def, "--role-arn", sfnRole)
	sm, _ := created["stateMachineArn"].(string)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:stateMachine:cli", sm)
	cliTime(t, created["creationDate"])

	started, _ := e.awsCLI(false, "start-execution", "--state-machine-arn", sm, "--name", "first", "--input", `{"word":"hello"}`)
	arn, _ := started["executionArn"].(string)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:execution:cli:first", arn)
	startDate := cliTime(t, started["startDate"])

	running, _ := e.awsCLI(false, "describe-execution", "--execution-arn", arn)
	require.Equal(t, "RUNNING", running["status"])
	require.Equal(t, "first", running["name"])
	require.Equal(t, sm, running["stateMachineArn"])
	require.JSONEq(t, `{"word":"hello"}`, running["input"].(string))
	require.NotContains(t, running, "output")
	require.NotContains(t, running, "stopDate")
	require.True(t, cliTime(t, running["startDate"]).Equal(startDate))

	c := e.sfnClient()
	e.waitSFNEvent(c, arn, "WaitStateEntered")
	e.clk.Advance(31 * time.Second)
	e.waitExecution(c, arn)
	done, _ := e.awsCLI(false, "describe-execution", "--execution-arn", arn)
	require.Equal(t, "SUCCEEDED", done["status"])
	require.JSONEq(t, `{"said":"hello"}`, done["output"].(string))
	require.False(t, cliTime(t, done["stopDate"]).Before(startDate))

	// --page-size 2 makes the CLI fetch the history two events at a time, following nextToken.
	history, _ := e.awsCLI(false, "get-execution-history", "--execution-arn", arn, "--page-size", "2")
	events, _ := history["events"].([]any)
	var seen []string
	for i, ev := range events {
		m := ev.(map[string]any)
		require.EqualValues(t, i+1, m["id"])
		cliTime(t, m["timestamp"])
		seen = append(seen, m["type"].(string))
	}
	require.Equal(t, []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}, seen)
	require.NotContains(t, history, "nextToken", "the CLI followed every page")
	last := events[len(events)-1].(map[string]any)
	require.EqualValues(t, len(events)-1, last["previousEventId"])
	require.JSONEq(t, `{"said":"hello"}`, last["executionSucceededEventDetails"].(map[string]any)["output"].(string))

	// A second execution, stopped with an error and a cause.
	second, _ := e.awsCLI(false, "start-execution", "--state-machine-arn", sm, "--name", "second")
	secondArn := second["executionArn"].(string)
	stopped, _ := e.awsCLI(false, "stop-execution", "--execution-arn", secondArn, "--error", "Cli.Stop", "--cause", "stopped from the CLI")
	cliTime(t, stopped["stopDate"])
	aborted, _ := e.awsCLI(false, "describe-execution", "--execution-arn", secondArn)
	require.Equal(t, "ABORTED", aborted["status"])
	require.Equal(t, "Cli.Stop", aborted["error"])
	require.Equal(t, "stopped from the CLI", aborted["cause"])

	names := func(out map[string]any) []string {
		var ns []string
		for _, x := range out["executions"].([]any) {
			m := x.(map[string]any)
			require.Equal(t, sm, m["stateMachineArn"])
			ns = append(ns, m["name"].(string)+"="+m["status"].(string))
		}
		return ns
	}
	all, _ := e.awsCLI(false, "list-executions", "--state-machine-arn", sm, "--page-size", "1")
	require.Equal(t, []string{"second=ABORTED", "first=SUCCEEDED"}, names(all), "newest first, over pages of one")
	onlyAborted, _ := e.awsCLI(false, "list-executions", "--state-machine-arn", sm, "--status-filter", "ABORTED")
	require.Equal(t, []string{"second=ABORTED"}, names(onlyAborted))

	_, stderr := e.awsCLI(true, "start-execution", "--state-machine-arn", sm, "--name", "first", "--input", `{"word":"other"}`)
	require.Contains(t, stderr, "An error occurred (ExecutionAlreadyExists) when calling the StartExecution operation")
}
