package engine

import (
	"encoding/json"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// mutableState is the derived, per-run state the engine keeps beside the history so that a
// transition never replays the history. It is serialized whole into the execution row by every
// transition (the record version fences concurrent writers) and cached between transitions.
//
// Payload-bearing pieces are kept as serialized protos ([]byte) so they are copied, not decoded, on
// the hot path.
type mutableState struct {
	Namespace  string `json:"ns"`
	WorkflowID string `json:"wid"`
	RunID      string `json:"rid"`
	FirstRunID string `json:"frid"`

	WorkflowType string `json:"wt"`
	TaskQueue    string `json:"tq"`

	WorkflowTaskTimeout time.Duration `json:"wftTimeout"`
	RunTimeout          time.Duration `json:"runTimeout,omitempty"`
	ExecutionTimeout    time.Duration `json:"execTimeout,omitempty"`

	StartTime      time.Time `json:"start"`
	ExecutionTime  time.Time `json:"execTime"`
	CloseTime      time.Time `json:"close,omitempty"`
	Status         int32     `json:"status"`
	StartRequestID string    `json:"startReq,omitempty"`
	Attempt        int32     `json:"attempt"`

	ExecutionExpiration time.Time   `json:"expires,omitempty"`
	Parent              *parentInfo `json:"parent,omitempty"`
	CronSchedule        string      `json:"cron,omitempty"`
	// RetryPolicy and Header are the serialized workflow retry policy and start header.
	RetryPolicy []byte `json:"retry,omitempty"`
	Header      []byte `json:"header,omitempty"`

	Children map[int64]*childInfo `json:"children,omitempty"`
	// Updates records accepted updates by update ID (rejected ones never reach the history).
	Updates map[string]*updateInfo `json:"updates,omitempty"`
	// External holds pending signal-external and cancel-external requests by initiated event ID.
	External map[int64]*externalInfo `json:"external,omitempty"`

	// Memo and SearchAttributes are serialized commonpb.Memo / commonpb.SearchAttributes.
	Memo             []byte `json:"memo,omitempty"`
	SearchAttributes []byte `json:"sa,omitempty"`

	// NextEventID is the ID the next persisted event gets.
	NextEventID int64 `json:"next"`
	// LastCompletedWFTStartedID is previous_started_event_id for the next workflow task.
	LastCompletedWFTStartedID int64 `json:"prevStarted"`
	HistorySize               int64 `json:"histSize"`
	// CompletionEventID is the close event's ID once the run is closed.
	CompletionEventID int64 `json:"closeEvent,omitempty"`

	WFT *workflowTask `json:"wft,omitempty"`
	// Buffered holds events (serialized, without IDs) that arrived while a workflow task was started;
	// they are written after that task's completion (temporal-protocol.md, fact 2).
	Buffered [][]byte `json:"buffered,omitempty"`

	Activities map[int64]*activityInfo `json:"acts,omitempty"`
	Timers     map[string]*timerInfo   `json:"timers,omitempty"`

	// SignalRequestIDs makes Signal idempotent by request ID (DESIGN.md, invariant 4).
	SignalRequestIDs map[string]bool `json:"sigReqs,omitempty"`
	SignalCount      int64           `json:"signals,omitempty"`
	CancelRequested  bool            `json:"cancelReq,omitempty"`
	CancelRequestID  string          `json:"cancelReqID,omitempty"`

	// StickyQueue is the worker-specific queue workflow tasks go to while set.
	StickyQueue           string        `json:"sticky,omitempty"`
	StickyScheduleToStart time.Duration `json:"stickyTimeout,omitempty"`

	// SFN is set on a Step Functions execution (sfn.go), driven by the ASL decider; sfn is its
	// live decider, cached with this state and rebuilt from history, never serialized.
	SFN *sfnInfo `json:"sfn,omitempty"`
	sfn *sfnRun
}

// workflowTask is the one pending (scheduled or started) workflow task of a run.
type workflowTask struct {
	// ScheduledEventID is 0 for a transient task until it starts (attempts >= 2 are transient: their
	// Scheduled and Started events are written only when the task completes).
	ScheduledEventID int64     `json:"sched"`
	StartedEventID   int64     `json:"started,omitempty"`
	Attempt          int32     `json:"attempt"`
	Transient        bool      `json:"transient,omitempty"`
	TaskQueue        string    `json:"tq"`
	Sticky           bool      `json:"sticky,omitempty"`
	ScheduledTime    time.Time `json:"schedTime"`
	StartedTime      time.Time `json:"startedTime,omitempty"`
	RequestID        string    `json:"req,omitempty"`
	Identity         string    `json:"identity,omitempty"`
}

func (w *workflowTask) started() bool { return w != nil && w.StartedEventID != 0 }

// activityInfo is one pending activity. Failed attempts write no events: the attempt counter,
// last failure and heartbeat details live here until the activity closes.
type activityInfo struct {
	ScheduledEventID int64  `json:"sched"`
	ActivityID       string `json:"id"`
	ActivityType     string `json:"type"`
	TaskQueue        string `json:"tq"`
	// Attrs is the serialized ActivityTaskScheduledEventAttributes (input, header, normalized
	// timeouts and retry policy) as recorded in history.
	Attrs []byte `json:"attrs"`

	ScheduleToClose time.Duration `json:"s2c,omitempty"`
	ScheduleToStart time.Duration `json:"s2s,omitempty"`
	StartToClose    time.Duration `json:"st2c"`
	Heartbeat       time.Duration `json:"hb,omitempty"`

	Attempt                     int32     `json:"attempt"`
	FirstScheduledTime          time.Time `json:"firstSched"`
	CurrentAttemptScheduledTime time.Time `json:"attemptSched"`
	Started                     bool      `json:"started,omitempty"`
	StartedTime                 time.Time `json:"startedTime,omitempty"`
	StartedIdentity             string    `json:"identity,omitempty"`
	StartRequestID              string    `json:"req,omitempty"`
	LastHeartbeat               time.Time `json:"lastHB,omitempty"`
	// HeartbeatDetails is a serialized commonpb.Payloads, handed to the next attempt.
	HeartbeatDetails []byte `json:"hbDetails,omitempty"`
	// LastFailure is a serialized failurepb.Failure of the last failed attempt.
	LastFailure     []byte `json:"lastFailure,omitempty"`
	LastWorker      string `json:"lastWorker,omitempty"`
	CancelRequested bool   `json:"cancelReq,omitempty"`
	// Retry policy, normalized.
	RetryInitial     time.Duration `json:"rInit"`
	RetryCoefficient float64       `json:"rCoef"`
	RetryMaximum     time.Duration `json:"rMax"`
	RetryMaxAttempts int32         `json:"rAttempts"`
	NonRetryable     []string      `json:"rNon,omitempty"`
	// Callback marks a Step Functions .waitForTaskToken task: its token is handed out before
	// any worker starts it, so it may be completed unstarted.
	Callback bool `json:"cb,omitempty"`
}

// timerInfo is one pending user timer.
type timerInfo struct {
	TimerID        string    `json:"id"`
	StartedEventID int64     `json:"started"`
	FireTime       time.Time `json:"fire"`
}

func (ms *mutableState) open() bool {
	return ms.Status == int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)
}

