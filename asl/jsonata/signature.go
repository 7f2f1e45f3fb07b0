package jsonata

import (
	"regexp"
	"strings"
)

// signature is a parsed function signature such as <s-nn?:s>. Arguments are matched by turning
// each argument into a one-letter type symbol and matching the string of symbols against a regular
// expression built from the parameters, as jsonata-js does; the return type is ignored.
type signature struct {
	params []sigParam
	re     *regexp.Regexp
}

type sigParam struct {
	typ       string // s n b l o a f j x, or "(sn)" for a choice
	regex     string
	context   bool // '-': the context value stands in for a missing argument
	contextRe *regexp.Regexp
	subtype   string // the parameter of a<...> or f<...>
}

var sigCache = map[string]*signature{}

// mustSig parses a built-in signature; a bad one is a programming error.
func mustSig(s string) *signature {
	sig, err := parseSignature(s)
	if err != nil {
		panic("jsonata: bad built-in signature " + s)
	}
	return sig
}

func parseSignature(sig string) (*signature, *Error) {
	var params []sigParam
	var param sigParam
	prev := -1
	next := func() {
		params = append(params, param)
		prev = len(params) - 1
		param = sigParam{}
	}
	closing := func(start int, open, close byte) int {
		depth := 1
		pos := start
		for pos < len(sig) {
			pos++
			if pos >= len(sig) {
				break
			}
			c := sig[pos]
			if c == close {
				depth--
				if depth == 0 {
					break
				}
			} else if c == open {
				depth++
			}
		}
		return pos
	}
	for pos := 1; pos < len(sig); pos++ {
		c := sig[pos]
		if c == ':' {
			break
		}
		switch c {
		case 's', 'n', 'b', 'l', 'o':
			param.regex = "[" + string(c) + "m]"
			param.typ = string(c)
			next()
		case 'a':
			param.regex = "[asnblfom]"
			param.typ = "a"
			next()
		case 'f':
			param.regex = "f"
			param.typ = "f"
			next()
		case 'j':
			param.regex = "[asnblom]"
			param.typ = "j"
			next()
		case 'x':
			param.regex = "[asnblfom]"
			param.typ = "x"
			next()
		case '-':
			if prev >= 0 {
				p := &params[prev]
				p.context = true
				p.contextRe = regexp.MustCompile(p.regex)
				p.regex += "?"
			}
		case '?', '+':
			if prev >= 0 {
				params[prev].regex += string(c)
			}
		case '(':
			end := closing(pos, '(', ')')
			if end > len(sig) {
				end = len(sig)
			}
			choice := sig[pos+1 : end]
			if strings.Contains(choice, "<") {
				return nil, &Error{Code: "S0402", Position: pos, info: &errInfo{value: choice}}
			}
			param.regex = "[" + regexp.QuoteMeta(choice) + "m]"
			param.typ = "(" + choice + ")"
			pos = end
			next()
		case '<':
			if prev >= 0 && (params[prev].typ == "a" || params[prev].typ == "f") {
				end := closing(pos, '<', '>')
				if end > len(sig) {
					end = len(sig)
				}
				params[prev].subtype = sig[pos+1 : end]
				pos = end
			} else {
				typ := ""
				if prev >= 0 {
					typ = params[prev].typ
				}
				return nil, &Error{Code: "S0401", Position: pos, info: &errInfo{value: typ}}
			}
		}
	}
	var b strings.Builder
	b.WriteString("^")
	for _, p := range params {
		b.WriteString("(")
		b.WriteString(p.regex)
		b.WriteString(")")
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, &Error{Code: "S0401", info: &errInfo{value: sig}}
	}
	return &signature{params: params, re: re}, nil
}

// symbol is the one-letter type symbol of a value.
func symbol(v any) byte {
	switch v.(type) {
	case string:
		return 's'
	case float64:
		return 'n'
	case bool:
		return 'b'
	case nil:
		return 'l'
	case *array:
		return 'a'
	case *object:
		return 'o'
	case undefinedType:
		return 'm'
	}
	if isFunction(v) {
		return 'f'
	}
	return 'm'
}

var arrayTypeNames = map[string]string{"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings"}

// validate checks args against the signature and returns the arguments to call with: the context
// value stands in for a missing '-' argument and a non-array is wrapped where an array is expected.
func (s *signature) validate(args []any, context any) ([]any, *Error) {
	sym := make([]byte, len(args))
	for i, a := range args {
		sym[i] = symbol(a)
	}
	m := s.re.FindStringSubmatch(string(sym))
	if m == nil {
		return nil, s.validationError(args, string(sym))
	}
	out := make([]any, 0, len(s.params))
	argIndex := 0
	for i, p := range s.params {
		match := m[i+1]
		if match == "" {
			if p.context && p.contextRe != nil {
				ct := string(symbol(context))
				if p.contextRe.MatchString(ct) {
					out = append(out, context)
				} else {
					return nil, &Error{Code: "T0411", info: &errInfo{value: context, index: argIndex + 1}}
				}
			} else {
				out = append(out, argAt(args, argIndex))
				argIndex++
			}
			continue
		}
		for j := 0; j < len(match); j++ {
			single := match[j]
			if p.typ == "a" {
				var arg any
				if single == 'm' {
					arg = Undefined
				} else {
					arg = argAt(args, argIndex)
					ok := true
					if p.subtype != "" {
						if single != 'a' && match != p.subtype {
							ok = false
						} else if single == 'a' {
							arr := arg.(*array)
							if len(arr.items) > 0 {
								it := symbol(arr.items[0])
								if it != p.subtype[0] {
									ok = false
								} else {
									for _, v := range arr.items {
										if symbol(v) != it {
											ok = false
											break
										}
									}
								}
							}
						}
					}
					if !ok {
						return nil, &Error{Code: "T0412", info: &errInfo{value: arg, index: argIndex + 1, typ: arrayTypeNames[p.subtype]}}
					}
					if single != 'a' {
						arg = newArray([]any{arg})
					}
				}
				out = append(out, arg)
				argIndex++
			} else {
				out = append(out, argAt(args, argIndex))
				argIndex++
			}
		}
	}
	return out, nil
}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return Undefined
}

func (s *signature) validationError(args []any, sym string) *Error {
	partial := "^"
	goodTo := 0
	for _, p := range s.params {
		partial += p.regex
		re, err := regexp.Compile(partial)
		if err != nil {
			break
		}
		loc := re.FindStringIndex(sym)
		if loc == nil {
			return &Error{Code: "T0410", info: &errInfo{value: argAt(args, goodTo), index: goodTo + 1}}
		}
		goodTo = loc[1]
	}
	return &Error{Code: "T0410", info: &errInfo{value: argAt(args, goodTo), index: goodTo + 1}}
}
