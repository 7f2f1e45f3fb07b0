package jsonata

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/duro-dev/duro/asl/jsonv"
)

func mustParse(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonv.Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return v
}

// evalString compiles and evaluates expr and renders the result as JSON, "undefined", or
// "error CODE".
func evalString(t *testing.T, expr string, input any, vars map[string]any, opts *Options) string {
	t.Helper()
	e, err := Compile(expr)
	if err == nil {
		var res any
		res, err = e.Eval(input, vars, opts)
		if err == nil {
			if res == Undefined {
				return "undefined"
			}
			return jsonv.String(res)
		}
	}
	var je *Error
	if !errors.As(err, &je) {
		t.Fatalf("%s: error is not *Error: %T %v", expr, err, err)
	}
	if je.Message == "" {
		t.Errorf("%s: error %s has no message", expr, je.Code)
	}
	return "error " + je.Code
}

func TestCompileErrorsAreTyped(t *testing.T) {
	cases := map[string]string{
		"1 +":            "S0207",
		"(":              "S0203",
		"[1,2":           "S0203",
		"a ?: b":         "S0211",
		"a ?? b":         "S0211",
		"\"unterminated": "S0101",
		"1 2":            "S0201",
		"$x := 1 := 2":   "S0212",
		"function(x){1}": "S0208",
		"!":              "S0204",
		"%.a":            "S0217",
		"/(/":            "S0303",
		"a.1":            "S0213",
	}
	for src, code := range cases {
		_, err := Compile(src)
		var je *Error
		if !errors.As(err, &je) {
			t.Errorf("Compile(%q) = %v, want *Error %s", src, err, code)
			continue
		}
		if je.Code != code {
			t.Errorf("Compile(%q) code %s (%s), want %s", src, je.Code, je.Message, code)
		}
		if !strings.HasPrefix(je.Error(), code+": ") {
			t.Errorf("Error() = %q", je.Error())
		}
	}
}

func TestJSONata21OperatorsRejectedWithHint(t *testing.T) {
	for _, src := range []string{"$a ?: 'x'", "$a ?? 'x'", "($b := a ?? 1; $b)"} {
		_, err := Compile(src)
		var je *Error
		if !errors.As(err, &je) || je.Code != "S0211" || !strings.Contains(je.Message, "JSONata 2.1") {
			t.Errorf("Compile(%q) = %v, want S0211 naming JSONata 2.1", src, err)
		}
	}
	// a ?: inside a signature is not the operator
	if _, err := Compile("function($x, $y)<nn?:n>{$x}"); err != nil {
		t.Errorf("signature with ?: rejected: %v", err)
	}
}

func TestEvalIsRejected(t *testing.T) {
	got := evalString(t, `$eval("1 + 1")`, nil, nil, nil)
	if got != "error D3150" {
		t.Fatalf("$eval: %s", got)
	}
}

func TestEvalAPI(t *testing.T) {
	input := mustParse(t, `{"b": 1.50, "a": [1, 2], "n": 12345678901234567890, "2": "two", "1": "one"}`)
	cases := []struct {
		expr string
		vars map[string]any
		want string
	}{
		{"b", nil, "1.5"},
		{"nope", nil, "undefined"},
		{"$", nil, `{"1":"one","2":"two","b":1.5,"a":[1,2],"n":12345678901234567000}`},
		{"$keys($)", nil, `["1","2","b","a","n"]`},
		{"$x + a[1]", map[string]any{"x": jsonv.Number("40")}, "42"},
		{"$s & '!'", map[string]any{"s": "hi"}, `"hi!"`},
		{"$o.k", map[string]any{"o": mustParse(t, `{"k":[true,null]}`)}, "[true,null]"},
		{"$states.input.b", map[string]any{"states": mustParse(t, `{"input":{"b":"x"}}`)}, `"x"`},
		{"{'z': 1, 'y': 2}", nil, `{"z":1,"y":2}`},
		{"1/3", nil, "0.3333333333333333"},
		{"1e21 * 10", nil, "1e+22"},
		{"0.1 + 0.2", nil, "0.30000000000000004"},
		{"$string(0.1 + 0.2)", nil, `"0.3"`},
		{"1/0", nil, "error D1001"},
		{"$uppercase", nil, "undefined"},
		{"[1, $uppercase, 2]", nil, "[1,null,2]"},
		{"{'f': $uppercase, 'g': 1}", nil, `{"g":1}`},
	}
	for _, c := range cases {
		if got := evalString(t, c.expr, input, c.vars, nil); got != c.want {
			t.Errorf("%s = %s, want %s", c.expr, got, c.want)
		}
	}
	// no input at all
	if got := evalString(t, "$exists($)", Undefined, nil, nil); got != "false" {
		t.Errorf("$exists($) on no input = %s", got)
	}
	// a top-level array input
	arr := mustParse(t, `[{"a":1},{"a":2}]`)
	if got := evalString(t, "a", arr, nil, nil); got != "[1,2]" {
		t.Errorf("a on array = %s", got)
	}
	if got := evalString(t, "$[1].a", arr, nil, nil); got != "2" {
		t.Errorf("$[1].a on array = %s", got)
	}
}

