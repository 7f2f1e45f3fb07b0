package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/asl/jsonv"
)

type aslResult struct {
	code   int
	stdout string
	stderr string
}

func aslRunDuro(t *testing.T, stdin string, args ...string) aslResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return aslResult{code: code, stdout: out.String(), stderr: errb.String()}
}

func aslWriteFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func aslParseJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonv.Parse([]byte(s))
	require.NoError(t, err, "output %q", s)
	return v
}

const taskMachine = `{"StartAt":"T","States":{
 "T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Echo","ResultPath":"$.echoed","Next":"P"},
 "P":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, 1)","echoed.$":"$.echoed"},"End":true}}}`

func TestASLRunSucceeds(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.asl.json", taskMachine)
	r := aslRunDuro(t, "", "asl", "run", def, "--input", `{"n":41}`, "--task", "arn:aws:lambda:us-east-1:123456789012:function:Echo=cat")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, `{"n":42,"echoed":{"n":41}}`+"\n", r.stdout)
}

func TestASLRunFlagsBeforeFile(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", taskMachine)
	r := aslRunDuro(t, "", "asl", "run", "--task", "arn:aws:lambda:us-east-1:123456789012:function:Echo=cat", "--input", `{"n":1}`, def)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, `{"n":2,"echoed":{"n":1}}`+"\n", r.stdout)
}

func TestASLRunInputFromFile(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.a","End":true}}}`)
	in := aslWriteFile(t, "in.json", `{"a":{"b":1.50}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--input", "@"+in)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, `{"b":1.50}`+"\n", r.stdout, "numbers keep their text")
}

func TestASLRunDefaultInputIsEmptyObject(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "{}\n", r.stdout)
}

func TestASLRunFailedExecution(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Custom.Error","Cause":"it went wrong"}}}`)
	r := aslRunDuro(t, "", "asl", "run", def)
	require.Equal(t, 1, r.code)
	require.Equal(t, `{"error":"Custom.Error","cause":"it went wrong"}`+"\n", r.stdout)
}

func TestASLRunTaskCommandFails(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--task", "r=echo oops >&2; exit 3")
	require.Equal(t, 1, r.code)
	out := aslParseJSON(t, r.stdout).(*jsonv.Object)
	name, _ := out.Get("error")
	cause, _ := out.Get("cause")
	require.Equal(t, "States.TaskFailed", name)
	require.Contains(t, cause, "status 3")
	require.Contains(t, cause, "oops")
}

func TestASLRunTaskCommandReportsItsError(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"T","States":{
	 "T":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["Billing.Declined"],"ResultPath":"$.err","Next":"H"}],"End":true},
	 "H":{"Type":"Pass","End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--input", `{"a":1}`, "--task", `r=echo '{"error":"Billing.Declined","cause":"card"}'; exit 1`)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, `{"a":1,"err":{"Error":"Billing.Declined","Cause":"card"}}`+"\n", r.stdout)
}

func TestASLRunRetriesTaskCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "tried")
	def := aslWriteFile(t, "m.json", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r",
	 "Retry":[{"ErrorEquals":["States.TaskFailed"],"IntervalSeconds":30,"MaxAttempts":2}],"End":true}}}`)
	// fails the first time, succeeds the second: the retry's 30 s backoff passes at once with --no-wait
	cmd := `r=if [ -e '` + marker + `' ]; then echo '"second"'; else touch '` + marker + `'; exit 1; fi`
	r := aslRunDuro(t, "", "asl", "run", def, "--no-wait", "--task", cmd)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, `"second"`+"\n", r.stdout)
}

func TestASLRunUnmappedResourceFailsTheTask(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"unmapped","End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, `"error":"States.TaskFailed"`)
	require.Contains(t, r.stdout, "unmapped")
}

func TestASLRunTaskTimeout(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","TimeoutSeconds":1,"End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--task", "r=sleep 10")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, `"error":"States.Timeout"`)
}

func TestASLRunHTTPTask(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if strings.Contains(string(body), "fail") {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"error":"Remote.Failed","cause":"asked to"}`))
			return
		}
		_, _ = w.Write([]byte(`{"got":` + string(body) + `}`))
	}))
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"))
	def := aslWriteFile(t, "m.json", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::http:invoke","End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--input", `{"x":[1,2]}`, "--task", "arn:aws:states:::http:invoke="+srv.URL)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, `{"got":{"x":[1,2]}}`+"\n", r.stdout)

	r = aslRunDuro(t, "", "asl", "run", def, "--input", `{"x":"fail"}`, "--task", "arn:aws:states:::http:invoke="+srv.URL)
	require.Equal(t, 1, r.code)
	require.Equal(t, `{"error":"Remote.Failed","cause":"asked to"}`+"\n", r.stdout)
}

func aslHistoryTypes(t *testing.T, out string) ([]string, []*jsonv.Object) {
	t.Helper()
	arr, ok := aslParseJSON(t, out).([]any)
	require.True(t, ok, "history is a JSON array")
	var types []string
	var events []*jsonv.Object
	for _, e := range arr {
		o := e.(*jsonv.Object)
		typ, _ := o.Get("type")
		types = append(types, typ.(string))
		events = append(events, o)
	}
	return types, events
}

