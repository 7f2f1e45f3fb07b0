// Package intrinsic parses and evaluates Step Functions' intrinsic functions (States.Format,
// States.Array, States.Hash, ...), the calls allowed as the value of a `.$` field in JSONPath mode.
//
// A call's arguments are single-quoted string literals (with `\'`, `\{`, `\}` and `\\` escapes),
// numbers, true, false, null, paths (`$.x`, `$$.Execution.Id`, `$var.x`) and nested calls. Paths
// are resolved through [Env.Resolve], supplied by the interpreter, so this package reads no state of
// its own. Randomness and UUIDs also come from [Env]: evaluation is deterministic given its inputs.
// A call that breaks an argument rule fails with an [*Error], which the interpreter reports as
// States.IntrinsicFailure. No input makes Parse or Eval panic.
package intrinsic

import (
	"errors"
	"fmt"
	"strings"

	"github.com/duro-dev/duro/asl/jsonv"
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("invalid intrinsic function")

// Error is an evaluation failure of an intrinsic function (States.IntrinsicFailure).
type Error struct {
	Func    string
	Message string
}

// Error formats the error as "States.Func: message".
func (e *Error) Error() string { return e.Func + ": " + e.Message }

func failf(fn, format string, args ...any) *Error {
	return &Error{Func: fn, Message: fmt.Sprintf(format, args...)}
}

// maxNesting bounds nested calls so hostile definitions cannot exhaust the stack.
const maxNesting = 32

// Env supplies what a call may read: paths, randomness and UUIDs.
type Env struct {
	// Resolve returns the value of a path argument (`$...`, `$$...` or `$name...`).
	Resolve func(path string) (any, error)
	// Random returns a number in [0, 1) for States.MathRandom without a seed.
	Random func() float64
	// UUID returns a version 4 UUID for States.UUID.
	UUID func() string
}

type argKind int

const (
	argLiteral argKind = iota
	argPath
	argCall
)

// Arg is one argument of a call.
type Arg struct {
	kind argKind
	lit  any    // literal value (strings unescaped)
	raw  string // a string literal's text between the quotes, escapes kept (Format's template)
	path string
	call *Call
}

// Call is a parsed intrinsic function call.
type Call struct {
	Name string
	Args []Arg
}

// Paths returns every path argument of the call and its nested calls, in order.
func (c *Call) Paths() []string {
	var out []string
	for _, a := range c.Args {
		switch a.kind {
		case argPath:
			out = append(out, a.path)
		case argCall:
			out = append(out, a.call.Paths()...)
		}
	}
	return out
}

// Looks reports whether s is meant as an intrinsic function call (it starts with "States.").
func Looks(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "States.") }

// Parse parses one call; the whole string must be the call.
func Parse(s string) (c *Call, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%w: %q: %v", ErrSyntax, s, r)
		}
	}()
	p := &parser{src: s}
	p.space()
	c, err = p.call(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(s) {
		return nil, p.errf("unexpected %q after the call", s[p.pos:])
	}
	return c, nil
}

