package asl

import (
	"fmt"
	"math"

	"github.com/duro-dev/duro/asl/jsonv"
)

// Concurrency limits of Map states.
const (
	// MaxInlineConcurrency is how many inline Map iterations Step Functions runs at once.
	MaxInlineConcurrency = 40
	// MaxDistributedConcurrency bounds a distributed Map's running child executions, which is the
	// engine's limit on pending children (DESIGN.md, Limits).
	MaxDistributedConcurrency = 2000
)

// composite is a running Parallel or Map state: its children and their results.
type composite struct {
	owner       *thread
	isMap       bool
	distributed bool
	threads     map[int]*thread // running inline children by index
	childIDs    map[int]int64
	results     []any
	inputs      []any
	effInput    any
	next        int
	running     int
	done        int
	maxConc     int
	failures    int
	tolCount    int64 // -1: not set
	tolPct      float64
	startedID   int64
	over        bool
}

func (x *Execution) runParallel(th *thread) *StateError {
	st := th.cur
	in, err := x.effectiveInput(th)
	if err != nil {
		return asStateErr(err)
	}
	started := x.recordOn(th, "ParallelStateStarted", "")
	c := &composite{owner: th, threads: map[int]*thread{}, results: make([]any, len(st.branches)), startedID: started, tolCount: -1, tolPct: -1}
	th.comp = c
	for i, b := range st.branches {
		child := &thread{body: b, scope: newScope(th.scope), parent: c, index: i, prev: started}
		c.threads[i] = child
		c.running++
		x.push(child, func() { x.enter(child, b.startAt, in) })
	}
	return nil
}

// mapPhase says what a Map's pending I/O command is for.
const (
	ioRead  = 1
	ioWrite = 2
)

func (x *Execution) runMap(th *thread) *StateError {
	st := th.cur
	states := func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }
	eff := th.input
	if st.ql == JSONPath {
		var err error
		if eff, err = x.applyPath(th, st.inputPath, th.input, "InputPath"); err != nil {
			return asStateErr(err)
		}
	}
	if st.itemReader != nil {
		var params any
		if st.itemReader.parameters != nil {
			var err error
			if params, err = x.evalValue(th, st.itemReader.parameters, eff, states, "ItemReader"); err != nil {
				return asStateErr(err)
			}
		}
		id := x.newID()
		th.pending = id
		th.ioPhase = ioRead
		th.mapInput = eff
		x.waiters[id] = &waiter{kind: waitIO, th: th}
		x.emit(Command{ID: id, Kind: CommandReadItems, IO: &IOCommand{StateName: st.name, Resource: st.itemReader.resource, Parameters: params, Config: st.itemReader.config}})
		return nil
	}
	var items any
	switch {
	case st.ql == JSONata && st.items != nil:
		v, err := x.evalValue(th, st.items, nil, states, "Items")
		if err != nil {
			return asStateErr(err)
		}
		items = v
	case st.itemsPath != nil:
		v, err := x.resolve(th, st.itemsPath, eff)
		if err != nil {
			return stateErr(ErrRuntime, "Invalid path '%s': The ItemsPath of the Map state '%s' could not be found in the input '%s'", st.itemsPath.src, st.name, abbreviate(eff))
		}
		items = v
	default:
		items = eff
	}
	arr, ok := items.([]any)
	if !ok {
		name := ErrRuntime
		if st.ql == JSONata {
			name = ErrQueryEvaluationError
		}
		return stateErr(name, "The items of the Map state '%s' must be a JSON array, got %s", st.name, abbreviate(items))
	}
	return x.startMap(th, arr, eff)
}

func (x *Execution) onIOOutcome(th *thread, o Outcome) {
	th.pending = 0
	st := th.cur
	phase := th.ioPhase
	th.ioPhase = 0
	if o.Kind != OutcomeSucceeded {
		name := ErrItemReaderFailed
		if phase == ioWrite {
			name = ErrResultWriterFailed
		}
		cause := o.Cause
		if o.Error != "" && o.Error != name {
			cause = o.Error + ": " + o.Cause
		}
		x.push(th, func() { x.stateFailed(th, &StateError{Name: name, Cause: cause}) })
		return
	}
	if phase == ioWrite {
		x.push(th, func() {
			if e := x.finish(th, o.Output, true); e != nil {
				x.stateFailed(th, e)
			}
		})
		return
	}
	arr, ok := o.Output.([]any)
	if !ok {
		x.push(th, func() {
			x.stateFailed(th, stateErr(ErrItemReaderFailed, "The ItemReader of the Map state '%s' returned %s, not an array", st.name, abbreviate(o.Output)))
		})
		return
	}
	x.push(th, func() {
		if e := x.startMap(th, arr, th.mapInput); e != nil {
			x.stateFailed(th, e)
		}
	})
}

