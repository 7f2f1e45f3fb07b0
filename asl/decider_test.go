package asl

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/asl/jsonv"
)

func mustCompile(t testing.TB, src string) *Machine {
	t.Helper()
	m, diags := Compile([]byte(src))
	require.NotNil(t, m, "diagnostics: %v", diags)
	return m
}

func mustParse(t testing.TB, s string) any {
	t.Helper()
	v, err := jsonv.Parse([]byte(s))
	require.NoError(t, err)
	return v
}

// A definition with every kind of pending work: parallel tasks, a Map of tasks at concurrency 2,
// a Wait, a retried task with jitter, intrinsic randomness and UUIDs.
const busyMachine = `{"StartAt":"P","States":{
 "P":{"Type":"Parallel","Branches":[
  {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"a","End":true}}},
  {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"Next":"B"},"B":{"Type":"Task","Resource":"b","End":true}}}],
  "ResultPath":"$.par","Next":"M"},
 "M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ItemProcessor":{"StartAt":"T","States":{
   "T":{"Type":"Task","Resource":"item","Retry":[{"ErrorEquals":["Flaky"],"JitterStrategy":"FULL","IntervalSeconds":3}],"End":true}}},
  "ResultPath":"$.mapped","Next":"R"},
 "R":{"Type":"Pass","Parameters":{"rnd.$":"States.MathRandom(0, 1000000)","id.$":"States.UUID()","par.$":"$.par","mapped.$":"$.mapped"},"End":true}}}`

type step struct {
	cmds []Command
	o    Outcome
}

// drive runs an execution with a deterministic fake world and returns every outcome it fed.
func driveBusy(t *testing.T, m *Machine, cfg ExecutionConfig) (*Execution, []Outcome, [][]Command) {
	x, cmds := m.Start(cfg)
	var outcomes []Outcome
	all := [][]Command{cmds}
	now := cfg.StartTime
	pending := append([]Command(nil), cmds...)
	flaky := map[string]int{}
	for x.Status() == StatusRunning {
		require.NotEmpty(t, pending, "execution waits on nothing")
		// serve the last issued command first: an order no simple runner would use
		c := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		var o Outcome
		switch c.Kind {
		case CommandRunTask:
			now = now.Add(time.Second)
			key := jsonv.String(c.Task.Input)
			if c.Task.Resource == "item" && flaky[key] == 0 {
				flaky[key]++
				o = Outcome{CommandID: c.ID, Kind: OutcomeFailed, Error: "Flaky", Time: now}
			} else {
				o = Outcome{CommandID: c.ID, Kind: OutcomeSucceeded, Output: obj("r", c.Task.Resource, "in", c.Task.Input), Time: now}
			}
		case CommandStartTimer:
			if c.Timer.FireAt.After(now) {
				now = c.Timer.FireAt
			}
			o = Outcome{CommandID: c.ID, Kind: OutcomeFired, Time: now}
		default:
			continue
		}
		outcomes = append(outcomes, o)
		next, err := x.Apply(o)
		require.NoError(t, err)
		all = append(all, next)
		for _, n := range next {
			if n.Kind == CommandCancel {
				for i := range pending {
					if pending[i].ID == n.CancelID {
						pending = append(pending[:i], pending[i+1:]...)
						break
					}
				}
				continue
			}
			pending = append([]Command{n}, pending...)
		}
	}
	return x, outcomes, all
}

func historyText(x *Execution) string {
	return jsonv.String(HistoryJSON(x.History()))
}

func commandsText(all [][]Command) string {
	var b strings.Builder
	for _, cmds := range all {
		for _, c := range cmds {
			fmt.Fprintf(&b, "%d:%d", c.ID, c.Kind)
			if c.Task != nil {
				fmt.Fprintf(&b, ":%s:%s:%d", c.Task.Resource, jsonv.String(c.Task.Input), c.Task.Attempt)
			}
			if c.Timer != nil {
				fmt.Fprintf(&b, ":%s:%s", c.Timer.Purpose, c.Timer.FireAt.Format(time.RFC3339Nano))
			}
			b.WriteString(";")
		}
		b.WriteString("|")
	}
	return b.String()
}