type parser struct {
	src string
	pos int
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%w %q at offset %d: %s", ErrSyntax, p.src, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) space() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) call(depth int) (*Call, error) {
	if depth > maxNesting {
		return nil, p.errf("calls nested too deeply")
	}
	start := p.pos
	for p.pos < len(p.src) && (isIdent(p.src[p.pos]) || p.src[p.pos] == '.') {
		p.pos++
	}
	name := p.src[start:p.pos]
	if _, ok := functions[name]; !ok {
		if name == "" {
			return nil, p.errf("expected a function name")
		}
		return nil, p.errf("unknown function %s", name)
	}
	p.space()
	if p.peek() != '(' {
		return nil, p.errf("expected ( after %s", name)
	}
	p.pos++
	c := &Call{Name: name}
	p.space()
	if p.peek() == ')' {
		p.pos++
		return c, nil
	}
	for {
		p.space()
		a, err := p.arg(depth)
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, a)
		p.space()
		switch p.peek() {
		case ',':
			p.pos++
			continue
		case ')':
			p.pos++
			return c, nil
		}
		return nil, p.errf("expected , or ) in the arguments of %s", name)
	}
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func (p *parser) arg(depth int) (Arg, error) {
	c := p.peek()
	switch {
	case c == '\'':
		p.pos++
		var val, raw strings.Builder
		for {
			if p.pos >= len(p.src) {
				return Arg{}, p.errf("unterminated string")
			}
			ch := p.src[p.pos]
			if ch == '\\' {
				if p.pos+1 >= len(p.src) {
					return Arg{}, p.errf("unterminated escape")
				}
				next := p.src[p.pos+1]
				switch next {
				case '\'', '{', '}', '\\':
				default:
					return Arg{}, p.errf("invalid escape \\%c", next)
				}
				raw.WriteByte('\\')
				raw.WriteByte(next)
				val.WriteByte(next)
				p.pos += 2
				continue
			}
			p.pos++
			if ch == '\'' {
				break
			}
			raw.WriteByte(ch)
			val.WriteByte(ch)
		}
		return Arg{kind: argLiteral, lit: val.String(), raw: raw.String()}, nil
	case c == '$':
		start := p.pos
		depthB, depthP := 0, 0
		var quote byte
	scan:
		for p.pos < len(p.src) {
			ch := p.src[p.pos]
			switch {
			case quote != 0:
				if ch == '\\' {
					p.pos++
				} else if ch == quote {
					quote = 0
				}
			case ch == '\'' || ch == '"':
				if depthB == 0 {
					break scan
				}
				quote = ch
			case ch == '[':
				depthB++
			case ch == ']':
				depthB--
			case ch == '(':
				depthP++
			case ch == ')':
				if depthP == 0 && depthB == 0 {
					break scan
				}
				depthP--
			case ch == ',' && depthB == 0 && depthP == 0:
				break scan
			case (ch == ' ' || ch == '\t') && depthB == 0 && depthP == 0:
				break scan
			}
			p.pos++
		}
		path := p.src[start:p.pos]
		return Arg{kind: argPath, path: path}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		p.pos++
		for p.pos < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[p.pos]) >= 0 {
			p.pos++
		}
		v, err := jsonv.Parse([]byte(p.src[start:p.pos]))
		if err != nil {
			return Arg{}, p.errf("invalid number %q", p.src[start:p.pos])
		}
		return Arg{kind: argLiteral, lit: v}, nil
	case strings.HasPrefix(p.src[p.pos:], "States."):
		call, err := p.call(depth + 1)
		if err != nil {
			return Arg{}, err
		}
		return Arg{kind: argCall, call: call}, nil
	}
	for _, kw := range []struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(p.src[p.pos:], kw.s) && (p.pos+len(kw.s) == len(p.src) || !isIdent(p.src[p.pos+len(kw.s)])) {
			p.pos += len(kw.s)
			return Arg{kind: argLiteral, lit: kw.v}, nil
		}
	}
	return Arg{}, p.errf("expected an argument")
}

// value is an evaluated argument, keeping a string literal's raw text for States.Format.
type value struct {
	v      any
	raw    string
	hasRaw bool
}

// Eval evaluates the call. Argument-rule failures are *Error; a failing path resolution returns the
// resolver's error unchanged, so the interpreter can report it as it reports any path failure.
func (c *Call) Eval(env Env) (any, error) {
	return c.eval(env, 0)
}

func (c *Call) eval(env Env, depth int) (any, error) {
	if depth > maxNesting {
		return nil, failf(c.Name, "calls nested too deeply")
	}
	args := make([]value, len(c.Args))
	for i, a := range c.Args {
		switch a.kind {
		case argLiteral:
			_, isStr := a.lit.(string)
			args[i] = value{v: a.lit, raw: a.raw, hasRaw: isStr}
		case argPath:
			if env.Resolve == nil {
				return nil, failf(c.Name, "no path resolver")
			}
			v, err := env.Resolve(a.path)
			if err != nil {
				return nil, err
			}
			args[i] = value{v: v}
		case argCall:
			v, err := a.call.eval(env, depth+1)
			if err != nil {
				return nil, err
			}
			args[i] = value{v: v}
		}
	}
	fn := functions[c.Name]
	return fn(c.Name, args, env)
}
