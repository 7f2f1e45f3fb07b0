package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Field bounds. Years are bounded as Temporal bounds them: a calendar never matches after
// maxYear, and a structured year range must lie in [minYear, maxYear].
const (
	minYear = 2000
	maxYear = 2100

	// maxCommentLen is Temporal's limit on one calendar's comment.
	maxCommentLen = 200
)

// valueKind says which names a calendar field accepts besides decimal integers.
type valueKind int

const (
	kindInt   valueKind = iota
	kindYear            // like kindInt, but "*" is the empty range list (every year)
	kindMonth           // month names, at least three letters of the English name
	kindDow             // weekday names, at least two letters; 7 is another Sunday
)

var (
	monthNames = []string{"january", "february", "march", "april", "may", "june", "july",
		"august", "september", "october", "november", "december"}
	dowNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

	errOutOfRange = errors.New("out of range")
)

// calendarToStructured turns the string form of a calendar into ranges, with the defaults
// Temporal documents (second, minute and hour 0; the date fields every value). Errors of all
// fields are reported together, in Temporal's order and words.
func calendarToStructured(cal *schedulepb.CalendarSpec) (*schedulepb.StructuredCalendarSpec, error) {
	var errs []string
	field := func(s, name, def string, lo, hi int, kind valueKind) []*schedulepb.Range {
		r, err := parseField(s, name, def, lo, hi, kind)
		if err != nil {
			errs = append(errs, err.Error())
		}
		return r
	}
	out := &schedulepb.StructuredCalendarSpec{
		Second:     field(cal.GetSecond(), "Second", "0", 0, 59, kindInt),
		Minute:     field(cal.GetMinute(), "Minute", "0", 0, 59, kindInt),
		Hour:       field(cal.GetHour(), "Hour", "0", 0, 23, kindInt),
		DayOfWeek:  field(cal.GetDayOfWeek(), "DayOfWeek", "*", 0, 7, kindDow),
		DayOfMonth: field(cal.GetDayOfMonth(), "DayOfMonth", "*", 1, 31, kindInt),
		Month:      field(cal.GetMonth(), "Month", "*", 1, 12, kindMonth),
		Year:       field(cal.GetYear(), "Year", "*", minYear, maxYear, kindYear),
		Comment:    cal.GetComment(),
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, ", "))
	}
	return out, nil
}

// parseField parses one calendar field: "*", "x", "x-z", "x-z/y", "x/y" (x to the maximum,
// every y), "*/y", and comma-separated lists of those. The result uses proto defaults where
// it can (End 0 for a single value, Step 0 for 1), as Temporal stores it.
func parseField(s, name, def string, lo, hi int, kind valueKind) ([]*schedulepb.Range, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = def
	}
	if s == "*" && kind == kindYear {
		return nil, nil
	}
	var ranges []*schedulepb.Range
	for _, part := range strings.Split(s, ",") {
		step, hasStep := 1, false
		if before, after, found := strings.Cut(part, "/"); found {
			if strings.Contains(after, "/") {
				return nil, fmt.Errorf("%s has too many slashes", name)
			}
			n, err := strconv.Atoi(after)
			if err != nil {
				return nil, err
			}
			if n < 1 {
				return nil, fmt.Errorf("%s has invalid Step", name)
			}
			part, step, hasStep = before, n, true
		}
		start, end := lo, hi
		if part != "*" {
			if first, last, found := strings.Cut(part, "-"); found {
				if strings.Contains(last, "-") {
					return nil, fmt.Errorf("%s has too many dashes", name)
				}
				var err error
				if start, err = parseValue(first, lo, hi, kind); err != nil {
					return nil, fmt.Errorf("%s Start is not in range [%d-%d]", name, lo, hi)
				}
				if end, err = parseValue(last, start, hi, kind); err != nil {
					return nil, fmt.Errorf("%s End is before Start or not in range [%d-%d]", name, lo, hi)
				}
			} else {
				var err error
				if start, err = parseValue(part, lo, hi, kind); err != nil {
					return nil, fmt.Errorf("%s is not in range [%d-%d]", name, lo, hi)
				}
				if !hasStep {
					// "x/y" runs from x to the maximum; a bare "x" is just x.
					end = start
				}
			}
		}
		if kind == kindDow && end == 7 {
			// 7 is Sunday again, but structured day-of-week ranges stop at 6. "0-7" and "1-7"
			// become 0-6 (every day). Otherwise, when 7 is one of the range's values, Sunday
			// gets a range of its own, and the range is capped at 6. (Temporal's server turns
			// "1-7" into 1-6, dropping Sunday although its own comment says 0-6; we keep
			// Sunday, as cron users mean.)
			switch {
			case step == 1 && start <= 1:
				start = 0
			case (7-start)%step == 0:
				ranges = append(ranges, &schedulepb.Range{Start: 0})
				if start == 7 {
					continue
				}
			}
			end = 6
		}
		r := &schedulepb.Range{Start: int32(start), End: int32(end), Step: int32(step)}
		if start == end {
			r.End = 0
		}
		if step == 1 {
			r.Step = 0
		}
		ranges = append(ranges, r)
	}
	return ranges, nil
}