// TestReplayIsDeterministic is the decider's core promise: an execution rebuilt by replaying the
// recorded outcomes on a fresh start emits the same commands and the same history, so the engine
// can persist outcomes only and resume after any step.
func TestReplayIsDeterministic(t *testing.T) {
	for _, limit := range []int{0, 1} {
		t.Run(fmt.Sprintf("max-pending-%d", limit), func(t *testing.T) { testReplay(t, limit) })
	}
}

func testReplay(t *testing.T, maxPending int) {
	m := mustCompile(t, busyMachine)
	cfg := testConfig(mustParse(t, `{"items":[1,2,3,4,5]}`))
	cfg.MaxPendingTasks = maxPending
	x, outcomes, all := driveBusy(t, m, cfg)
	require.Equal(t, StatusSucceeded, x.Status())
	out := x.Output().(*jsonv.Object)
	mapped, _ := out.Get("mapped")
	require.Len(t, mapped, 5)

	for cut := 0; cut <= len(outcomes); cut += max(1, len(outcomes)/7) {
		y, cmds := m.Start(cfg)
		replayed := [][]Command{cmds}
		for _, o := range outcomes[:cut] {
			next, err := y.Apply(o)
			require.NoError(t, err)
			replayed = append(replayed, next)
		}
		// resume from the cut with the rest of the outcomes
		for _, o := range outcomes[cut:] {
			next, err := y.Apply(o)
			require.NoError(t, err)
			replayed = append(replayed, next)
		}
		require.Equal(t, commandsText(all), commandsText(replayed), "cut at %d", cut)
		require.Equal(t, historyText(x), historyText(y), "cut at %d", cut)
		require.Equal(t, jsonv.String(x.Output()), jsonv.String(y.Output()))
	}
}

func TestSeedChangesRandomness(t *testing.T) {
	m := mustCompile(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"id.$":"States.UUID()","n.$":"States.MathRandom(0, 1000000000)"},"End":true}}}`)
	run := func(seed uint64) string {
		cfg := testConfig(nil)
		cfg.Seed = seed
		x, _ := m.Start(cfg)
		require.Equal(t, StatusSucceeded, x.Status())
		return jsonv.String(x.Output())
	}
	require.Equal(t, run(7), run(7))
	require.NotEqual(t, run(7), run(8))
	id := mustParse(t, run(7)).(*jsonv.Object)
	u, _ := id.Get("id")
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, u)
}

func TestJitterComesFromSeed(t *testing.T) {
	m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["E"],"IntervalSeconds":100,"JitterStrategy":"FULL","MaxAttempts":1}],"End":true}}}`)
	delay := func(seed uint64) time.Duration {
		cfg := testConfig(nil)
		cfg.Seed = seed
		x, cmds := m.Start(cfg)
		require.Len(t, cmds, 1)
		next, err := x.Apply(Outcome{CommandID: cmds[0].ID, Kind: OutcomeFailed, Error: "E", Time: startTime})
		require.NoError(t, err)
		require.Len(t, next, 1)
		require.Equal(t, CommandStartTimer, next[0].Kind)
		require.Equal(t, TimerRetry, next[0].Timer.Purpose)
		return next[0].Timer.FireAt.Sub(startTime)
	}
	d := delay(3)
	require.Equal(t, d, delay(3))
	require.Greater(t, d, time.Duration(0))
	require.Less(t, d, 100*time.Second, "full jitter draws below the computed delay")
	require.NotEqual(t, d, delay(4))
}

