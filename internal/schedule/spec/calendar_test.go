package spec

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestDaylightSaving(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		spec *schedulepb.ScheduleSpec
		from string
		want []string
	}{
		// New York springs forward at 2024-03-10 02:00 EST to 03:00 EDT: there is no 02:30.
		{"New York spring forward skips the missing time", cron("America/New_York", "30 2 * * *"), "2024-03-08T12:00:00Z",
			[]string{"2024-03-09T07:30:00Z", "2024-03-11T06:30:00Z"}},
		{"New York spring forward, hourly", cron("America/New_York", "0 * * * *"), "2024-03-10T05:30:00Z",
			[]string{"2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z"}}, // 01:00 EST, 03:00 EDT, 04:00 EDT
		{"New York spring forward, times around the gap", cron("America/New_York", "59 1 * * *", "0 3 * * *"), "2024-03-10T00:00:00Z",
			[]string{"2024-03-10T06:59:00Z", "2024-03-10T07:00:00Z", "2024-03-11T05:59:00Z"}},
		// New York falls back at 2024-11-03 02:00 EDT to 01:00 EST: 01:30 happens twice.
		{"New York fall back fires the repeated time twice", cron("America/New_York", "30 1 * * *"), "2024-11-02T12:00:00Z",
			[]string{"2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"}},
		{"New York fall back, hourly", cron("America/New_York", "0 * * * *"), "2024-11-03T04:30:00Z",
			[]string{"2024-11-03T05:00:00Z", "2024-11-03T06:00:00Z", "2024-11-03T07:00:00Z"}}, // 01:00 EDT, 01:00 EST, 02:00 EST
		{"New York fall back, 02:30 once", cron("America/New_York", "30 2 * * *"), "2024-11-02T12:00:00Z",
			[]string{"2024-11-03T07:30:00Z", "2024-11-04T07:30:00Z"}},
		{"New York fall back, from inside the repeated hour", cron("America/New_York", "45 1 * * *"), "2024-11-03T06:10:00Z",
			[]string{"2024-11-03T06:45:00Z", "2024-11-04T06:45:00Z"}},
		// London springs forward at 2024-03-31 01:00 GMT to 02:00 BST: there is no 01:30.
		{"London spring forward skips the missing time", cron("Europe/London", "30 1 * * *"), "2024-03-30T00:00:00Z",
			[]string{"2024-03-30T01:30:00Z", "2024-04-01T00:30:00Z"}},
		// London falls back at 2024-10-27 02:00 BST to 01:00 GMT: 01:30 happens twice.
		{"London fall back fires the repeated time twice", cron("Europe/London", "30 1 * * *"), "2024-10-26T12:00:00Z",
			[]string{"2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z", "2024-10-28T01:30:00Z"}},
		{"London daily at 9 keeps wall time across both", cron("Europe/London", "0 9 * * *"), "2024-03-30T00:00:00Z",
			[]string{"2024-03-30T09:00:00Z", "2024-03-31T08:00:00Z"}},
		{"London weekly across fall back", cron("Europe/London", "0 9 * * sun"), "2024-10-20T00:00:00Z",
			[]string{"2024-10-20T08:00:00Z", "2024-10-27T09:00:00Z"}},
		// Lord Howe moves by 30 minutes.
		{"half-hour shift", cron("Australia/Lord_Howe", "15 2 * * *"), "2024-10-04T00:00:00Z",
			[]string{"2024-10-04T15:45:00Z", "2024-10-06T15:15:00Z"}}, // Oct 6 has no 02:15
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := compile(t, tc.spec)
			require.Equal(t, tc.want, times(t, s, tc.from, len(tc.want)))
		})
	}
}

func rangeOf(start, end, step int32) *schedulepb.Range {
	return &schedulepb.Range{Start: start, End: end, Step: step}
}

