package jsonpath

import (
	"errors"
	"testing"

	"github.com/duro-dev/duro/asl/jsonv"
)

const store = `{"store":{"book":[
 {"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95},
 {"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99},
 {"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3","price":8.99},
 {"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings","isbn":"0-395-19395-8","price":22.99}],
 "bicycle":{"color":"red","price":19.95}},"expensive":10,"a b":{"c":1},"n":null,"arr":[1,2,3,4,5],"flag":false}`

func TestEval(t *testing.T) {
	doc, err := jsonv.Parse([]byte(store))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path, want string
		definite   bool
	}{
		{`$`, "", true},
		{`$.expensive`, `10`, true},
		{`$.store.bicycle.color`, `"red"`, true},
		{`$['store']['bicycle']["color"]`, `"red"`, true},
		{`$['a b'].c`, `1`, true},
		{`$.n`, `null`, true},
		{`$.flag`, `false`, true},
		{`$.store.book[0].author`, `"Nigel Rees"`, true},
		{`$.store.book[-1].author`, `"J. R. R. Tolkien"`, true},
		{`$.arr[2]`, `3`, true},
		{`$.store.book[*].author`, `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`, false},
		{`$..author`, `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`, false},
		{`$.store.*.color`, `["red"]`, false},
		{`$.store..price`, `[8.95,12.99,8.99,22.99,19.95]`, false},
		{`$..book[2].title`, `["Moby Dick"]`, false},
		{`$..book[-1:].title`, `["The Lord of the Rings"]`, false},
		{`$..book[0,1].title`, `["Sayings of the Century","Sword of Honour"]`, false},
		{`$..book[:2].price`, `[8.95,12.99]`, false},
		{`$.arr[1:3]`, `[2,3]`, false},
		{`$.arr[-2:]`, `[4,5]`, false},
		{`$.arr[3:]`, `[4,5]`, false},
		{`$.arr[:-3]`, `[1,2]`, false},
		{`$.arr[10:]`, `[]`, false},
		{`$..book[?(@.isbn)].title`, `["Moby Dick","The Lord of the Rings"]`, false},
		{`$.store.book[?(@.price < 10)].price`, `[8.95,8.99]`, false},
		{`$.store.book[?(@.price <= 8.99)].price`, `[8.95,8.99]`, false},
		{`$.store.book[?(@.price > $.expensive)].price`, `[12.99,22.99]`, false},
		{`$.store.book[?(@.price >= 22.99)].price`, `[22.99]`, false},
		{`$.store.book[?(@.category == 'reference')].author`, `["Nigel Rees"]`, false},
		{`$.store.book[?(@.category != "fiction")].author`, `["Nigel Rees"]`, false},
		{`$.store.book[?(@.author =~ /.*REES/i)].price`, `[8.95]`, false},
		{`$.store.book[?(@.author =~ /Rees/)].price`, `[]`, false},
		{`$.store.book[?(@.price < 10 && @.category == 'fiction')].title`, `["Moby Dick"]`, false},
		{`$.store.book[?(@.price > 20 || @.category == 'reference')].title`, `["Sayings of the Century","The Lord of the Rings"]`, false},
		{`$.store.book[?(!(@.price < 10))].price`, `[12.99,22.99]`, false},
		{`$.store.book[?(@.category in ['reference','x'])].price`, `[8.95]`, false},
		{`$.store.book[?(@.category nin ['fiction'])].price`, `[8.95]`, false},
		{`$.arr[?(@ > 3)]`, `[4,5]`, false},
		{`$.arr[?(@ == 2)]`, `[2]`, false},
		{`$.missing[*]`, `[]`, false},
		{`$..nothing`, `[]`, false},
		{`$.arr.length()`, `5`, true},
		{`$.store.book.length()`, `4`, true},
		{`$.arr.sum()`, `15`, true},
		{`$.arr.max()`, `5`, true},
		{`$.arr.min()`, `1`, true},
		{`$.arr.avg()`, `3`, true},
		{`$.store.bicycle['color','price']`, `{"color":"red","price":19.95}`, true},
		{`$.store.book[*]['title','price']`, `["Sayings of the Century",8.95,"Sword of Honour",12.99,"Moby Dick",8.99,"The Lord of the Rings",22.99]`, false},
		{`$..[0].price`, `[8.95]`, false},
		{`$.store.bicycle[?(@.color == 'red')].price`, `[19.95]`, false},
		{`$.store.bicycle[?(@.color == 'blue')].price`, `[]`, false},
	}
	for _, c := range cases {
		p, err := Parse(c.path)
		if err != nil {
			t.Errorf("Parse(%s): %v", c.path, err)
			continue
		}
		if p.Definite() != c.definite {
			t.Errorf("%s: Definite() = %v", c.path, p.Definite())
		}
		got, err := p.Eval(doc)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		want := c.want
		if want == "" {
			want = jsonv.String(doc)
		}
		if jsonv.String(got) != want {
			t.Errorf("%s = %s, want %s", c.path, jsonv.String(got), want)
		}
	}
}

