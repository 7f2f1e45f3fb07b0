package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/duro-dev/duro/internal/store"
	"github.com/google/uuid"
)

// updateDoc is the data of an update record (relay.go): an admitted update that the history does
// not hold yet, or a rejected one kept for a while.
type updateDoc struct {
	WorkflowID string    `json:"wf"`
	Queue      string    `json:"queue"`
	Request    []byte    `json:"request"` // updatepb.Request
	Admitted   time.Time `json:"admitted"`
	Rejected   bool      `json:"rejected,omitempty"`
	Outcome    []byte    `json:"outcome,omitempty"` // updatepb.Outcome of the rejection
}

// specDoc is the data of a run's speculative-task record: the task a poller should start for the
// run's updates, and who started it.
type specDoc struct {
	WorkflowID string        `json:"wf"`
	Queue      string        `json:"queue"`
	Scheduled  time.Time     `json:"scheduled"`
	Timeout    time.Duration `json:"timeout"` // the run's workflow task timeout
	Taker      string        `json:"taker,omitempty"`
	SpecID     string        `json:"spec,omitempty"` // the started task's ID (its token's QueryID)
	TakenAt    time.Time     `json:"takenAt,omitzero"`
}

// wantStage maps a wait policy to the stage a caller waits for.
func wantStage(wait enumspb.UpdateWorkflowExecutionLifecycleStage) updateStage {
	switch wait {
	case enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED:
		return stageAccepted
	case enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED:
		return stageAdmitted
	}
	return stageCompleted
}

// closedOutcome answers the updates still waiting on a run that closed.
func closedOutcome() *updatepb.Outcome {
	return &updatepb.Outcome{Value: &updatepb.Outcome_Failure{Failure: &failurepb.Failure{
		Message: "workflow execution already completed",
	}}}
}

// updateAcrossNodes is UpdateWorkflow on a shared store: the update is admitted into a record
// that a workflow task started on any node delivers; the caller's node waits for the history (an
// acceptance, a completion) or the record (a rejection) to show the stage it wants.
func (e *Engine) updateAcrossNodes(ctx context.Context, namespace, workflowID, runID string, req *updatepb.Request, wait enumspb.UpdateWorkflowExecutionLifecycleStage) (*UpdateOutcome, error) {
	id := req.GetMeta().GetUpdateId()
	reqBytes, err := proto.Marshal(req)
	if err != nil {
		return nil, internal(err)
	}
	var k execKey
	var ms *mutableState
	var done *UpdateOutcome
	err = func() error {
		// Under the workflow's lock, as on one node: a workflow task this node starts after the
		// admission sees the run's hint and carries the update.
		unlock := e.locks.Lock(lockKey(namespace, workflowID))
		defer unlock()
		run, err := e.resolveRun(ctx, namespace, workflowID, runID)
		if err != nil {
			return err
		}
		k = execKey{namespace, workflowID, run}
		if ms, err = e.loadStored(ctx, k); err != nil {
			return err
		}
		if done, err = e.admissible(ctx, k, ms, id); err != nil || done != nil {
			return err
		}
		return e.admitRecord(ctx, k, ms.TaskQueue, id, reqBytes)
	}()
	if err != nil || done != nil {
		return done, err
	}
	e.relay.cfg.PublishUpdates(k.runID)
	if ms.WFT == nil {
		e.ensureSpec(ctx, k, ms)
	}
	readmit := func(ctx context.Context, ms *mutableState) error {
		return e.admitRecord(ctx, k, ms.TaskQueue, id, reqBytes)
	}
	return e.waitAcrossNodes(ctx, k, id, wantStage(wait), readmit)
}

