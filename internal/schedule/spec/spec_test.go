package spec

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// compile compiles s or fails the test.
func compile(t testing.TB, s *schedulepb.ScheduleSpec) *Spec {
	t.Helper()
	c, err := Compile(s)
	require.NoError(t, err)
	return c
}

// times returns up to n nominal times after from, as RFC 3339 in UTC, checking on the way that
// each is strictly later than the one before and that Matches agrees.
func times(t testing.TB, s *Spec, from string, n int) []string {
	t.Helper()
	at := mustTime(t, from)
	var out []string
	for range n {
		nominal, actual, ok := s.Next(at, "seed")
		if !ok {
			break
		}
		require.True(t, nominal.After(at), "Next(%v) = %v is not after it", at, nominal)
		require.False(t, actual.Before(nominal))
		require.True(t, s.Matches(nominal), "Matches(%v) is false for a time Next gave", nominal)
		require.Equal(t, time.UTC, nominal.Location())
		out = append(out, nominal.Format(time.RFC3339))
		at = nominal
	}
	return out
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return at
}

func cron(zone string, cs ...string) *schedulepb.ScheduleSpec {
	return &schedulepb.ScheduleSpec{CronString: cs, TimezoneName: zone}
}

func TestCronStrings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		spec *schedulepb.ScheduleSpec
		from string
		want []string
	}{
		{"five fields, weekdays at noon", cron("", "0 12 * * MON-FRI"), "2024-03-08T00:00:00Z",
			[]string{"2024-03-08T12:00:00Z", "2024-03-11T12:00:00Z", "2024-03-12T12:00:00Z"}},
		{"every 15 minutes", cron("", "*/15 * * * *"), "2024-03-08T23:40:00Z",
			[]string{"2024-03-08T23:45:00Z", "2024-03-09T00:00:00Z", "2024-03-09T00:15:00Z"}},
		{"lists and ranges", cron("", "5,10-12 3 * * *"), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T03:05:00Z", "2024-01-01T03:10:00Z", "2024-01-01T03:11:00Z", "2024-01-01T03:12:00Z", "2024-01-02T03:05:00Z"}},
		{"range with step", cron("", "0 1-9/4 * * *"), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T01:00:00Z", "2024-01-01T05:00:00Z", "2024-01-01T09:00:00Z", "2024-01-02T01:00:00Z"}},
		{"start with step runs to the maximum", cron("", "0 0 20/5 * *"), "2024-02-01T00:00:00Z",
			[]string{"2024-02-20T00:00:00Z", "2024-02-25T00:00:00Z", "2024-03-20T00:00:00Z"}},
		{"month names", cron("", "0 0 1 jan,July *"), "2024-02-01T00:00:00Z",
			[]string{"2024-07-01T00:00:00Z", "2025-01-01T00:00:00Z"}},
		{"weekday names and 7 is Sunday", cron("", "0 0 * * sat-7"), "2024-03-01T00:00:00Z",
			[]string{"2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z", "2024-03-09T00:00:00Z"}},
		{"1-7 keeps Sunday", cron("", "0 0 * * 1-7"), "2024-03-01T00:00:00Z",
			[]string{"2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z", "2024-03-04T00:00:00Z"}},
		{"six fields: the sixth is the year", cron("", "0 0 1 1 * 2030"), "2024-01-01T00:00:00Z",
			[]string{"2030-01-01T00:00:00Z"}},
		{"seven fields: seconds first", cron("", "30 0 0 1 1 * 2026-2027"), "2024-01-01T00:00:00Z",
			[]string{"2026-01-01T00:00:30Z", "2027-01-01T00:00:30Z"}},
		{"day of month AND day of week", cron("", "0 0 13 * fri"), "2024-01-01T00:00:00Z",
			[]string{"2024-09-13T00:00:00Z", "2024-12-13T00:00:00Z", "2025-06-13T00:00:00Z"}},
		{"@hourly", cron("", "@hourly"), "2024-01-01T00:30:00Z",
			[]string{"2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"}},
		{"@daily", cron("", "@daily"), "2024-01-01T00:30:00Z",
			[]string{"2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"}},
		{"@midnight", cron("", "@midnight"), "2024-01-01T00:30:00Z",
			[]string{"2024-01-02T00:00:00Z"}},
		{"@weekly is Sunday midnight", cron("", "@weekly"), "2024-03-01T00:00:00Z",
			[]string{"2024-03-03T00:00:00Z", "2024-03-10T00:00:00Z"}},
		{"@monthly", cron("", "@monthly"), "2024-01-15T00:00:00Z",
			[]string{"2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"}},
		{"@yearly", cron("", "@yearly"), "2024-01-15T00:00:00Z",
			[]string{"2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"}},
		{"@annually", cron("", "@annually"), "2024-01-15T00:00:00Z",
			[]string{"2025-01-01T00:00:00Z"}},
		{"@every with phase", cron("", "@every 1h30m/15m"), "2024-03-08T00:00:00Z",
			[]string{"2024-03-08T00:15:00Z", "2024-03-08T01:45:00Z", "2024-03-08T03:15:00Z"}},
		{"@every in days", cron("", "@every 2d"), "1970-01-01T00:00:00Z",
			[]string{"1970-01-03T00:00:00Z", "1970-01-05T00:00:00Z"}},
		{"@every ignores the cron zone", cron("", "CRON_TZ=Asia/Tokyo @every 1h"), "2024-01-01T00:10:00Z",
			[]string{"2024-01-01T01:00:00Z"}},
		{"CRON_TZ prefix", cron("", "CRON_TZ=America/New_York 0 9 * * *"), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T14:00:00Z", "2024-01-02T14:00:00Z"}},
		{"TZ prefix", cron("", "TZ=Asia/Kolkata 0 9 * * *"), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T03:30:00Z"}},
		{"trailing comment", cron("", "0 9 * * * # morning report"), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T09:00:00Z"}},
		{"two cron strings, union", cron("", "0 9 * * *", "0 17 * * *"), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T09:00:00Z", "2024-01-01T17:00:00Z", "2024-01-02T09:00:00Z"}},
		{"duplicate times once", cron("", "0 * * * *", "@every 30m"), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T00:30:00Z", "2024-01-01T01:00:00Z", "2024-01-01T01:30:00Z"}},
		{"Feb 29 in leap years only", cron("", "0 0 29 2 *"), "2024-03-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"day 31 skips short months", cron("", "0 0 31 * *"), "2024-01-31T00:00:00Z",
			[]string{"2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z", "2024-08-31T00:00:00Z"}},
		{"2100 is not a leap year and the last year", cron("", "0 0 29 2 *"), "2096-03-01T00:00:00Z", nil},
		{"impossible date never fires", cron("", "0 0 30 2 *"), "2024-01-01T00:00:00Z", nil},
		{"sub-second after an exact time", cron("", "* * * * * * *"), "2024-01-01T00:00:00.5Z",
			[]string{"2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := compile(t, tc.spec)
			require.Equal(t, tc.want, times(t, s, tc.from, len(tc.want)+boolInt(tc.want == nil)))
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestInterval(t *testing.T) {
	t.Parallel()
	every := func(iv, phase time.Duration) *schedulepb.ScheduleSpec {
		return &schedulepb.ScheduleSpec{Interval: []*schedulepb.IntervalSpec{{
			Interval: durationpb.New(iv), Phase: durationpb.New(phase),
		}}}
	}
	t.Run("epoch plus k intervals plus phase, many steps", func(t *testing.T) {
		t.Parallel()
		s := compile(t, every(7*time.Hour+13*time.Second, 5*time.Minute))
		const step = int64(7*3600 + 13)
		at := mustTime(t, "2024-06-01T00:00:00Z")
		for range 2000 {
			n, actual, ok := s.Next(at, "")
			require.True(t, ok)
			require.Equal(t, n, actual)
			require.Zero(t, (n.Unix()-300)%step, "%v is not on the grid", n)
			require.True(t, n.After(at))
			require.LessOrEqual(t, n.Sub(at), time.Duration(step)*time.Second)
			at = n
		}
	})
	t.Run("from a time on the grid gives the next one", func(t *testing.T) {
		t.Parallel()
		s := compile(t, every(time.Hour, 15*time.Minute))
		require.Equal(t, []string{"2024-01-01T01:15:00Z", "2024-01-01T02:15:00Z"},
			times(t, s, "2024-01-01T00:15:00Z", 2))
	})
	t.Run("before the epoch", func(t *testing.T) {
		t.Parallel()
		s := compile(t, every(time.Hour, 15*time.Minute))
		require.Equal(t, []string{"1969-12-31T23:15:00Z", "1970-01-01T00:15:00Z"},
			times(t, s, "1969-12-31T22:20:00Z", 2))
	})
	t.Run("sub-second parts are dropped", func(t *testing.T) {
		t.Parallel()
		s := compile(t, every(90*time.Second+500*time.Millisecond, 0))
		require.Equal(t, []string{"1970-01-01T00:01:30Z", "1970-01-01T00:03:00Z"},
			times(t, s, "1970-01-01T00:00:00Z", 2))
	})
	t.Run("zone does not move intervals", func(t *testing.T) {
		t.Parallel()
		sp := every(24*time.Hour, 0)
		sp.TimezoneName = "America/New_York"
		s := compile(t, sp)
		require.Equal(t, []string{"2024-03-10T00:00:00Z", "2024-03-11T00:00:00Z"},
			times(t, s, "2024-03-09T12:00:00Z", 2))
	})
}

func TestValidation(t *testing.T) {
	t.Parallel()
	rng := func(start, end, step int32) []*schedulepb.Range {
		return []*schedulepb.Range{{Start: start, End: end, Step: step}}
	}
	iv := func(every, phase time.Duration) *schedulepb.ScheduleSpec {
		return &schedulepb.ScheduleSpec{Interval: []*schedulepb.IntervalSpec{{Interval: durationpb.New(every), Phase: durationpb.New(phase)}}}
	}
	cases := []struct {
		name string
		spec *schedulepb.ScheduleSpec
		want string
	}{
		{"hour out of range", &schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{Hour: rng(24, 0, 0)}}},
			"invalid calendar spec: Hour Start is not in range [0-23]"},
		{"end before start", &schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{Minute: rng(10, 5, 0)}}},
			"invalid calendar spec: Minute End is before Start or not in range [0-59]"},
		{"negative step", &schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{Second: rng(0, 10, -1)}}},
			"invalid calendar spec: Second has invalid Step"},
		{"day of week 7 in structured form", &schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{DayOfWeek: rng(7, 0, 0)}}},
			"invalid calendar spec: DayOfWeek Start is not in range [0-6]"},
		{"year before 2000", &schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{Year: rng(1999, 0, 0)}}},
			"invalid calendar spec: Year Start is not in range [2000-2100]"},
		{"day of month 0 and month 13 together", &schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{DayOfMonth: rng(0, 0, 0), Month: rng(13, 0, 0)}}},
			"invalid calendar spec: DayOfMonth Start is not in range [1-31], Month Start is not in range [1-12]"},
		{"long comment", &schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{Comment: string(make([]byte, 201))}}},
			"invalid calendar spec: comment is too long"},
		{"calendar string out of range", &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{{Hour: "25"}}},
			"Hour is not in range [0-23]"},
		{"calendar string errors of several fields", &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{{Minute: "60", DayOfMonth: "0-3"}}},
			"Minute is not in range [0-59], DayOfMonth Start is not in range [1-31]"},
		{"calendar string reversed range", &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{{DayOfWeek: "fri-tue"}}},
			"DayOfWeek End is before Start or not in range [0-7]"},
		{"calendar string two slashes", &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{{Minute: "1/2/3"}}},
			"Minute has too many slashes"},
		{"calendar string two dashes", &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{{Minute: "1-2-3"}}},
			"Minute has too many dashes"},
		{"calendar string zero step", &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{{Minute: "*/0"}}},
			"Minute has invalid Step"},
		{"calendar string bad step", &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{{Minute: "*/x"}}},
			`strconv.Atoi: parsing "x": invalid syntax`},
		{"bad exclude calendar string", &schedulepb.ScheduleSpec{ExcludeCalendar: []*schedulepb.CalendarSpec{{Month: "Smarch"}}},
			"Month is not in range [1-12]"},
		{"cron with four fields", cron("", "0 0 * *"), "CronString does not have 5-7 fields"},
		{"cron with eight fields", cron("", "0 0 0 * * * * *"), "CronString does not have 5-7 fields"},
		{"unknown shorthand", cron("", "@reboot"), "CronString does not have 5-7 fields"},
		{"cron L is not supported", cron("", "0 0 L * *"), "DayOfMonth is not in range [1-31]"},
		{"cron ? is not supported", cron("", "0 0 ? * MON"), "DayOfMonth is not in range [1-31]"},
		{"cron zone without fields", cron("", "CRON_TZ=UTC"), "CronString has time zone but missing fields"},
		{"@every without interval", cron("", "@every"), "CronString does not have interval after @every"},
		{"@every bad duration", cron("", "@every soon"), `time: invalid duration "soon"`},
		{"@every phase not below interval", cron("", "@every 1h/1h"), "phase cannot be greater than Interval"},
		{"cron zones disagree", cron("", "CRON_TZ=UTC 0 0 * * *", "CRON_TZ=Asia/Tokyo 0 0 * * *"), "conflicting timezone names"},
		{"cron zone and no zone disagree", cron("", "CRON_TZ=UTC 0 0 * * *", "0 0 * * *"), "conflicting timezone names"},
		{"@every has no zone, so it conflicts with a cron zone", cron("", "CRON_TZ=UTC 0 0 * * *", "CRON_TZ=UTC @every 1h"), "conflicting timezone names"},
		{"cron zone against timezone_name", cron("Europe/London", "CRON_TZ=Asia/Tokyo 0 0 * * *"), "conflicting timezone names"},
		{"unknown zone", cron("Mars/Olympus_Mons", "0 0 * * *"), "unknown time zone Mars/Olympus_Mons"},
		{"unknown cron zone", cron("", "CRON_TZ=Nowhere 0 0 * * *"), "unknown time zone Nowhere"},
		{"zero interval", iv(0, 0), "interval is too small"},
		{"interval below a second", iv(999*time.Millisecond, 0), "interval is too small"},
		{"negative interval", iv(-time.Hour, 0), "interval is too small"},
		{"negative phase", iv(time.Hour, -time.Second), "phase is negative"},
		{"phase equal to interval", iv(time.Hour, time.Hour), "phase cannot be greater than Interval"},
		{"phase above interval", iv(time.Hour, 2*time.Hour), "phase cannot be greater than Interval"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tc.spec)
			var ise *InvalidSpecError
			require.True(t, errors.As(err, &ise), "want *InvalidSpecError, got %v", err)
			require.Equal(t, tc.want, ise.Message)
		})
	}
}

