// Package spec computes the times of a Temporal ScheduleSpec: it validates and canonicalizes a
// spec as Temporal's server does ([Compile], [Spec.Canonical]) and answers "what is the next
// time after t" ([Spec.Next]) and "is t a time of the spec" ([Spec.Matches]). It is pure: no
// clock, no storage, no engine; the scheduler calls it with the times it cares about.
//
// Semantics follow Temporal's server (service/worker/scheduler), learned from its source:
//
//   - A spec's times are the union of its structured calendars (calendar and cron_string
//     entries are converted to them) and its intervals, minus every time an exclusion
//     calendar matches, within [start_time, end_time] (both inclusive), never after 2100.
//   - Times have one-second resolution. Next(t) is strictly after t.
//   - A calendar matches a wall-clock reading in timezone_name (UTC when empty) when every
//     field matches: day of month AND day of week, unlike classic cron's OR. An empty field of
//     a structured calendar matches nothing, except year, where empty means every year. There
//     is no "L" (last day of month) or "?"; they are refused like any bad value.
//   - Daylight saving: a reading skipped by a spring-forward gap never fires; a reading that a
//     fall-back repeats fires twice, once at each offset (Temporal documents both).
//   - An interval's times are the Unix epoch + k*interval + phase, in whole seconds,
//     independent of the zone.
//   - Jitter delays a nominal time by a pseudo-random amount below min(jitter, the gap to the
//     next raw time), chosen from a hash of the caller's seed and the nominal time, so it is
//     the same on every node and after every restart.
//
// Where this package differs from Temporal's server on purpose, the code says so at the spot.
package spec
