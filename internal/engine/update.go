package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	updatepb "go.temporal.io/api/update/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/tasktoken"
	"github.com/google/uuid"
)

// Workflow Update (temporal-protocol.md §9). An update is admitted in this node's memory, handed to
// the worker in a workflow task's messages, and becomes durable only when the worker accepts it
// (WorkflowExecutionUpdateAccepted, then ...Completed). A run with no workflow task pending gets a
// speculative one that exists only in memory: if the worker rejects every update on it and issues
// no command, nothing is written and the worker is told to forget the task's events
// (reset_history_event_id). A rejected update never touches the history.
//
// On a store shared by several nodes the admitted updates and the need for a speculative task
// live in records instead, so that a poller of any node delivers them (relay.go,
// relay_update.go); the speculative task itself still lives in the memory of the node that
// started it, and the rest of this file serves it.

// updateStage mirrors enumspb.UpdateWorkflowExecutionLifecycleStage.
type updateStage int

const (
	stageAdmitted updateStage = iota + 1
	stageAccepted
	stageCompleted
)

type updateReq struct {
	id      string
	key     execKey
	request *updatepb.Request
	stage   updateStage
	outcome *updatepb.Outcome
	changed chan struct{} // closed (and replaced) on every stage change
}

// speculativeWFT is an in-memory workflow task of a run.
type speculativeWFT struct {
	id          string
	scheduledID int64
	startedID   int64
	scheduled   time.Time
	started     time.Time
	taken       bool
	queue       store.TaskQueueKey
}

type runUpdates struct {
	pending []*updateReq          // admitted, not yet delivered
	byID    map[string]*updateReq // admitted or accepted, in memory
	spec    *speculativeWFT
}

type updateRegistry struct {
	mu    sync.Mutex
	runs  map[execKey]*runUpdates
	queue map[store.TaskQueueKey][]execKey // runs with an untaken speculative task, per queue
}

func newUpdateRegistry() *updateRegistry {
	return &updateRegistry{runs: map[execKey]*runUpdates{}, queue: map[store.TaskQueueKey][]execKey{}}
}

func (r *updateRegistry) run(k execKey) *runUpdates {
	ru := r.runs[k]
	if ru == nil {
		ru = &runUpdates{byID: map[string]*updateReq{}}
		r.runs[k] = ru
	}
	return ru
}

func (r *updateRegistry) setStage(u *updateReq, st updateStage, outcome *updatepb.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u.stage = st
	if outcome != nil {
		u.outcome = outcome
	}
	close(u.changed)
	u.changed = make(chan struct{})
	if st == stageCompleted {
		if ru := r.runs[u.key]; ru != nil {
			delete(ru.byID, u.id)
			r.forgetIfIdle(u.key, ru)
		}
	}
}

// forgetIfIdle drops a run's entry once nothing of it is left in memory. Called with r.mu held.
func (r *updateRegistry) forgetIfIdle(k execKey, ru *runUpdates) {
	if len(ru.byID) == 0 && len(ru.pending) == 0 && ru.spec == nil {
		delete(r.runs, k)
	}
}

// closeRun answers every update still waiting on a run that has closed, and forgets the run.
func (r *updateRegistry) closeRun(k execKey) {
	r.mu.Lock()
	ru := r.runs[k]
	if ru == nil {
		r.mu.Unlock()
		return
	}
	delete(r.runs, k)
	waiting := make([]*updateReq, 0, len(ru.byID))
	for _, u := range ru.byID {
		waiting = append(waiting, u)
	}
	r.mu.Unlock()
	outcome := &updatepb.Outcome{Value: &updatepb.Outcome_Failure{Failure: &failurepb.Failure{
		Message: "workflow execution already completed",
	}}}
	for _, u := range waiting {
		r.mu.Lock()
		u.stage, u.outcome = stageCompleted, outcome
		close(u.changed)
		u.changed = make(chan struct{})
		r.mu.Unlock()
	}
}

