package asl

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/duro-dev/duro/asl/jsonv"
)

// thread is one line of execution: the top-level machine, a Parallel branch or an inline Map
// iteration. It is at one state at a time.
type thread struct {
	body   *body
	scope  *scope
	parent *composite
	index  int

	cur        *state
	input      any // the state's raw input
	entered    time.Time
	retryCount int
	attempts   []int64 // per retrier
	prev       int64   // the thread's last event, for previousEventId
	pending    int64   // the command the thread waits for
	started    bool    // the pending task's Started event is recorded
	comp       *composite
	token      string
	item       *mapItem // set while a Map's ItemSelector is evaluated
	assignFrom *tmpl    // the Assign block (a Choice rule's or a Catcher's) of the pending exit
	ioPhase    int      // what a Map's pending I/O command is for
	mapInput   any      // a Map's effective input while its ItemReader runs
	dead       bool
	ctx        *jsonv.Object // cached $$ (see contextObject)
	ctxKey     ctxKey
}

type mapItem struct {
	index  int
	value  any
	source string
}

func eventPrefix(typ string) string { return typ + "State" }

// enter moves a thread into a state.
func (x *Execution) enter(th *thread, name string, input any) {
	st, ok := th.body.states[name]
	if !ok { // validation makes this unreachable; fail rather than panic
		x.threadFailed(th, stateErr(ErrRuntime, "No state named '%s'", name))
		return
	}
	if len(x.events) >= x.cfg.MaxHistoryEvents {
		x.failExecution(th, stateErr(ErrRuntime, "The execution history reached its limit of %d events", x.cfg.MaxHistoryEvents), false)
		return
	}
	th.cur = st
	th.input = input
	th.entered = x.now
	th.retryCount = 0
	th.token = ""
	if len(st.retry) > 0 {
		th.attempts = make([]int64, len(st.retry))
	} else {
		th.attempts = nil
	}
	x.recordOn(th, eventPrefix(st.typ)+"Entered", "stateEnteredEventDetails",
		field("name", st.name), jsonField("input", input), field("inputDetails", truncatedFalse()))
	x.runState(th)
}

// runState runs (one attempt of) the thread's current state.
func (x *Execution) runState(th *thread) {
	st := th.cur
	var err *StateError
	switch st.typ {
	case TypePass:
		err = x.runPass(th)
	case TypeTask:
		err = x.runTask(th)
	case TypeChoice:
		err = x.runChoice(th)
	case TypeWait:
		err = x.runWait(th)
	case TypeSucceed:
		err = x.runSucceed(th)
	case TypeFail:
		err = x.runFail(th)
	case TypeParallel:
		err = x.runParallel(th)
	case TypeMap:
		err = x.runMap(th)
	}
	if err != nil {
		x.stateFailed(th, err)
	}
}

// evaluationFailed records Step Functions' EvaluationFailed event for a failed JSONata
// evaluation, then handles the error like any other.
func (x *Execution) evaluationFailed(th *thread, e *StateError) {
	x.recordOn(th, "EvaluationFailed", "evaluationFailedEventDetails",
		field("error", e.Name), field("cause", e.Cause), field("state", th.cur.name))
}

// asStateErr turns any evaluation error into a StateError.
func asStateErr(err error) *StateError {
	if err == nil {
		return nil
	}
	if se, ok := err.(*StateError); ok {
		return se
	}
	return &StateError{Name: ErrRuntime, Cause: err.Error()}
}

// effectiveInput computes a state's effective input: InputPath then Parameters (JSONPath) or
// Arguments (JSONata).
func (x *Execution) effectiveInput(th *thread) (any, error) {
	st := th.cur
	if st.ql == JSONata {
		if st.parameters == nil {
			return th.input, nil
		}
		return x.evalValue(th, st.parameters, nil, func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }, "Arguments")
	}
	in, err := x.applyPath(th, st.inputPath, th.input, "InputPath")
	if err != nil || st.parameters == nil {
		return in, err
	}
	return x.evalJSONPath(th, st.parameters, in, "Parameters")
}

func (x *Execution) runPass(th *thread) *StateError {
	st := th.cur
	if st.ql == JSONata {
		return x.finish(th, nil, false)
	}
	in, err := x.applyPath(th, st.inputPath, th.input, "InputPath")
	if err != nil {
		return asStateErr(err)
	}
	result := in
	switch {
	case st.hasResult:
		result = st.result
	case st.parameters != nil:
		result, err = x.evalJSONPath(th, st.parameters, in, "Parameters")
		if err != nil {
			return asStateErr(err)
		}
	}
	return x.finish(th, result, true)
}

