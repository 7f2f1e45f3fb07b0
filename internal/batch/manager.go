package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/store"
	"github.com/google/uuid"
)

// Errors of the job API, for the frontend to map to Temporal's statuses.
var (
	// ErrNotFound: no job of that ID in the namespace.
	ErrNotFound = errors.New("batch operation not found")
	// ErrAlreadyExists: a job of that ID exists (running or finished, until its retention ends).
	ErrAlreadyExists = errors.New("batch operation already exists")
	// ErrTooMany: the namespace runs as many jobs as it may at once.
	ErrTooMany = errors.New("max concurrent batch operations is reached")
	// ErrNotRunning: the job to stop has already finished.
	ErrNotRunning = errors.New("batch operation already finished")
	// ErrUnsupported: an operation or reset target Duro does not run.
	ErrUnsupported = errors.New("not supported")
)

// Records is the part of the store a Manager uses: the generic records table that holds jobs,
// and the current-run pointers by which a reset job recognises the runs it created.
type Records interface {
	GetCurrent(ctx context.Context, namespace, workflowID string) (*store.Current, error)
	PutRecord(ctx context.Context, r store.Record, expectedVersion int64) (int64, error)
	GetRecord(ctx context.Context, namespace, kind, name string) (*store.Record, error)
	DeleteRecord(ctx context.Context, namespace, kind, name string, expectedVersion int64) error
	ListRecords(ctx context.Context, namespace, kind, afterName string, limit int) ([]store.Record, error)
	ListDueRecords(ctx context.Context, kind string, until time.Time, limit int) ([]store.Record, error)
}

// Defaults of [Config], Temporal's where it has one.
const (
	// DefaultMaxOperationsPerSecond is Temporal's worker.batcherRPS.
	DefaultMaxOperationsPerSecond = 50
	// DefaultMaxConcurrentPerNamespace is Temporal's frontend.MaxConcurrentBatchOperationPerNamespace.
	DefaultMaxConcurrentPerNamespace = 1
	// DefaultConcurrency is Temporal's worker.batcherConcurrency: operations of one job in flight.
	DefaultConcurrency = 5
	// DefaultLease is how long a node holds a job it works on before another node may take it
	// over (Temporal's batcher activity heartbeat timeout is 10 s too).
	DefaultLease = 10 * time.Second
	// DefaultTick is how often a node looks for due jobs.
	DefaultTick = time.Second
	// DefaultPageSize bounds the executions a job reads and checkpoints at a time.
	DefaultPageSize = 100
)

// Config wires a [Manager].
type Config struct {
	Store  Records
	Engine *engine.Engine
	Clock  clock.Clock
	Logger *slog.Logger
	// NodeID names this node in the jobs it owns (a random ID if empty).
	NodeID string
	// MaxOperationsPerSecond caps every job's rate: a request that asks for more, or for nothing,
	// gets this rate (Temporal's worker.batcherRPS).
	MaxOperationsPerSecond float64
	// MaxConcurrentPerNamespace bounds the running jobs of a namespace.
	MaxConcurrentPerNamespace int
	// Concurrency bounds the operations of one job in flight at once.
	Concurrency int
	// Lease, Tick and PageSize tune the loop (see the defaults).
	Lease    time.Duration
	Tick     time.Duration
	PageSize int
}