// takePending moves a run's admitted updates into a workflow task's messages.
func (r *updateRegistry) takePending(k execKey, sequencingEventID int64) []*protocolpb.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru := r.runs[k]
	if ru == nil {
		return nil
	}
	var msgs []*protocolpb.Message
	for _, u := range ru.pending {
		body, err := anypb.New(u.request)
		if err != nil {
			continue
		}
		msgs = append(msgs, &protocolpb.Message{
			Id: u.id + "/request", ProtocolInstanceId: u.id, Body: body,
			SequencingId: &protocolpb.Message_EventId{EventId: sequencingEventID},
		})
	}
	ru.pending = nil
	return msgs
}

func (r *updateRegistry) hasPending(k execKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru := r.runs[k]
	return ru != nil && len(ru.pending) > 0
}

// requeueInFlight puts a run's delivered-but-unanswered updates back to pending (their task died).
func (r *updateRegistry) requeueInFlight(k execKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ru := r.runs[k]
	if ru == nil {
		return
	}
	ru.pending = ru.pending[:0]
	for _, u := range ru.byID {
		if u.stage == stageAdmitted {
			ru.pending = append(ru.pending, u)
		}
	}
}

// UpdateOutcome answers UpdateWorkflowExecution and PollWorkflowExecutionUpdate.
type UpdateOutcome struct {
	RunID   string
	Stage   enumspb.UpdateWorkflowExecutionLifecycleStage
	Outcome *updatepb.Outcome
}

// admissible decides whether update id may be admitted to run k (state ms), on either path:
// the outcome of an update the run already recorded, an error for a run that takes none, or
// (nil, nil) to admit it.
func (e *Engine) admissible(ctx context.Context, k execKey, ms *mutableState, id string) (*UpdateOutcome, error) {
	if info := ms.Updates[id]; info != nil {
		return e.persistedUpdate(ctx, k, id, info)
	}
	if !ms.open() {
		return nil, notFound("workflow execution already completed")
	}
	if ms.SFN != nil {
		return nil, errSFNUpdate
	}
	return nil, nil
}

// errSFNUpdate refuses an update of a Step Functions execution: no worker runs a state machine,
// so the update would wait for a workflow task forever.
var errSFNUpdate = &Error{Code: CodeFailedPrecondition, Message: "a Step Functions execution takes no updates: use SendTaskSuccess for callbacks"}

// UpdateWorkflow admits an update (or finds it again by update ID) and waits until it reaches the
// wait policy's stage or the context's deadline nears; the caller re-sends while it is ADMITTED.
func (e *Engine) UpdateWorkflow(ctx context.Context, namespace, workflowID, runID string, req *updatepb.Request, wait enumspb.UpdateWorkflowExecutionLifecycleStage) (*UpdateOutcome, error) {
	if _, err := e.ns.get(ctx, namespace); err != nil {
		return nil, err
	}
	if e.relay != nil {
		return e.updateAcrossNodes(ctx, namespace, workflowID, runID, req, wait)
	}
	id := req.GetMeta().GetUpdateId()
	var u *updateReq
	var k execKey
	var done *UpdateOutcome
	err := func() error {
		unlock := e.locks.Lock(lockKey(namespace, workflowID))
		defer unlock()
		run, err := e.resolveRun(ctx, namespace, workflowID, runID)
		if err != nil {
			return err
		}
		k = execKey{namespace, workflowID, run}
		ms, _, err := e.load(ctx, k)
		if err != nil {
			return err
		}
		if done, err = e.admissible(ctx, k, ms, id); err != nil || done != nil {
			return err
		}
		e.updates.mu.Lock()
		ru := e.updates.run(k)
		if u = ru.byID[id]; u == nil {
			u = &updateReq{id: id, key: k, request: req, stage: stageAdmitted, changed: make(chan struct{})}
			ru.byID[id] = u
			ru.pending = append(ru.pending, u)
		}
		needSpec := ms.WFT == nil && ru.spec == nil && len(ru.pending) > 0
		var queue store.TaskQueueKey
		if needSpec {
			queue = store.TaskQueueKey{Namespace: namespace, Name: ms.TaskQueue, Kind: store.TaskWorkflow}
			ru.spec = &speculativeWFT{id: uuid.NewString(), scheduled: e.clock.Now().UTC(), queue: queue}
			e.updates.queue[queue] = append(e.updates.queue[queue], k)
		}
		e.updates.mu.Unlock()
		if needSpec && e.cfg.OnQuery != nil {
			e.cfg.OnQuery(queue)
		}
		return nil
	}()
	if err != nil || done != nil {
		return done, err
	}
	return e.waitUpdate(ctx, k, u, wait)
}

