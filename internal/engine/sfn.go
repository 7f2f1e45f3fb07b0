package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/duro-dev/duro/asl"
	"github.com/duro-dev/duro/asl/jsonv"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/tasktoken"
)

// A Step Functions execution is a run of the engine driven by the ASL decider instead of a
// workflow worker (DESIGN.md, "State machines on the core"). Its history holds, in Temporal's
// terms:
//
//   - WorkflowExecutionStarted with the execution input (one json/plain payload);
//   - after every step, a MarkerRecorded named SFNMarker whose "events" detail holds the Step
//     Functions events that step recorded (a JSON array, in order); the first one also holds, in
//     "start", what the decider was started with (definition, names, seed);
//   - the events of the decider's commands: ActivityTaskScheduled for a Task state's attempt (an
//     activity's task queue is the Step Functions activity's name; other resources go to the
//     execution's local queue), TimerStarted/Fired/Canceled for Wait states, retry back-offs and
//     the machine's TimeoutSeconds (timer ID = command ID), and the close event.
//
// No workflow task is ever scheduled. The decider runs inside each transition that records an
// outcome of one of its commands (an activity or timer event), so a state transition is one
// atomic commit. Its in-memory state is cached with the mutable state and rebuilt, on a cache
// miss, by replaying the outcome events of the history into a fresh decider: the decider is
// deterministic, so the replay reproduces the same events and commands.

// SFNMarker is the marker name of the Step Functions events in an execution's history.
const SFNMarker = "StepFunctions"

// SFNTaskQueue is the task queue visibility shows for every Step Functions execution; no
// workflow task is ever scheduled on it.
const SFNTaskQueue = "duro.stepfunctions"

// sfnNoTimeout is the task timeout when a Task state gives none: Step Functions' 99999999 s.
const sfnNoTimeout = 99999999 * time.Second

// sfnLocalHeartbeat is the heartbeat timeout of a local task whose state sets none: how long a
// task run by a node that died waits before another node runs it.
const sfnLocalHeartbeat = 30 * time.Second

// SFNMaxHistoryEvents is Step Functions' history limit of a standard execution.
const SFNMaxHistoryEvents = 25000

// SFNStart is what StartStateMachine starts an execution with.
type SFNStart struct {
	Namespace    string
	WorkflowID   string
	WorkflowType string
	// LocalQueue is the activity task queue of Task states whose resource is not a Step
	// Functions activity (they are run by the node's local resource runner).
	LocalQueue string
	// RequestID makes the start idempotent: a start of the same workflow ID with the same
	// request ID while the execution runs returns it.
	RequestID string
	Identity  string

	Definition       string
	Input            string // JSON text
	ExecutionArn     string
	Name             string
	StateMachineArn  string
	StateMachineName string
	// VersionArn is the published version the execution was started from ("" for the
	// machine's latest revision).
	VersionArn string
	RoleArn    string
	Region     string
}

// sfnStartRecord is the "start" detail of the first marker: everything, beside the history's
// outcome events, that the decider's replay needs.
type sfnStartRecord struct {
	Definition       string    `json:"definition"`
	Input            string    `json:"input"`
	ExecutionArn     string    `json:"executionArn"`
	Name             string    `json:"name"`
	StateMachineArn  string    `json:"stateMachineArn"`
	StateMachineName string    `json:"stateMachineName"`
	VersionArn       string    `json:"versionArn,omitempty"`
	RoleArn          string    `json:"roleArn,omitempty"`
	Region           string    `json:"region,omitempty"`
	StartTime        time.Time `json:"startTime"`
	Seed             uint64    `json:"seed"`
	// MaxHistoryEvents is the history limit the execution runs under, fixed at its start so
	// that a node configured otherwise replays it the same way.
	MaxHistoryEvents int `json:"maxHistoryEvents,omitempty"`
}

// sfnInfo is the part of a Step Functions execution's mutable state the engine keeps beside the
// decider (which is never serialized: see the package comment above).
type sfnInfo struct {
	ExecutionArn    string `json:"arn"`
	StateMachineArn string `json:"sm"`
	Name            string `json:"name"`
	LocalQueue      string `json:"local"`
	// Tasks maps the scheduled event ID of each pending task activity to its command ID.
	Tasks map[int64]int64 `json:"tasks,omitempty"`
	// Recorded is how many Step Functions events the markers hold so far.
	Recorded int `json:"recorded"`
}