// finish completes a state that produced result (hasResult false for states without one): it
// computes the assignments and the output and leaves the state.
func (x *Execution) finish(th *thread, result any, hasResult bool) *StateError {
	st := th.cur
	var output any
	var assigned map[string]any
	if st.ql == JSONata {
		var res any
		if hasResult {
			res = orNilResult(result)
		}
		states := func() *jsonv.Object { return x.statesVar(th, th.input, res, nil) }
		var err error
		if st.assign != nil {
			if assigned, err = x.assignments(th, st.assign, nil, states); err != nil {
				return asStateErr(err)
			}
		}
		switch {
		case st.output != nil:
			if output, err = x.evalValue(th, st.output, nil, states, "Output"); err != nil {
				return asStateErr(err)
			}
		case hasResult:
			output = result
		default:
			output = th.input
		}
	} else {
		data := result
		var err error
		if !hasResult {
			if data, err = x.applyPath(th, st.inputPath, th.input, "InputPath"); err != nil {
				return asStateErr(err)
			}
		}
		if st.assign != nil {
			if assigned, err = x.assignments(th, st.assign, data, nil); err != nil {
				return asStateErr(err)
			}
		}
		selected := result
		if hasResult && st.resultSelector != nil {
			if selected, err = x.evalJSONPath(th, st.resultSelector, result, "ResultSelector"); err != nil {
				return asStateErr(err)
			}
		}
		output = data
		if hasResult {
			if output, err = x.applyResultPath(th, st.resultPath, th.input, selected); err != nil {
				return asStateErr(err)
			}
		}
		if output, err = x.applyPath(th, st.outputPath, output, "OutputPath"); err != nil {
			return asStateErr(err)
		}
	}
	if e := checkSize(output, "output", th); e != nil {
		return e
	}
	x.exit(th, output, assigned, st.next)
	return nil
}