// parseValue parses one integer or name and checks it against [lo, hi].
func parseValue(s string, lo, hi int, kind valueKind) (int, error) {
	names, minLen, base := []string(nil), 0, 0
	switch kind {
	case kindMonth:
		names, minLen, base = monthNames, 3, 1
	case kindDow:
		names, minLen, base = dowNames, 2, 0
	}
	if names != nil && len(s) >= minLen {
		lower := strings.ToLower(s)
		for i, n := range names {
			if strings.HasPrefix(n, lower) {
				if v := i + base; v >= lo && v <= hi {
					return v, nil
				}
				return 0, errOutOfRange
			}
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if v < lo || v > hi {
		return 0, errOutOfRange
	}
	return v, nil
}

// parsedCron is one cron_string after parsing: either a calendar or an interval, and the time
// zone named by a CRON_TZ= or TZ= prefix ("" when none).
type parsedCron struct {
	calendar *schedulepb.StructuredCalendarSpec
	interval *schedulepb.IntervalSpec
	tz       string
}

// parseCron parses a cron_string the way Temporal does: an optional CRON_TZ=/TZ= prefix, an
// optional "# comment" suffix, then "@every <interval>[/<phase>]", a shorthand (@hourly ...),
// or 5, 6 or 7 fields. Day-of-month and day-of-week must both match (no classic-cron "or").
func parseCron(c string) (parsedCron, error) {
	var out parsedCron
	c = strings.TrimSpace(c)
	if strings.HasPrefix(c, "TZ=") || strings.HasPrefix(c, "CRON_TZ=") {
		tz, rest, found := strings.Cut(c, " ")
		if !found {
			return out, errors.New("CronString has time zone but missing fields")
		}
		c = rest
		_, out.tz, _ = strings.Cut(tz, "=")
	}
	c, comment, _ := strings.Cut(c, "#")
	c, comment = strings.TrimSpace(c), strings.TrimSpace(comment)

	if strings.HasPrefix(c, "@every") {
		// Temporal drops the zone of an @every string: intervals do not depend on it.
		iv, err := parseEvery(c)
		return parsedCron{interval: iv}, err
	}
	switch c {
	case "@yearly", "@annually":
		c = "0 0 1 1 *"
	case "@monthly":
		c = "0 0 1 * *"
	case "@weekly":
		c = "0 0 * * 0"
	case "@daily", "@midnight":
		c = "0 0 * * *"
	case "@hourly":
		c = "0 * * * *"
	}
	cal := &schedulepb.CalendarSpec{Comment: comment}
	f := strings.Fields(c)
	switch len(f) {
	case 5:
		cal.Minute, cal.Hour, cal.DayOfMonth, cal.Month, cal.DayOfWeek = f[0], f[1], f[2], f[3], f[4]
	case 6:
		cal.Minute, cal.Hour, cal.DayOfMonth, cal.Month, cal.DayOfWeek, cal.Year = f[0], f[1], f[2], f[3], f[4], f[5]
	case 7:
		cal.Second, cal.Minute, cal.Hour, cal.DayOfMonth, cal.Month, cal.DayOfWeek, cal.Year = f[0], f[1], f[2], f[3], f[4], f[5], f[6]
	default:
		return out, errors.New("CronString does not have 5-7 fields")
	}
	structured, err := calendarToStructured(cal)
	if err != nil {
		return out, err
	}
	out.calendar = structured
	return out, nil
}

// parseEvery parses "@every <interval>[/<phase>]".
func parseEvery(c string) (*schedulepb.IntervalSpec, error) {
	_, rest, found := strings.Cut(c, " ")
	if !found {
		return nil, errors.New("CronString does not have interval after @every")
	}
	every, phase, hasPhase := strings.Cut(rest, "/")
	iv, err := parseDuration(every)
	if err != nil {
		return nil, err
	}
	out := &schedulepb.IntervalSpec{Interval: durationpb.New(iv)}
	if hasPhase && phase != "" {
		p, err := parseDuration(phase)
		if err != nil {
			return nil, err
		}
		out.Phase = durationpb.New(p)
	}
	return out, nil
}

var reDays = regexp.MustCompile(`(\d+(\.\d*)?|(\.\d+))d`)

// parseDuration is time.ParseDuration plus the unit "d" (exactly 24 hours), as Temporal's
// server parses @every durations.
func parseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	var days float64
	var bad error
	rest := reDays.ReplaceAllStringFunc(s, func(v string) string {
		n, err := strconv.ParseFloat(strings.TrimSuffix(v, "d"), 64)
		if err != nil {
			bad = err
		}
		days += n
		return ""
	})
	if bad != nil || rest == s {
		return time.ParseDuration(s)
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, fmt.Errorf("time: invalid duration %q", s)
		}
	}
	return d + time.Duration(days*float64(24*time.Hour)), nil
}
