package engine

import (
	"context"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	querypb "go.temporal.io/api/query/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/tasktoken"
	"github.com/google/uuid"
)

// Queries are answered by a worker through legacy query tasks (temporal-protocol.md §5): the query
// is handed to a poller of the workflow's task queue with the full history, and the answer comes
// back in RespondQueryTaskCompleted. Queries change nothing, so they are not persisted in the
// history. On a single-node store a query waits in this node's memory until a poller of this node
// takes it or its caller gives up; on a store shared by several nodes it waits in a record that a
// poller of any node can take (relay.go, relay_query.go).

type queryTask struct {
	id     string
	key    execKey
	queue  store.TaskQueueKey
	query  *querypb.WorkflowQuery
	result chan queryResult
	taken  bool
}

type queryResult struct {
	answer  *commonpb.Payloads
	errMsg  string
	failure *failurepb.Failure
	failed  bool
}

type queryRegistry struct {
	mu      sync.Mutex
	pending map[store.TaskQueueKey][]*queryTask
	byID    map[string]*queryTask
}

func newQueryRegistry() *queryRegistry {
	return &queryRegistry{pending: map[store.TaskQueueKey][]*queryTask{}, byID: map[string]*queryTask{}}
}

func (r *queryRegistry) add(q *queryTask) {
	r.mu.Lock()
	r.pending[q.queue] = append(r.pending[q.queue], q)
	r.byID[q.id] = q
	r.mu.Unlock()
}

func (r *queryRegistry) remove(q *queryTask) {
	r.mu.Lock()
	delete(r.byID, q.id)
	list := r.pending[q.queue]
	for i, p := range list {
		if p == q {
			r.pending[q.queue] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(r.pending[q.queue]) == 0 {
		delete(r.pending, q.queue)
	}
	r.mu.Unlock()
}

func (r *queryRegistry) take(queue store.TaskQueueKey) *queryTask {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.pending[queue]
	if len(list) == 0 {
		return nil
	}
	q := list[0]
	r.pending[queue] = list[1:]
	if len(r.pending[queue]) == 0 {
		delete(r.pending, queue)
	}
	q.taken = true
	return q
}

// QueryOutcome is the answer to QueryWorkflow.
type QueryOutcome struct {
	Result *commonpb.Payloads
	// Rejected is set (to the run's status) when the reject condition refused the query.
	Rejected enumspb.WorkflowExecutionStatus
}

// QueryWorkflow asks a worker to answer a query against the run's current state.
func (e *Engine) QueryWorkflow(ctx context.Context, namespace, workflowID, runID string, q *querypb.WorkflowQuery, reject enumspb.QueryRejectCondition) (*QueryOutcome, error) {
	if _, err := e.ns.get(ctx, namespace); err != nil {
		return nil, err
	}
	runID, err := e.resolveRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return nil, err
	}
	rec, err := e.store.GetExecution(ctx, namespace, workflowID, runID)
	if err != nil {
		if isNotFound(err) {
			return nil, notFound("workflow execution not found: workflow ID %q, run ID %q", workflowID, runID)
		}
		return nil, unavailable(err)
	}
	status := enumspb.WorkflowExecutionStatus(rec.Status)
	switch reject {
	case enumspb.QUERY_REJECT_CONDITION_NOT_OPEN:
		if status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return &QueryOutcome{Rejected: status}, nil
		}
	case enumspb.QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY:
		if status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			return &QueryOutcome{Rejected: status}, nil
		}
	}
	if rec.TaskQueue == SFNTaskQueue && isSFN(rec) {
		// No worker runs a state machine: the query would wait for a workflow task forever.
		return nil, &Error{Code: CodeQueryFailed, Message: "a Step Functions execution answers no queries: use DescribeExecution or GetExecutionHistory"}
	}
	queue := store.TaskQueueKey{Namespace: namespace, Name: rec.TaskQueue, Kind: store.TaskWorkflow}
	if err := e.awaitQueryable(ctx, execKey{namespace, workflowID, runID}, rec); err != nil {
		return nil, err
	}
	if e.relay != nil {
		return e.queryAcrossNodes(ctx, execKey{namespace, workflowID, runID}, queue, q)
	}
	qt := &queryTask{
		id:     uuid.NewString(),
		key:    execKey{namespace, workflowID, runID},
		queue:  queue,
		query:  q,
		result: make(chan queryResult, 1),
	}
	e.queries.add(qt)
	defer e.queries.remove(qt)
	if e.cfg.OnQuery != nil {
		e.cfg.OnQuery(qt.queue)
	}
	select {
	case res := <-qt.result:
		return queryOutcome(res)
	case <-ctx.Done():
		return nil, canceled(ctx.Err())
	}
}

// queryRecheck is how often a query waiting for a workflow task looks at its run again, beside
// the wake-ups of its history (a transient workflow task attempt appends nothing).
const queryRecheck = 200 * time.Millisecond

// failingWFTAttempt is the workflow task attempt from which a query fails at once, as Temporal's
// (the worker cannot answer while its workflow task keeps failing).
const failingWFTAttempt = 3