// sfnRun is a live decider cached with the mutable state.
type sfnRun struct {
	x     *asl.Execution
	start *sfnStartRecord
}

// CallbackToken is the task token of a .waitForTaskToken task: it names the run and the task's
// activity ID (its command ID), not an attempt, because it is handed out before any worker
// holds the task.
func CallbackToken(namespace, workflowID, runID string, commandID int64) []byte {
	return tasktoken.Encode(tasktoken.Token{Kind: tasktoken.Activity, Namespace: namespace, WorkflowID: workflowID, RunID: runID,
		ActivityID: strconv.FormatInt(commandID, 10)})
}

// StartStateMachine starts a Step Functions execution. started is false when an execution with
// this workflow ID and request ID is already running (the call then returns it); any other
// existing execution of the workflow ID is CodeAlreadyStarted.
func (e *Engine) StartStateMachine(ctx context.Context, s SFNStart) (runID string, startTime time.Time, started bool, err error) {
	if _, err := e.ns.get(ctx, s.Namespace); err != nil {
		return "", time.Time{}, false, err
	}
	m, diags := e.sfnCompile(s.Definition)
	if m == nil {
		msg := "invalid state machine definition"
		if len(diags) > 0 {
			msg = diags[0].Message
		}
		return "", time.Time{}, false, invalidArgument("%s", msg)
	}
	input, err := jsonv.Parse([]byte(s.Input))
	if err != nil {
		return "", time.Time{}, false, invalidArgument("execution input is not JSON: %v", err)
	}
	unlock := e.locks.Lock(lockKey(s.Namespace, s.WorkflowID))
	defer unlock()
	for try := 0; ; try++ {
		cur, err := e.store.GetCurrent(ctx, s.Namespace, s.WorkflowID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", time.Time{}, false, unavailable(err)
		}
		if cur != nil {
			running := cur.Status == int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
			if running && cur.StartRequestID == s.RequestID {
				return cur.RunID, cur.StartTime, false, nil
			}
			return "", time.Time{}, false, &Error{Code: CodeAlreadyStarted, Message: "Execution Already Exists: '" + s.ExecutionArn + "'",
				StartRequestID: cur.StartRequestID, RunID: cur.RunID}
		}
		spec := runSpec{
			Namespace: s.Namespace, WorkflowID: s.WorkflowID, WorkflowType: &commonpb.WorkflowType{Name: s.WorkflowType},
			TaskQueue: SFNTaskQueue, Input: sfnJSONPayloads([]byte(s.Input)), Identity: s.Identity, RequestID: s.RequestID, Attempt: 1,
			SFN: &sfnInfo{ExecutionArn: s.ExecutionArn, StateMachineArn: s.StateMachineArn, Name: s.Name, LocalQueue: s.LocalQueue},
		}
		spec.RunID = uuid.NewString()
		spec.FirstRunID = spec.RunID
		t := e.newRunTxn(spec, "") // no run of this workflow ID exists (checked above)
		rec := &sfnStartRecord{
			Definition: s.Definition, Input: s.Input, ExecutionArn: s.ExecutionArn, Name: s.Name,
			StateMachineArn: s.StateMachineArn, StateMachineName: s.StateMachineName, VersionArn: s.VersionArn, RoleArn: s.RoleArn, Region: s.Region,
			StartTime: t.now, Seed: rand.Uint64(), MaxHistoryEvents: e.sfnMaxHistory(),
		}
		x, cmds := m.Start(e.sfnConfig(t.ms, rec, input))
		run := &sfnRun{x: x, start: rec}
		t.ms.sfn = run
		if err := t.sfnStep(run, cmds, rec); err != nil {
			return "", time.Time{}, false, err
		}
		err = e.commitTxn(t)
		if (errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrConflict)) && try < maxConflictRetries {
			continue // another node started this workflow ID meanwhile: decide again
		}
		if err != nil {
			return "", time.Time{}, false, busy(err)
		}
		return spec.RunID, t.now, true, nil
	}
}

// sfnMachines caches compiled definitions by their text: a Machine is immutable and shared by
// its executions, and compiling dominated the start of a short execution.
type sfnMachines struct {
	mu sync.Mutex
	m  map[string]*asl.Machine
}