func (e *Engine) waitUpdate(ctx context.Context, k execKey, u *updateReq, wait enumspb.UpdateWorkflowExecutionLifecycleStage) (*UpdateOutcome, error) {
	want := wantStage(wait)
	deadline := time.Now().Add(50 * time.Second)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < 55*time.Second {
		deadline = d.Add(-time.Second)
	}
	for {
		e.updates.mu.Lock()
		stage, outcome, ch := u.stage, u.outcome, u.changed
		e.updates.mu.Unlock()
		if stage >= want {
			return &UpdateOutcome{RunID: k.runID, Stage: stageEnum(stage), Outcome: outcome}, nil
		}
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-ch:
			timer.Stop()
		case <-timer.C:
			return &UpdateOutcome{RunID: k.runID, Stage: stageEnum(stage)}, nil
		case <-ctx.Done():
			timer.Stop()
			return nil, canceled(ctx.Err())
		}
	}
}

func stageEnum(s updateStage) enumspb.UpdateWorkflowExecutionLifecycleStage {
	switch s {
	case stageAccepted:
		return enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
	case stageCompleted:
		return enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED
	}
	return enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
}

// persistedUpdate answers for an accepted update from history.
func (e *Engine) persistedUpdate(ctx context.Context, k execKey, id string, info *updateInfo) (*UpdateOutcome, error) {
	if info.CompletedEventID == 0 {
		return &UpdateOutcome{RunID: k.runID, Stage: enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED}, nil
	}
	events, err := e.readEvents(ctx, k.namespace, k.runID, info.CompletedEventID, info.CompletedEventID+1, 1)
	if err != nil {
		return nil, err
	}
	if len(events) != 1 {
		return nil, internal(fmt.Errorf("update %s: completed event %d missing", id, info.CompletedEventID))
	}
	return &UpdateOutcome{RunID: k.runID, Stage: enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
		Outcome: events[0].GetWorkflowExecutionUpdateCompletedEventAttributes().GetOutcome()}, nil
}

// PollUpdate serves PollWorkflowExecutionUpdate.
func (e *Engine) PollUpdate(ctx context.Context, namespace, workflowID, runID, id string, wait enumspb.UpdateWorkflowExecutionLifecycleStage) (*UpdateOutcome, error) {
	if _, err := e.ns.get(ctx, namespace); err != nil {
		return nil, err
	}
	run, err := e.resolveRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return nil, err
	}
	k := execKey{namespace, workflowID, run}
	if e.relay != nil {
		return e.pollAcrossNodes(ctx, k, id, wait)
	}
	for {
		e.updates.mu.Lock()
		var u *updateReq
		if ru := e.updates.runs[k]; ru != nil {
			u = ru.byID[id]
		}
		e.updates.mu.Unlock()
		rec, err := e.store.GetExecution(ctx, namespace, workflowID, run)
		if err != nil {
			if isNotFound(err) {
				return nil, notFound("workflow execution not found")
			}
			return nil, unavailable(err)
		}
		ms, err := decodeState(rec.State)
		if err != nil {
			return nil, internal(err)
		}
		if info := ms.Updates[id]; info != nil && info.CompletedEventID == 0 && !ms.open() {
			return nil, notFound("workflow execution already completed: update %q will never complete", id)
		}
		if info := ms.Updates[id]; info != nil && (info.CompletedEventID != 0 || u == nil) {
			out, err := e.persistedUpdate(ctx, k, id, info)
			if err != nil || out.Stage == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED || wait != enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED || u == nil {
				return out, err
			}
		}
		if u == nil {
			return nil, notFound("update %q not found", id)
		}
		return e.waitUpdate(ctx, k, u, wait)
	}
}

