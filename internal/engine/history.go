package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/store"
)

// DefaultHistoryPageSize is the page size when a request does not give one.
const DefaultHistoryPageSize = 1000

// taskHistoryPage bounds the history sent inside one workflow-task poll response; the rest
// follows through GetWorkflowExecutionHistory pages.
const taskHistoryPage = 2000

// pageToken continues a history read. End bounds a workflow task's history at its started event
// (a page must never go past it); Transient carries a transient attempt's in-memory events.
type pageToken struct {
	RunID     string   `json:"r"`
	Next      int64    `json:"n"`
	End       int64    `json:"e,omitempty"` // exclusive; 0 = to the last event
	Transient [][]byte `json:"t,omitempty"`
	// Wait marks the empty "keep polling" token of a long poll that saw no new event.
	Wait bool `json:"w,omitempty"`
}

func encodeToken(p pageToken) []byte {
	b, _ := json.Marshal(p)
	return b
}

func decodeToken(b []byte) (pageToken, error) {
	var p pageToken
	if err := json.Unmarshal(b, &p); err != nil || p.Next < 1 {
		return p, invalidArgument("invalid next page token")
	}
	return p, nil
}

func (e *Engine) readEvents(ctx context.Context, namespace, runID string, from, to int64, limit int) ([]*historypb.HistoryEvent, error) {
	rows, err := e.store.ReadEvents(ctx, namespace, runID, from, to, limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read history: %w", err))
	}
	out := make([]*historypb.HistoryEvent, len(rows))
	for i, r := range rows {
		ev := &historypb.HistoryEvent{}
		if err := proto.Unmarshal(r.Data, ev); err != nil {
			return nil, internal(fmt.Errorf("decode event %d: %w", r.EventID, err))
		}
		out[i] = ev
	}
	return out, nil
}

// readTaskHistory reads a workflow task's history from fromID up to its started event, appending a
// transient attempt's events, paged so that no page passes the started event.
func (e *Engine) readTaskHistory(ctx context.Context, namespace, workflowID, runID string, fromID, startedID int64, transient []*historypb.HistoryEvent) (*historypb.History, []byte, error) {
	end := startedID + 1 // exclusive
	persistedEnd := end
	if len(transient) > 0 {
		persistedEnd = transient[0].EventId
	}
	events, err := e.readEvents(ctx, namespace, runID, fromID, persistedEnd, taskHistoryPage)
	if err != nil {
		return nil, nil, err
	}
	next := fromID + int64(len(events))
	if next < persistedEnd {
		tr := make([][]byte, len(transient))
		for i, ev := range transient {
			tr[i], _ = proto.Marshal(ev)
		}
		return &historypb.History{Events: events}, encodeToken(pageToken{RunID: runID, Next: next, End: persistedEnd, Transient: tr}), nil
	}
	events = append(events, transient...)
	return &historypb.History{Events: events}, nil, nil
}

// HistoryRequest is a GetWorkflowExecutionHistory call.
type HistoryRequest struct {
	Namespace, WorkflowID, RunID string
	PageSize                     int
	Token                        []byte
	WaitNewEvent                 bool
	CloseEventOnly               bool
}

// GetHistory serves GetWorkflowExecutionHistory: pages, long polls for new events, and the
// close-event filter that the SDK's run.Get uses. A long poll that sees nothing by its deadline
// answers no events and a non-empty token, which the SDK re-polls (temporal-protocol.md, fact 10).
func (e *Engine) GetHistory(ctx context.Context, req HistoryRequest) (*historypb.History, []byte, error) {
	if _, err := e.ns.get(ctx, req.Namespace); err != nil {
		return nil, nil, err
	}
	pageSize := req.PageSize
	if pageSize <= 0 {
		pageSize = DefaultHistoryPageSize
	}
	var tok pageToken
	if len(req.Token) > 0 {
		var err error
		if tok, err = decodeToken(req.Token); err != nil {
			return nil, nil, err
		}
		req.RunID = tok.RunID
	}
	runID, err := e.resolveRun(ctx, req.Namespace, req.WorkflowID, req.RunID)
	if err != nil {
		return nil, nil, err
	}
	if tok.RunID != "" && tok.RunID != runID {
		return nil, nil, invalidArgument("next page token does not belong to this run")
	}
	deadline := time.Now().Add(20 * time.Second)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < 25*time.Second {
		deadline = d.Add(-2 * time.Second)
	}
	for {
		sub := e.history.subscribe(runID)
		rec, err := e.store.GetExecution(ctx, req.Namespace, req.WorkflowID, runID)
		if err != nil {
			sub.cancel()
			if isNotFound(err) {
				return nil, nil, notFound("workflow execution not found: workflow ID %q, run ID %q", req.WorkflowID, runID)
			}
			return nil, nil, unavailable(err)
		}
		closed := rec.Status != int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
		last := rec.HistoryLength
		if req.CloseEventOnly {
			if closed {
				sub.cancel()
				events, err := e.readEvents(ctx, req.Namespace, runID, last, last+1, 1)
				return &historypb.History{Events: events}, nil, err
			}
		} else {
			from := int64(1)
			if tok.Next > 0 {
				from = tok.Next
			}
			if from <= last || !req.WaitNewEvent || closed {
				sub.cancel()
				return e.historyPage(ctx, req.Namespace, runID, from, tok, last, pageSize, req.WaitNewEvent && !closed)
			}
		}
		if !req.WaitNewEvent {
			sub.cancel()
			return &historypb.History{}, nil, nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			sub.cancel()
			next := tok.Next
			if next == 0 {
				next = last + 1
			}
			return &historypb.History{}, encodeToken(pageToken{RunID: runID, Next: next, Wait: true}), nil
		}
		if e.relay != nil {
			// Other nodes' wake-ups may be lost (one died between its commit and its
			// notification): look at the store again every so often, not just at the deadline.
			wait = min(wait, historyRecheck)
		}
		timer := time.NewTimer(wait)
		select {
		case <-sub.ch:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			sub.cancel()
			return nil, nil, canceled(ctx.Err())
		}
		timer.Stop()
		sub.cancel()
	}
}

