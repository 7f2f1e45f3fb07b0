package schedule

import (
	"encoding/json"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	schedulepb "go.temporal.io/api/schedule/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Kind is the store record kind a schedule is kept under.
const Kind = "schedule"

// Temporal's scheduler tweakables (service/worker/scheduler, CurrentTweakablePolicies), which Duro
// keeps as constants.
const (
	// DefaultCatchupWindow applies when a schedule sets none.
	DefaultCatchupWindow = 365 * 24 * time.Hour
	// MinCatchupWindow is the smallest catch-up window a schedule may have.
	MinCatchupWindow = 10 * time.Second
	// RetentionTime is how long a schedule with nothing left to do (past its end time, or out of
	// remaining actions) is kept before it is deleted.
	RetentionTime = 7 * 24 * time.Hour
	// futureActionCount and recentActionCount bound the lists DescribeSchedule shows;
	// the ...ForList ones the lists ListSchedules shows.
	futureActionCount        = 10
	recentActionCount        = 10
	futureActionCountForList = 5
	recentActionCountForList = 5
	// maxBufferSize bounds the buffered starts (and the queued backfills); past it a start is
	// dropped and counted in BufferDropped.
	maxBufferSize = 1000
	// backfillsPerStep is how many backfilled times one processing step takes.
	backfillsPerStep = 10
	// specFieldLimit bounds each spec list shown in ListSchedules.
	specFieldLimit = 10
	// maxMatchingTimes bounds one ListScheduleMatchingTimes answer.
	maxMatchingTimes = 1000
	// rememberedRequests is how many patch and update request IDs a schedule remembers, so a
	// client's retry is answered without applying the change twice.
	rememberedRequests = 64
)

// state is a schedule as its record keeps it: what the user gave (the Schedule proto with its
// policies and state, memo and search attributes), what it has done (Info) and the scheduler's
// own progress. It is encoded whole into the record's Data and rewritten with compare-and-set.
type state struct {
	Schedule         *schedulepb.Schedule
	Info             *schedulepb.ScheduleInfo
	Memo             *commonpb.Memo
	SearchAttributes *commonpb.SearchAttributes

	ConflictToken int64
	// NamespaceID and ID make the jitter seed, as Temporal's "<namespace ID>-<schedule ID>".
	NamespaceID, Namespace, ID string
	// Incarnation tells this schedule apart from an earlier one with the same ID (deleted and
	// created again): the request IDs of its starts are derived from it.
	Incarnation     string
	CreateRequestID string
	// RequestIDs are the latest patch and update request IDs applied, oldest first.
	RequestIDs []string

	// LastProcessed is the time up to which the spec's times have been looked at: every time at
	// or before it was started, buffered, skipped or counted missed, and none after it was.
	LastProcessed time.Time
	// NextSeq numbers the starts the scheduler decides to make; a start's request ID is derived
	// from its number, so a start retried after a crash is recognised by the engine.
	NextSeq int64
	// Buffer holds starts waiting for the overlap policy to let them run.
	Buffer []*bufferedStart
	// Backfills are the backfill ranges still to go through, oldest request first; Start moves
	// forward as times are taken, so a restart neither repeats nor skips one.
	Backfills []*backfill
	// Pending are starts decided and recorded but not yet known to have been made; Kills are
	// cancel or terminate requests of the overlap policy not yet made. Both are done by the next
	// processing step, before anything else.
	Pending []*pendingStart
	Kills   []*kill
	// Killed holds the run IDs a cancel or terminate was already sent to.
	Killed []string
	// RetryAt delays the next attempt at Pending and Kills after a transient failure.
	RetryAt time.Time

	LastCompletionResult *commonpb.Payloads
	ContinuedFailure     *failurepb.Failure
}

// bufferedStart is a time (or a trigger) waiting for its overlap policy.
type bufferedStart struct {
	Nominal time.Time                     `json:"nominal"`
	Actual  time.Time                     `json:"actual"`
	Overlap enumspb.ScheduleOverlapPolicy `json:"overlap,omitempty"`
	Manual  bool                          `json:"manual,omitempty"`
}

// backfill is what remains of one backfill request: the times after Start and up to End.
type backfill struct {
	Start   time.Time                     `json:"start"`
	End     time.Time                     `json:"end"`
	Overlap enumspb.ScheduleOverlapPolicy `json:"overlap,omitempty"`
}

// pendingStart is a start the scheduler has decided on.
type pendingStart struct {
	Seq        int64                         `json:"seq"`
	Nominal    time.Time                     `json:"nominal"`
	Actual     time.Time                     `json:"actual"`
	Overlap    enumspb.ScheduleOverlapPolicy `json:"overlap"`
	Manual     bool                          `json:"manual,omitempty"`
	WorkflowID string                        `json:"workflowId"`
	RequestID  string                        `json:"requestId"`
	// Tracked starts (all but ALLOW_ALL) join RunningWorkflows, which the overlap policy of
	// later starts looks at.
	Tracked bool `json:"tracked,omitempty"`
}

// kill is a cancel (or terminate) of a run the overlap policy asked for.
type kill struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Terminate  bool   `json:"terminate,omitempty"`
}

