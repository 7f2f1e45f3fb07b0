package schedule

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/store"
	"github.com/google/uuid"
)

// The Schedules API. The frontend validates the shape of each request (IDs, lengths, the action's
// fields) and maps the errors, which are *engine.Error values with Temporal's codes and messages;
// these methods check what needs the store or the namespace (the spec, search attributes) and
// apply the change with compare-and-set.

// maxAPIRetries bounds the compare-and-set retries of one API call racing the loop.
const maxAPIRetries = 8

func notFound() error {
	return &engine.Error{Code: engine.CodeNotFound, Message: "schedule not found"}
}

func invalid(format string, args ...any) error {
	return &engine.Error{Code: engine.CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func unavailable(err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return err
	}
	return &engine.Error{Code: engine.CodeUnavailable, Message: "store unavailable: " + err.Error()}
}

// conflictToken encodes a conflict token as Temporal does: 8 bytes, big-endian.
func conflictToken(t int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(t))
	return b
}

// canonical compiles a spec and returns its canonical form, or InvalidArgument.
func (s *Scheduler) canonical(spec *schedulepb.ScheduleSpec) (Spec, *schedulepb.ScheduleSpec, error) {
	if spec == nil {
		spec = &schedulepb.ScheduleSpec{}
	}
	sp, canon, err := s.cfg.Compile(spec)
	if err != nil {
		return nil, nil, invalid("Invalid schedule spec: %v", err)
	}
	return sp, canon, nil
}

// Create serves CreateSchedule. A retry with the request ID of the call that created the schedule
// succeeds again; any other create of an existing ID is CodeAlreadyStarted, which Temporal answers
// (WorkflowExecutionAlreadyStarted, the SDK's ErrScheduleAlreadyRunning).
func (s *Scheduler) Create(ctx context.Context, req *workflowservice.CreateScheduleRequest) (*workflowservice.CreateScheduleResponse, error) {
	ns, err := s.e.Namespace(ctx, req.GetNamespace())
	if err != nil {
		return nil, err
	}
	sched := proto.Clone(req.GetSchedule()).(*schedulepb.Schedule)
	if sched == nil {
		sched = &schedulepb.Schedule{}
	}
	sp, canon, err := s.canonical(sched.GetSpec())
	if err != nil {
		return nil, err
	}
	sched.Spec = canon
	if err := s.checkSearchAttributes(ctx, req.GetNamespace(), sched.GetAction().GetStartWorkflow().GetSearchAttributes()); err != nil {
		return nil, err
	}
	sa := proto.Clone(req.GetSearchAttributes()).(*commonpb.SearchAttributes)
	if err := s.checkSearchAttributes(ctx, req.GetNamespace(), sa); err != nil {
		return nil, err
	}
	if len(sa.GetIndexedFields()) == 0 {
		sa = nil
	}
	now := s.clock.Now().UTC()
	st := &state{
		Schedule: sched, Info: &schedulepb.ScheduleInfo{CreateTime: timestamppb.New(now)},
		Memo: req.GetMemo(), SearchAttributes: sa, ConflictToken: 1,
		NamespaceID: ns.ID, Namespace: req.GetNamespace(), ID: req.GetScheduleId(),
		Incarnation: uuid.NewString(), CreateRequestID: req.GetRequestId(), LastProcessed: now,
	}
	if len(st.Memo.GetFields()) == 0 {
		st.Memo = nil
	}
	st.ensureFields()
	if p := req.GetInitialPatch(); p != nil {
		st.applyPatch(p, now)
	}
	st.advance(sp, now)
	data, err := st.encode()
	if err != nil {
		return nil, err
	}
	k := key{req.GetNamespace(), req.GetScheduleId()}
	_, err = s.store.PutRecord(ctx, store.Record{
		Namespace: k.namespace, Kind: Kind, Name: k.id, Data: data, WakeAt: st.wakeAt(sp, now, s.cfg.WaitPoll),
		CreatedAt: now, UpdatedAt: now,
	}, 0)
	if errors.Is(err, store.ErrAlreadyExists) {
		rec, gerr := s.store.GetRecord(ctx, k.namespace, Kind, k.id)
		if gerr == nil {
			if cur, derr := decode(rec.Data); derr == nil && req.GetRequestId() != "" && cur.CreateRequestID == req.GetRequestId() {
				return &workflowservice.CreateScheduleResponse{ConflictToken: conflictToken(cur.ConflictToken)}, nil
			}
		}
		return nil, &engine.Error{Code: engine.CodeAlreadyStarted, StartRequestID: req.GetRequestId(),
			Message: fmt.Sprintf("schedule %q is already registered", req.GetScheduleId())}
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("create schedule: %w", err))
	}
	s.kick(k)
	return &workflowservice.CreateScheduleResponse{ConflictToken: conflictToken(st.ConflictToken)}, nil
}