// sfnMachineCacheSize bounds the cache (a random entry goes when it is full).
const sfnMachineCacheSize = 256

func (e *Engine) sfnCompile(definition string) (*asl.Machine, []asl.Diagnostic) {
	c := &e.sfnMachines
	c.mu.Lock()
	m, ok := c.m[definition]
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	m, diags := asl.Compile([]byte(definition))
	if m == nil {
		return nil, diags
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*asl.Machine{}
	}
	if len(c.m) >= sfnMachineCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[definition] = m
	c.mu.Unlock()
	return m, diags
}

// sfnConfig is the decider's configuration of an execution.
func (e *Engine) sfnConfig(ms *mutableState, rec *sfnStartRecord, input any) asl.ExecutionConfig {
	ns, wid, rid := ms.Namespace, ms.WorkflowID, ms.RunID
	tokenFn := e.cfg.SFNTaskToken
	if rec.MaxHistoryEvents <= 0 {
		rec.MaxHistoryEvents = SFNMaxHistoryEvents
	}
	return asl.ExecutionConfig{
		ExecutionArn: rec.ExecutionArn, Name: rec.Name, StateMachineArn: rec.StateMachineArn, StateMachineName: rec.StateMachineName,
		RoleArn: rec.RoleArn, Input: input, StartTime: rec.StartTime, Seed: rec.Seed, Region: rec.Region,
		MaxHistoryEvents: max(rec.MaxHistoryEvents, 1),
		TaskToken: func(id int64) string {
			if tokenFn != nil {
				return tokenFn(CallbackToken(ns, wid, rid, id))
			}
			return string(CallbackToken(ns, wid, rid, id))
		},
	}
}

func (e *Engine) sfnMaxHistory() int {
	if n := e.cfg.SFNMaxHistoryEvents; n > 0 {
		return n
	}
	return SFNMaxHistoryEvents
}

// sfnDrive feeds the decider the outcomes this transition recorded (activity and timer events of
// its commands) and applies the commands they lead to. It runs when the transition is built.
func (t *txn) sfnDrive() error {
	ms := t.ms
	if !ms.open() {
		return nil
	}
	var outcomes []asl.Outcome
	for i := range t.sfnStarted {
		st := &t.sfnStarted[i]
		if id, ok := ms.SFN.Tasks[st.Sched]; ok {
			st.Command = id
			outcomes = append(outcomes, asl.Outcome{CommandID: id, Kind: asl.OutcomeStarted, Worker: st.Worker, Time: t.now})
		}
	}
	for _, ev := range t.events {
		if o, ok := t.sfnOutcome(ev, func(sched int64) (int64, bool) {
			id, ok := ms.SFN.Tasks[sched]
			if ok {
				delete(ms.SFN.Tasks, sched)
			}
			return id, ok
		}); ok {
			outcomes = append(outcomes, o)
		}
	}
	if len(outcomes) == 0 {
		return nil
	}
	run, err := t.sfnLoad()
	if err != nil {
		return err
	}
	var cmds []asl.Command
	for _, o := range outcomes {
		more, err := run.x.Apply(o)
		if errors.Is(err, asl.ErrUnknownCommand) || errors.Is(err, asl.ErrClosed) {
			continue
		}
		if err != nil {
			return internal(fmt.Errorf("step functions decider: %w", err))
		}
		cmds = append(cmds, more...)
	}
	if err := t.sfnStep(run, cmds, nil); err != nil {
		return err
	}
	return t.sfnStartedMarker()
}

// sfnTaskStart is a task activity a worker took in this transition: the decider records its
// Started event now, and the marker's "started" detail lets a replay feed the same outcome at
// the same point.
type sfnTaskStart struct {
	Sched   int64  `json:"-"`
	Command int64  `json:"command"`
	Worker  string `json:"worker,omitempty"`
}

