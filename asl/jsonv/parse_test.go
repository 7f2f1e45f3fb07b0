package jsonv

import (
	"bytes"
	"strings"
	"testing"
)

// parseSeeds cover what the direct scanner treats specially: escapes, non-ASCII and invalid
// UTF-8, numbers in every form, nesting, white space, duplicate keys and invalid texts.
var parseSeeds = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-12.50E-3`, `123456789012345678901234567890`,
	`"plain"`, `"esc\"aped\\ \/ \b\f\n\r\t \u00e9 \ud83d\ude00 \ud800"`, `"héllo ☃"`, "\"bad \xff utf8\"",
	` { "a" : [ 1 , 2 , { "b" : null } ] , "a" : "again" , "c" : { } } `,
	`[[[[[]]]]]`, `{"k\"ey":1,"k":"\u0000"}`, "\t\n\r [1]\n",
	`{"a":1,}`, `[1 2]`, `{"a"}`, `"unterminated`, `01`, `1.`, `nul`, `[1]x`, ``, ` `,
}

// FuzzParseMatchesTokenStream: the direct scanner decodes every text exactly as the token
// stream does (same value, key order and number text), and refuses what it refuses.
func FuzzParseMatchesTokenStream(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ferr := Parse(data)
		slow, serr := parseTokens(data)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("Parse(%q): error %v, token stream error %v", data, ferr, serr)
		}
		if ferr != nil {
			return
		}
		if a, b := Marshal(fast), Marshal(slow); !bytes.Equal(a, b) {
			t.Fatalf("Parse(%q) = %s, token stream %s", data, a, b)
		}
	})
}

func TestParseSeedsMatchTokenStream(t *testing.T) {
	t.Parallel()
	for _, s := range parseSeeds {
		fast, ferr := Parse([]byte(s))
		slow, serr := parseTokens([]byte(s))
		if (ferr == nil) != (serr == nil) || (ferr == nil && !bytes.Equal(Marshal(fast), Marshal(slow))) {
			t.Errorf("%q: %s (%v) vs %s (%v)", s, Marshal(fast), ferr, Marshal(slow), serr)
		}
	}
}

// BenchmarkParse compares the direct scanner with the token stream on a history-like document.
func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := 0; i < 500; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"timestamp":1764633600.123,"type":"PassStateExited","id":12,"previousEventId":11,"stateExitedEventDetails":{"name":"Double","output":"{\"v\":42}","outputDetails":{"truncated":false}}}`)
	}
	sb.WriteString("]")
	data := []byte(sb.String())
	b.Run("direct", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			if _, err := Parse(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tokens", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			if _, err := parseTokens(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
