package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/duro-dev/duro/internal/engine"
)

// retryDelay spaces attempts at a start or kill that failed for a transient reason (the store or
// the engine unavailable).
const retryDelay = 2 * time.Second

// execute makes the decided kills and starts of st, in order, recording each outcome. A start that
// fails for good (the ID is taken by a running workflow, a bad search attribute) is dropped, as in
// Temporal; a transient failure keeps it and the rest pending for a retry after RetryAt.
func (s *Scheduler) execute(ctx context.Context, st *state, now time.Time) {
	for len(st.Kills) > 0 {
		k := st.Kills[0]
		var err error
		if k.Terminate {
			err = s.e.Terminate(ctx, st.Namespace, k.WorkflowID, k.RunID, "terminated by schedule overlap policy", nil, st.identity())
		} else {
			err = s.e.RequestCancel(ctx, st.Namespace, k.WorkflowID, k.RunID, "cancelled by schedule overlap policy", st.identity(), "")
		}
		if err != nil && transient(err) {
			st.RetryAt = now.Add(retryDelay)
			return
		}
		st.Kills = st.Kills[1:]
	}
	st.Kills = nil
	for len(st.Pending) > 0 {
		p := st.Pending[0]
		res, err := s.e.StartWorkflow(ctx, st.startRequest(p), nil)
		if err != nil {
			if transient(err) {
				st.RetryAt = now.Add(retryDelay)
				return
			}
			s.log.Warn("scheduled start failed", "namespace", st.Namespace, "schedule", st.ID, "workflow", p.WorkflowID, "error", err)
		} else {
			st.recordStart(p, res.RunID, s.clock.Now().UTC())
		}
		st.Pending = st.Pending[1:]
	}
	st.Pending = nil
}

// transient tells a failure worth retrying (the engine or its store unavailable, a deadline) from
// one that a retry would meet again.
func transient(err error) bool {
	var ee *engine.Error
	if !errors.As(err, &ee) {
		return true
	}
	switch ee.Code {
	case engine.CodeUnavailable, engine.CodeInternal, engine.CodeCanceled, engine.CodeDeadlineExceeded, engine.CodeResourceExhausted:
		return true
	}
	return false
}

// identity is who the scheduler's starts, cancels and terminates come from, as Temporal names it.
func (st *state) identity() string { return "temporal-scheduler-" + st.Namespace + "-" + st.ID }

// startRequest is the start of a decided action: the schedule's workflow with the ID that carries
// the nominal time, the memo, and the search attributes plus TemporalScheduledById and
// TemporalScheduledStartTime (the nominal time, to the second). Scheduled starts reject a
// duplicate ID; manual ones (trigger, backfill) allow one, as in Temporal.
func (st *state) startRequest(p *pendingStart) *workflowservice.StartWorkflowExecutionRequest {
	wf := st.Schedule.GetAction().GetStartWorkflow()
	reuse := enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	if p.Manual {
		reuse = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	}
	req := &workflowservice.StartWorkflowExecutionRequest{
		Namespace:                st.Namespace,
		WorkflowId:               p.WorkflowID,
		WorkflowType:             wf.GetWorkflowType(),
		TaskQueue:                wf.GetTaskQueue(),
		Input:                    wf.GetInput(),
		WorkflowExecutionTimeout: wf.GetWorkflowExecutionTimeout(),
		WorkflowRunTimeout:       wf.GetWorkflowRunTimeout(),
		WorkflowTaskTimeout:      wf.GetWorkflowTaskTimeout(),
		Identity:                 st.identity(),
		RequestId:                p.RequestID,
		WorkflowIdReusePolicy:    reuse,
		RetryPolicy:              wf.GetRetryPolicy(),
		Memo:                     wf.GetMemo(),
		SearchAttributes:         scheduledSearchAttributes(wf.GetSearchAttributes(), st.ID, p.Nominal),
		Header:                   wf.GetHeader(),
		UserMetadata:             wf.GetUserMetadata(),
		Priority:                 wf.GetPriority(),
		VersioningOverride:       wf.GetVersioningOverride(),
	}
	if p.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL {
		// Overlapping runs take no part in the chain of results.
		req.LastCompletionResult = st.LastCompletionResult
		req.ContinuedFailure = st.ContinuedFailure
	}
	return req
}

