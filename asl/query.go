package asl

import (
	"errors"
	"time"

	"github.com/duro-dev/duro/asl/jsonata"
)

// queryExpr is a compiled JSONata expression. The interpreter reaches JSONata only through this
// seam (compileQuery, queryUndefined, queryErrorMessage), which keeps the evaluator's types out of
// the rest of the package.
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

// queryUndefined is what a queryExpr returns for JSONata's undefined.
var queryUndefined any = jsonata.Undefined

// jsonataAvailable reports whether JSONata expressions can be compiled in this build.
const jsonataAvailable = true

type jsonataExpr struct{ e *jsonata.Expr }

// compileQuery compiles a JSONata expression as Step Functions runs it (its added functions on).
func compileQuery(src string) (queryExpr, error) {
	e, err := jsonata.Compile(src)
	if err != nil {
		return nil, err
	}
	return jsonataExpr{e}, nil
}

func (j jsonataExpr) eval(input any, vars map[string]any, opts queryOptions) (any, error) {
	return j.e.Eval(input, vars, &jsonata.Options{Now: opts.now, Random: opts.random, UUID: opts.uuid, StepFunctions: true})
}

// queryErrorMessage renders an evaluation error for a States.QueryEvaluationError cause.
func queryErrorMessage(err error) string {
	var je *jsonata.Error
	if errors.As(err, &je) {
		return je.Code + ": " + je.Message
	}
	return err.Error()
}