// admitRecord writes an update's record and hints the run on this node. An admitted record of
// the same update ID (a retry, or another node's admission) stays as it is; a rejected one is
// replaced, as in Temporal, where a rejected update leaves nothing to deduplicate against.
func (e *Engine) admitRecord(ctx context.Context, k execKey, queue, id string, reqBytes []byte) error {
	now := e.clock.Now().UTC()
	doc := updateDoc{WorkflowID: k.workflowID, Queue: queue, Request: reqBytes, Admitted: now}
	rec := store.Record{Namespace: k.namespace, Kind: kindUpdate, Name: updateName(k.runID, id), WakeAt: now.Add(updateRevisit)}
	_, err := e.putDoc(ctx, rec, doc, 0)
	if errors.Is(err, store.ErrAlreadyExists) {
		var old updateDoc
		cur, gerr := e.getDoc(ctx, k.namespace, kindUpdate, rec.Name, &old)
		switch {
		case gerr != nil:
			err = gerr
		case old.Rejected:
			_, err = e.putDoc(ctx, rec, doc, cur.Version)
		default:
			err = nil
		}
	}
	if err != nil && !errors.Is(err, store.ErrConflict) && !isNotFound(err) {
		return unavailable(err)
	}
	e.relay.hintRun(k.runID, now)
	return nil
}

// ensureSpec makes sure a speculative workflow task is offered for the run's updates: it writes
// the run's spec record unless one exists, and announces the queue.
func (e *Engine) ensureSpec(ctx context.Context, k execKey, ms *mutableState) {
	now := e.clock.Now().UTC()
	doc := specDoc{WorkflowID: k.workflowID, Queue: ms.TaskQueue, Scheduled: now, Timeout: ms.WorkflowTaskTimeout}
	rec := store.Record{Namespace: k.namespace, Kind: kindSpec, Name: k.runID, WakeAt: now.Add(ms.WorkflowTaskTimeout + specGrace)}
	if _, err := e.putDoc(ctx, rec, doc, 0); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		e.log.Debug("relay: cannot offer a speculative task; the caller retries", "run", k.runID, "error", err)
		return
	}
	e.announceWork(store.TaskQueueKey{Namespace: k.namespace, Name: ms.TaskQueue, Kind: store.TaskWorkflow})
}

// relayedUpdate is what the store says of one update.
type relayedUpdate struct {
	stage   updateStage // 0: no trace of it
	outcome *updatepb.Outcome
	ms      *mutableState
}

// updateState reads where an update stands: accepted or completed in the history, rejected or
// admitted in its record.
func (e *Engine) updateState(ctx context.Context, k execKey, id string) (relayedUpdate, error) {
	ms, err := e.loadStored(ctx, k)
	if err != nil {
		return relayedUpdate{}, err
	}
	st := relayedUpdate{ms: ms}
	if info := ms.Updates[id]; info != nil {
		out, err := e.persistedUpdate(ctx, k, id, info)
		if err != nil {
			return st, err
		}
		st.stage, st.outcome = stageAccepted, out.Outcome
		if out.Stage == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED {
			st.stage = stageCompleted
		}
		return st, nil
	}
	var doc updateDoc
	if _, err := e.getDoc(ctx, k.namespace, kindUpdate, updateName(k.runID, id), &doc); err != nil {
		if isNotFound(err) {
			return st, nil
		}
		return st, unavailable(err)
	}
	st.stage = stageAdmitted
	if doc.Rejected {
		st.stage, st.outcome = stageCompleted, &updatepb.Outcome{}
		if proto.Unmarshal(doc.Outcome, st.outcome) != nil {
			st.outcome = &updatepb.Outcome{Value: &updatepb.Outcome_Failure{Failure: &failurepb.Failure{Message: "update rejected"}}}
		}
	}
	return st, nil
}