func TestStartEnd(t *testing.T) {
	t.Parallel()
	sp := cron("", "0 * * * *")
	sp.StartTime = timestamppb.New(mustTime(t, "2024-01-01T05:00:00Z"))
	sp.EndTime = timestamppb.New(mustTime(t, "2024-01-01T08:00:00Z"))
	s := compile(t, sp)
	// Both bounds are inclusive.
	require.Equal(t, []string{"2024-01-01T05:00:00Z", "2024-01-01T06:00:00Z", "2024-01-01T07:00:00Z", "2024-01-01T08:00:00Z"},
		times(t, s, "2023-12-01T00:00:00Z", 10))
	require.False(t, s.Matches(mustTime(t, "2024-01-01T04:00:00Z")))
	require.False(t, s.Matches(mustTime(t, "2024-01-01T09:00:00Z")))

	// A start that is not a whole second: a time before it is skipped.
	sp.StartTime = timestamppb.New(mustTime(t, "2024-01-01T05:00:00.5Z"))
	s = compile(t, sp)
	require.Equal(t, []string{"2024-01-01T06:00:00Z"}, times(t, s, "2023-12-01T00:00:00Z", 1))

	// An end before the start is accepted, as Temporal does, and gives no times.
	sp.StartTime = timestamppb.New(mustTime(t, "2024-02-01T00:00:00Z"))
	sp.EndTime = timestamppb.New(mustTime(t, "2024-01-01T00:00:00Z"))
	s = compile(t, sp)
	require.Empty(t, times(t, s, "2023-12-01T00:00:00Z", 1))
}
