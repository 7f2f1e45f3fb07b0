package jsonv

import "testing"

func TestRoundTripKeepsOrderAndNumberText(t *testing.T) {
	cases := []string{
		`{"b":1,"a":[1.50,2e3,-0.0],"c":{"z":null,"y":true}}`,
		`"\u0001 \"q\" <html> é"`,
		`[]`,
	}
	for _, in := range cases {
		v, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("Parse(%s): %v", in, err)
		}
		got := String(v)
		want := in
		if in == `"\u0001 \"q\" <html> é"` {
			want = `"\u0001 \"q\" <html> é"`
		}
		if got != want {
			t.Errorf("round trip %s = %s", in, got)
		}
	}
}

func TestParseRejectsTrailingData(t *testing.T) {
	for _, in := range []string{`{} {}`, `[1,]`, `{"a"}`, ``, `nul`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
}

func TestDuplicateKeyKeepsFirstPositionLastValue(t *testing.T) {
	v, err := Parse([]byte(`{"a":1,"b":2,"a":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := String(v); got != `{"a":3,"b":2}` {
		t.Fatalf("got %s", got)
	}
}

func TestNumberFromFloat(t *testing.T) {
	cases := map[float64]Number{0: "0", 1.5: "1.5", 100: "100", 1e21: "1e+21", 1e-7: "1e-7", 0.000001: "0.000001", -2.25: "-2.25", 123456789012: "123456789012"}
	for f, want := range cases {
		if got := NumberFromFloat(f); got != want {
			t.Errorf("NumberFromFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestEqualComparesNumbersByValue(t *testing.T) {
	a, _ := Parse([]byte(`{"x":1.0,"y":[2]}`))
	b, _ := Parse([]byte(`{"y":[2.00],"x":1}`))
	if !Equal(a, b) {
		t.Fatal("expected equal")
	}
	c, _ := Parse([]byte(`{"y":[3],"x":1}`))
	if Equal(a, c) {
		t.Fatal("expected different")
	}
}

// TestNumberFromFloatMatchesJavaScript checks NumberFromFloat against what JavaScript's
// Number.prototype.toString prints (values checked with Node.js).
func TestNumberFromFloatMatchesJavaScript(t *testing.T) {
	cases := map[float64]Number{
		0.30000000000000004:    "0.30000000000000004", // 0.1 + 0.2 in float64
		0.3333333333333333:     "0.3333333333333333",
		123456789012345680000:  "123456789012345680000",
		1e21 * 10:              "1e+22",
		1.5e300:                "1.5e+300",
		5e-324:                 "5e-324",
		-1.5e-7:                "-1.5e-7",
		1.7976931348623157e308: "1.7976931348623157e+308",
		9007199254740993:       "9007199254740992",
		-0.000001:              "-0.000001",
		434.99999999999994:     "434.99999999999994", // 4.35 * 100 in float64
		2e-7 * 3:               "6e-7",
	}
	for f, want := range cases {
		if got := NumberFromFloat(f); got != want {
			t.Errorf("NumberFromFloat(%v) = %s, want %s", f, got, want)
		}
	}
}