// load reads and decodes a schedule record.
func (s *Scheduler) load(ctx context.Context, namespace, id string) (*store.Record, *state, error) {
	if _, err := s.e.Namespace(ctx, namespace); err != nil {
		return nil, nil, err
	}
	rec, err := s.store.GetRecord(ctx, namespace, Kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound()
	}
	if err != nil {
		return nil, nil, unavailable(fmt.Errorf("read schedule: %w", err))
	}
	st, err := decode(rec.Data)
	if err != nil {
		return nil, nil, &engine.Error{Code: engine.CodeInternal, Message: err.Error()}
	}
	return rec, st, nil
}

// Describe serves DescribeSchedule: the schedule with its defaults resolved, its info with the
// next ten action times, and the running workflows as they are now (one that has closed but is not
// yet recorded as such is left out, and its schedule is told to look).
func (s *Scheduler) Describe(ctx context.Context, req *workflowservice.DescribeScheduleRequest) (*workflowservice.DescribeScheduleResponse, error) {
	rec, st, err := s.load(ctx, req.GetNamespace(), req.GetScheduleId())
	if err != nil {
		return nil, err
	}
	sp := s.compiled(st)
	info := proto.Clone(st.Info).(*schedulepb.ScheduleInfo)
	info.FutureActionTimes = st.futureTimes(sp, futureActionCount)
	info.BufferSize = int64(len(st.Buffer))
	info.StateSizeBytes = int64(len(rec.Data))
	info.RunningWorkflows = nil
	stale := false
	for _, ex := range st.Info.GetRunningWorkflows() {
		status, _, ok := s.chainStatus(ctx, st, ex)
		if ok && status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			stale = true
			continue
		}
		info.RunningWorkflows = append(info.RunningWorkflows, ex)
	}
	if stale {
		s.kick(key{req.GetNamespace(), req.GetScheduleId()})
	}
	return &workflowservice.DescribeScheduleResponse{
		Schedule:         st.Schedule,
		Info:             info,
		Memo:             st.Memo,
		SearchAttributes: st.SearchAttributes,
		ConflictToken:    conflictToken(st.ConflictToken),
	}, nil
}

// modify applies fn to a schedule under compare-and-set, after moving it to now (so the times due
// before the change take effect under the schedule as it was, as in Temporal's scheduler, which
// processes the elapsed time before a signal). fn returning errNoChange leaves the record as it is.
func (s *Scheduler) modify(ctx context.Context, namespace, id string, fn func(st *state, now time.Time) error) error {
	k := key{namespace, id}
	unlock := s.locks.Lock(k)
	defer unlock()
	for try := 0; ; try++ {
		rec, st, err := s.load(ctx, namespace, id)
		if err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		sp := s.compiled(st)
		if len(st.Pending) == 0 && len(st.Kills) == 0 {
			st.advance(sp, now)
		}
		if err := fn(st, now); err != nil {
			if errors.Is(err, errNoChange) {
				return nil
			}
			return err
		}
		sp = s.compiled(st)
		st.planBuffer()
		data, err := st.encode()
		if err != nil {
			return err
		}
		next := *rec
		next.Data, next.WakeAt, next.UpdatedAt = data, st.wakeAt(sp, now, s.cfg.WaitPoll), now
		_, err = s.store.PutRecord(ctx, next, rec.Version)
		switch {
		case err == nil:
			s.kick(k)
			return nil
		case errors.Is(err, store.ErrNotFound):
			return notFound()
		case errors.Is(err, store.ErrConflict) && try < maxAPIRetries:
			continue
		default:
			return unavailable(fmt.Errorf("write schedule: %w", err))
		}
	}
}

var errNoChange = errors.New("no change")

// Update serves UpdateSchedule: the schedule's spec, action, policies and state are replaced (its
// info is kept), and its search attributes if the request has some. A conflict token that no
// longer matches is refused (CodeFailedPrecondition, as Temporal's CHASM scheduler does); a retry
// with the request ID of an applied update succeeds without applying it twice.
func (s *Scheduler) Update(ctx context.Context, req *workflowservice.UpdateScheduleRequest) error {
	sched := proto.Clone(req.GetSchedule()).(*schedulepb.Schedule)
	if sched == nil {
		sched = &schedulepb.Schedule{}
	}
	_, canon, err := s.canonical(sched.GetSpec())
	if err != nil {
		return err
	}
	sched.Spec = canon
	if err := s.checkSearchAttributes(ctx, req.GetNamespace(), sched.GetAction().GetStartWorkflow().GetSearchAttributes()); err != nil {
		return err
	}
	sa := req.GetSearchAttributes()
	if sa != nil {
		sa = proto.Clone(sa).(*commonpb.SearchAttributes)
		if err := s.checkSearchAttributes(ctx, req.GetNamespace(), sa); err != nil {
			return err
		}
	}
	return s.modify(ctx, req.GetNamespace(), req.GetScheduleId(), func(st *state, now time.Time) error {
		if st.seenRequest(req.GetRequestId()) {
			return errNoChange
		}
		if tok := req.GetConflictToken(); len(tok) >= 8 && int64(binary.BigEndian.Uint64(tok)) != st.ConflictToken {
			return &engine.Error{Code: engine.CodeFailedPrecondition, Message: "mismatched conflict token"}
		}
		st.applyUpdate(sched, sa, now)
		st.rememberRequest(req.GetRequestId())
		return nil
	})
}