// takeSpeculative starts a speculative workflow task waiting on the queue, if any.
func (e *Engine) takeSpeculative(ctx context.Context, queue store.TaskQueueKey) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	for {
		e.updates.mu.Lock()
		list := e.updates.queue[queue]
		if len(list) == 0 {
			e.updates.mu.Unlock()
			return nil, nil
		}
		k := list[0]
		e.updates.queue[queue] = list[1:]
		if len(e.updates.queue[queue]) == 0 {
			delete(e.updates.queue, queue)
		}
		e.updates.mu.Unlock()
		resp, err := e.startSpeculative(ctx, k)
		if err != nil || resp != nil {
			return resp, err
		}
	}
}

func (e *Engine) startSpeculative(ctx context.Context, k execKey) (*workflowservice.PollWorkflowTaskQueueResponse, error) {
	unlock := e.locks.Lock(lockKey(k.namespace, k.workflowID))
	defer unlock()
	ms, _, err := e.load(ctx, k)
	if err != nil {
		return nil, nil
	}
	e.updates.mu.Lock()
	ru := e.updates.runs[k]
	if ru == nil || ru.spec == nil || ru.spec.taken {
		e.updates.mu.Unlock()
		return nil, nil
	}
	spec := ru.spec
	if !ms.open() || ms.WFT != nil {
		// A real workflow task appeared (it will carry the updates) or the run closed.
		ru.spec = nil
		e.updates.mu.Unlock()
		return nil, nil
	}
	spec.taken = true
	spec.scheduledID, spec.startedID = ms.NextEventID, ms.NextEventID+1
	spec.started = e.clock.Now().UTC()
	e.updates.mu.Unlock()

	w := &workflowTask{ScheduledEventID: spec.scheduledID, StartedEventID: spec.startedID, Attempt: 1, TaskQueue: ms.TaskQueue,
		ScheduledTime: spec.scheduled, StartedTime: spec.started}
	transient := transientEvents(ms, w, e.cfg)
	hist, token, err := e.readTaskHistory(ctx, ms.Namespace, ms.WorkflowID, ms.RunID, 1, spec.startedID, transient)
	if err != nil {
		return nil, err
	}
	msgs := e.updates.takePending(k, spec.startedID-1)
	time.AfterFunc(ms.WorkflowTaskTimeout, func() { e.expireSpeculative(k, spec) })
	return speculativePoll(ms, spec, hist, token, msgs), nil
}

// speculativePoll is the poll response of a speculative workflow task (this node's or one
// delivered across nodes): the run's history so far and the updates it carries.
func speculativePoll(ms *mutableState, spec *speculativeWFT, hist *historypb.History, token []byte, msgs []*protocolpb.Message) *workflowservice.PollWorkflowTaskQueueResponse {
	return &workflowservice.PollWorkflowTaskQueueResponse{
		TaskToken: tasktoken.Encode(tasktoken.Token{Kind: tasktoken.Speculative, Namespace: ms.Namespace, WorkflowID: ms.WorkflowID,
			RunID: ms.RunID, EventID: spec.startedID, Attempt: 1, QueryID: spec.id}),
		WorkflowExecution:          execution(ms),
		WorkflowType:               workflowType(ms),
		PreviousStartedEventId:     ms.LastCompletedWFTStartedID,
		StartedEventId:             spec.startedID,
		Attempt:                    1,
		History:                    hist,
		NextPageToken:              token,
		WorkflowExecutionTaskQueue: &taskqueuepb.TaskQueue{Name: ms.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		ScheduledTime:              timestamppb.New(spec.scheduled),
		StartedTime:                timestamppb.New(spec.started),
		Messages:                   msgs,
	}
}

// expireSpeculative drops a speculative task its worker never completed; its updates are
// delivered again on a new one.
func (e *Engine) expireSpeculative(k execKey, spec *speculativeWFT) {
	e.updates.mu.Lock()
	ru := e.updates.runs[k]
	if ru == nil || ru.spec != spec {
		e.updates.mu.Unlock()
		return
	}
	ru.spec = nil
	e.updates.forgetIfIdle(k, ru)
	e.updates.mu.Unlock()
	if e.relay != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.giveBackSpec(ctx, k, spec.id, nil)
		return
	}
	e.updates.requeueInFlight(k)
	e.redeliverUpdates(k)
}

