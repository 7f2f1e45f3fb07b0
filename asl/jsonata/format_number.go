package jsonata

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// $formatNumber after XPath F&O 3.1 format-number (§4.7) as jsonata-js implements it. Pictures are
// handled in UTF-16 units, as JavaScript strings are.

type u16 []uint16

func toU16(s string) u16     { return utf16.Encode([]rune(s)) }
func (s u16) String() string { return string(utf16.Decode(s)) }

func (s u16) index(sub u16, from int) int {
	if from < 0 {
		from = 0
	}
	for i := from; i+len(sub) <= len(s); i++ {
		match := true
		for j := range sub {
			if s[i+j] != sub[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

func (s u16) lastIndex(sub u16) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if s.index(sub, i) == i {
			return i
		}
	}
	return -1
}

func (s u16) sub(i, j int) u16 {
	if i < 0 {
		i = 0
	}
	if j > len(s) {
		j = len(s)
	}
	if i >= j {
		return nil
	}
	return s[i:j]
}

type numberPicture struct {
	prefix, suffix, active, mantissa, integer, fractional, sub u16
	exponent                                                   u16
	hasExponent                                                bool
}

type numberVars struct {
	intGrouping        []int
	regularGrouping    int
	minInt             int
	scaling            int
	prefix, suffix     u16
	fracGrouping       []int
	minFrac, maxFrac   int
	minExp             int
	picture            u16
	fractionalPartSize int
}

// numberFormat holds the decimal format properties of one $formatNumber call.
type numberFormat struct {
	family                                                   []uint16 // the ten digits from zero-digit
	decSep, grpSep, expSep, digit, patSep, percent, permille u16
	minus, zero                                              u16
}

func newNumberFormat(opts any) (*numberFormat, *Error) {
	props := map[string]string{
		"decimal-separator": ".", "grouping-separator": ",", "exponent-separator": "e", "infinity": "Infinity",
		"minus-sign": "-", "NaN": "NaN", "percent": "%", "per-mille": "\u2030", "zero-digit": "0", "digit": "#",
		"pattern-separator": ";",
	}
	if o, ok := opts.(*object); ok {
		for i, k := range o.keys {
			s, err := fnString(o.vals[i], false)
			if err != nil {
				return nil, err
			}
			props[k] = s
		}
	}
	p := func(k string) u16 { return toU16(props[k]) }
	f := &numberFormat{decSep: p("decimal-separator"), grpSep: p("grouping-separator"), expSep: p("exponent-separator"),
		digit: p("digit"), patSep: p("pattern-separator"), percent: p("percent"), permille: p("per-mille"),
		minus: p("minus-sign"), zero: p("zero-digit")}
	if len(f.zero) == 0 {
		return nil, &Error{Code: "D3080"}
	}
	for i := 0; i < 10; i++ {
		f.family = append(f.family, f.zero[0]+uint16(i))
	}
	return f, nil
}

func is1(s u16, c uint16) bool { return len(s) == 1 && s[0] == c }

func (f *numberFormat) isDigit(c uint16) bool { return c >= f.family[0] && c <= f.family[9] }

func (f *numberFormat) isDigitOrOpt(c uint16) bool { return f.isDigit(c) || is1(f.digit, c) }

func (f *numberFormat) isActive(c uint16) bool {
	return f.isDigit(c) || is1(f.decSep, c) || is1(f.expSep, c) || is1(f.grpSep, c) || is1(f.digit, c) || is1(f.patSep, c)
}

func countIf(s u16, pred func(uint16) bool) int {
	n := 0
	for _, ch := range s {
		if pred(ch) {
			n++
		}
	}
	return n
}

// subPictures splits the picture at the pattern separator.
func (f *numberFormat) subPictures(pic u16) []u16 {
	if len(f.patSep) == 0 {
		return []u16{pic}
	}
	var subs []u16
	rest := pic
	for {
		i := rest.index(f.patSep, 0)
		if i < 0 {
			return append(subs, rest)
		}
		subs = append(subs, rest[:i])
		rest = rest[i+len(f.patSep):]
	}
}

// split divides a sub-picture into prefix, active part and suffix, mantissa and exponent, integer
// and fractional parts, with jsonata-js's quirks (the fractional part of a picture without a
// decimal separator is its suffix; the exponent offset is taken in the whole sub-picture).
func (f *numberFormat) split(sp u16) (*numberPicture, *Error) {
	np := &numberPicture{sub: sp}
	pre := -1
	for i, ch := range sp {
		if f.isActive(ch) && !is1(f.expSep, ch) {
			pre = i
			break
		}
	}
	if pre < 0 {
		// jsonata-js fails here with a JavaScript TypeError
		return nil, &Error{Code: "D3085"}
	}
	np.prefix = sp[:pre]
	suf := len(sp)
	for i := len(sp) - 1; i >= 0; i-- {
		if f.isActive(sp[i]) && !is1(f.expSep, sp[i]) {
			suf = i + 1
			break
		}
	}
	np.suffix = sp[suf:]
	np.active = sp.sub(len(np.prefix), len(sp)-len(np.suffix))
	expPos := sp.index(f.expSep, len(np.prefix))
	if expPos == -1 || expPos > len(sp)-len(np.suffix) {
		np.mantissa = np.active
	} else {
		np.mantissa = np.active.sub(0, expPos)
		np.exponent = np.active.sub(expPos+1, len(np.active))
		np.hasExponent = true
	}
	if dp := np.mantissa.index(f.decSep, 0); dp == -1 {
		np.integer = np.mantissa
		np.fractional = np.suffix
	} else {
		np.integer = np.mantissa[:dp]
		np.fractional = np.mantissa.sub(dp+1, len(np.mantissa))
	}
	return np, nil
}

// validate checks a sub-picture (F&O 4.7.3); like jsonata-js it reports the last rule broken.
func (f *numberFormat) validate(np *numberPicture) *Error {
	code := ""
	sp := np.sub
	dpos := sp.index(f.decSep, 0)
	if dpos != sp.lastIndex(f.decSep) {
		code = "D3081"
	}
	if sp.index(f.percent, 0) != sp.lastIndex(f.percent) {
		code = "D3082"
	}
	if sp.index(f.permille, 0) != sp.lastIndex(f.permille) {
		code = "D3083"
	}
	if sp.index(f.percent, 0) != -1 && sp.index(f.permille, 0) != -1 {
		code = "D3084"
	}
	if countIf(np.mantissa, f.isDigitOrOpt) == 0 {
		code = "D3085"
	}
	for _, ch := range np.active {
		if !f.isActive(ch) {
			code = "D3086"
		}
	}
	at := func(s u16, i int) uint16 {
		if i < 0 || i >= len(s) {
			return 0xffff
		}
		return s[i]
	}
	isGrp := func(ch uint16) bool { return is1(f.grpSep, ch) }
	if dpos != -1 {
		if isGrp(at(sp, dpos-1)) || isGrp(at(sp, dpos+1)) {
			code = "D3087"
		}
	} else if isGrp(at(np.integer, len(np.integer)-1)) {
		code = "D3088"
	}
	if len(f.grpSep) > 0 && sp.index(append(append(u16{}, f.grpSep...), f.grpSep...), 0) != -1 {
		code = "D3089"
	}
	if op := np.integer.index(f.digit, 0); op != -1 && countIf(np.integer[:op], f.isDigit) > 0 {
		code = "D3090"
	}
	if op := np.fractional.lastIndex(f.digit); op != -1 && countIf(np.fractional[op:], f.isDigit) > 0 {
		code = "D3091"
	}
	if np.hasExponent && len(np.exponent) > 0 && (sp.index(f.percent, 0) != -1 || sp.index(f.permille, 0) != -1) {
		code = "D3092"
	}
	if np.hasExponent && (len(np.exponent) == 0 || countIf(np.exponent, f.isDigit) != len(np.exponent)) {
		code = "D3093"
	}
	if code != "" {
		return &Error{Code: code}
	}
	return nil
}

// analyse derives the formatting variables of a sub-picture (F&O 4.7.4).
func (f *numberFormat) analyse(np *numberPicture) *numberVars {
	groupingPositions := func(part u16, toLeft bool) []int {
		var pos []int
		g := part.index(f.grpSep, 0)
		for g != -1 && len(f.grpSep) > 0 {
			var s u16
			if toLeft {
				s = part.sub(0, g)
			} else {
				s = part.sub(g, len(part))
			}
			pos = append(pos, countIf(s, f.isDigitOrOpt))
			g = np.integer.index(f.grpSep, g+1)
		}
		return pos
	}
	v := &numberVars{prefix: np.prefix, suffix: np.suffix, picture: np.sub, fractionalPartSize: len(np.fractional)}
	v.intGrouping = groupingPositions(np.integer, false)
	v.regularGrouping = regularPositions(v.intGrouping)
	v.fracGrouping = groupingPositions(np.fractional, true)
	v.minInt = countIf(np.integer, f.isDigit)
	v.scaling = v.minInt
	v.minFrac = countIf(np.fractional, f.isDigit)
	v.maxFrac = countIf(np.fractional, f.isDigitOrOpt)
	if v.minInt == 0 && v.maxFrac == 0 {
		if np.hasExponent {
			v.minFrac, v.maxFrac = 1, 1
		} else {
			v.minInt = 1
		}
	}
	if np.hasExponent && v.minInt == 0 && np.integer.index(f.digit, 0) != -1 {
		v.minInt = 1
	}
	if v.minInt == 0 && v.minFrac == 0 {
		v.minFrac = 1
	}
	if np.hasExponent {
		v.minExp = countIf(np.exponent, f.isDigit)
	}
	return v
}

func fnFormatNumber(c *call, a []any) (any, *Error) {
	value, ok := num(a[0])
	if !ok {
		return Undefined, nil
	}
	picS, _ := str(a[1])
	f, err := newNumberFormat(a[2])
	if err != nil {
		return nil, err
	}
	subs := f.subPictures(toU16(picS))
	if len(subs) > 2 {
		return nil, &Error{Code: "D3080"}
	}
	var parts []*numberPicture
	for _, sp := range subs {
		np, err := f.split(sp)
		if err != nil {
			return nil, err
		}
		parts = append(parts, np)
	}
	for _, np := range parts {
		if err := f.validate(np); err != nil {
			return nil, err
		}
	}
	var vars []*numberVars
	for _, np := range parts {
		vars = append(vars, f.analyse(np))
	}
	if len(vars) == 1 {
		v := *vars[0]
		v.prefix = append(append(u16{}, f.minus...), v.prefix...)
		vars = append(vars, &v)
	}
	pv := vars[0]
	if !(value >= 0) {
		pv = vars[1]
	}
	return f.format(c, value, pv).String(), nil
}

// makeString is Math.abs(v).toFixed(dp) in the picture's digits.
func (f *numberFormat) makeString(v float64, dp int) u16 {
	out := toU16(jsToFixed(math.Abs(v), dp))
	if f.zero[0] != '0' {
		for i, ch := range out {
			if ch >= '0' && ch <= '9' {
				out[i] = f.family[ch-'0']
			}
		}
	}
	return out
}

// format formats value with the variables of its sub-picture (F&O 4.7.5).
func (f *numberFormat) format(c *call, value float64, pv *numberVars) u16 {
	adjusted := value
	if pv.picture.index(f.percent, 0) != -1 {
		adjusted = value * 100
	} else if pv.picture.index(f.permille, 0) != -1 {
		adjusted = value * 1000
	}
	mantissa := adjusted
	var exponent float64
	hasExp := pv.minExp != 0
	if hasExp {
		maxM := math.Pow(10, float64(pv.scaling))
		minM := math.Pow(10, float64(pv.scaling-1))
		for mantissa < minM && mantissa != 0 && !math.IsInf(mantissa, 0) {
			mantissa *= 10
			exponent--
		}
		for mantissa > maxM && !math.IsInf(mantissa, 0) {
			mantissa /= 10
			exponent++
		}
	}
	rounded, _ := fnRound(c, []any{mantissa, float64(pv.maxFrac)})
	rv, _ := rounded.(float64)
	sv := f.makeString(rv, pv.maxFrac)
	zero := f.zero[0]
	if i := sv.index(u16{'.'}, 0); i == -1 {
		sv = append(sv, f.decSep...)
	} else {
		sv = append(append(append(u16{}, sv[:i]...), f.decSep...), sv[i+1:]...)
	}
	for len(sv) > 0 && sv[0] == zero {
		sv = sv[1:]
	}
	for len(sv) > 0 && sv[len(sv)-1] == zero {
		sv = sv[:len(sv)-1]
	}
	dpos := sv.index(f.decSep, 0)
	padLeft := pv.minInt - dpos
	padRight := pv.minFrac - (len(sv) - dpos - 1)
	if padLeft > 0 {
		sv = append(repeatU16(zero, padLeft), sv...)
	}
	if padRight > 0 {
		sv = append(sv, repeatU16(zero, padRight)...)
	}
	dpos = sv.index(f.decSep, 0)
	if pv.regularGrouping > 0 {
		groups := (dpos - 1) / pv.regularGrouping
		for g := 1; g <= groups; g++ {
			sv = insertU16(sv, dpos-g*pv.regularGrouping, f.grpSep)
		}
	} else {
		for _, pos := range pv.intGrouping {
			sv = insertU16(sv, dpos-pos, f.grpSep)
			dpos++
		}
	}
	dpos = sv.index(f.decSep, 0)
	for _, pos := range pv.fracGrouping {
		sv = insertU16(sv, pos+dpos+1, f.grpSep)
	}
	dpos = sv.index(f.decSep, 0)
	if pv.fractionalPartSize == 0 || dpos == len(sv)-1 {
		sv = sv[:len(sv)-1]
	}
	if hasExp {
		se := f.makeString(exponent, 0)
		if pl := pv.minExp - len(se); pl > 0 {
			se = append(repeatU16(zero, pl), se...)
		}
		sv = append(sv, f.expSep...)
		if exponent < 0 {
			sv = append(sv, f.minus...)
		}
		sv = append(sv, se...)
	}
	return append(append(append(u16{}, pv.prefix...), sv...), pv.suffix...)
}

// insertU16 is s.slice(0, at) + ins + s.slice(at), with JavaScript's negative slice indices.
func insertU16(s u16, at int, ins u16) u16 {
	if at < 0 {
		at += len(s)
	}
	if at < 0 {
		at = 0
	}
	if at > len(s) {
		at = len(s)
	}
	return append(append(append(u16{}, s[:at]...), ins...), s[at:]...)
}

func repeatU16(c uint16, n int) u16 {
	out := make(u16, n)
	for i := range out {
		out[i] = c
	}
	return out
}

func regularPositions(idx []int) int {
	if len(idx) == 0 {
		return 0
	}
	factor := idx[0]
	for _, v := range idx[1:] {
		factor = gcd(factor, v)
	}
	if factor == 0 {
		return 0
	}
	for i := 1; i <= len(idx); i++ {
		found := false
		for _, v := range idx {
			if v == i*factor {
				found = true
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}

// jsToFixed is Number.prototype.toFixed: exact decimal rounding, half away from zero.
func jsToFixed(v float64, dp int) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	if math.Abs(v) >= 1e21 {
		return formatNumber(v)
	}
	s := strconv.FormatFloat(v, 'f', dp+30, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	keep := frac[:dp]
	rest := frac[dp:]
	digits := []byte(intPart + keep)
	neg := false
	if digits[0] == '-' {
		neg = true
		digits = digits[1:]
	}
	if rest[0] >= '5' {
		i := len(digits) - 1
		for i >= 0 {
			if digits[i] == '9' {
				digits[i] = '0'
				i--
				continue
			}
			digits[i]++
			break
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		}
	}
	n := len(digits) - dp
	out := string(digits[:n])
	if dp > 0 {
		out += "." + string(digits[n:])
	}
	if neg {
		out = "-" + out
	}
	return out
}
