package asl

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/duro-dev/duro/asl/jsonv"
)

// ExecutionConfig is what an execution is started with. Everything the decider would otherwise
// take from the outside world (time, randomness) is here or in each [Outcome].
type ExecutionConfig struct {
	// ExecutionArn and Name identify the execution ($$.Execution.Id and .Name).
	ExecutionArn string
	Name         string
	// StateMachineArn and StateMachineName identify the machine ($$.StateMachine.Id and .Name).
	StateMachineArn  string
	StateMachineName string
	// RoleArn is $$.Execution.RoleArn.
	RoleArn string
	// Input is the execution input (a jsonv value); nil means {}.
	Input any
	// StartTime is the time of the start step.
	StartTime time.Time
	// Seed drives every random choice (retry jitter, States.MathRandom, States.UUID, $random,
	// $uuid) through a deterministic generator, so replaying an execution draws the same numbers.
	Seed uint64
	// RedriveCount is $$.Execution.RedriveCount.
	RedriveCount int
	// TaskToken returns the token of a task command ($$.Task.Token); nil uses a token derived from
	// the execution ARN and the command ID.
	TaskToken func(commandID int64) string
	// Region is reported in TaskScheduled events.
	Region string
	// MaxHistoryEvents fails the execution with States.Runtime when a state is entered while its
	// history holds this many events or more (the history then ends one exit and one
	// ExecutionFailed later). It is Step Functions' history limit (the engine passes its own) and
	// bounds the work of a definition that loops without ever waiting. 0 means
	// DefaultMaxHistoryEvents.
	MaxHistoryEvents int
	// MaxPendingTasks bounds the task commands outstanding at once; further tasks wait, in the
	// order they were reached, until one ends. 0 means DefaultMaxPendingTasks.
	MaxPendingTasks int
}

// DefaultMaxPendingTasks is the pending-task bound when ExecutionConfig.MaxPendingTasks is 0:
// Temporal's default limit on pending activities (DESIGN.md, Limits).
const DefaultMaxPendingTasks = 2000

// DefaultMaxHistoryEvents is the history limit when ExecutionConfig.MaxHistoryEvents is 0. It is
// a safety bound for the decider; engines and APIs apply their own, smaller limits.
const DefaultMaxHistoryEvents = 1_000_000

// Status is an execution's status.
type Status string

// Execution statuses, as Step Functions names them.
const (
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusTimedOut  Status = "TIMED_OUT"
)

// CommandKind says what a [Command] asks for.
type CommandKind int

// Command kinds.
const (
	// CommandRunTask runs one attempt of a Task state's resource.
	CommandRunTask CommandKind = iota + 1
	// CommandStartTimer fires at Timer.FireAt (a Wait state, a retry backoff or the execution timeout).
	CommandStartTimer
	// CommandStartChild starts a child execution (an iteration of a distributed Map).
	CommandStartChild
	// CommandReadItems reads a distributed Map's items through its ItemReader.
	CommandReadItems
	// CommandWriteResults writes a distributed Map's results through its ResultWriter.
	CommandWriteResults
	// CommandCancel cancels the pending command CancelID; its outcome, if any, will be ignored.
	CommandCancel
	// CommandComplete ends the execution successfully with Output.
	CommandComplete
	// CommandFail ends the execution with Error and Cause (TimedOut when the execution timed out).
	CommandFail
)

// Command is one thing the decider asks its driver to do. IDs are unique within an execution and
// increase in emission order.
type Command struct {
	ID       int64
	Kind     CommandKind
	Task     *TaskCommand
	Timer    *TimerCommand
	Child    *ChildCommand
	IO       *IOCommand
	CancelID int64
	Output   any
	Error    string
	Cause    string
	TimedOut bool
}

// TaskCommand is a task to run once (the decider owns retries).
type TaskCommand struct {
	StateName        string
	Resource         string
	Input            any
	TimeoutSeconds   int64 // 0: none
	HeartbeatSeconds int64 // 0: none
	Token            string
	Credentials      any
	Attempt          int // 1 for the first attempt
}

