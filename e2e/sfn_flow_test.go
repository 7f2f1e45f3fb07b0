package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"
)

// flowMachine routes on a Choice into a Parallel (one branch passes, the other waits 10 s), maps
// its items with at most two iterations at once (each waits its item's seconds), calls a flaky
// Lambda function that succeeds on its retry, and a broken one whose error a Catch keeps in
// $.error before a Succeed.
const flowMachine = `{"StartAt":"Route","States":{
	"Route":{"Type":"Choice","Choices":[{"Variable":"$.kind","StringEquals":"batch","Next":"Fan"}],"Default":"Reject"},
	"Reject":{"Type":"Fail","Error":"Flow.Rejected"},
	"Fan":{"Type":"Parallel","ResultPath":"$.fan","Next":"Each","Branches":[
		{"StartAt":"Left","States":{"Left":{"Type":"Pass","Result":"left","End":true}}},
		{"StartAt":"Pause","States":{"Pause":{"Type":"Wait","Seconds":10,"Next":"Right"},"Right":{"Type":"Pass","Result":"right","End":true}}}]},
	"Each":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ResultPath":"$.waited","Next":"Call",
		"ItemProcessor":{"StartAt":"Nap","States":{
			"Nap":{"Type":"Wait","SecondsPath":"$.w","Next":"Mark"},
			"Mark":{"Type":"Pass","InputPath":"$.w","End":true}}}},
	"Call":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"flaky","Payload":{"user.$":"$.user"}},
		"Retry":[{"ErrorEquals":["Flaky.Error"],"IntervalSeconds":5,"MaxAttempts":2}],
		"ResultSelector":{"body.$":"$.Payload"},"ResultPath":"$.call","Next":"Risky"},
	"Risky":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"broken","Payload":{}},
		"Catch":[{"ErrorEquals":["Broken.Error"],"ResultPath":"$.error","Next":"Recover"}],"Next":"Done"},
	"Recover":{"Type":"Pass","Next":"Done"},
	"Done":{"Type":"Succeed"}}}`

