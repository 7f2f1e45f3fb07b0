package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/keylock"
	"github.com/duro-dev/duro/internal/schedule/spec"
	"github.com/duro-dev/duro/internal/store"
)

// CompileFunc compiles a schedule spec (and gives its canonical form: cron strings and calendars
// turned into structured calendars), or says why it is invalid.
type CompileFunc func(*schedulepb.ScheduleSpec) (Spec, *schedulepb.ScheduleSpec, error)

// CompileSpec compiles a spec with internal/schedule/spec.
func CompileSpec(s *schedulepb.ScheduleSpec) (Spec, *schedulepb.ScheduleSpec, error) {
	sp, err := spec.Compile(s)
	if err != nil {
		return nil, nil, err
	}
	return sp, sp.Canonical(), nil
}

// Config wires a Scheduler.
type Config struct {
	Store  store.Store
	Engine *engine.Engine
	Clock  clock.Clock
	Logger *slog.Logger
	// Compile compiles specs; nil means [CompileSpec].
	Compile CompileFunc
	// Tick bounds how long the loop sleeps without looking at the store, so schedules changed on
	// other nodes are seen promptly (default 1 s).
	Tick time.Duration
	// WaitPoll is how often a schedule whose buffered starts wait for a running workflow looks at
	// it, in case no close notification reaches this node (default 5 s).
	WaitPoll time.Duration
	// Batch is how many due schedules one scan reads (default 64).
	Batch int
}

// Scheduler keeps every schedule of the store moving: its loop runs on every node, takes the due
// schedule records and processes each with compare-and-set, and its methods serve the Schedules
// API. Any node may process any schedule; a lost compare-and-set means another node (or an API
// call) changed the record first, and the step is redone on the fresh record.
type Scheduler struct {
	cfg   Config
	store store.Store
	e     *engine.Engine
	clock clock.Clock
	log   *slog.Logger

	wake chan struct{}

	// locks serialise the work on one schedule inside this node.
	locks keylock.Table[key]

	mu sync.Mutex
	// kicked are schedules to process at the next turn of the loop, whatever their WakeAt.
	kicked map[key]struct{}
	// specs caches compiled specs by their encoding.
	specs map[string]Spec
	// watched maps the runs schedules wait for (buffered starts behind a running workflow) to
	// those schedules, so that a change in the run's history kicks the schedule at once.
	watched map[string]key
}

// key names one schedule.
type key struct{ namespace, id string }

// New builds a Scheduler; Run must be running for schedules to act.
func New(cfg Config) *Scheduler {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.WaitPoll <= 0 {
		cfg.WaitPoll = 5 * time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.Compile == nil {
		cfg.Compile = CompileSpec
	}
	return &Scheduler{
		cfg: cfg, store: cfg.Store, e: cfg.Engine, clock: cfg.Clock, log: cfg.Logger,
		wake:   make(chan struct{}, 1),
		kicked: map[key]struct{}{}, watched: map[string]key{}, specs: map[string]Spec{},
	}
}

// Run processes due schedules until ctx is done.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		if ctx.Err() != nil {
			return nil
		}
		for _, k := range s.takeKicked() {
			s.processLogged(ctx, k)
		}
		now := s.clock.Now()
		recs, err := s.store.ListDueRecords(ctx, Kind, now, s.cfg.Batch)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("schedule scan failed", "error", err)
		}
		for _, r := range recs {
			if ctx.Err() != nil {
				return nil
			}
			s.processLogged(ctx, key{r.Namespace, r.Name})
		}
		if len(recs) == s.cfg.Batch {
			continue // more may be due right now
		}
		t := time.NewTimer(s.cfg.Tick)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-s.wake:
		case <-s.clock.Changed():
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Scheduler) processLogged(ctx context.Context, k key) {
	if err := s.process(ctx, k); err != nil && ctx.Err() == nil {
		s.log.Warn("schedule processing failed; will retry", "namespace", k.namespace, "schedule", k.id, "error", err)
	}
}

// kick has the loop process a schedule at its next turn.
func (s *Scheduler) kick(k key) {
	s.mu.Lock()
	s.kicked[k] = struct{}{}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Scheduler) takeKicked() []key {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.kicked) == 0 {
		return nil
	}
	out := make([]key, 0, len(s.kicked))
	for k := range s.kicked {
		out = append(out, k)
	}
	s.kicked = map[key]struct{}{}
	return out
}

// RunChanged tells the scheduler that a run's history grew (on this node or, through the cluster
// notifier, on another): a schedule waiting for that run to close looks at it now. It never blocks
// and is called after every commit, so it only looks the run up.
func (s *Scheduler) RunChanged(runID string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	k, ok := s.watched[runID]
	s.mu.Unlock()
	if ok {
		s.kick(k)
	}
}