// sfnStartedMarker records the transition's task starts in a marker (with the events they
// produced, if the step recorded none itself).
func (t *txn) sfnStartedMarker() error {
	var started []sfnTaskStart
	for _, st := range t.sfnStarted {
		if st.Command != 0 {
			started = append(started, st)
		}
	}
	if len(started) == 0 {
		return nil
	}
	b, err := json.Marshal(started)
	if err != nil {
		return internal(err)
	}
	// sfnStep appended the marker with the events of this step as the transition's last
	// event: add the starts to it, or write one of their own.
	if n := len(t.events); n > 0 {
		if a := t.events[n-1].GetMarkerRecordedEventAttributes(); a != nil && a.GetMarkerName() == SFNMarker {
			a.Details["started"] = sfnJSONPayloads(b)
			return nil
		}
	}
	t.appendEvent(&historypb.HistoryEvent{
		EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
		Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
			MarkerName: SFNMarker, Details: map[string]*commonpb.Payloads{"events": sfnJSONPayloads([]byte("[]")), "started": sfnJSONPayloads(b)},
		}},
	})
	return nil
}

// sfnOutcome turns a history event into the decider outcome it stands for. taskCommand maps an
// activity's scheduled event ID to its command ID.
func (t *txn) sfnOutcome(ev *historypb.HistoryEvent, taskCommand func(sched int64) (int64, bool)) (asl.Outcome, bool) {
	at := ev.GetEventTime().AsTime().UTC()
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		a := ev.GetActivityTaskCompletedEventAttributes()
		id, ok := taskCommand(a.GetScheduledEventId())
		if !ok {
			return asl.Outcome{}, false
		}
		out, err := payloadJSON(a.GetResult())
		if err != nil {
			return asl.Outcome{CommandID: id, Kind: asl.OutcomeFailed, Error: asl.ErrRuntime, Cause: "the task's result is not JSON: " + err.Error(), Time: at}, true
		}
		return asl.Outcome{CommandID: id, Kind: asl.OutcomeSucceeded, Output: out, Time: at}, true
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
		a := ev.GetActivityTaskFailedEventAttributes()
		id, ok := taskCommand(a.GetScheduledEventId())
		if !ok {
			return asl.Outcome{}, false
		}
		name, cause := failureErrorCause(a.GetFailure())
		return asl.Outcome{CommandID: id, Kind: asl.OutcomeFailed, Error: name, Cause: cause, Time: at}, true
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
		a := ev.GetActivityTaskTimedOutEventAttributes()
		id, ok := taskCommand(a.GetScheduledEventId())
		if !ok {
			return asl.Outcome{}, false
		}
		kind := asl.OutcomeTimedOut
		if a.GetFailure().GetTimeoutFailureInfo().GetTimeoutType() == enumspb.TIMEOUT_TYPE_HEARTBEAT {
			kind = asl.OutcomeHeartbeatTimedOut
		}
		return asl.Outcome{CommandID: id, Kind: kind, Time: at}, true
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
		a := ev.GetActivityTaskCanceledEventAttributes()
		id, ok := taskCommand(a.GetScheduledEventId())
		if !ok {
			return asl.Outcome{}, false
		}
		return asl.Outcome{CommandID: id, Kind: asl.OutcomeFailed, Error: asl.ErrTaskFailed, Cause: "the task was canceled", Time: at}, true
	case enumspb.EVENT_TYPE_TIMER_FIRED:
		id, err := strconv.ParseInt(ev.GetTimerFiredEventAttributes().GetTimerId(), 10, 64)
		if err != nil {
			return asl.Outcome{}, false
		}
		return asl.Outcome{CommandID: id, Kind: asl.OutcomeFired, Time: at}, true
	}
	return asl.Outcome{}, false
}

// failureErrorCause reads a Step Functions error name and cause from a Temporal failure: an
// application failure's type is the error, its message the cause (SendTaskFailure writes them so;
// a Temporal worker's ApplicationError reads the same way).
func failureErrorCause(f *failurepb.Failure) (string, string) {
	name := f.GetApplicationFailureInfo().GetType()
	if name == "" {
		name = asl.ErrTaskFailed
	}
	return name, f.GetMessage()
}

// sfnLoad returns the execution's live decider, replaying the persisted history on a cache miss.
func (t *txn) sfnLoad() (*sfnRun, error) {
	if t.ms.sfn != nil {
		return t.ms.sfn, nil
	}
	upTo := t.ms.NextEventID
	if len(t.events) > 0 {
		upTo = t.events[0].EventId
	}
	run, err := t.e.sfnReplay(t.ctx, t.ms, upTo)
	if err != nil {
		return nil, err
	}
	t.ms.sfn = run
	return run, nil
}

