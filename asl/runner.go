package asl

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"
)

// TaskResult is how a task attempt ended, as a [TaskExecutor] reports it.
type TaskResult struct {
	Output            any
	Error             string // non-empty: the task failed with this error name
	Cause             string
	TimedOut          bool
	HeartbeatTimedOut bool
}

// TaskExecutor runs one attempt of a task. The context carries the task's TimeoutSeconds as a
// deadline when it has one.
type TaskExecutor interface {
	RunTask(ctx context.Context, t *TaskCommand) TaskResult
}

// TaskFunc adapts a function to [TaskExecutor].
type TaskFunc func(ctx context.Context, t *TaskCommand) TaskResult

// RunTask calls f.
func (f TaskFunc) RunTask(ctx context.Context, t *TaskCommand) TaskResult { return f(ctx, t) }

// IOFunc serves a distributed Map's ItemReader (c.Items nil) or ResultWriter (c.Items set).
type IOFunc func(ctx context.Context, c *IOCommand) TaskResult

// Clock is the runner's time: what now is, and how to wait for a timer.
type Clock interface {
	Now() time.Time
	// SleepUntil returns once the clock reads t or later, or when ctx ends.
	SleepUntil(ctx context.Context, t time.Time) error
}

// VirtualClock is a clock that jumps straight to each timer, so waits take no real time while
// the history still shows them.
type VirtualClock struct{ T time.Time }

// Now returns the clock's time.
func (c *VirtualClock) Now() time.Time { return c.T }

// SleepUntil moves the clock to t if t is later.
func (c *VirtualClock) SleepUntil(_ context.Context, t time.Time) error {
	if t.After(c.T) {
		c.T = t
	}
	return nil
}

// Runner drives an [Execution] in memory: it runs tasks through Tasks one at a time in the order
// the decider issued them, fires timers in time order on Clock, runs distributed Map children as
// nested executions and feeds every outcome back. It is what `duro asl run` and the tests use; the
// engine drives executions durably instead.
type Runner struct {
	Tasks        TaskExecutor
	Clock        Clock // nil: a VirtualClock starting at Config.StartTime
	ItemReader   IOFunc
	ResultWriter IOFunc
	// MaxSteps bounds the outcomes fed to one execution (0: 10,000,000), so a definition that
	// loops forever on a virtual clock ends with an error instead of hanging.
	MaxSteps int
}

// ErrStuck is returned when an execution waits for nothing the runner can deliver.
var ErrStuck = errors.New("the execution is waiting but nothing is pending")

// ErrTooManySteps is returned when an execution exceeds Runner.MaxSteps.
var ErrTooManySteps = errors.New("the execution exceeded the runner's step limit")

// Run starts m with cfg and drives it to its end. It returns the finished execution; an error
// means the runner could not finish it (context ended, step limit, stuck).
func (r *Runner) Run(ctx context.Context, m *Machine, cfg ExecutionConfig) (*Execution, error) {
	clk := r.Clock
	if clk == nil {
		clk = &VirtualClock{T: cfg.StartTime}
	}
	if cfg.StartTime.IsZero() {
		cfg.StartTime = clk.Now()
	}
	maxSteps := r.MaxSteps
	if maxSteps == 0 {
		maxSteps = 10_000_000
	}
	x, cmds := m.Start(cfg)
	d := &drive{r: r, clk: clk, x: x, cancelled: map[int64]bool{}, cfg: cfg}
	d.take(cmds)
	for steps := 0; x.Status() == StatusRunning; steps++ {
		if steps >= maxSteps {
			return x, ErrTooManySteps
		}
		if err := ctx.Err(); err != nil {
			return x, fmt.Errorf("run state machine: %w", err)
		}
		o, ok, err := d.nextOutcome(ctx)
		if err != nil {
			return x, err
		}
		if !ok {
			return x, ErrStuck
		}
		cmds, err := x.Apply(o)
		if err != nil {
			if errors.Is(err, ErrUnknownCommand) {
				continue
			}
			return x, fmt.Errorf("apply outcome: %w", err)
		}
		d.take(cmds)
	}
	return x, nil
}

type drive struct {
	r         *Runner
	clk       Clock
	x         *Execution
	cfg       ExecutionConfig
	work      []Command // tasks, children and I/O, in issue order
	timers    timerHeap
	cancelled map[int64]bool
}