// stored is the record's encoding of a state: JSON, with the protos as their binary encoding.
type stored struct {
	Schedule         []byte `json:"schedule"`
	Info             []byte `json:"info"`
	Memo             []byte `json:"memo,omitempty"`
	SearchAttributes []byte `json:"searchAttributes,omitempty"`
	LastCompletion   []byte `json:"lastCompletion,omitempty"`
	ContinuedFailure []byte `json:"continuedFailure,omitempty"`

	ConflictToken   int64            `json:"conflictToken"`
	NamespaceID     string           `json:"namespaceId"`
	Namespace       string           `json:"namespace"`
	ID              string           `json:"id"`
	Incarnation     string           `json:"incarnation"`
	CreateRequestID string           `json:"createRequestId,omitempty"`
	RequestIDs      []string         `json:"requestIds,omitempty"`
	LastProcessed   time.Time        `json:"lastProcessed"`
	NextSeq         int64            `json:"nextSeq"`
	Buffer          []*bufferedStart `json:"buffer,omitempty"`
	Backfills       []*backfill      `json:"backfills,omitempty"`
	Pending         []*pendingStart  `json:"pending,omitempty"`
	Kills           []*kill          `json:"kills,omitempty"`
	Killed          []string         `json:"killed,omitempty"`
	RetryAt         time.Time        `json:"retryAt,omitzero"`
}

