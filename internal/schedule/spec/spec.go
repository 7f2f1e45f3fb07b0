package spec

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"

	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/proto"

	// The zone database is embedded so that a host without one (a scratch container) still
	// loads the zones it is asked for; a host database, when present, is preferred.
	_ "time/tzdata"
)

// InvalidSpecError says why a ScheduleSpec was refused. Its message is in the words of
// Temporal's server; the frontend answers it as InvalidArgument.
type InvalidSpecError struct {
	Message string
}

func (e *InvalidSpecError) Error() string { return e.Message }

func invalid(err error) error {
	return &InvalidSpecError{Message: err.Error()}
}

// Spec is a compiled ScheduleSpec: its canonical form plus the matchers Next and Matches use.
// It is immutable and safe for concurrent use.
type Spec struct {
	canonical *schedulepb.ScheduleSpec
	loc       *time.Location
	calendars []*calendar
	excludes  []*calendar
	intervals []interval
	sources   sources   // what the calendars and intervals can give, for exclusions
	start     time.Time // zero when unset
	end       time.Time // zero when unset
	jitter    time.Duration
}

// interval is a compiled IntervalSpec in whole seconds: times are epoch + k*every + phase.
type interval struct{ every, phase int64 }

// next returns the first time of the interval strictly after unix second ts.
func (iv interval) next(ts int64) int64 {
	k := floorDiv(ts-iv.phase, iv.every) + 1
	return k*iv.every + iv.phase
}