func (ms *mutableState) encode() ([]byte, error) {
	b, err := json.Marshal(ms)
	if err != nil {
		return nil, fmt.Errorf("encode mutable state: %w", err)
	}
	return b, nil
}

func decodeState(b []byte) (*mutableState, error) {
	ms := &mutableState{}
	if err := json.Unmarshal(b, ms); err != nil {
		return nil, fmt.Errorf("decode mutable state: %w", err)
	}
	return ms, nil
}

func (ms *mutableState) activityByID(id string) *activityInfo {
	for _, a := range ms.Activities {
		if a.ActivityID == id {
			return a
		}
	}
	return nil
}

// childInfo is one child workflow the run started.
type childInfo struct {
	InitiatedID    int64  `json:"initiated"`
	StartedEventID int64  `json:"started,omitempty"`
	Namespace      string `json:"ns"`
	WorkflowID     string `json:"wid"`
	RunID          string `json:"rid,omitempty"`
	WorkflowType   string `json:"type"`
	// Attrs is the serialized StartChildWorkflowExecutionInitiatedEventAttributes.
	Attrs             []byte `json:"attrs"`
	ParentClosePolicy int32  `json:"pcp"`
}

// externalInfo is a pending signal or cancel request to another workflow.
type externalInfo struct {
	Cancel     bool   `json:"cancel,omitempty"`
	Namespace  string `json:"ns"`
	WorkflowID string `json:"wid"`
	RunID      string `json:"rid,omitempty"`
	Control    string `json:"control,omitempty"`
	// Attrs is the serialized Initiated event attributes.
	Attrs []byte `json:"attrs"`
}
