package temporal

import (
	"context"
	"errors"

	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/schedule"
)

// Temporal's limits on schedules: the scheduler workflow's ID is this prefix plus the schedule ID
// and must fit the ID limit; a scheduled workflow's ID gets a timestamp appended and must fit too;
// notes are bounded.
const (
	scheduleWorkflowIDPrefix  = "temporal-sys-scheduler:"
	appendedTimestamp         = "-2009-11-10T23:00:00Z"
	maxScheduleNotesLength    = 1000
	maxSchedulesListPageSize  = 1000
	scheduleOnlyStartWorkflow = "Only StartWorkflow action is supported for schedules"
)

// scheduleServer serves the Schedules RPCs and hands every other call to the WorkflowService it
// wraps.
type scheduleServer struct {
	workflowservice.WorkflowServiceServer
	e               *engine.Engine
	sch             *schedule.Scheduler
	maxPayloadBytes int
}

// WithSchedules returns srv with CreateSchedule, DescribeSchedule, UpdateSchedule, PatchSchedule,
// DeleteSchedule, ListSchedules, CountSchedules and ListScheduleMatchingTimes served by sch, and
// GetSystemInfo declaring schedules supported; srv answers everything else.
func WithSchedules(srv workflowservice.WorkflowServiceServer, e *engine.Engine, sch *schedule.Scheduler, maxPayloadBytes int) workflowservice.WorkflowServiceServer {
	return &scheduleServer{WorkflowServiceServer: srv, e: e, sch: sch, maxPayloadBytes: maxPayloadBytes}
}

// scheduleErr maps an error of the scheduler (engine codes, Temporal's messages), giving an
// unknown namespace Temporal's typed NamespaceNotFound.
func (s *scheduleServer) scheduleErr(namespace string, err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) && ee.Code == engine.CodeNotFound {
		if _, nerr := s.e.Namespace(context.Background(), namespace); nerr != nil {
			return namespaceErr(namespace, nerr)
		}
	}
	return toStatus(err)
}

// GetSystemInfo answers as the wrapped service does, with schedules declared supported.
func (s *scheduleServer) GetSystemInfo(ctx context.Context, req *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	resp, err := s.WorkflowServiceServer.GetSystemInfo(ctx, req)
	if err != nil {
		return nil, err
	}
	resp = proto.Clone(resp).(*workflowservice.GetSystemInfoResponse)
	if resp.Capabilities == nil {
		resp.Capabilities = &workflowservice.GetSystemInfoResponse_Capabilities{}
	}
	resp.Capabilities.SupportsSchedules = true
	return resp, nil
}

func (v *validator) scheduleID(id string) {
	v.check(id != "", "ScheduleId is not set on request.")
	v.check(len(scheduleWorkflowIDPrefix+id) <= maxIDLength, "WorkflowId length exceeds limit.")
	v.text("ScheduleId", id)
}

