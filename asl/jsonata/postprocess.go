package jsonata

import "strconv"

// postprocessor rewrites the parse tree the way jsonata-js's processAST does: dotted expressions
// become paths of steps, predicates attach to steps as stages, order-by becomes a sort step,
// context/positional bindings mark steps as tuple-producing, parent references (%) are resolved to
// the step whose input they name, and lambda bodies are marked for tail calls.
type postprocessor struct {
	ancestorLabel int
	ancestorIndex int
	ancestry      []*node
}

func itoa(i int) string { return strconv.Itoa(i) }

func fail(code string, pos int, tok, value string) {
	panic(syntaxErr(code, pos, tok, value))
}

func (pp *postprocessor) process(expr *node) *node {
	var result *node
	switch expr.typ {
	case nDot:
		result = pp.processDot(expr)
	case nPredicate:
		result = pp.processPredicate(expr)
	case nGroupBy:
		result = pp.processGroupBy(expr)
	case nOrderBy:
		result = pp.processOrderBy(expr)
	case nBind:
		result = &node{typ: nBind, value: ":=", pos: expr.pos, lhs: expr.lhs}
		result.rhs = pp.process(expr.rhs)
		pushAncestry(result, result.rhs)
	case nFocus:
		result = pp.processFocus(expr)
	case nIndex:
		result = pp.processIndex(expr)
	case nApply:
		result = &node{typ: nApply, value: "~>", pos: expr.pos}
		result.lhs = pp.process(expr.lhs)
		result.rhs = pp.process(expr.rhs)
		result.keepArray = result.lhs.keepArray || result.rhs.keepArray
	case nBinary:
		result = &node{typ: nBinary, value: expr.value, pos: expr.pos}
		result.lhs = pp.process(expr.lhs)
		result.rhs = pp.process(expr.rhs)
		pushAncestry(result, result.lhs)
		pushAncestry(result, result.rhs)
	case nUnary:
		result = &node{typ: nUnary, value: expr.value, pos: expr.pos}
		switch expr.value {
		case "[":
			for _, item := range expr.expressions {
				v := pp.process(item)
				pushAncestry(result, v)
				result.expressions = append(result.expressions, v)
			}
		case "{":
			for _, pr := range expr.pairs {
				k := pp.process(pr.key)
				pushAncestry(result, k)
				v := pp.process(pr.value)
				pushAncestry(result, v)
				result.pairs = append(result.pairs, pair{k, v})
			}
		default: // "-"
			result.lhs = pp.process(expr.lhs)
			if result.lhs.typ == nNumber {
				result = result.lhs
				result.num = -result.num
			} else {
				pushAncestry(result, result.lhs)
			}
		}
		result.keepArray = expr.keepArray
	case nFunction, nPartial:
		result = &node{typ: expr.typ, pos: expr.pos, keepArray: expr.keepArray}
		for _, a := range expr.arguments {
			arg := pp.process(a)
			pushAncestry(result, arg)
			result.arguments = append(result.arguments, arg)
		}
		result.procedure = pp.process(expr.procedure)
	case nLambda:
		result = &node{typ: nLambda, arguments: expr.arguments, sig: expr.sig, pos: expr.pos}
		body := pp.process(expr.body)
		result.body = tailCallOptimize(body)
	case nCondition:
		result = &node{typ: nCondition, pos: expr.pos}
		result.condition = pp.process(expr.condition)
		pushAncestry(result, result.condition)
		result.then = pp.process(expr.then)
		pushAncestry(result, result.then)
		if expr.els != nil {
			result.els = pp.process(expr.els)
			pushAncestry(result, result.els)
		}
	case nTransform:
		result = &node{typ: nTransform, pos: expr.pos}
		result.pattern = pp.process(expr.pattern)
		result.update = pp.process(expr.update)
		if expr.delete != nil {
			result.delete = pp.process(expr.delete)
		}
	case nBlock:
		result = &node{typ: nBlock, pos: expr.pos}
		for _, e := range expr.expressions {
			v := pp.process(e)
			pushAncestry(result, v)
			if v.consarray || (v.typ == nPath && v.steps[0].consarray) {
				result.consarray = true
			}
			result.expressions = append(result.expressions, v)
		}
	case nName:
		result = &node{typ: nPath, steps: []*node{expr}, pos: expr.pos}
		if expr.keepArray {
			result.keepSingletonArray = true
		}
	case nParent:
		result = &node{typ: nParent, pos: expr.pos, slot: &slot{label: "!" + itoa(pp.ancestorLabel), level: 1, index: pp.ancestorIndex}}
		pp.ancestorLabel++
		pp.ancestorIndex++
		pp.ancestry = append(pp.ancestry, result)
	case nString, nNumber, nValue, nWildcard, nDescendant, nVariable, nRegex, nPlaceholder:
		result = expr
	case nEnd:
		fail("S0207", expr.pos, "(end)", "")
	default:
		fail("S0206", expr.pos, "", "")
	}
	if expr.keepArray {
		result.keepArray = true
	}
	return result
}