// watch records the runs st waits for (or forgets them when it waits for none).
func (s *Scheduler) watch(k key, st *state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for run, wk := range s.watched {
		if wk == k {
			delete(s.watched, run)
		}
	}
	if st == nil || (len(st.Buffer) == 0 && len(st.Kills) == 0) {
		return
	}
	for _, ex := range st.Info.GetRunningWorkflows() {
		s.watched[ex.GetRunId()] = k
	}
}

// maxStepsPerTurn bounds the steps one schedule takes in one turn of the loop (a long backfill goes
// on at the next turn, after the other due schedules have had theirs).
const maxStepsPerTurn = 16

// process brings one schedule up to date: it makes the starts and kills its record has decided
// on, looks at the workflows it waits for, then moves it to now, and writes the record back with
// compare-and-set, repeating while the new record has starts to make.
func (s *Scheduler) process(ctx context.Context, k key) error {
	unlock := s.locks.Lock(k)
	defer unlock()
	for steps := 0; steps < maxStepsPerTurn; steps++ {
		more, err := s.step(ctx, k)
		if err != nil || !more {
			return err
		}
	}
	s.kick(k)
	return nil
}

// step is one read-modify-write of a schedule record. It reports whether another step should
// follow at once (new starts were decided, or the record moved under it).
func (s *Scheduler) step(ctx context.Context, k key) (bool, error) {
	rec, err := s.store.GetRecord(ctx, k.namespace, Kind, k.id)
	if errors.Is(err, store.ErrNotFound) {
		s.watch(k, nil)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read schedule: %w", err)
	}
	st, err := decode(rec.Data)
	if err != nil {
		return false, err
	}
	now := s.clock.Now().UTC()
	sp := s.compiled(st)

	if len(st.Pending) > 0 || len(st.Kills) > 0 {
		if !st.RetryAt.After(now) {
			s.execute(ctx, st, now)
		}
	}
	s.refresh(ctx, st)
	if len(st.Pending) == 0 && len(st.Kills) == 0 {
		st.RetryAt = time.Time{}
		if exp := st.retentionExpiration(st.nextTime(sp)); !exp.IsZero() && !exp.After(now) {
			// Nothing left to do for its whole retention: the schedule goes, as in Temporal.
			err := s.store.DeleteRecord(ctx, k.namespace, Kind, k.id, rec.Version)
			if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
				return false, fmt.Errorf("delete expired schedule: %w", err)
			}
			return errors.Is(err, store.ErrConflict), nil
		}
		st.advance(sp, now)
	}
	more, err := s.save(ctx, rec, st, sp, now)
	if err != nil {
		return false, err
	}
	return more, nil
}

// save writes st back over rec (compare-and-set) if anything changed. It reports whether another
// step should follow at once: st has starts to make now, or the record moved under it.
func (s *Scheduler) save(ctx context.Context, rec *store.Record, st *state, sp Spec, now time.Time) (bool, error) {
	wake := st.wakeAt(sp, now, s.cfg.WaitPoll)
	data, err := st.encode()
	if err != nil {
		return false, err
	}
	k := key{rec.Namespace, rec.Name}
	if string(data) == string(rec.Data) && wake.Equal(rec.WakeAt) {
		s.watch(k, st)
		return false, nil
	}
	next := *rec
	next.Data, next.WakeAt, next.UpdatedAt = data, wake, now
	if _, err := s.store.PutRecord(ctx, next, rec.Version); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return true, nil // changed by another node or an API call: redo on the fresh record
		}
		if errors.Is(err, store.ErrNotFound) {
			s.watch(k, nil)
			return false, nil // deleted meanwhile
		}
		return false, fmt.Errorf("write schedule: %w", err)
	}
	s.watch(k, st)
	return (len(st.Pending) > 0 || len(st.Kills) > 0) && !st.RetryAt.After(now), nil
}

// compiled compiles the schedule's spec, or returns nil (and records why in the info) if it is
// invalid, in which case the schedule takes no scheduled action. Compiled specs are cached by
// their encoding: a spec with a time zone loads the zone, which is worth doing once.
func (s *Scheduler) compiled(st *state) Spec {
	ck, err := proto.MarshalOptions{Deterministic: true}.Marshal(st.Schedule.Spec)
	if err == nil {
		s.mu.Lock()
		sp, ok := s.specs[string(ck)]
		s.mu.Unlock()
		if ok {
			st.Info.InvalidScheduleError = ""
			return sp
		}
	}
	sp, _, cerr := s.cfg.Compile(st.Schedule.Spec)
	if cerr != nil {
		st.Info.InvalidScheduleError = cerr.Error()
		return nil
	}
	st.Info.InvalidScheduleError = ""
	if err == nil {
		s.mu.Lock()
		if len(s.specs) >= maxCachedSpecs {
			s.specs = map[string]Spec{}
		}
		s.specs[string(ck)] = sp
		s.mu.Unlock()
	}
	return sp
}

// maxCachedSpecs bounds the compiled-spec cache (emptied when full).
const maxCachedSpecs = 4096