func (x *Execution) startMap(th *thread, items []any, eff any) *StateError {
	st := th.cur
	states := func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }
	mc, _, err := x.dynInt(th, st.maxConcurrency, eff, states, 0)
	if err != nil {
		return asStateErr(err)
	}
	limit := MaxInlineConcurrency
	if st.distributed {
		limit = MaxDistributedConcurrency
	}
	conc := limit
	if mc > 0 && mc < int64(limit) {
		conc = int(mc)
	}
	c := &composite{owner: th, isMap: true, distributed: st.distributed, maxConc: conc, effInput: eff, tolCount: -1, tolPct: -1}
	if n, ok, err := x.dynInt(th, st.tolCount, eff, states, 0); err != nil {
		return asStateErr(err)
	} else if ok {
		c.tolCount = n
	}
	if st.tolPercent.set {
		v, err := x.dynValue(th, st.tolPercent, eff, states)
		if err != nil {
			return asStateErr(err)
		}
		n, ok := v.(jsonv.Number)
		f := mustFloat(n)
		if !ok || !(f >= 0 && f <= 100) {
			return stateErr(ErrRuntime, "The value of ToleratedFailurePercentage must be a number from 0 to 100, got %s", abbreviate(v))
		}
		c.tolPct = f
	}
	if st.itemBatcher != nil {
		batched, e := x.batch(th, items, eff, states)
		if e != nil {
			return e
		}
		items = batched
	}
	c.inputs = items
	c.results = make([]any, len(items))
	if st.distributed {
		c.childIDs = map[int]int64{}
		c.startedID = x.recordOn(th, "MapRunStarted", "mapRunStartedEventDetails", field("mapRunArn", x.cfg.ExecutionArn+"/"+mapLabel(st)))
	} else {
		c.threads = map[int]*thread{}
		c.startedID = x.recordOn(th, "MapStateStarted", "mapStateStartedEventDetails", field("length", int64(len(items))))
	}
	th.comp = c
	if len(items) == 0 {
		x.mapSucceeded(c)
		return nil
	}
	for c.running < c.maxConc && c.next < len(items) {
		if e := x.startIteration(c); e != nil {
			return e
		}
	}
	return nil
}

func mapLabel(st *state) string {
	if st.label != "" {
		return st.label
	}
	return st.name
}

// batch groups the items as ItemBatcher says: {"Items": [...]} plus BatchInput.
func (x *Execution) batch(th *thread, items []any, eff any, states func() *jsonv.Object) ([]any, *StateError) {
	b := th.cur.itemBatcher
	maxItems, hasItems, err := x.dynInt(th, b.maxItems, eff, states, 1)
	if err != nil {
		return nil, asStateErr(err)
	}
	maxBytes, hasBytes, err := x.dynInt(th, b.maxBytes, eff, states, 1)
	if err != nil {
		return nil, asStateErr(err)
	}
	if !hasItems {
		maxItems = math.MaxInt64
	}
	if !hasBytes || maxBytes > MaxPayloadBytes {
		maxBytes = MaxPayloadBytes
	}
	var batchInput any
	if b.batchInput != nil {
		if batchInput, err = x.evalValue(th, b.batchInput, eff, states, "BatchInput"); err != nil {
			return nil, asStateErr(err)
		}
	}
	var out []any
	var cur []any
	size := 0
	flush := func() {
		o := jsonv.NewObject()
		if batchInput != nil {
			o.Set("BatchInput", batchInput)
		}
		o.Set("Items", cur)
		out = append(out, o)
		cur, size = nil, 0
	}
	for i, it := range items {
		v, e := x.selectItem(th, i, it, eff)
		if e != nil {
			return nil, e
		}
		n := payloadSize(v, MaxPayloadBytes)
		if len(cur) > 0 && (int64(len(cur)) >= maxItems || int64(size+n) > maxBytes) {
			flush()
		}
		cur = append(cur, v)
		size += n
	}
	if len(cur) > 0 {
		flush()
	}
	return out, nil
}