// processDot turns a . b into a path: steps are concatenated, string steps become names, literal
// steps are S0213, and array constructors at the ends of the path are marked not to flatten.
func (pp *postprocessor) processDot(expr *node) *node {
	var result *node
	lstep := pp.process(expr.lhs)
	if lstep.typ == nPath {
		result = lstep
	} else {
		result = &node{typ: nPath, steps: []*node{lstep}, pos: expr.pos}
	}
	if lstep.typ == nParent {
		result.seekingParent = []*slot{lstep.slot}
	}
	rest := pp.process(expr.rhs)
	if rest.typ == nPath {
		result.steps = append(result.steps, rest.steps...)
	} else {
		if rest.predicate != nil {
			rest.stages = rest.predicate
			rest.predicate = nil
		}
		result.steps = append(result.steps, rest)
	}
	for _, step := range result.steps {
		switch step.typ {
		case nNumber:
			fail("S0213", step.pos, "", formatNumber(step.num))
		case nValue:
			fail("S0213", step.pos, "", step.value)
		case nString:
			step.typ = nName
		}
		if step.keepArray {
			result.keepSingletonArray = true
		}
	}
	first := result.steps[0]
	if first.typ == nUnary && first.value == "[" {
		first.consarray = true
	}
	last := result.steps[len(result.steps)-1]
	if last.typ == nUnary && last.value == "[" {
		last.consarray = true
	}
	pp.resolveAncestry(result)
	return result
}

// processPredicate attaches a [predicate] to its step (as a stage on a path step).
func (pp *postprocessor) processPredicate(expr *node) *node {
	var result *node
	result = pp.process(expr.lhs)
	step := result
	onStages := false
	if result.typ == nPath {
		step = result.steps[len(result.steps)-1]
		onStages = true
	}
	if step.group != nil {
		fail("S0209", expr.pos, "", "")
	}
	pred := pp.process(expr.rhs)
	if pred.seekingParent != nil {
		for _, sl := range pred.seekingParent {
			if sl.level == 1 {
				pp.seekParent(step, sl)
			} else {
				sl.level--
			}
		}
		pushAncestry(step, pred)
	}
	st := stage{filter: pred, pos: expr.pos}
	if onStages {
		step.stages = append(step.stages, st)
	} else {
		step.predicate = append(step.predicate, st)
	}
	return result
}

// processGroupBy attaches a {key: value} grouping to a step.
func (pp *postprocessor) processGroupBy(expr *node) *node {
	var result *node
	result = pp.process(expr.lhs)
	if result.group != nil {
		fail("S0210", expr.pos, "", "")
	}
	// jsonata-js does not propagate parent references out of a group-by's pairs (a % there
	// that names nothing evaluates to undefined).
	g := &groupBy{pos: expr.pos}
	for _, pr := range expr.pairs {
		g.pairs = append(g.pairs, pair{pp.process(pr.key), pp.process(pr.value)})
	}
	result.group = g
	return result
}

// processOrderBy appends a sort step to the path.
func (pp *postprocessor) processOrderBy(expr *node) *node {
	var result *node
	result = pp.process(expr.lhs)
	if result.typ != nPath {
		result = &node{typ: nPath, steps: []*node{result}, pos: expr.pos}
	}
	sortStep := &node{typ: nSort, pos: expr.pos}
	for _, term := range expr.terms {
		e := pp.process(term.expr)
		pushAncestry(sortStep, e)
		sortStep.terms = append(sortStep.terms, sortTerm{descending: term.descending, expr: e})
	}
	result.steps = append(result.steps, sortStep)
	pp.resolveAncestry(result)
	return result
}

