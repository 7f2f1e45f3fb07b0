package engine

import (
	"fmt"
	"io"
	"sync/atomic"
)

// metrics are the engine's counters, exposed in Prometheus' text format on /metrics.
type metrics struct {
	transitions atomic.Int64
	conflicts   atomic.Int64
	commits     atomic.Int64
	commitFails atomic.Int64
}

// WriteMetrics writes the engine's counters in Prometheus' text exposition format.
func (e *Engine) WriteMetrics(w io.Writer) {
	fmt.Fprintf(w, "# TYPE duro_transitions_total counter\nduro_transitions_total %d\n", e.metrics.transitions.Load())
	fmt.Fprintf(w, "# TYPE duro_transition_conflicts_total counter\nduro_transition_conflicts_total %d\n", e.metrics.conflicts.Load())
	fmt.Fprintf(w, "# TYPE duro_commits_total counter\nduro_commits_total %d\n", e.metrics.commits.Load())
	fmt.Fprintf(w, "# TYPE duro_commit_failures_total counter\nduro_commit_failures_total %d\n", e.metrics.commitFails.Load())
}
