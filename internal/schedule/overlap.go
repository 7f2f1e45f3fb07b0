package schedule

import (
	enumspb "go.temporal.io/api/enums/v1"
)

// overlapDecision is what the overlap policies make of the buffer at one moment.
type overlapDecision struct {
	// allowAll are the ALLOW_ALL starts: they run at once, whatever else runs.
	allowAll []*bufferedStart
	// next is the one start that does not overlap and may run now, or nil.
	next *bufferedStart
	// keep is what stays buffered.
	keep []*bufferedStart
	// cancel and terminate ask the running workflows to go, so that a buffered CANCEL_OTHER or
	// TERMINATE_OTHER start can run once they have closed.
	cancel, terminate bool
	// skipped counts the starts dropped by SKIP and BUFFER_ONE.
	skipped int64
}

// decideOverlap applies each buffered start's overlap policy (resolved with resolve, late, so an
// update of the schedule's policy reaches starts already buffered), given whether a workflow the
// schedule started is still running. The semantics are Temporal's:
//
//   - ALLOW_ALL starts run at once;
//   - otherwise, with nothing running, the first start runs;
//   - a start that would overlap is skipped (SKIP), kept if it is the only one kept (BUFFER_ONE),
//     kept (BUFFER_ALL), or, with a workflow running, kept while that workflow is cancelled
//     (CANCEL_OTHER) or terminated (TERMINATE_OTHER); with only an earlier start of this same
//     decision in the way, CANCEL_OTHER and TERMINATE_OTHER replace it.
//
// When something is to be cancelled or terminated the ALLOW_ALL starts are not made: they would
// be cancelled or terminated at once.
func decideOverlap(buffer []*bufferedStart, running bool, resolve func(enumspb.ScheduleOverlapPolicy) enumspb.ScheduleOverlapPolicy) overlapDecision {
	var d overlapDecision
	for _, b := range buffer {
		policy := resolve(b.Overlap)
		if policy == enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL {
			d.allowAll = append(d.allowAll, b)
			continue
		}
		if !running && d.next == nil {
			d.next = b
			continue
		}
		switch policy {
		case enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
			if len(d.keep) == 0 {
				d.keep = append(d.keep, b)
			} else {
				d.skipped++
			}
		case enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
			d.keep = append(d.keep, b)
		case enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER:
			if !running {
				d.next = b
				continue
			}
			if policy == enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER {
				d.cancel = true
			} else {
				d.terminate = true
			}
			d.keep = append(d.keep, b)
		default: // SKIP
			d.skipped++
		}
	}
	if d.cancel || d.terminate {
		d.allowAll = nil
	}
	return d
}