func (d *drive) take(cmds []Command) {
	for _, c := range cmds {
		switch c.Kind {
		case CommandRunTask, CommandStartChild, CommandReadItems, CommandWriteResults:
			d.work = append(d.work, c)
		case CommandStartTimer:
			heap.Push(&d.timers, c)
		case CommandCancel:
			d.cancelled[c.CancelID] = true
		}
	}
}

func (d *drive) nextOutcome(ctx context.Context) (Outcome, bool, error) {
	for len(d.work) > 0 {
		c := d.work[0]
		d.work = d.work[1:]
		if d.cancelled[c.ID] {
			delete(d.cancelled, c.ID)
			continue
		}
		return d.perform(ctx, c)
	}
	for d.timers.Len() > 0 {
		c := heap.Pop(&d.timers).(Command)
		if d.cancelled[c.ID] {
			delete(d.cancelled, c.ID)
			continue
		}
		if err := d.clk.SleepUntil(ctx, c.Timer.FireAt); err != nil {
			return Outcome{}, false, fmt.Errorf("wait for timer: %w", err)
		}
		at := d.clk.Now()
		if at.Before(c.Timer.FireAt) {
			at = c.Timer.FireAt
		}
		return Outcome{CommandID: c.ID, Kind: OutcomeFired, Time: at}, true, nil
	}
	return Outcome{}, false, nil
}

func (d *drive) perform(ctx context.Context, c Command) (Outcome, bool, error) {
	var res TaskResult
	switch c.Kind {
	case CommandRunTask:
		if d.r.Tasks == nil {
			res = TaskResult{Error: ErrTaskFailed, Cause: fmt.Sprintf("no task executor for resource %s", c.Task.Resource)}
			break
		}
		tctx := ctx
		var cancel context.CancelFunc = func() {}
		if c.Task.TimeoutSeconds > 0 {
			tctx, cancel = context.WithTimeout(ctx, time.Duration(c.Task.TimeoutSeconds)*time.Second)
		}
		res = d.r.Tasks.RunTask(tctx, c.Task)
		if errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil && res.Error == "" {
			res = TaskResult{TimedOut: true, Cause: "The task did not finish within its TimeoutSeconds"}
		}
		cancel()
	case CommandStartChild:
		sub := &Runner{Tasks: d.r.Tasks, Clock: d.clk, ItemReader: d.r.ItemReader, ResultWriter: d.r.ResultWriter, MaxSteps: d.r.MaxSteps}
		cfg := d.cfg
		cfg.ExecutionArn = d.cfg.ExecutionArn + "/" + c.Child.Name
		cfg.Name = c.Child.Name
		cfg.Input = c.Child.Input
		cfg.StartTime = d.clk.Now()
		cfg.Seed = d.cfg.Seed ^ uint64(c.ID)*0x9e3779b97f4a7c15
		child, err := sub.Run(ctx, c.Child.Machine, cfg)
		if err != nil {
			return Outcome{}, false, fmt.Errorf("child execution %s: %w", c.Child.Name, err)
		}
		if child.Status() == StatusSucceeded {
			res = TaskResult{Output: child.Output()}
		} else {
			name, cause := child.Error()
			res = TaskResult{Error: name, Cause: cause}
		}
	case CommandReadItems, CommandWriteResults:
		fn := d.r.ItemReader
		if c.Kind == CommandWriteResults {
			fn = d.r.ResultWriter
		}
		if fn == nil {
			res = TaskResult{Error: ErrTaskFailed, Cause: fmt.Sprintf("no handler for resource %s", c.IO.Resource)}
		} else {
			res = fn(ctx, c.IO)
		}
	}
	o := Outcome{CommandID: c.ID, Time: d.clk.Now(), Output: res.Output, Error: res.Error, Cause: res.Cause}
	switch {
	case res.TimedOut:
		o.Kind = OutcomeTimedOut
	case res.HeartbeatTimedOut:
		o.Kind = OutcomeHeartbeatTimedOut
	case res.Error != "":
		o.Kind = OutcomeFailed
	default:
		o.Kind = OutcomeSucceeded
	}
	return o, true, nil
}

// timerHeap orders timer commands by fire time, then by ID.
type timerHeap []Command

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].Timer.FireAt.Equal(h[j].Timer.FireAt) {
		return h[i].Timer.FireAt.Before(h[j].Timer.FireAt)
	}
	return h[i].ID < h[j].ID
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(v any)   { *h = append(*h, v.(Command)) }
func (h *timerHeap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}