// Timer purposes.
const (
	TimerWait             = "Wait"
	TimerRetry            = "Retry"
	TimerExecutionTimeout = "ExecutionTimeout"
)

// TimerCommand is a durable timer.
type TimerCommand struct {
	FireAt    time.Time
	Purpose   string
	StateName string
}

// ChildCommand starts a child execution of Machine with Input.
type ChildCommand struct {
	StateName string
	Name      string
	Index     int
	Machine   *Machine
	Input     any
}

// IOCommand is an ItemReader read (Items nil) or a ResultWriter write (Items set).
type IOCommand struct {
	StateName  string
	Resource   string
	Parameters any
	Config     any
	Items      []any
}

// OutcomeKind says how a command ended.
type OutcomeKind int

// Outcome kinds.
const (
	// OutcomeSucceeded: a task, child or I/O command succeeded with Output.
	OutcomeSucceeded OutcomeKind = iota + 1
	// OutcomeFailed: it failed with Error and Cause.
	OutcomeFailed
	// OutcomeTimedOut: a task ran past its TimeoutSeconds.
	OutcomeTimedOut
	// OutcomeHeartbeatTimedOut: a task sent no heartbeat within HeartbeatSeconds.
	OutcomeHeartbeatTimedOut
	// OutcomeFired: a timer fired.
	OutcomeFired
	// OutcomeStarted: a worker took a task (Worker names it); the task is still pending. It
	// records the task's Started event at that moment instead of with the outcome.
	OutcomeStarted
)

// Outcome is the result of a command, fed back with [Execution.Apply].
type Outcome struct {
	CommandID int64
	Kind      OutcomeKind
	Output    any
	Error     string
	Cause     string
	// Time is when the outcome happened; it becomes the decider's "now" for this step.
	Time time.Time
	// Worker is the worker that took the task (OutcomeStarted), as GetActivityTask names it.
	Worker string
}

// ErrUnknownCommand is returned by Apply for an outcome of a command that is not pending (already
// completed, cancelled or never issued). The execution is unchanged.
var ErrUnknownCommand = errors.New("no pending command with this ID")

// ErrClosed is returned by Apply once the execution has ended.
var ErrClosed = errors.New("the execution has ended")

type waitKind int

const (
	waitTask waitKind = iota
	waitTimer
	waitRetry
	waitChild
	waitIO
	waitExecTimeout
)

type waiter struct {
	kind  waitKind
	th    *thread
	comp  *composite
	index int
}

// Execution is one run of a machine, as a deterministic decider. It is not safe for concurrent
// use; a driver feeds it one outcome at a time.
type Execution struct {
	m   *Machine
	cfg ExecutionConfig
	now time.Time
	rng *rand.Rand

	nextID  int64
	waiters map[int64]*waiter
	queue   []func()
	cmds    []Command
	events  []Event

	status  Status
	output  any
	errName string
	cause   string
	timerID int64
	root    *thread
	execCtx *jsonv.Object
	stmCtx  *jsonv.Object

	tasksRunning int
	taskQueue    []queuedTask
	queued       map[int64]bool // IDs of task commands held in taskQueue
}

// Start begins an execution and returns it with its first commands.
func (m *Machine) Start(cfg ExecutionConfig) (*Execution, []Command) {
	if cfg.Input == nil {
		cfg.Input = jsonv.NewObject()
	}
	if cfg.MaxHistoryEvents <= 0 {
		cfg.MaxHistoryEvents = DefaultMaxHistoryEvents
	}
	if cfg.MaxPendingTasks <= 0 {
		cfg.MaxPendingTasks = DefaultMaxPendingTasks
	}
	x := &Execution{
		m:       m,
		cfg:     cfg,
		now:     cfg.StartTime,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		waiters: map[int64]*waiter{},
		queued:  map[int64]bool{},
		status:  StatusRunning,
	}
	x.buildContext()
	started := x.record(0, "ExecutionStarted", "executionStartedEventDetails",
		jsonField("input", cfg.Input), field("inputDetails", truncatedFalse()), field("roleArn", cfg.RoleArn))
	if m.timeoutSeconds > 0 {
		x.timerID = x.emitTimer(cfg.StartTime.Add(time.Duration(m.timeoutSeconds)*time.Second), TimerExecutionTimeout, "",
			&waiter{kind: waitExecTimeout})
	}
	x.root = &thread{body: m.top, scope: newScope(nil), prev: started}
	th := x.root
	x.push(th, func() { x.enter(th, th.body.startAt, cfg.Input) })
	x.safeDrain()
	return x, x.takeCommands()
}