// Patch serves PatchSchedule: trigger now, backfill, pause or unpause. A retry with the request ID
// of an applied patch succeeds without applying it twice.
func (s *Scheduler) Patch(ctx context.Context, req *workflowservice.PatchScheduleRequest) error {
	return s.modify(ctx, req.GetNamespace(), req.GetScheduleId(), func(st *state, now time.Time) error {
		if st.seenRequest(req.GetRequestId()) {
			return errNoChange
		}
		st.applyPatch(req.GetPatch(), now)
		st.rememberRequest(req.GetRequestId())
		return nil
	})
}

// Delete serves DeleteSchedule. The workflows it started go on.
func (s *Scheduler) Delete(ctx context.Context, req *workflowservice.DeleteScheduleRequest) error {
	if _, err := s.e.Namespace(ctx, req.GetNamespace()); err != nil {
		return err
	}
	k := key{req.GetNamespace(), req.GetScheduleId()}
	unlock := s.locks.Lock(k)
	defer unlock()
	err := s.store.DeleteRecord(ctx, k.namespace, Kind, k.id, 0)
	if errors.Is(err, store.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		return unavailable(fmt.Errorf("delete schedule: %w", err))
	}
	s.watch(k, nil)
	return nil
}

// ListMatchingTimes serves ListScheduleMatchingTimes: the schedule's action times after start and
// at or before end, at most a thousand.
func (s *Scheduler) ListMatchingTimes(ctx context.Context, req *workflowservice.ListScheduleMatchingTimesRequest) (*workflowservice.ListScheduleMatchingTimesResponse, error) {
	if req.GetStartTime() == nil || req.GetEndTime() == nil {
		return nil, invalid("missing or invalid query")
	}
	_, st, err := s.load(ctx, req.GetNamespace(), req.GetScheduleId())
	if err != nil {
		return nil, err
	}
	sp := s.compiled(st)
	if sp == nil {
		return nil, invalid("invalid schedule: %s", st.Info.InvalidScheduleError)
	}
	end := req.GetEndTime().AsTime()
	resp := &workflowservice.ListScheduleMatchingTimesResponse{}
	t := req.GetStartTime().AsTime()
	for range maxMatchingTimes {
		nominal, actual, ok := sp.Next(t, st.seed())
		if !ok || actual.After(end) {
			break
		}
		resp.StartTime = append(resp.StartTime, timestamppb.New(actual))
		t = nominal
	}
	return resp, nil
}

// List serves ListSchedules: the namespace's schedules in ID order, filtered by a query over
// their search attributes, TemporalSchedulePaused and ScheduleId, one page at a time (the token is
// the last ID of the page).
func (s *Scheduler) List(ctx context.Context, req *workflowservice.ListSchedulesRequest, pageSize int) (*workflowservice.ListSchedulesResponse, error) {
	if _, err := s.e.Namespace(ctx, req.GetNamespace()); err != nil {
		return nil, err
	}
	filter, err := s.parseListQuery(ctx, req.GetNamespace(), req.GetQuery())
	if err != nil {
		return nil, err
	}
	after := string(req.GetNextPageToken())
	resp := &workflowservice.ListSchedulesResponse{}
	for {
		recs, err := s.store.ListRecords(ctx, req.GetNamespace(), Kind, after, pageSize)
		if err != nil {
			return nil, unavailable(fmt.Errorf("list schedules: %w", err))
		}
		for i, r := range recs {
			after = r.Name
			st, err := decode(r.Data)
			if err != nil {
				s.log.Warn("undecodable schedule left out of a listing", "namespace", r.Namespace, "schedule", r.Name, "error", err)
				continue
			}
			if filter != nil && !filter.matches(st) {
				continue
			}
			resp.Schedules = append(resp.Schedules, &schedulepb.ScheduleListEntry{
				ScheduleId: st.ID, Memo: st.Memo, SearchAttributes: st.SearchAttributes, Info: st.listInfo(s.compiled(st)),
			})
			if len(resp.Schedules) == pageSize && (i < len(recs)-1 || len(recs) == pageSize) {
				resp.NextPageToken = []byte(after)
				return resp, nil
			}
		}
		if len(recs) < pageSize {
			return resp, nil
		}
	}
}

// Count serves CountSchedules: the namespace's schedules matching the query.
func (s *Scheduler) Count(ctx context.Context, namespace, query string) (int64, error) {
	if _, err := s.e.Namespace(ctx, namespace); err != nil {
		return 0, err
	}
	filter, err := s.parseListQuery(ctx, namespace, query)
	if err != nil {
		return 0, err
	}
	var n int64
	after := ""
	for {
		recs, err := s.store.ListRecords(ctx, namespace, Kind, after, maxMatchingTimes)
		if err != nil {
			return 0, unavailable(fmt.Errorf("count schedules: %w", err))
		}
		for _, r := range recs {
			after = r.Name
			if filter == nil {
				n++
				continue
			}
			if st, err := decode(r.Data); err == nil && filter.matches(st) {
				n++
			}
		}
		if len(recs) < maxMatchingTimes {
			return n, nil
		}
	}
}
