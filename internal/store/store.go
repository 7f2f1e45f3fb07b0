// Package store defines Duro's storage seam: the rows the engine persists and the one interface every
// database driver implements (sqlite for the embedded default, postgres for scale-out).
//
// The engine owns all meaning; a driver only stores rows and enforces three guarantees:
//
//   - Apply commits transitions atomically. Each [Transition] is one execution's step: its new record,
//     the history events it appends, the task and timer rows it adds or consumes. All of it commits
//     or none of it does. Several transitions may share one database commit (group commit), each in
//     its own savepoint, so a conflict rolls back only the transition that caused it.
//   - Optimistic concurrency. An execution row carries a record version; a transition names the
//     version it read and fails with [ErrConflict] if another writer (on any node) got there first.
//     Consuming a task or timer row that is already gone is a conflict too: that is how two nodes
//     racing for the same task are fenced without any in-process coordination.
//   - Errors are translated at the edge: a driver returns [ErrNotFound], [ErrAlreadyExists] and
//     [ErrConflict] (wrapped with context), never its database library's errors.
//
// Blobs ([Execution.State], [Event.Data], [Task.Data], [Namespace.Data]) are opaque to drivers.
//
// Visibility: [Execution.Search] is indexed in a side table of typed values and a namespace's
// custom search attributes are registered beside it; [ExecutionFilter.Query] filters and sorts a
// listing with SQL that internal/visibility compiles over the schema both drivers share.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/duro-dev/duro/internal/visibility"
)

// Sentinel errors every driver returns (wrapped) so the engine can test them with errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means an insert met an existing row with the same key.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict means an optimistic-concurrency check failed: the execution's version moved, the
	// current-run pointer moved, or a task/timer row to consume was already consumed.
	ErrConflict = errors.New("conflict")
	// ErrConsumed is the [ErrConflict] of a transition that consumes a task or timer row another
	// transition already consumed. Unlike a moved version, retrying cannot help: the row is gone,
	// so its claimer moves on (errors.Is(err, ErrConflict) holds too).
	ErrConsumed = fmt.Errorf("row already consumed: %w", ErrConflict)
)