// redeliverUpdates gives pending updates of an idle run a new speculative task.
func (e *Engine) redeliverUpdates(k execKey) {
	if !e.updates.hasPending(k) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	unlock := e.locks.Lock(lockKey(k.namespace, k.workflowID))
	ms, _, err := e.load(ctx, k)
	if err != nil || !ms.open() || ms.WFT != nil {
		unlock()
		return
	}
	queue := store.TaskQueueKey{Namespace: k.namespace, Name: ms.TaskQueue, Kind: store.TaskWorkflow}
	e.updates.mu.Lock()
	ru := e.updates.run(k)
	if ru.spec == nil {
		ru.spec = &speculativeWFT{id: uuid.NewString(), scheduled: e.clock.Now().UTC(), queue: queue}
		e.updates.queue[queue] = append(e.updates.queue[queue], k)
	}
	e.updates.mu.Unlock()
	unlock()
	if e.cfg.OnQuery != nil {
		e.cfg.OnQuery(queue)
	}
}

// CompleteSpeculative applies the completion of a speculative workflow task. It reports the
// history event ID the worker must reset to when nothing of the task was kept.
func (e *Engine) CompleteSpeculative(ctx context.Context, tok tasktoken.Token, req *workflowservice.RespondWorkflowTaskCompletedRequest) (resetTo int64, err error) {
	k := execKey{tok.Namespace, tok.WorkflowID, tok.RunID}
	unlock := e.locks.Lock(lockKey(k.namespace, k.workflowID))
	defer unlock()
	e.updates.mu.Lock()
	ru := e.updates.runs[k]
	var spec *speculativeWFT
	if ru != nil && ru.spec != nil && ru.spec.id == tok.QueryID && ru.spec.taken {
		spec = ru.spec
		ru.spec = nil
		e.updates.forgetIfIdle(k, ru)
	}
	e.updates.mu.Unlock()
	if spec == nil {
		return 0, notFound("Workflow task not found.")
	}
	// requeue hands what the task did not settle to a later task: in memory on one node, through
	// the run's spec record on a shared store.
	requeue := func(ms *mutableState) {
		if e.relay != nil {
			e.giveBackSpec(ctx, k, spec.id, ms)
			return
		}
		e.updates.requeueInFlight(k)
	}
	ms, _, err := e.load(ctx, k)
	if err != nil {
		requeue(nil)
		return 0, err
	}
	if !ms.open() || ms.WFT != nil || ms.NextEventID != spec.scheduledID {
		requeue(nil)
		return 0, notFound("Workflow task not found.")
	}
	// Rejections need no history; anything else makes the task real.
	keep := len(req.GetCommands()) > 0 || req.GetForceCreateNewWorkflowTask()
	if !keep {
		e.applyRejections(k, req.GetMessages())
		if e.relay != nil {
			e.giveBackSpec(ctx, k, spec.id, ms)
		} else {
			e.updates.requeueInFlight(k)
			go e.redeliverUpdates(k)
		}
		return ms.NextEventID - 1, nil
	}
	err = e.updateLocked(ctx, k, func(t *txn) error {
		if t.ms.WFT != nil || t.ms.NextEventID != spec.scheduledID {
			return notFound("Workflow task not found.")
		}
		t.ms.WFT = &workflowTask{ScheduledEventID: spec.scheduledID, StartedEventID: spec.startedID, Attempt: 1, Transient: true,
			TaskQueue: t.ms.TaskQueue, ScheduledTime: spec.scheduled, StartedTime: spec.started, Identity: req.GetIdentity()}
		return t.completeWFT(req)
	})
	if err != nil {
		requeue(nil)
		return 0, err
	}
	if e.relay != nil {
		e.giveBackSpec(ctx, k, spec.id, nil) // the task is real now: the record goes
	}
	return 0, nil
}

// applyRejections answers the updates of run k a worker rejected: their waiting callers on one
// node, their records on a shared store.
func (e *Engine) applyRejections(k execKey, msgs []*protocolpb.Message) {
	if e.relay != nil {
		e.rejectRecords(k, msgs)
		return
	}
	for _, m := range msgs {
		rej := &updatepb.Rejection{}
		if m.GetBody().MessageIs(rej) && m.GetBody().UnmarshalTo(rej) == nil {
			e.finishUpdate(m.GetProtocolInstanceId(), stageCompleted, &updatepb.Outcome{Value: &updatepb.Outcome_Failure{Failure: rej.GetFailure()}})
		}
	}
}

