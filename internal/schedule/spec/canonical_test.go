package spec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func r(start, end, step int32) *schedulepb.Range {
	return &schedulepb.Range{Start: start, End: end, Step: step}
}

func rs(ranges ...*schedulepb.Range) []*schedulepb.Range { return ranges }

func TestCanonical(t *testing.T) {
	t.Parallel()
	start := timestamppb.New(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	in := &schedulepb.ScheduleSpec{
		StructuredCalendar: []*schedulepb.StructuredCalendarSpec{{
			Hour: rs(r(5, 0, 0)), Minute: rs(r(0, 30, 0)), Comment: "kept",
		}},
		Calendar: []*schedulepb.CalendarSpec{{Hour: "9-17/4", DayOfWeek: "mon-fri", Comment: "work"}},
		CronString: []string{
			"15 8 1 jan,jul * # twice a year",
			"@every 90m/30m",
		},
		Interval:        []*schedulepb.IntervalSpec{{Interval: durationpb.New(time.Hour)}},
		ExcludeCalendar: []*schedulepb.CalendarSpec{{Month: "dec", DayOfMonth: "25"}},
		StartTime:       start,
		Jitter:          durationpb.New(time.Minute),
		TimezoneName:    "Europe/Paris",
	}
	before := proto.Clone(in)
	s := compile(t, in)
	require.True(t, proto.Equal(before, in), "Compile modified its argument")

	every := func(lo, hi int32) []*schedulepb.Range { return rs(r(lo, hi, 1)) }
	want := &schedulepb.ScheduleSpec{
		StructuredCalendar: []*schedulepb.StructuredCalendarSpec{
			{Hour: rs(r(5, 5, 1)), Minute: rs(r(0, 30, 1)), Comment: "kept"},
			{
				Second: rs(r(0, 0, 1)), Minute: rs(r(0, 0, 1)), Hour: rs(r(9, 17, 4)),
				DayOfMonth: every(1, 31), Month: every(1, 12), DayOfWeek: every(1, 5), Comment: "work",
			},
			{
				Second: rs(r(0, 0, 1)), Minute: rs(r(15, 15, 1)), Hour: rs(r(8, 8, 1)),
				DayOfMonth: rs(r(1, 1, 1)), Month: rs(r(1, 1, 1), r(7, 7, 1)), DayOfWeek: every(0, 6),
				Comment: "twice a year",
			},
		},
		Interval: []*schedulepb.IntervalSpec{
			{Interval: durationpb.New(time.Hour)},
			{Interval: durationpb.New(90 * time.Minute), Phase: durationpb.New(30 * time.Minute)},
		},
		ExcludeStructuredCalendar: []*schedulepb.StructuredCalendarSpec{{
			Second: rs(r(0, 0, 1)), Minute: rs(r(0, 0, 1)), Hour: rs(r(0, 0, 1)),
			DayOfMonth: rs(r(25, 25, 1)), Month: rs(r(12, 12, 1)), DayOfWeek: every(0, 6),
		}},
		StartTime:    start,
		Jitter:       durationpb.New(time.Minute),
		TimezoneName: "Europe/Paris",
	}
	got := s.Canonical()
	require.True(t, proto.Equal(want, got), "got %v", got)

	// Canonical returns a copy, and compiling it again gives the same spec and the same times.
	got.TimezoneName = "changed"
	require.Equal(t, "Europe/Paris", s.Canonical().GetTimezoneName())
	again := compile(t, s.Canonical())
	require.True(t, proto.Equal(s.Canonical(), again.Canonical()))
	require.Equal(t, times(t, s, "2024-06-30T00:00:00Z", 50), times(t, again, "2024-06-30T00:00:00Z", 50))
}

func TestCanonicalSpecialForms(t *testing.T) {
	t.Parallel()
	dow := func(cs string) []*schedulepb.Range {
		s := compile(t, cron("", "0 0 * * "+cs))
		return s.Canonical().GetStructuredCalendar()[0].GetDayOfWeek()
	}
	cases := []struct {
		in   string
		want []*schedulepb.Range
	}{
		{"*", rs(r(0, 6, 1))},
		{"0-7", rs(r(0, 6, 1))},
		{"1-7", rs(r(0, 6, 1))},
		{"7", rs(r(0, 0, 1))},
		{"5-7", rs(r(0, 0, 1), r(5, 6, 1))},
		{"1-7/2", rs(r(0, 0, 1), r(1, 6, 2))},
		{"*/2", rs(r(0, 6, 2))},
		{"3-7/3", rs(r(3, 6, 3))},
		{"sun", rs(r(0, 0, 1))},
	}
	for _, tc := range cases {
		got := dow(tc.in)
		require.Len(t, got, len(tc.want), tc.in)
		for i := range got {
			require.True(t, proto.Equal(tc.want[i], got[i]), "%s: got %v", tc.in, got)
		}
	}
	// A cron zone moves to timezone_name; an equal timezone_name is no conflict.
	require.Equal(t, "Asia/Tokyo", compile(t, cron("", "CRON_TZ=Asia/Tokyo 0 0 * * *")).Canonical().GetTimezoneName())
	require.Equal(t, "Asia/Tokyo", compile(t, cron("Asia/Tokyo", "TZ=Asia/Tokyo 0 0 * * *", "TZ=Asia/Tokyo 0 1 * * *")).Canonical().GetTimezoneName())
	// A year of "*" is no ranges at all, which means every year.
	s := compile(t, cron("", "0 0 * * * *"))
	require.Empty(t, s.Canonical().GetStructuredCalendar()[0].GetYear())
	// An empty spec compiles, has no times, and stays empty.
	s = compile(t, &schedulepb.ScheduleSpec{})
	require.True(t, proto.Equal(&schedulepb.ScheduleSpec{}, s.Canonical()))
	_, _, ok := s.Next(time.Now(), "")
	require.False(t, ok)
	s = compile(t, nil)
	require.True(t, proto.Equal(&schedulepb.ScheduleSpec{}, s.Canonical()))
}

func TestTimezoneData(t *testing.T) {
	t.Parallel()
	// A TZif blob for a zone at UTC+3 without DST, named as the caller likes.
	data := tzif(3 * 3600)
	s := compile(t, &schedulepb.ScheduleSpec{CronString: []string{"0 9 * * *"}, TimezoneName: "My/Zone", TimezoneData: data})
	require.Equal(t, []string{"2024-01-01T06:00:00Z"}, times(t, s, "2024-01-01T00:00:00Z", 1))
	_, err := Compile(&schedulepb.ScheduleSpec{TimezoneData: []byte("garbage")})
	require.Error(t, err)
	// A cron zone cannot be combined with timezone_data.
	_, err = Compile(&schedulepb.ScheduleSpec{CronString: []string{"TZ=UTC 0 0 * * *"}, TimezoneData: data})
	require.EqualError(t, err, "conflicting timezone names")
}

// tzif builds a minimal version-1 TZif file with one zone of the given offset.
func tzif(offset int32) []byte {
	b := []byte("TZif")
	b = append(b, make([]byte, 16)...)   // version 1 and reserved
	counts := []uint32{0, 0, 0, 0, 1, 4} // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
	for _, c := range counts {
		b = append(b, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
	}
	b = append(b, byte(offset>>24), byte(offset>>16), byte(offset>>8), byte(offset), 0, 0)
	return append(b, "+03\x00"...)
}