// assignments evaluates an Assign block. All values are computed before any is set, so every
// expression reads the variables as they were when the state was entered.
func (x *Execution) assignments(th *thread, t *tmpl, data any, states func() *jsonv.Object) (map[string]any, error) {
	out := map[string]any{}
	if th.cur.ql == JSONata {
		if t.kind == tmplLit {
			o, _ := t.lit.(*jsonv.Object)
			if o != nil {
				for _, k := range o.Keys() {
					v, _ := o.Get(k)
					out[k] = v
				}
			}
			return out, nil
		}
		for i, k := range t.keys {
			v, err := x.evalJSONata(th, t.vals[i], states(), k)
			if err != nil {
				return nil, err
			}
			if v == queryUndefined {
				v = nil
			}
			out[k] = v
		}
		return out, checkAssignSize(th, out)
	}
	for i, k := range t.keys {
		v, err := x.evalJSONPath(th, t.vals[i], data, k)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, checkAssignSize(th, out)
}

// checkAssignSize enforces Step Functions' limit on assigned variables: each value, and all the
// values of one Assign together, at most 256 KiB.
func checkAssignSize(th *thread, vals map[string]any) error {
	total := 0
	for k, v := range vals {
		n := payloadSize(v, MaxPayloadBytes)
		if n > MaxPayloadBytes {
			return stateErr(ErrDataLimitExceeded, "The value assigned to the variable '%s' in the state '%s' exceeds %d bytes", k, th.cur.name, MaxPayloadBytes)
		}
		total += n
	}
	if total > MaxPayloadBytes {
		return stateErr(ErrDataLimitExceeded, "The variables assigned by the state '%s' exceed %d bytes together", th.cur.name, MaxPayloadBytes)
	}
	return nil
}

func assignedJSON(order *tmpl, vals map[string]any) *jsonv.Object {
	o := jsonv.NewObject()
	for _, k := range order.keys {
		if v, ok := vals[k]; ok {
			o.Set(k, jsonv.String(v))
		}
	}
	if order.kind == tmplLit {
		if lit, ok := order.lit.(*jsonv.Object); ok {
			for _, k := range lit.Keys() {
				o.Set(k, jsonv.String(vals[k]))
			}
		}
	}
	return o
}

// exit records the state's exit, applies its assignments and moves on (next == "" ends the thread).
func (x *Execution) exit(th *thread, output any, assigned map[string]any, next string) {
	st := th.cur
	details := []detail{field("name", st.name), jsonField("output", output), field("outputDetails", truncatedFalse())}
	if len(assigned) > 0 {
		details = append(details, field("assignedVariables", assignedJSON(x.assignOrder(th), assigned)),
			field("assignedVariablesDetails", truncatedFalse()))
		for k, v := range assigned {
			th.scope.set(k, v)
		}
	}
	x.recordOn(th, eventPrefix(st.typ)+"Exited", "stateExitedEventDetails", details...)
	if next == "" {
		x.threadDone(th, output)
		return
	}
	x.push(th, func() { x.enter(th, next, output) })
}

// assignOrder returns the Assign block that produced the assignments, for ordering them.
func (x *Execution) assignOrder(th *thread) *tmpl {
	st := th.cur
	if th.assignFrom != nil {
		t := th.assignFrom
		th.assignFrom = nil
		return t
	}
	if st.assign != nil {
		return st.assign
	}
	return &tmpl{}
}

func (x *Execution) runTask(th *thread) *StateError {
	st := th.cur
	id := x.newID()
	if strings.HasSuffix(st.resource, ".waitForTaskToken") {
		if x.cfg.TaskToken != nil {
			th.token = x.cfg.TaskToken(id)
		} else {
			th.token = fmt.Sprintf("%s#%d", x.cfg.ExecutionArn, id)
		}
	}
	in, err := x.effectiveInput(th)
	if err != nil {
		return asStateErr(err)
	}
	if e := checkSize(in, "input", th); e != nil {
		return e
	}
	states := func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }
	timeout, _, err := x.dynInt(th, st.timeoutSeconds, th.input, states, 1)
	if err != nil {
		return asStateErr(err)
	}
	heartbeat, _, err := x.dynInt(th, st.heartbeatSeconds, th.input, states, 1)
	if err != nil {
		return asStateErr(err)
	}
	var creds any
	if st.credentials != nil {
		if creds, err = x.evalValue(th, st.credentials, th.input, states, "Credentials"); err != nil {
			return asStateErr(err)
		}
	}
	var details []detail
	switch taskEventKind(st.resource) {
	case "Activity":
		details = []detail{field("resource", st.resource), jsonField("input", in), field("inputDetails", truncatedFalse())}
	case "LambdaFunction":
		details = []detail{field("resource", st.resource), jsonField("input", in), field("inputDetails", truncatedFalse())}
		heartbeat = 0 // a Lambda function has no heartbeat
	default:
		rtype, res := resourceParts(st.resource)
		details = []detail{field("resourceType", rtype), field("resource", res), field("region", x.cfg.Region), jsonField("parameters", in)}
	}
	if timeout > 0 {
		details = append(details, field("timeoutInSeconds", timeout))
	}
	if heartbeat > 0 {
		details = append(details, field("heartbeatInSeconds", heartbeat))
	}
	th.pending, th.started = id, false
	x.waiters[id] = &waiter{kind: waitTask, th: th}
	x.issueTask(queuedTask{th: th, details: details, cmd: Command{ID: id, Kind: CommandRunTask, Task: &TaskCommand{
		StateName: st.name, Resource: st.resource, Input: in, TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat,
		Token: th.token, Credentials: creds, Attempt: th.retryCount + 1,
	}}})
	return nil
}

// queuedTask is a task command held back because MaxPendingTasks tasks are already running.
type queuedTask struct {
	th      *thread
	details []detail
	cmd     Command
}

// issueTask emits a task command, or queues it while MaxPendingTasks tasks are running (nested
// Maps and wide Parallels must not exceed the engine's pending-activity limit).
func (x *Execution) issueTask(q queuedTask) {
	if x.tasksRunning >= x.cfg.MaxPendingTasks {
		x.taskQueue = append(x.taskQueue, q)
		x.queued[q.cmd.ID] = true
		return
	}
	x.tasksRunning++
	kind := taskEventKind(q.th.cur.resource)
	x.recordOn(q.th, kind+"Scheduled", lowerFirst(kind)+"ScheduledEventDetails", q.details...)
	x.emit(q.cmd)
}

