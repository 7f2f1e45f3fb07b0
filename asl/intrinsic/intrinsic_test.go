package intrinsic

import (
	"errors"
	"strings"
	"testing"

	"github.com/duro-dev/duro/asl/jsonpath"
	"github.com/duro-dev/duro/asl/jsonv"
)

const input = `{"a":1,"b":"two","arr":[1,2,2,3,{"x":1},{"x":1}],"obj":{"k":"v"},"obj2":{"k":"w","z":1},
"s":"{\"n\":1.50}","name":"World","n":null,"t":true,"f":1.5,"big":2147483648,"neg":-1,"csv":"a,b;;c","pi":3.14,
"nested":{"arr":["x","y"]}}`

func env(t *testing.T) Env {
	doc, err := jsonv.Parse([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return Env{
		Resolve: func(path string) (any, error) {
			p, err := jsonpath.Parse(path)
			if err != nil {
				return nil, err
			}
			return p.Eval(doc)
		},
		Random: func() float64 { return 0.5 },
		UUID:   func() string { return "00000000-0000-4000-8000-000000000000" },
	}
}

func TestEval(t *testing.T) {
	cases := []struct{ call, want string }{
		{`States.Format('Hello, {}!', $.name)`, `"Hello, World!"`},
		{`States.Format('{} {} {} {}', $.a, $.b, $.n, $.t)`, `"1 two null true"`},
		{`States.Format('{}', $.f)`, `"1.5"`},
		{`States.Format('no placeholders')`, `"no placeholders"`},
		{`States.Format('esc \{\} {} \'q\' \\', 'x')`, `"esc {} x 'q' \\"`},
		{`States.Format('{}', States.Format('{}-{}', 'a', 'b'))`, `"a-b"`},
		{`States.StringToJson($.s)`, `{"n":1.50}`},
		{`States.StringToJson('[1, 2]')`, `[1,2]`},
		{`States.StringToJson('"x"')`, `"x"`},
		{`States.JsonToString($.obj)`, `"{\"k\":\"v\"}"`},
		{`States.JsonToString($.arr)`, `"[1,2,2,3,{\"x\":1},{\"x\":1}]"`},
		{`States.JsonToString(States.StringToJson($.s))`, `"{\"n\":1.50}"`},
		{`States.Array(1, 'a', true, null, $.obj)`, `[1,"a",true,null,{"k":"v"}]`},
		{`States.Array()`, `[]`},
		{`States.Array(States.Array(1), $.nested.arr)`, `[[1],["x","y"]]`},
		{`States.ArrayPartition($.arr, 4)`, `[[1,2,2,3],[{"x":1},{"x":1}]]`},
		{`States.ArrayPartition(States.Array(1,2,3), 1)`, `[[1],[2],[3]]`},
		{`States.ArrayPartition(States.Array(), 2)`, `[]`},
		{`States.ArrayContains($.arr, 3)`, `true`},
		{`States.ArrayContains($.arr, $.obj)`, `false`},
		{`States.ArrayContains($.arr, States.StringToJson('{"x":1}'))`, `true`},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayRange(1, 10, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayRange(5, 1, -2)`, `[5,3,1]`},
		{`States.ArrayRange(1, 0, 1)`, `[]`},
		{`States.ArrayRange(0, 999, 1)`, ``},
		{`States.ArrayGetItem($.arr, 3)`, `3`},
		{`States.ArrayGetItem($.nested.arr, 0)`, `"x"`},
		{`States.ArrayLength($.arr)`, `6`},
		{`States.ArrayLength(States.Array())`, `0`},
		{`States.ArrayUnique($.arr)`, `[1,2,3,{"x":1}]`},
		{`States.ArrayUnique(States.Array(1, 1.0, '1'))`, `[1,"1"]`},
		{`States.Base64Encode('Data to encode')`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Decode('RGF0YSB0byBlbmNvZGU=')`, `"Data to encode"`},
		{`States.Base64Decode(States.Base64Encode('héllo'))`, `"héllo"`},
		{`States.Hash('input data', 'SHA-1')`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`},
		{`States.Hash('abc', 'MD5')`, `"900150983cd24fb0d6963f7d28e17f72"`},
		{`States.Hash('abc', 'SHA-256')`, `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`},
		{`States.Hash('abc', 'SHA-384')`, `"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"`},
		{`States.Hash('abc', 'SHA-512')`, `"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"`},
		{`States.JsonMerge($.obj, $.obj2, false)`, `{"k":"w","z":1}`},
		{`States.JsonMerge($.obj2, $.obj, false)`, `{"k":"v","z":1}`},
		{`States.MathRandom(1, 11)`, `6`},
		{`States.MathAdd(111, -1)`, `110`},
		{`States.MathAdd($.a, $.neg)`, `0`},
		{`States.MathAdd(States.ArrayLength($.arr), 1)`, `7`},
		{`States.StringSplit('1,2,3,4,5', ',')`, `["1","2","3","4","5"]`},
		{`States.StringSplit('This.is+a,test=string', '.+,=')`, `["This","is","a","test","string"]`},
		{`States.StringSplit($.csv, ',;')`, `["a","b","c"]`},
		{`States.StringSplit('', ',')`, `[]`},
		{`States.UUID()`, `"00000000-0000-4000-8000-000000000000"`},
		{`  States.ArrayLength( $.arr )  `, `6`},
		{`States.ArrayGetItem($.arr[?(@.x == 1)], 0)`, `{"x":1}`},
		{`States.ArrayLength($['nested']['arr'])`, `2`},
	}
	e := env(t)
	for _, c := range cases {
		call, err := Parse(c.call)
		if err != nil {
			t.Errorf("Parse(%s): %v", c.call, err)
			continue
		}
		got, err := call.Eval(e)
		if err != nil {
			t.Errorf("%s: %v", c.call, err)
			continue
		}
		if c.want == "" {
			if a, ok := got.([]any); !ok || len(a) != 1000 {
				t.Errorf("%s: want 1000 elements", c.call)
			}
			continue
		}
		if jsonv.String(got) != c.want {
			t.Errorf("%s = %s, want %s", c.call, jsonv.String(got), c.want)
		}
	}
}

func TestMathRandomSeedIsDeterministic(t *testing.T) {
	e := env(t)
	call, err := Parse(`States.MathRandom(1, 1000, 42)`)
	if err != nil {
		t.Fatal(err)
	}
	a, err := call.Eval(e)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := call.Eval(e)
	if !jsonv.Equal(a, b) {
		t.Fatalf("seeded MathRandom differs: %v %v", a, b)
	}
	n, _ := a.(jsonv.Number).Int64()
	if n < 1 || n >= 1000 {
		t.Fatalf("out of range: %d", n)
	}
}

func TestEvalFailures(t *testing.T) {
	cases := []string{
		`States.Format('{} {}', 'a')`,
		`States.Format('{}', 'a', 'b')`,
		`States.Format('{}', $.obj)`,
		`States.Format($.a)`,
		`States.StringToJson('{bad')`,
		`States.StringToJson($.a)`,
		`States.JsonToString()`,
		`States.ArrayPartition($.arr, 0)`,
		`States.ArrayPartition($.arr, 1.5)`,
		`States.ArrayPartition($.obj, 1)`,
		`States.ArrayContains($.arr)`,
		`States.ArrayRange(1, 2, 0)`,
		`States.ArrayRange(0, 1000, 1)`,
		`States.ArrayRange(1, 2.5, 1)`,
		`States.ArrayRange('1', 2, 1)`,
		`States.ArrayGetItem($.arr, 6)`,
		`States.ArrayGetItem($.arr, -1)`,
		`States.ArrayLength($.obj)`,
		`States.ArrayUnique('x')`,
		`States.Base64Encode($.a)`,
		`States.Base64Decode('!!!')`,
		`States.Hash('x', 'SHA-3')`,
		`States.Hash($.obj, 'MD5')`,
		`States.JsonMerge($.obj, $.obj2, true)`,
		`States.JsonMerge($.obj, $.arr, false)`,
		`States.JsonMerge($.obj, $.obj2)`,
		`States.MathRandom(5, 5)`,
		`States.MathRandom(1)`,
		`States.MathRandom(1.5, 3)`,
		`States.MathAdd($.f, 1)`,
		`States.MathAdd($.big, 1)`,
		`States.MathAdd(1)`,
		`States.StringSplit($.a, ',')`,
		`States.UUID(1)`,
	}
	e := env(t)
	for _, c := range cases {
		call, err := Parse(c)
		if err != nil {
			t.Errorf("Parse(%s): %v", c, err)
			continue
		}
		_, err = call.Eval(e)
		var ie *Error
		if !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want *Error", c, err)
		}
	}
}

func TestPathErrorPassesThrough(t *testing.T) {
	call, err := Parse(`States.Format('{}', $.missing)`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = call.Eval(env(t))
	if !errors.Is(err, jsonpath.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{``, `States.`, `States.Nope()`, `States.Format(`, `States.Format('x'`, `States.Format('x)`,
		`States.Format('x' 'y')`, `States.Format('\q')`, `States.Array(1,)`, `States.Array(,1)`, `States.Array(tru)`,
		`States.Array(1) x`, `Format('x')`, `States.Array(--1)`, `states.Array()`, `States.Array(1e)`,
		strings.Repeat("States.Array(", 40) + strings.Repeat(")", 40)} {
		if _, err := Parse(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) err = %v, want ErrSyntax", s, err)
		}
	}
}

func TestPaths(t *testing.T) {
	call, err := Parse(`States.Format('{} {}', $.a, States.ArrayGetItem($$.Map.Item.Value, $idx))`)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(call.Paths(), " ")
	if got != `$.a $$.Map.Item.Value $idx` {
		t.Fatalf("Paths = %s", got)
	}
}

func FuzzParseEval(f *testing.F) {
	for _, s := range []string{`States.Format('Hello, {}!', $.name)`, `States.Array(1, 'a', true, null, $.obj)`,
		`States.ArrayRange(1, 9, 2)`, `States.Hash('abc', 'MD5')`, `States.JsonMerge($.obj, $.obj2, false)`,
		`States.MathRandom(1, 11, 3)`, `States.StringSplit($.csv, ',;')`, `States.Format('\{\}', States.UUID())`} {
		f.Add(s)
	}
	doc, _ := jsonv.Parse([]byte(input))
	e := Env{
		Resolve: func(path string) (any, error) {
			p, err := jsonpath.Parse(path)
			if err != nil {
				return nil, err
			}
			return p.Eval(doc)
		},
		Random: func() float64 { return 0.999999 },
		UUID:   func() string { return "u" },
	}
	f.Fuzz(func(t *testing.T, s string) {
		call, err := Parse(s)
		if err != nil {
			return
		}
		v, err := call.Eval(e)
		if err == nil {
			_ = jsonv.String(v)
		}
	})
}
