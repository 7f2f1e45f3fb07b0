package jsonata

import (
	"fmt"
	"regexp"
	"strings"
)

// JSONata regular expressions are JavaScript regular expressions. They are translated to Go's RE2
// syntax, keeping the JavaScript meanings of ., \s, \uXXXX and [^]; a pattern with lookaround or
// backreferences, which RE2 lacks, runs on the backtracking matcher (regex_backtrack.go).

// errNeedsBacktracking marks a pattern RE2 cannot run.
type errNeedsBacktracking struct{ what string }

func (e errNeedsBacktracking) Error() string { return e.what + " are not supported by RE2" }

func compileRegex(pattern, flags string) (jsRegexp, error) {
	tr, err := translateRegex(pattern, strings.Contains(flags, "s"))
	if _, ok := err.(errNeedsBacktracking); ok || (err == nil && strings.Contains(flags, "i")) {
		// RE2 folds case by Unicode simple folding (ſ matches s); JavaScript by upper-casing.
		return compileBacktrack(pattern, flags)
	}
	if err != nil {
		return nil, err
	}
	prefix := ""
	if strings.Contains(flags, "i") {
		prefix += "i"
	}
	if strings.Contains(flags, "m") {
		prefix += "m"
	}
	if prefix != "" {
		tr = "(?" + prefix + ")" + tr
	}
	re, err := regexp.Compile(tr)
	if err != nil {
		return nil, err
	}
	return re2Regexp{re}, nil
}

const jsSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