// waitAcrossNodes waits until the update reaches want, the run closes, or the caller's deadline
// nears (then it answers the stage reached; the SDK asks again). It wakes on the run's history
// and update records changing, on any node, and re-reads them every second in any case; while
// the update waits for delivery it makes sure something will deliver it. readmit, if set,
// writes the update's record again if it is gone.
func (e *Engine) waitAcrossNodes(ctx context.Context, k execKey, id string, want updateStage, readmit func(context.Context, *mutableState) error) (*UpdateOutcome, error) {
	r := e.relay
	deadline := time.Now().Add(50 * time.Second)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < 55*time.Second {
		deadline = d.Add(-time.Second)
	}
	hist := e.history.subscribe(k.runID)
	defer hist.cancel()
	upd := r.updates.subscribe(k.runID)
	defer upd.cancel()
	tick := time.NewTicker(relayRecheck)
	defer tick.Stop()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	repair := false
	for {
		st, err := e.updateState(ctx, k, id)
		if err != nil {
			if ctx.Err() != nil {
				return nil, canceled(ctx.Err())
			}
			if !isUnavailable(err) {
				return nil, err
			}
		}
		switch {
		case err != nil:
			// The store is unreachable for now: look again at the next tick.
		case st.stage >= want:
			return &UpdateOutcome{RunID: k.runID, Stage: stageEnum(st.stage), Outcome: st.outcome}, nil
		case !st.ms.open():
			return &UpdateOutcome{RunID: k.runID, Stage: stageEnum(stageCompleted), Outcome: closedOutcome()}, nil
		case st.stage == 0 && readmit == nil:
			return nil, notFound("update %q not found", id)
		case st.stage == 0:
			if err := readmit(ctx, st.ms); err == nil {
				e.repairDelivery(ctx, k, st.ms)
			}
		case st.stage == stageAdmitted && repair:
			e.repairDelivery(ctx, k, st.ms)
		}
		repair = false
		select {
		case <-hist.ch:
		case <-upd.ch:
		case <-tick.C:
			repair = true
		case <-timer.C:
			stage := st.stage
			if stage == 0 {
				stage = stageAdmitted
			}
			return &UpdateOutcome{RunID: k.runID, Stage: stageEnum(stage)}, nil
		case <-ctx.Done():
			return nil, canceled(ctx.Err())
		}
	}
}

func isUnavailable(err error) bool {
	var ee *Error
	return errors.As(err, &ee) && ee.Code == CodeUnavailable
}

// repairDelivery makes sure an admitted update will reach a worker although an announcement may
// have been missed: a speculative task if the run has no workflow task, otherwise the run's hint
// again, for the node that starts or completes its workflow task.
func (e *Engine) repairDelivery(ctx context.Context, k execKey, ms *mutableState) {
	e.relay.hintRun(k.runID, e.clock.Now())
	if ms.WFT == nil {
		e.ensureSpec(ctx, k, ms)
		return
	}
	e.relay.cfg.PublishUpdates(k.runID)
}

// pollAcrossNodes is PollWorkflowExecutionUpdate on a shared store.
func (e *Engine) pollAcrossNodes(ctx context.Context, k execKey, id string, wait enumspb.UpdateWorkflowExecutionLifecycleStage) (*UpdateOutcome, error) {
	st, err := e.updateState(ctx, k, id)
	if err != nil {
		return nil, err
	}
	if st.stage == stageAccepted && !st.ms.open() {
		return nil, notFound("workflow execution already completed: update %q will never complete", id)
	}
	if st.stage == 0 {
		return nil, notFound("update %q not found", id)
	}
	if st.stage >= wantStage(wait) {
		return &UpdateOutcome{RunID: k.runID, Stage: stageEnum(st.stage), Outcome: st.outcome}, nil
	}
	return e.waitAcrossNodes(ctx, k, id, wantStage(wait), nil)
}

// undecidedMessages returns, as workflow task messages, the run's updates that are admitted in
// records and neither accepted (ms) nor rejected, and how many update records the run has.
func (e *Engine) undecidedMessages(ctx context.Context, k execKey, ms *mutableState, sequencingEventID int64) ([]*protocolpb.Message, int, error) {
	recs, err := e.listRunRecords(ctx, k)
	if err != nil {
		return nil, 0, err
	}
	var msgs []*protocolpb.Message
	for _, rec := range recs {
		var doc updateDoc
		if json.Unmarshal(rec.Data, &doc) != nil || doc.Rejected {
			continue
		}
		id := strings.TrimPrefix(rec.Name, k.runID+"/")
		if ms.Updates[id] != nil {
			continue // accepted: the history has it
		}
		req := &updatepb.Request{}
		if proto.Unmarshal(doc.Request, req) != nil {
			continue
		}
		body, err := anypb.New(req)
		if err != nil {
			continue
		}
		msgs = append(msgs, &protocolpb.Message{
			Id: id + "/request", ProtocolInstanceId: id, Body: body,
			SequencingId: &protocolpb.Message_EventId{EventId: sequencingEventID},
		})
	}
	return msgs, len(recs), nil
}

