package jsonata

import (
	"fmt"
	"strings"
	"testing"

	"github.com/duro-dev/duro/asl/jsonv"
)

// benchExpr is a typical Step Functions Output/Arguments expression: field access, arithmetic,
// a filter and $map over 100 items.
const benchExpr = `{
  "orderId": $states.input.order.id,
  "total": $sum($states.input.order.items.(price * quantity)),
  "discounted": $round($sum($states.input.order.items.(price * quantity)) * (1 - $discount), 2),
  "lines": $map($states.input.order.items, function($it, $i) {
    {"n": $i + 1, "sku": $uppercase($it.sku), "amount": $it.price * $it.quantity}
  }),
  "bulky": $count($states.input.order.items[quantity > 5])
}`

func benchInput(b *testing.B) map[string]any {
	var sb strings.Builder
	sb.WriteString(`{"input":{"order":{"id":"o-1","items":[`)
	for i := 0; i < 100; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"sku":"sku-%d","price":%d.25,"quantity":%d}`, i, i%17+1, i%9)
	}
	sb.WriteString(`]}}}`)
	states, err := jsonv.Parse([]byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	return map[string]any{"states": states, "discount": jsonv.Number("0.1")}
}

func BenchmarkEvalTypical(b *testing.B) {
	e := MustCompile(benchExpr)
	vars := benchInput(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Eval(nil, vars, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompileTypical(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(benchExpr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvalFieldAccess(b *testing.B) {
	e := MustCompile(`$states.input.order.id & "/" & $string($count($states.input.order.items))`)
	vars := benchInput(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Eval(nil, vars, nil); err != nil {
			b.Fatal(err)
		}
	}
}
