package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Date/time pictures after XPath F&O 3.1 §9.8 (format-dateTime) as jsonata-js implements them, for
// $fromMillis, $toMillis and $now. All times are UTC shifted by the optional ±HHMM timezone.

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = []string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)

var defaultPresentation = map[byte]string{'Y': "1", 'M': "1", 'D': "1", 'd': "1", 'F': "n", 'W': "1", 'w': "1", 'X': "1",
	'x': "1", 'H': "1", 'h': "1", 'P': "n", 'm': "01", 's': "01", 'f': "1", 'Z': "01:01", 'z': "01:01", 'C': "n", 'E': "n"}

type width struct {
	min, max       int
	hasMin, hasMax bool
}

type dtPart struct {
	literal   bool
	value     string
	component byte
	pres1     string
	pres2     string
	names     letterCase
	hasNames  bool
	width     *width
	intFormat *intFormat
	n         int
}

func analyseDateTimePicture(picture string) ([]dtPart, *Error) {
	var parts []dtPart
	addLiteral := func(start, end int) {
		if end > start {
			lit := strings.ReplaceAll(picture[start:end], "]]", "]")
			parts = append(parts, dtPart{literal: true, value: lit})
		}
	}
	start, pos := 0, 0
	for pos < len(picture) {
		if picture[pos] != '[' {
			pos++
			continue
		}
		if pos+1 < len(picture) && picture[pos+1] == '[' {
			addLiteral(start, pos)
			parts = append(parts, dtPart{literal: true, value: "["})
			pos += 2
			start = pos
			continue
		}
		addLiteral(start, pos)
		start = pos
		end := strings.IndexByte(picture[start:], ']')
		if end < 0 {
			return nil, &Error{Code: "D3135"}
		}
		pos = start + end
		def, err := parseMarker(strings.Join(strings.Fields(picture[start+1:pos]), ""))
		if err != nil {
			return nil, err
		}
		parts = append(parts, def)
		start = pos + 1
		pos++
	}
	addLiteral(start, pos)
	return parts, nil
}

// parseMarker parses one [variable marker] of a date/time picture (whitespace removed): the
// component, presentation modifiers and width.
func parseMarker(marker string) (dtPart, *Error) {
	def := dtPart{}
	if marker != "" {
		def.component = marker[0]
	}
	var pres string
	if comma := strings.LastIndexByte(marker, ','); comma >= 0 {
		wm := marker[comma+1:]
		w := &width{}
		minS, maxS, hasDash := strings.Cut(wm, "-")
		parseW := func(s string) (int, bool) {
			if s == "*" {
				return 0, false
			}
			v := jsParseInt(s)
			if math.IsNaN(v) {
				return 0, false
			}
			return int(v), true
		}
		w.min, w.hasMin = parseW(minS)
		if hasDash {
			w.max, w.hasMax = parseW(maxS)
		}
		def.width = w
		if comma >= 1 {
			pres = marker[1:comma]
		}
	} else if len(marker) > 1 {
		pres = marker[1:]
	}
	switch {
	case len(pres) == 1:
		def.pres1 = pres
	case len(pres) > 1:
		last := pres[len(pres)-1]
		if strings.IndexByte("atco", last) >= 0 {
			def.pres2 = string(last)
			def.pres1 = pres[:len(pres)-1]
		} else {
			def.pres1 = pres
		}
	default:
		p, ok := defaultPresentation[def.component]
		if !ok {
			return def, &Error{Code: "D3132", info: &errInfo{value: string(def.component)}}
		}
		def.pres1 = p
	}
	if def.pres1 != "" && def.pres1[0] == 'n' {
		def.names, def.hasNames = caseLower, true
	} else if def.pres1 != "" && def.pres1[0] == 'N' {
		def.hasNames = true
		if len(def.pres1) > 1 && def.pres1[1] == 'n' {
			def.names = caseTitle
		} else {
			def.names = caseUpper
		}
	} else if def.component != 0 && strings.IndexByte("YMDdFWwXxHhmsf", def.component) >= 0 {
		ip := def.pres1
		if def.pres2 != "" {
			ip += ";" + def.pres2
		}
		f, err := analyseIntegerPicture(ip)
		if err != nil {
			return def, err
		}
		def.intFormat = f
		if def.width != nil && def.width.hasMin && f.mandatory < def.width.min {
			f.mandatory = def.width.min
		}
		if def.component == 'Y' {
			def.n = -1
			if def.width != nil && def.width.hasMax {
				def.n = def.width.max
				f.mandatory = def.n
			} else if w := f.mandatory + f.optional; w >= 2 {
				def.n = w
			}
		}
	}
	if def.component == 'Z' || def.component == 'z' {
		f, err := analyseIntegerPicture(def.pres1)
		if err != nil {
			return def, err
		}
		def.intFormat = f
	}

	return def, nil
}

