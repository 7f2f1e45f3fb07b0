package engine

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	querypb "go.temporal.io/api/query/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/tasktoken"
	"github.com/google/uuid"
)

// queryDoc is the data of a query record (relay.go): the query, who took it, and its answer.
type queryDoc struct {
	Owner      string    `json:"owner"` // the node whose QueryWorkflow call waits
	WorkflowID string    `json:"wf"`
	RunID      string    `json:"run"`
	Queue      string    `json:"queue"`
	Query      []byte    `json:"query"` // querypb.WorkflowQuery
	Created    time.Time `json:"created"`
	Taker      string    `json:"taker,omitempty"` // the node that handed it to a worker
	TakenAt    time.Time `json:"takenAt,omitzero"`
	Answered   bool      `json:"answered,omitempty"`
	Result     []byte    `json:"result,omitempty"` // commonpb.Payloads
	Failed     bool      `json:"failed,omitempty"`
	ErrMsg     string    `json:"error,omitempty"`
	Failure    []byte    `json:"failure,omitempty"` // failurepb.Failure
}

// queryDefaultWait bounds a query whose caller set no deadline (the SDK always sets one).
const queryDefaultWait = 70 * time.Second

// queryAcrossNodes is QueryWorkflow on a shared store: the query waits in a record for a poller of
// the run's task queue on any node, and its answer comes back through the record.
func (e *Engine) queryAcrossNodes(ctx context.Context, k execKey, queue store.TaskQueueKey, q *querypb.WorkflowQuery) (*QueryOutcome, error) {
	r := e.relay
	qb, err := proto.Marshal(q)
	if err != nil {
		return nil, internal(err)
	}
	now := e.clock.Now().UTC()
	deadline := now.Add(queryDefaultWait)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	id := uuid.NewString()
	// An answer given on this node (its worker answers here) comes straight through memory.
	qt := &queryTask{id: id, key: k, queue: queue, query: q, result: make(chan queryResult, 1)}
	e.queries.mu.Lock()
	e.queries.byID[id] = qt
	e.queries.mu.Unlock()
	defer func() {
		e.queries.mu.Lock()
		delete(e.queries.byID, id)
		e.queries.mu.Unlock()
	}()
	sub := r.answers.subscribe(id)
	defer sub.cancel()

	doc := queryDoc{Owner: r.cfg.Node, WorkflowID: k.workflowID, RunID: k.runID, Queue: queue.Name, Query: qb, Created: now}
	// The record stays until its caller's deadline at most; the sweeper deletes it after that.
	rec := store.Record{Namespace: k.namespace, Kind: kindQuery, Name: id, WakeAt: deadline.Add(time.Second)}
	version, err := e.putDoc(ctx, rec, doc, 0)
	if err != nil {
		if ctx.Err() != nil {
			return nil, canceled(ctx.Err())
		}
		return nil, unavailable(err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.store.DeleteRecord(dctx, k.namespace, kindQuery, id, 0); err != nil && !isNotFound(err) {
			e.log.Debug("relay: cannot delete a query record; the sweeper will", "query", id, "error", err)
		}
	}()
	e.announceWork(queue)

	tick := time.NewTicker(relayRecheck)
	defer tick.Stop()
	for {
		select {
		case res := <-qt.result:
			return queryOutcome(res)
		case <-ctx.Done():
			return nil, canceled(ctx.Err())
		case <-sub.ch:
		case <-tick.C:
		}
		var cur queryDoc
		got, err := e.getDoc(ctx, k.namespace, kindQuery, id, &cur)
		if err != nil {
			if ctx.Err() != nil {
				return nil, canceled(ctx.Err())
			}
			if isNotFound(err) {
				return nil, unavailable(errors.New("the query's record disappeared; retry"))
			}
			continue // the database is unreachable for now: the record is still there
		}
		version = got.Version
		if cur.Answered {
			return queryOutcome(cur.result())
		}
		now := e.clock.Now().UTC()
		switch {
		case cur.Taker == "":
			e.announceWork(queue) // in case the announcement was missed
		case r.gone(cur.Taker, cur.TakenAt, now, 0):
			// Taken by a node that died: offer it again (a worker of a live node answers until
			// the caller's deadline, as in Temporal).
			cur.Taker, cur.TakenAt = "", time.Time{}
			if v, err := e.putDoc(ctx, *got, cur, version); err == nil {
				version = v
				e.announceWork(queue)
			}
		}
	}
}

// announceWork tells this node's pollers and the other nodes that records wait for key.
func (e *Engine) announceWork(key store.TaskQueueKey) {
	e.relay.hintWork(key)
	if e.cfg.OnQuery != nil {
		e.cfg.OnQuery(key)
	}
	e.relay.cfg.PublishWork(key)
}

func (d *queryDoc) result() queryResult {
	if !d.Failed {
		res := queryResult{answer: &commonpb.Payloads{}}
		if len(d.Result) == 0 || proto.Unmarshal(d.Result, res.answer) != nil {
			res.answer = nil
		}
		return res
	}
	res := queryResult{failed: true, errMsg: d.ErrMsg, failure: &failurepb.Failure{}}
	if proto.Unmarshal(d.Failure, res.failure) != nil || len(d.Failure) == 0 {
		res.failure = &failurepb.Failure{Message: d.ErrMsg}
	}
	return res
}

// queryOutcome turns a worker's answer into QueryWorkflow's result.
func queryOutcome(res queryResult) (*QueryOutcome, error) {
	if res.failed {
		b, _ := proto.Marshal(res.failure)
		return nil, &Error{Code: CodeQueryFailed, Message: res.errMsg, QueryFailure: b}
	}
	return &QueryOutcome{Result: res.answer}, nil
}

// takeRelayed hands a poller of key what waits for it in records: a speculative workflow task
// carrying updates first, then a query. It reads the records only when a hint says some may
// wait, so an idle poll costs no database read. A database error does not fail the poll (it
// rides out an outage as its backlog reads do): the records are read again on its next turn.
func (e *Engine) takeRelayed(ctx context.Context, key store.TaskQueueKey) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	r := e.relay
	want, w := r.wants(key)
	if !want {
		return nil, nil
	}
	resp, err := e.takeSpecRecord(ctx, key)
	if resp == nil && err == nil {
		resp, err = e.takeQueryRecord(ctx, key)
	}
	if err != nil {
		if ctx.Err() == nil {
			e.log.Debug("relay: cannot read the records of a queue; looking again later", "queue", key.Name, "error", err)
		}
		return nil, nil
	}
	if resp == nil {
		r.settle(key, w)
	}
	return resp, nil
}

