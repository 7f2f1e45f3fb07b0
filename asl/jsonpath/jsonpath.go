// Package jsonpath evaluates JSONPath expressions the way Step Functions does, which follows Jayway
// JsonPath: a definite path (only single names and single indexes) yields one value or fails with
// [ErrNotFound]; an indefinite path (wildcards, deep scan `..`, filters `[?(...)]`, slices, unions of
// indexes) yields a []any, possibly empty. Reference paths (ResultPath) are the definite subset that
// can also be written with [Path.Set].
//
// Values are jsonv values (nil, bool, jsonv.Number, string, []any, *jsonv.Object). Evaluation never
// mutates its input, and Set copies only the containers along the path (copy on write), so callers
// may share values freely. No input makes the parser or the evaluator panic.
package jsonpath

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/duro-dev/duro/asl/jsonv"
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("invalid JSONPath")

// ErrNotFound is returned when a definite path selects nothing.
var ErrNotFound = errors.New("path not found")

// ErrNotReference is returned by Set for a path that is not a reference path.
var ErrNotReference = errors.New("not a reference path")

// maxDepth bounds the nesting of filter expressions so hostile input cannot exhaust the stack.
const maxDepth = 64

type segKind int

const (
	segName     segKind = iota // .name or ['name']
	segNames                   // ['a','b']
	segIndex                   // [n]
	segIndexes                 // [n,m]
	segSlice                   // [a:b]
	segWildcard                // .* or [*]
	segFilter                  // [?(...)]
	segFunc                    // .length() and friends, last only
)

type segment struct {
	kind     segKind
	deep     bool // reached through ..
	name     string
	names    []string
	index    int
	indexes  []int
	from, to *int
	filter   expr
}

// Path is a parsed JSONPath expression rooted at $.
type Path struct {
	src      string
	segs     []segment
	definite bool
}

// String returns the source text.
func (p *Path) String() string { return p.src }

// Definite reports whether the path selects at most one value (Jayway's definite path).
func (p *Path) Definite() bool { return p.definite }

// IsReference reports whether the path is a reference path: only single names and non-negative
// single indexes, usable as ResultPath.
func (p *Path) IsReference() bool {
	for _, s := range p.segs {
		if s.deep || (s.kind != segName && s.kind != segIndex) || (s.kind == segIndex && s.index < 0) {
			return false
		}
	}
	return true
}

// Parse parses a path that starts with `$`.
func Parse(src string) (p *Path, err error) {
	defer func() {
		if r := recover(); r != nil { // belt and braces: parse errors are returned, never thrown
			p, err = nil, fmt.Errorf("%w: %q: %v", ErrSyntax, src, r)
		}
	}()
	ps := &parser{src: src}
	segs, err := ps.parsePath(true)
	if err != nil {
		return nil, err
	}
	if ps.pos != len(src) {
		return nil, ps.errf("unexpected %q", src[ps.pos:])
	}
	p = &Path{src: src, segs: segs, definite: true}
	for i, s := range segs {
		switch {
		case s.deep, s.kind == segIndexes, s.kind == segSlice, s.kind == segWildcard, s.kind == segFilter:
			p.definite = false
		case s.kind == segNames && i != len(segs)-1:
			p.definite = false
		}
	}
	return p, nil
}

// MustParse is Parse for constant paths in code and tests; it panics on a syntax error.
func MustParse(src string) *Path {
	p, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return p
}

// Eval applies the path to doc. A definite path returns the value it selects or ErrNotFound; an
// indefinite path returns a []any of every match.
func (p *Path) Eval(doc any) (any, error) {
	return p.EvalRoot(doc, doc)
}