// processFocus marks a step as binding its context to a variable (@$v).
func (pp *postprocessor) processFocus(expr *node) *node {
	var result *node
	result = pp.process(expr.lhs)
	step := result
	if result.typ == nPath {
		step = result.steps[len(result.steps)-1]
	}
	if step.stages != nil || step.predicate != nil {
		fail("S0215", expr.pos, "", "")
	}
	if step.typ == nSort {
		fail("S0216", expr.pos, "", "")
	}
	if expr.keepArray {
		step.keepArray = true
	}
	step.focus = expr.rhs.value
	step.hasFocus = true
	step.tuple = true
	return result
}

// processIndex marks a step as binding its position to a variable (#$i).
func (pp *postprocessor) processIndex(expr *node) *node {
	var result *node
	result = pp.process(expr.lhs)
	step := result
	if result.typ == nPath {
		step = result.steps[len(result.steps)-1]
	} else {
		result = &node{typ: nPath, steps: []*node{result}, pos: expr.pos}
		if step.predicate != nil {
			step.stages = step.predicate
			step.predicate = nil
		}
	}
	if step.stages == nil {
		step.index = expr.rhs.value
		step.hasIndex = true
	} else {
		step.stages = append(step.stages, stage{index: expr.rhs.value, pos: expr.pos})
	}
	step.tuple = true
	return result
}

func tailCallOptimize(expr *node) *node {
	switch expr.typ {
	case nFunction:
		if expr.predicate == nil {
			return &node{typ: nLambda, thunk: true, pos: expr.pos, body: expr}
		}
	case nCondition:
		expr.then = tailCallOptimize(expr.then)
		if expr.els != nil {
			expr.els = tailCallOptimize(expr.els)
		}
	case nBlock:
		if n := len(expr.expressions); n > 0 {
			expr.expressions[n-1] = tailCallOptimize(expr.expressions[n-1])
		}
	}
	return expr
}

func (pp *postprocessor) seekParent(n *node, sl *slot) *slot {
	switch n.typ {
	case nName, nWildcard:
		sl.level--
		if sl.level == 0 {
			if n.ancestor != nil {
				pp.ancestry[sl.index].slot.label = n.ancestor.label
			}
			n.ancestor = sl
			n.tuple = true
		}
	case nParent:
		sl.level++
	case nBlock:
		if len(n.expressions) > 0 {
			n.tuple = true
			sl = pp.seekParent(n.expressions[len(n.expressions)-1], sl)
		}
	case nPath:
		n.tuple = true
		i := len(n.steps) - 1
		sl = pp.seekParent(n.steps[i], sl)
		i--
		for sl.level > 0 && i >= 0 {
			sl = pp.seekParent(n.steps[i], sl)
			i--
		}
	default:
		fail("S0217", n.pos, typeName(n.typ), "")
	}
	return sl
}

func typeName(t nodeType) string {
	switch t {
	case nBinary:
		return "binary"
	case nUnary:
		return "unary"
	case nString, nNumber, nValue:
		return "literal"
	case nFunction:
		return "function"
	case nVariable:
		return "variable"
	}
	return "expression"
}

func pushAncestry(result, value *node) {
	if value.seekingParent == nil && value.typ != nParent {
		return
	}
	slots := value.seekingParent
	if value.typ == nParent {
		slots = append(slots, value.slot)
	}
	result.seekingParent = append(result.seekingParent, slots...)
}

func (pp *postprocessor) resolveAncestry(path *node) {
	last := path.steps[len(path.steps)-1]
	slots := append([]*slot(nil), last.seekingParent...)
	if last.typ == nParent {
		slots = append(slots, last.slot)
	}
	for _, sl := range slots {
		index := len(path.steps) - 2
		for sl.level > 0 {
			if index < 0 {
				path.seekingParent = append(path.seekingParent, sl)
				break
			}
			step := path.steps[index]
			index--
			for index >= 0 && step.hasFocus && path.steps[index].hasFocus {
				step = path.steps[index]
				index--
			}
			sl = pp.seekParent(step, sl)
		}
	}
}
