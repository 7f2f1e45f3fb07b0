package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// sagaActs books and cancels; booking C always fails, non-retryably.
type sagaActs struct {
	mu    sync.Mutex
	calls []string
}

func (a *sagaActs) record(s string) {
	a.mu.Lock()
	a.calls = append(a.calls, s)
	a.mu.Unlock()
}

func (a *sagaActs) recorded() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

// Book books item; booking "C" fails.
func (a *sagaActs) Book(_ context.Context, item string) (string, error) {
	a.record("book " + item)
	if item == "C" {
		return "", temporal.NewNonRetryableApplicationError("no seats on C", "SoldOut", nil)
	}
	return "booking-" + item, nil
}

// Unbook cancels a booking.
func (a *sagaActs) Unbook(_ context.Context, booking string) error {
	a.record("unbook " + booking)
	return nil
}

// sagaWorkflow books A, B and C in turn; if a booking fails, it undoes the ones made, newest first,
// and fails with the booking's error.
func sagaWorkflow(ctx workflow.Context) ([]string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
	})
	var acts *sagaActs
	var compensations []string
	var bookings []string
	for _, item := range []string{"A", "B", "C"} {
		var booking string
		if err := workflow.ExecuteActivity(ctx, acts.Book, item).Get(ctx, &booking); err != nil {
			for i := len(compensations) - 1; i >= 0; i-- {
				if cerr := workflow.ExecuteActivity(ctx, acts.Unbook, compensations[i]).Get(ctx, nil); cerr != nil {
					return nil, cerr
				}
			}
			return nil, err
		}
		compensations = append(compensations, booking)
		bookings = append(bookings, booking)
	}
	return bookings, nil
}

func TestSagaCompensatesInReverseOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acts := &sagaActs{}
	tq := e.startWorker(registry{workflows: []any{sagaWorkflow}, activities: []any{acts}})
	run := e.start(tq, client.StartWorkflowOptions{}, sagaWorkflow)

	err := run.Get(e.ctx(), nil)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr, "got %v", err)
	require.Equal(t, "SoldOut", appErr.Type())
	require.Equal(t, "no seats on C", appErr.Message())
	var actErr *temporal.ActivityError
	require.ErrorAs(t, err, &actErr)
	require.Equal(t, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE, actErr.RetryState())

	require.Equal(t, []string{
		"book A", "book B", "book C",
		"unbook booking-B", "unbook booking-A",
	}, acts.recorded())

	events := e.historyOf(run)
	requireWellFormed(t, events)
	var order []string
	for _, ev := range ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
		a := ev.GetActivityTaskScheduledEventAttributes()
		order = append(order, a.GetActivityType().GetName()+" "+decodeString(t, a.GetInput()))
	}
	require.Equal(t, []string{"Book A", "Book B", "Book C", "Unbook booking-B", "Unbook booking-A"}, order)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED), 4)
	require.Len(t, ofType(events, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED), 1)
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, events[len(events)-1].GetEventType())
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, e.status(run.GetID(), run.GetRunID()))
}
