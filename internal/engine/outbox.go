package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/duro-dev/duro/internal/store"
)

// The outbox carries effects from one execution to another (start a child, tell a parent its child
// closed, signal or cancel another workflow, apply a parent-close policy). The transition that
// decides an effect inserts an internal task row naming the execution that records its outcome;
// the outbox loop performs the effect — always idempotently, keyed by the origin run and event —
// and consumes the row in the transition that records the outcome. A crash in between only makes
// the loop perform the (idempotent) effect again.

// internalQueue is the one queue of internal rows.
var internalQueue = store.TaskQueueKey{Namespace: "", Name: "duro-internal", Kind: store.TaskInternal}

// outboxItem is the Data of an internal task row.
type outboxItem struct {
	Type        string `json:"type"`
	Namespace   string `json:"ns"` // of the execution the row is consumed on
	InitiatedID int64  `json:"initiated,omitempty"`
	// For childClosed: the child run that closed.
	ChildNamespace string `json:"childNs,omitempty"`
	ChildWID       string `json:"childWid,omitempty"`
	ChildRunID     string `json:"childRid,omitempty"`
	// For parentClose: terminate or cancel.
	Action string `json:"action,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Outbox item types.
const (
	outboxStartChild     = "startChild"
	outboxChildClosed    = "childClosed"
	outboxSignalExternal = "signalExternal"
	outboxCancelExternal = "cancelExternal"
	outboxParentClose    = "parentClose"
)

// addOutbox inserts an internal row consumed on (namespace, workflowID, runID).
func (t *txn) addOutbox(namespace, workflowID, runID string, item outboxItem) {
	item.Namespace = namespace
	data, _ := json.Marshal(item)
	t.tasks = append(t.tasks, &store.Task{
		TaskQueueKey: internalQueue,
		WorkflowID:   workflowID,
		RunID:        runID,
		CreatedAt:    t.now,
		VisibleAt:    t.now,
		Data:         data,
	})
}

func (e *Engine) wakeInternal() {
	select {
	case e.internalWake <- struct{}{}:
	default:
	}
}

// runInternal is the outbox loop.
func (e *Engine) runInternal(ctx context.Context) {
	var mu sync.Mutex
	inFlight := map[int64]bool{}
	retryAt := map[int64]time.Time{}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		rows, err := e.store.ListTasks(ctx, internalQueue, e.clock.Now(), 128)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("outbox scan failed", "error", err)
		}
		mu.Lock()
		for id, at := range retryAt { // rows another node consumed since their failure
			if time.Since(at) > time.Minute {
				delete(retryAt, id)
			}
		}
		mu.Unlock()
		for _, r := range rows {
			mu.Lock()
			skip := inFlight[r.ID] || time.Now().Before(retryAt[r.ID])
			if !skip {
				inFlight[r.ID] = true
			}
			mu.Unlock()
			if skip {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func(r store.Task) {
				defer wg.Done()
				defer func() { <-sem }()
				pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := e.processOutbox(pctx, r)
				cancel()
				mu.Lock()
				delete(inFlight, r.ID)
				if err != nil {
					retryAt[r.ID] = time.Now().Add(time.Second)
				} else {
					delete(retryAt, r.ID)
				}
				mu.Unlock()
				if err != nil && ctx.Err() == nil {
					e.log.Warn("outbox item failed; will retry", "type", string(r.Data), "error", err)
				}
				e.wakeInternal()
			}(r)
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.internalWake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (e *Engine) processOutbox(ctx context.Context, row store.Task) error {
	var item outboxItem
	if err := json.Unmarshal(row.Data, &item); err != nil {
		return fmt.Errorf("decode outbox item %d: %w", row.ID, err)
	}
	k := execKey{item.Namespace, row.WorkflowID, row.RunID}
	var err error
	switch item.Type {
	case outboxStartChild:
		err = e.startChild(ctx, k, row.ID, item)
	case outboxChildClosed:
		err = e.childClosed(ctx, k, row.ID, item)
	case outboxSignalExternal, outboxCancelExternal:
		err = e.deliverExternal(ctx, k, row.ID, item)
	case outboxParentClose:
		err = e.applyParentClose(ctx, k, row.ID, item)
	default:
		err = e.consumeRow(ctx, k, row.ID)
	}
	return err
}

// consumeRow deletes an outbox row in a transition of its execution that changes nothing else.
func (e *Engine) consumeRow(ctx context.Context, k execKey, rowID int64) error {
	return e.updateOutbox(ctx, k, rowID, func(t *txn) error { return nil })
}

// updateOutbox runs fn as the transition of k that consumes the outbox row.
func (e *Engine) updateOutbox(ctx context.Context, k execKey, rowID int64, fn func(t *txn) error) error {
	err := e.update(ctx, k, func(t *txn) error {
		t.delTasks = append(t.delTasks, rowID)
		return fn(t)
	})
	if errors.Is(err, errExecutionGone) {
		return nil // the execution was deleted, and its rows with it
	}
	if errors.Is(err, store.ErrConsumed) {
		return nil // another node consumed the row first
	}
	return err // a run that kept changing under every retry: the loop comes back to the row
}