// safeDrain runs the queued work; an interpreter bug fails the execution, never the caller.
func (x *Execution) safeDrain() {
	defer func() {
		if r := recover(); r != nil {
			x.queue = x.queue[:0]
			if x.status == StatusRunning {
				x.failExecution(x.root, &StateError{Name: ErrRuntime, Cause: fmt.Sprintf("internal error: %v", r)}, false)
			}
		}
	}()
	x.drain()
}

// Replay rebuilds an execution from its start configuration and the outcomes it was fed, in the
// order they were fed. Because the decider is deterministic, the result is the execution as it
// was after the last of them, with the same history and the same pending commands; this is how an
// engine resumes an execution from its persisted history.
func (m *Machine) Replay(cfg ExecutionConfig, outcomes []Outcome) (*Execution, error) {
	x, _ := m.Start(cfg)
	for i, o := range outcomes {
		if _, err := x.Apply(o); err != nil {
			return nil, fmt.Errorf("replay outcome %d (command %d): %w", i, o.CommandID, err)
		}
	}
	return x, nil
}

// Apply feeds one outcome and returns the commands it leads to.
func (x *Execution) Apply(o Outcome) ([]Command, error) {
	if x.status != StatusRunning {
		return nil, ErrClosed
	}
	w, ok := x.waiters[o.CommandID]
	if !ok || x.queued[o.CommandID] {
		return nil, fmt.Errorf("outcome for command %d: %w", o.CommandID, ErrUnknownCommand)
	}
	if o.Kind == OutcomeStarted {
		if w.kind != waitTask {
			return nil, fmt.Errorf("started outcome for command %d, which is not a task: %w", o.CommandID, ErrUnknownCommand)
		}
		if o.Time.After(x.now) {
			x.now = o.Time
		}
		x.queue = append(x.queue[:0], func() { x.onTaskStarted(w.th, o) })
		x.safeDrain()
		return x.takeCommands(), nil
	}
	delete(x.waiters, o.CommandID)
	if o.Time.After(x.now) {
		x.now = o.Time
	}
	x.queue = append(x.queue[:0], func() { x.dispatch(w, o) })
	x.safeDrain()
	return x.takeCommands(), nil
}

// dispatch hands an outcome to whatever waits for it.
func (x *Execution) dispatch(w *waiter, o Outcome) {
	switch w.kind {
	case waitTask:
		x.taskEnded()
		x.onTaskOutcome(w.th, o)
	case waitTimer:
		th := w.th
		x.push(th, func() { x.waitFired(th) })
	case waitRetry:
		th := w.th
		x.push(th, func() { x.runState(th) })
	case waitChild:
		x.onChildOutcome(w.comp, w.index, o)
	case waitIO:
		x.onIOOutcome(w.th, o)
	case waitExecTimeout:
		x.timerID = 0
		x.timeOut()
	}
}

// Status returns the execution's status.
func (x *Execution) Status() Status { return x.status }

// Output returns the final output of a succeeded execution.
func (x *Execution) Output() any { return x.output }

// Error returns the error name and cause of a failed or timed-out execution.
func (x *Execution) Error() (name, cause string) { return x.errName, x.cause }

// History returns the events recorded so far. The slice must not be modified.
func (x *Execution) History() []Event { return x.events }

// Pending returns how many issued commands the execution waits on (tasks held back by
// MaxPendingTasks are not issued yet and do not count).
func (x *Execution) Pending() int { return len(x.waiters) - len(x.queued) }