const dayMillis = 86400000

func startOfFirstWeek(year int, month time.Month) int64 {
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	ms := first.UnixMilli()
	dow := int(first.Weekday())
	if dow == 0 {
		dow = 7
	}
	if dow > 4 {
		return ms + int64(8-dow)*dayMillis
	}
	return ms - int64(dow-1)*dayMillis
}

func deltaWeeks(start, end int64) float64 { return float64(end-start)/float64(dayMillis*7) + 1 }

func nextMonth(y int, m time.Month) (int, time.Month) {
	if m == 12 {
		return y + 1, 1
	}
	return y, m + 1
}

func prevMonth(y int, m time.Month) (int, time.Month) {
	if m == 1 {
		return y - 1, 12
	}
	return y, m - 1
}

// fragment is getDateTimeFragment: the value of one component of t (UTC).
func fragment(t time.Time, c byte) any {
	switch c {
	case 'Y':
		return float64(t.Year())
	case 'M':
		return float64(t.Month())
	case 'D':
		return float64(t.Day())
	case 'd':
		return float64(t.YearDay())
	case 'F':
		d := int(t.Weekday())
		if d == 0 {
			d = 7
		}
		return float64(d)
	case 'W':
		y := t.Year()
		today := time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).UnixMilli()
		week := deltaWeeks(startOfFirstWeek(y, 1), today)
		if week > 52 {
			if today >= startOfFirstWeek(y+1, 1) {
				week = 1
			}
		} else if week < 1 {
			week = deltaWeeks(startOfFirstWeek(y-1, 1), today)
		}
		return math.Floor(week)
	case 'w':
		y, m := t.Year(), t.Month()
		today := time.Date(y, m, t.Day(), 0, 0, 0, 0, time.UTC).UnixMilli()
		week := deltaWeeks(startOfFirstWeek(y, m), today)
		if week > 4 {
			ny, nm := nextMonth(y, m)
			if today >= startOfFirstWeek(ny, nm) {
				week = 1
			}
		} else if week < 1 {
			py, pm := prevMonth(y, m)
			week = deltaWeeks(startOfFirstWeek(py, pm), today)
		}
		return math.Floor(week)
	case 'X':
		y := t.Year()
		now := t.UnixMilli()
		switch {
		case now < startOfFirstWeek(y, 1):
			return float64(y - 1)
		case now >= startOfFirstWeek(y+1, 1):
			return float64(y + 1)
		}
		return float64(y)
	case 'x':
		y, m := t.Year(), t.Month()
		now := t.UnixMilli()
		ny, nm := nextMonth(y, m)
		switch {
		case now < startOfFirstWeek(y, m):
			_, pm := prevMonth(y, m)
			return float64(pm)
		case now >= startOfFirstWeek(ny, nm):
			return float64(nm)
		}
		return float64(m)
	case 'H':
		return float64(t.Hour())
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return float64(h)
	case 'P':
		if t.Hour() >= 12 {
			return "pm"
		}
		return "am"
	case 'm':
		return float64(t.Minute())
	case 's':
		return float64(t.Second())
	case 'f':
		return float64(t.Nanosecond() / 1e6)
	case 'C', 'E':
		return "ISO"
	}
	return Undefined
}

var iso8601Picture = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"

