package jsonata

import (
	"errors"
	"testing"

	"github.com/duro-dev/duro/asl/jsonv"
)

// FuzzCompileEval compiles and evaluates arbitrary expressions against a fixed input. It must never
// panic, and every error must be an *Error. Run it with
//
//	go test -run='^$' -fuzz=FuzzCompileEval -fuzztime=60s ./asl/jsonata/
func FuzzCompileEval(f *testing.F) {
	seeds := []string{
		"a.b.c", "$sum(a.b)", "a[0]", "a[b > 1].c", "**.c", "a.*", "%.x", "a.b.%.c", "a#$i.b", "a@$x.b",
		"a^(>b)", "a{b: c}", "{'x': a}", "[1..5]", "$map(a, function($v){$v.b})", "$f := function($x){$x}",
		"($f := function($n){$n < 1 ? 0 : $f($n - 1)}; $f(10))", "$ ~> |a|{'z': 1}|", "/a(b)?/i",
		"$match('abc', /b/)", "$replace('aa', /a/, '$0$0')", "$split('a,b', ',')", "$formatNumber(1234.5, '#,##0.00')",
		"$formatInteger(12, 'w')", "$fromMillis(0, '[Y0001]-[M01]-[D01]')", "$toMillis('2020-01-01')",
		"$string({'a': [1, 2.5]}, true)", "a ? b : c", "a and b or c", "'x' & 1", "a in [1, 2]",
		"$substring('hello', ?, 2)", "$sort(a, function($l, $r){$l.b > $r.b})", "$reduce([1,2], function($a,$b){$a+$b})",
		"$each({'a':1}, function($v,$k){$k})", "$sift({'a':1}, function($v){$v})", "$keys(a)", "$spread(a)",
		"$zip([1],[2])", "$distinct([1,1])", "$number('0x1F')", "$round(2.5)", "$pad('x', -3, '#')",
		"$base64decode('aGk=')", "$encodeUrl('a b')", "$parseInteger('twelve', 'w')", "a[[0..1]]", "a[]",
		"(a; b; c)", "$match('abab', /(ab)\\1/)", "$replace('a1', /(?<=a)\\d/, 'x')", "$split('a,b', /(?=,)/)", "`a b`", "\"\\u00e9\"", "$$.a", "$[0]", "function($x)<n-:n>{$x}(1)", "[[1]][0][0]",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	input, err := jsonv.Parse([]byte(`{"a":[{"b":1,"c":"x"},{"b":2,"c":[1,2]},{"b":3}],"b":{"c":{"d":[true,null]}},"s":"héllo","n":-2.5}`))
	if err != nil {
		f.Fatal(err)
	}
	opts := &Options{StepFunctions: true, MaxSteps: 200000, MaxDepth: 300,
		Random: func() float64 { return 0.5 }, UUID: func() string { return "u" }}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile(src)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("Compile(%q): error is %T", src, err)
			}
			if je.Code == "S0500" {
				t.Fatalf("Compile(%q): internal error: %v", src, err)
			}
			return
		}
		res, err := e.Eval(input, map[string]any{"v": jsonv.Number("1")}, opts)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("Eval(%q): error is %T", src, err)
			}
			if je.Code == "U1000" {
				t.Fatalf("Eval(%q): internal error: %v", src, err)
			}
			return
		}
		if res != Undefined {
			_ = jsonv.Marshal(res)
		}
	})
}
