package asl

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/duro-dev/duro/asl/jsonv"
)

// Query languages.
const (
	JSONPath = "JSONPath"
	JSONata  = "JSONata"
)

// State types.
const (
	TypeTask     = "Task"
	TypePass     = "Pass"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// maxStateNameLen is Step Functions' limit on state names, in characters.
const maxStateNameLen = 80

// Machine is a compiled, valid state machine definition. It is immutable and safe to share
// between executions.
type Machine struct {
	top            *body
	timeoutSeconds int64
	definition     any
}

// Definition returns the parsed definition document.
func (m *Machine) Definition() any { return m.definition }

// TimeoutSeconds returns the execution timeout, 0 when none.
func (m *Machine) TimeoutSeconds() int64 { return m.timeoutSeconds }

// body is a set of states with a start: the top-level machine, a Parallel branch or a Map's
// item processor.
type body struct {
	startAt string
	states  map[string]*state
	order   []string
	ql      string
	// distributed is set on the item processor of a distributed Map: it runs as child executions
	// whose states cannot read the parent's variables.
	distributed bool
}

// dyn is a numeric or string field that may also come from a path (JSONPath `...Path` form) or a
// JSONata expression.
type dyn struct {
	set  bool
	lit  any
	ref  *ref
	expr *tmpl
	name string // the field name as written, for messages
}

type retrier struct {
	errorEquals     []string
	intervalSeconds int64
	maxAttempts     int64
	backoffRate     float64
	maxDelaySeconds int64
	jitterFull      bool
}

type catcher struct {
	errorEquals   []string
	next          string
	resultPath    *resultPath
	output        *tmpl
	assign        *tmpl
	queryLanguage string
}

// resultPath is ResultPath: absent means $, null discards the result.
type resultPath struct {
	discard bool
	ref     *ref
}

// optPath is InputPath/OutputPath: absent means $, null means {}.
type optPath struct {
	null bool
	ref  *ref
}

type batcher struct {
	maxItems   dyn
	maxBytes   dyn
	batchInput *tmpl
}

type state struct {
	name string
	typ  string
	ql   string
	next string
	end  bool

	inputPath, outputPath *optPath
	parameters            *tmpl // Parameters (JSONPath) or Arguments (JSONata)
	resultSelector        *tmpl
	resultPath            *resultPath
	assign                *tmpl
	output                *tmpl
	result                any
	hasResult             bool

	// Task
	resource         string
	timeoutSeconds   dyn
	heartbeatSeconds dyn
	credentials      *tmpl
	retry            []retrier
	catch            []catcher

	// Choice
	choices []*rule
	deflt   string

	// Wait
	seconds, timestamp dyn

	// Fail
	errorName, cause dyn

	// Parallel
	branches []*body

	// Map
	processor      *body
	itemsPath      *ref
	items          *tmpl
	itemSelector   *tmpl
	maxConcurrency dyn
	tolPercent     dyn
	tolCount       dyn
	itemBatcher    *batcher
	itemReader     *ioSpec
	resultWriter   *ioSpec
	label          string
	distributed    bool
	childMachine   *Machine // a distributed Map's item processor, run as child executions
}

// ioSpec is a distributed Map's ItemReader or ResultWriter: a resource the engine supplies.
type ioSpec struct {
	resource   string
	parameters *tmpl
	config     any
}

// Compile parses and validates a definition. It returns the machine, or nil and the diagnostics
// when the definition is invalid. Warnings do not prevent compiling.
func Compile(src []byte) (*Machine, []Diagnostic) {
	if strings.TrimSpace(string(src)) == "" {
		return nil, []Diagnostic{{Severity: SeverityError, Code: codeMissingDescription, Message: "The definition is empty"}}
	}
	doc, err := jsonv.Parse(src)
	if err != nil {
		return nil, []Diagnostic{{Severity: SeverityError, Code: codeInvalidJSON, Message: fmt.Sprintf("The definition is not valid JSON: %v", errors.Unwrap(err))}}
	}
	return CompileValue(doc)
}

// CompileValue is Compile for an already parsed definition.
func CompileValue(doc any) (m *Machine, diags []Diagnostic) {
	defer func() {
		if r := recover(); r != nil { // a compiler bug must not take the caller down
			m = nil
			diags = append(diags, Diagnostic{Severity: SeverityError, Code: codeSchema, Message: fmt.Sprintf("internal error while compiling: %v", r)})
		}
	}()
	c := &compiler{}
	top, ok := doc.(*jsonv.Object)
	if !ok {
		c.errf(codeSchema, "", "The definition must be a JSON object")
		return nil, c.diags
	}
	c.fields(top, "", topFields, nil)
	ql := JSONPath
	if v, ok := top.Get("QueryLanguage"); ok {
		s, _ := v.(string)
		if s != JSONPath && s != JSONata {
			c.errf(codeSchema, "/QueryLanguage", "The value for the field 'QueryLanguage' must be one of JSONPath, JSONata")
		} else {
			ql = s
		}
	}
	m = &Machine{definition: doc}
	if v, ok := top.Get("TimeoutSeconds"); ok {
		n, ok := intValue(v)
		if !ok || n <= 0 || n > 99999999 {
			c.errf(codeSchema, "/TimeoutSeconds", "The value for the field 'TimeoutSeconds' must be a positive integer")
		}
		m.timeoutSeconds = n
	}
	if v, ok := top.Get("Version"); ok {
		if _, ok := v.(string); !ok {
			c.errf(codeSchema, "/Version", "The value for the field 'Version' must be a STRING")
		}
	}
	if v, ok := top.Get("Comment"); ok {
		if _, ok := v.(string); !ok {
			c.errf(codeSchema, "/Comment", "The value for the field 'Comment' must be a STRING")
		}
	}
	m.top = c.body(top, "", ql, false)
	if c.failed() {
		return nil, c.diags
	}
	return m, c.diags
}

// compiler collects diagnostics while turning a definition into states.
type compiler struct {
	diags []Diagnostic
	// names of every state, across all nested bodies: Step Functions requires them to be unique
	names map[string]string
}

func (c *compiler) errf(code, loc, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Severity: SeverityError, Code: code, Location: loc, Message: fmt.Sprintf(format, args...)})
}

