package asl

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/duro-dev/duro/asl/jsonv"
)

// The table: testdata/cases/*.json each hold an array of cases written from the Amazon States
// Language specification and the Step Functions developer guide. A case has a name and one of:
//
//	"definition": a whole state machine
//	"states":     the States object (StartAt is its first state)
//	"state":      one state, named S (End: true is added where the type takes it)
//	"params":     a Pass state's Parameters
//	"rule":       one Choice rule; the machine outputs "yes" when it matches, "no" otherwise
//
// plus "jsonata": true for QueryLanguage JSONata, "input" (default {}), "tasks" (resource → a list
// of results used in turn, the last one repeating; a resource without an entry echoes its input;
// a result is {"output": v}, {"error": e, "cause": c}, {"timeout": true} or {"heartbeat": true}),
// and the expectation: "output", or "error" with an optional "cause" (a substring), or
// "invalid": [codes...] for a definition that must not compile (with optional "locations"). Optional
// checks: "events" (the history's event types, in order), "taskInputs" (every task input in
// order), "elapsed" (seconds of virtual time the run took).

var startTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testConfig(input any) ExecutionConfig {
	return ExecutionConfig{
		ExecutionArn:     "arn:aws:states:us-east-1:123456789012:execution:Machine:exec-1",
		Name:             "exec-1",
		StateMachineArn:  "arn:aws:states:us-east-1:123456789012:stateMachine:Machine",
		StateMachineName: "Machine",
		RoleArn:          "arn:aws:iam::123456789012:role/Role",
		Input:            input,
		StartTime:        startTime,
		Seed:             1,
		Region:           "us-east-1",
	}
}

type tableCase struct {
	file string
	obj  *jsonv.Object
}

func get(o *jsonv.Object, k string) any {
	v, _ := o.Get(k)
	return v
}

func has(o *jsonv.Object, k string) bool {
	_, ok := o.Get(k)
	return ok
}

