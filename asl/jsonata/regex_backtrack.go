package jsonata

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A backtracking matcher for the JavaScript regular expressions RE2 cannot run: those with
// lookahead, lookbehind or backreferences. It works on code points, follows JavaScript's
// leftmost, priority-ordered backtracking, and is bounded by a step budget (U1002) so a
// pathological pattern cannot run forever.

// jsRegexp finds every match of a regular expression, as submatch byte offsets.
type jsRegexp interface {
	// findAll returns the matches and the work it took (backtracking steps; 0 for RE2).
	findAll(s string) ([][]int, int, *Error)
}

type re2Regexp struct {
	re interface{ FindAllStringSubmatchIndex(string, int) [][]int }
}

func (r re2Regexp) findAll(s string) ([][]int, int, *Error) {
	return r.re.FindAllStringSubmatchIndex(s, -1), 0, nil
}

const btMaxSteps = 5_000_000

type btKind int

const (
	btChar btKind = iota
	btAny
	btClass
	btGroup // capturing (index > 0) or not
	btLook  // lookahead / lookbehind
	btBackref
	btBOL
	btEOL
	btWordB
	btNotWordB
	btAlt
)

type btRange struct{ lo, hi rune }

type btNode struct {
	kind    btKind
	r       rune
	ranges  []btRange
	negate  bool
	index   int         // capture group index (0 = non-capturing)
	alts    [][]*btTerm // for btGroup, btLook, btAlt
	behind  bool
	negLook bool
	ref     int
	refName string
}

type btTerm struct {
	atom     *btNode
	min, max int // max < 0: unbounded
	greedy   bool
}

type btRegex struct {
	root      *btNode
	ngroups   int
	names     map[string]int
	icase     bool
	multiline bool
	dotAll    bool
}

type btParser struct {
	p     []rune
	i     int
	ngrp  int
	names map[string]int
}

func compileBacktrack(pattern, flags string) (*btRegex, error) {
	bp := &btParser{p: []rune(pattern), names: map[string]int{}}
	alts, err := bp.alternation()
	if err != nil {
		return nil, err
	}
	if bp.i < len(bp.p) {
		return nil, fmt.Errorf("unmatched ) in regular expression")
	}
	return &btRegex{root: &btNode{kind: btAlt, alts: alts}, ngroups: bp.ngrp, names: bp.names,
		icase: strings.Contains(flags, "i"), multiline: strings.Contains(flags, "m"), dotAll: strings.Contains(flags, "s")}, nil
}

func (bp *btParser) more() bool { return bp.i < len(bp.p) }

func (bp *btParser) alternation() ([][]*btTerm, error) {
	var alts [][]*btTerm
	for {
		seq, err := bp.sequence()
		if err != nil {
			return nil, err
		}
		alts = append(alts, seq)
		if bp.more() && bp.p[bp.i] == '|' {
			bp.i++
			continue
		}
		return alts, nil
	}
}

func (bp *btParser) sequence() ([]*btTerm, error) {
	var seq []*btTerm
	for bp.more() && bp.p[bp.i] != '|' && bp.p[bp.i] != ')' {
		atom, err := bp.atom()
		if err != nil {
			return nil, err
		}
		t := &btTerm{atom: atom, min: 1, max: 1, greedy: true}
		if bp.more() {
			switch bp.p[bp.i] {
			case '*':
				t.min, t.max = 0, -1
				bp.i++
			case '+':
				t.min, t.max = 1, -1
				bp.i++
			case '?':
				t.min, t.max = 0, 1
				bp.i++
			case '{':
				if mn, mx, n, ok := parseBraces(bp.p[bp.i:]); ok {
					t.min, t.max = mn, mx
					bp.i += n
				}
			}
			if (t.min != 1 || t.max != 1) && bp.more() && bp.p[bp.i] == '?' {
				t.greedy = false
				bp.i++
			}
		}
		if atom.kind == btLook && (t.min != 1 || t.max != 1) && atom.behind {
			return nil, fmt.Errorf("nothing to repeat")
		}
		seq = append(seq, t)
	}
	return seq, nil
}

// parseBraces reads {n}, {n,} or {n,m}; anything else is a literal brace in JavaScript.
func parseBraces(p []rune) (int, int, int, bool) {
	s := string(p)
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, 0, 0, false
	}
	body := s[1:end]
	lo, hi, comma := strings.Cut(body, ",")
	mn, err := strconv.Atoi(lo)
	if err != nil {
		return 0, 0, 0, false
	}
	mx := mn
	if comma {
		if hi == "" {
			mx = -1
		} else if mx, err = strconv.Atoi(hi); err != nil {
			return 0, 0, 0, false
		}
	}
	return mn, mx, utf8.RuneCountInString(s[:end+1]), true
}