func (e *Engine) historyPage(ctx context.Context, namespace, runID string, from int64, tok pageToken, last int64, pageSize int, keepWaiting bool) (*historypb.History, []byte, error) {
	to := last + 1
	if tok.End > 0 {
		to = tok.End
	}
	events, err := e.readEvents(ctx, namespace, runID, from, to, pageSize)
	if err != nil {
		return nil, nil, err
	}
	next := from + int64(len(events))
	if next < to {
		tok.RunID, tok.Next = runID, next
		tok.Wait = false
		return &historypb.History{Events: events}, encodeToken(tok), nil
	}
	for _, b := range tok.Transient {
		ev := &historypb.HistoryEvent{}
		if err := proto.Unmarshal(b, ev); err != nil {
			return nil, nil, internal(err)
		}
		events = append(events, ev)
	}
	if keepWaiting && tok.End == 0 {
		return &historypb.History{Events: events}, encodeToken(pageToken{RunID: runID, Next: next}), nil
	}
	return &historypb.History{Events: events}, nil, nil
}

// ReverseHistory serves GetWorkflowExecutionHistoryReverse.
func (e *Engine) ReverseHistory(ctx context.Context, namespace, workflowID, runID string, pageSize int, token []byte) (*historypb.History, []byte, error) {
	if _, err := e.ns.get(ctx, namespace); err != nil {
		return nil, nil, err
	}
	if pageSize <= 0 {
		pageSize = DefaultHistoryPageSize
	}
	runID, err := e.resolveRun(ctx, namespace, workflowID, runID)
	if err != nil {
		return nil, nil, err
	}
	before := int64(0)
	if len(token) > 0 {
		tok, err := decodeToken(token)
		if err != nil {
			return nil, nil, err
		}
		before = tok.Next
	}
	rows, err := e.store.ReadEventsReverse(ctx, namespace, runID, before, pageSize)
	if err != nil {
		return nil, nil, unavailable(err)
	}
	if len(rows) == 0 && before == 0 {
		if _, err := e.store.GetExecution(ctx, namespace, workflowID, runID); isNotFound(err) {
			return nil, nil, notFound("workflow execution not found")
		}
	}
	events := make([]*historypb.HistoryEvent, len(rows))
	for i, r := range rows {
		ev := &historypb.HistoryEvent{}
		if err := proto.Unmarshal(r.Data, ev); err != nil {
			return nil, nil, internal(err)
		}
		events[i] = ev
	}
	var next []byte
	if len(rows) == pageSize && rows[len(rows)-1].EventID > 1 {
		next = encodeToken(pageToken{RunID: runID, Next: rows[len(rows)-1].EventID - 1})
	}
	return &historypb.History{Events: events}, next, nil
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, store.ErrNotFound) }

// historyRecheck is how often a history long poll of a node in a cluster re-reads its run while
// it waits for a wake-up.
const historyRecheck = 2 * time.Second

// pubsub wakes history long polls when a run's history grows. It is an in-node optimisation: a
// long poll also re-reads the store before it answers.
type pubsub struct {
	mu   sync.Mutex
	subs map[string]map[*subscription]struct{}
}

type subscription struct {
	ch     chan struct{}
	cancel func()
}

func newPubsub() *pubsub { return &pubsub{subs: map[string]map[*subscription]struct{}{}} }

func (p *pubsub) subscribe(topic string) *subscription {
	s := &subscription{ch: make(chan struct{}, 1)}
	p.mu.Lock()
	m := p.subs[topic]
	if m == nil {
		m = map[*subscription]struct{}{}
		p.subs[topic] = m
	}
	m[s] = struct{}{}
	p.mu.Unlock()
	s.cancel = func() {
		p.mu.Lock()
		delete(m, s)
		if len(m) == 0 && p.subs[topic] != nil && len(p.subs[topic]) == 0 {
			delete(p.subs, topic)
		}
		p.mu.Unlock()
	}
	return s
}

// publishAll wakes every subscriber, of every topic.
func (p *pubsub) publishAll() {
	p.mu.Lock()
	for _, m := range p.subs {
		for s := range m {
			select {
			case s.ch <- struct{}{}:
			default:
			}
		}
	}
	p.mu.Unlock()
}

func (p *pubsub) publish(topic string) {
	p.mu.Lock()
	for s := range p.subs[topic] {
		select {
		case s.ch <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
}