func obj(kv ...any) *jsonv.Object {
	o := jsonv.NewObject()
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// buildDefinition expands a case's short form into a definition.
func buildDefinition(t *testing.T, c *jsonv.Object) any {
	var def *jsonv.Object
	switch {
	case has(c, "definition"):
		return get(c, "definition")
	case has(c, "states"):
		states := get(c, "states").(*jsonv.Object)
		def = obj("StartAt", states.Keys()[0], "States", states)
	case has(c, "state"):
		st := jsonv.Clone(get(c, "state")).(*jsonv.Object)
		switch get(st, "Type") {
		case TypeChoice, TypeSucceed, TypeFail:
		default:
			if !has(st, "Next") && !has(st, "End") {
				st.Set("End", true)
			}
		}
		def = obj("StartAt", "S", "States", obj("S", st))
	case has(c, "params"):
		def = obj("StartAt", "P", "States", obj("P", obj("Type", "Pass", "Parameters", get(c, "params"), "End", true)))
	case has(c, "rule"):
		r := jsonv.Clone(get(c, "rule")).(*jsonv.Object)
		r.Set("Next", "Yes")
		def = obj("StartAt", "C", "States", obj(
			"C", obj("Type", "Choice", "Choices", []any{r}, "Default", "No"),
			"Yes", obj("Type", "Pass", "Result", "yes", "End", true),
			"No", obj("Type", "Pass", "Result", "no", "End", true)))
	default:
		t.Fatalf("case has no definition")
	}
	if get(c, "jsonata") == true {
		out := obj("QueryLanguage", JSONata)
		for _, k := range def.Keys() {
			out.Set(k, get(def, k))
		}
		def = out
	}
	return def
}

// mockTasks serves the case's "tasks" and records every task input.
type mockTasks struct {
	results map[string][]any
	calls   map[string]int
	inputs  []any
}

func (m *mockTasks) RunTask(_ context.Context, t *TaskCommand) TaskResult {
	m.inputs = append(m.inputs, t.Input)
	list, ok := m.results[t.Resource]
	if !ok || len(list) == 0 {
		return TaskResult{Output: t.Input}
	}
	i := m.calls[t.Resource]
	m.calls[t.Resource]++
	if i >= len(list) {
		i = len(list) - 1
	}
	r, _ := list[i].(*jsonv.Object)
	if r == nil {
		return TaskResult{Output: t.Input}
	}
	switch {
	case has(r, "output"):
		return TaskResult{Output: get(r, "output")}
	case has(r, "error"):
		cause, _ := get(r, "cause").(string)
		return TaskResult{Error: get(r, "error").(string), Cause: cause}
	case get(r, "timeout") == true:
		return TaskResult{TimedOut: true}
	case get(r, "heartbeat") == true:
		return TaskResult{HeartbeatTimedOut: true}
	}
	return TaskResult{Output: t.Input}
}

func loadCases(t *testing.T) []tableCase {
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []tableCase
	for _, f := range files {
		if !jsonataAvailable && strings.Contains(filepath.Base(f), "jsonata") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := jsonv.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range v.([]any) {
			out = append(out, tableCase{file: filepath.Base(f), obj: c.(*jsonv.Object)})
		}
	}
	return out
}

func TestTable(t *testing.T) {
	cases := loadCases(t)
	names := map[string]bool{}
	for _, tc := range cases {
		c := tc.obj
		name, _ := get(c, "name").(string)
		if name == "" || names[name] {
			t.Fatalf("%s: missing or duplicate case name %q", tc.file, name)
		}
		names[name] = true
		t.Run(name, func(t *testing.T) { runCase(t, c) })
	}
	t.Logf("%d table cases", len(cases))
}

func runCase(t *testing.T, c *jsonv.Object) {
	def := buildDefinition(t, c)
	m, diags := CompileValue(def)
	if want, ok := get(c, "invalid").([]any); ok {
		if m != nil {
			t.Fatalf("definition compiled; want diagnostics %v", jsonv.String(want))
		}
		codes := map[string]bool{}
		locs := map[string]bool{}
		for _, d := range diags {
			codes[d.Code] = true
			locs[d.Location] = true
		}
		for _, w := range want {
			if !codes[w.(string)] {
				t.Errorf("no %s diagnostic; got %v", w, diags)
			}
		}
		if wl, ok := get(c, "locations").([]any); ok {
			for _, w := range wl {
				if !locs[w.(string)] {
					t.Errorf("no diagnostic at %s; got %v", w, diags)
				}
			}
		}
		return
	}
	if m == nil {
		t.Fatalf("definition does not compile: %v", diags)
	}
	input := get(c, "input")
	if !has(c, "input") {
		input = jsonv.NewObject()
	}
	mock := &mockTasks{results: map[string][]any{}, calls: map[string]int{}}
	if tasks, ok := get(c, "tasks").(*jsonv.Object); ok {
		for _, k := range tasks.Keys() {
			mock.results[k] = get(tasks, k).([]any)
		}
	}
	clk := &VirtualClock{T: startTime}
	r := &Runner{Tasks: mock, Clock: clk, MaxSteps: 100000,
		ItemReader: func(_ context.Context, io *IOCommand) TaskResult {
			if items, ok := get(c, "readerItems").([]any); ok {
				return TaskResult{Output: items}
			}
			return TaskResult{Error: "Reader.Failed", Cause: "no items"}
		},
		ResultWriter: func(_ context.Context, io *IOCommand) TaskResult {
			return TaskResult{Output: obj("written", jsonv.NumberFromInt(int64(len(io.Items))))}
		},
	}
	x, err := r.Run(context.Background(), m, testConfig(input))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	switch {
	case has(c, "error"):
		if x.Status() == StatusSucceeded {
			t.Fatalf("succeeded with %s; want error %v", jsonv.String(x.Output()), get(c, "error"))
		}
		name, cause := x.Error()
		if name != get(c, "error") {
			t.Errorf("error = %s (%s), want %v", name, cause, get(c, "error"))
		}
		if want, ok := get(c, "cause").(string); ok && !strings.Contains(cause, want) {
			t.Errorf("cause = %q, want it to contain %q", cause, want)
		}
		if want, ok := get(c, "status").(string); ok && string(x.Status()) != want {
			t.Errorf("status = %s, want %s", x.Status(), want)
		}
	case has(c, "output"):
		if x.Status() != StatusSucceeded {
			name, cause := x.Error()
			t.Fatalf("status %s: %s: %s", x.Status(), name, cause)
		}
		want := get(c, "output")
		if get(c, "exact") == true {
			if jsonv.String(x.Output()) != jsonv.String(want) {
				t.Errorf("output = %s, want exactly %s", jsonv.String(x.Output()), jsonv.String(want))
			}
		} else if !jsonv.Equal(x.Output(), want) {
			t.Errorf("output = %s, want %s", jsonv.String(x.Output()), jsonv.String(want))
		}
	default:
		t.Fatalf("case has no expectation")
	}
	if want, ok := get(c, "events").([]any); ok {
		var got []string
		for _, e := range x.History() {
			got = append(got, e.Type)
		}
		var ws []string
		for _, w := range want {
			ws = append(ws, w.(string))
		}
		if strings.Join(got, ",") != strings.Join(ws, ",") {
			t.Errorf("events =\n  %s\nwant\n  %s", strings.Join(got, ","), strings.Join(ws, ","))
		}
	}
	if want, ok := get(c, "taskInputs").([]any); ok {
		if !jsonv.Equal(mock.inputs, want) {
			t.Errorf("task inputs = %s, want %s", jsonv.String(mock.inputs), jsonv.String(want))
		}
	}
	if want, ok := get(c, "elapsed").(jsonv.Number); ok {
		got := clk.T.Sub(startTime).Seconds()
		if w := mustFloat(want); got != w {
			t.Errorf("elapsed = %vs, want %vs", got, w)
		}
	}
}