func TestStructuredCalendar(t *testing.T) {
	t.Parallel()
	all := func(sc *schedulepb.StructuredCalendarSpec) *schedulepb.StructuredCalendarSpec {
		// Unset date fields match every value, as the SDKs fill them in.
		if sc.DayOfMonth == nil {
			sc.DayOfMonth = []*schedulepb.Range{rangeOf(1, 31, 1)}
		}
		if sc.Month == nil {
			sc.Month = []*schedulepb.Range{rangeOf(1, 12, 1)}
		}
		if sc.DayOfWeek == nil {
			sc.DayOfWeek = []*schedulepb.Range{rangeOf(0, 6, 1)}
		}
		for _, f := range []*[]*schedulepb.Range{&sc.Second, &sc.Minute, &sc.Hour} {
			if *f == nil {
				*f = []*schedulepb.Range{{}}
			}
		}
		return sc
	}
	cases := []struct {
		name string
		cal  *schedulepb.StructuredCalendarSpec
		from string
		want []string
	}{
		{"seconds with step", all(&schedulepb.StructuredCalendarSpec{Second: []*schedulepb.Range{rangeOf(10, 30, 10)}}), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T00:00:10Z", "2024-01-01T00:00:20Z", "2024-01-01T00:00:30Z", "2024-01-02T00:00:10Z"}},
		{"minutes, End 0 means Start", all(&schedulepb.StructuredCalendarSpec{Minute: []*schedulepb.Range{rangeOf(7, 0, 0)}, Hour: []*schedulepb.Range{rangeOf(0, 23, 0)}}), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T00:07:00Z", "2024-01-01T01:07:00Z"}},
		{"hours, several ranges", all(&schedulepb.StructuredCalendarSpec{Hour: []*schedulepb.Range{rangeOf(22, 23, 1), rangeOf(3, 0, 0)}}), "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T03:00:00Z", "2024-01-01T22:00:00Z", "2024-01-01T23:00:00Z", "2024-01-02T03:00:00Z"}},
		{"day of month", all(&schedulepb.StructuredCalendarSpec{DayOfMonth: []*schedulepb.Range{rangeOf(15, 0, 0)}}), "2024-01-20T00:00:00Z",
			[]string{"2024-02-15T00:00:00Z", "2024-03-15T00:00:00Z"}},
		{"month with step", all(&schedulepb.StructuredCalendarSpec{DayOfMonth: []*schedulepb.Range{rangeOf(1, 0, 0)}, Month: []*schedulepb.Range{rangeOf(1, 12, 3)}}), "2024-01-20T00:00:00Z",
			[]string{"2024-04-01T00:00:00Z", "2024-07-01T00:00:00Z", "2024-10-01T00:00:00Z", "2025-01-01T00:00:00Z"}},
		{"year", all(&schedulepb.StructuredCalendarSpec{DayOfMonth: []*schedulepb.Range{rangeOf(1, 0, 0)}, Month: []*schedulepb.Range{rangeOf(1, 0, 0)}, Year: []*schedulepb.Range{rangeOf(2030, 2040, 5)}}), "2024-01-20T00:00:00Z",
			[]string{"2030-01-01T00:00:00Z", "2035-01-01T00:00:00Z", "2040-01-01T00:00:00Z"}},
		{"day of week", all(&schedulepb.StructuredCalendarSpec{DayOfWeek: []*schedulepb.Range{rangeOf(0, 0, 0), rangeOf(6, 0, 0)}}), "2024-03-01T00:00:00Z",
			[]string{"2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z", "2024-03-09T00:00:00Z"}},
		{"first Monday of the month: both day fields must match", all(&schedulepb.StructuredCalendarSpec{DayOfMonth: []*schedulepb.Range{rangeOf(1, 7, 1)}, DayOfWeek: []*schedulepb.Range{rangeOf(1, 0, 0)}}), "2024-01-01T00:00:00Z",
			[]string{"2024-02-05T00:00:00Z", "2024-03-04T00:00:00Z", "2024-04-01T00:00:00Z"}},
		{"last day of February, leap and not", all(&schedulepb.StructuredCalendarSpec{DayOfMonth: []*schedulepb.Range{rangeOf(28, 29, 1)}, Month: []*schedulepb.Range{rangeOf(2, 0, 0)}}), "2023-01-01T00:00:00Z",
			[]string{"2023-02-28T00:00:00Z", "2024-02-28T00:00:00Z", "2024-02-29T00:00:00Z", "2025-02-28T00:00:00Z"}},
		{"an empty field matches nothing", &schedulepb.StructuredCalendarSpec{Hour: []*schedulepb.Range{{}}}, "2024-01-01T00:00:00Z", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := compile(t, &schedulepb.ScheduleSpec{StructuredCalendar: []*schedulepb.StructuredCalendarSpec{tc.cal}})
			require.Equal(t, tc.want, times(t, s, tc.from, len(tc.want)+boolInt(tc.want == nil)))
		})
	}
}

func TestCalendarStrings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cal  *schedulepb.CalendarSpec
		from string
		want []string
	}{
		{"defaults: midnight every day", &schedulepb.CalendarSpec{}, "2024-01-01T10:00:00Z",
			[]string{"2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"}},
		{"every field", &schedulepb.CalendarSpec{Second: "5", Minute: "10", Hour: "3", DayOfMonth: "1-7", Month: "Feb-Mar", Year: "2025", DayOfWeek: "Mo"},
			"2024-01-01T00:00:00Z", []string{"2025-02-03T03:10:05Z", "2025-03-03T03:10:05Z"}},
		{"step from a value", &schedulepb.CalendarSpec{Minute: "50/5", Hour: "*"}, "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T00:50:00Z", "2024-01-01T00:55:00Z", "2024-01-01T01:50:00Z"}},
		{"names are case-insensitive prefixes", &schedulepb.CalendarSpec{DayOfMonth: "*", Month: "SEPT", DayOfWeek: "thurs"}, "2024-01-01T00:00:00Z",
			[]string{"2024-09-05T00:00:00Z", "2024-09-12T00:00:00Z"}},
		{"Sunday as 7 with a step", &schedulepb.CalendarSpec{DayOfWeek: "1-7/3"}, "2024-03-01T00:00:00Z", // Mon, Thu, Sun
			[]string{"2024-03-03T00:00:00Z", "2024-03-04T00:00:00Z", "2024-03-07T00:00:00Z", "2024-03-10T00:00:00Z"}},
		{"spaces around fields", &schedulepb.CalendarSpec{Hour: " 4 ", Minute: "\t30"}, "2024-01-01T00:00:00Z",
			[]string{"2024-01-01T04:30:00Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := compile(t, &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{tc.cal}})
			require.Equal(t, tc.want, times(t, s, tc.from, len(tc.want)))
		})
	}
}