// EvalRoot is Eval where `$` inside filters refers to root rather than doc.
func (p *Path) EvalRoot(doc, root any) (any, error) {
	if p.definite {
		cur := doc
		for _, s := range p.segs {
			next, ok := stepDefinite(cur, &s)
			if !ok {
				return nil, ErrNotFound
			}
			cur = next
		}
		return cur, nil
	}
	nodes := []any{doc}
	for i := range p.segs {
		nodes = step(nodes, &p.segs[i], root)
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes, nil
}

func stepDefinite(cur any, s *segment) (any, bool) {
	switch s.kind {
	case segName:
		o, ok := cur.(*jsonv.Object)
		if !ok {
			return nil, false
		}
		return o.Get(s.name)
	case segNames:
		o, ok := cur.(*jsonv.Object)
		if !ok {
			return nil, false
		}
		out := jsonv.NewObject()
		for _, n := range s.names {
			if v, ok := o.Get(n); ok {
				out.Set(n, v)
			}
		}
		return out, true
	case segIndex:
		a, ok := cur.([]any)
		if !ok {
			return nil, false
		}
		i := s.index
		if i < 0 {
			i += len(a)
		}
		if i < 0 || i >= len(a) {
			return nil, false
		}
		return a[i], true
	case segFunc:
		return applyFunc(s.name, cur)
	}
	return nil, false
}

// step applies one segment to every node of an indefinite evaluation.
func step(nodes []any, s *segment, root any) []any {
	var out []any
	for _, n := range nodes {
		if s.deep {
			out = scan(n, s, root, out)
		} else {
			out = apply(n, s, root, out)
		}
	}
	return out
}

func scan(n any, s *segment, root any, out []any) []any {
	out = apply(n, s, root, out)
	switch t := n.(type) {
	case *jsonv.Object:
		for _, k := range t.Keys() {
			v, _ := t.Get(k)
			if isContainer(v) {
				out = scan(v, s, root, out)
			}
		}
	case []any:
		for _, v := range t {
			if isContainer(v) {
				out = scan(v, s, root, out)
			}
		}
	}
	return out
}

func isContainer(v any) bool {
	switch v.(type) {
	case *jsonv.Object, []any:
		return true
	}
	return false
}

func apply(n any, s *segment, root any, out []any) []any {
	switch s.kind {
	case segName:
		if o, ok := n.(*jsonv.Object); ok {
			if v, ok := o.Get(s.name); ok {
				out = append(out, v)
			}
		}
	case segNames:
		if o, ok := n.(*jsonv.Object); ok {
			for _, name := range s.names {
				if v, ok := o.Get(name); ok {
					out = append(out, v)
				}
			}
		}
	case segIndex, segIndexes:
		a, ok := n.([]any)
		if !ok {
			return out
		}
		idx := s.indexes
		if s.kind == segIndex {
			idx = []int{s.index}
		}
		for _, i := range idx {
			if i < 0 {
				i += len(a)
			}
			if i >= 0 && i < len(a) {
				out = append(out, a[i])
			}
		}
	case segSlice:
		a, ok := n.([]any)
		if !ok {
			return out
		}
		from, to := 0, len(a)
		if s.from != nil {
			from = *s.from
			if from < 0 {
				from = max(0, len(a)+from)
			}
		}
		if s.to != nil {
			to = *s.to
			if to < 0 {
				to = len(a) + to
			}
		}
		to = min(to, len(a))
		for i := from; i < to; i++ {
			out = append(out, a[i])
		}
	case segWildcard:
		switch t := n.(type) {
		case *jsonv.Object:
			for _, k := range t.Keys() {
				v, _ := t.Get(k)
				out = append(out, v)
			}
		case []any:
			out = append(out, t...)
		}
	case segFilter:
		switch t := n.(type) {
		case []any:
			for _, v := range t {
				if truthy(s.filter.eval(v, root)) {
					out = append(out, v)
				}
			}
		case *jsonv.Object:
			if truthy(s.filter.eval(t, root)) {
				out = append(out, t)
			}
		}
	case segFunc:
		if v, ok := applyFunc(s.name, n); ok {
			out = append(out, v)
		}
	}
	return out
}

// applyFunc implements Jayway's path functions: length, size, min, max, sum, avg, keys, first, last.
func applyFunc(name string, v any) (any, bool) {
	switch name {
	case "length", "size":
		switch t := v.(type) {
		case []any:
			return jsonv.NumberFromInt(int64(len(t))), true
		case *jsonv.Object:
			return jsonv.NumberFromInt(int64(t.Len())), true
		case string:
			return jsonv.NumberFromInt(int64(len([]rune(t)))), true
		}
		return nil, false
	case "keys":
		o, ok := v.(*jsonv.Object)
		if !ok {
			return nil, false
		}
		out := make([]any, 0, o.Len())
		for _, k := range o.Keys() {
			out = append(out, k)
		}
		return out, true
	case "first", "last":
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return nil, false
		}
		if name == "first" {
			return a[0], true
		}
		return a[len(a)-1], true
	case "min", "max", "sum", "avg":
		a, ok := v.([]any)
		if !ok || len(a) == 0 {
			return nil, false
		}
		var acc float64
		for i, e := range a {
			n, ok := e.(jsonv.Number)
			if !ok {
				return nil, false
			}
			f, err := n.Float64()
			if err != nil {
				return nil, false
			}
			switch {
			case i == 0 && (name == "min" || name == "max"):
				acc = f
			case name == "min":
				acc = min(acc, f)
			case name == "max":
				acc = max(acc, f)
			default:
				acc += f
			}
		}
		if name == "avg" {
			acc /= float64(len(a))
		}
		return jsonv.NumberFromFloat(acc), true
	}
	return nil, false
}