// taskEnded frees a running task's slot and issues queued tasks in FIFO order.
func (x *Execution) taskEnded() {
	x.tasksRunning--
	for x.tasksRunning < x.cfg.MaxPendingTasks && len(x.taskQueue) > 0 {
		q := x.taskQueue[0]
		x.taskQueue[0] = queuedTask{}
		x.taskQueue = x.taskQueue[1:]
		if !x.queued[q.cmd.ID] {
			continue // cancelled while queued
		}
		delete(x.queued, q.cmd.ID)
		x.issueTask(q)
	}
}

// resourceParts splits a Task resource for history events: arn:aws:states:::lambda:invoke gives
// ("lambda", "invoke"); anything else is reported whole.
func resourceParts(r string) (string, string) {
	if rest, ok := strings.CutPrefix(r, "arn:aws:states:::"); ok {
		if typ, res, ok := strings.Cut(rest, ":"); ok {
			return typ, res
		}
		return rest, ""
	}
	parts := strings.Split(r, ":")
	if len(parts) >= 6 && parts[0] == "arn" {
		return parts[2], strings.Join(parts[5:], ":")
	}
	return "local", r
}

// taskEventKind names the history events of a Task state's resource as Step Functions does:
// Activity* for an activity, LambdaFunction* for a Lambda function's own ARN (the legacy
// form), Task* for every service integration.
func taskEventKind(resource string) string {
	parts := strings.Split(resource, ":")
	if len(parts) >= 7 && parts[0] == "arn" {
		switch {
		case parts[2] == "states" && parts[5] == "activity":
			return "Activity"
		case parts[2] == "lambda" && parts[5] == "function":
			return "LambdaFunction"
		}
	}
	return "Task"
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// recordTaskStarted records the pending task's Started event, once: when its driver reports
// that a worker took it (worker names it), or else just before its outcome.
func (x *Execution) recordTaskStarted(th *thread, worker string) {
	if th.started {
		return
	}
	th.started = true
	st := th.cur
	switch kind := taskEventKind(st.resource); kind {
	case "Activity":
		var d []detail
		if worker != "" {
			d = append(d, field("workerName", worker))
		}
		x.recordOn(th, "ActivityStarted", "activityStartedEventDetails", d...)
	case "LambdaFunction":
		x.recordOn(th, "LambdaFunctionStarted", "")
	default:
		rtype, res := resourceParts(st.resource)
		x.recordOn(th, "TaskStarted", "taskStartedEventDetails", field("resourceType", rtype), field("resource", res))
	}
}

// onTaskStarted handles OutcomeStarted: the task runs on a worker; it is still pending.
func (x *Execution) onTaskStarted(th *thread, o Outcome) {
	if th.dead || th.pending != o.CommandID {
		return
	}
	x.recordTaskStarted(th, o.Worker)
}

func (x *Execution) onTaskOutcome(th *thread, o Outcome) {
	th.pending = 0
	if th.dead {
		return
	}
	st := th.cur
	rtype, res := resourceParts(st.resource)
	kind := taskEventKind(st.resource)
	x.recordTaskStarted(th, "")
	th.started = false
	// ends records the closing event: resourceType and resource for Task*, only the
	// outcome's own fields for Activity* and LambdaFunction*.
	ends := func(suffix string, details ...detail) {
		if kind == "Task" {
			details = append([]detail{field("resourceType", rtype), field("resource", res)}, details...)
		}
		x.recordOn(th, kind+suffix, lowerFirst(kind)+suffix+"EventDetails", details...)
	}
	switch o.Kind {
	case OutcomeSucceeded:
		ends("Succeeded", jsonField("output", o.Output), field("outputDetails", truncatedFalse()))
		x.push(th, func() {
			if e := checkSize(o.Output, "result", th); e != nil {
				x.stateFailed(th, e)
				return
			}
			if e := x.finish(th, o.Output, true); e != nil {
				x.stateFailed(th, e)
			}
		})
	case OutcomeTimedOut, OutcomeHeartbeatTimedOut:
		name := ErrTimeout
		if o.Kind == OutcomeHeartbeatTimedOut {
			name = ErrHeartbeatTimeout
		}
		cause := o.Cause
		ends("TimedOut", field("error", name), field("cause", cause))
		x.push(th, func() { x.stateFailed(th, &StateError{Name: name, Cause: cause}) })
	default:
		name := o.Error
		if name == "" {
			name = ErrTaskFailed
		}
		cause := o.Cause
		ends("Failed", field("error", name), field("cause", cause))
		x.push(th, func() { x.stateFailed(th, &StateError{Name: name, Cause: cause}) })
	}
}

func (x *Execution) runChoice(th *thread) *StateError {
	st := th.cur
	var in any
	var states func() *jsonv.Object
	if st.ql == JSONata {
		in = th.input
		states = func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }
	} else {
		var err error
		if in, err = x.applyPath(th, st.inputPath, th.input, "InputPath"); err != nil {
			return asStateErr(err)
		}
	}
	var matched *rule
	for _, r := range st.choices {
		var ok bool
		if st.ql == JSONata {
			v, err := x.evalValue(th, r.cond, nil, states, "Condition")
			if err != nil {
				return asStateErr(err)
			}
			b, isBool := v.(bool)
			if !isBool {
				return stateErr(ErrQueryEvaluationError, "The Condition of a choice rule of the state '%s' evaluated to %s, not a boolean", st.name, abbreviate(v))
			}
			ok = b
		} else {
			var err error
			if ok, err = x.evalRule(th, r, in); err != nil {
				return asStateErr(err)
			}
		}
		if ok {
			matched = r
			break
		}
	}
	next := st.deflt
	if matched != nil {
		next = matched.next
	}
	if next == "" {
		return stateErr(ErrNoChoiceMatched, "No Matches!")
	}
	assigned := map[string]any{}
	var order tmpl
	for _, a := range []*tmpl{st.assign, ruleAssign(matched)} {
		if a == nil {
			continue
		}
		vals, err := x.assignments(th, a, in, states)
		if err != nil {
			return asStateErr(err)
		}
		for k, v := range vals {
			assigned[k] = v
		}
		order.keys = append(order.keys, a.keys...)
	}
	th.assignFrom = &order
	var output any
	if st.ql == JSONata {
		out := st.output
		if matched != nil && matched.output != nil {
			out = matched.output
		}
		output = th.input
		if out != nil {
			var err error
			if output, err = x.evalValue(th, out, nil, states, "Output"); err != nil {
				return asStateErr(err)
			}
		}
	} else {
		var err error
		if output, err = x.applyPath(th, st.outputPath, in, "OutputPath"); err != nil {
			return asStateErr(err)
		}
	}
	x.exit(th, output, assigned, next)
	return nil
}