// awaitQueryable waits until a query of run k can be answered consistently, as Temporal orders
// it: a query sees every event recorded before it arrived, so while a workflow task is pending
// or running (a signal, say, that the workflow has not yet seen) the query waits for that task to
// complete; then the worker answers from the whole history, as a legacy query task. It fails
// with WorkflowNotReady, as Temporal, when the run closed before any workflow task completed,
// when its first workflow task is not due before the caller's deadline (a start delay or a
// cron or retry backoff), and when its workflow task keeps failing. rec is the run's record as
// the caller read it (the first look needs no read of its own).
func (e *Engine) awaitQueryable(ctx context.Context, k execKey, rec *store.Execution) error {
	sub := e.history.subscribe(k.runID)
	defer sub.cancel()
	tick := time.NewTicker(queryRecheck)
	defer tick.Stop()
	for {
		var ms *mutableState
		var err error
		if rec != nil {
			ms, err = decodeState(rec.State)
			rec = nil
		} else {
			ms, err = e.loadStored(ctx, k)
		}
		if err != nil {
			return internal(err)
		}
		w := ms.WFT
		switch {
		case !ms.open():
			if ms.LastCompletedWFTStartedID == 0 {
				return newErr(CodeWorkflowNotReady, "Workflow execution closed before WorkflowTaskStarted event.")
			}
			return nil
		case w != nil && w.Attempt >= failingWFTAttempt:
			return newErr(CodeWorkflowNotReady, "Unable to query workflow due to Workflow Task in failed state.")
		case w == nil && ms.LastCompletedWFTStartedID == 0:
			// No workflow task yet: the first one waits for a start delay or a backoff.
			if d, ok := ctx.Deadline(); ok && ms.ExecutionTime.After(d) {
				return newErr(CodeWorkflowNotReady, "Workflow task is not scheduled yet.")
			}
		case w == nil:
			return nil // the worker has seen every event: answer now
		}
		select {
		case <-sub.ch:
		case <-tick.C:
		case <-ctx.Done():
			return canceled(ctx.Err())
		}
	}
}

// TakeQuery hands a poller what waits for it in memory (or, on a shared store, in records): a
// speculative workflow task carrying updates, or a pending query as a legacy query task with the
// run's full history. It returns nil when nothing waits.
func (e *Engine) TakeQuery(ctx context.Context, queue store.TaskQueueKey) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	if e.relay != nil {
		return e.takeRelayed(ctx, queue)
	}
	if resp, err := e.takeSpeculative(ctx, queue); resp != nil || err != nil {
		return resp, err
	}
	for {
		qt := e.queries.take(queue)
		if qt == nil {
			return nil, nil
		}
		rec, err := e.store.GetExecution(ctx, qt.key.namespace, qt.key.workflowID, qt.key.runID)
		if err != nil {
			qt.result <- queryResult{failed: true, errMsg: "workflow execution not found"}
			continue
		}
		ms, err := decodeState(rec.State)
		if err != nil {
			return nil, internal(err)
		}
		events, err := e.readEvents(ctx, ms.Namespace, ms.RunID, 1, ms.NextEventID, 0)
		if err != nil {
			return nil, err
		}
		now := e.clock.Now()
		return queryPoll(ms, qt.id, qt.query, events, now, now), nil
	}
}

// queryPoll is the poll response of a legacy query task (this node's or one delivered across
// nodes): the run's whole history and the query.
func queryPoll(ms *mutableState, queryID string, q *querypb.WorkflowQuery, events []*historypb.HistoryEvent, scheduled, started time.Time) *workflowservice.PollWorkflowTaskQueueResponse {
	return &workflowservice.PollWorkflowTaskQueueResponse{
		TaskToken: tasktoken.Encode(tasktoken.Token{Kind: tasktoken.Query, Namespace: ms.Namespace, WorkflowID: ms.WorkflowID,
			RunID: ms.RunID, QueryID: queryID, Attempt: 1}),
		WorkflowExecution:          execution(ms),
		WorkflowType:               workflowType(ms),
		PreviousStartedEventId:     ms.LastCompletedWFTStartedID,
		Attempt:                    1,
		History:                    historyOf(events),
		Query:                      q,
		WorkflowExecutionTaskQueue: &taskqueuepb.TaskQueue{Name: ms.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		ScheduledTime:              timestamppb.New(scheduled),
		StartedTime:                timestamppb.New(started),
	}
}

// RespondQuery delivers a worker's answer to the waiting QueryWorkflow call: through memory when
// the call waits on this node, else (on a shared store) through the query's record.
func (e *Engine) RespondQuery(tok tasktoken.Token, req *workflowservice.RespondQueryTaskCompletedRequest) error {
	res := queryResult{answer: req.GetQueryResult()}
	if req.GetCompletedType() == enumspb.QUERY_RESULT_TYPE_FAILED {
		res = queryResult{failed: true, errMsg: req.GetErrorMessage(), failure: req.GetFailure()}
		if res.failure == nil {
			res.failure = &failurepb.Failure{Message: req.GetErrorMessage()}
		}
	}
	e.queries.mu.Lock()
	qt := e.queries.byID[tok.QueryID]
	e.queries.mu.Unlock()
	if qt == nil && e.relay != nil {
		return e.respondRelayed(tok, res)
	}
	if qt == nil || qt.key != (execKey{tok.Namespace, tok.WorkflowID, tok.RunID}) {
		return notFound("query task not found, or already expired")
	}
	select {
	case qt.result <- res:
	default:
	}
	return nil
}

// isSFN reports whether a run's record is a Step Functions execution (decoding its state: call
// it only for runs on SFNTaskQueue).
func isSFN(rec *store.Execution) bool {
	ms, err := decodeState(rec.State)
	return err == nil && ms.SFN != nil
}