func (c *compiler) warnf(code, loc, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Severity: SeverityWarning, Code: code, Location: loc, Message: fmt.Sprintf(format, args...)})
}

func (c *compiler) failed() bool {
	for _, d := range c.diags {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

type fieldSet map[string]bool

func set(names ...string) fieldSet {
	s := fieldSet{}
	for _, n := range names {
		s[n] = true
	}
	return s
}

var (
	topFields    = set("StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage")
	bodyFields   = set("StartAt", "States", "Comment", "ProcessorConfig")
	commonFields = set("Type", "Comment", "QueryLanguage")
	jsonPathOnly = set("InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "ItemsPath",
		"TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
		"MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath", "Result", "Iterator")
	jsonataOnly = set("Arguments", "Output", "Items")
	typeFields  = map[string]fieldSet{
		TypePass: set("Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result", "Assign", "Output"),
		TypeTask: set("Next", "End", "InputPath", "OutputPath", "Parameters", "Arguments", "ResultSelector", "ResultPath",
			"Assign", "Output", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath",
			"Retry", "Catch", "Credentials"),
		TypeChoice:  set("Choices", "Default", "InputPath", "OutputPath", "Assign", "Output"),
		TypeWait:    set("Next", "End", "InputPath", "OutputPath", "Assign", "Output", "Seconds", "Timestamp", "SecondsPath", "TimestampPath"),
		TypeSucceed: set("InputPath", "OutputPath", "Output"),
		TypeFail:    set("Error", "Cause", "ErrorPath", "CausePath"),
		TypeParallel: set("Next", "End", "InputPath", "OutputPath", "Parameters", "Arguments", "ResultSelector", "ResultPath",
			"Assign", "Output", "Branches", "Retry", "Catch"),
		TypeMap: set("Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath",
			"Assign", "Output", "Iterator", "ItemProcessor", "ItemsPath", "Items", "ItemSelector", "MaxConcurrency",
			"MaxConcurrencyPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount",
			"ToleratedFailureCountPath", "ItemBatcher", "ItemReader", "ResultWriter", "Label", "Retry", "Catch"),
	}
)

// fields reports fields that are not allowed in an object.
func (c *compiler) fields(o *jsonv.Object, loc string, allowed, extra fieldSet) {
	for _, k := range o.Keys() {
		if !allowed[k] && !extra[k] {
			c.errf(codeSchema, loc+"/"+escapeLoc(k), "The field '%s' is not supported by Step Functions", k)
		}
	}
}

func intValue(v any) (int64, bool) {
	n, ok := v.(jsonv.Number)
	if !ok {
		return 0, false
	}
	i, ok := n.Int64()
	if !ok || strings.ContainsAny(string(n), ".eE") && float64(i) != mustFloat(n) {
		return 0, false
	}
	return i, true
}

func mustFloat(n jsonv.Number) float64 {
	f, err := n.Float64()
	if err != nil {
		return math.NaN()
	}
	return f
}

func (c *compiler) str(o *jsonv.Object, key, loc string, required bool) (string, bool) {
	v, ok := o.Get(key)
	if !ok {
		if required {
			c.errf(codeSchema, loc, "The field '%s' is required", key)
		}
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		c.errf(codeSchema, loc+"/"+key, "The value for the field '%s' must be a STRING", key)
		return "", false
	}
	return s, true
}

func (c *compiler) body(o *jsonv.Object, loc, ql string, distributed bool) *body {
	b := &body{states: map[string]*state{}, ql: ql, distributed: distributed}
	b.startAt, _ = c.str(o, "StartAt", loc, true)
	sv, ok := o.Get("States")
	if !ok {
		c.errf(codeSchema, loc, "The field 'States' is required")
		return b
	}
	states, ok := sv.(*jsonv.Object)
	if !ok || states.Len() == 0 {
		c.errf(codeSchema, loc+"/States", "The value for the field 'States' must be a non-empty OBJECT")
		return b
	}
	if c.names == nil {
		c.names = map[string]string{}
	}
	for _, name := range states.Keys() {
		sloc := loc + "/States/" + escapeLoc(name)
		if n := utf8.RuneCountInString(name); n == 0 || n > maxStateNameLen {
			c.errf(codeInvalidStateName, sloc, "The state name '%s' must be 1 to %d characters long", name, maxStateNameLen)
		}
		if prev, dup := c.names[name]; dup {
			c.errf(codeDuplicateStateName, sloc, "The state name '%s' is already used at %s", name, prev)
		}
		c.names[name] = sloc
		v, _ := states.Get(name)
		so, ok := v.(*jsonv.Object)
		if !ok {
			c.errf(codeSchema, sloc, "A state must be an OBJECT")
			continue
		}
		st := c.state(name, so, sloc, ql)
		if st != nil {
			b.states[name] = st
			b.order = append(b.order, name)
		}
	}
	if b.startAt != "" {
		if _, ok := b.states[b.startAt]; !ok && states.Len() > 0 {
			if _, exists := states.Get(b.startAt); !exists {
				c.errf(codeMissingTarget, loc+"/StartAt", "Missing 'StartAt' target: %s", b.startAt)
			}
		}
	}
	c.graph(b, loc)
	return b
}

func (c *compiler) state(name string, o *jsonv.Object, loc, parentQL string) *state {
	st := &state{name: name}
	typ, ok := c.str(o, "Type", loc, true)
	if !ok {
		return nil
	}
	allowed, known := typeFields[typ]
	if !known {
		c.errf(codeSchema, loc+"/Type", "The value for the field 'Type' must be one of Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map")
		return nil
	}
	st.typ = typ
	st.ql = parentQL
	if v, ok := o.Get("QueryLanguage"); ok {
		s, _ := v.(string)
		switch {
		case s != JSONPath && s != JSONata:
			c.errf(codeSchema, loc+"/QueryLanguage", "The value for the field 'QueryLanguage' must be one of JSONPath, JSONata")
		case s == JSONPath && parentQL == JSONata:
			c.errf(codeSchema, loc+"/QueryLanguage", "A state cannot use JSONPath when the state machine's QueryLanguage is JSONata")
		default:
			st.ql = s
		}
	}
	for _, k := range o.Keys() {
		kloc := loc + "/" + escapeLoc(k)
		switch {
		case commonFields[k]:
		case !allowed[k]:
			c.errf(codeSchema, kloc, "The field '%s' is not supported by Step Functions for a %s state", k, typ)
		case st.ql == JSONata && jsonPathOnly[k]:
			c.errf(codeSchema, kloc, "The field '%s' is not supported for the JSONata query language; use Arguments, Output or Assign", k)
		case st.ql == JSONPath && jsonataOnly[k]:
			c.errf(codeSchema, kloc, "The field '%s' is supported only with the JSONata query language", k)
		}
	}
	c.transition(st, o, loc)
	c.dataFields(st, o, loc)
	switch typ {
	case TypePass:
		if v, ok := o.Get("Result"); ok {
			st.result, st.hasResult = v, true
		}
	case TypeTask:
		c.task(st, o, loc)
	case TypeChoice:
		c.choice(st, o, loc)
	case TypeWait:
		c.wait(st, o, loc)
	case TypeFail:
		st.errorName = c.dynField(st, o, loc, "Error", "ErrorPath", kindString)
		st.cause = c.dynField(st, o, loc, "Cause", "CausePath", kindString)
	case TypeParallel:
		c.parallel(st, o, loc)
	case TypeMap:
		c.mapState(st, o, loc)
	}
	if st.typ == TypeTask || st.typ == TypeParallel || st.typ == TypeMap {
		st.retry = c.retriers(o, loc)
		st.catch = c.catchers(st, o, loc)
	}
	return st
}

func (c *compiler) transition(st *state, o *jsonv.Object, loc string) {
	next, hasNext := c.str(o, "Next", loc, false)
	endV, hasEnd := o.Get("End")
	switch st.typ {
	case TypeChoice, TypeSucceed, TypeFail:
		return // their fields list already rejects Next and End
	}
	if hasEnd {
		b, ok := endV.(bool)
		if !ok {
			c.errf(codeSchema, loc+"/End", "The value for the field 'End' must be a BOOLEAN")
		}
		st.end = b
	}
	switch {
	case hasNext && st.end:
		c.errf(codeSchema, loc, "A state cannot have both 'Next' and 'End': true")
	case !hasNext && !st.end:
		c.errf(codeSchema, loc, "A %s state must have either 'Next' or 'End': true", st.typ)
	}
	st.next = next
}

func (c *compiler) optPath(o *jsonv.Object, key, loc string) *optPath {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	if v == nil {
		return &optPath{null: true}
	}
	s, ok := v.(string)
	if !ok {
		c.errf(codeSchema, loc+"/"+key, "The value for the field '%s' must be a STRING or null", key)
		return nil
	}
	r, err := parseRef(s)
	if err != nil {
		c.errf(codeSchema, loc+"/"+key, "The value for the field '%s' must be a valid JSONPath: %v", key, err)
		return nil
	}
	return &optPath{ref: r}
}

func (c *compiler) dataFields(st *state, o *jsonv.Object, loc string) {
	if st.ql == JSONata {
		if v, ok := o.Get("Arguments"); ok {
			st.parameters = c.compileJSONataTemplate(v, loc+"/Arguments")
			c.wantObjectOrExpr(v, loc+"/Arguments", "Arguments")
		}
		if v, ok := o.Get("Output"); ok {
			st.output = c.compileJSONataTemplate(v, loc+"/Output")
		}
		if v, ok := o.Get("Assign"); ok {
			st.assign = c.assign(v, loc+"/Assign", JSONata)
		}
		return
	}
	st.inputPath = c.optPath(o, "InputPath", loc)
	st.outputPath = c.optPath(o, "OutputPath", loc)
	if v, ok := o.Get("Parameters"); ok && st.typ != TypeMap {
		st.parameters = c.compileJSONPathTemplate(v, loc+"/Parameters")
	}
	if v, ok := o.Get("ResultSelector"); ok {
		if _, isObj := v.(*jsonv.Object); !isObj {
			c.errf(codeSchema, loc+"/ResultSelector", "The value for the field 'ResultSelector' must be an OBJECT")
		}
		st.resultSelector = c.compileJSONPathTemplate(v, loc+"/ResultSelector")
	}
	if v, ok := o.Get("ResultPath"); ok {
		st.resultPath = c.resultPath(v, loc+"/ResultPath")
	}
	if v, ok := o.Get("Assign"); ok {
		st.assign = c.assign(v, loc+"/Assign", JSONPath)
	}
}

func (c *compiler) wantObjectOrExpr(v any, loc, field string) {
	switch t := v.(type) {
	case *jsonv.Object:
		return
	case string:
		if isExprString(t) {
			return
		}
	}
	c.errf(codeSchema, loc, "The value for the field '%s' must be an OBJECT or a JSONata expression", field)
}

func (c *compiler) resultPath(v any, loc string) *resultPath {
	if v == nil {
		return &resultPath{discard: true}
	}
	s, ok := v.(string)
	if !ok {
		c.errf(codeSchema, loc, "The value for the field 'ResultPath' must be a STRING or null")
		return nil
	}
	r, err := parseRef(s)
	if err == nil && (r.kind != refInput || !r.path.IsReference()) {
		err = fmt.Errorf("ResultPath must be a reference path into the state input ($ followed by names and indexes)")
	}
	if err != nil {
		c.errf(codeSchema, loc, "The value for the field 'ResultPath' must be a valid ReferencePath: %v", err)
		return nil
	}
	return &resultPath{ref: r}
}

func (c *compiler) assign(v any, loc, ql string) *tmpl {
	o, ok := v.(*jsonv.Object)
	if !ok {
		c.errf(codeSchema, loc, "The value for the field 'Assign' must be an OBJECT")
		return nil
	}
	for _, k := range o.Keys() {
		name := strings.TrimSuffix(k, ".$")
		if ql == JSONata && strings.HasSuffix(k, ".$") {
			name = k
		}
		if !validVarName(name) {
			c.errf(codeSchema, loc+"/"+escapeLoc(k), "The variable name '%s' is not valid", name)
		}
		if name == "states" {
			c.errf(codeSchema, loc+"/"+escapeLoc(k), "The variable name 'states' is reserved")
		}
	}
	if ql == JSONata {
		return c.compileJSONataTemplate(o, loc)
	}
	t := c.compileJSONPathTemplate(o, loc)
	if t.kind == tmplLit {
		// keep the object form so assignment can iterate over names
		out := &tmpl{kind: tmplObj}
		for _, k := range o.Keys() {
			val, _ := o.Get(k)
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, &tmpl{kind: tmplLit, lit: val})
		}
		return out
	}
	return t
}

// parseTimestamp parses an ISO-8601 extended offset date-time as Step Functions accepts it.
func parseTimestamp(s string) (t timeValue, ok bool) {
	return parseTime(s)
}