func TestParallelIssuesTasksAtOnce(t *testing.T) {
	m := mustCompile(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
	 {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"a","End":true}}},
	 {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"b","End":true}}},
	 {"StartAt":"C","States":{"C":{"Type":"Task","Resource":"c","End":true}}}]}}}`)
	x, cmds := m.Start(testConfig(nil))
	require.Len(t, cmds, 3, "all branches' tasks pending at once")
	// complete them out of order; the output keeps branch order
	for _, i := range []int{2, 0, 1} {
		_, err := x.Apply(Outcome{CommandID: cmds[i].ID, Kind: OutcomeSucceeded, Output: cmds[i].Task.Resource, Time: startTime})
		require.NoError(t, err)
	}
	require.Equal(t, StatusSucceeded, x.Status())
	require.Equal(t, `["a","b","c"]`, jsonv.String(x.Output()))
}

func TestParallelFailureCancelsPendingTasks(t *testing.T) {
	m := mustCompile(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
	 {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"a","End":true}}},
	 {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"b","End":true}}}]}}}`)
	x, cmds := m.Start(testConfig(nil))
	require.Len(t, cmds, 2)
	next, err := x.Apply(Outcome{CommandID: cmds[1].ID, Kind: OutcomeFailed, Error: "Boom", Time: startTime})
	require.NoError(t, err)
	var kinds []CommandKind
	for _, c := range next {
		kinds = append(kinds, c.Kind)
	}
	require.Equal(t, []CommandKind{CommandCancel, CommandFail}, kinds)
	require.Equal(t, cmds[0].ID, next[0].CancelID)
	_, err = x.Apply(Outcome{CommandID: cmds[0].ID, Kind: OutcomeSucceeded, Time: startTime})
	require.ErrorIs(t, err, ErrClosed)
}

func TestInlineMapRunsAtMost40(t *testing.T) {
	items := make([]any, 100)
	for i := range items {
		items[i] = jsonv.NumberFromInt(int64(i))
	}
	m := mustCompile(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}}}}}`)
	x, cmds := m.Start(testConfig(items))
	require.Len(t, cmds, MaxInlineConcurrency)
	maxPending := x.Pending()
	queue := cmds
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		next, err := x.Apply(Outcome{CommandID: c.ID, Kind: OutcomeSucceeded, Output: c.Task.Input, Time: startTime})
		require.NoError(t, err)
		for _, n := range next {
			if n.Kind == CommandRunTask {
				queue = append(queue, n)
			}
		}
		maxPending = max(maxPending, x.Pending())
	}
	require.Equal(t, StatusSucceeded, x.Status())
	require.Equal(t, MaxInlineConcurrency, maxPending)
	require.Equal(t, jsonv.String(items), jsonv.String(x.Output()))
}

func TestUnknownAndStaleOutcomes(t *testing.T) {
	m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}}`)
	x, cmds := m.Start(testConfig(nil))
	_, err := x.Apply(Outcome{CommandID: 999, Kind: OutcomeSucceeded})
	require.ErrorIs(t, err, ErrUnknownCommand)
	require.Equal(t, StatusRunning, x.Status(), "a bad outcome changes nothing")
	_, err = x.Apply(Outcome{CommandID: cmds[0].ID, Kind: OutcomeSucceeded, Output: "ok"})
	require.NoError(t, err)
	_, err = x.Apply(Outcome{CommandID: cmds[0].ID, Kind: OutcomeSucceeded, Output: "again"})
	require.ErrorIs(t, err, ErrClosed)
	require.Equal(t, `"ok"`, jsonv.String(x.Output()))
}

