// Package schedule runs Temporal's Schedules on Duro's store: a schedule is a record (kind
// "schedule") holding the Schedule proto the user gave (spec, action, policies, state), what it
// has done (its ScheduleInfo: action counts, recent actions, running workflows) and the
// scheduler's own progress (the time processed up to, buffered starts, backfills still to go,
// starts decided but not yet made). The record's WakeAt is when it next needs attention.
//
// Every node runs the [Scheduler] loop: it takes the due records and processes each with
// compare-and-set, so any node may process any schedule and a lost race is simply redone on the
// fresh record. Starting a workflow is the one effect that cannot share the record's commit, so it
// goes in two steps: a step that decides on a start records it as pending, with a request ID
// derived from the schedule and the start's number, and the next step makes it and records the
// run. A crash between the two makes the start again with the same request ID, which the engine
// answers with the run it already made; so a time is never started twice, and none is lost.
//
// The rules are those of Temporal's scheduler workflow (service/worker/scheduler): overlap
// policies (skip, buffer one, buffer all, cancel other, terminate other, allow all), the catch-up
// window after downtime (one year by default, at least ten seconds), pause on failure, remaining
// actions, triggers and backfills (whose start is inclusive, taken ten times per step, their
// progress recorded with each step), and the workflow ID, memo and search attributes
// (TemporalScheduledById, TemporalScheduledStartTime) of the runs a schedule starts. Where Duro
// differs it says so at the place.
package schedule
