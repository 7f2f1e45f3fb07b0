// Package jsonata is an evaluator of JSONata 2.0.6, the version AWS Step Functions runs, written
// for Duro's ASL interpreter.
//
// [Compile] parses an expression; [Expr.Eval] evaluates it against a jsonv input (nil, bool,
// jsonv.Number, string, []any, *jsonv.Object) with variables bound as $name, and returns a jsonv
// value or [Undefined]. Evaluation follows jsonata-js 2.0.6 exactly, and is tested differentially
// against it (TestDifferential, on testdata/differential.txt and testdata/generated.txt):
//
//   - Numbers are float64 inside, as in JavaScript, and come out as jsonv.Number printed as
//     JavaScript prints them. A non-finite result is a D1001 error.
//   - Objects have JavaScript property order: keys that are array indices ("0", "17") first in
//     numeric order, then the rest in insertion order. This holds for input objects too, because
//     jsonata-js sees its input through JSON.parse.
//   - Path results are sequences: a one-item result is the item, an empty one is Undefined, unless
//     the expression keeps singleton arrays with [].
//
// Step Functions specifics: the JSONata 2.1 operators ?: and ?? are compile errors (S0211, as in
// 2.0.6, with a message naming 2.1), $eval is a run-time error (D3150), and with
// [Options.StepFunctions] the extra functions $partition, $range, $hash, $random([seed]), $uuid and
// $parse are available (sfn_functions.go). $now, $millis, $random and $uuid take
// their values from [Options], so an evaluation is deterministic.
//
// Every error is an *[Error] with jsonata-js's code and position. Where jsonata-js itself fails with
// a bare JavaScript exception (a transform updating a number, grouping an empty tuple stream, a
// matcher result without next), Eval fails too, with U1010. Evaluation is bounded by
// [Options.MaxDepth], [Options.MaxSteps] and fixed size limits (U1003); no input makes Compile or
// Eval panic.
//
// Regular expressions run on Go's RE2 when they can; patterns with lookaround or backreferences,
// and case-insensitive ones (whose case folding RE2 does differently), run on a bounded
// backtracking matcher with JavaScript's semantics.
//
// Known differences from jsonata-js 2.0.6 (each has a case in the differential corpus):
//   - Strings are UTF-8, so a lone UTF-16 surrogate (from $split(s, "") on an emoji) becomes U+FFFD.
//   - $power uses fdlibm's pow as V8 does, yet V8 rounds the last bit differently for a few
//     percent of arguments.
//   - A partially applied built-in ($substring(?, 1)) keeps its signature checks; jsonata-js drops
//     them and then coerces the arguments or fails with a TypeError.
package jsonata

import (
	"fmt"
	"time"
)

// Size bounds that keep a hostile expression from exhausting memory (U1003): the longest string
// an operator or function builds, the most items an array may get by concatenation, and the most
// values a result may hold once expanded (shared values count each time they appear).
const (
	maxStringBytes = 1 << 24
	maxArrayItems  = 1 << 20
	maxResultNodes = 1 << 21
)

// Expr is a compiled JSONata expression. It is immutable and safe for concurrent use.
type Expr struct {
	src string
	ast *node
}

// Options configure one evaluation. The zero value (or nil) is valid.
type Options struct {
	// Now is the time $now() and $millis() return, fixed for the whole evaluation.
	Now time.Time
	// Random returns numbers in [0, 1) for $random() and $shuffle(); nil makes them an error.
	Random func() float64
	// UUID returns a version 4 UUID for Step Functions' $uuid(); nil makes it an error.
	UUID func() string
	// StepFunctions enables the functions Step Functions adds to JSONata: $partition, $range,
	// $hash, $random with a seed, $uuid and $parse.
	StepFunctions bool
	// MaxDepth bounds the nesting of evaluation (recursion); 0 means 1000. Exceeding it is a U1001
	// error.
	MaxDepth int
	// MaxSteps bounds the number of evaluation steps, so that a hostile expression cannot loop
	// forever; 0 means 10,000,000, a negative value means no bound. Exceeding it is a U1002 error.
	MaxSteps int
}

// Compile parses a JSONata expression. A syntax error is an *Error.
func Compile(src string) (expr *Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				e.render()
				expr, err = nil, e
				return
			}
			expr, err = nil, &Error{Code: "S0500", Message: fmt.Sprintf("internal error compiling expression: %v", r)}
		}
	}()
	ast, perr := parse(src)
	if perr != nil {
		perr.Position = charPosition(src, perr.Position)
		perr.render()
		return nil, perr
	}
	return &Expr{src: src, ast: ast}, nil
}

// charPosition converts a byte offset in src to the UTF-16 offset jsonata-js reports.
func charPosition(src string, pos int) int {
	if pos <= 0 || pos > len(src) {
		return pos
	}
	return utf16Index(src, pos)
}

// MustCompile is Compile for expressions known to be valid; it panics on a syntax error.
func MustCompile(src string) *Expr {
	e, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the expression's source.
func (e *Expr) String() string { return e.src }

// Eval evaluates the expression against input with vars bound as $name (values use jsonv
// conventions; pass Undefined as input for "no input", nil is JSON null). It returns a jsonv value
// or Undefined; opts may be nil. A run-time error is an *Error.
func (e *Expr) Eval(input any, vars map[string]any, opts *Options) (result any, err error) {
	if opts == nil {
		opts = &Options{}
	}
	ev := &evaluator{opts: opts, maxDepth: opts.MaxDepth, maxSteps: opts.MaxSteps, builtins: builtinTable(opts.StepFunctions)}
	if ev.maxDepth <= 0 {
		ev.maxDepth = 1000
	}
	if ev.maxSteps == 0 {
		ev.maxSteps = 10_000_000
	} else if ev.maxSteps < 0 {
		ev.maxSteps = 0
	}
	defer func() {
		if r := recover(); r != nil {
			result, err = nil, &Error{Code: "U1000", Message: fmt.Sprintf("internal error evaluating expression: %v", r)}
		}
	}()
	in, cerr := fromJSON(input)
	if cerr != nil {
		return nil, cerr
	}
	if a, ok := in.(*array); ok {
		in = &array{items: []any{a}, seq: true, outerWrapper: true}
	}
	env := newFrame(nil)
	env.bind("$", in)
	for k, v := range vars {
		cv, cerr := fromJSON(v)
		if cerr != nil {
			return nil, cerr
		}
		env.bind(k, cv)
	}
	env = newFrame(env)
	res, rerr := ev.eval(e.ast, in, env)
	if rerr != nil {
		rerr.Position = charPosition(e.src, rerr.Position)
		rerr.render()
		return nil, rerr
	}
	if a, ok := res.(*array); ok && a.seq && len(a.items) == 1 && !a.keepSingleton && a.outerWrapper {
		res = a.items[0]
	}
	budget := maxResultNodes
	if !countNodes(res, &budget) {
		return nil, newError("U1003", 0, "", nil)
	}
	budget = maxResultNodes
	out, oerr := toJSON(res, &budget)
	if oerr != nil {
		oerr.render()
		return nil, oerr
	}
	return out, nil
}
