package spec

import (
	"testing"
	"time"

	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var fuzzZones = []string{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe",
	"Pacific/Apia", "Asia/Kolkata", "America/Santiago", "Africa/Casablanca"}

// FuzzNext compiles arbitrary specs and checks, for any that compile: Next never panics, its
// times strictly increase, Matches agrees with them, the actual time lies in
// [nominal, nominal+jitter), and asking from any instant between two times gives the later.
func FuzzNext(f *testing.F) {
	f.Add("0", "*/15", "*", "*", "*", "*", "*", "", int64(0), int64(0), uint8(1), int64(1700000000), int64(0), int64(60))
	f.Add("30", "30", "1-2", "*", "3,11", "*", "sun", "0 * * * *", int64(3600), int64(60), uint8(1), int64(1710000000), int64(3600), int64(0))
	f.Add("*", "0", "*", "29", "2", "2024-2100/4", "*", "CRON_TZ=Europe/London 30 1 * * *", int64(86400*7), int64(86400), uint8(2), int64(951782400), int64(-1), int64(1))
	f.Add("", "", "", "L", "", "", "", "@every 1h/15m", int64(1), int64(0), uint8(3), int64(-5000000000), int64(100), int64(1000))
	f.Add("59", "59", "23", "31", "12", "2100", "*", "", int64(0), int64(0), uint8(4), int64(4102444700), int64(0), int64(0))
	f.Fuzz(func(t *testing.T, sec, min, hour, dom, month, year, dow, cronStr string,
		every, phase int64, zone uint8, from, window, jitter int64) {
		sp := &schedulepb.ScheduleSpec{
			Calendar:     []*schedulepb.CalendarSpec{{Second: sec, Minute: min, Hour: hour, DayOfMonth: dom, Month: month, Year: year, DayOfWeek: dow}},
			TimezoneName: fuzzZones[int(zone)%len(fuzzZones)],
			Jitter:       durationpb.New(time.Duration(jitter%3600) * time.Second),
		}
		if cronStr != "" {
			sp.CronString = []string{cronStr}
		}
		if every != 0 {
			sp.Interval = []*schedulepb.IntervalSpec{{Interval: durationpb.New(time.Duration(every%(1<<32)) * time.Second),
				Phase: durationpb.New(time.Duration(phase%(1<<32)) * time.Second)}}
		}
		if zone&8 != 0 {
			sp.ExcludeCalendar = []*schedulepb.CalendarSpec{{Second: "*", Minute: sec, Hour: hour}}
		}
		from = from % (5 << 30) // within a few centuries of the epoch
		at := time.Unix(from, 0).UTC()
		if zone&16 != 0 {
			sp.StartTime = timestamppb.New(at.Add(time.Duration(window%1e6) * time.Second))
		}
		if zone&32 != 0 {
			sp.EndTime = timestamppb.New(at.Add(time.Duration(window%1e8) * time.Second))
		}
		s, err := Compile(sp)
		if err != nil {
			return
		}
		maxJitter := s.jitter
		for range 20 {
			nominal, actual, ok := s.Next(at, "fuzz")
			if !ok {
				return
			}
			if !nominal.After(at) {
				t.Fatalf("Next(%v) = %v, not after it; spec %v", at, nominal, sp)
			}
			if !s.Matches(nominal) {
				t.Fatalf("Matches(%v) false for a time Next gave; spec %v", nominal, sp)
			}
			if j := actual.Sub(nominal); j < 0 || (j > 0 && j >= maxJitter) {
				t.Fatalf("jitter %v out of [0, %v); spec %v", j, maxJitter, sp)
			}
			if gap := nominal.Sub(at); gap > 2*time.Second {
				mid := at.Add(gap / 2)
				if n2, _, ok := s.Next(mid, "fuzz"); !ok || !n2.Equal(nominal) {
					t.Fatalf("Next(%v) = %v, want %v; spec %v", mid, n2, nominal, sp)
				}
			}
			at = nominal
		}
	})
}

func BenchmarkNext(b *testing.B) {
	specs := map[string]*schedulepb.ScheduleSpec{
		"cron every 15 minutes UTC": cron("", "*/15 * * * *"),
		"cron weekdays New York":    cron("America/New_York", "30 9 * * mon-fri"),
		"interval with phase":       {Interval: []*schedulepb.IntervalSpec{{Interval: durationpb.New(time.Hour), Phase: durationpb.New(5 * time.Minute)}}},
		"yearly Feb 29 London":      cron("Europe/London", "0 12 29 2 *"),
		"calendar with exclusion and jitter": {
			CronString:      []string{"0 * * * *"},
			ExcludeCalendar: []*schedulepb.CalendarSpec{{Hour: "*", Minute: "*", Second: "*", DayOfWeek: "sat,sun"}},
			Jitter:          durationpb.New(5 * time.Minute),
			TimezoneName:    "Europe/London",
		},
	}
	for name, sp := range specs {
		b.Run(name, func(b *testing.B) {
			s := compile(b, sp)
			at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			for b.Loop() {
				n, _, ok := s.Next(at, "bench")
				if !ok {
					b.Fatal("no next time")
				}
				at = n
				if at.Year() > 2090 {
					at = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
				}
			}
		})
	}
}