// pendingUpdateMessages returns the update requests a workflow task just started for run k
// carries: the run's pending updates in memory on one node; on a shared store the undecided ones
// of its records, read only when the run is hinted to have some.
func (e *Engine) pendingUpdateMessages(ctx context.Context, k execKey, sequencingEventID int64) []*protocolpb.Message {
	if e.relay == nil {
		return e.updates.takePending(k, sequencingEventID)
	}
	if !e.relay.hinted(k.runID) {
		return nil
	}
	// The claim that started the task has just cached the state; read it under the lock, as
	// the next transition may already be changing it.
	unlock := e.locks.Lock(lockKey(k.namespace, k.workflowID))
	defer unlock()
	ms, _, err := e.load(ctx, k)
	if err != nil {
		return nil
	}
	msgs, n, err := e.undecidedMessages(ctx, k, ms, sequencingEventID)
	if err != nil {
		e.log.Debug("relay: cannot read a run's updates; they are delivered later", "run", k.runID, "error", err)
		return nil
	}
	if n == 0 {
		e.relay.unhintRun(k.runID)
	}
	return msgs
}

// updatesPending reports, at the end of a workflow task's completion, whether updates are left
// that this task did not deliver or that its worker left undecided, so that a new workflow task
// must follow.
func (e *Engine) updatesPending(t *txn) bool {
	k := execKey{t.ms.Namespace, t.ms.WorkflowID, t.ms.RunID}
	if e.relay == nil {
		return e.updates.hasPending(k)
	}
	if !e.relay.hinted(k.runID) {
		return false
	}
	rejected := map[string]bool{}
	for _, m := range t.msgs {
		if m.GetBody().MessageIs(&updatepb.Rejection{}) {
			rejected[m.GetProtocolInstanceId()] = true
		}
	}
	msgs, _, err := e.undecidedMessages(t.ctx, k, t.ms, 0)
	if err != nil {
		e.log.Debug("relay: cannot read a run's updates; a waiting caller repairs", "run", k.runID, "error", err)
		return false
	}
	for _, m := range msgs {
		if !rejected[m.GetProtocolInstanceId()] {
			return true
		}
	}
	return false
}

// rejectRecords writes the rejections a worker sent into the updates' records, so that their
// callers, on any node, are answered.
func (e *Engine) rejectRecords(k execKey, msgs []*protocolpb.Message) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	changed := false
	for _, m := range msgs {
		rej := &updatepb.Rejection{}
		if !m.GetBody().MessageIs(rej) || m.GetBody().UnmarshalTo(rej) != nil {
			continue
		}
		outcome, err := proto.Marshal(&updatepb.Outcome{Value: &updatepb.Outcome_Failure{Failure: rej.GetFailure()}})
		if err != nil {
			continue
		}
		name := updateName(k.runID, m.GetProtocolInstanceId())
		for try := 0; try < 3; try++ {
			var doc updateDoc
			rec, err := e.getDoc(ctx, k.namespace, kindUpdate, name, &doc)
			if err != nil || doc.Rejected {
				break
			}
			doc.Rejected, doc.Outcome = true, outcome
			rec.WakeAt = e.clock.Now().UTC().Add(rejectedRetention)
			if _, err = e.putDoc(ctx, *rec, doc, rec.Version); err == nil {
				changed = true
				break
			}
			if !errors.Is(err, store.ErrConflict) {
				e.log.Warn("relay: cannot record an update's rejection; it is delivered again", "update", name, "error", err)
				break
			}
		}
	}
	if changed {
		e.relay.updates.publish(k.runID)
		e.relay.cfg.PublishUpdates(k.runID)
	}
}

// forgetUpdateRecord deletes the record of an update the history now holds (accepted).
func (e *Engine) forgetUpdateRecord(k execKey, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.store.DeleteRecord(ctx, k.namespace, kindUpdate, updateName(k.runID, id), 0); err != nil && !isNotFound(err) {
		e.log.Debug("relay: cannot delete an accepted update's record; the sweeper will", "update", id, "error", err)
	}
}

