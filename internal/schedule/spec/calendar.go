package spec

import (
	"math/bits"
	"time"

	schedulepb "go.temporal.io/api/schedule/v1"
)

// calendar is a compiled structured calendar: one bit set per field (bit v set when value v
// matches) and the year ranges, interpreted in one time zone. A time matches when every field
// of its wall-clock reading in that zone matches: day of month AND day of week, as Temporal
// does (classic cron ORs them when both are restricted; Temporal documents that it does not).
type calendar struct {
	loc          *time.Location
	second       uint64 // bits 0..59
	minute       uint64 // bits 0..59
	hour         uint64 // bits 0..23
	dayOfMonth   uint64 // bits 1..31
	month        uint64 // bits 1..12
	dayOfWeek    uint64 // bits 0..6, 0 is Sunday
	years        []yearRange
	anyYear      bool // no year ranges: every year
	neverMatches bool // some field matches no value at all
}

// yearRange is one cleaned year range: start..end every step.
type yearRange struct{ start, end, step int }

const (
	fullDom   = (1<<32 - 1) &^ 1 // every day 1..31
	fullMonth = (1<<13 - 1) &^ 1 // every month 1..12
	fullDow   = 1<<7 - 1         // every weekday 0..6
)

// newCalendar compiles a structured calendar. Values outside a field's bounds never match
// (exclusion calendars are not validated by Temporal, so they may hold any numbers), and a
// step below 1 counts as 1, so compiling never loops for long or panics.
func newCalendar(sc *schedulepb.StructuredCalendarSpec, loc *time.Location) *calendar {
	c := &calendar{
		loc:        loc,
		second:     fieldBits(sc.GetSecond(), 0, 59),
		minute:     fieldBits(sc.GetMinute(), 0, 59),
		hour:       fieldBits(sc.GetHour(), 0, 23),
		dayOfMonth: fieldBits(sc.GetDayOfMonth(), 1, 31),
		month:      fieldBits(sc.GetMonth(), 1, 12),
		dayOfWeek:  fieldBits(sc.GetDayOfWeek(), 0, 6),
		anyYear:    len(sc.GetYear()) == 0,
	}
	for _, r := range sc.GetYear() {
		start, end, step := cleanRange(r)
		c.years = append(c.years, yearRange{int(start), int(end), int(step)})
	}
	c.neverMatches = c.second == 0 || c.minute == 0 || c.hour == 0 || c.dayOfMonth == 0 ||
		c.month == 0 || c.dayOfWeek == 0 || (!c.anyYear && !c.anyYearIn(minYearSearch, maxYear))
	return c
}

// minYearSearch is the first year a year range can name and still matter: Temporal validates
// year ranges to [2000, 2100]; an exclusion may hold earlier years, which we honour.
const minYearSearch = 0

// cleanRange applies the proto defaults of a Range: End below Start means Start, Step below 1
// means 1.
func cleanRange(r *schedulepb.Range) (start, end, step int64) {
	start, end, step = int64(r.GetStart()), int64(r.GetEnd()), int64(r.GetStep())
	if end < start {
		end = start
	}
	if step < 1 {
		step = 1
	}
	return start, end, step
}

// fieldBits sets the bit of every value of the ranges that lies in [lo, hi].
func fieldBits(ranges []*schedulepb.Range, lo, hi int64) uint64 {
	var b uint64
	for _, r := range ranges {
		start, end, step := cleanRange(r)
		if start < lo {
			start += (lo - start + step - 1) / step * step
		}
		for v := start; v <= min(end, hi); v += step {
			b |= 1 << uint(v)
		}
	}
	return b
}

func (c *calendar) yearMatches(y int) bool {
	if c.anyYear {
		return true
	}
	for _, r := range c.years {
		if y >= r.start && y <= r.end && (y-r.start)%r.step == 0 {
			return true
		}
	}
	return false
}

func (c *calendar) anyYearIn(from, to int) bool {
	for _, r := range c.years {
		if r.end >= from && r.start <= to {
			return true
		}
	}
	return false
}