// withDefaults fills every unset field.
func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.NodeID == "" {
		c.NodeID = uuid.NewString()
	}
	if c.MaxOperationsPerSecond <= 0 {
		c.MaxOperationsPerSecond = DefaultMaxOperationsPerSecond
	}
	if c.MaxConcurrentPerNamespace <= 0 {
		c.MaxConcurrentPerNamespace = DefaultMaxConcurrentPerNamespace
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.Tick <= 0 || c.Tick > time.Second {
		c.Tick = DefaultTick
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	return c
}

// Manager starts, describes, lists and stops batch jobs, and its [Manager.Run] loop works
// through them. Every node runs one; jobs move between nodes through their records only.
type Manager struct {
	cfg   Config
	st    Records
	e     *engine.Engine
	clock clock.Clock
	log   *slog.Logger

	wake chan struct{}

	mu     sync.Mutex
	active map[jobKey]context.CancelFunc // jobs this node works on now
}

type jobKey struct{ namespace, id string }

// New builds a manager; Run must be running for jobs to make progress.
func New(cfg Config) *Manager {
	cfg = cfg.withDefaults()
	return &Manager{
		cfg: cfg, st: cfg.Store, e: cfg.Engine, clock: cfg.Clock, log: cfg.Logger,
		wake: make(chan struct{}, 1), active: map[jobKey]context.CancelFunc{},
	}
}

// now is the clock's time at the stores' precision (microseconds), so what is compared with
// stored times is what was stored.
func (m *Manager) now() time.Time { return m.clock.Now().UTC().Truncate(time.Microsecond) }

// Start records a new job and wakes the loop. The request's fields are validated by the frontend;
// Start checks what needs the store: the namespace, the query, the namespace's running jobs and
// the job ID. The estimate of the executions it will touch is counted now, as Temporal does when
// its batcher starts.
func (m *Manager) Start(ctx context.Context, req *workflowservice.StartBatchOperationRequest) error {
	ns, id := req.GetNamespace(), req.GetJobId()
	typ := opType(req)
	if typ == enumspb.BATCH_OPERATION_TYPE_UNSPECIFIED {
		return fmt.Errorf("batch operation %T: %w", req.GetOperation(), ErrUnsupported)
	}
	if _, err := m.e.Namespace(ctx, ns); err != nil {
		return err
	}
	now := m.now()
	var total int64
	if req.GetVisibilityQuery() != "" {
		f, err := m.filter(ctx, req, typ, now, false)
		if err != nil {
			return err
		}
		if total, err = m.e.CountWorkflows(ctx, f); err != nil {
			return err
		}
	} else {
		total = int64(len(targets(req)))
	}
	if err := m.checkConcurrency(ctx, ns); err != nil {
		return err
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode batch request: %w", err)
	}
	rate := float64(req.GetMaxOperationsPerSecond())
	if rate <= 0 || rate > m.cfg.MaxOperationsPerSecond {
		rate = m.cfg.MaxOperationsPerSecond
	}
	rec := &record{
		Request: raw, Type: int32(typ), State: int32(enumspb.BATCH_OPERATION_STATE_RUNNING),
		Identity: identityOf(req), StartTime: now, Rate: rate, Total: total,
	}
	data, err := rec.encode()
	if err != nil {
		return err
	}
	_, err = m.st.PutRecord(ctx, store.Record{Namespace: ns, Kind: Kind, Name: id, Data: data, WakeAt: now, CreatedAt: now, UpdatedAt: now}, 0)
	if errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("batch operation %q: %w", id, ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("record batch operation %q: %w", id, err)
	}
	m.log.Info("batch operation started", "namespace", ns, "job", id, "type", typ.String(), "estimate", total, "rate", rate)
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return nil
}

// checkConcurrency refuses a job when the namespace already runs its limit of them. Like
// Temporal's count-then-start, two starts racing may both pass.
func (m *Manager) checkConcurrency(ctx context.Context, ns string) error {
	running := 0
	after := ""
	for {
		page, err := m.st.ListRecords(ctx, ns, Kind, after, 500)
		if err != nil {
			return fmt.Errorf("list batch operations: %w", err)
		}
		for i := range page {
			rec, _, err := decode(&page[i])
			if err != nil {
				return err
			}
			if rec.running() {
				running++
			}
		}
		if running >= m.cfg.MaxConcurrentPerNamespace {
			return ErrTooMany
		}
		if len(page) < 500 {
			return nil
		}
		after = page[len(page)-1].Name
	}
}

// Describe reports one job.
func (m *Manager) Describe(ctx context.Context, ns, id string) (*Job, error) {
	if _, err := m.e.Namespace(ctx, ns); err != nil {
		return nil, err
	}
	r, err := m.st.GetRecord(ctx, ns, Kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("batch operation %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read batch operation %q: %w", id, err)
	}
	rec, req, err := decode(r)
	if err != nil {
		return nil, err
	}
	return rec.view(r, req), nil
}

// List reports up to limit jobs of a namespace whose IDs sort after afterID, in ID order, and the
// ID to list after for the next page ("" when there is none).
func (m *Manager) List(ctx context.Context, ns, afterID string, limit int) ([]*Job, string, error) {
	if _, err := m.e.Namespace(ctx, ns); err != nil {
		return nil, "", err
	}
	page, err := m.st.ListRecords(ctx, ns, Kind, afterID, limit)
	if err != nil {
		return nil, "", fmt.Errorf("list batch operations: %w", err)
	}
	jobs := make([]*Job, 0, len(page))
	for i := range page {
		rec, req, err := decode(&page[i])
		if err != nil {
			return nil, "", err
		}
		jobs = append(jobs, rec.view(&page[i], req))
	}
	next := ""
	if limit > 0 && len(page) == limit {
		next = page[len(page)-1].Name
	}
	return jobs, next, nil
}

// Stop ends a running job, as StopBatchOperation terminates Temporal's batcher workflow: its
// state becomes FAILED, with the counts it had reached at its last checkpoint. The node working
// on it notices at its next checkpoint (at once if it is this node) and does nothing more.
func (m *Manager) Stop(ctx context.Context, ns, id, reason, identity string) error {
	if _, err := m.e.Namespace(ctx, ns); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		r, err := m.st.GetRecord(ctx, ns, Kind, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("batch operation %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read batch operation %q: %w", id, err)
		}
		rec, _, err := decode(r)
		if err != nil {
			return err
		}
		if !rec.running() {
			return fmt.Errorf("batch operation %q: %w", id, ErrNotRunning)
		}
		now := m.now()
		rec.State = int32(enumspb.BATCH_OPERATION_STATE_FAILED)
		rec.CloseTime, rec.Owner = now, ""
		rec.StopReason, rec.StopIdentity = reason, identity
		err = m.put(ctx, r, rec, m.expiry(ctx, ns, now))
		if errors.Is(err, store.ErrConflict) && attempt < 20 {
			continue // the job checkpointed meanwhile: stop what it has now
		}
		if err != nil {
			return err
		}
		m.mu.Lock()
		cancel := m.active[jobKey{ns, id}]
		m.mu.Unlock()
		if cancel != nil {
			cancel()
		}
		m.log.Info("batch operation stopped", "namespace", ns, "job", id, "reason", reason)
		return nil
	}
}

// put writes rec over r (compare-and-set on r's version) with the given wake-up, and moves r to
// the new version.
func (m *Manager) put(ctx context.Context, r *store.Record, rec *record, wake time.Time) error {
	data, err := rec.encode()
	if err != nil {
		return err
	}
	next := *r
	next.Data, next.WakeAt, next.UpdatedAt = data, wake, m.now()
	v, err := m.st.PutRecord(ctx, next, r.Version)
	if err != nil {
		return fmt.Errorf("write batch operation %q: %w", r.Name, err)
	}
	next.Version = v
	*r = next
	return nil
}

// expiry is when a job that finished at closed is deleted: after its namespace's retention, as
// Temporal's batcher workflows are.
func (m *Manager) expiry(ctx context.Context, ns string, closed time.Time) time.Time {
	retention := engine.DefaultRetention
	if n, err := m.e.Namespace(ctx, ns); err == nil && n.Retention > 0 {
		retention = n.Retention
	}
	return closed.Add(retention)
}