func (x *Execution) takeCommands() []Command {
	c := x.cmds
	x.cmds = nil
	return c
}

// push queues work for a thread; it is skipped if the thread has been cancelled meanwhile.
func (x *Execution) push(th *thread, fn func()) {
	x.queue = append(x.queue, func() {
		if !th.dead {
			fn()
		}
	})
}

func (x *Execution) drain() {
	for i := 0; i < len(x.queue); i++ {
		if x.status != StatusRunning {
			break
		}
		x.queue[i]()
		x.queue[i] = nil
	}
	x.queue = x.queue[:0]
}

func (x *Execution) newID() int64 {
	x.nextID++
	return x.nextID
}

func (x *Execution) emit(c Command) {
	x.cmds = append(x.cmds, c)
}

func (x *Execution) emitTimer(at time.Time, purpose, stateName string, w *waiter) int64 {
	id := x.newID()
	x.waiters[id] = w
	x.emit(Command{ID: id, Kind: CommandStartTimer, Timer: &TimerCommand{FireAt: at, Purpose: purpose, StateName: stateName}})
	return id
}

func (x *Execution) cancelCommand(id int64) {
	w, ok := x.waiters[id]
	if !ok {
		return
	}
	delete(x.waiters, id)
	if x.queued[id] { // never issued: nothing to cancel outside
		delete(x.queued, id)
		return
	}
	if w.kind == waitTask {
		x.taskEnded()
	}
	x.emit(Command{ID: x.newID(), Kind: CommandCancel, CancelID: id})
}

// random draws from the execution's deterministic generator.
func (x *Execution) random() float64 { return x.rng.Float64() }

// uuid draws a version 4 UUID from the execution's deterministic generator.
func (x *Execution) uuid() string {
	var b [16]byte
	hi, lo := x.rng.Uint64(), x.rng.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (x *Execution) succeedExecution(th *thread, output any) {
	x.status = StatusSucceeded
	x.output = output
	x.record(th.prev, "ExecutionSucceeded", "executionSucceededEventDetails",
		jsonField("output", output), field("outputDetails", truncatedFalse()))
	x.cancelAll()
	x.emit(Command{ID: x.newID(), Kind: CommandComplete, Output: output})
}

func (x *Execution) failExecution(th *thread, e *StateError, timedOut bool) {
	typ, key := "ExecutionFailed", "executionFailedEventDetails"
	x.status = StatusFailed
	if timedOut {
		typ, key = "ExecutionTimedOut", "executionTimedOutEventDetails"
		x.status = StatusTimedOut
	}
	x.errName, x.cause = e.Name, e.Cause
	prev := int64(0)
	if th != nil {
		prev = th.prev
	}
	x.record(prev, typ, key, field("error", e.Name), field("cause", e.Cause))
	x.cancelAll()
	x.emit(Command{ID: x.newID(), Kind: CommandFail, Error: e.Name, Cause: e.Cause, TimedOut: timedOut})
}

// cancelAll cancels every pending command, in ID order so replays emit the same commands.
func (x *Execution) cancelAll() {
	if len(x.waiters) == 0 {
		return
	}
	ids := make([]int64, 0, len(x.waiters))
	for id := range x.waiters {
		ids = append(ids, id)
	}
	sortInt64(ids)
	for _, id := range ids {
		x.cancelCommand(id)
	}
}

func sortInt64(a []int64) {
	// insertion sort is enough: pending sets are small (bounded by Map concurrency)
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func (x *Execution) timeOut() {
	x.markDead(x.root)
	x.failExecution(x.lastThread(), &StateError{Name: ErrTimeout, Cause: "The execution ran longer than its TimeoutSeconds"}, true)
}

func (x *Execution) lastThread() *thread {
	return &thread{prev: int64(len(x.events))}
}

func (x *Execution) markDead(th *thread) {
	th.dead = true
	if th.comp != nil {
		for _, c := range th.comp.threads {
			x.markDead(c)
		}
	}
}