func TestDefiniteMissing(t *testing.T) {
	doc, _ := jsonv.Parse([]byte(store))
	for _, path := range []string{`$.nope`, `$.store.book[9]`, `$.expensive.x`, `$.arr.x`, `$.store[0]`, `$.n.x`, `$.store.bicycle.length.x`} {
		p, err := Parse(path)
		if err != nil {
			t.Errorf("Parse(%s): %v", path, err)
			continue
		}
		if _, err := p.Eval(doc); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", path, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, path := range []string{``, `a`, `$.`, `$[`, `$[']`, `$.a[?(@.x ==)]`, `$x`, `$.a.b(`, `$[?(@.a =~ /[/)]`,
		`$..`, `$.a[1`, `$.a..`, `$.foo()`, `$.a.length().b`, `$[?(@.a`, `$ .a`} {
		if _, err := Parse(path); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) err = %v, want ErrSyntax", path, err)
		}
	}
}

func TestSet(t *testing.T) {
	cases := []struct{ doc, path, val, want string }{
		{`{"a":1}`, `$`, `{"x":1}`, `{"x":1}`},
		{`{"a":1}`, `$.b`, `2`, `{"a":1,"b":2}`},
		{`{"a":1}`, `$.a`, `2`, `{"a":2}`},
		{`{"a":{"b":1,"c":2}}`, `$.a.b`, `3`, `{"a":{"b":3,"c":2}}`},
		{`{"a":1}`, `$.x.y.z`, `true`, `{"a":1,"x":{"y":{"z":true}}}`},
		{`{"a":[1,2]}`, `$.a[1]`, `9`, `{"a":[1,9]}`},
		{`{"a":[{"b":1}]}`, `$.a[0].c`, `9`, `{"a":[{"b":1,"c":9}]}`},
		{`{"a":1}`, `$['b c']`, `2`, `{"a":1,"b c":2}`},
	}
	for _, c := range cases {
		doc, _ := jsonv.Parse([]byte(c.doc))
		val, _ := jsonv.Parse([]byte(c.val))
		before := jsonv.String(doc)
		got, err := MustParse(c.path).Set(doc, val)
		if err != nil {
			t.Errorf("%s on %s: %v", c.path, c.doc, err)
			continue
		}
		if jsonv.String(got) != c.want {
			t.Errorf("%s on %s = %s, want %s", c.path, c.doc, jsonv.String(got), c.want)
		}
		if jsonv.String(doc) != before {
			t.Errorf("%s mutated its input: %s", c.path, jsonv.String(doc))
		}
	}
	for _, c := range []struct{ doc, path string }{
		{`"s"`, `$.a`}, {`{"a":1}`, `$.a.b`}, {`{"a":[1]}`, `$.a[3]`}, {`{"a":null}`, `$.a.b`}, {`{}`, `$.a[*]`}, {`{}`, `$..a`},
	} {
		doc, _ := jsonv.Parse([]byte(c.doc))
		if _, err := MustParse(c.path).Set(doc, true); err == nil {
			t.Errorf("Set(%s) on %s succeeded", c.path, c.doc)
		}
	}
}

func FuzzParseEval(f *testing.F) {
	for _, s := range []string{`$`, `$.a.b[0]`, `$..x[?(@.y > 1 && @.z =~ /a.*/i)]`, `$['a','b']`, `$[1:2]`, `$.a.length()`,
		`$[?(@ in [1,'a',true,null])]`, `$[?(!(@.a))]`, `$[?(@.a == {"x":1})]`} {
		f.Add(s)
	}
	doc, _ := jsonv.Parse([]byte(store))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		_, _ = p.Eval(doc)
		if p.IsReference() {
			_, _ = p.Set(doc, "x")
		}
	})
}