// sfnReplay rebuilds an execution's decider from its history events below upTo.
func (e *Engine) sfnReplay(ctx context.Context, ms *mutableState, upTo int64) (*sfnRun, error) {
	const page = 1000
	var (
		run   *sfnRun
		sched = map[int64]int64{}
	)
	t := &txn{e: e, ms: ms}
	for from := int64(1); from < upTo; {
		evs, err := e.store.ReadEvents(ctx, ms.Namespace, ms.RunID, from, upTo, page)
		if err != nil {
			return nil, unavailable(fmt.Errorf("read history for replay: %w", err))
		}
		if len(evs) == 0 {
			break
		}
		for _, se := range evs {
			from = se.EventID + 1
			ev := &historypb.HistoryEvent{}
			if err := proto.Unmarshal(se.Data, ev); err != nil {
				return nil, internal(fmt.Errorf("decode event %d: %w", se.EventID, err))
			}
			if run == nil {
				if ev.GetEventType() != enumspb.EVENT_TYPE_MARKER_RECORDED {
					continue
				}
				rec, err := sfnStartOf(ev)
				if err != nil {
					return nil, internal(err)
				}
				m, diags := e.sfnCompile(rec.Definition)
				if m == nil {
					return nil, internal(fmt.Errorf("replay: the recorded definition does not compile: %v", diags))
				}
				input, err := jsonv.Parse([]byte(rec.Input))
				if err != nil {
					return nil, internal(fmt.Errorf("replay: recorded input: %w", err))
				}
				x, cmds := m.Start(e.sfnConfig(ms, rec, input))
				run = &sfnRun{x: x, start: rec}
				if _, err := sfnAutoFeed(x, cmds); err != nil {
					return nil, err
				}
				continue
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_MARKER_RECORDED {
				if err := sfnReplayStarts(run.x, ev); err != nil {
					return nil, err
				}
				continue
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED {
				if id, err := strconv.ParseInt(ev.GetActivityTaskScheduledEventAttributes().GetActivityId(), 10, 64); err == nil {
					sched[ev.EventId] = id
				}
				continue
			}
			o, ok := t.sfnOutcome(ev, func(s int64) (int64, bool) {
				id, ok := sched[s]
				delete(sched, s)
				return id, ok
			})
			if !ok {
				continue
			}
			cmds, err := run.x.Apply(o)
			if errors.Is(err, asl.ErrUnknownCommand) || errors.Is(err, asl.ErrClosed) {
				continue
			}
			if err != nil {
				return nil, internal(fmt.Errorf("replay: %w", err))
			}
			if _, err := sfnAutoFeed(run.x, cmds); err != nil {
				return nil, err
			}
		}
	}
	if run == nil {
		return nil, internal(fmt.Errorf("replay: execution %s has no %s start marker", ms.WorkflowID, SFNMarker))
	}
	return run, nil
}

// sfnReplayStarts feeds a replayed decider the task starts a marker recorded.
func sfnReplayStarts(x *asl.Execution, ev *historypb.HistoryEvent) error {
	p := ev.GetMarkerRecordedEventAttributes().GetDetails()["started"].GetPayloads()
	if len(p) == 0 {
		return nil
	}
	var started []sfnTaskStart
	if err := json.Unmarshal(p[0].GetData(), &started); err != nil {
		return internal(fmt.Errorf("replay: decode the task starts of marker %d: %w", ev.GetEventId(), err))
	}
	for _, st := range started {
		_, err := x.Apply(asl.Outcome{CommandID: st.Command, Kind: asl.OutcomeStarted, Worker: st.Worker, Time: ev.GetEventTime().AsTime().UTC()})
		if err != nil && !errors.Is(err, asl.ErrUnknownCommand) && !errors.Is(err, asl.ErrClosed) {
			return internal(fmt.Errorf("replay: %w", err))
		}
	}
	return nil
}

// sfnStartOf reads the start record of an execution's first marker.
func sfnStartOf(ev *historypb.HistoryEvent) (*sfnStartRecord, error) {
	a := ev.GetMarkerRecordedEventAttributes()
	if a.GetMarkerName() != SFNMarker {
		return nil, fmt.Errorf("event %d is not a %s marker", ev.GetEventId(), SFNMarker)
	}
	p := a.GetDetails()["start"].GetPayloads()
	if len(p) == 0 {
		return nil, fmt.Errorf("marker %d has no start record", ev.GetEventId())
	}
	rec := &sfnStartRecord{}
	if err := json.Unmarshal(p[0].GetData(), rec); err != nil {
		return nil, fmt.Errorf("decode start record: %w", err)
	}
	return rec, nil
}

// sfnAutoFeed answers, at once, the commands the engine does not run (a distributed Map's child
// executions and item I/O), and returns the rest in order. The answer depends only on the
// command, so a replay feeds the same outcomes at the same points.
func sfnAutoFeed(x *asl.Execution, cmds []asl.Command) ([]asl.Command, error) {
	var out []asl.Command
	for len(cmds) > 0 {
		c := cmds[0]
		cmds = cmds[1:]
		switch c.Kind {
		case asl.CommandStartChild, asl.CommandReadItems, asl.CommandWriteResults:
			more, err := x.Apply(asl.Outcome{CommandID: c.ID, Kind: asl.OutcomeFailed, Error: asl.ErrRuntime,
				Cause: "Duro does not run distributed Map states (ItemReader, ResultWriter, Mode DISTRIBUTED) yet"})
			if err != nil && !errors.Is(err, asl.ErrClosed) && !errors.Is(err, asl.ErrUnknownCommand) {
				return nil, internal(fmt.Errorf("step functions decider: %w", err))
			}
			cmds = append(more, cmds...)
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

// sfnStep records the Step Functions events the decider produced since the last marker, then the
// events and rows of its commands. rec is the start record on the execution's first step.
func (t *txn) sfnStep(run *sfnRun, cmds []asl.Command, rec *sfnStartRecord) error {
	cmds, err := sfnAutoFeed(run.x, cmds)
	if err != nil {
		return err
	}
	if err := t.sfnMarker(run.x.History(), rec, nil); err != nil {
		return err
	}
	for _, c := range cmds {
		if !t.ms.open() {
			break
		}
		if err := t.sfnCommand(c); err != nil {
			return err
		}
	}
	return nil
}

// sfnMarker appends a marker with the Step Functions events not yet recorded (from history, and
// extra ones rendered by the engine itself, such as ExecutionAborted).
func (t *txn) sfnMarker(history []asl.Event, rec *sfnStartRecord, extra []*jsonv.Object) error {
	info := t.ms.SFN
	var arr []any
	for i := info.Recorded; i < len(history); i++ {
		arr = append(arr, history[i].JSON())
	}
	for _, o := range extra {
		arr = append(arr, o)
	}
	if len(arr) == 0 && rec == nil {
		return nil
	}
	info.Recorded += len(arr)
	for first := true; first || len(arr) > 0; first = false {
		chunk := arr[:min(len(arr), sfnMarkerChunk)]
		arr = arr[len(chunk):]
		if chunk == nil {
			chunk = []any{}
		}
		details := map[string]*commonpb.Payloads{"events": sfnJSONPayloads(jsonv.Marshal(chunk))}
		if rec != nil && first {
			b, err := json.Marshal(rec)
			if err != nil {
				return internal(err)
			}
			details["start"] = sfnJSONPayloads(b)
		}
		t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
			Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				MarkerName: SFNMarker, Details: details,
			}},
		})
	}
	return nil
}

// sfnMarkerChunk bounds the Step Functions events one marker holds, so that a page of
// GetExecutionHistory decodes a few small markers, not one huge one (a 10,000-item Map records
// 40,000 events in one step).
const sfnMarkerChunk = 256

// sfnCommand carries out one decider command inside the transition.
func (t *txn) sfnCommand(c asl.Command) error {
	ms := t.ms
	switch c.Kind {
	case asl.CommandRunTask:
		return t.sfnTask(c.ID, c.Task)
	case asl.CommandStartTimer:
		id := strconv.FormatInt(c.ID, 10)
		d := c.Timer.FireAt.Sub(t.now)
		if d < time.Millisecond {
			d = time.Millisecond // due already (a Wait until a past timestamp): fire on the next scan
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_TIMER_STARTED,
			Attributes: &historypb.HistoryEvent_TimerStartedEventAttributes{TimerStartedEventAttributes: &historypb.TimerStartedEventAttributes{
				TimerId: id, StartToFireTimeout: durationpb.New(d),
			}},
		})
		ti := &timerInfo{TimerID: id, StartedEventID: ev.EventId, FireTime: t.now.Add(d)}
		if ms.Timers == nil {
			ms.Timers = map[string]*timerInfo{}
		}
		ms.Timers[id] = ti
		t.addTimer(timerUser, ti.FireTime, ti.StartedEventID, 0, id)
	case asl.CommandCancel:
		id := strconv.FormatInt(c.CancelID, 10)
		if ti := ms.Timers[id]; ti != nil {
			delete(ms.Timers, id)
			t.appendEvent(&historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_TIMER_CANCELED,
				Attributes: &historypb.HistoryEvent_TimerCanceledEventAttributes{TimerCanceledEventAttributes: &historypb.TimerCanceledEventAttributes{
					TimerId: id, StartedEventId: ti.StartedEventID,
				}},
			})
			return nil
		}
		for sched, cmd := range ms.SFN.Tasks {
			if cmd == c.CancelID {
				// The outcome will be ignored: forget the activity, so a worker still holding it
				// is told NotFound and its rows are dropped as stale when they come due.
				delete(ms.SFN.Tasks, sched)
				delete(ms.Activities, sched)
			}
		}
	case asl.CommandComplete:
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{
				Result: sfnJSONPayloads(jsonv.Marshal(c.Output)),
			}},
		})
		t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, ev.EventId)
	case asl.CommandFail:
		if c.TimedOut {
			ev := t.appendEvent(&historypb.HistoryEvent{
				EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
				Attributes: &historypb.HistoryEvent_WorkflowExecutionTimedOutEventAttributes{WorkflowExecutionTimedOutEventAttributes: &historypb.WorkflowExecutionTimedOutEventAttributes{
					RetryState: enumspb.RETRY_STATE_TIMEOUT,
				}},
			})
			t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT, ev.EventId)
			return nil
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionFailedEventAttributes{WorkflowExecutionFailedEventAttributes: &historypb.WorkflowExecutionFailedEventAttributes{
				Failure: sfnFailure(c.Error, c.Cause), RetryState: enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET,
			}},
		})
		t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, ev.EventId)
	}
	return nil
}

