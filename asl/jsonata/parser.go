package jsonata

// The parser is a Pratt (top-down operator precedence) parser in the manner of jsonata-js: each token
// has a left binding power (operators), a prefix handler (nud) and an infix handler (led). The tree it
// builds is then rewritten by process (postprocess.go) into paths, steps, predicates and stages.

type parser struct {
	lex lexer
	cur token
	src string
}

// parse parses src into a processed AST.
func parse(src string) (n *node, err *Error) {
	p := &parser{lex: lexer{src: src}, src: src}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				n, err = nil, e
				return
			}
			panic(r)
		}
	}()
	p.advance("", false)
	ast := p.expression(0)
	if p.cur.kind != tokEnd {
		p.fail("S0201", p.cur.pos, p.tokenText(), "")
	}
	pp := &postprocessor{}
	res := pp.process(ast)
	if res.typ == nParent || res.seekingParent != nil {
		p.fail("S0217", res.pos, typeName(res.typ), "")
	}
	return res, nil
}

// fail aborts parsing with an error; parse recovers it.
func (p *parser) fail(code string, pos int, tok, value string) {
	panic(syntaxErr(code, pos, tok, value))
}

func (p *parser) tokenText() string {
	if p.cur.kind == tokEnd {
		return "(end)"
	}
	return p.cur.value
}

// id is the token's identity for the parser: the operator symbol, or a class name.
func (t token) id() string {
	switch t.kind {
	case tokOperator:
		return t.value
	case tokEnd:
		return "(end)"
	case tokName, tokVariable:
		return "(name)"
	case tokRegex:
		return "(regex)"
	}
	return "(literal)"
}

func (t token) lbp() int {
	if t.kind == tokOperator {
		return operators[t.value]
	}
	return 0
}

func (p *parser) advance(id string, infix bool) {
	if id != "" && p.cur.id() != id {
		code := "S0202"
		if p.cur.kind == tokEnd {
			code = "S0203"
		}
		p.fail(code, p.cur.pos, p.tokenText(), id)
	}
	t, err := p.lex.next(infix)
	if err != nil {
		panic(err)
	}
	if t.kind == tokOperator && (t.value == "!" || t.value == "~") {
		p.fail("S0204", t.pos, t.value, "")
	}
	p.cur = t
}

func (p *parser) expression(rbp int) *node {
	t := p.cur
	p.advance("", true)
	left := p.nud(t)
	for rbp < p.cur.lbp() {
		t = p.cur
		p.advance("", false)
		left = p.led(t, left)
	}
	return left
}

func (p *parser) nud(t token) *node {
	switch t.kind {
	case tokEnd:
		return &node{typ: nEnd, pos: t.pos}
	case tokName:
		return &node{typ: nName, value: t.value, pos: t.pos}
	case tokVariable:
		return &node{typ: nVariable, value: t.value, pos: t.pos}
	case tokString:
		return &node{typ: nString, value: t.value, pos: t.pos}
	case tokNumber:
		return &node{typ: nNumber, num: t.num, pos: t.pos}
	case tokValue:
		return &node{typ: nValue, val: t.val, value: t.value, pos: t.pos}
	case tokRegex:
		re, err := compileRegex(t.value, t.flags)
		if err != nil {
			p.fail("S0303", t.pos, t.value, err.Error())
		}
		return &node{typ: nRegex, value: t.value, re: re, reSource: t.value, pos: t.pos}
	}
	switch t.value {
	case "and", "or", "in":
		return &node{typ: nName, value: t.value, pos: t.pos}
	case "-":
		e := p.expression(70)
		if e.typ == nNumber {
			e.num = -e.num
			return e
		}
		return &node{typ: nUnary, value: "-", lhs: e, pos: t.pos}
	case "*":
		return &node{typ: nWildcard, value: "*", pos: t.pos}
	case "**":
		return &node{typ: nDescendant, value: "**", pos: t.pos}
	case "%":
		return &node{typ: nParent, value: "%", pos: t.pos}
	case "(":
		var exprs []*node
		for p.cur.id() != ")" {
			exprs = append(exprs, p.expression(0))
			if p.cur.id() != ";" {
				break
			}
			p.advance(";", false)
		}
		p.advance(")", true)
		return &node{typ: nBlock, expressions: exprs, pos: t.pos}
	case "[":
		var items []*node
		if p.cur.id() != "]" {
			for {
				item := p.expression(0)
				if p.cur.id() == ".." {
					pos := p.cur.pos
					p.advance("..", false)
					item = &node{typ: nBinary, value: "..", lhs: item, rhs: p.expression(0), pos: pos}
				}
				items = append(items, item)
				if p.cur.id() != "," {
					break
				}
				p.advance(",", false)
			}
		}
		p.advance("]", true)
		return &node{typ: nUnary, value: "[", expressions: items, pos: t.pos}
	case "{":
		return &node{typ: nUnary, value: "{", pairs: p.objectPairs(), pos: t.pos}
	case "|":
		n := &node{typ: nTransform, pos: t.pos}
		n.pattern = p.expression(0)
		p.advance("|", false)
		n.update = p.expression(0)
		if p.cur.id() == "," {
			p.advance(",", false)
			n.delete = p.expression(0)
		}
		p.advance("|", false)
		return n
	}
	e := syntaxErr("S0211", t.pos, t.value, "")
	if (t.value == ":" || t.value == "?") && t.pos >= 2 && p.src[t.pos-2] == '?' {
		// ?: and ?? are JSONata 2.1 operators; Step Functions runs 2.0.6, which rejects them.
		e.info = &errInfo{message: "The symbol \"" + t.value + "\" cannot be used as a unary operator: ?" + t.value +
			" is a JSONata 2.1 operator, and Step Functions runs JSONata 2.0.6, which does not have it"}
		e.render()
	}
	panic(e)
}