// TestNextAgreesWithMatches checks Next against a brute-force scan with Matches, every second
// of a window that holds a daylight-saving transition, for random calendars in several zones.
// Matches reads one instant's wall clock; Next searches wall clocks and maps them back, so the
// two are independent computations of the same set.
func TestNextAgreesWithMatches(t *testing.T) {
	t.Parallel()
	zones := []string{"America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia", "UTC"}
	windows := []string{"2024-03-10T04:00:00Z", "2024-11-03T03:00:00Z", "2024-03-31T00:00:00Z",
		"2024-10-27T00:00:00Z", "2024-04-06T14:00:00Z", "2024-10-05T15:00:00Z", "2011-12-29T09:00:00Z"}
	fields := []string{"*", "0", "30", "0-30/7", "*/20", "15,45", "59"}
	hours := []string{"*", "1", "2", "0-3", "*/2", "23"}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 48 {
		cal := &schedulepb.CalendarSpec{
			Second: fields[r.IntN(len(fields))], Minute: fields[r.IntN(len(fields))],
			Hour: hours[r.IntN(len(hours))], DayOfMonth: "*",
		}
		if cal.Second == "*" && cal.Minute == "*" {
			cal.Second = "0"
		}
		sp := &schedulepb.ScheduleSpec{Calendar: []*schedulepb.CalendarSpec{cal}, TimezoneName: zones[i%len(zones)]}
		if i%3 == 0 {
			sp.ExcludeCalendar = []*schedulepb.CalendarSpec{{Second: "*", Minute: "10-40", Hour: "*"}}
		}
		from := mustTime(t, windows[i%len(windows)])
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			agree(t, sp, from, from.Add(3*time.Hour))
		})
	}
}

// TestExclusionSkipsAgree checks the exclusion skips (a unit at a time) against the
// brute-force scan, for intervals and calendars in zones with whole-hour, half-hour and
// daylight-saving offsets.
func TestExclusionSkipsAgree(t *testing.T) {
	t.Parallel()
	ivs := []*schedulepb.IntervalSpec{
		{Interval: durationpb.New(time.Minute)},
		{Interval: durationpb.New(time.Hour), Phase: durationpb.New(90 * time.Second)},
		{Interval: durationpb.New(7 * time.Second)},
		{Interval: durationpb.New(24 * time.Hour), Phase: durationpb.New(30 * time.Minute)},
	}
	excls := []*schedulepb.CalendarSpec{
		{Hour: "*", Minute: "*"},      // second 0 of every minute
		{Hour: "0-2", Minute: "0-40"}, // second 0
		{Hour: "*", Minute: "1", Second: "30"},
		{Hour: "1", Minute: "*", Second: "*"},
		{Hour: "*", Minute: "30"},
	}
	zones := []string{"UTC", "Asia/Kolkata", "America/New_York", "Europe/London"}
	windows := []string{"2024-03-10T05:00:00Z", "2024-11-03T04:30:00Z", "2024-03-31T00:00:00Z", "2024-06-01T00:00:00Z"}
	n := 0
	for i, iv := range ivs {
		for j, ex := range excls {
			sp := &schedulepb.ScheduleSpec{
				Interval:        []*schedulepb.IntervalSpec{iv},
				CronString:      []string{"30 */5 * * * * *"},
				ExcludeCalendar: []*schedulepb.CalendarSpec{ex},
				TimezoneName:    zones[(i+j)%len(zones)],
			}
			from := mustTime(t, windows[n%len(windows)])
			n++
			t.Run(fmt.Sprint(i, j), func(t *testing.T) {
				t.Parallel()
				agree(t, sp, from, from.Add(2*time.Hour))
			})
		}
	}
}

// agree checks that Next and a second-by-second scan with Matches give the same times in
// (from, to].
func agree(t *testing.T, sp *schedulepb.ScheduleSpec, from, to time.Time) {
	t.Helper()
	s := compile(t, sp)
	{
		want := make([]time.Time, 0, 64)
		for at := from.Add(time.Second); !at.After(to); at = at.Add(time.Second) {
			if s.Matches(at) {
				want = append(want, at)
			}
		}
		got := make([]time.Time, 0, len(want))
		for at := from; ; {
			n, _, ok := s.Next(at, "")
			if !ok || n.After(to) {
				break
			}
			got = append(got, n)
			at = n
		}
		require.Equal(t, want, got, "spec %v", sp)
	}
}