// sfnFailure is a Step Functions error as a Temporal failure (type = error, message = cause).
func sfnFailure(name, cause string) *failurepb.Failure {
	return &failurepb.Failure{Message: cause, Source: SFNMarker, FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
		ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: name, NonRetryable: true}}}
}

// SFNFailure is the failure SendTaskFailure records for a task: error and cause as Step
// Functions names them.
func SFNFailure(name, cause string) *failurepb.Failure { return sfnFailure(name, cause) }

// sfnActivityQueue returns the task queue of a Task state's resource: a Step Functions activity
// ARN (arn:aws:states:REGION:ACCOUNT:activity:NAME) runs on the queue NAME, with activity type
// NAME, so Temporal workers can serve it; any other resource runs on the local queue with its
// resource string as the activity type.
func sfnActivityQueue(resource, local string) (queue, activityType string) {
	if parts := strings.Split(resource, ":"); len(parts) == 7 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "activity" && parts[6] != "" {
		return parts[6], parts[6]
	}
	return local, resource
}

// sfnTask schedules one attempt of a Task state as a one-attempt activity (the decider owns
// retries). The activity ID is the command ID.
func (t *txn) sfnTask(id int64, tc *asl.TaskCommand) error {
	ms := t.ms
	queue, typ := sfnActivityQueue(tc.Resource, ms.SFN.LocalQueue)
	timeout := time.Duration(tc.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = sfnNoTimeout
	}
	hb := time.Duration(tc.HeartbeatSeconds) * time.Second
	if hb > timeout {
		hb = timeout
	}
	maxAttempts, nonRetryable := int32(1), []string(nil)
	if queue == ms.SFN.LocalQueue && tc.Token == "" {
		// The node's local runner heartbeats while it runs the resource. If the node dies, the
		// heartbeat times out and the attempt is handed out again: redelivery of an attempt that
		// never finished, not a Step Functions retry (the resource's own failures and the
		// state's TimeoutSeconds are final, and the decider's Retry applies to them).
		if hb <= 0 {
			hb = min(sfnLocalHeartbeat, timeout)
		}
		maxAttempts, nonRetryable = 0, []string{"TemporalTimeout:StartToClose"}
	}
	rp := &commonpb.RetryPolicy{InitialInterval: durationpb.New(time.Second), BackoffCoefficient: 2, MaximumInterval: durationpb.New(100 * time.Second),
		MaximumAttempts: maxAttempts, NonRetryableErrorTypes: nonRetryable}
	attrs := &historypb.ActivityTaskScheduledEventAttributes{
		ActivityId:             strconv.FormatInt(id, 10),
		ActivityType:           &commonpb.ActivityType{Name: typ},
		TaskQueue:              &taskqueuepb.TaskQueue{Name: queue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		Input:                  sfnJSONPayloads(jsonv.Marshal(tc.Input)),
		ScheduleToCloseTimeout: durationpb.New(timeout),
		ScheduleToStartTimeout: durationpb.New(timeout),
		StartToCloseTimeout:    durationpb.New(timeout),
		HeartbeatTimeout:       durationpb.New(hb),
		RetryPolicy:            rp,
	}
	ai, err := t.addActivity(attrs)
	if err != nil {
		return err
	}
	ai.Callback = tc.Token != ""
	if ms.SFN.Tasks == nil {
		ms.SFN.Tasks = map[int64]int64{}
	}
	ms.SFN.Tasks[ai.ScheduledEventID] = id
	return nil
}

// StopStateMachine aborts a running execution with an error and cause (StopExecution): the
// markers record ExecutionAborted and the run is terminated. It returns the stop time; a run
// that has already ended is left as it is and its close time returned. CodeNotFound if there
// is no such run.
func (e *Engine) StopStateMachine(ctx context.Context, namespace, workflowID, runID, errName, cause, identity string) (time.Time, error) {
	var stopped time.Time
	err := e.update(ctx, execKey{namespace, workflowID, runID}, func(t *txn) error {
		ms := t.ms
		if ms.SFN == nil {
			return invalidArgument("workflow %q is not a Step Functions execution", workflowID)
		}
		if !ms.open() {
			stopped = ms.CloseTime
			return errNoChange
		}
		stopped = t.now
		if err := t.sfnAbortMarker(errName, cause); err != nil {
			return err
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionTerminatedEventAttributes{WorkflowExecutionTerminatedEventAttributes: &historypb.WorkflowExecutionTerminatedEventAttributes{
				Reason: cause, Details: sfnJSONPayloads(jsonv.Marshal(sfnErrorDetails(errName, cause))), Identity: identity,
			}},
		})
		t.closeRun(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, ev.EventId)
		return nil
	})
	return stopped, err
}