func (p *parser) objectPairs() []pair {
	var pairs []pair
	if p.cur.id() != "}" {
		for {
			k := p.expression(0)
			p.advance(":", false)
			v := p.expression(0)
			pairs = append(pairs, pair{k, v})
			if p.cur.id() != "," {
				break
			}
			p.advance(",", false)
		}
	}
	p.advance("}", true)
	return pairs
}

func (p *parser) led(t token, left *node) *node {
	bp := t.lbp()
	switch t.value {
	case "+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "&", "and", "or", "in":
		return &node{typ: nBinary, value: t.value, lhs: left, rhs: p.expression(bp), pos: t.pos}
	case ".":
		return &node{typ: nDot, value: ".", lhs: left, rhs: p.expression(bp), pos: t.pos}
	case "~>":
		return &node{typ: nApply, value: "~>", lhs: left, rhs: p.expression(bp), pos: t.pos}
	case ":=":
		if left.typ != nVariable {
			p.fail("S0212", left.pos, left.value, "")
		}
		return &node{typ: nBind, value: ":=", lhs: left, rhs: p.expression(bp - 1), pos: t.pos}
	case "?":
		n := &node{typ: nCondition, condition: left, pos: t.pos}
		n.then = p.expression(0)
		if p.cur.id() == ":" {
			p.advance(":", false)
			n.els = p.expression(0)
		}
		return n
	case "@", "#":
		rhs := p.expression(bp)
		if rhs.typ != nVariable {
			p.fail("S0214", rhs.pos, t.value, "")
		}
		typ := nFocus
		if t.value == "#" {
			typ = nIndex
		}
		return &node{typ: typ, value: t.value, lhs: left, rhs: rhs, pos: t.pos}
	case "{":
		return &node{typ: nGroupBy, value: "{", lhs: left, pairs: p.objectPairs(), pos: t.pos}
	case "^":
		p.advance("(", false)
		var terms []sortTerm
		for {
			term := sortTerm{}
			if p.cur.id() == "<" {
				p.advance("<", false)
			} else if p.cur.id() == ">" {
				term.descending = true
				p.advance(">", false)
			}
			term.expr = p.expression(0)
			terms = append(terms, term)
			if p.cur.id() != "," {
				break
			}
			p.advance(",", false)
		}
		p.advance(")", false)
		return &node{typ: nOrderBy, value: "^", lhs: left, terms: terms, pos: t.pos}
	case "[":
		if p.cur.id() == "]" {
			step := left
			for step != nil && step.typ == nPredicate {
				step = step.lhs
			}
			step.keepArray = true
			p.advance("]", false)
			return left
		}
		n := &node{typ: nPredicate, value: "[", lhs: left, pos: t.pos}
		n.rhs = p.expression(0)
		p.advance("]", true)
		return n
	case "(":
		return p.call(t, left)
	}
	p.fail("S0201", t.pos, t.value, "")
	return nil
}

func (p *parser) call(t token, left *node) *node {
	n := &node{typ: nFunction, procedure: left, pos: t.pos}
	if p.cur.id() != ")" {
		for {
			if p.cur.kind == tokOperator && p.cur.value == "?" {
				n.typ = nPartial
				n.arguments = append(n.arguments, &node{typ: nPlaceholder, value: "?", pos: p.cur.pos})
				p.advance("?", false)
			} else {
				n.arguments = append(n.arguments, p.expression(0))
			}
			if p.cur.id() != "," {
				break
			}
			p.advance(",", false)
		}
	}
	p.advance(")", true)
	if left.typ != nName || (left.value != "function" && left.value != "λ") {
		return n
	}
	// a lambda definition
	for i, a := range n.arguments {
		if a.typ != nVariable {
			p.fail("S0208", a.pos, a.value, itoa(i+1))
		}
	}
	n.typ = nLambda
	if p.cur.id() == "<" {
		sigPos := p.cur.pos
		depth := 1
		sig := "<"
		for depth > 0 && p.cur.id() != "{" && p.cur.kind != tokEnd {
			p.advance("", false)
			switch p.cur.id() {
			case ">":
				depth--
			case "<":
				depth++
			}
			sig += p.cur.value
		}
		p.advance(">", false)
		s, err := parseSignature(sig)
		if err != nil {
			err.Position = sigPos + err.Position
			panic(err)
		}
		n.sig = s
	}
	p.advance("{", false)
	n.body = p.expression(0)
	p.advance("}", false)
	return n
}