// matches reports whether t's wall-clock reading in the calendar's zone matches every field.
func (c *calendar) matches(t time.Time) bool {
	if c.neverMatches || t.Nanosecond() != 0 {
		return false
	}
	w := t.In(c.loc)
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	return c.yearMatches(y) && has(c.month, int(mo)) && has(c.dayOfMonth, d) &&
		has(c.dayOfWeek, int(w.Weekday())) && has(c.hour, h) && has(c.minute, mi) && has(c.second, s)
}

func has(b uint64, v int) bool { return b&(1<<uint(v)) != 0 }

// nextBit returns the smallest set bit >= from, or -1.
func nextBit(b uint64, from int) int {
	if from >= 64 {
		return -1
	}
	rest := b >> uint(from)
	if rest == 0 {
		return -1
	}
	return from + bits.TrailingZeros64(rest)
}

// wall is a wall-clock reading: a date and a time of day, without a zone.
type wall struct{ y, mo, d, h, mi, s int }

func wallOf(t time.Time) wall {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return wall{y, int(mo), d, h, mi, s}
}

// utc returns the reading as if it were UTC, which makes differences between readings plain
// arithmetic.
func (w wall) utc() time.Time {
	return time.Date(w.y, time.Month(w.mo), w.d, w.h, w.mi, w.s, 0, time.UTC)
}