func (e *Engine) finishUpdate(id string, st updateStage, outcome *updatepb.Outcome) {
	e.updates.mu.Lock()
	var found *updateReq
	for _, ru := range e.updates.runs {
		if u := ru.byID[id]; u != nil {
			found = u
			break
		}
	}
	e.updates.mu.Unlock()
	if found != nil {
		e.updates.setStage(found, st, outcome)
	}
}

// protocolMessage records the event of a PROTOCOL_MESSAGE command: an update's acceptance or its
// completion. Rejections carry no command and no event.
func (t *txn) protocolMessage(a *commandpb.ProtocolMessageCommandAttributes, msgs map[string]*protocolpb.Message, wtcID int64) error {
	const cause = enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE
	m := msgs[a.GetMessageId()]
	if m == nil {
		return badCommand(cause, "ProtocolMessageCommand names message %q, which the completion does not carry", a.GetMessageId())
	}
	ms := t.ms
	id := m.GetProtocolInstanceId()
	acc, resp := &updatepb.Acceptance{}, &updatepb.Response{}
	switch {
	case m.GetBody().MessageIs(acc):
		if err := m.GetBody().UnmarshalTo(acc); err != nil {
			return badCommand(cause, "malformed update acceptance: %v", err)
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes{WorkflowExecutionUpdateAcceptedEventAttributes: &historypb.WorkflowExecutionUpdateAcceptedEventAttributes{
				ProtocolInstanceId: id, AcceptedRequestMessageId: acc.GetAcceptedRequestMessageId(),
				AcceptedRequestSequencingEventId: acc.GetAcceptedRequestSequencingEventId(), AcceptedRequest: acc.GetAcceptedRequest(),
			}},
		})
		if ms.Updates == nil {
			ms.Updates = map[string]*updateInfo{}
		}
		ms.Updates[id] = &updateInfo{AcceptedEventID: ev.EventId}
		t.after = append(t.after, func() { t.e.finishUpdate(id, stageAccepted, nil) })
		if t.e.relay != nil {
			// The history holds it now; its callers, on any node, learn it from the history.
			k := execKey{ms.Namespace, ms.WorkflowID, ms.RunID}
			t.after = append(t.after, func() { go t.e.forgetUpdateRecord(k, id) })
		}
	case m.GetBody().MessageIs(resp):
		if err := m.GetBody().UnmarshalTo(resp); err != nil {
			return badCommand(cause, "malformed update response: %v", err)
		}
		info := ms.Updates[id]
		if info == nil {
			return badCommand(cause, "update %q completed before it was accepted", id)
		}
		ev := t.appendEvent(&historypb.HistoryEvent{
			EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionUpdateCompletedEventAttributes{WorkflowExecutionUpdateCompletedEventAttributes: &historypb.WorkflowExecutionUpdateCompletedEventAttributes{
				Meta: resp.GetMeta(), AcceptedEventId: info.AcceptedEventID, Outcome: resp.GetOutcome(),
			}},
		})
		info.CompletedEventID = ev.EventId
		outcome := resp.GetOutcome()
		t.after = append(t.after, func() { t.e.finishUpdate(id, stageCompleted, outcome) })
	default:
		return badCommand(cause, "ProtocolMessageCommand names a message of unknown type %s", m.GetBody().GetTypeUrl())
	}
	return nil
}

// updateInfo is what the history keeps of an accepted update, for retries and polls by ID.
type updateInfo struct {
	AcceptedEventID  int64 `json:"accepted"`
	CompletedEventID int64 `json:"completed,omitempty"`
}

// FailSpeculative drops a speculative workflow task its worker failed; nothing of it was persisted,
// and its updates are delivered again.
func (e *Engine) FailSpeculative(tok tasktoken.Token) {
	k := execKey{tok.Namespace, tok.WorkflowID, tok.RunID}
	e.updates.mu.Lock()
	ru := e.updates.runs[k]
	var spec *speculativeWFT
	if ru != nil && ru.spec != nil && ru.spec.id == tok.QueryID {
		spec = ru.spec
	}
	e.updates.mu.Unlock()
	if spec != nil {
		e.expireSpeculative(k, spec)
	}
}
