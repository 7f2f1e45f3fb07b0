package jsonata

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// tokenKind classifies a lexical token.
type tokenKind int

const (
	tokEnd tokenKind = iota
	tokOperator
	tokString
	tokNumber
	tokValue // true, false, null
	tokName
	tokVariable
	tokRegex
)

// token is one lexical token. pos is the offset just past the token, as jsonata-js reports it.
type token struct {
	kind  tokenKind
	value string // operator symbol, name, variable name, string value, regex pattern
	num   float64
	val   any // for tokValue
	flags string
	pos   int
}

// operators maps each operator symbol to its left binding power: infix operators bind, while
// separators (: ; , ..), closing brackets and the prefix-only | and ** bind nothing. ! and ~ are
// lexed but are not operators of the language (S0204).
var operators = map[string]int{
	".": 75, "[": 80, "]": 0, "{": 70, "}": 0, "(": 80, ")": 0, ",": 0, "@": 80, "#": 80, ";": 0,
	":": 0, "?": 20, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "|": 0, "=": 40, "<": 40,
	">": 40, "^": 40, "**": 0, "..": 0, ":=": 10, "!=": 40, "<=": 40, ">=": 40, "~>": 40,
	"and": 30, "or": 25, "in": 40, "&": 50, "!": 0, "~": 0,
}

var escapes = map[byte]string{'"': "\"", '\\': "\\", '/': "/", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t"}

// lexer turns an expression into tokens on demand. The parser tells it whether an operand may start
// here (prefix position), which decides whether '/' begins a regular expression or is division.
type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// isNameStop reports whether c ends a name.
func isNameStop(c byte) bool {
	return isSpace(c) || strings.IndexByte("\"'`.[]{}(),@#;:?+-*/%|=<>^&!~", c) >= 0
}

func (l *lexer) next(infix bool) (token, *Error) {
	src := l.src
	for {
		for l.pos < len(src) && isSpace(src[l.pos]) {
			l.pos++
		}
		if strings.HasPrefix(src[l.pos:], "/*") {
			end := strings.Index(src[l.pos+2:], "*/")
			if end < 0 {
				return token{}, syntaxErr("S0106", l.pos, "", "")
			}
			l.pos += end + 4
			continue
		}
		break
	}
	if l.pos >= len(src) {
		return token{kind: tokEnd, pos: l.pos}, nil
	}
	c := src[l.pos]
	if !infix && c == '/' {
		l.pos++
		return l.regex()
	}
	if l.pos+1 < len(src) {
		two := src[l.pos : l.pos+2]
		switch two {
		case "..", ":=", "!=", ">=", "<=", "**", "~>":
			l.pos += 2
			return token{kind: tokOperator, value: two, pos: l.pos}, nil
		}
	}
	if _, ok := operators[string(c)]; ok {
		l.pos++
		return token{kind: tokOperator, value: string(c), pos: l.pos}, nil
	}
	if c == '"' || c == '\'' {
		return l.str(c)
	}
	if c >= '0' && c <= '9' {
		return l.number()
	}
	if c == '`' {
		end := strings.IndexByte(src[l.pos+1:], '`')
		if end < 0 {
			l.pos = len(src)
			return token{}, syntaxErr("S0105", l.pos, "", "")
		}
		name := src[l.pos+1 : l.pos+1+end]
		l.pos += end + 2
		return token{kind: tokName, value: name, pos: l.pos}, nil
	}
	start := l.pos
	i := l.pos
	for i < len(src) && !isNameStop(src[i]) {
		i++
	}
	word := src[start:i]
	l.pos = i
	if word[0] == '$' {
		return token{kind: tokVariable, value: word[1:], pos: l.pos}, nil
	}
	switch word {
	case "and", "or", "in":
		return token{kind: tokOperator, value: word, pos: l.pos}, nil
	case "true":
		return token{kind: tokValue, val: true, value: word, pos: l.pos}, nil
	case "false":
		return token{kind: tokValue, val: false, value: word, pos: l.pos}, nil
	case "null":
		return token{kind: tokValue, val: nil, value: word, pos: l.pos}, nil
	}
	if word == "" {
		// an unknown single character (cannot happen: every stop character is an operator or quote)
		l.pos++
		return token{}, syntaxErr("S0204", l.pos, src[start:l.pos], "")
	}
	return token{kind: tokName, value: word, pos: l.pos}, nil
}

func (l *lexer) str(quote byte) (token, *Error) {
	src := l.src
	var b strings.Builder
	i := l.pos + 1
	for i < len(src) {
		c := src[i]
		if c == '\\' {
			i++
			if i >= len(src) {
				break
			}
			e := src[i]
			if s, ok := escapes[e]; ok {
				b.WriteString(s)
				i++
				continue
			}
			if e == 'u' {
				if i+5 > len(src) || !isHex4(src[i+1:i+5]) {
					l.pos = i
					return token{}, syntaxErr("S0104", i, "", "")
				}
				cp, _ := strconv.ParseUint(src[i+1:i+5], 16, 32)
				i += 5
				r := rune(cp)
				if utf16.IsSurrogate(r) {
					// a surrogate pair written as two escapes
					if r < 0xdc00 && i+6 <= len(src) && src[i] == '\\' && src[i+1] == 'u' && isHex4(src[i+2:i+6]) {
						lo, _ := strconv.ParseUint(src[i+2:i+6], 16, 32)
						if lo >= 0xdc00 && lo <= 0xdfff {
							b.WriteRune(utf16.DecodeRune(r, rune(lo)))
							i += 6
							continue
						}
					}
					b.WriteRune(utf8.RuneError)
					continue
				}
				b.WriteRune(r)
				continue
			}
			l.pos = i
			return token{}, syntaxErr("S0103", i, string(e), "")
		}
		if c == quote {
			l.pos = i + 1
			return token{kind: tokString, value: b.String(), pos: l.pos}, nil
		}
		b.WriteByte(c)
		i++
	}
	l.pos = len(src)
	return token{}, syntaxErr("S0101", l.pos, "", "")
}

func isHex4(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)? (the sign is an operator).
func (l *lexer) number() (token, *Error) {
	src := l.src
	i := l.pos
	if src[i] == '0' {
		i++
	} else {
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if i+1 < len(src) && src[i] == '.' && src[i+1] >= '0' && src[i+1] <= '9' {
		i++
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		j := i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && src[j] >= '0' && src[j] <= '9' {
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			i = j
		}
	}
	text := src[l.pos:i]
	l.pos = i
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || isInf(f) {
		return token{}, syntaxErr("S0102", l.pos, text, "")
	}
	return token{kind: tokNumber, num: f, value: text, pos: l.pos}, nil
}

// regex scans a regular expression literal after its opening '/'.
func (l *lexer) regex() (token, *Error) {
	src := l.src
	start := l.pos
	depth := 0
	i := start
	for i < len(src) {
		c := src[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '[' {
			depth++
		} else if c == ']' && depth > 0 {
			depth--
		} else if c == '/' && depth == 0 {
			pattern := src[start:i]
			if pattern == "" {
				return token{}, syntaxErr("S0301", start, "", "")
			}
			i++
			fs := i
			// jsonata-js takes only the i and m flags (every regex is global)
			for i < len(src) && (src[i] == 'i' || src[i] == 'm') {
				i++
			}
			l.pos = i
			return token{kind: tokRegex, value: pattern, flags: src[fs:i], pos: l.pos}, nil
		}
		i++
	}
	l.pos = len(src)
	return token{}, syntaxErr("S0302", l.pos, "", "")
}
