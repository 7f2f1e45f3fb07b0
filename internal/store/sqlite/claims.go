package sqlite

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/duro-dev/duro/internal/store"
)

// claimHolds keeps the holds of ClaimTasks. A SQLite database is written by one process, this
// one, so a hold needs no row write (which would cost a commit and its fsync per claim): it is
// kept in memory, where every claimer of the database can see it. A crash forgets the holds,
// which is harmless: they only keep other claimers of this process off rows being started.
type claimHolds struct {
	mu    sync.Mutex // held for the whole of a claim, so two claims never pick the same row
	until map[int64]time.Time
	// pruneAt is the map size that triggers the next sweep of ended holds (amortised O(1)).
	pruneAt int
}

// minPruneAt is the smallest map size worth sweeping.
const minPruneAt = 1024

// ClaimTasks returns up to limit visible rows of one queue that no hold covers at now, oldest
// first, and holds them until now+lease. Held rows that are still in the backlog (being started)
// are read and skipped, so the read grows until it has limit free rows or the backlog ends.
func (s *Store) ClaimTasks(ctx context.Context, q store.TaskQueueKey, now time.Time, lease time.Duration, limit int) ([]store.Task, error) {
	h := &s.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.until == nil {
		h.until = map[int64]time.Time{}
	}
	h.prune(now)
	size := 0 // no limit
	if limit > 0 {
		size = limit + 8
	}
	for {
		rows, err := s.ListTasks(ctx, q, now, size)
		if err != nil {
			return nil, fmt.Errorf("claim: %w", err)
		}
		var out []store.Task
		for _, t := range rows {
			if end, held := h.until[t.ID]; held && end.After(now) {
				continue
			}
			out = append(out, t)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		if size == 0 || len(out) == limit || len(rows) < size {
			for _, t := range out {
				h.until[t.ID] = now.Add(lease)
			}
			return out, nil
		}
		size *= 2
	}
}

// prune forgets ended holds once the map has doubled since the last sweep.
func (h *claimHolds) prune(now time.Time) {
	if len(h.until) < max(h.pruneAt, minPruneAt) {
		return
	}
	for id, end := range h.until {
		if !end.After(now) {
			delete(h.until, id)
		}
	}
	h.pruneAt = 2 * len(h.until)
}