func TestTaskCommandCarriesTimeoutsAndToken(t *testing.T) {
	m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
	 "TimeoutSeconds":300,"HeartbeatSeconds":60,"Parameters":{"token.$":"$$.Task.Token"},"End":true}}}`)
	cfg := testConfig(nil)
	cfg.TaskToken = func(id int64) string { return fmt.Sprintf("tok-%d", id) }
	_, cmds := m.Start(cfg)
	require.Len(t, cmds, 1)
	tc := cmds[0].Task
	require.Equal(t, int64(300), tc.TimeoutSeconds)
	require.Equal(t, int64(60), tc.HeartbeatSeconds)
	require.Equal(t, "tok-1", tc.Token)
	require.Equal(t, `{"token":"tok-1"}`, jsonv.String(tc.Input))
	require.Equal(t, 1, tc.Attempt)
}

func TestDataLimit(t *testing.T) {
	big := strings.Repeat("x", MaxPayloadBytes)
	m := mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","End":true}}}`)
	x, err := (&Runner{Tasks: TaskFunc(func(context.Context, *TaskCommand) TaskResult { return TaskResult{Output: big} })}).Run(context.Background(), m, testConfig(nil))
	require.NoError(t, err)
	name, _ := x.Error()
	require.Equal(t, ErrDataLimitExceeded, name)

	// just under the limit passes: a string of MaxPayloadBytes-2 characters is exactly the limit as JSON
	ok := strings.Repeat("x", MaxPayloadBytes-2)
	x, err = (&Runner{Tasks: TaskFunc(func(context.Context, *TaskCommand) TaskResult { return TaskResult{Output: ok} })}).Run(context.Background(), m, testConfig(nil))
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, x.Status())

	// the effective input of a task is checked too, and States.ALL does not catch it
	m = mustCompile(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"r","Parameters":{"a.$":"$.s","b.$":"$.s"},
	 "Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true},"H":{"Type":"Succeed"}}}`)
	half := strings.Repeat("y", MaxPayloadBytes/2)
	x, err = (&Runner{}).Run(context.Background(), m, testConfig(obj("s", half)))
	require.NoError(t, err)
	name, _ = x.Error()
	require.Equal(t, ErrDataLimitExceeded, name)
}

func TestPayloadSizeIsJSONLength(t *testing.T) {
	for _, s := range []string{`{}`, `[]`, `[1,2,3]`, `{"a":"x\"y\n","b":[true,false,null],"c":{"d":1.50e3}}`, `"\u0001é"`, `[[],{}]`} {
		v := mustParse(t, s)
		require.Equal(t, len(jsonv.Marshal(v)), payloadSize(v, 1<<30), s)
	}
}

func TestHistoryPreviousEventIDs(t *testing.T) {
	m := mustCompile(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
	 {"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
	 {"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}]}}}`)
	x, _ := m.Start(testConfig(nil))
	byID := map[int64]Event{}
	for _, e := range x.History() {
		require.Less(t, e.PreviousEventID, e.ID)
		byID[e.ID] = e
	}
	// both branches' first events point at ParallelStateStarted
	var started int64
	for _, e := range x.History() {
		if e.Type == "ParallelStateStarted" {
			started = e.ID
		}
		if e.Type == "PassStateEntered" {
			require.Equal(t, started, e.PreviousEventID)
		}
	}
	require.NotZero(t, started)
}

func TestValidateMessagesAndLocations(t *testing.T) {
	diags := Validate([]byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"r","Next":"B","TimeoutSeconds":"x"},"B":{"Type":"Pass","Next":"A"}}}`))
	require.True(t, HasErrors(diags))
	var locs []string
	for _, d := range diags {
		require.NotEmpty(t, d.Message)
		require.Equal(t, SeverityError, d.Severity)
		locs = append(locs, d.Code+" "+d.Location)
	}
	require.Contains(t, locs, "SCHEMA_VALIDATION_FAILED /States/A/TimeoutSeconds")
	require.Contains(t, locs, "MISSING_END_STATE /States")
	require.Empty(t, Validate([]byte(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`)))
	require.Equal(t, "MISSING_DESCRIPTION", Validate([]byte("  "))[0].Code)
	require.Equal(t, "INVALID_JSON_DESCRIPTION", Validate([]byte("{"))[0].Code)
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{busyMachine,
		`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.a","StringMatches":"x*"},{"Not":{"Variable":"$.b","IsNull":true}}],"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`,
		`{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $states.input.a %}","Assign":{"x":"{% 1 %}"},"End":true}}}`,
		`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e"}}},"ToleratedFailureCount":1,"ItemBatcher":{"MaxItemsPerBatch":2},"End":true}}}`,
		`{"StartAt":"W","TimeoutSeconds":5,"States":{"W":{"Type":"Wait","SecondsPath":"$.s","Next":"T"},"T":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["States.ALL"]}],"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.e","Next":"W"}],"End":true}}}`,
	} {
		f.Add([]byte(s), []byte(`{"a":"xy","b":1,"s":1,"e":"E","items":[1,2]}`))
	}
	f.Fuzz(func(t *testing.T, def, input []byte) {
		m, _ := Compile(def)
		if m == nil {
			return
		}
		in, err := jsonv.Parse(input)
		if err != nil {
			return
		}
		r := &Runner{MaxSteps: 2000, ItemReader: func(context.Context, *IOCommand) TaskResult { return TaskResult{Output: []any{}} }}
		cfg := testConfig(in)
		cfg.MaxHistoryEvents = 5000
		x, _ := r.Run(context.Background(), m, cfg)
		_ = HistoryJSON(x.History())
	})
}