func daysIn(mo, y int) int {
	return time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nextWall returns the first reading >= w that matches, ignoring time zones; false when none
// does up to the end of maxYear.
func (c *calendar) nextWall(w wall) (wall, bool) {
	if c.neverMatches {
		return wall{}, false
	}
	for w.y <= maxYear {
		// Carry overflowing fields into the next larger one.
		if w.s >= 60 {
			w.mi, w.s = w.mi+1, 0
		}
		if w.mi >= 60 {
			w.h, w.mi = w.h+1, 0
		}
		if w.h >= 24 {
			w.d, w.h = w.d+1, 0
		}
		if w.d > daysIn(w.mo, w.y) {
			w.mo, w.d = w.mo+1, 1
		}
		if w.mo > 12 {
			w.y, w.mo = w.y+1, 1
		}
		if w.y > maxYear {
			break
		}
		if !c.yearMatches(w.y) {
			w = wall{w.y + 1, 1, 1, 0, 0, 0}
			continue
		}
		if mo := nextBit(c.month, w.mo); mo != w.mo {
			if mo < 0 || mo > 12 {
				w = wall{w.y + 1, 1, 1, 0, 0, 0}
				continue
			}
			w = wall{w.y, mo, 1, 0, 0, 0}
		}
		if d := c.nextDay(w.y, w.mo, w.d); d != w.d {
			if d < 0 {
				w = wall{w.y, w.mo + 1, 1, 0, 0, 0}
				continue
			}
			w = wall{w.y, w.mo, d, 0, 0, 0}
		}
		if h := nextBit(c.hour, w.h); h != w.h {
			if h < 0 {
				w = wall{w.y, w.mo, w.d + 1, 0, 0, 0}
				continue
			}
			w.h, w.mi, w.s = h, 0, 0
		}
		if mi := nextBit(c.minute, w.mi); mi != w.mi {
			if mi < 0 {
				w.h, w.mi, w.s = w.h+1, 0, 0
				continue
			}
			w.mi, w.s = mi, 0
		}
		if s := nextBit(c.second, w.s); s != w.s {
			if s < 0 {
				w.mi, w.s = w.mi+1, 0
				continue
			}
			w.s = s
		}
		return w, true
	}
	return wall{}, false
}

// nextDay returns the first day >= d of the month whose day of month and day of week both
// match, or -1.
func (c *calendar) nextDay(y, mo, d int) int {
	n := daysIn(mo, y)
	dow := int(time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Weekday())
	for ; d <= n; d++ {
		if has(c.dayOfMonth, d) && has(c.dayOfWeek, dow) {
			return d
		}
		dow = (dow + 1) % 7
	}
	return -1
}

// next returns the first matching instant strictly after t (at one-second resolution), or
// false. It walks the zone's periods of constant UTC offset (time.Time.ZoneBounds): within a
// period, wall clock and instant move together, so the first matching reading at or after the
// period's reading maps to one instant; if that instant falls past the period's end, the
// search resumes at the next period. This gives Temporal's daylight-saving behaviour: a
// reading that a spring-forward gap skips never fires, and a reading that a fall-back repeats
// fires twice, once at each offset.
func (c *calendar) next(t time.Time) (time.Time, bool) {
	if c.neverMatches {
		return time.Time{}, false
	}
	u := t.Truncate(time.Second).Add(time.Second)
	for {
		lt := u.In(c.loc)
		_, off := lt.Zone()
		end := periodEnd(lt)
		w, ok := c.nextWall(wallOf(lt))
		if !ok {
			return time.Time{}, false
		}
		cand := w.utc().Add(-time.Duration(off) * time.Second)
		if end.IsZero() || cand.Before(end) {
			return cand.UTC(), true
		}
		u = end
	}
}

// sources is what an exclusion needs to know of the times a spec can produce: the second,
// minute and hour values its calendars can give (bit sets) and its intervals.
type sources struct {
	second, minute, hour uint64
	intervals            []interval
}

// field returns the values of one wall-clock field (unit seconds: 60 for the second, 3600 for
// the minute, 86400 for the hour, with size values) that any source can give while the zone's
// offset is off. An interval whose period is a multiple of the field's unit always gives the
// same value; any other interval may give every value.
func (src *sources) field(calendars uint64, unit, size, off int64) uint64 {
	b := calendars
	for _, iv := range src.intervals {
		if iv.every%unit != 0 {
			return 1<<uint(size) - 1
		}
		b |= 1 << uint(floorMod(iv.phase+off, unit)/(unit/size))
	}
	return b
}

// excludedUntil returns an instant J > t such that every time the sources can give in [t, J)
// matches c, given that t does. When the fields finer than some unit match every value the
// sources can give there (for example every second and minute), all of the unit (the hour)
// around t is excluded; J is the end of the largest such unit, capped at the end of t's zone
// period so that wall clock and instant stay in step. This lets an exclusion skip a dense
// schedule a unit at a time, not one excluded time after another.
func (c *calendar) excludedUntil(t time.Time, src *sources) time.Time {
	lt := t.In(c.loc)
	_, off := lt.Zone()
	w := wallOf(lt)
	covers := func(excl, calendars uint64, unit, size int64) bool {
		return src.field(calendars, unit, size, int64(off))&^excl == 0
	}
	var unitEnd wall
	switch {
	case !covers(c.second, src.second, 60, 60):
		return t.Add(time.Second)
	case !covers(c.minute, src.minute, 3600, 60):
		unitEnd = wall{w.y, w.mo, w.d, w.h, w.mi + 1, 0}
	case !covers(c.hour, src.hour, 86400, 24):
		unitEnd = wall{w.y, w.mo, w.d, w.h + 1, 0, 0}
	case c.dayOfMonth != fullDom || c.dayOfWeek != fullDow:
		unitEnd = wall{w.y, w.mo, w.d + 1, 0, 0, 0}
	case c.month != fullMonth:
		unitEnd = wall{w.y, w.mo + 1, 1, 0, 0, 0}
	default:
		unitEnd = wall{w.y + 1, 1, 1, 0, 0, 0}
	}
	j := t.Add(unitEnd.utc().Sub(w.utc()))
	if end := periodEnd(lt); !end.IsZero() && j.After(end) {
		j = end
	}
	if !j.After(t) {
		j = t.Add(time.Second)
	}
	return j
}

// periodEnd returns the end of the span of constant UTC offset that holds lt, or zero when the
// offset never changes again. It is time.Time.ZoneBounds with one repair: for the last day of
// a leap year in a zone whose future transitions come from a TZ rule, Go (1.26) reports an end
// at or before lt (it counts the year as 365 days). The rule has no transition left in that
// year then, so the offset holds until the next year begins.
func periodEnd(lt time.Time) time.Time {
	_, end := lt.ZoneBounds()
	if !end.IsZero() && !end.After(lt) {
		end = time.Date(lt.UTC().Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return end
}