func marshalOpt(m proto.Message) ([]byte, error) {
	if m == nil || !m.ProtoReflect().IsValid() {
		return nil, nil
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// encode serialises st for its record.
func (st *state) encode() ([]byte, error) {
	s := stored{
		ConflictToken: st.ConflictToken, NamespaceID: st.NamespaceID, Namespace: st.Namespace, ID: st.ID,
		Incarnation: st.Incarnation, CreateRequestID: st.CreateRequestID, RequestIDs: st.RequestIDs,
		LastProcessed: st.LastProcessed, NextSeq: st.NextSeq, Buffer: st.Buffer, Backfills: st.Backfills,
		Pending: st.Pending, Kills: st.Kills, Killed: st.Killed, RetryAt: st.RetryAt,
	}
	var err error
	for _, f := range []struct {
		dst *[]byte
		m   proto.Message
	}{
		{&s.Schedule, st.Schedule}, {&s.Info, st.Info}, {&s.Memo, st.Memo}, {&s.SearchAttributes, st.SearchAttributes},
		{&s.LastCompletion, st.LastCompletionResult}, {&s.ContinuedFailure, st.ContinuedFailure},
	} {
		if *f.dst, err = marshalOpt(f.m); err != nil {
			return nil, fmt.Errorf("encode schedule %s: %w", st.ID, err)
		}
	}
	data, err := json.Marshal(&s)
	if err != nil {
		return nil, fmt.Errorf("encode schedule %s: %w", st.ID, err)
	}
	return data, nil
}

// decode reads a state from its record's Data.
func decode(data []byte) (*state, error) {
	var s stored
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode schedule: %w", err)
	}
	st := &state{
		Schedule: &schedulepb.Schedule{}, Info: &schedulepb.ScheduleInfo{},
		ConflictToken: s.ConflictToken, NamespaceID: s.NamespaceID, Namespace: s.Namespace, ID: s.ID,
		Incarnation: s.Incarnation, CreateRequestID: s.CreateRequestID, RequestIDs: s.RequestIDs,
		LastProcessed: s.LastProcessed, NextSeq: s.NextSeq, Buffer: s.Buffer, Backfills: s.Backfills,
		Pending: s.Pending, Kills: s.Kills, Killed: s.Killed, RetryAt: s.RetryAt,
	}
	if err := proto.Unmarshal(s.Schedule, st.Schedule); err != nil {
		return nil, fmt.Errorf("decode schedule %s: %w", s.ID, err)
	}
	if err := proto.Unmarshal(s.Info, st.Info); err != nil {
		return nil, fmt.Errorf("decode schedule %s info: %w", s.ID, err)
	}
	if len(s.Memo) > 0 {
		st.Memo = &commonpb.Memo{}
		if err := proto.Unmarshal(s.Memo, st.Memo); err != nil {
			return nil, fmt.Errorf("decode schedule %s memo: %w", s.ID, err)
		}
	}
	if len(s.SearchAttributes) > 0 {
		st.SearchAttributes = &commonpb.SearchAttributes{}
		if err := proto.Unmarshal(s.SearchAttributes, st.SearchAttributes); err != nil {
			return nil, fmt.Errorf("decode schedule %s search attributes: %w", s.ID, err)
		}
	}
	if len(s.LastCompletion) > 0 {
		st.LastCompletionResult = &commonpb.Payloads{}
		if err := proto.Unmarshal(s.LastCompletion, st.LastCompletionResult); err != nil {
			return nil, fmt.Errorf("decode schedule %s last completion: %w", s.ID, err)
		}
	}
	if len(s.ContinuedFailure) > 0 {
		st.ContinuedFailure = &failurepb.Failure{}
		if err := proto.Unmarshal(s.ContinuedFailure, st.ContinuedFailure); err != nil {
			return nil, fmt.Errorf("decode schedule %s continued failure: %w", s.ID, err)
		}
	}
	st.ensureFields()
	return st, nil
}

// ensureFields gives every part of the schedule a value and resolves the defaults eagerly, so that
// DescribeSchedule shows them, as Temporal does: the overlap policy (SKIP) and the catch-up window
// (one year, at least ten seconds).
func (st *state) ensureFields() {
	s := st.Schedule
	if s.Spec == nil {
		s.Spec = &schedulepb.ScheduleSpec{}
	}
	if s.Action == nil {
		s.Action = &schedulepb.ScheduleAction{}
	}
	if s.Policies == nil {
		s.Policies = &schedulepb.SchedulePolicies{}
	}
	if s.State == nil {
		s.State = &schedulepb.ScheduleState{}
	}
	s.Policies.OverlapPolicy = st.resolveOverlap(s.Policies.OverlapPolicy)
	s.Policies.CatchupWindow = durationpb.New(st.catchupWindow())
	if st.Info == nil {
		st.Info = &schedulepb.ScheduleInfo{}
	}
}

// catchupWindow is the schedule's catch-up window with Temporal's default and minimum.
func (st *state) catchupWindow() time.Duration {
	cw := st.Schedule.GetPolicies().GetCatchupWindow()
	switch {
	case cw == nil:
		return DefaultCatchupWindow
	case cw.AsDuration() < MinCatchupWindow:
		return MinCatchupWindow
	default:
		return cw.AsDuration()
	}
}

// resolveOverlap gives an unspecified overlap policy the schedule's, and that SKIP's.
func (st *state) resolveOverlap(p enumspb.ScheduleOverlapPolicy) enumspb.ScheduleOverlapPolicy {
	if p == enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED {
		p = st.Schedule.GetPolicies().GetOverlapPolicy()
	}
	if p == enumspb.SCHEDULE_OVERLAP_POLICY_UNSPECIFIED {
		p = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
	}
	return p
}

// seenRequest reports whether a patch or update with this request ID was already applied.
func (st *state) seenRequest(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range st.RequestIDs {
		if r == id {
			return true
		}
	}
	return false
}

// rememberRequest records an applied request ID, forgetting the oldest past the bound.
func (st *state) rememberRequest(id string) {
	if id == "" {
		return
	}
	st.RequestIDs = append(st.RequestIDs, id)
	if n := len(st.RequestIDs); n > rememberedRequests {
		st.RequestIDs = append([]string(nil), st.RequestIDs[n-rememberedRequests:]...)
	}
}