func TestReplayHelper(t *testing.T) {
	m := mustCompile(t, busyMachine)
	cfg := testConfig(mustParse(t, `{"items":[1,2,3]}`))
	x, outcomes, _ := driveBusy(t, m, cfg)
	y, err := m.Replay(cfg, outcomes)
	require.NoError(t, err)
	require.Equal(t, historyText(x), historyText(y))
	half, err := m.Replay(cfg, outcomes[:len(outcomes)/2])
	require.NoError(t, err)
	require.Equal(t, StatusRunning, half.Status())
	require.Positive(t, half.Pending())
	_, err = m.Replay(cfg, append([]Outcome{{CommandID: 12345, Kind: OutcomeFired}}, outcomes...))
	require.ErrorIs(t, err, ErrUnknownCommand)
}

func TestNoDollarWarning(t *testing.T) {
	m, diags := Compile([]byte(`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x":"$.a","y":"States.UUID()","z":"plain"},"End":true}}}`))
	require.NotNil(t, m, "a warning does not make the definition invalid")
	require.Len(t, diags, 2)
	for _, d := range diags {
		require.Equal(t, SeverityWarning, d.Severity)
		require.Equal(t, "NO_DOLLAR", d.Code)
	}
	require.Equal(t, "/States/P/Parameters/x", diags[0].Location)
}

func TestVariableSizeLimit(t *testing.T) {
	m := mustCompile(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"a.$":"$.s","b.$":"$.s"},"End":true}}}`)
	x, err := (&Runner{}).Run(context.Background(), m, testConfig(obj("s", strings.Repeat("z", MaxPayloadBytes/2))))
	require.NoError(t, err)
	name, _ := x.Error()
	require.Equal(t, ErrDataLimitExceeded, name)
	x, err = (&Runner{}).Run(context.Background(), m, testConfig(obj("s", strings.Repeat("z", MaxPayloadBytes/4))))
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, x.Status())
	var exited *Event
	for i := range x.History() {
		if x.History()[i].Type == "PassStateExited" {
			exited = &x.History()[i]
		}
	}
	require.NotNil(t, exited)
	av, ok := exited.Detail("assignedVariables")
	require.True(t, ok)
	require.Equal(t, []string{"a", "b"}, av.(*jsonv.Object).Keys())
}

func TestHistoryLimitStopsEndlessLoops(t *testing.T) {
	// valid (the loop has a way out), but the way out is never taken
	m := mustCompile(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.go","BooleanEquals":true,"Next":"P"}],"Default":"Done"},
	 "P":{"Type":"Pass","Next":"C"},"Done":{"Type":"Succeed"}}}`)
	cfg := testConfig(obj("go", true))
	cfg.MaxHistoryEvents = 1000
	x, _ := m.Start(cfg)
	require.Equal(t, StatusFailed, x.Status())
	name, cause := x.Error()
	require.Equal(t, ErrRuntime, name)
	require.Contains(t, cause, "1000 events")
	require.LessOrEqual(t, len(x.History()), 1002, "the limit, the last exit and ExecutionFailed")
}