// Set returns a copy of doc with the value at the reference path p replaced by value. Missing object
// keys are created; containers along the path are copied, the rest is shared. Setting "$" returns
// value itself.
func (p *Path) Set(doc, value any) (any, error) {
	if !p.IsReference() {
		return nil, fmt.Errorf("%w: %s", ErrNotReference, p.src)
	}
	return set(doc, true, p.segs, value)
}

func set(cur any, present bool, segs []segment, value any) (any, error) {
	if len(segs) == 0 {
		return value, nil
	}
	s := segs[0]
	switch s.kind {
	case segName:
		var o *jsonv.Object
		if t, ok := cur.(*jsonv.Object); ok {
			o = shallowCopy(t)
		} else if !present {
			o = jsonv.NewObject()
		} else {
			return nil, fmt.Errorf("cannot set field %q on a value of type %s", s.name, TypeName(cur))
		}
		child, has := o.Get(s.name)
		nv, err := set(child, has, segs[1:], value)
		if err != nil {
			return nil, err
		}
		o.Set(s.name, nv)
		return o, nil
	case segIndex:
		a, ok := cur.([]any)
		if !ok {
			return nil, fmt.Errorf("cannot set index %d on a value of type %s", s.index, TypeName(cur))
		}
		if s.index >= len(a) {
			return nil, fmt.Errorf("index %d is out of bounds of an array of %d", s.index, len(a))
		}
		out := append([]any(nil), a...)
		nv, err := set(out[s.index], true, segs[1:], value)
		if err != nil {
			return nil, err
		}
		out[s.index] = nv
		return out, nil
	}
	return nil, ErrNotReference
}

func shallowCopy(o *jsonv.Object) *jsonv.Object {
	out := jsonv.NewObject()
	for _, k := range o.Keys() {
		v, _ := o.Get(k)
		out.Set(k, v)
	}
	return out
}

// TypeName names a value's JSON type for messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case jsonv.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case *jsonv.Object:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// parser is a recursive-descent parser over the path text.
type parser struct {
	src   string
	pos   int
	depth int
}

func (ps *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%w %q at offset %d: %s", ErrSyntax, ps.src, ps.pos, fmt.Sprintf(format, args...))
}

func (ps *parser) peek() byte {
	if ps.pos < len(ps.src) {
		return ps.src[ps.pos]
	}
	return 0
}

func (ps *parser) skipSpace() {
	for ps.pos < len(ps.src) && (ps.src[ps.pos] == ' ' || ps.src[ps.pos] == '\t') {
		ps.pos++
	}
}

// parsePath parses `$` or `@` followed by segments. At top level the whole input is consumed by the
// caller's check; inside a filter parsing stops at the first character that cannot continue a path.
func (ps *parser) parsePath(top bool) ([]segment, error) {
	if top {
		if ps.peek() != '$' {
			return nil, ps.errf("a path must start with $")
		}
		ps.pos++
	}
	var segs []segment
	for ps.pos < len(ps.src) {
		c := ps.src[ps.pos]
		switch {
		case c == '.' && strings.HasPrefix(ps.src[ps.pos:], ".."):
			ps.pos += 2
			seg, err := ps.afterDot()
			if err != nil {
				if ps.peek() == '[' {
					seg, err = ps.bracket()
				}
				if err != nil {
					return nil, err
				}
			}
			seg.deep = true
			segs = append(segs, seg)
		case c == '.':
			ps.pos++
			seg, err := ps.afterDot()
			if err != nil {
				return nil, err
			}
			segs = append(segs, seg)
		case c == '[':
			seg, err := ps.bracket()
			if err != nil {
				return nil, err
			}
			segs = append(segs, seg)
		default:
			if top {
				return nil, ps.errf("unexpected character %q", c)
			}
			return segs, nil
		}
		if len(segs) > 0 && segs[len(segs)-1].kind == segFunc && ps.pos < len(ps.src) && top {
			return nil, ps.errf("a function must end the path")
		}
	}
	return segs, nil
}

func isNameByte(c byte) bool {
	return c != '.' && c != '[' && c != ']' && c != '(' && c != ')' && c != ' ' && c != ',' &&
		c != '\'' && c != '"' && c != '=' && c != '<' && c != '>' && c != '!' && c != '&' && c != '|' &&
		c != '\t' && c != '?' && c != '@' && c != '$' && c != '*'
}