// schedule checks a schedule's action and state as Temporal's frontend does
// (validateStartWorkflowArgsForSchedule); the spec and search attributes are checked by the
// scheduler, which knows the namespace.
func (s *scheduleServer) validateSchedule(v *validator, sch *schedulepb.Schedule) {
	wf := sch.GetAction().GetStartWorkflow()
	if wf == nil {
		v.check(false, scheduleOnlyStartWorkflow)
		return
	}
	v.check(wf.GetWorkflowId() != "", "WorkflowId is not set on request.")
	v.check(len(wf.GetWorkflowId()+appendedTimestamp) <= maxIDLength, "WorkflowId length exceeds limit.")
	v.text("WorkflowId", wf.GetWorkflowId())
	v.check(wf.GetWorkflowType().GetName() != "", "WorkflowType is not set on request.")
	v.check(len(wf.GetWorkflowType().GetName()) <= maxNameLength, "WorkflowType length exceeds limit.")
	v.text("WorkflowType", wf.GetWorkflowType().GetName())
	v.check(wf.GetTaskQueue().GetName() != "", "TaskQueue is not set on request.")
	v.check(len(wf.GetTaskQueue().GetName()) <= maxNameLength, "TaskQueue length exceeds limit.")
	v.text("TaskQueue", wf.GetTaskQueue().GetName())
	v.check(wf.GetWorkflowExecutionTimeout().AsDuration() >= 0, "An invalid WorkflowExecutionTimeoutSeconds is set on request.")
	v.check(wf.GetWorkflowRunTimeout().AsDuration() >= 0, "An invalid WorkflowRunTimeoutSeconds is set on request.")
	v.check(wf.GetWorkflowTaskTimeout().AsDuration() >= 0, "An invalid WorkflowTaskTimeoutSeconds is set on request.")
	v.check(wf.GetCronSchedule() == "", "Scheduled workflow must not contain CronSchedule")
	v.check(wf.GetWorkflowIdReusePolicy() == enumspb.WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED ||
		wf.GetWorkflowIdReusePolicy() == enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		"Scheduled workflow must not contain WorkflowIDReusePolicy")
	v.retryPolicy(wf.GetRetryPolicy())
	v.payloadSize(wf.GetInput(), s.maxPayloadBytes, "Input")
	v.payloadSize(wf.GetMemo(), s.maxPayloadBytes, "Memo")
	v.payloadSize(wf.GetSearchAttributes(), s.maxPayloadBytes, "SearchAttributes")
	v.check(len(sch.GetState().GetNotes()) <= maxScheduleNotesLength, "Schedule notes exceeds limit.")
	v.check(sch.GetState().GetRemainingActions() >= 0, "RemainingActions cannot be negative.")
	v.check(sch.GetPolicies().GetCatchupWindow().AsDuration() >= 0, "CatchupWindow cannot be negative.")
}

// validatePatch checks a patch: notes within their limit, backfill ranges set.
func validatePatch(v *validator, p *schedulepb.SchedulePatch) {
	v.check(len(p.GetPause()) <= maxScheduleNotesLength && len(p.GetUnpause()) <= maxScheduleNotesLength, "Schedule notes exceeds limit.")
	for _, bf := range p.GetBackfillRequest() {
		v.check(bf.GetStartTime() != nil && bf.GetEndTime() != nil, "Backfill start and end times must be set.")
	}
}

// CreateSchedule creates a schedule, idempotent by request ID; an existing ID is
// WorkflowExecutionAlreadyStarted, as in Temporal.
func (s *scheduleServer) CreateSchedule(ctx context.Context, req *workflowservice.CreateScheduleRequest) (*workflowservice.CreateScheduleResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.scheduleID(req.GetScheduleId())
	v.check(req.GetRequestId() != "", "RequestId is not set on request.")
	v.check(len(req.GetRequestId()) <= maxIDLength, "RequestId length exceeds limit.")
	v.check(len(req.GetIdentity()) <= maxIDLength, "Identity length exceeds limit.")
	s.validateSchedule(v, req.GetSchedule())
	validatePatch(v, req.GetInitialPatch())
	v.payloadSize(req.GetMemo(), s.maxPayloadBytes, "Memo")
	v.payloadSize(req.GetSearchAttributes(), s.maxPayloadBytes, "SearchAttributes")
	if v.err != nil {
		return nil, v.err
	}
	resp, err := s.sch.Create(ctx, req)
	if err != nil {
		return nil, s.scheduleErr(req.GetNamespace(), err)
	}
	return resp, nil
}

// DescribeSchedule returns a schedule with its info and conflict token.
func (s *scheduleServer) DescribeSchedule(ctx context.Context, req *workflowservice.DescribeScheduleRequest) (*workflowservice.DescribeScheduleResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.scheduleID(req.GetScheduleId())
	if v.err != nil {
		return nil, v.err
	}
	resp, err := s.sch.Describe(ctx, req)
	if err != nil {
		return nil, s.scheduleErr(req.GetNamespace(), err)
	}
	return resp, nil
}