func TestASLRunHistory(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"T"},"T":{"Type":"Task","Resource":"r","End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--history", "--task", "r=cat")
	require.Equal(t, 0, r.code, r.stderr)
	types, events := aslHistoryTypes(t, r.stdout)
	require.Equal(t, []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "TaskStateEntered", "TaskScheduled",
		"TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}, types)
	for i, e := range events {
		id, _ := e.Get("id")
		prev, _ := e.Get("previousEventId")
		require.Equal(t, jsonv.NumberFromInt(int64(i+1)), id)
		require.Equal(t, jsonv.NumberFromInt(int64(i)), prev)
	}
	d, ok := events[1].Get("stateEnteredEventDetails")
	require.True(t, ok)
	name, _ := d.(*jsonv.Object).Get("name")
	require.Equal(t, "P", name)
}

func TestASLRunHistoryOfFailureExitsOne(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--history")
	require.Equal(t, 1, r.code)
	types, _ := aslHistoryTypes(t, r.stdout)
	require.Equal(t, []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"}, types)
}

func aslEventSeconds(t *testing.T, e *jsonv.Object) float64 {
	ts, _ := e.Get("timestamp")
	f, err := ts.(jsonv.Number).Float64()
	require.NoError(t, err)
	return f
}

func TestASLRunNoWaitStillShowsTheWait(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":86400,"End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--no-wait", "--history")
	require.Equal(t, 0, r.code, r.stderr)
	types, events := aslHistoryTypes(t, r.stdout)
	require.Equal(t, []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded"}, types)
	require.InDelta(t, 86400, aslEventSeconds(t, events[2])-aslEventSeconds(t, events[1]), 0.01)
}

func TestASLRunReallyWaits(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--history")
	require.Equal(t, 0, r.code, r.stderr)
	_, events := aslHistoryTypes(t, r.stdout)
	require.GreaterOrEqual(t, aslEventSeconds(t, events[2])-aslEventSeconds(t, events[1]), 0.99)
}

func TestASLRunInvalidDefinitionExitsTwo(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`)
	r := aslRunDuro(t, "", "asl", "run", def)
	require.Equal(t, 2, r.code)
	out := aslParseJSON(t, r.stdout).(*jsonv.Object)
	res, _ := out.Get("result")
	require.Equal(t, "FAIL", res)
	require.Contains(t, r.stdout, `"code":"MISSING_TRANSITION_TARGET"`)
	require.Contains(t, r.stdout, `"location":"/States/A/Next"`)
}

func TestASLRunNotJSONDefinitionExitsTwo(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":`)
	r := aslRunDuro(t, "", "asl", "run", def)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stdout, "INVALID_JSON_DESCRIPTION")
}

func TestASLValidate(t *testing.T) {
	t.Parallel()
	good := aslWriteFile(t, "good.json", taskMachine)
	r := aslRunDuro(t, "", "asl", "validate", good)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, `{"result":"OK","diagnostics":[]}`+"\n", r.stdout)

	bad := aslWriteFile(t, "bad.json", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Bogus":1},"B":{"Type":"Succeed"}}}`)
	r = aslRunDuro(t, "", "asl", "validate", bad)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, `"result":"FAIL"`)
	require.Contains(t, r.stdout, `"location":"/States/A/Bogus"`)
	require.Contains(t, r.stdout, `"code":"UNREACHABLE_STATE"`)
}

func TestASLUsageErrors(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	for _, args := range [][]string{
		{"asl"},
		{"asl", "frobnicate"},
		{"asl", "run"},
		{"asl", "run", filepath.Join(t.TempDir(), "missing.json")},
		{"asl", "run", def, "--input", "{not json"},
		{"asl", "run", def, "--input", "@" + filepath.Join(t.TempDir(), "missing.json")},
		{"asl", "run", def, "--task", "no-equals-sign"},
		{"asl", "run", def, "--bogus-flag"},
		{"asl", "run", def, def},
		{"asl", "validate"},
		{"asl", "validate", filepath.Join(t.TempDir(), "missing.json")},
	} {
		r := aslRunDuro(t, "", args...)
		require.Equal(t, 2, r.code, "args %v: stdout %q stderr %q", args, r.stdout, r.stderr)
		require.Empty(t, r.stdout, "args %v", args)
	}
	r := aslRunDuro(t, "", "asl", "--help")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stderr, "duro asl")
}

func TestASLRunParallelAndMap(t *testing.T) {
	t.Parallel()
	def := aslWriteFile(t, "m.json", `{"StartAt":"M","States":{
	 "M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Double","States":{"Double":{"Type":"Task","Resource":"double","End":true}}},"Next":"P"},
	 "P":{"Type":"Parallel","Branches":[
	   {"StartAt":"Sum","States":{"Sum":{"Type":"Task","Resource":"sum","End":true}}},
	   {"StartAt":"Len","States":{"Len":{"Type":"Pass","Parameters":{"n.$":"States.ArrayLength($)"},"End":true}}}],"End":true}}}`)
	r := aslRunDuro(t, "", "asl", "run", def, "--input", `{"items":[1,2,3]}`,
		"--task", "double=read n; echo $((n * 2))",
		"--task", `sum=tr -d '[]' | tr ',' '\n' | awk '{s+=$1} END {print s}'`)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Equal(t, `[12,{"n":3}]`+"\n", r.stdout)
}