// takeSpecRecord takes a speculative-task record waiting for key, if any, and starts the task.
func (e *Engine) takeSpecRecord(ctx context.Context, key store.TaskQueueKey) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	r := e.relay
	recs, err := e.store.ListRecords(ctx, key.Namespace, kindSpec, "", 0)
	if err != nil {
		return nil, unavailable(err)
	}
	now := e.clock.Now().UTC()
	for i := range recs {
		rec := &recs[i]
		var doc specDoc
		if json.Unmarshal(rec.Data, &doc) != nil || doc.Queue != key.Name {
			continue
		}
		if doc.Taker != "" && !r.gone(doc.Taker, doc.TakenAt, now, doc.Timeout+specGrace) {
			continue
		}
		doc.Taker, doc.SpecID, doc.TakenAt = r.cfg.Node, uuid.NewString(), now
		rec.WakeAt = now.Add(doc.Timeout + specGrace)
		if _, err := e.putDoc(ctx, *rec, doc, rec.Version); err != nil {
			continue // another poller took it first, or it is gone
		}
		resp, err := e.startSpecFromRecord(ctx, key, execKey{key.Namespace, doc.WorkflowID, rec.Name}, doc)
		if resp != nil || err != nil {
			return resp, err
		}
	}
	return nil, nil
}

// startSpecFromRecord starts, in this node's memory, the speculative task a spec record this node
// just took stands for — as startSpeculative does on one node — with the run's undecided updates.
// It gives the record back (or deletes it) when there is nothing to start.
func (e *Engine) startSpecFromRecord(ctx context.Context, key store.TaskQueueKey, k execKey, doc specDoc) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	unlock := e.locks.Lock(lockKey(k.namespace, k.workflowID))
	defer unlock()
	e.dropCache(k) // another node may have moved the run: start from the stored state
	ms, _, err := e.load(ctx, k)
	if err != nil {
		e.giveBackSpec(ctx, k, doc.SpecID, nil)
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	msgs, _, err := e.undecidedMessages(ctx, k, ms, ms.NextEventID)
	if err != nil || !ms.open() || ms.WFT != nil || len(msgs) == 0 {
		e.giveBackSpec(ctx, k, doc.SpecID, ms)
		return nil, err
	}
	spec := &speculativeWFT{id: doc.SpecID, scheduledID: ms.NextEventID, startedID: ms.NextEventID + 1,
		scheduled: doc.Scheduled, started: e.clock.Now().UTC(), taken: true, queue: key}
	e.updates.mu.Lock()
	e.updates.run(k).spec = spec
	e.updates.mu.Unlock()

	w := &workflowTask{ScheduledEventID: spec.scheduledID, StartedEventID: spec.startedID, Attempt: 1, TaskQueue: ms.TaskQueue,
		ScheduledTime: spec.scheduled, StartedTime: spec.started}
	hist, token, err := e.readTaskHistory(ctx, ms.Namespace, ms.WorkflowID, ms.RunID, 1, spec.startedID, transientEvents(ms, w, e.cfg))
	if err != nil {
		e.dropSpec(k, spec)
		e.giveBackSpec(ctx, k, spec.id, ms)
		return nil, err
	}
	time.AfterFunc(ms.WorkflowTaskTimeout, func() { e.expireSpeculative(k, spec) })
	return speculativePoll(ms, spec, hist, token, msgs), nil
}

// dropSpec forgets a speculative task of this node's memory, if it is still the run's.
func (e *Engine) dropSpec(k execKey, spec *speculativeWFT) {
	e.updates.mu.Lock()
	if ru := e.updates.runs[k]; ru != nil && ru.spec == spec {
		ru.spec = nil
		e.updates.forgetIfIdle(k, ru)
	}
	e.updates.mu.Unlock()
}

// giveBackSpec ends this node's hold on a run's spec record once its speculative task specID is
// over: the record is offered again when undecided updates are left for a speculative task to
// carry (the run has no workflow task), and deleted otherwise (a real workflow task carries them,
// or nothing is left). ms, if set, is the run's current state. A record another node holds now
// is left alone.
func (e *Engine) giveBackSpec(ctx context.Context, k execKey, specID string, ms *mutableState) {
	var doc specDoc
	rec, err := e.getDoc(ctx, k.namespace, kindSpec, k.runID, &doc)
	if err != nil || doc.SpecID != specID || doc.Taker != e.relay.cfg.Node {
		return
	}
	if ms == nil {
		if ms, err = e.loadStored(ctx, k); err != nil {
			if isNotFound(err) {
				_ = e.store.DeleteRecord(ctx, k.namespace, kindSpec, k.runID, rec.Version)
			}
			return // the sweeper gives it back once its lease has passed
		}
	}
	if ms.open() && ms.WFT == nil {
		if msgs, _, err := e.undecidedMessages(ctx, k, ms, 0); err == nil && len(msgs) > 0 {
			now := e.clock.Now().UTC()
			doc.Taker, doc.SpecID, doc.TakenAt, doc.Scheduled = "", "", time.Time{}, now
			rec.WakeAt = now.Add(doc.Timeout + specGrace)
			if _, err := e.putDoc(ctx, *rec, doc, rec.Version); err == nil {
				e.announceWork(store.TaskQueueKey{Namespace: k.namespace, Name: doc.Queue, Kind: store.TaskWorkflow})
			}
			return
		}
	}
	if err := e.store.DeleteRecord(ctx, k.namespace, kindSpec, k.runID, rec.Version); err != nil && !isNotFound(err) && !errors.Is(err, store.ErrConflict) {
		e.log.Debug("relay: cannot delete a spec record; the sweeper will", "run", k.runID, "error", err)
	}
}