func (bp *btParser) atom() (*btNode, error) {
	c := bp.p[bp.i]
	bp.i++
	switch c {
	case '.':
		return &btNode{kind: btAny}, nil
	case '^':
		return &btNode{kind: btBOL}, nil
	case '$':
		return &btNode{kind: btEOL}, nil
	case '[':
		return bp.class()
	case '(':
		n := &btNode{kind: btGroup}
		rest := string(bp.p[bp.i:])
		switch {
		case strings.HasPrefix(rest, "?:"):
			bp.i += 2
		case strings.HasPrefix(rest, "?="), strings.HasPrefix(rest, "?!"):
			n.kind, n.negLook = btLook, rest[1] == '!'
			bp.i += 2
		case strings.HasPrefix(rest, "?<="), strings.HasPrefix(rest, "?<!"):
			n.kind, n.behind, n.negLook = btLook, true, rest[2] == '!'
			bp.i += 3
		case strings.HasPrefix(rest, "?<"):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return nil, fmt.Errorf("invalid group name")
			}
			bp.ngrp++
			n.index = bp.ngrp
			bp.names[rest[2:end]] = n.index
			bp.i += utf8.RuneCountInString(rest[:end+1])
		default:
			bp.ngrp++
			n.index = bp.ngrp
		}
		alts, err := bp.alternation()
		if err != nil {
			return nil, err
		}
		if !bp.more() || bp.p[bp.i] != ')' {
			return nil, fmt.Errorf("unterminated group")
		}
		bp.i++
		n.alts = alts
		return n, nil
	case '\\':
		return bp.escape(false)
	case '*', '+', '?':
		return nil, fmt.Errorf("nothing to repeat")
	}
	return &btNode{kind: btChar, r: c}, nil
}

var (
	digitRanges = []btRange{{'0', '9'}}
	wordRanges  = []btRange{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}
	spaceRanges = []btRange{{'\t', '\r'}, {' ', ' '}, {0xa0, 0xa0}, {0x1680, 0x1680}, {0x2000, 0x200a},
		{0x2028, 0x2029}, {0x202f, 0x202f}, {0x205f, 0x205f}, {0x3000, 0x3000}, {0xfeff, 0xfeff}}
)