func TestInputIsNotModified(t *testing.T) {
	input := mustParse(t, `{"a": {"b": 1}, "l": [1]}`)
	before := jsonv.String(input)
	evalString(t, `($ ~> |a|{"b": 2}|; l[]; $merge([a, {"c": 3}]))`, input, nil, nil)
	if after := jsonv.String(input); after != before {
		t.Fatalf("input changed: %s -> %s", before, after)
	}
}

func TestTimeFunctionsUseOptionsNow(t *testing.T) {
	now := time.Date(2024, 2, 29, 13, 14, 15, 678_000_000, time.UTC)
	opts := &Options{Now: now}
	cases := map[string]string{
		"$now()":                                `"2024-02-29T13:14:15.678Z"`,
		"$millis()":                             "1709212455678",
		"$now() = $now()":                       "true",
		"$now('[Y0001]-[M01]-[D01]')":           `"2024-02-29"`,
		"$now('[H01]:[m01] [Z]', '+0130')":      `"14:44 +01:30"`,
		"$fromMillis($millis())":                `"2024-02-29T13:14:15.678Z"`,
		"$toMillis('22:13', '[H]:[m]')":         "1709244780000",
		"$toMillis('7', '[D]')":                 "1707264000000",
		"$toMillis($now()) = $millis()":         "true",
		"[1,2,3].$millis()":                     "[1709212455678,1709212455678,1709212455678]",
		"$fromMillis($millis(), '[FNn] [D1o]')": `"Thursday 29th"`,
	}
	for expr, want := range cases {
		if got := evalString(t, expr, nil, nil, opts); got != want {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}
}

func TestRandomShuffleAndUUIDComeFromOptions(t *testing.T) {
	seq := []float64{0.5, 0.25, 0.75, 0.1, 0.9}
	i := 0
	opts := &Options{
		Random: func() float64 { r := seq[i%len(seq)]; i++; return r },
		UUID:   func() string { return "0f8fad5b-d9cb-469f-a165-70867728950e" },
	}
	if got := evalString(t, "$random()", nil, nil, opts); got != "0.5" {
		t.Errorf("$random() = %s", got)
	}
	i = 0
	if got := evalString(t, "$shuffle([1,2,3,4])", nil, nil, opts); got != "[4,1,3,2]" {
		t.Errorf("$shuffle = %s", got)
	}
	if got := evalString(t, "$count($shuffle([1,2,3,4,5,6]))", nil, nil, opts); got != "6" {
		t.Errorf("$shuffle count = %s", got)
	}
	if got := evalString(t, "$sort($shuffle([3,1,2]))", nil, nil, opts); got != "[1,2,3]" {
		t.Errorf("$sort($shuffle) = %s", got)
	}
	for _, expr := range []string{"$random()", "$shuffle([1,2])"} {
		if got := evalString(t, expr, nil, nil, nil); got != "error D3151" {
			t.Errorf("%s without Options.Random = %s", expr, got)
		}
	}
	// $uuid is a Step Functions function
	if got := evalString(t, "$uuid()", nil, nil, opts); got != "error T1006" {
		t.Errorf("$uuid() without StepFunctions = %s", got)
	}
	opts.StepFunctions = true
	if got := evalString(t, "$uuid()", nil, nil, opts); got != `"0f8fad5b-d9cb-469f-a165-70867728950e"` {
		t.Errorf("$uuid() = %s", got)
	}
	if got := evalString(t, "$uuid()", nil, nil, &Options{StepFunctions: true}); got != "error D3151" {
		t.Errorf("$uuid() without Options.UUID = %s", got)
	}
}

func TestStepFunctionsFunctions(t *testing.T) {
	opts := &Options{StepFunctions: true, Random: func() float64 { return 0.125 }}
	cases := map[string]string{
		"$partition([1,2,3,4,5,6,7,8,9], 3)":    "[[1,2,3],[4,5,6],[7,8,9]]",
		"$partition([1,2,3,4,5,6,7,8,9], 4)":    "[[1,2,3,4],[5,6,7,8],[9]]",
		"$partition([1,2], 5)":                  "[[1,2]]",
		"$partition([], 2)":                     "[]",
		"$partition([1,2], 0)":                  "error D3170",
		"$partition([1,2], 1.5)":                "error D3170",
		"$range(0, 10, 2)":                      "[0,2,4,6,8,10]",
		"$range(1, 4)":                          "[1,2,3,4]",
		"$range(10, 0, -5)":                     "[10,5,0]",
		"$range(0, 1, 0.25)":                    "[0,0.25,0.5,0.75,1]",
		"$range(5, 1, 1)":                       "[]",
		"$range(0, 1, 0)":                       "error D3171",
		"$hash('hello', 'MD5')":                 `"5d41402abc4b2a76b9719d911017c592"`,
		"$hash('hello', 'SHA-1')":               `"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"`,
		"$hash('hello', 'SHA-256')":             `"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"`,
		"$hash('hello', 'SHA-384')":             `"59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f"`,
		"$hash('hello', 'SHA-512')":             `"9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"`,
		"$hash('hello', 'SHA-3')":               "error D3160",
		"$hash('hello')":                        "error T0411", // null input, the '-' argument
		"'abc' ~> $hash('MD5')":                 `"900150983cd24fb0d6963f7d28e17f72"`,
		"$random()":                             "0.125",
		"$random(42) = $random(42)":             "true",
		"$random(42) = $random(43)":             "false",
		"$random(7) >= 0 and $random(7) < 1":    "true",
		"$parse('{\"b\":1,\"a\":[true,null]}')": `{"b":1,"a":[true,null]}`,
		"$parse('[1, 2.50]')":                   "[1,2.5]",
		"$parse('\"s\"')":                       `"s"`,
		"$parse('{')":                           "error D3172",
		"$parse(nope)":                          "undefined",
	}
	for expr, want := range cases {
		if got := evalString(t, expr, nil, nil, opts); got != want {
			t.Errorf("%s = %s, want %s", expr, got, want)
		}
	}
	// without StepFunctions the extra functions do not exist
	if got := evalString(t, "$partition([1], 1)", nil, nil, nil); got != "error T1006" {
		t.Errorf("$partition without StepFunctions = %s", got)
	}
}

func TestLimits(t *testing.T) {
	deep := `($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(100000))`
	if got := evalString(t, deep, nil, nil, nil); got != "error U1001" {
		t.Errorf("deep recursion = %s", got)
	}
	if got := evalString(t, deep, nil, nil, &Options{MaxDepth: 5000000, MaxSteps: 200000}); got != "error U1002" {
		t.Errorf("deep recursion with a step budget = %s", got)
	}
	tail := `($f := function($n){$f($n + 1)}; $f(0))`
	if got := evalString(t, tail, nil, nil, &Options{MaxSteps: 100000}); got != "error U1002" {
		t.Errorf("infinite tail loop = %s", got)
	}
	big := `$count([1..10000000])`
	if got := evalString(t, big, nil, nil, &Options{MaxSteps: 1000}); got != "error U1002" {
		t.Errorf("big range = %s", got)
	}
	// tail calls run in constant depth
	loop := `($f := function($n, $a){$n = 0 ? $a : $f($n - 1, $a + 1)}; $f(20000, 0))`
	if got := evalString(t, loop, nil, nil, nil); got != "20000" {
		t.Errorf("tail loop = %s", got)
	}
	// catastrophic backtracking in a pattern that needs the backtracking matcher is bounded
	evil := `$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /(a+)+(?=b)/)`
	if got := evalString(t, evil, nil, nil, nil); got != "error U1002" {
		t.Errorf("catastrophic backtracking = %s", got)
	}
	if got := evalString(t, deep, nil, nil, &Options{MaxSteps: -1, MaxDepth: 100}); got != "error U1001" {
		t.Errorf("MaxDepth 100 = %s", got)
	}
}

func TestConcurrentEval(t *testing.T) {
	e := MustCompile(`$map(items, function($v, $i){ {"i": $i, "v": $v.x * 2, "k": $keys($v)} })`)
	input := mustParse(t, `{"items":[{"x":1},{"x":2},{"x":3}]}`)
	want := `[{"i":0,"v":2,"k":"x"},{"i":1,"v":4,"k":"x"},{"i":2,"v":6,"k":"x"}]`
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				res, err := e.Eval(input, nil, nil)
				if err != nil {
					errs <- err.Error()
					return
				}
				if s := jsonv.String(res); s != want {
					errs <- s
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestExprString(t *testing.T) {
	if s := MustCompile(" a.b ").String(); s != " a.b " {
		t.Fatal(s)
	}
}

func TestSizeLimits(t *testing.T) {
	cases := []string{
		`($f := function($n, $s){$n = 0 ? $s : $f($n - 1, $s & $s)}; $f(40, 'x'))`,
		`($f := function($n, $v){$n = 0 ? $v : $f($n - 1, [$v, $v])}; $f(40, [1]))`,
		`($f := function($n, $v){$n = 0 ? $v : $f($n - 1, $append($v, $v))}; $f(40, [1]))`,
		`($f := function($n, $v){$n = 0 ? $string($v) : $f($n - 1, {'a': $v, 'b': $v})}; $f(40, 1))`,
		`$pad('x', 1e12)`,
	}
	for _, c := range cases {
		got := evalString(t, c, nil, nil, nil)
		if got != "error U1003" && got != "error U1002" {
			t.Errorf("%s = %.80s, want a size or step error", c, got)
		}
	}
}