// sweepSpec looks at a spec record whose lease or offer is due: it is deleted when no speculative
// task is needed any more, given back when its taker is gone, and looked at again later otherwise.
func (e *Engine) sweepSpec(ctx context.Context, rec *store.Record, now time.Time) error {
	var doc specDoc
	if err := json.Unmarshal(rec.Data, &doc); err != nil {
		return e.store.DeleteRecord(ctx, rec.Namespace, rec.Kind, rec.Name, rec.Version)
	}
	k := execKey{rec.Namespace, doc.WorkflowID, rec.Name}
	ms, err := e.loadStored(ctx, k)
	if err != nil {
		if isNotFound(err) {
			return e.store.DeleteRecord(ctx, rec.Namespace, rec.Kind, rec.Name, rec.Version)
		}
		return err
	}
	msgs, _, err := e.undecidedMessages(ctx, k, ms, 0)
	if err != nil {
		return err
	}
	if !ms.open() || ms.WFT != nil || len(msgs) == 0 {
		return e.store.DeleteRecord(ctx, rec.Namespace, rec.Kind, rec.Name, rec.Version)
	}
	lease := doc.Timeout + specGrace
	if doc.Taker != "" && !e.relay.gone(doc.Taker, doc.TakenAt, now, lease) {
		rec.WakeAt = doc.TakenAt.Add(lease)
		if !rec.WakeAt.After(now) {
			rec.WakeAt = now.Add(relaySweep)
		}
		_, err := e.putDoc(ctx, *rec, doc, rec.Version)
		return err
	}
	// Untaken (its announcement missed), or taken by a node that died: offer it again.
	doc.Taker, doc.SpecID, doc.TakenAt = "", "", time.Time{}
	rec.WakeAt = now.Add(lease)
	if _, err := e.putDoc(ctx, *rec, doc, rec.Version); err != nil {
		return err
	}
	e.announceWork(store.TaskQueueKey{Namespace: k.namespace, Name: doc.Queue, Kind: store.TaskWorkflow})
	return nil
}

// sweepUpdate looks at an update record whose time has come: deleted once the history holds the
// update, the run is gone or closed, or its rejection has been kept long enough; otherwise (no
// worker has decided it yet) its delivery is made sure of again.
func (e *Engine) sweepUpdate(ctx context.Context, rec *store.Record, now time.Time) error {
	var doc updateDoc
	runID, id, ok := strings.Cut(rec.Name, "/")
	if json.Unmarshal(rec.Data, &doc) != nil || !ok || doc.Rejected {
		return e.store.DeleteRecord(ctx, rec.Namespace, rec.Kind, rec.Name, rec.Version)
	}
	k := execKey{rec.Namespace, doc.WorkflowID, runID}
	ms, err := e.loadStored(ctx, k)
	if err != nil {
		if isNotFound(err) {
			return e.store.DeleteRecord(ctx, rec.Namespace, rec.Kind, rec.Name, rec.Version)
		}
		return err
	}
	if !ms.open() || ms.Updates[id] != nil {
		return e.store.DeleteRecord(ctx, rec.Namespace, rec.Kind, rec.Name, rec.Version)
	}
	rec.WakeAt = now.Add(updateRevisit)
	if _, err := e.putDoc(ctx, *rec, doc, rec.Version); err != nil {
		return err
	}
	e.repairDelivery(ctx, k, ms)
	return nil
}