// UpdateSchedule replaces a schedule's configuration, checked against the conflict token if one
// is given; idempotent by request ID.
func (s *scheduleServer) UpdateSchedule(ctx context.Context, req *workflowservice.UpdateScheduleRequest) (*workflowservice.UpdateScheduleResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.scheduleID(req.GetScheduleId())
	v.check(len(req.GetRequestId()) <= maxIDLength, "RequestId length exceeds limit.")
	s.validateSchedule(v, req.GetSchedule())
	v.payloadSize(req.GetSearchAttributes(), s.maxPayloadBytes, "SearchAttributes")
	if v.err != nil {
		return nil, v.err
	}
	if err := s.sch.Update(ctx, req); err != nil {
		return nil, s.scheduleErr(req.GetNamespace(), err)
	}
	return &workflowservice.UpdateScheduleResponse{}, nil
}

// PatchSchedule triggers, backfills, pauses or unpauses a schedule; idempotent by request ID.
func (s *scheduleServer) PatchSchedule(ctx context.Context, req *workflowservice.PatchScheduleRequest) (*workflowservice.PatchScheduleResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.scheduleID(req.GetScheduleId())
	v.check(len(req.GetRequestId()) <= maxIDLength, "RequestId length exceeds limit.")
	v.check(req.GetPatch() != nil, "Patch is not set on request.")
	validatePatch(v, req.GetPatch())
	if v.err != nil {
		return nil, v.err
	}
	if err := s.sch.Patch(ctx, req); err != nil {
		return nil, s.scheduleErr(req.GetNamespace(), err)
	}
	return &workflowservice.PatchScheduleResponse{}, nil
}

// DeleteSchedule removes a schedule; the workflows it started go on.
func (s *scheduleServer) DeleteSchedule(ctx context.Context, req *workflowservice.DeleteScheduleRequest) (*workflowservice.DeleteScheduleResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.scheduleID(req.GetScheduleId())
	if v.err != nil {
		return nil, v.err
	}
	if err := s.sch.Delete(ctx, req); err != nil {
		return nil, s.scheduleErr(req.GetNamespace(), err)
	}
	return &workflowservice.DeleteScheduleResponse{}, nil
}

// ListSchedules lists a namespace's schedules, a page at a time, filtered by a query.
func (s *scheduleServer) ListSchedules(ctx context.Context, req *workflowservice.ListSchedulesRequest) (*workflowservice.ListSchedulesResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.check(req.GetMaximumPageSize() >= 0, "PageSize cannot be negative.")
	if v.err != nil {
		return nil, v.err
	}
	size := int(req.GetMaximumPageSize())
	if size == 0 || size > maxSchedulesListPageSize {
		size = maxSchedulesListPageSize
	}
	resp, err := s.sch.List(ctx, req, size)
	if err != nil {
		return nil, s.scheduleErr(req.GetNamespace(), err)
	}
	return resp, nil
}

// CountSchedules counts a namespace's schedules matching a query.
func (s *scheduleServer) CountSchedules(ctx context.Context, req *workflowservice.CountSchedulesRequest) (*workflowservice.CountSchedulesResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	if v.err != nil {
		return nil, v.err
	}
	n, err := s.sch.Count(ctx, req.GetNamespace(), req.GetQuery())
	if err != nil {
		return nil, s.scheduleErr(req.GetNamespace(), err)
	}
	return &workflowservice.CountSchedulesResponse{Count: n}, nil
}

// ListScheduleMatchingTimes lists the times a schedule's spec gives in a range.
func (s *scheduleServer) ListScheduleMatchingTimes(ctx context.Context, req *workflowservice.ListScheduleMatchingTimesRequest) (*workflowservice.ListScheduleMatchingTimesResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.scheduleID(req.GetScheduleId())
	if v.err != nil {
		return nil, v.err
	}
	resp, err := s.sch.ListMatchingTimes(ctx, req)
	if err != nil {
		return nil, s.scheduleErr(req.GetNamespace(), err)
	}
	return resp, nil
}
