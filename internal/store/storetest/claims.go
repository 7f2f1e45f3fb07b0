package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testClaims covers ClaimTasks: oldest visible rows first, held from other claims until the
// lease ends, never handed to two concurrent claimers, and still hints (consumed only by Apply).
func (s *suite) testClaims(t *testing.T) {
	t.Parallel()

	// backlog commits n task rows of queue q of one run and returns them, oldest first.
	backlog := func(f *fixture, q string, n int) (store.Execution, []*store.Task) {
		e := f.create("wf-claims-" + q)
		tr := next(e)
		var ts []*store.Task
		for i := range n {
			ts = append(ts, newTask(e, q, store.TaskActivity, int64(3+i)))
		}
		tr.NewTasks = ts
		f.mustApply(tr)
		return tr.Execution, ts
	}
	claim := func(f *fixture, q store.TaskQueueKey, now time.Time, limit int) []store.Task {
		f.t.Helper()
		got, err := f.st.ClaimTasks(f.ctx, q, now, time.Minute, limit)
		require.NoError(f.t, err)
		return got
	}

	t.Run("OldestFirstAndHeldUntilTheLeaseEnds", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		_, ts := backlog(f, "q", 5)
		q := ts[0].TaskQueueKey
		requireTasks(t, ts[0:2], claim(f, q, at(0), 2))
		requireTasks(t, ts[2:4], claim(f, q, at(time.Second), 2))
		requireTasks(t, ts[4:5], claim(f, q, at(2*time.Second), 2))
		require.Empty(t, claim(f, q, at(3*time.Second), 2), "every row is held")
		// The first two holds (taken at 0 for a minute) end first; the rows come back in ID order.
		got := claim(f, q, at(time.Minute), 0)
		require.Equal(t, taskIDs(ts[0:2]), listedTaskIDs(got), "rows whose hold ended are claimable again")
		got = claim(f, q, at(time.Minute+2*time.Second), 0)
		require.Equal(t, taskIDs(ts[2:5]), listedTaskIDs(got))
	})

	t.Run("OnlyTheQueueKindAndVisibleRows", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.create("wf-claims")
		tr := next(e)
		mine := newTask(e, "q", store.TaskActivity, 3)
		otherQueue := newTask(e, "q2", store.TaskActivity, 4)
		otherKind := newTask(e, "q", store.TaskWorkflow, 5)
		later := newTask(e, "q", store.TaskActivity, 6)
		later.VisibleAt = at(10 * time.Second)
		tr.NewTasks = []*store.Task{mine, otherQueue, otherKind, later}
		f.mustApply(tr)
		requireTasks(t, []*store.Task{mine}, claim(f, mine.TaskQueueKey, at(0), 0))
		require.Empty(t, claim(f, mine.TaskQueueKey, at(time.Second), 0), "the later row is not visible yet")
		requireTasks(t, []*store.Task{later}, claim(f, mine.TaskQueueKey, at(10*time.Second), 0))
		requireTasks(t, []*store.Task{otherQueue}, claim(f, otherQueue.TaskQueueKey, at(0), 0))
		requireTasks(t, []*store.Task{otherKind}, claim(f, otherKind.TaskQueueKey, at(0), 0))
	})

	t.Run("AClaimConsumesNothing", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e, ts := backlog(f, "q", 3)
		q := ts[0].TaskQueueKey
		requireTasks(t, ts, claim(f, q, at(0), 0))
		n, err := f.st.CountTasks(f.ctx, q)
		require.NoError(t, err)
		require.Equal(t, int64(3), n, "held rows are still in the backlog")

		// The transition that starts a held row consumes it as any other.
		consume := next(e)
		consume.DeleteTasks = []int64{ts[0].ID}
		f.mustApply(consume)
		e = consume.Execution
		// A consumed row never comes back; the others do once their hold ends.
		require.Equal(t, taskIDs(ts[1:]), listedTaskIDs(claim(f, q, at(2*time.Minute), 0)))

		// Consuming a row twice is still the conflict that fences two claimers.
		again := next(e)
		again.DeleteTasks = []int64{ts[0].ID}
		require.ErrorIs(t, f.apply(again)[0], store.ErrConsumed)
	})

	t.Run("ConcurrentClaimersSplitTheBacklog", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		_, ts := backlog(f, "q", 60)
		q := ts[0].TaskQueueKey
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := f.st.ClaimTasks(f.ctx, q, at(0), time.Minute, 1+w%3)
					if err != nil {
						errs <- fmt.Errorf("claimer %d: %w", w, err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, t := range got {
						seen[t.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, seen, len(ts), "every row claimed")
		for id, n := range seen {
			require.Equal(t, 1, n, "row %d handed to %d claimers", id, n)
		}
	})
}