func translateRegex(p string, dotAll bool) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("\\ at end of pattern")
			}
			i++
			e := p[i]
			switch {
			case e == 's':
				if inClass {
					b.WriteString(jsSpace)
				} else {
					b.WriteString("[" + jsSpace + "]")
				}
			case e == 'S' && !inClass:
				b.WriteString("[^" + jsSpace + "]")
			case e == 'u' && i+4 < len(p) && isHex4(p[i+1:i+5]):
				b.WriteString(`\x{` + p[i+1:i+5] + `}`)
				i += 4
			case e == 'x' && i+2 < len(p) && isHex4("00"+p[i+1:i+3]):
				b.WriteString(`\x{` + p[i+1:i+3] + `}`)
				i += 2
			case e >= '1' && e <= '9':
				return "", errNeedsBacktracking{"backreferences"}
			case e == '0':
				b.WriteString(`\x{0}`)
			case e == 'c' && i+1 < len(p):
				i++
				b.WriteString(fmt.Sprintf(`\x{%x}`, p[i]%32))
			case e == '/':
				b.WriteString("/")
			case e == 'd' || e == 'D' || e == 'w' || e == 'W' || e == 'b' || e == 'B' || e == 'S' ||
				e == 'n' || e == 'r' || e == 't' || e == 'f' || e == 'v':
				b.WriteByte('\\')
				b.WriteByte(e)
			case e == '-' && inClass:
				b.WriteString(`\-`)
			case strings.IndexByte(`\.^$|?*+()[]{}`, e) >= 0:
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				// an identity escape: the character itself
				b.WriteString(regexp.QuoteMeta(string(e)))
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
			if c == '[' {
				b.WriteString(`\[`)
				continue
			}
			b.WriteByte(c)
		case c == '[':
			if strings.HasPrefix(p[i:], "[^]") {
				b.WriteString(`[\x{0}-\x{10ffff}]`)
				i += 2
				continue
			}
			if strings.HasPrefix(p[i:], "[]") {
				b.WriteString(`[^\x{0}-\x{10ffff}]`)
				i++
				continue
			}
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '.':
			if dotAll {
				b.WriteString(`[\x{0}-\x{10ffff}]`)
			} else {
				b.WriteString(`[^\n\r\x{2028}\x{2029}]`)
			}
		case strings.HasPrefix(p[i:], "(?=") || strings.HasPrefix(p[i:], "(?!") ||
			strings.HasPrefix(p[i:], "(?<=") || strings.HasPrefix(p[i:], "(?<!"):
			return "", errNeedsBacktracking{"lookaround assertions"}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// matchResult is one match: byte offsets into the string, the groups (undefined for a group that
// did not take part), and how to find the next match.
type matchResult struct {
	match      string
	start, end int // byte offsets
	groups     []any
	next       func() (*matchResult, *Error)
}

// toObject is the object jsonata-js's regex closure returns: {match, start, end, groups, next}.
func (m *matchResult) toObject(s string) *object {
	o := newObject()
	o.set("match", m.match)
	o.set("start", float64(utf16Index(s, m.start)))
	o.set("end", float64(utf16Index(s, m.end)))
	o.set("groups", newArray(m.groups))
	next := m.next
	o.set("next", &nativeFn{arity: 0, fn: func(c *call, args []any) (any, *Error) {
		n, err := next()
		if err != nil || n == nil {
			return Undefined, err
		}
		return n.toObject(s), nil
	}})
	return o
}

// regexMatcher returns the matcher for a regular expression: the first match in s, whose next
// gives the following ones as JavaScript's exec with the g flag would (a zero-length match after
// the first is D1004).
func regexMatcher(ev *evaluator, r *regexFn) func(s string) (*matchResult, *Error) {
	return func(s string) (*matchResult, *Error) {
		all, steps, ferr := r.re.findAll(s)
		if ferr != nil {
			return nil, ferr
		}
		if err := ev.charge(steps / 16); err != nil {
			return nil, err
		}
		var build func(i int) *matchResult
		build = func(i int) *matchResult {
			loc := all[i]
			m := &matchResult{match: s[loc[0]:loc[1]], start: loc[0], end: loc[1]}
			for g := 1; g < len(loc)/2; g++ {
				if loc[2*g] < 0 {
					m.groups = append(m.groups, Undefined)
				} else {
					m.groups = append(m.groups, s[loc[2*g]:loc[2*g+1]])
				}
			}
			m.next = func() (*matchResult, *Error) {
				if m.end >= len(s) {
					return nil, nil
				}
				if m.start == m.end || i+1 >= len(all) {
					if m.start == m.end {
						return nil, &Error{Code: "D1004", Position: r.pos, info: &errInfo{value: r.source}}
					}
					return nil, nil
				}
				n := build(i + 1)
				if n.match == "" {
					return nil, &Error{Code: "D1004", Position: r.pos, info: &errInfo{value: r.source}}
				}
				return n, nil
			}
			return m
		}
		if len(all) == 0 {
			return nil, nil
		}
		return build(0), nil
	}
}

// matcherFor turns a regex or a user matcher function into a Go matcher.
func (c *call) matcherFor(f any) func(s string) (*matchResult, *Error) {
	if r, ok := f.(*regexFn); ok {
		return regexMatcher(c.ev, r)
	}
	return func(s string) (*matchResult, *Error) {
		res, err := c.callFn(f, s)
		if err != nil {
			return nil, err
		}
		return c.fromMatchObject(res, s)
	}
}

func (c *call) fromMatchObject(res any, s string) (*matchResult, *Error) {
	if isUndef(res) || res == nil {
		return nil, nil
	}
	o, ok := res.(*object)
	if !ok {
		return nil, &Error{Code: "T1010"}
	}
	start, _ := o.val("start").(float64)
	end, _ := o.val("end").(float64)
	_, hasStart := o.val("start").(float64)
	ga, hasGroups := o.val("groups").(*array)
	nf := o.val("next")
	if !hasStart && !hasGroups && !isFunction(nf) {
		return nil, &Error{Code: "T1010"}
	}
	m := &matchResult{start: byteIndex(s, int(start)), end: byteIndex(s, int(end))}
	if ms, ok := o.val("match").(string); ok {
		m.match = ms
	}
	if ga != nil {
		m.groups = ga.items
	}
	m.next = func() (*matchResult, *Error) {
		if !isFunction(nf) {
			return nil, &Error{Code: "U1010", info: &errInfo{
				message: "The matcher function's result has no next function (jsonata-js fails with a TypeError calling it)"}}
		}
		r, err := c.callFn(nf)
		if err != nil {
			return nil, err
		}
		return c.fromMatchObject(r, s)
	}
	return m, nil
}

// byteIndex converts a UTF-16 offset into a byte offset of s (clamped).
func byteIndex(s string, u int) int {
	if u <= 0 {
		return 0
	}
	n := 0
	for i, r := range s {
		if n >= u {
			return i
		}
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return len(s)
}
