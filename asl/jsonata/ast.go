package jsonata

// nodeType is the kind of an AST node, after jsonata-js's node types.
type nodeType int

const (
	nPath nodeType = iota
	nBinary
	nUnary // array constructor "[", object constructor "{", negation "-"
	nName
	nString
	nNumber
	nValue // true, false, null
	nWildcard
	nDescendant
	nParent
	nCondition
	nBlock
	nBind
	nRegex
	nFunction
	nPartial
	nVariable
	nLambda
	nApply
	nTransform
	nSort
	nPlaceholder // the '?' argument of a partial application
	nOrderBy     // parser-only: lhs ^( terms )
	nGroupBy     // parser-only: lhs { pairs }
	nPredicate   // parser-only: lhs [ expr ]
	nFocus       // parser-only: lhs @ $v
	nIndex       // parser-only: lhs # $i
	nDot         // parser-only: lhs . rhs
	nEnd         // parser-only: the end of the expression where an operand was expected
)

// slot is the ancestry label a parent operator (%) binds to.
type slot struct {
	label string
	level int
	index int
}

// stage is a predicate filter or a positional binding applied after a step.
type stage struct {
	filter *node  // a predicate
	index  string // a #$var binding
	pos    int
}

// sortTerm is one term of an order-by clause.
type sortTerm struct {
	descending bool
	expr       *node
}

// pair is one key/value pair of an object constructor or group-by.
type pair struct{ key, value *node }

// node is one AST node. Which fields are used depends on typ.
type node struct {
	typ   nodeType
	value string // operator, name, variable name, string literal
	num   float64
	val   any // nValue
	pos   int

	lhs, rhs    *node
	expressions []*node // block, array constructor
	steps       []*node // path
	procedure   *node   // function, partial
	arguments   []*node // function, partial, lambda parameters
	body        *node   // lambda
	sig         *signature
	condition   *node
	then, els   *node
	pattern     *node // transform
	update      *node
	delete      *node
	pairs       []pair
	terms       []sortTerm
	re          jsRegexp
	reSource    string

	// annotations made by the AST post-processing
	keepArray          bool // a[] on this step
	keepSingletonArray bool // on a path
	consarray          bool
	predicate          []stage
	stages             []stage
	group              *groupBy
	focus              string
	index              string
	hasFocus, hasIndex bool
	tuple              bool
	ancestor           *slot
	seekingParent      []*slot
	slot               *slot
	thunk              bool
}

type groupBy struct {
	pairs []pair
	pos   int
}
