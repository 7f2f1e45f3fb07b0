package spec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestExclusions(t *testing.T) {
	t.Parallel()
	every := func(d time.Duration) []*schedulepb.IntervalSpec {
		return []*schedulepb.IntervalSpec{{Interval: durationpb.New(d)}}
	}
	cases := []struct {
		name string
		spec *schedulepb.ScheduleSpec
		from string
		want []string
	}{
		{"weekends excluded from a daily cron", &schedulepb.ScheduleSpec{
			CronString:      []string{"0 9 * * *"},
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Hour: "*", Minute: "*", Second: "*", DayOfWeek: "sat,sun"}},
		}, "2024-03-01T10:00:00Z", []string{"2024-03-04T09:00:00Z", "2024-03-05T09:00:00Z"}},
		{"one exact time excluded", &schedulepb.ScheduleSpec{
			CronString:      []string{"0 * * * *"},
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Hour: "2", DayOfMonth: "1", Month: "1"}},
		}, "2024-01-01T00:30:00Z", []string{"2024-01-01T01:00:00Z", "2024-01-01T03:00:00Z"}},
		{"structured exclusion of a month", &schedulepb.ScheduleSpec{
			CronString: []string{"@monthly"},
			ExcludeStructuredCalendar: []*schedulepb.StructuredCalendarSpec{{
				Second: []*schedulepb.Range{{Start: 0, End: 59}}, Minute: []*schedulepb.Range{{Start: 0, End: 59}},
				Hour: []*schedulepb.Range{{Start: 0, End: 23}}, DayOfMonth: []*schedulepb.Range{{Start: 1, End: 31}},
				DayOfWeek: []*schedulepb.Range{{Start: 0, End: 6}}, Month: []*schedulepb.Range{{Start: 2}},
			}},
		}, "2024-01-15T00:00:00Z", []string{"2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z"}},
		{"any of several exclusions", &schedulepb.ScheduleSpec{
			CronString:      []string{"0 0 * * *"},
			ExcludeCalendar: []*schedulepb.CalendarSpec{{DayOfMonth: "2"}, {DayOfMonth: "3"}},
		}, "2024-01-01T00:00:00Z", []string{"2024-01-04T00:00:00Z"}},
		{"exclusions read the spec's zone", &schedulepb.ScheduleSpec{
			CronString:      []string{"0 * * * *"},
			TimezoneName:    "Asia/Tokyo",
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Hour: "9-10", Minute: "*"}},
		}, "2024-01-01T23:30:00Z", []string{"2024-01-02T02:00:00Z"}}, // 09:00 and 10:00 JST skipped
		{"dense interval, a whole year excluded", &schedulepb.ScheduleSpec{
			Interval:        every(time.Second),
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Second: "*", Minute: "*", Hour: "*", Year: "2025"}},
		}, "2024-12-31T23:59:58Z", []string{"2024-12-31T23:59:59Z", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"}},
		{"dense interval, business hours excluded, in New York across fall back", &schedulepb.ScheduleSpec{
			Interval:        every(time.Minute),
			TimezoneName:    "America/New_York",
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Second: "*", Minute: "*", Hour: "0-22"}},
		}, "2024-11-03T04:00:00Z", []string{"2024-11-04T04:00:00Z", "2024-11-04T04:01:00Z"}}, // 23:00 EST on Nov 3, a 25-hour day
		{"exclusions never validated, out-of-range values never match", &schedulepb.ScheduleSpec{
			CronString: []string{"0 0 * * *"},
			ExcludeStructuredCalendar: []*schedulepb.StructuredCalendarSpec{{
				Second: []*schedulepb.Range{{Start: -5, End: 1 << 30, Step: -3}}, Minute: []*schedulepb.Range{{Start: 0}},
				Hour: []*schedulepb.Range{{Start: 99}}, DayOfMonth: []*schedulepb.Range{{Start: 1, End: 31}},
				Month: []*schedulepb.Range{{Start: 1, End: 12}}, DayOfWeek: []*schedulepb.Range{{Start: 0, End: 6}},
			}},
		}, "2024-01-01T00:00:00Z", []string{"2024-01-02T00:00:00Z"}},
		{"dense interval, half a year excluded by a calendar with second and minute 0", &schedulepb.ScheduleSpec{
			Interval:        every(time.Minute),
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Month: "jan-jun", Hour: "*", Minute: "*"}},
		}, "2023-12-31T23:58:00Z", []string{"2023-12-31T23:59:00Z", "2024-07-01T00:00:00Z"}},
		{"half-hour zone, hourly interval, excluded whole days", &schedulepb.ScheduleSpec{
			Interval:        every(time.Hour),
			TimezoneName:    "Asia/Kolkata",
			ExcludeCalendar: []*schedulepb.CalendarSpec{{DayOfMonth: "2-30", Hour: "*", Minute: "30"}},
		}, "2024-01-01T18:00:00Z", []string{"2024-01-30T19:00:00Z", "2024-01-30T20:00:00Z"}}, // 00:30 and 01:30 IST on the 31st
		{"exclusions that hide every time one by one end the search", &schedulepb.ScheduleSpec{
			Interval:        every(2 * time.Second),
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Second: "*/2", Minute: "*", Hour: "*"}},
		}, "2024-01-01T00:00:00Z", nil},
		{"everything excluded", &schedulepb.ScheduleSpec{
			CronString:      []string{"0 0 * * *"},
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Hour: "*"}},
		}, "2099-01-01T00:00:00Z", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := compile(t, tc.spec)
			require.Equal(t, tc.want, times(t, s, tc.from, len(tc.want)+boolInt(tc.want == nil)))
		})
	}
}

