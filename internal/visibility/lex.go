package visibility

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokenKind classifies a lexical token of a query.
type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokIdent            // a bare or backtick-quoted name, or a keyword (see token.keyword)
	tokString           // a single- or double-quoted literal
	tokNumber           // an integer or decimal literal, possibly signed
	tokOp               // = != <> < <= > >=
	tokLParen
	tokRParen
	tokComma
)

// token is one lexical token. pos is its byte offset in the query, for messages.
type token struct {
	kind   tokenKind
	text   string // the name, the unquoted string, the number or the operator
	quoted bool   // a backtick-quoted name (never a keyword)
	pos    int
}

// keyword reports whether t is the (case-insensitive) keyword kw.
func (t token) keyword(kw string) bool {
	return t.kind == tokIdent && !t.quoted && strings.EqualFold(t.text, kw)
}

// maxQueryLength bounds a query's size, as a guard against abuse; Temporal's own queries are short.
const maxQueryLength = 64 << 10

// lex splits a query into tokens.
func lex(q string) ([]token, error) {
	if len(q) > maxQueryLength {
		return nil, errorf("query is longer than %d bytes", maxQueryLength)
	}
	if !utf8.ValidString(q) {
		return nil, errorf("query is not valid UTF-8")
	}
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, text: ")", pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, text: ",", pos: i})
			i++
		case c == '=':
			toks = append(toks, token{kind: tokOp, text: "=", pos: i})
			i++
		case c == '!' || c == '<' || c == '>':
			raw := q[i : i+1]
			if i+1 < len(q) && (q[i+1] == '=' || (c == '<' && q[i+1] == '>')) {
				raw = q[i : i+2]
			}
			if raw == "!" {
				return nil, errorf("unexpected '!' at position %d (did you mean !=?)", i)
			}
			op := raw
			if op == "<>" {
				op = "!="
			}
			toks = append(toks, token{kind: tokOp, text: op, pos: i})
			i += len(raw)
		case c == '\'' || c == '"':
			s, n, err := lexString(q[i:], i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokString, text: s, pos: i})
			i += n
		case c == '`':
			end := strings.IndexByte(q[i+1:], '`')
			if end < 0 {
				return nil, errorf("unterminated quoted name at position %d", i)
			}
			name := q[i+1 : i+1+end]
			if name == "" {
				return nil, errorf("empty quoted name at position %d", i)
			}
			toks = append(toks, token{kind: tokIdent, text: name, quoted: true, pos: i})
			i += end + 2
		case c >= '0' && c <= '9' || c == '.' || ((c == '-' || c == '+') && i+1 < len(q) && (q[i+1] >= '0' && q[i+1] <= '9' || q[i+1] == '.')):
			j := i + 1
			for j < len(q) && (q[j] >= '0' && q[j] <= '9' || q[j] == '.' || q[j] == 'e' || q[j] == 'E' ||
				((q[j] == '-' || q[j] == '+') && (q[j-1] == 'e' || q[j-1] == 'E'))) {
				j++
			}
			if j < len(q) && isIdentRune(rune(q[j])) {
				return nil, errorf("malformed number at position %d", i)
			}
			toks = append(toks, token{kind: tokNumber, text: q[i:j], pos: i})
			i = j
		default:
			r, size := utf8.DecodeRuneInString(q[i:])
			if !isIdentStart(r) {
				return nil, errorf("unexpected character %q at position %d", r, i)
			}
			j := i + size
			for j < len(q) {
				r, size := utf8.DecodeRuneInString(q[j:])
				if !isIdentRune(r) {
					break
				}
				j += size
			}
			toks = append(toks, token{kind: tokIdent, text: q[i:j], pos: i})
			i = j
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(q)}), nil
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentRune(r rune) bool {
	return r == '_' || r == '.' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// lexString reads a quoted literal at the start of s (offset pos in the query): the quote
// character doubled, or preceded by a backslash, stands for itself; \n, \t, \r, \0 and \\ are the
// usual escapes. It returns the literal's value and the bytes it spans.
func lexString(s string, pos int) (string, int, error) {
	quote := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote:
			if i+1 < len(s) && s[i+1] == quote {
				b.WriteByte(quote)
				i++
				continue
			}
			return b.String(), i + 1, nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, errorf("unterminated string at position %d", pos)
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errorf("unterminated string at position %d", pos)
}

// Error is a query the parser or validator refuses. Its message starts with "invalid query: ",
// as Temporal's do; the Temporal frontend answers it with InvalidArgument.
type Error struct {
	msg string
}

func (e *Error) Error() string { return "invalid query: " + e.msg }

func errorf(format string, args ...any) *Error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}