// escape reads an escape after '\'. In a class, \b is a backspace.
func (bp *btParser) escape(inClass bool) (*btNode, error) {
	if !bp.more() {
		return nil, fmt.Errorf("\\ at end of pattern")
	}
	c := bp.p[bp.i]
	bp.i++
	cls := func(r []btRange, neg bool) *btNode { return &btNode{kind: btClass, ranges: r, negate: neg} }
	switch c {
	case 'd':
		return cls(digitRanges, false), nil
	case 'D':
		return cls(digitRanges, true), nil
	case 'w':
		return cls(wordRanges, false), nil
	case 'W':
		return cls(wordRanges, true), nil
	case 's':
		return cls(spaceRanges, false), nil
	case 'S':
		return cls(spaceRanges, true), nil
	case 'b':
		if inClass {
			return &btNode{kind: btChar, r: '\b'}, nil
		}
		return &btNode{kind: btWordB}, nil
	case 'B':
		return &btNode{kind: btNotWordB}, nil
	case 'n':
		return &btNode{kind: btChar, r: '\n'}, nil
	case 'r':
		return &btNode{kind: btChar, r: '\r'}, nil
	case 't':
		return &btNode{kind: btChar, r: '\t'}, nil
	case 'f':
		return &btNode{kind: btChar, r: '\f'}, nil
	case 'v':
		return &btNode{kind: btChar, r: '\v'}, nil
	case '0':
		return &btNode{kind: btChar, r: 0}, nil
	case 'x', 'u':
		n := 2
		if c == 'u' {
			n = 4
		}
		if bp.i+n <= len(bp.p) {
			if v, err := strconv.ParseUint(string(bp.p[bp.i:bp.i+n]), 16, 32); err == nil {
				bp.i += n
				return &btNode{kind: btChar, r: rune(v)}, nil
			}
		}
		return &btNode{kind: btChar, r: c}, nil
	case 'c':
		if bp.more() {
			r := bp.p[bp.i]
			bp.i++
			return &btNode{kind: btChar, r: r % 32}, nil
		}
	case 'k':
		if !inClass && bp.more() && bp.p[bp.i] == '<' {
			rest := string(bp.p[bp.i:])
			if end := strings.IndexByte(rest, '>'); end > 0 {
				bp.i += utf8.RuneCountInString(rest[:end+1])
				return &btNode{kind: btBackref, refName: rest[1:end]}, nil
			}
		}
	}
	if c >= '1' && c <= '9' && !inClass {
		j := bp.i
		for j < len(bp.p) && bp.p[j] >= '0' && bp.p[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(string(bp.p[bp.i-1 : j]))
		bp.i = j
		return &btNode{kind: btBackref, ref: n}, nil
	}
	return &btNode{kind: btChar, r: c}, nil
}

func (bp *btParser) class() (*btNode, error) {
	n := &btNode{kind: btClass}
	if bp.more() && bp.p[bp.i] == '^' {
		n.negate = true
		bp.i++
	}
	for {
		if !bp.more() {
			return nil, fmt.Errorf("unterminated character class")
		}
		if bp.p[bp.i] == ']' {
			bp.i++
			return n, nil
		}
		lo, sub, err := bp.classAtom()
		if err != nil {
			return nil, err
		}
		if sub != nil {
			n.ranges = append(n.ranges, classRanges(sub)...)
			continue
		}
		if bp.i+1 < len(bp.p) && bp.p[bp.i] == '-' && bp.p[bp.i+1] != ']' {
			bp.i++
			hi, sub2, err := bp.classAtom()
			if err != nil {
				return nil, err
			}
			if sub2 != nil {
				n.ranges = append(n.ranges, btRange{lo, lo}, btRange{'-', '-'})
				n.ranges = append(n.ranges, classRanges(sub2)...)
				continue
			}
			if hi < lo {
				return nil, fmt.Errorf("range out of order in character class")
			}
			n.ranges = append(n.ranges, btRange{lo, hi})
			continue
		}
		n.ranges = append(n.ranges, btRange{lo, lo})
	}
}

// classRanges returns the ranges of a class escape inside a class (a negated one is complemented).
func classRanges(n *btNode) []btRange {
	if !n.negate {
		return n.ranges
	}
	var out []btRange
	next := rune(0)
	for _, r := range n.ranges {
		if r.lo > next {
			out = append(out, btRange{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	return append(out, btRange{next, unicode.MaxRune})
}

func (bp *btParser) classAtom() (rune, *btNode, error) {
	c := bp.p[bp.i]
	bp.i++
	if c != '\\' {
		return c, nil, nil
	}
	e, err := bp.escape(true)
	if err != nil {
		return 0, nil, err
	}
	if e.kind == btClass {
		return 0, e, nil
	}
	if e.kind == btBackref {
		return rune(e.ref), nil, nil
	}
	return e.r, nil, nil
}

// btMatcher is the state of one search.
type btMatcher struct {
	re    *btRegex
	in    []rune
	caps  []int // rune offsets, 2 per group, -1 when unset
	steps int
	over  bool
}

func (re *btRegex) findAll(s string) ([][]int, int, *Error) {
	in := []rune(s)
	// byte offset of each rune position
	offs := make([]int, len(in)+1)
	b := 0
	for i, r := range in {
		offs[i] = b
		b += utf8.RuneLen(r)
	}
	offs[len(in)] = b
	m := &btMatcher{re: re, in: in, caps: make([]int, 2*(re.ngroups+1))}
	var out [][]int
	prevEnd := -1
	for start := 0; start <= len(in); {
		for i := range m.caps {
			m.caps[i] = -1
		}
		end := -1
		ok := m.alt(re.root.alts, start, func(p int) bool { end = p; return true })
		if m.over {
			return nil, m.steps, &Error{Code: "U1002"}
		}
		if !ok {
			start++
			continue
		}
		if end == start && start == prevEnd {
			// like Go's FindAll: an empty match right after the previous match is skipped
			start++
			continue
		}
		m.caps[0], m.caps[1] = start, end
		loc := make([]int, len(m.caps))
		for i, c := range m.caps {
			if c < 0 {
				loc[i] = -1
			} else {
				loc[i] = offs[c]
			}
		}
		out = append(out, loc)
		prevEnd = end
		if end > start {
			start = end
		} else {
			start++
		}
	}
	return out, m.steps, nil
}

func (m *btMatcher) tick() bool {
	m.steps++
	if m.steps > btMaxSteps {
		m.over = true
	}
	return !m.over
}

func (m *btMatcher) alt(alts [][]*btTerm, pos int, k func(int) bool) bool {
	for _, seq := range alts {
		if m.seq(seq, 0, pos, k) {
			return true
		}
		if m.over {
			return false
		}
	}
	return false
}

func (m *btMatcher) seq(seq []*btTerm, i, pos int, k func(int) bool) bool {
	if !m.tick() {
		return false
	}
	if i == len(seq) {
		return k(pos)
	}
	t := seq[i]
	return m.repeat(t, 0, pos, -1, func(p int) bool { return m.seq(seq, i+1, p, k) })
}

// repeat matches term t count more times from pos; last is where the previous iteration started
// (an iteration that matches empty ends the loop, as in JavaScript).
func (m *btMatcher) repeat(t *btTerm, count, pos, last int, k func(int) bool) bool {
	if !m.tick() {
		return false
	}
	canMore := t.max < 0 || count < t.max
	if count >= t.min && pos == last {
		return k(pos)
	}
	try := func() bool {
		if !canMore {
			return false
		}
		saved := m.saveCaps()
		if m.atom(t.atom, pos, func(p int) bool { return m.repeat(t, count+1, p, pos, k) }) {
			return true
		}
		m.restore(saved)
		return false
	}
	if count < t.min {
		return try()
	}
	if t.greedy {
		return try() || (!m.over && k(pos))
	}
	return k(pos) || (!m.over && try())
}

// saveCaps saves the captures, to restore them when an iteration is backtracked.
func (m *btMatcher) saveCaps() []int { return append([]int(nil), m.caps...) }

func (m *btMatcher) restore(saved []int) { copy(m.caps, saved) }

func (m *btMatcher) fold(r rune) rune {
	if !m.re.icase {
		return r
	}
	u := unicode.ToUpper(r)
	if r >= 128 && u < 128 {
		return r
	}
	return u
}

func (m *btMatcher) inClass(n *btNode, r rune) bool {
	in := func(r rune) bool {
		for _, rg := range n.ranges {
			if r >= rg.lo && r <= rg.hi {
				return true
			}
		}
		return false
	}
	hit := in(r)
	if !hit && m.re.icase {
		hit = in(unicode.ToUpper(r)) || in(unicode.ToLower(r))
	}
	return hit != n.negate
}

func isWordRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
}

func isLineTerm(r rune) bool { return r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029 }

func (m *btMatcher) atom(n *btNode, pos int, k func(int) bool) bool {
	in := m.in
	switch n.kind {
	case btChar:
		if pos < len(in) && m.fold(in[pos]) == m.fold(n.r) {
			return k(pos + 1)
		}
		return false
	case btAny:
		if pos < len(in) && (m.re.dotAll || !isLineTerm(in[pos])) {
			return k(pos + 1)
		}
		return false
	case btClass:
		if pos < len(in) && m.inClass(n, in[pos]) {
			return k(pos + 1)
		}
		return false
	case btBOL:
		if pos == 0 || (m.re.multiline && isLineTerm(in[pos-1])) {
			return k(pos)
		}
		return false
	case btEOL:
		if pos == len(in) || (m.re.multiline && isLineTerm(in[pos])) {
			return k(pos)
		}
		return false
	case btWordB, btNotWordB:
		a := pos > 0 && isWordRune(in[pos-1])
		b := pos < len(in) && isWordRune(in[pos])
		if (a != b) == (n.kind == btWordB) {
			return k(pos)
		}
		return false
	case btBackref:
		idx := n.ref
		if n.refName != "" {
			idx = m.re.names[n.refName]
		}
		if idx <= 0 || idx > m.re.ngroups || m.caps[2*idx] < 0 {
			return k(pos)
		}
		sub := in[m.caps[2*idx]:m.caps[2*idx+1]]
		if pos+len(sub) > len(in) {
			return false
		}
		for i, r := range sub {
			if m.fold(in[pos+i]) != m.fold(r) {
				return false
			}
		}
		return k(pos + len(sub))
	case btGroup:
		if n.index == 0 {
			return m.alt(n.alts, pos, k)
		}
		oldS, oldE := m.caps[2*n.index], m.caps[2*n.index+1]
		if m.alt(n.alts, pos, func(p int) bool {
			ps, pe := m.caps[2*n.index], m.caps[2*n.index+1]
			m.caps[2*n.index], m.caps[2*n.index+1] = pos, p
			if k(p) {
				return true
			}
			m.caps[2*n.index], m.caps[2*n.index+1] = ps, pe
			return false
		}) {
			return true
		}
		m.caps[2*n.index], m.caps[2*n.index+1] = oldS, oldE
		return false
	case btLook:
		saved := append([]int(nil), m.caps...)
		var ok bool
		if n.behind {
			for start := pos; start >= 0 && !ok && !m.over; start-- {
				ok = m.alt(n.alts, start, func(p int) bool { return p == pos })
			}
		} else {
			ok = m.alt(n.alts, pos, func(int) bool { return true })
		}
		if m.over {
			return false
		}
		if ok == n.negLook {
			copy(m.caps, saved)
			return false
		}
		if n.negLook {
			copy(m.caps, saved)
		}
		if k(pos) {
			return true
		}
		copy(m.caps, saved)
		return false
	case btAlt:
		return m.alt(n.alts, pos, k)
	}
	return false
}