func TestJitter(t *testing.T) {
	t.Parallel()
	sp := cron("", "0 * * * *")
	sp.Jitter = durationpb.New(10 * time.Minute)
	s := compile(t, sp)

	t.Run("deterministic: same seed and time, same jitter, on any compile", func(t *testing.T) {
		t.Parallel()
		again := compile(t, sp)
		at := mustTime(t, "2024-01-01T00:30:00Z")
		n1, a1, _ := s.Next(at, "ns/sched-1")
		n2, a2, _ := again.Next(at, "ns/sched-1")
		require.Equal(t, n1, n2)
		require.Equal(t, a1, a2)
		// The jitter does not depend on the time asked from, only on the nominal time.
		_, a3, _ := s.Next(at.Add(-20*time.Minute), "ns/sched-1")
		require.Equal(t, a1, a3)
	})
	t.Run("bounded, millisecond resolution, spread, varies with seed and time", func(t *testing.T) {
		t.Parallel()
		at := mustTime(t, "2024-01-01T00:00:00Z")
		distinct := map[time.Duration]bool{}
		var sum time.Duration
		const n = 2000
		for range n {
			nominal, actual, ok := s.Next(at, "seed-a")
			require.True(t, ok)
			j := actual.Sub(nominal)
			require.GreaterOrEqual(t, j, time.Duration(0))
			require.Less(t, j, 10*time.Minute)
			require.Zero(t, j%time.Millisecond)
			distinct[j] = true
			sum += j
			at = nominal
		}
		require.Greater(t, len(distinct), n*9/10)
		mean := sum / n
		require.InDelta(t, float64(5*time.Minute), float64(mean), float64(30*time.Second))

		at = mustTime(t, "2024-01-01T00:00:00Z")
		_, a, _ := s.Next(at, "seed-a")
		_, b, _ := s.Next(at, "seed-b")
		require.NotEqual(t, a, b)
	})
	t.Run("never past the following nominal time", func(t *testing.T) {
		t.Parallel()
		sp := cron("", "@every 1m")
		sp.Jitter = durationpb.New(time.Hour)
		s := compile(t, sp)
		at := mustTime(t, "2024-01-01T00:00:00Z")
		for range 500 {
			nominal, actual, _ := s.Next(at, "x")
			require.Less(t, actual.Sub(nominal), time.Minute)
			at = nominal
		}
	})
	t.Run("no jitter, actual is nominal", func(t *testing.T) {
		t.Parallel()
		s := compile(t, cron("", "@hourly"))
		n, a, ok := s.Next(mustTime(t, "2024-01-01T00:00:00Z"), "x")
		require.True(t, ok)
		require.Equal(t, n, a)
	})
	t.Run("negative jitter counts as none", func(t *testing.T) {
		t.Parallel()
		sp := cron("", "@hourly")
		sp.Jitter = durationpb.New(-time.Hour)
		s := compile(t, sp)
		n, a, _ := s.Next(mustTime(t, "2024-01-01T00:00:00Z"), "x")
		require.Equal(t, n, a)
	})
}