func ruleAssign(r *rule) *tmpl {
	if r == nil {
		return nil
	}
	return r.assign
}

func (x *Execution) runWait(th *thread) *StateError {
	st := th.cur
	data := th.input
	states := func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }
	if st.ql == JSONPath {
		var err error
		if data, err = x.applyPath(th, st.inputPath, th.input, "InputPath"); err != nil {
			return asStateErr(err)
		}
	}
	var at time.Time
	switch {
	case st.seconds.set:
		n, _, err := x.dynInt(th, st.seconds, data, states, 0)
		if err != nil {
			return asStateErr(err)
		}
		if n > 99999999 {
			return stateErr(ErrRuntime, "The Wait seconds %d exceed the maximum", n)
		}
		at = x.now.Add(time.Duration(n) * time.Second)
	case st.timestamp.set:
		v, err := x.dynValue(th, st.timestamp, data, states)
		if err != nil {
			return asStateErr(err)
		}
		s, _ := v.(string)
		t, ok := parseTime(s)
		if !ok {
			name := ErrRuntime
			if st.ql == JSONata {
				name = ErrQueryEvaluationError
			}
			return stateErr(name, "The value of the field '%s' must be an ISO-8601 timestamp, got %s", st.timestamp.name, abbreviate(v))
		}
		at = t
	}
	th.pending = x.emitTimer(at, TimerWait, st.name, &waiter{kind: waitTimer, th: th})
	return nil
}

func (x *Execution) waitFired(th *thread) {
	th.pending = 0
	if e := x.finish(th, nil, false); e != nil {
		x.stateFailed(th, e)
	}
}

func (x *Execution) runSucceed(th *thread) *StateError {
	st := th.cur
	if st.ql == JSONata {
		output := th.input
		if st.output != nil {
			var err error
			output, err = x.evalValue(th, st.output, nil, func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }, "Output")
			if err != nil {
				return asStateErr(err)
			}
		}
		x.exit(th, output, nil, "")
		return nil
	}
	in, err := x.applyPath(th, st.inputPath, th.input, "InputPath")
	if err != nil {
		return asStateErr(err)
	}
	out, err := x.applyPath(th, st.outputPath, in, "OutputPath")
	if err != nil {
		return asStateErr(err)
	}
	x.exit(th, out, nil, "")
	return nil
}