func (ps *parser) afterDot() (segment, error) {
	if ps.peek() == '*' {
		ps.pos++
		return segment{kind: segWildcard}, nil
	}
	start := ps.pos
	for ps.pos < len(ps.src) && isNameByte(ps.src[ps.pos]) {
		ps.pos++
	}
	if ps.pos == start {
		return segment{}, ps.errf("expected a field name")
	}
	name := ps.src[start:ps.pos]
	if strings.HasPrefix(ps.src[ps.pos:], "()") {
		switch name {
		case "length", "size", "min", "max", "sum", "avg", "keys", "first", "last":
			ps.pos += 2
			return segment{kind: segFunc, name: name}, nil
		}
		return segment{}, ps.errf("unknown function %s()", name)
	}
	return segment{kind: segName, name: name}, nil
}

func (ps *parser) bracket() (segment, error) {
	ps.pos++ // [
	ps.skipSpace()
	var seg segment
	switch c := ps.peek(); {
	case c == '*':
		ps.pos++
		seg = segment{kind: segWildcard}
	case c == '?':
		ps.pos++
		ps.skipSpace()
		if ps.peek() != '(' {
			return seg, ps.errf("expected ( after ?")
		}
		ps.pos++
		e, err := ps.parseOr()
		if err != nil {
			return seg, err
		}
		ps.skipSpace()
		if ps.peek() != ')' {
			return seg, ps.errf("expected ) to close the filter")
		}
		ps.pos++
		seg = segment{kind: segFilter, filter: e}
	case c == '\'' || c == '"':
		var names []string
		for {
			s, err := ps.quoted()
			if err != nil {
				return seg, err
			}
			names = append(names, s)
			ps.skipSpace()
			if ps.peek() != ',' {
				break
			}
			ps.pos++
			ps.skipSpace()
		}
		if len(names) == 1 {
			seg = segment{kind: segName, name: names[0]}
		} else {
			seg = segment{kind: segNames, names: names}
		}
	default:
		var err error
		seg, err = ps.indexes()
		if err != nil {
			return seg, err
		}
	}
	ps.skipSpace()
	if ps.peek() != ']' {
		return seg, ps.errf("expected ]")
	}
	ps.pos++
	return seg, nil
}

func (ps *parser) quoted() (string, error) {
	q := ps.peek()
	if q != '\'' && q != '"' {
		return "", ps.errf("expected a quoted name")
	}
	ps.pos++
	var b strings.Builder
	for ps.pos < len(ps.src) {
		c := ps.src[ps.pos]
		switch {
		case c == '\\' && ps.pos+1 < len(ps.src):
			b.WriteByte(ps.src[ps.pos+1])
			ps.pos += 2
		case c == q:
			ps.pos++
			return b.String(), nil
		default:
			b.WriteByte(c)
			ps.pos++
		}
	}
	return "", ps.errf("unterminated string")
}

func (ps *parser) int() (int, bool) {
	start := ps.pos
	if ps.peek() == '-' {
		ps.pos++
	}
	for ps.pos < len(ps.src) && ps.src[ps.pos] >= '0' && ps.src[ps.pos] <= '9' {
		ps.pos++
	}
	n, err := strconv.Atoi(ps.src[start:ps.pos])
	if err != nil || ps.pos-start > 9 {
		ps.pos = start
		return 0, false
	}
	return n, true
}

func (ps *parser) indexes() (segment, error) {
	if ps.peek() == ':' {
		ps.pos++
		ps.skipSpace()
		to, ok := ps.int()
		if !ok {
			return segment{kind: segSlice}, nil
		}
		return segment{kind: segSlice, to: &to}, nil
	}
	first, ok := ps.int()
	if !ok {
		return segment{}, ps.errf("expected an index, a quoted name, * or a filter")
	}
	ps.skipSpace()
	switch ps.peek() {
	case ':':
		ps.pos++
		ps.skipSpace()
		seg := segment{kind: segSlice, from: &first}
		if to, ok := ps.int(); ok {
			seg.to = &to
		}
		return seg, nil
	case ',':
		idx := []int{first}
		for ps.peek() == ',' {
			ps.pos++
			ps.skipSpace()
			n, ok := ps.int()
			if !ok {
				return segment{}, ps.errf("expected an index")
			}
			idx = append(idx, n)
			ps.skipSpace()
		}
		return segment{kind: segIndexes, indexes: idx}, nil
	}
	return segment{kind: segIndex, index: first}, nil
}