func (iv interval) matches(ts int64) bool {
	return floorMod(ts-iv.phase, iv.every) == 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// Compile validates s as Temporal's server does and prepares it for [Spec.Next]. Errors are
// *[InvalidSpecError]. The argument is not modified.
//
// As in Temporal, calendar and cron_string entries are converted to structured calendars
// (cron "@every" strings to intervals), a CRON_TZ=/TZ= prefix moves to timezone_name (all
// cron strings must name the same zone, and it must agree with timezone_name), structured
// calendars and intervals are validated, and the zone is loaded (UTC when empty). Exclusion
// calendars are not range-checked, as in Temporal; values out of a field's range never match.
func Compile(s *schedulepb.ScheduleSpec) (*Spec, error) {
	c, err := canonicalize(s)
	if err != nil {
		return nil, invalid(err)
	}
	var loc *time.Location
	if c.GetTimezoneData() != nil {
		loc, err = time.LoadLocationFromTZData(c.GetTimezoneName(), c.GetTimezoneData())
	} else {
		loc, err = time.LoadLocation(c.GetTimezoneName())
	}
	if err != nil {
		return nil, invalid(err)
	}
	out := &Spec{canonical: c, loc: loc, jitter: max(c.GetJitter().AsDuration(), 0)}
	for _, sc := range c.GetStructuredCalendar() {
		out.calendars = append(out.calendars, newCalendar(sc, loc))
	}
	for _, sc := range c.GetExcludeStructuredCalendar() {
		out.excludes = append(out.excludes, newCalendar(sc, loc))
	}
	for _, iv := range c.GetInterval() {
		out.intervals = append(out.intervals, interval{
			every: int64(iv.GetInterval().AsDuration() / time.Second),
			phase: int64(iv.GetPhase().AsDuration() / time.Second),
		})
	}
	out.sources.intervals = out.intervals
	for _, cal := range out.calendars {
		out.sources.second |= cal.second
		out.sources.minute |= cal.minute
		out.sources.hour |= cal.hour
	}
	if c.StartTime != nil {
		out.start = c.GetStartTime().AsTime()
	}
	if c.EndTime != nil {
		out.end = c.GetEndTime().AsTime()
	}
	cleanRanges(c)
	return out, nil
}

// canonicalize returns a copy of s in Temporal's canonical form, or the first error.
func canonicalize(s *schedulepb.ScheduleSpec) (*schedulepb.ScheduleSpec, error) {
	c := &schedulepb.ScheduleSpec{}
	if s != nil {
		c = proto.Clone(s).(*schedulepb.ScheduleSpec)
	}
	for _, cal := range c.Calendar {
		sc, err := calendarToStructured(cal)
		if err != nil {
			return nil, err
		}
		c.StructuredCalendar = append(c.StructuredCalendar, sc)
	}
	c.Calendar = nil
	for _, cal := range c.ExcludeCalendar { //nolint:staticcheck // deprecated, still accepted
		sc, err := calendarToStructured(cal)
		if err != nil {
			return nil, err
		}
		c.ExcludeStructuredCalendar = append(c.ExcludeStructuredCalendar, sc)
	}
	c.ExcludeCalendar = nil //nolint:staticcheck // cleared: converted above

	var cronTZ *string // nil until the first cron string; then its zone, "" when it names none
	for _, cs := range c.CronString {
		p, err := parseCron(cs)
		if err != nil {
			return nil, err
		}
		if cronTZ != nil && *cronTZ != p.tz {
			return nil, errors.New("conflicting timezone names")
		}
		cronTZ = &p.tz
		if p.calendar != nil {
			c.StructuredCalendar = append(c.StructuredCalendar, p.calendar)
		}
		if p.interval != nil {
			c.Interval = append(c.Interval, p.interval)
		}
	}
	c.CronString = nil
	if cronTZ != nil && *cronTZ != "" {
		if (c.TimezoneName != "" && c.TimezoneName != *cronTZ) || c.TimezoneData != nil {
			return nil, errors.New("conflicting timezone names")
		}
		c.TimezoneName = *cronTZ
	}

	for _, sc := range c.StructuredCalendar {
		if err := validateCalendar(sc); err != nil {
			return nil, err
		}
	}
	for _, iv := range c.Interval {
		if err := validateInterval(iv); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func validateCalendar(sc *schedulepb.StructuredCalendarSpec) error {
	var errs []string
	check := func(ranges []*schedulepb.Range, field string, lo, hi int32) {
		for _, r := range ranges {
			if r == nil {
				errs = append(errs, "range is nil")
				continue
			}
			if r.Start < lo || r.Start > hi {
				errs = append(errs, fmt.Sprintf("%s Start is not in range [%d-%d]", field, lo, hi))
			}
			if r.End != 0 && (r.End < r.Start || r.End > hi) {
				errs = append(errs, fmt.Sprintf("%s End is before Start or not in range [%d-%d]", field, lo, hi))
			}
			if r.Step < 0 {
				errs = append(errs, fmt.Sprintf("%s has invalid Step", field))
			}
		}
	}
	check(sc.GetSecond(), "Second", 0, 59)
	check(sc.GetMinute(), "Minute", 0, 59)
	check(sc.GetHour(), "Hour", 0, 23)
	check(sc.GetDayOfMonth(), "DayOfMonth", 1, 31)
	check(sc.GetMonth(), "Month", 1, 12)
	check(sc.GetYear(), "Year", minYear, maxYear)
	check(sc.GetDayOfWeek(), "DayOfWeek", 0, 6)
	if len(sc.GetComment()) > maxCommentLen {
		errs = append(errs, "comment is too long")
	}
	if len(errs) > 0 {
		return errors.New("invalid calendar spec: " + strings.Join(errs, ", "))
	}
	return nil
}

func validateInterval(iv *schedulepb.IntervalSpec) error {
	if iv == nil {
		return errors.New("interval is nil")
	}
	every, phase := iv.GetInterval().AsDuration(), iv.GetPhase().AsDuration()
	switch {
	case every < time.Second:
		return errors.New("interval is too small")
	case phase < 0:
		return errors.New("phase is negative")
	case phase >= every:
		return errors.New("phase cannot be greater than Interval")
	}
	return nil
}

// cleanRanges fills the defaults of every range (End at least Start, Step at least 1), as
// Temporal's DescribeSchedule shows them.
func cleanRanges(c *schedulepb.ScheduleSpec) {
	clean := func(ranges []*schedulepb.Range) {
		for _, r := range ranges {
			if r == nil {
				continue
			}
			if r.End < r.Start {
				r.End = r.Start
			}
			if r.Step == 0 {
				r.Step = 1
			}
		}
	}
	for _, list := range [][]*schedulepb.StructuredCalendarSpec{c.StructuredCalendar, c.ExcludeStructuredCalendar} {
		for _, sc := range list {
			clean(sc.GetSecond())
			clean(sc.GetMinute())
			clean(sc.GetHour())
			clean(sc.GetDayOfMonth())
			clean(sc.GetMonth())
			clean(sc.GetYear())
			clean(sc.GetDayOfWeek())
		}
	}
}

// Canonical returns the spec as DescribeSchedule shows it after creation: calendar and
// cron_string entries converted to structured_calendar (cron "@every" to interval, a cron
// zone to timezone_name), every range with its End and Step filled in, the rest kept. The
// result is a copy; compiling it again gives the same times.
func (s *Spec) Canonical() *schedulepb.ScheduleSpec {
	return proto.Clone(s.canonical).(*schedulepb.ScheduleSpec)
}

// Location returns the zone calendars are read in.
func (s *Spec) Location() *time.Location { return s.loc }

// lastTime is the end of the range Temporal computes times in: nothing after year maxYear.
var lastTime = time.Date(maxYear+1, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)

// Next returns the first nominal time strictly after t, and its actual time: nominal plus a
// jitter in [0, min(jitter, gap to the following nominal time)), chosen at millisecond
// resolution by hashing seed and the nominal time, so every node and every restart computes
// the same one. ok is false when there is none: end_time passed, year 2100 passed, or no
// calendar or interval can match again, or exclusions hide more than 262144 consecutive
// times. Times are UTC, at whole seconds.
func (s *Spec) Next(t time.Time, seed string) (nominal, actual time.Time, ok bool) {
	nominal, ok = s.nextNominal(t)
	if !ok {
		return time.Time{}, time.Time{}, false
	}
	maxJitter := s.jitter
	if maxJitter > 0 {
		// Like Temporal, the jitter never reaches the next raw (unexcluded) time.
		if following, ok := s.rawNext(nominal); ok {
			maxJitter = min(maxJitter, following.Sub(nominal))
		}
	}
	return nominal, nominal.Add(jitterFor(seed, nominal, maxJitter)), true
}

// nextNominal returns the first time after t that a calendar or interval gives, that no
// exclusion matches and that lies in [start_time, end_time].
func (s *Spec) nextNominal(t time.Time) (time.Time, bool) {
	if !s.start.IsZero() && t.Before(s.start) {
		// Search from just before the start so that a time equal to it is returned.
		t = s.start.Add(-time.Nanosecond)
	}
	for range maxExcludedCandidates {
		n, ok := s.rawNext(t)
		if !ok || n.After(lastTime) || (!s.end.IsZero() && n.After(s.end)) {
			return time.Time{}, false
		}
		var until time.Time
		for _, ex := range s.excludes {
			if ex.matches(n) {
				if j := ex.excludedUntil(n, &s.sources); j.After(until) {
					until = j
				}
			}
		}
		if until.IsZero() {
			return n, true
		}
		// Every time the spec can give in [n, until) is excluded; resume the search at until.
		t = until.Add(-time.Second)
	}
	return time.Time{}, false
}

// maxExcludedCandidates bounds the excluded times one Next call steps over (exclusions skip a
// unit at a time when their finer fields cover every value the spec can give, so ordinary
// specs need a handful). A spec whose exclusions hide all but a sliver of its times, one by
// one (every 2s, excluding even seconds), would otherwise search to 2100 for seconds on end;
// past the bound Next reports no time. Temporal's server bounds the same search with its
// optional compute limit.
const maxExcludedCandidates = 1 << 18

// rawNext returns the earliest time strictly after t of any calendar or interval, ignoring
// exclusions and the start and end times. Several sources giving the same time give it once.
func (s *Spec) rawNext(t time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	for _, c := range s.calendars {
		if n, ok := c.next(t); ok && (!found || n.Before(best)) {
			best, found = n, true
		}
	}
	if len(s.intervals) > 0 {
		ts := t.Unix() // floor to the second: interval times are whole seconds
		for _, iv := range s.intervals {
			n := time.Unix(iv.next(ts), 0).UTC()
			if !found || n.Before(best) {
				best, found = n, true
			}
		}
	}
	return best, found
}

// Matches reports whether t is one of the spec's nominal times: a whole second given by a
// calendar or interval, matched by no exclusion, within start_time and end_time.
func (s *Spec) Matches(t time.Time) bool {
	if t.Nanosecond() != 0 || t.After(lastTime) {
		return false
	}
	if (!s.start.IsZero() && t.Before(s.start)) || (!s.end.IsZero() && t.After(s.end)) {
		return false
	}
	for _, ex := range s.excludes {
		if ex.matches(t) {
			return false
		}
	}
	for _, c := range s.calendars {
		if c.matches(t) {
			return true
		}
	}
	for _, iv := range s.intervals {
		if iv.matches(t.Unix()) {
			return true
		}
	}
	return false
}

// jitterFor returns a duration in [0, maxJitter) at millisecond resolution, a pure function
// of seed and nominal, so that every node and every restart picks the same one.
func jitterFor(seed string, nominal time.Time, maxJitter time.Duration) time.Duration {
	ms := uint64(maxJitter / time.Millisecond)
	if ms == 0 {
		return 0
	}
	h := sha256.New()
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(nominal.Unix()))
	h.Write(buf[:])
	h.Write([]byte(seed))
	sum := h.Sum(nil)
	// The high word of hash*ms is uniform in [0, ms).
	hi, _ := bits.Mul64(binary.BigEndian.Uint64(sum[:8]), ms)
	return time.Duration(hi) * time.Millisecond
}