// selectItem applies ItemSelector to one item, with $$.Map.Item set.
func (x *Execution) selectItem(th *thread, index int, value, eff any) (any, *StateError) {
	st := th.cur
	if st.itemSelector == nil {
		return value, nil
	}
	th.item = &mapItem{index: index, value: value}
	defer func() { th.item = nil }()
	v, err := x.evalValue(th, st.itemSelector, eff, func() *jsonv.Object { return x.statesVar(th, eff, nil, nil) }, "ItemSelector")
	if err != nil {
		return nil, asStateErr(err)
	}
	return v, nil
}

func (x *Execution) startIteration(c *composite) *StateError {
	th := c.owner
	st := th.cur
	i := c.next
	c.next++
	c.running++
	input := c.inputs[i]
	if st.itemBatcher == nil {
		var e *StateError
		if input, e = x.selectItem(th, i, input, c.effInput); e != nil {
			return e
		}
	}
	if c.distributed {
		id := x.newID()
		c.childIDs[i] = id
		x.waiters[id] = &waiter{kind: waitChild, comp: c, index: i}
		x.emit(Command{ID: id, Kind: CommandStartChild, Child: &ChildCommand{
			StateName: st.name, Name: fmt.Sprintf("%s:%d", mapLabel(st), i), Index: i, Machine: st.childMachine, Input: input,
		}})
		return nil
	}
	started := x.record(c.startedID, "MapIterationStarted", "mapIterationStartedEventDetails", field("name", st.name), field("index", int64(i)))
	child := &thread{body: st.processor, scope: newScope(th.scope), parent: c, index: i, prev: started}
	c.threads[i] = child
	x.push(child, func() { x.enter(child, st.processor.startAt, input) })
	return nil
}

func (x *Execution) onChildOutcome(c *composite, index int, o Outcome) {
	delete(c.childIDs, index)
	if c.over || c.owner.dead {
		return
	}
	if o.Kind == OutcomeSucceeded {
		c.childDone(x, &thread{index: index, prev: c.owner.prev}, o.Output)
		return
	}
	name := o.Error
	if name == "" {
		name = ErrTaskFailed
	}
	if o.Kind == OutcomeTimedOut {
		name = ErrTimeout
	}
	c.childFailed(x, &thread{index: index, prev: c.owner.prev}, &StateError{Name: name, Cause: o.Cause})
}

// childDone records a finished branch or iteration and moves the composite on.
func (c *composite) childDone(x *Execution, child *thread, output any) {
	if c.over {
		return
	}
	c.results[child.index] = output
	c.running--
	c.done++
	if !c.isMap {
		delete(c.threads, child.index)
		if c.done == len(c.results) {
			x.recordOn(c.owner, "ParallelStateSucceeded", "")
			x.compositeFinished(c, c.results)
		}
		return
	}
	if !c.distributed {
		delete(c.threads, child.index)
		x.record(child.prev, "MapIterationSucceeded", "mapIterationSucceededEventDetails", field("name", c.owner.cur.name), field("index", int64(child.index)))
	}
	x.mapProgress(c)
}

func (x *Execution) mapProgress(c *composite) {
	for c.running < c.maxConc && c.next < len(c.inputs) {
		if e := x.startIteration(c); e != nil {
			x.abortComposite(c)
			x.recordOn(c.owner, "MapStateFailed", "")
			x.stateFailed(c.owner, e)
			return
		}
	}
	if c.done == len(c.inputs) {
		x.mapSucceeded(c)
	}
}