// Store is implemented by each database driver. All methods are safe for concurrent use.
type Store interface {
	// Apply commits ts in one database transaction, each transition in its own savepoint. The returned
	// slice has one entry per transition: nil if it committed, else why it was rolled back (typically
	// ErrConflict or ErrAlreadyExists). A non-nil second result means the commit as a whole failed
	// and none of the transitions is durable. On success Apply fills in the IDs of new task and timer
	// rows (Task.ID, Timer.ID) in place.
	Apply(ctx context.Context, ts []*Transition) ([]error, error)

	// GetExecution reads one run's record, including its opaque state and version.
	GetExecution(ctx context.Context, namespace, workflowID, runID string) (*Execution, error)
	// GetCurrent reads the current-run pointer of a workflow ID (the latest run, open or closed).
	GetCurrent(ctx context.Context, namespace, workflowID string) (*Current, error)
	// ReadEvents returns the run's events with fromID <= EventID < toID, in order, at most limit rows
	// (limit <= 0 means no limit). toID <= 0 means no upper bound.
	ReadEvents(ctx context.Context, namespace, runID string, fromID, toID int64, limit int) ([]Event, error)
	// ReadEventsReverse returns the run's events with EventID <= beforeOrAt, newest first, at most
	// limit rows (limit <= 0 means no limit). beforeOrAt <= 0 means from the last event.
	ReadEventsReverse(ctx context.Context, namespace, runID string, beforeOrAt int64, limit int) ([]Event, error)
	// DeleteExecution removes a run with its history, tasks and timers, and its current-run pointer
	// if that points at this run. Missing rows are not an error.
	DeleteExecution(ctx context.Context, namespace, workflowID, runID string) error

	// ListTasks returns up to limit task rows of one queue and kind, oldest (lowest ID) first, whose
	// VisibleAt is at or before now. Rows are hints: the engine validates each one against
	// the execution's state when it claims it (by naming it in Transition.DeleteTasks).
	ListTasks(ctx context.Context, q TaskQueueKey, now time.Time, limit int) ([]Task, error)
	// ClaimTasks is how a poller reads the backlog without racing the pollers of other nodes: it
	// returns up to limit rows of one queue and kind, oldest first, visible at now and held by no
	// other claim, and holds them until now+lease, so that no ClaimTasks call of any node sharing
	// the database returns them before then (a row whose claimer went away is handed out again
	// when the hold ends). Concurrent claims never wait for each other nor get the same row
	// (FOR UPDATE SKIP LOCKED on PostgreSQL, which keeps the hold in the row's VisibleAt). A claim
	// consumes nothing: the rows stay hints, consumed by the transition that starts them
	// (Transition.DeleteTasks). The rows come back as they were before the claim.
	ClaimTasks(ctx context.Context, q TaskQueueKey, now time.Time, lease time.Duration, limit int) ([]Task, error)
	// CountTasks counts the rows of one queue and kind (the backlog, for DescribeTaskQueue).
	CountTasks(ctx context.Context, q TaskQueueKey) (int64, error)
	// ListTimers returns up to limit timer rows with FireAt <= until, earliest first (ties by ID).
	ListTimers(ctx context.Context, until time.Time, limit int) ([]Timer, error)

	// ListExecutions returns executions of a namespace (State left empty), newest StartTime first
	// (ties by RunID descending), filtered by f, with keyset paging.
	ListExecutions(ctx context.Context, f ExecutionFilter) ([]Execution, error)
	// CountExecutions counts the executions matching f (paging fields ignored).
	CountExecutions(ctx context.Context, f ExecutionFilter) (int64, error)
	// CountExecutionsGroupBy counts the executions matching f per value of groupBy, which must be
	// "ExecutionStatus" (the one grouping Temporal's SQL visibility offers). Groups come in
	// ascending status order; statuses with no execution are left out.
	CountExecutionsGroupBy(ctx context.Context, f ExecutionFilter, groupBy string) ([]GroupCount, error)

	// AddSearchAttributes registers custom search attributes of a namespace (name → type), all
	// or none: a name already registered with the same type is left as it is, one registered with
	// another type fails the call with ErrAlreadyExists.
	AddSearchAttributes(ctx context.Context, namespace string, attrs map[string]visibility.Type) error
	// ListSearchAttributes returns a namespace's custom search attributes (empty, not an error, for
	// a namespace without any).
	ListSearchAttributes(ctx context.Context, namespace string) (map[string]visibility.Type, error)
	// RemoveSearchAttributes unregisters custom search attributes, all or none: ErrNotFound if one
	// of the names is not registered. Values already indexed under a removed name stay in the
	// store but no query can name them.
	RemoveSearchAttributes(ctx context.Context, namespace string, names []string) error

	// CreateNamespace inserts a namespace; ErrAlreadyExists if the name is taken.
	CreateNamespace(ctx context.Context, ns Namespace) error
	// UpdateNamespace replaces the namespace's Data; ErrNotFound if there is no such name.
	UpdateNamespace(ctx context.Context, ns Namespace) error
	// GetNamespace reads a namespace by name.
	GetNamespace(ctx context.Context, name string) (*Namespace, error)
	// ListNamespaces returns all namespaces ordered by name.
	ListNamespaces(ctx context.Context) ([]Namespace, error)

	// PutRecord inserts (expectedVersion 0; ErrAlreadyExists if the name is taken in that
	// namespace and kind) or updates a record only if its version still equals expectedVersion
	// (ErrConflict when it does not, ErrNotFound when there is no such record). It returns the
	// new version.
	PutRecord(ctx context.Context, r Record, expectedVersion int64) (int64, error)
	// GetRecord reads one record (ErrNotFound).
	GetRecord(ctx context.Context, namespace, kind, name string) (*Record, error)
	// DeleteRecord removes a record: expectedVersion 0 deletes whatever version is there,
	// otherwise only that version (ErrConflict). ErrNotFound if there is no such record.
	DeleteRecord(ctx context.Context, namespace, kind, name string, expectedVersion int64) error
	// ListRecords returns up to limit records of one namespace and kind whose names sort after
	// afterName (byte order), in name order (limit <= 0: no limit).
	ListRecords(ctx context.Context, namespace, kind, afterName string, limit int) ([]Record, error)
	// ListDueRecords returns up to limit records of a kind, in every namespace, whose WakeAt is
	// set and at or before until, earliest WakeAt first (ties by namespace, name).
	ListDueRecords(ctx context.Context, kind string, until time.Time, limit int) ([]Record, error)

	// Close releases the driver's connections.
	Close() error
}

// Namespace is a namespace row. Data is the engine's serialized namespace description.
type Namespace struct {
	ID        string
	Name      string
	Data      []byte
	CreatedAt time.Time
}

// Record is a named document the engine keeps beside executions: a state machine, an activity,
// a schedule, a batch operation. Kind says which; Data is opaque to the driver.
type Record struct {
	Namespace string
	Kind      string
	Name      string
	// Version is 1 after the insert and grows by 1 with each update; the store sets it.
	Version int64
	Data    []byte
	// WakeAt, if not zero, is when the record's owner wants to look at it again (indexed, for
	// ListDueRecords). Zero means never.
	WakeAt    time.Time
	CreatedAt time.Time // set by the store on insert (from the caller's r.CreatedAt if not zero)
	UpdatedAt time.Time // set by the store on every write (from r.UpdatedAt if not zero)
}

// Execution is one run's record: the engine's opaque mutable state plus the columns visibility
// queries filter and sort on. It is rewritten by every transition of the run.
type Execution struct {
	Namespace  string
	WorkflowID string
	RunID      string
	// Version is the record version, incremented by every transition. The driver stores what the
	// transition gives it; it compares against Transition.ExpectedVersion.
	Version int64
	// State is the engine's serialized mutable state (empty in list results).
	State []byte

	WorkflowType  string
	TaskQueue     string
	Status        int32 // enums.WorkflowExecutionStatus
	StartTime     time.Time
	ExecutionTime time.Time
	CloseTime     time.Time // zero while open
	HistoryLength int64
	// Memo and SearchAttributes are serialized protos, opaque to the driver.
	Memo             []byte
	SearchAttributes []byte
	// Search holds the run's search attribute values, typed for indexing (decoded by the engine
	// from SearchAttributes). In a transition, nil leaves the values the run has as they are and
	// a non-nil slice (even empty) replaces them all. Reads leave it nil.
	Search []visibility.Value
}