// scheduledSearchAttributes adds TemporalScheduledById and TemporalScheduledStartTime to the
// action's search attributes (a copy: the schedule's own are left as they are).
func scheduledSearchAttributes(sa *commonpb.SearchAttributes, scheduleID string, nominal time.Time) *commonpb.SearchAttributes {
	fields := make(map[string]*commonpb.Payload, len(sa.GetIndexedFields())+2)
	for k, v := range sa.GetIndexedFields() {
		fields[k] = v
	}
	fields["TemporalScheduledById"] = jsonPayload(scheduleID, "Keyword")
	fields["TemporalScheduledStartTime"] = jsonPayload(nominal.UTC().Truncate(time.Second).Format(time.RFC3339), "Datetime")
	return &commonpb.SearchAttributes{IndexedFields: fields}
}

func jsonPayload(s, typ string) *commonpb.Payload {
	data, _ := json.Marshal(s) // a string always encodes
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain"), "type": []byte(typ)},
		Data:     data,
	}
}

// refresh looks at the workflows st tracks as running and records the ones that have closed (a
// run of the chain the schedule started, followed by workflow ID: retries and continue-as-new keep
// the chain running).
func (s *Scheduler) refresh(ctx context.Context, st *state) {
	for _, ex := range append([]*commonpb.WorkflowExecution(nil), st.Info.GetRunningWorkflows()...) {
		status, msg, ok := s.chainStatus(ctx, st, ex)
		if ok && status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			st.closed(ex, status, msg)
		}
	}
}

// chainStatus returns the status of the chain a schedule started with ex (and the failure message
// of a failed one), picking up the completion result or failure for the next start. ok is false
// when the status could not be read (it is then taken to be running still).
func (s *Scheduler) chainStatus(ctx context.Context, st *state, ex *commonpb.WorkflowExecution) (enumspb.WorkflowExecutionStatus, string, bool) {
	d, err := s.e.Describe(ctx, st.Namespace, ex.GetWorkflowId(), "")
	if err != nil {
		var ee *engine.Error
		if errors.As(err, &ee) && ee.Code == engine.CodeNotFound {
			return enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "", true // gone (deleted): not running
		}
		return 0, "", false
	}
	info := d.GetWorkflowExecutionInfo()
	runID := info.GetExecution().GetRunId()
	status := info.GetStatus()
	if info.GetFirstRunId() != ex.GetRunId() && info.GetFirstRunId() != "" {
		// The workflow ID now belongs to another chain: ours is over; read its own status.
		d, err = s.e.Describe(ctx, st.Namespace, ex.GetWorkflowId(), ex.GetRunId())
		if err != nil {
			return enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "", true
		}
		runID, status = ex.GetRunId(), d.GetWorkflowExecutionInfo().GetStatus()
	}
	if status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return status, "", true
	}
	msg := s.closeOutcome(ctx, st, ex.GetWorkflowId(), runID)
	return status, msg, true
}

// closeOutcome reads a closed run's close event: a completion's result becomes the schedule's last
// completion result, a failure its continued failure (and the message is returned).
func (s *Scheduler) closeOutcome(ctx context.Context, st *state, workflowID, runID string) string {
	h, _, err := s.e.ReverseHistory(ctx, st.Namespace, workflowID, runID, 1, nil)
	if err != nil || len(h.GetEvents()) == 0 {
		return ""
	}
	ev := h.GetEvents()[0]
	if a := ev.GetWorkflowExecutionCompletedEventAttributes(); a != nil && a.GetResult() != nil {
		st.LastCompletionResult = a.GetResult()
		st.ContinuedFailure = nil
	}
	if a := ev.GetWorkflowExecutionFailedEventAttributes(); a != nil {
		st.ContinuedFailure = a.GetFailure()
		return a.GetFailure().GetMessage()
	}
	return ""
}