// takeQueryRecord takes the oldest query record waiting for key, if any, and builds its legacy
// query task.
func (e *Engine) takeQueryRecord(ctx context.Context, key store.TaskQueueKey) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	r := e.relay
	recs, err := e.store.ListRecords(ctx, key.Namespace, kindQuery, "", 0)
	if err != nil {
		return nil, unavailable(err)
	}
	now := e.clock.Now().UTC()
	for i := range recs {
		rec := &recs[i]
		var doc queryDoc
		if err := json.Unmarshal(rec.Data, &doc); err != nil || doc.Queue != key.Name || doc.Answered {
			continue
		}
		if doc.Taker != "" && !r.gone(doc.Taker, doc.TakenAt, now, 0) {
			continue
		}
		k := execKey{key.Namespace, doc.WorkflowID, doc.RunID}
		ms, err := e.loadStored(ctx, k)
		if err != nil && !isNotFound(err) {
			return nil, err
		}
		doc.Taker, doc.TakenAt = r.cfg.Node, now
		version, perr := e.putDoc(ctx, *rec, doc, rec.Version)
		if perr != nil {
			continue // taken by another poller first, answered, or gone
		}
		if err != nil {
			e.answerRecord(ctx, rec, &doc, version, queryResult{failed: true, errMsg: "workflow execution not found"})
			continue
		}
		q := &querypb.WorkflowQuery{}
		if err := proto.Unmarshal(doc.Query, q); err != nil {
			e.answerRecord(ctx, rec, &doc, version, queryResult{failed: true, errMsg: "malformed query record"})
			continue
		}
		events, err := e.readEvents(ctx, ms.Namespace, ms.RunID, 1, ms.NextEventID, 0)
		if err != nil {
			e.untakeQuery(ctx, rec, doc, version)
			return nil, err
		}
		return queryPoll(ms, rec.Name, q, events, doc.Created, now), nil
	}
	return nil, nil
}

// untakeQuery offers again a query this node took but could not hand to its worker.
func (e *Engine) untakeQuery(ctx context.Context, rec *store.Record, doc queryDoc, version int64) {
	doc.Taker, doc.TakenAt = "", time.Time{}
	if _, err := e.putDoc(ctx, *rec, doc, version); err == nil {
		e.announceWork(store.TaskQueueKey{Namespace: rec.Namespace, Name: doc.Queue, Kind: store.TaskWorkflow})
	}
}

// answerRecord writes an answer into a query record and tells its owner. A write that conflicts
// (the owner offered the query again meanwhile) is retried on the fresh record.
func (e *Engine) answerRecord(ctx context.Context, rec *store.Record, doc *queryDoc, version int64, res queryResult) error {
	for try := 0; ; try++ {
		doc.Answered, doc.Failed, doc.ErrMsg = true, res.failed, res.errMsg
		doc.Result, doc.Failure = nil, nil
		if res.answer != nil {
			doc.Result, _ = proto.Marshal(res.answer)
		}
		if res.failure != nil {
			doc.Failure, _ = proto.Marshal(res.failure)
		}
		_, err := e.putDoc(ctx, *rec, *doc, version)
		if err == nil {
			e.relay.answers.publish(rec.Name)
			e.relay.cfg.PublishAnswer(rec.Name)
			return nil
		}
		if !errors.Is(err, store.ErrConflict) || try == 3 {
			return err
		}
		var fresh queryDoc
		cur, gerr := e.getDoc(ctx, rec.Namespace, kindQuery, rec.Name, &fresh)
		if gerr != nil {
			return gerr
		}
		if fresh.Answered {
			return nil // another answer got there first
		}
		*doc, version, rec = fresh, cur.Version, cur
	}
}

// respondRelayed records a worker's answer to a query that waits on another node (or that this
// node handed to a worker for it). The token names the record; any node may take the answer.
func (e *Engine) respondRelayed(tok tasktoken.Token, res queryResult) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var doc queryDoc
	rec, err := e.getDoc(ctx, tok.Namespace, kindQuery, tok.QueryID, &doc)
	if err != nil {
		if isNotFound(err) {
			return notFound("query task not found, or already expired")
		}
		return unavailable(err)
	}
	if doc.WorkflowID != tok.WorkflowID || doc.RunID != tok.RunID {
		return notFound("query task not found, or already expired")
	}
	if doc.Answered {
		return nil
	}
	if err := e.answerRecord(ctx, rec, &doc, rec.Version, res); err != nil {
		if isNotFound(err) {
			return notFound("query task not found, or already expired")
		}
		return unavailable(err)
	}
	return nil
}
