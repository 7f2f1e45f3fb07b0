package jsonata

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Integer pictures, after XPath F&O 3.1 format-integer as jsonata-js implements it: decimal digit
// patterns with grouping separators, a/A letters, i/I roman numerals, w/W/Ww words, and ;o
// ordinals.

type intFormatKind int

const (
	intDecimal intFormatKind = iota
	intLetters
	intRoman
	intWords
	intSequence
)

type letterCase int

const (
	caseLower letterCase = iota
	caseUpper
	caseTitle
)

type groupSep struct {
	position int
	char     string
}

type intFormat struct {
	primary    intFormatKind
	cas        letterCase
	ordinal    bool
	zeroCode   rune
	mandatory  int
	optional   int
	regular    bool
	regularSep groupSep
	separators []groupSep
	token      string
	n          int // for parsing: the exact number of digits (year), 0 = any
	hasN       bool
}

var decimalGroups = []rune{0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66,
	0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
	0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10}

func analyseIntegerPicture(picture string) (*intFormat, *Error) {
	f := &intFormat{primary: intDecimal, cas: caseLower}
	primary := picture
	if semi := strings.LastIndex(picture, ";"); semi >= 0 {
		primary = picture[:semi]
		if strings.HasPrefix(picture[semi+1:], "o") {
			f.ordinal = true
		}
	}
	switch primary {
	case "A":
		f.cas = caseUpper
		f.primary = intLetters
	case "a":
		f.primary = intLetters
	case "I":
		f.cas = caseUpper
		f.primary = intRoman
	case "i":
		f.primary = intRoman
	case "W":
		f.cas = caseUpper
		f.primary = intWords
	case "Ww":
		f.cas = caseTitle
		f.primary = intWords
	case "w":
		f.primary = intWords
	default:
		var zero rune = -1
		mandatory, optional, sepPos := 0, 0, 0
		var seps []groupSep
		rs := []rune(primary)
		for i := len(rs) - 1; i >= 0; i-- {
			cp := rs[i]
			digit := false
			for _, g := range decimalGroups {
				if cp >= g && cp <= g+9 {
					digit = true
					mandatory++
					sepPos++
					if zero < 0 {
						zero = g
					} else if g != zero {
						return nil, &Error{Code: "D3131"}
					}
					break
				}
			}
			if !digit {
				if cp == '#' {
					sepPos++
					optional++
				} else {
					seps = append(seps, groupSep{position: sepPos, char: string(cp)})
				}
			}
		}
		if mandatory > 0 {
			f.zeroCode = zero
			f.mandatory = mandatory
			f.optional = optional
			if r := regularRepeat(seps); r > 0 {
				f.regular = true
				f.regularSep = groupSep{position: r, char: seps[0].char}
			} else {
				f.separators = seps
			}
		} else {
			f.primary = intSequence
			f.token = primary
		}
	}
	return f, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// regularRepeat returns the interval of grouping separators that are all the same character and
// evenly spaced, or 0.
func regularRepeat(seps []groupSep) int {
	if len(seps) == 0 {
		return 0
	}
	for _, s := range seps[1:] {
		if s.char != seps[0].char {
			return 0
		}
	}
	factor := seps[0].position
	for _, s := range seps[1:] {
		factor = gcd(factor, s.position)
	}
	if factor == 0 {
		return 0
	}
	for i := 1; i <= len(seps); i++ {
		found := false
		for _, s := range seps {
			if s.position == i*factor {
				found = true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}

func formatIntegerWith(value float64, f *intFormat) (string, *Error) {
	negative := value < 0
	value = math.Abs(value)
	var s string
	switch f.primary {
	case intLetters:
		a := byte('a')
		if f.cas == caseUpper {
			a = 'A'
		}
		s = decimalToLetters(int64(value), a)
	case intRoman:
		if value > maxRoman {
			// jsonata-js builds roman numerals recursively, one call per numeral, and overflows
			// the JavaScript stack long before this
			return "", &Error{Code: "U1010", info: &errInfo{message: "The number is too large for roman numerals (jsonata-js fails with a stack overflow)"}}
		}
		s = decimalToRoman(int64(value))
		if f.cas == caseUpper {
			s = strings.ToUpper(s)
		}
	case intWords:
		s = numberToWords(value, f.ordinal)
		switch f.cas {
		case caseUpper:
			s = strings.ToUpper(s)
		case caseLower:
			s = strings.ToLower(s)
		}
	case intDecimal:
		s = formatNumber(value)
		if pad := f.mandatory - utf8.RuneCountInString(s); pad > 0 {
			s = strings.Repeat("0", pad) + s
		}
		if f.zeroCode != 0x30 {
			rs := []rune(s)
			for i, r := range rs {
				rs[i] = r + f.zeroCode - 0x30
			}
			s = string(rs)
		}
		if f.regular {
			rs := []rune(s)
			n := (len(rs) - 1) / f.regularSep.position
			for i := n; i > 0; i-- {
				pos := len(rs) - i*f.regularSep.position
				rs = append(rs[:pos:pos], append([]rune(f.regularSep.char), rs[pos:]...)...)
			}
			s = string(rs)
		} else {
			for i := len(f.separators) - 1; i >= 0; i-- {
				sep := f.separators[i]
				rs := []rune(s)
				pos := len(rs) - sep.position
				if pos < 0 {
					pos = 0
				}
				rs = append(rs[:pos:pos], append([]rune(sep.char), rs[pos:]...)...)
				s = string(rs)
			}
		}
		if f.ordinal {
			suffix := map[byte]string{'1': "st", '2': "nd", '3': "rd"}[s[len(s)-1]]
			if suffix == "" || (len(s) > 1 && s[len(s)-2] == '1') {
				suffix = "th"
			}
			s += suffix
		}
	case intSequence:
		return "", &Error{Code: "D3130", info: &errInfo{value: f.token}}
	}
	if negative {
		s = "-" + s
	}
	return s, nil
}

func decimalToLetters(v int64, a byte) string {
	var out []byte
	for v > 0 {
		out = append([]byte{byte((v-1)%26) + a}, out...)
		v = (v - 1) / 26
	}
	return string(out)
}

var romanNumerals = []struct {
	v int64
	s string
}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}}

// maxRoman bounds roman numerals to what jsonata-js's recursion survives (about 5,000 m's).
const maxRoman = 5e6

func decimalToRoman(v int64) string {
	var b strings.Builder
	for v > 0 {
		for _, n := range romanNumerals {
			if v >= n.v {
				b.WriteString(n.s)
				v -= n.v
				break
			}
		}
	}
	return b.String()
}

var (
	fewWords     = []string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"}
	ordinalWords = []string{"Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"}
	decadeWords  = []string{"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"}
	magnitudes   = []string{"Thousand", "Million", "Billion", "Trillion"}
)

func numberToWords(value float64, ordinal bool) string {
	var lookup func(num float64, prev, ord bool) string
	lookup = func(num float64, prev, ord bool) string {
		words := ""
		switch {
		case num <= 19:
			if prev {
				words = " and "
			}
			if ord {
				words += ordinalWords[int(num)]
			} else {
				words += fewWords[int(num)]
			}
		case num < 100:
			tens := int(num / 10)
			rem := math.Mod(num, 10)
			if prev {
				words = " and "
			}
			words += decadeWords[tens-2]
			if rem > 0 {
				words += "-" + lookup(rem, false, ord)
			} else if ord {
				words = words[:len(words)-1] + "ieth"
			}
		case num < 1000:
			hundreds := int(num / 100)
			rem := math.Mod(num, 100)
			if prev {
				words = ", "
			}
			words += fewWords[hundreds] + " Hundred"
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		default:
			mag := int(math.Floor(math.Log10(num) / 3))
			if mag > len(magnitudes) {
				mag = len(magnitudes)
			}
			factor := math.Pow(10, float64(mag*3))
			mant := math.Floor(num / factor)
			rem := num - mant*factor
			if prev {
				words = ", "
			}
			words += lookup(mant, false, false) + " " + magnitudes[mag-1]
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		}
		return words
	}
	return lookup(value, false, ordinal)
}

var wordValues = func() map[string]float64 {
	m := map[string]float64{}
	for i, w := range fewWords {
		m[strings.ToLower(w)] = float64(i)
	}
	for i, w := range ordinalWords {
		m[strings.ToLower(w)] = float64(i)
	}
	for i, w := range decadeWords {
		lw := strings.ToLower(w)
		m[lw] = float64((i + 2) * 10)
		m[lw[:len(lw)-1]+"ieth"] = m[lw]
	}
	m["hundredth"] = 100
	for i, w := range magnitudes {
		lw := strings.ToLower(w)
		v := math.Pow(10, float64((i+1)*3))
		m[lw] = v
		m[lw+"th"] = v
	}
	return m
}()

// wordsToNumber parses English number words (lower case).
func wordsToNumber(text string) float64 {
	var parts []string
	i, start := 0, 0
	for i < len(text) {
		switch {
		case text[i] == ',' && i+1 < len(text) && isSpace(text[i+1]):
			parts = append(parts, text[start:i])
			i += 2
			start = i
		case isSpace(text[i]) && i+4 < len(text) && text[i+1:i+4] == "and" && isSpace(text[i+4]):
			parts = append(parts, text[start:i])
			i += 5
			start = i
		case isSpace(text[i]) || text[i] == '\\' || text[i] == '-':
			parts = append(parts, text[start:i])
			i++
			start = i
		default:
			i++
		}
	}
	parts = append(parts, text[start:])
	segs := []float64{0}
	for _, p := range parts {
		v, ok := wordValues[p]
		if !ok {
			v = math.NaN()
		}
		if v < 100 {
			top := segs[len(segs)-1]
			segs = segs[:len(segs)-1]
			if top >= 1000 {
				segs = append(segs, top)
				top = 0
			}
			segs = append(segs, top+v)
		} else {
			segs[len(segs)-1] *= v
		}
	}
	t := 0.0
	for _, s := range segs {
		t += s
	}
	return t
}

func fnFormatInteger(c *call, a []any) (any, *Error) {
	v, ok := num(a[0])
	if !ok {
		return Undefined, nil
	}
	pic, _ := str(a[1])
	f, err := analyseIntegerPicture(pic)
	if err != nil {
		return nil, err
	}
	s, err := formatIntegerWith(math.Floor(v), f)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// integerMatcher is the regular expression and parser for an integer picture.
type integerMatcher struct {
	regex string
	parse func(string) float64
}

func integerMatcherFor(f *intFormat) (*integerMatcher, *Error) {
	occ := "+"
	if f.hasN && f.n > 0 {
		if f.optional == 0 {
			occ = "{" + strconv.Itoa(f.n) + "}"
		} else {
			occ = "{" + strconv.Itoa(f.n-f.optional) + "," + strconv.Itoa(f.n) + "}"
		}
	}
	upper := f.cas == caseUpper
	switch f.primary {
	case intLetters:
		re := "[a-z]+"
		a := 'a'
		if upper {
			re, a = "[A-Z]+", 'A'
		}
		return &integerMatcher{regex: re, parse: func(s string) float64 { return lettersToDecimal(s, a) }}, nil
	case intRoman:
		re := "[mdclxvi]+"
		if upper {
			re = "[MDCLXVI]+"
		}
		return &integerMatcher{regex: re, parse: func(s string) float64 {
			if !upper {
				s = strings.ToUpper(s)
			}
			return romanToDecimal(s)
		}}, nil
	case intWords:
		keys := make([]string, 0, len(wordValues))
		for k := range wordValues {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return &integerMatcher{regex: "(?:" + strings.Join(append(keys, "and", `[\-, ]`), "|") + ")+",
			parse: func(s string) float64 { return wordsToNumber(strings.ToLower(s)) }}, nil
	case intDecimal:
		re := "[0-9]" + occ
		if f.ordinal {
			re += "(?:th|st|nd|rd)"
		}
		return &integerMatcher{regex: re, parse: func(s string) float64 {
			digits := s
			if f.ordinal {
				// the suffix is cut without checking it is there, as jsonata-js does
				if len(digits) >= 2 {
					digits = digits[:len(digits)-2]
				} else {
					digits = ""
				}
			}
			if f.regular {
				digits = strings.ReplaceAll(digits, ",", "")
			} else {
				for _, sep := range f.separators {
					digits = strings.ReplaceAll(digits, sep.char, "")
				}
			}
			if f.zeroCode != 0x30 {
				rs := []rune(digits)
				for i, r := range rs {
					rs[i] = r - f.zeroCode + 0x30
				}
				digits = string(rs)
			}
			return jsParseInt(digits)
		}}, nil
	}
	return nil, &Error{Code: "D3130", info: &errInfo{value: f.token}}
}

// jsParseInt is parseInt(s) (base 10): leading whitespace and sign, then digits; NaN if none.
func jsParseInt(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return math.NaN()
	}
	v, _ := strconv.ParseFloat(s[:i], 64)
	if neg {
		v = -v
	}
	return v
}

func lettersToDecimal(s string, a rune) float64 {
	d := 0.0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		d += float64(rs[len(rs)-i-1]-a+1) * jsPow(26, float64(i))
	}
	return d
}

var romanValues = map[byte]float64{'M': 1000, 'D': 500, 'C': 100, 'L': 50, 'X': 10, 'V': 5, 'I': 1}

func romanToDecimal(s string) float64 {
	d := 0.0
	max := 1.0
	for i := len(s) - 1; i >= 0; i-- {
		v, ok := romanValues[s[i]]
		if !ok {
			return math.NaN()
		}
		if v < max {
			d -= v
		} else {
			max = v
			d += v
		}
	}
	return d
}

func fnParseInteger(c *call, a []any) (any, *Error) {
	s, ok := str(a[0])
	if !ok {
		return Undefined, nil
	}
	pic, _ := str(a[1])
	f, err := analyseIntegerPicture(pic)
	if err != nil {
		return nil, err
	}
	m, err := integerMatcherFor(f)
	if err != nil {
		return nil, err
	}
	return m.parse(s), nil
}

func fnFormatBase(c *call, a []any) (any, *Error) {
	v, ok := num(a[0])
	if !ok {
		return Undefined, nil
	}
	v = roundHalfEven(v)
	radix := 10.0
	if r, ok := num(a[1]); ok {
		radix = roundHalfEven(r)
	}
	if radix < 2 || radix > 36 {
		return nil, &Error{Code: "D3100", info: &errInfo{value: radix}}
	}
	if math.Abs(v) < 1<<63 {
		return strconv.FormatInt(int64(v), int(radix)), nil
	}
	return formatNumber(v), nil
}

func roundHalfEven(x float64) float64 {
	r := math.Floor(x + 0.5)
	if math.Abs(r-x) == 0.5 && math.Mod(math.Abs(r), 2) == 1 {
		r--
	}
	if r == 0 {
		r = 0
	}
	return r
}