// TestSFNFlowHistory runs flowMachine and checks its history event by event against the
// sequences AWS documents ("Execution history" in the Step Functions developer guide and the
// HistoryEvent reference): <Type>StateEntered / Exited around every state; Parallel's
// ParallelStateStarted, the branches, ParallelStateSucceeded; inline Map's MapStateStarted
// {length}, MapIterationStarted … MapIterationSucceeded {name, index} per item, MapStateSucceeded;
// a service-integration Task's TaskScheduled, TaskStarted, TaskFailed, after the retry interval
// TaskScheduled again … TaskSucceeded; a caught error TaskFailed, TaskStateExited, then the Catch
// target; Succeed's SucceedStateEntered / Exited, ExecutionSucceeded.
//
// The clock moves in steps and each step waits for its effects, so the order in which
// concurrent work finishes is the order of its deadlines, as in AWS: the Map's items wait 40, 10,
// 20, 50 and 10 s, two at a time, so they finish in the order 1, 2, 0, 4, 3. Where several
// things happen at one instant (the two branches' first events, the two iterations the Map starts
// together) AWS documents no order; there the sequence is the decider's, and each thread's own
// chain of previousEventId is checked separately.
func TestSFNFlowHistory(t *testing.T) {
	t.Parallel()
	var flakyCalls atomic.Int64
	var flakyBody atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/flaky":
			flakyBody.Store(string(b))
			if flakyCalls.Add(1) == 1 {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"errorType":"Flaky.Error","errorMessage":"try again"}`)
				return
			}
			_, _ = io.WriteString(w, `{"ok":true}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"errorType":"Broken.Error","errorMessage":"cannot"}`)
		}
	}))
	t.Cleanup(srv.Close)
	e := newResourceEnv(t, map[string]any{"flaky": srv.URL + "/flaky", "broken": srv.URL + "/broken"})
	c := e.sfnClient()
	sm := e.createMachine(c, "flow", flowMachine)
	arn := e.startExec(c, sm, "run", `{"kind":"batch","user":"ada","items":[{"w":40},{"w":10},{"w":20},{"w":50},{"w":10}]}`)

	count := func(typ types.HistoryEventType) int {
		n := 0
		for _, ev := range e.sfnHistory(c, arn) {
			if ev.Type == typ {
				n++
			}
		}
		return n
	}
	waitCount := func(typ types.HistoryEventType, want int) {
		t.Helper()
		require.Eventually(t, func() bool { return count(typ) == want }, waitFor, tick, "%d × %s", want, typ)
	}

	// The Parallel's Wait: 10 s.
	waitCount(types.HistoryEventTypeWaitStateEntered, 1)
	e.clk.Advance(10 * time.Second)
	// The Map: ten seconds at a time, with the iterations finished after each step. (The node's
	// clock also moves with real time, and a timer may fire up to a second late: steps of ten
	// seconds keep that from reordering deadlines.)
	waitCount(types.HistoryEventTypeMapIterationStarted, 2)
	for _, done := range []int{1, 1, 2, 3, 4, 4, 4, 5} {
		e.clk.Advance(10 * time.Second)
		waitCount(types.HistoryEventTypeMapIterationSucceeded, done)
	}
	// The retry's interval: 5 s after the first attempt failed.
	waitCount(types.HistoryEventTypeTaskFailed, 1)
	e.clk.Advance(5 * time.Second)

	d := e.waitExecution(c, arn)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status, "%s: %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	require.JSONEq(t, `{"kind":"batch","user":"ada","items":[{"w":40},{"w":10},{"w":20},{"w":50},{"w":10}],
		"fan":["left","right"],"waited":[40,10,20,50,10],"call":{"body":{"ok":true}},
		"error":{"Error":"Broken.Error","Cause":"cannot"}}`, aws.ToString(d.Output))
	require.Equal(t, int64(2), flakyCalls.Load(), "one failed attempt, one retry")
	require.JSONEq(t, `{"user":"ada"}`, flakyBody.Load().(string))

	type step struct {
		typ    string
		detail string // state name, or "i<index>" for Map iteration events
	}
	want := []step{
		{"ExecutionStarted", ""},
		{"ChoiceStateEntered", "Route"}, {"ChoiceStateExited", "Route"},
		{"ParallelStateEntered", "Fan"}, {"ParallelStateStarted", ""},
		{"PassStateEntered", "Left"}, {"PassStateExited", "Left"},
		{"WaitStateEntered", "Pause"},
		// 10 s later.
		{"WaitStateExited", "Pause"}, {"PassStateEntered", "Right"}, {"PassStateExited", "Right"},
		{"ParallelStateSucceeded", ""}, {"ParallelStateExited", "Fan"},
		{"MapStateEntered", "Each"}, {"MapStateStarted", ""},
		{"MapIterationStarted", "i0"}, {"MapIterationStarted", "i1"},
		{"WaitStateEntered", "Nap"}, {"WaitStateEntered", "Nap"},
		// +10 s: item 1 done, item 2 starts.
		{"WaitStateExited", "Nap"}, {"PassStateEntered", "Mark"}, {"PassStateExited", "Mark"}, {"MapIterationSucceeded", "i1"},
		{"MapIterationStarted", "i2"}, {"WaitStateEntered", "Nap"},
		// +30 s: item 2 done, item 3 starts.
		{"WaitStateExited", "Nap"}, {"PassStateEntered", "Mark"}, {"PassStateExited", "Mark"}, {"MapIterationSucceeded", "i2"},
		{"MapIterationStarted", "i3"}, {"WaitStateEntered", "Nap"},
		// +40 s: item 0 done, item 4 starts.
		{"WaitStateExited", "Nap"}, {"PassStateEntered", "Mark"}, {"PassStateExited", "Mark"}, {"MapIterationSucceeded", "i0"},
		{"MapIterationStarted", "i4"}, {"WaitStateEntered", "Nap"},
		// +50 s: item 4 done.
		{"WaitStateExited", "Nap"}, {"PassStateEntered", "Mark"}, {"PassStateExited", "Mark"}, {"MapIterationSucceeded", "i4"},
		// +80 s: item 3 done, the Map with it.
		{"WaitStateExited", "Nap"}, {"PassStateEntered", "Mark"}, {"PassStateExited", "Mark"}, {"MapIterationSucceeded", "i3"},
		{"MapStateSucceeded", ""}, {"MapStateExited", "Each"},
		{"TaskStateEntered", "Call"}, {"TaskScheduled", ""}, {"TaskStarted", ""}, {"TaskFailed", ""},
		// 5 s later, the retry.
		{"TaskScheduled", ""}, {"TaskStarted", ""}, {"TaskSucceeded", ""}, {"TaskStateExited", "Call"},
		{"TaskStateEntered", "Risky"}, {"TaskScheduled", ""}, {"TaskStarted", ""}, {"TaskFailed", ""}, {"TaskStateExited", "Risky"},
		{"PassStateEntered", "Recover"}, {"PassStateExited", "Recover"},
		{"SucceedStateEntered", "Done"}, {"SucceedStateExited", "Done"},
		{"ExecutionSucceeded", ""},
	}
	h := e.sfnHistory(c, arn)
	got := make([]step, len(h))
	for i, ev := range h {
		s := step{typ: string(ev.Type)}
		switch {
		case ev.StateEnteredEventDetails != nil:
			s.detail = aws.ToString(ev.StateEnteredEventDetails.Name)
		case ev.StateExitedEventDetails != nil:
			s.detail = aws.ToString(ev.StateExitedEventDetails.Name)
		case ev.MapIterationStartedEventDetails != nil:
			s.detail = "i" + strconv.Itoa(int(ev.MapIterationStartedEventDetails.Index))
			require.Equal(t, "Each", aws.ToString(ev.MapIterationStartedEventDetails.Name))
		case ev.MapIterationSucceededEventDetails != nil:
			s.detail = "i" + strconv.Itoa(int(ev.MapIterationSucceededEventDetails.Index))
			require.Equal(t, "Each", aws.ToString(ev.MapIterationSucceededEventDetails.Name))
		}
		got[i] = s
	}
	require.Equal(t, want, got)

	// Ids chain: 1…n, and each event's previousEventId is the event before it in its own thread.
	byID := map[int64]types.HistoryEvent{}
	for i, ev := range h {
		require.Equal(t, int64(i+1), ev.Id)
		byID[ev.Id] = ev
	}
	chain := func(last types.HistoryEvent, stop types.HistoryEventType) []string {
		out := []string{string(last.Type)}
		for ev := last; ev.Type != stop; {
			ev = byID[ev.PreviousEventId]
			out = append(out, string(ev.Type))
		}
		return out
	}
	iterations := 0
	for _, ev := range h {
		switch ev.Type {
		case types.HistoryEventTypeMapIterationSucceeded:
			iterations++
			require.Equal(t, []string{"MapIterationSucceeded", "PassStateExited", "PassStateEntered", "WaitStateExited", "WaitStateEntered", "MapIterationStarted"},
				chain(ev, types.HistoryEventTypeMapIterationStarted), "the chain of iteration %d", ev.MapIterationSucceededEventDetails.Index)
		case types.HistoryEventTypeExecutionSucceeded:
			// The top-level thread skips the branches' and iterations' own events.
			require.Equal(t, []string{"ExecutionSucceeded", "SucceedStateExited", "SucceedStateEntered", "PassStateExited", "PassStateEntered",
				"TaskStateExited", "TaskFailed", "TaskStarted", "TaskScheduled", "TaskStateEntered",
				"TaskStateExited", "TaskSucceeded", "TaskStarted", "TaskScheduled", "TaskFailed", "TaskStarted", "TaskScheduled", "TaskStateEntered",
				"MapStateExited", "MapStateSucceeded"}, chain(ev, types.HistoryEventTypeMapStateSucceeded))
		}
	}
	require.Equal(t, 5, iterations)

	// Details AWS documents for these events.
	for _, ev := range h {
		switch ev.Type {
		case types.HistoryEventTypeMapStateStarted:
			require.Equal(t, int32(5), ev.MapStateStartedEventDetails.Length)
		case types.HistoryEventTypeTaskScheduled:
			require.Equal(t, "lambda", aws.ToString(ev.TaskScheduledEventDetails.ResourceType))
			require.Equal(t, "invoke", aws.ToString(ev.TaskScheduledEventDetails.Resource))
		case types.HistoryEventTypeTaskFailed:
			f := ev.TaskFailedEventDetails
			require.Contains(t, []string{"Flaky.Error/try again", "Broken.Error/cannot"}, aws.ToString(f.Error)+"/"+aws.ToString(f.Cause))
		case types.HistoryEventTypeExecutionStarted:
			require.Equal(t, sfnRole, aws.ToString(ev.ExecutionStartedEventDetails.RoleArn))
		}
	}
	first := indexOfSFN(h, types.HistoryEventTypeTaskScheduled)
	var params map[string]any
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(h[first].TaskScheduledEventDetails.Parameters)), &params))
	require.Equal(t, map[string]any{"FunctionName": "flaky", "Payload": map[string]any{"user": "ada"}}, params)
}

// indexOfSFN returns the position of the first event of type typ, or -1.
func indexOfSFN(events []types.HistoryEvent, typ types.HistoryEventType) int {
	for i, ev := range events {
		if ev.Type == typ {
			return i
		}
	}
	return -1
}