func (x *Execution) runFail(th *thread) *StateError {
	st := th.cur
	states := func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }
	get := func(d dyn) (string, *StateError) {
		if !d.set {
			return "", nil
		}
		v, err := x.dynValue(th, d, th.input, states)
		if err != nil {
			return "", asStateErr(err)
		}
		s, ok := v.(string)
		if !ok {
			name := ErrRuntime
			if st.ql == JSONata {
				name = ErrQueryEvaluationError
			}
			return "", stateErr(name, "The value of the field '%s' must be a string, got %s", d.name, abbreviate(v))
		}
		return s, nil
	}
	name, e := get(st.errorName)
	if e != nil {
		return e
	}
	cause, e := get(st.cause)
	if e != nil {
		return e
	}
	x.threadFailed(th, &StateError{Name: name, Cause: cause})
	return nil
}

// stateFailed handles an error raised by the thread's current state: Retry, then Catch, then
// failing the thread.
func (x *Execution) stateFailed(th *thread, e *StateError) {
	st := th.cur
	if e.Name == ErrQueryEvaluationError {
		x.evaluationFailed(th, e)
	}
	for i, r := range st.retry {
		if !matches(r.errorEquals, e.Name) {
			continue
		}
		if th.attempts[i] >= r.maxAttempts {
			break // this retrier is spent: go to the catchers
		}
		delay := float64(r.intervalSeconds) * math.Pow(r.backoffRate, float64(th.attempts[i]))
		if r.maxDelaySeconds > 0 && delay > float64(r.maxDelaySeconds) {
			delay = float64(r.maxDelaySeconds)
		}
		if r.jitterFull {
			delay *= x.random()
		}
		delay = min(delay, 99999999)
		th.attempts[i]++
		th.retryCount++
		at := x.now.Add(time.Duration(delay * float64(time.Second)))
		th.pending = x.emitTimer(at, TimerRetry, st.name, &waiter{kind: waitRetry, th: th})
		return
	}
	for i := range st.catch {
		k := &st.catch[i]
		if !matches(k.errorEquals, e.Name) {
			continue
		}
		x.caught(th, k, e)
		return
	}
	x.threadFailed(th, e)
}

func errorOutput(e *StateError) *jsonv.Object {
	o := jsonv.NewObject()
	o.Set("Error", e.Name)
	o.Set("Cause", e.Cause)
	return o
}

func (x *Execution) caught(th *thread, k *catcher, e *StateError) {
	eo := errorOutput(e)
	var output any
	var assigned map[string]any
	var err error
	if k.queryLanguage == JSONata {
		states := func() *jsonv.Object { return x.statesVar(th, th.input, nil, eo) }
		if k.assign != nil {
			if assigned, err = x.assignments(th, k.assign, nil, states); err != nil {
				x.threadFailed(th, asStateErr(err))
				return
			}
		}
		output = any(eo)
		if k.output != nil {
			if output, err = x.evalJSONata(th, k.output, states(), "Output"); err != nil {
				x.threadFailed(th, asStateErr(err))
				return
			}
			if output == queryUndefined {
				output = nil
			}
		}
	} else {
		if k.assign != nil {
			if assigned, err = x.assignments(th, k.assign, eo, nil); err != nil {
				x.threadFailed(th, asStateErr(err))
				return
			}
		}
		if output, err = x.applyResultPath(th, k.resultPath, th.input, eo); err != nil {
			x.threadFailed(th, asStateErr(err))
			return
		}
	}
	if k.assign != nil {
		th.assignFrom = k.assign
	}
	x.exit(th, output, assigned, k.next)
}

// threadDone ends a thread with output.
func (x *Execution) threadDone(th *thread, output any) {
	if th.parent == nil {
		x.succeedExecution(th, output)
		return
	}
	th.parent.childDone(x, th, output)
}

// threadFailed ends a thread with an error nobody caught.
func (x *Execution) threadFailed(th *thread, e *StateError) {
	if th.parent == nil {
		x.failExecution(th, e, false)
		return
	}
	th.parent.childFailed(x, th, e)
}