func (x *Execution) mapSucceeded(c *composite) {
	th := c.owner
	st := th.cur
	if c.distributed {
		x.recordOn(th, "MapRunSucceeded", "")
	} else {
		x.recordOn(th, "MapStateSucceeded", "")
	}
	c.over = true
	th.comp = nil
	if st.resultWriter != nil {
		var params any
		if st.resultWriter.parameters != nil {
			var err error
			params, err = x.evalValue(th, st.resultWriter.parameters, c.effInput, func() *jsonv.Object { return x.statesVar(th, th.input, nil, nil) }, "ResultWriter")
			if err != nil {
				x.stateFailed(th, asStateErr(err))
				return
			}
		}
		id := x.newID()
		th.pending = id
		th.ioPhase = ioWrite
		x.waiters[id] = &waiter{kind: waitIO, th: th}
		x.emit(Command{ID: id, Kind: CommandWriteResults, IO: &IOCommand{StateName: st.name, Resource: st.resultWriter.resource, Parameters: params, Config: st.resultWriter.config, Items: c.results}})
		return
	}
	x.compositeFinished(c, c.results)
}

func (x *Execution) compositeFinished(c *composite, results []any) {
	th := c.owner
	c.over = true
	th.comp = nil
	out := results
	x.push(th, func() {
		if e := x.finish(th, out, true); e != nil {
			x.stateFailed(th, e)
		}
	})
}

// childFailed records a failed branch or iteration: a Parallel fails at once; a Map fails unless
// its tolerated failure threshold allows it.
func (c *composite) childFailed(x *Execution, child *thread, e *StateError) {
	if c.over {
		return
	}
	c.running--
	if !c.isMap {
		delete(c.threads, child.index)
		x.abortComposite(c)
		x.recordOn(c.owner, "ParallelStateFailed", "")
		th := c.owner
		x.push(th, func() { x.stateFailed(th, e) })
		return
	}
	if !c.distributed {
		delete(c.threads, child.index)
		x.record(child.prev, "MapIterationFailed", "mapIterationFailedEventDetails", field("name", c.owner.cur.name), field("index", int64(child.index)))
	}
	c.failures++
	c.done++
	tolerated := false
	if c.tolCount >= 0 || c.tolPct >= 0 {
		// with both thresholds set, exceeding either fails the Map
		tolerated = true
		if c.tolCount >= 0 && int64(c.failures) > c.tolCount {
			tolerated = false
		}
		if c.tolPct >= 0 && float64(c.failures)*100/float64(len(c.inputs)) > c.tolPct {
			tolerated = false
		}
		if !tolerated {
			e = &StateError{Name: ErrExceedToleratedFailureThreshold, Cause: "The specified tolerated failure threshold was exceeded"}
		}
	}
	if tolerated {
		c.results[child.index] = errorOutput(e)
		x.mapProgress(c)
		return
	}
	x.abortComposite(c)
	if c.distributed {
		x.recordOn(c.owner, "MapRunFailed", "mapRunFailedEventDetails", field("error", e.Name), field("cause", e.Cause))
	} else {
		x.recordOn(c.owner, "MapStateFailed", "")
	}
	th := c.owner
	x.push(th, func() { x.stateFailed(th, e) })
}

// abortComposite cancels every running child of a composite.
func (x *Execution) abortComposite(c *composite) {
	c.over = true
	c.owner.comp = nil
	idx := make([]int64, 0, len(c.threads))
	for i := range c.threads {
		idx = append(idx, int64(i))
	}
	sortInt64(idx)
	for _, i := range idx {
		t := c.threads[int(i)]
		if t != nil && !t.dead {
			x.abortThread(t)
			if c.isMap {
				x.record(t.prev, "MapIterationAborted", "mapIterationAbortedEventDetails", field("name", c.owner.cur.name), field("index", int64(t.index)))
			}
		}
	}
	for i := 0; i < c.next; i++ {
		if id, ok := c.childIDs[i]; ok {
			x.cancelCommand(id)
			delete(c.childIDs, i)
		}
	}
}

// abortThread cancels a thread's pending command and everything below it.
func (x *Execution) abortThread(t *thread) {
	t.dead = true
	if t.cur != nil {
		switch t.cur.typ {
		case TypeTask, TypeWait, TypeParallel, TypeMap:
			x.record(t.prev, eventPrefix(t.cur.typ)+"Aborted", "")
		}
	}
	if t.pending != 0 {
		x.cancelCommand(t.pending)
		t.pending = 0
	}
	if t.comp != nil {
		x.abortComposite(t.comp)
	}
}