func formatDateTime(millis float64, picture string, hasPicture bool, tz string, hasTZ bool) (string, *Error) {
	offH, offM := 0, 0
	if hasTZ {
		off := jsParseInt(tz)
		if !math.IsNaN(off) {
			offH = int(math.Floor(off / 100))
			offM = int(math.Mod(off, 100))
		}
	}
	if !hasPicture {
		picture = iso8601Picture
	}
	parts, err := analyseDateTimePicture(picture)
	if err != nil {
		return "", err
	}
	shifted := millis + float64((offH*60+offM)*60*1000)
	if math.IsNaN(shifted) || math.Abs(shifted) > 8.64e15 {
		return "", &Error{Code: "D3110", info: &errInfo{value: millis}}
	}
	t := time.UnixMilli(int64(math.Floor(shifted))).UTC()
	var b strings.Builder
	for _, p := range parts {
		if p.literal {
			b.WriteString(p.value)
			continue
		}
		s, err := formatComponent(t, p, offH, offM)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func formatComponent(t time.Time, p dtPart, offH, offM int) (string, *Error) {
	v := fragment(t, p.component)
	c := p.component
	switch {
	case strings.IndexByte("YMDdFWwXxHhms", c) >= 0 && c != 0:
		f := v.(float64)
		if c == 'Y' && p.n != -1 {
			f = math.Mod(f, math.Pow(10, float64(p.n)))
		}
		if p.hasNames {
			var name string
			switch c {
			case 'M', 'x':
				name = monthNames[int(f)-1]
			case 'F':
				name = dayNames[int(f)]
			default:
				return "", &Error{Code: "D3133", info: &errInfo{value: string(c)}}
			}
			switch p.names {
			case caseUpper:
				name = strings.ToUpper(name)
			case caseLower:
				name = strings.ToLower(name)
			}
			if p.width != nil && p.width.hasMax && len(name) > p.width.max {
				name = name[:p.width.max]
			}
			return name, nil
		}
		return formatIntegerWith(f, p.intFormat)
	case c == 'f':
		return formatIntegerWith(v.(float64), p.intFormat)
	case c == 'Z' || c == 'z':
		offset := offH*100 + offM
		var s string
		var err *Error
		if p.intFormat.regular {
			s, err = formatIntegerWith(float64(offset), p.intFormat)
		} else {
			nd := p.intFormat.mandatory
			switch {
			case nd == 1 || nd == 2:
				s, err = formatIntegerWith(float64(offH), p.intFormat)
				if err == nil && offM != 0 {
					mf, _ := analyseIntegerPicture("00")
					ms, _ := formatIntegerWith(float64(offM), mf)
					s += ":" + ms
				}
			case nd == 3 || nd == 4:
				s, err = formatIntegerWith(float64(offset), p.intFormat)
			default:
				return "", &Error{Code: "D3134", info: &errInfo{value: float64(nd)}}
			}
		}
		if err != nil {
			return "", err
		}
		if offset >= 0 {
			s = "+" + s
		}
		if c == 'z' {
			s = "GMT" + s
		}
		if offset == 0 && p.pres2 == "t" {
			s = "Z"
		}
		return s, nil
	case c == 'P':
		s := v.(string)
		if p.hasNames && p.names == caseUpper {
			s = strings.ToUpper(s)
		}
		return s, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return formatNumber(x), nil
	}
	return "undefined", nil
}

func fnFromMillis(c *call, a []any) (any, *Error) {
	ms, ok := num(a[0])
	if !ok {
		return Undefined, nil
	}
	pic, hasPic := str(a[1])
	tz, hasTZ := str(a[2])
	s, err := formatDateTime(ms, pic, hasPic, tz, hasTZ)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func fnNow(c *call, a []any) (any, *Error) {
	pic, hasPic := str(a[0])
	tz, hasTZ := str(a[1])
	s, err := formatDateTime(float64(c.ev.opts.Now.UnixMilli()), pic, hasPic, tz, hasTZ)
	if err != nil {
		return nil, err
	}
	return s, nil
}

var iso8601Re = regexp.MustCompile(`^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`)

var dateParseRe = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?$`)

// jsDateParse is Date.parse for the ISO 8601 forms the $toMillis check admits (times without an
// offset are taken as UTC); NaN when the date is invalid.
func jsDateParse(s string) float64 {
	m := dateParseRe.FindStringSubmatch(s)
	if m == nil {
		return math.NaN()
	}
	atoi := func(x string, def int) int {
		if x == "" {
			return def
		}
		v, _ := strconv.Atoi(x)
		return v
	}
	y, mo, d := atoi(m[1], 0), atoi(m[2], 1), atoi(m[3], 1)
	h, mi, sec := atoi(m[4], 0), atoi(m[5], 0), atoi(m[6], 0)
	ms := 0
	if m[7] != "" {
		f := (m[7] + "00")[:3]
		ms = atoi(f, 0)
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 59 || (h == 24 && (mi != 0 || sec != 0 || ms != 0)) {
		return math.NaN()
	}
	if m[8] == "" && m[4] == "" && len(s) > 10 {
		return math.NaN()
	}
	// like V8, a day past the end of the month rolls into the next month
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*1e6, time.UTC)
	v := float64(t.UnixMilli())
	if z := m[8]; z != "" && z != "Z" {
		z = strings.ReplaceAll(z, ":", "")
		oh, _ := strconv.Atoi(z[1:3])
		om, _ := strconv.Atoi(z[3:5])
		off := float64((oh*60 + om) * 60000)
		if z[0] == '+' {
			v -= off
		} else {
			v += off
		}
	}
	return v
}

func fnToMillis(c *call, a []any) (any, *Error) {
	ts, ok := str(a[0])
	if !ok {
		return Undefined, nil
	}
	pic, hasPic := str(a[1])
	if !hasPic {
		if !iso8601Re.MatchString(ts) {
			return nil, &Error{Code: "D3110", info: &errInfo{value: ts}}
		}
		return jsDateParse(ts), nil
	}
	return parseDateTime(ts, pic, c.ev.opts.Now.UTC())
}

// jsUTCYear is the year Date.UTC uses: 0 to 99 mean 1900 to 1999.
func jsUTCYear(y float64) int {
	if y >= 0 && y <= 99 {
		return int(y) + 1900
	}
	return int(y)
}

type dtMatcher struct {
	regex     string
	component byte
	parse     func(string) any
}

// dateMatchers builds the regular expression and parser of each part of a date/time picture.
func dateMatchers(parts []dtPart) ([]dtMatcher, *Error) {
	var ms []dtMatcher
	for _, p := range parts {
		var m dtMatcher
		switch {
		case p.literal:
			m.regex = regexp.QuoteMeta(p.value)
		case p.component == 'Z' || p.component == 'z':
			var sep string
			if p.intFormat.regular {
				sep = p.intFormat.regularSep.char
			}
			re := ""
			if p.component == 'z' {
				re = "GMT"
			}
			re += "[-+][0-9]+"
			if sep != "" {
				re += regexp.QuoteMeta(sep) + "[0-9]+"
			}
			m.regex = re
			comp := p.component
			m.parse = func(v string) any {
				if comp == 'z' && len(v) >= 3 {
					v = v[3:]
				}
				var oh, om float64
				if sep != "" {
					i := strings.Index(v, sep)
					oh = jsParseInt(v[:i])
					om = jsParseInt(v[i+len(sep):])
				} else if len(v)-1 <= 2 {
					oh = jsParseInt(v)
				} else {
					oh = jsParseInt(v[:3])
					om = jsParseInt(v[3:])
				}
				return oh*60 + om
			}
		case p.intFormat != nil:
			f := *p.intFormat
			f.n, f.hasN = p.n, p.component == 'Y'
			im, err := integerMatcherFor(&f)
			if err != nil {
				return nil, err
			}
			m.regex = im.regex
			m.parse = func(v string) any { return im.parse(v) }
		default:
			m.regex = "[a-zA-Z]+"
			lookup := map[string]float64{}
			switch p.component {
			case 'M', 'x':
				for i, n := range monthNames {
					if p.width != nil && p.width.hasMax && p.width.max > 0 && p.width.max < len(n) {
						n = n[:p.width.max]
					}
					lookup[n] = float64(i + 1)
				}
			case 'F':
				for i, n := range dayNames[1:] {
					if p.width != nil && p.width.hasMax && p.width.max > 0 && p.width.max < len(n) {
						n = n[:p.width.max]
					}
					lookup[n] = float64(i + 1)
				}
			case 'P':
				lookup = map[string]float64{"am": 0, "AM": 0, "pm": 1, "PM": 1}
			default:
				return nil, &Error{Code: "D3133", info: &errInfo{value: string(p.component)}}
			}
			m.parse = func(v string) any {
				if x, ok := lookup[v]; ok {
					return x
				}
				return Undefined
			}
		}
		m.component = p.component
		ms = append(ms, m)
	}
	return ms, nil
}

func parseDateTime(ts, picture string, now time.Time) (any, *Error) {
	parts, err := analyseDateTimePicture(picture)
	if err != nil {
		return nil, err
	}
	ms, err := dateMatchers(parts)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("(?i)^")
	for _, m := range ms {
		b.WriteString("(" + m.regex + ")")
	}
	b.WriteString("$")
	re, rerr := regexp.Compile(b.String())
	if rerr != nil {
		return Undefined, nil
	}
	info := re.FindStringSubmatch(ts)
	if info == nil {
		return Undefined, nil
	}
	comps := map[byte]any{}
	for i, m := range ms {
		if m.parse != nil {
			comps[m.component] = m.parse(info[i+1])
		}
	}
	if len(comps) == 0 {
		return Undefined, nil
	}
	return resolveDateTime(comps, now)
}

// resolveDateTime turns the parsed components into epoch millis: it picks the date and time
// combinations present, defaults the more significant missing components from now and the less
// significant ones to their minimum, and rejects gaps (D3136).
func resolveDateTime(comps map[byte]any, now time.Time) (any, *Error) {
	has := func(c byte) bool {
		v, ok := comps[c]
		return ok && !isUndef(v) && jsTruthy(v)
	}
	mask := 0
	for _, c := range []byte("YXMxWwdD") {
		mask <<= 1
		if has(c) {
			mask++
		}
	}
	isType := func(t int) bool { return ^t&mask == 0 && t&mask != 0 }
	dateA := isType(161)
	dateB := !dateA && isType(130)
	dateC := isType(84)
	dateD := !dateC && isType(72)
	mask = 0
	for _, c := range []byte("PHhmsf") {
		mask <<= 1
		if has(c) {
			mask++
		}
	}
	timeA := isType(23)
	timeB := !timeA && isType(47)
	dateComps := "YMD"
	switch {
	case dateB:
		dateComps = "Yd"
	case dateC:
		dateComps = "XxwF"
	case dateD:
		dateComps = "XWF"
	}
	timeComps := "Hmsf"
	if timeB {
		timeComps = "Phmsf"
	}
	startSpecified, endSpecified := false, false
	for _, c := range []byte(dateComps + timeComps) {
		if v, ok := comps[c]; !ok || isUndef(v) {
			if startSpecified {
				if strings.IndexByte("MDd", c) >= 0 {
					comps[c] = 1.0
				} else {
					comps[c] = 0.0
				}
				endSpecified = true
			} else {
				comps[c] = fragment(now, c)
			}
		} else {
			startSpecified = true
			if endSpecified {
				return nil, &Error{Code: "D3136"}
			}
		}
	}
	numOf := func(c byte) float64 {
		if f, ok := comps[c].(float64); ok {
			return f
		}
		return math.NaN()
	}
	M := numOf('M')
	if M > 0 {
		M--
	} else {
		M = 0
	}
	D := numOf('D')
	if dateB {
		first := time.Date(jsUTCYear(numOf('Y')), 1, 1, 0, 0, 0, 0, time.UTC)
		d := first.Add(time.Duration(numOf('d')-1) * 24 * time.Hour)
		M = float64(d.Month() - 1)
		D = float64(d.Day())
	}
	if dateC || dateD {
		return nil, &Error{Code: "D3136"}
	}
	H := numOf('H')
	if timeB {
		h := numOf('h')
		if h == 12 {
			h = 0
		}
		H = h
		if numOf('P') == 1 {
			H += 12
		}
	}
	vals := []float64{numOf('Y'), M, D, H, numOf('m'), numOf('s'), numOf('f')}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN(), nil
		}
	}
	t := time.Date(jsUTCYear(vals[0]), time.Month(int(vals[1])+1), int(vals[2]), int(vals[3]), int(vals[4]), int(vals[5]), int(vals[6])*1e6, time.UTC)
	millis := float64(t.UnixMilli())
	if z, ok := comps['Z'].(float64); ok && z != 0 {
		millis -= z * 60000
	} else if z, ok := comps['z'].(float64); ok && z != 0 {
		millis -= z * 60000
	}
	return millis, nil
}