func sfnErrorDetails(errName, cause string) *jsonv.Object {
	o := jsonv.NewObject()
	if errName != "" {
		o.Set("error", errName)
	}
	if cause != "" {
		o.Set("cause", cause)
	}
	return o
}

// sfnAbortMarker records ExecutionAborted, the Step Functions event of a stopped (or terminated)
// execution, after the events recorded so far.
// Every step records all the decider's events, so the next event ID follows the markers' count.
func (t *txn) sfnAbortMarker(errName, cause string) error {
	id := int64(t.ms.SFN.Recorded + 1)
	o := jsonv.NewObject()
	o.Set("timestamp", jsonv.NumberFromFloat(float64(t.now.UnixMilli())/1000))
	o.Set("type", "ExecutionAborted")
	o.Set("id", jsonv.NumberFromInt(id))
	o.Set("previousEventId", jsonv.NumberFromInt(id-1))
	o.Set("executionAbortedEventDetails", sfnErrorDetails(errName, cause))
	return t.sfnMarker(nil, nil, []*jsonv.Object{o})
}

// sfnJSONPayloads is one json/plain payload holding data.
func sfnJSONPayloads(data []byte) *commonpb.Payloads {
	return &commonpb.Payloads{Payloads: []*commonpb.Payload{sfnJSONPayload(data)}}
}

func sfnJSONPayload(data []byte) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: data}
}

// payloadJSON reads the JSON value of a task result: a json/plain payload, or null for none.
func payloadJSON(p *commonpb.Payloads) (any, error) {
	if len(p.GetPayloads()) == 0 {
		return nil, nil
	}
	first := p.GetPayloads()[0]
	if string(first.GetMetadata()["encoding"]) == "binary/null" || len(first.GetData()) == 0 {
		return nil, nil
	}
	return jsonv.Parse(first.GetData())
}
