package asl

import (
	"errors"
	"time"
)

// queryExpr is a compiled JSONata expression. The interpreter reaches JSONata only through this
// seam, so the evaluator (package asl/jsonata) plugs in without the rest of asl knowing its types.
type queryExpr interface {
	eval(input any, vars map[string]any, opts queryOptions) (any, error)
}

// queryOptions carries what JSONata's $now, $millis, $random and $uuid read: inputs of the
// decider, never the machine's clock or entropy.
type queryOptions struct {
	now    time.Time
	random func() float64
	uuid   func() string
}

// undefinedT is JSONata's undefined as the interpreter sees it.
type undefinedT struct{}

// queryUndefined is what a queryExpr returns for JSONata's undefined.
var queryUndefined any = undefinedT{}

var errNoJSONata = errors.New("JSONata is not available in this build")

// compileQuery compiles a JSONata expression.
func compileQuery(src string) (queryExpr, error) { return nil, errNoJSONata }

// queryErrorMessage renders an evaluation error for a States.QueryEvaluationError cause.
func queryErrorMessage(err error) string { return err.Error() }

// jsonataAvailable reports whether JSONata expressions can be compiled in this build.
const jsonataAvailable = false