// Current points a workflow ID at its latest run.
type Current struct {
	Namespace      string
	WorkflowID     string
	RunID          string
	Status         int32 // enums.WorkflowExecutionStatus of that run
	StartRequestID string
	StartTime      time.Time
}

// CurrentUpdate moves a workflow ID's current-run pointer inside a transition.
type CurrentUpdate struct {
	// ExpectedRunID is the run the pointer must point at now; "" means no pointer may exist yet
	// (insert; ErrAlreadyExists if one does). A mismatch is ErrConflict.
	ExpectedRunID string
	Current       Current
}

// Event is one history event, serialized by the engine. Event IDs of a run are contiguous from 1.
type Event struct {
	EventID int64
	Data    []byte
}

// TaskKind says which queue family a task row belongs to.
type TaskKind int32

// Task kinds.
const (
	// TaskWorkflow is a workflow task for a remote SDK worker.
	TaskWorkflow TaskKind = 1
	// TaskActivity is an activity task for a remote SDK worker.
	TaskActivity TaskKind = 2
	// TaskInternal is work the engine does itself (an outbox: cross-execution effects, deletions).
	TaskInternal TaskKind = 3
)

// TaskQueueKey names one queue: a namespace, a task queue name and a kind.
type TaskQueueKey struct {
	Namespace string
	Name      string
	Kind      TaskKind
}

// Task is a task row: a hint that an execution has a task to hand out. It is inserted in the same
// transition as the event it follows from and deleted by the transition that claims it.
type Task struct {
	ID int64 // assigned by the store on insert
	TaskQueueKey
	WorkflowID       string
	RunID            string
	ScheduledEventID int64
	Attempt          int32
	CreatedAt        time.Time
	VisibleAt        time.Time // not handed out before this time
	Data             []byte    // engine-defined, optional
}

// Timer is a durable timer row: a hint that something of an execution is due at FireAt. The engine
// checks it against the execution's state when it fires.
type Timer struct {
	ID         int64 // assigned by the store on insert
	FireAt     time.Time
	Namespace  string
	WorkflowID string
	RunID      string
	Kind       int32 // engine-defined
	EventID    int64
	Attempt    int32
	Data       []byte // engine-defined, optional
}

// Transition is everything one step of one execution writes. Apply commits it whole or not at all.
type Transition struct {
	// ExpectedVersion is the version the engine read: 0 creates the execution row (ErrAlreadyExists
	// if it exists); otherwise the row is updated only if its version still equals it (ErrConflict).
	ExpectedVersion int64
	// Execution is the run's new record; Execution.Version is the new version.
	Execution Execution
	// Current, if set, moves the workflow ID's current-run pointer.
	Current *CurrentUpdate
	// Events are appended to the run's history (ErrAlreadyExists if an ID is taken).
	Events []Event
	// NewTasks and NewTimers are inserted; their IDs are filled in on success.
	NewTasks  []*Task
	NewTimers []*Timer
	// DeleteTasks and DeleteTimers are consumed: each row must still exist, else ErrConflict.
	DeleteTasks  []int64
	DeleteTimers []int64
	// DropRunTasksAndTimers deletes every remaining task and timer row of this run (on close). It
	// removes only rows that existed before the transition, never the ones it inserts.
	DropRunTasksAndTimers bool
	// Linked transitions commit or roll back together with this one, inside its savepoint, after
	// it: a run that continues as new (or retries) and the run it starts are one atomic step. An
	// error in a linked transition is reported as this transition's error. IDs of their new rows
	// are filled in like this transition's.
	Linked []*Transition
}

// ExecutionFilter selects executions for ListExecutions and CountExecutions. Zero fields do not filter.
type ExecutionFilter struct {
	Namespace    string
	WorkflowID   string
	WorkflowType string
	// Statuses, if non-empty, keeps only executions whose Status is one of these.
	Statuses []int32
	// PageSize limits the rows returned (<= 0: no limit).
	PageSize int
	// After, if set, continues a listing after this (StartTime, RunID) position.
	After *ListPosition
	// Query, if set, is a list filter (ANDed with the fields above). With an ORDER BY it sorts
	// the listing, which then pages by Offset instead of After.
	Query *visibility.Query
	// Offset skips this many rows of a listing whose Query has an ORDER BY.
	Offset int
}

// GroupCount is one group of CountExecutionsGroupBy.
type GroupCount struct {
	Status int32 // enums.WorkflowExecutionStatus
	Count  int64
}

// ListPosition is a keyset paging position in StartTime-descending, RunID-descending order.
type ListPosition struct {
	StartTime time.Time
	RunID     string
}
