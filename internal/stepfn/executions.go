package stepfn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/duro-dev/duro/asl/jsonv"
	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/visibility"
)

// An execution is an engine run (engine/sfn.go) whose workflow ID is "<machine>:<name>" — the
// tail of its ARN, unique per machine as AWS keeps execution names — whose workflow type is the
// machine's name and whose task queue, as visibility shows it, is [TaskQueue]. Temporal's API and
// CLI see it like any workflow.

// TaskQueue is the task queue visibility shows for executions; no workflow task is ever
// scheduled on it.
const TaskQueue = engine.SFNTaskQueue

// LocalQueue is the activity task queue of Task states whose resource is not a Step Functions
// activity; the node's local resource runner serves it (localtasks.go).
const LocalQueue = "duro.stepfunctions.local"

func workflowID(machine, name string) string { return machine + ":" + name }

// execName resolves an execution ARN to its machine and execution names.
func (s *Service) execName(arn string) (machine, name string, err error) {
	a, err := sfn.ParseARN(arn, "execution")
	if err != nil {
		return "", "", err
	}
	if !s.cfg.ARN.Local(a) || len(a.Parts) != 2 {
		return "", "", errNoExecution(arn)
	}
	return a.Parts[0], a.Parts[1], nil
}

func errNoExecution(arn string) error {
	return sfn.Errorf(sfn.KindExecutionDoesNotExist, "Execution Does Not Exist: '%s'", arn)
}

// engineErr turns an engine error into the Step Functions error a client expects; notFound is
// the error for a missing execution or task.
func engineErr(err error, notFound error) error {
	var ee *engine.Error
	if !errors.As(err, &ee) {
		return err
	}
	switch ee.Code {
	case engine.CodeNotFound:
		if notFound != nil {
			return notFound
		}
	case engine.CodeInvalidArgument:
		return sfn.Errorf(sfn.KindValidation, "%s", ee.Message)
	case engine.CodeUnavailable, engine.CodeCanceled, engine.CodeDeadlineExceeded:
		return sfn.Errorf(sfn.KindServiceUnavailable, "%s", ee.Message)
	case engine.CodeResourceExhausted:
		return sfn.Errorf(sfn.KindThrottling, "%s", ee.Message)
	}
	return err
}

// StartExecution starts an execution of a state machine or a published version. It is
// idempotent as AWS's is: the same name and input while the execution runs return it (a client
// retrying after a lost reply never starts two); any other reuse of a name is
// ExecutionAlreadyExists.
func (s *Service) StartExecution(ctx context.Context, in *sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
	m, err := s.LookupStateMachine(ctx, in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	name := in.Name
	if name == "" {
		name = uuid.NewString()
	}
	input := "{}"
	if in.Input != nil {
		input = *in.Input
	}
	sum := sha256.Sum256([]byte(input))
	arn := s.cfg.ARN.ExecutionARN(m.Name, name)
	_, start, _, err := s.cfg.Engine.StartStateMachine(ctx, engine.SFNStart{
		Namespace: s.cfg.Namespace, WorkflowID: workflowID(m.Name, name), WorkflowType: m.Name,
		LocalQueue: LocalQueue, RequestID: "sfn-input-" + hex.EncodeToString(sum[:]),
		Identity: "stepfunctions", Definition: m.Definition, Input: input, ExecutionArn: arn, Name: name,
		StateMachineArn: m.MachineARN, StateMachineName: m.Name, RoleArn: m.RoleArn, Region: s.cfg.ARN.Region,
		VersionArn: versionOf(m),
	})
	if err != nil {
		var ee *engine.Error
		if errors.As(err, &ee) && ee.Code == engine.CodeAlreadyStarted {
			return nil, sfn.Errorf(sfn.KindExecutionAlreadyExists, "Execution Already Exists: '%s'", arn)
		}
		if errors.As(err, &ee) && ee.Code == engine.CodeInvalidArgument {
			return nil, sfn.Errorf(sfn.KindInvalidExecutionInput, "%s", ee.Message)
		}
		return nil, engineErr(err, nil)
	}
	return &sfn.StartExecutionOutput{ExecutionArn: arn, StartDate: sfn.Timestamp{Time: start}}, nil
}

// versionOf is the version ARN an execution of m records: m's own ARN when it names a published
// version.
func versionOf(m *StateMachine) string {
	if m.Version > 0 {
		return m.ARN
	}
	return ""
}

// describe reads an execution by ARN.
func (s *Service) describe(ctx context.Context, arn string) (*engine.SFNExecution, error) {
	machine, name, err := s.execName(arn)
	if err != nil {
		return nil, err
	}
	x, err := s.cfg.Engine.DescribeStateMachineExecution(ctx, s.cfg.Namespace, workflowID(machine, name), "")
	if err != nil {
		return nil, engineErr(err, errNoExecution(arn))
	}
	return x, nil
}

// Status is an execution's Step Functions status.
func Status(st enumspb.WorkflowExecutionStatus) string {
	switch st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "RUNNING"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "SUCCEEDED"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "TIMED_OUT"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "FAILED"
	default: // terminated or canceled through either API
		return "ABORTED"
	}
}

// DescribeExecution answers an execution's status, input, and output or error.
func (s *Service) DescribeExecution(ctx context.Context, in *sfn.ExecutionArnInput) (*sfn.DescribeExecutionOutput, error) {
	x, err := s.describe(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	included := in.IncludedData != "METADATA_ONLY"
	out := &sfn.DescribeExecutionOutput{
		ExecutionArn: x.ExecutionArn, StateMachineArn: x.StateMachineArn, Name: x.Name, Status: Status(x.Status),
		StartDate: sfn.Timestamp{Time: x.StartTime}, InputDetails: &sfn.DataDetails{Included: &included},
		StateMachineVersionArn: x.VersionArn,
	}
	if included {
		input := x.Input
		out.Input = &input
	}
	if !x.CloseTime.IsZero() {
		out.StopDate = sfn.TS(x.CloseTime)
	}
	switch out.Status {
	case "SUCCEEDED":
		out.OutputDetails = &sfn.DataDetails{Included: &included}
		if included && x.Output != nil {
			o := *x.Output
			out.Output = &o
		}
	case "FAILED", "TIMED_OUT", "ABORTED":
		if x.Error != "" {
			e := x.Error
			out.Error = &e
		}
		if x.Cause != "" {
			c := x.Cause
			out.Cause = &c
		}
	}
	return out, nil
}

// DescribeStateMachineForExecution answers the definition the execution runs (the one it was
// started with, not the machine's latest).
func (s *Service) DescribeStateMachineForExecution(ctx context.Context, in *sfn.ExecutionArnInput) (*sfn.DescribeStateMachineForExecutionOutput, error) {
	x, err := s.describe(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	machine, _, _ := s.execName(in.ExecutionArn)
	out := &sfn.DescribeStateMachineForExecutionOutput{
		StateMachineArn: x.StateMachineArn, Name: machine, Definition: x.Definition, RoleArn: x.RoleArn,
		UpdateDate: sfn.Timestamp{Time: x.StartTime},
	}
	if m, err := s.LookupStateMachine(ctx, x.StateMachineArn); err == nil {
		out.UpdateDate = sfn.Timestamp{Time: m.UpdateDate}
		out.LoggingConfiguration, out.TracingConfiguration = m.Logging, m.Tracing
		out.EncryptionConfiguration = m.Encryption
		if m.Definition == x.Definition {
			out.RevisionID = m.RevisionID
		}
	}
	return out, nil
}

// StopExecution aborts a running execution with an error and cause. Stopping an execution that
// has already ended changes nothing and answers its stop date.
func (s *Service) StopExecution(ctx context.Context, in *sfn.StopExecutionInput) (*sfn.StopExecutionOutput, error) {
	x, err := s.describe(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	var errName, cause string
	if in.Error != nil {
		errName = *in.Error
	}
	if in.Cause != nil {
		cause = *in.Cause
	}
	stopped, err := s.cfg.Engine.StopStateMachine(ctx, s.cfg.Namespace, x.WorkflowID, x.RunID, errName, cause, "stepfunctions")
	if err != nil {
		return nil, engineErr(err, errNoExecution(in.ExecutionArn))
	}
	return &sfn.StopExecutionOutput{StopDate: sfn.Timestamp{Time: stopped}}, nil
}

// execPosition is the keyset position of a ListExecutions page token.
type execPosition struct {
	Start time.Time `json:"s"`
	RunID string    `json:"r"`
}

// ListExecutions lists a state machine's executions, newest first, optionally of one status.
func (s *Service) ListExecutions(ctx context.Context, in *sfn.ListExecutionsInput) (*sfn.ListExecutionsOutput, error) {
	if in.MapRunArn != "" {
		return nil, sfn.Errorf(sfn.KindResourceNotFound, "Resource not found: '%s'", in.MapRunArn)
	}
	if in.StateMachineArn == "" {
		return nil, sfn.Errorf(sfn.KindValidation, "Must provide a StateMachine ARN or MapRun ARN")
	}
	m, err := s.LookupStateMachine(ctx, in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	kind := "executions:" + m.Name + ":" + in.StatusFilter
	after, err := s.decodeToken(kind, in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := int(in.MaxResults)
	if limit <= 0 {
		limit = defaultPage
	}
	q, err := visibility.Parse("TaskQueue = '"+TaskQueue+"'", nil)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	f := store.ExecutionFilter{Namespace: s.cfg.Namespace, WorkflowType: m.Name, Query: q, PageSize: limit + 1}
	if after != "" {
		var pos execPosition
		if err := json.Unmarshal([]byte(after), &pos); err != nil {
			return nil, sfn.Errorf(sfn.KindInvalidToken, "Invalid Token: '%s'", in.NextToken)
		}
		f.After = &store.ListPosition{StartTime: pos.Start, RunID: pos.RunID}
	}
	switch in.StatusFilter {
	case "":
	case "RUNNING":
		f.Statuses = []int32{int32(enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING)}
	case "SUCCEEDED":
		f.Statuses = []int32{int32(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)}
	case "FAILED":
		f.Statuses = []int32{int32(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)}
	case "TIMED_OUT":
		f.Statuses = []int32{int32(enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT)}
	case "ABORTED":
		f.Statuses = []int32{int32(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED), int32(enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)}
	default: // PENDING_REDRIVE: Duro does not redrive
		return &sfn.ListExecutionsOutput{}, nil
	}
	rows, err := s.store.ListExecutions(ctx, f)
	if err != nil {
		return nil, sfn.Errorf(sfn.KindServiceUnavailable, "list executions: %v", err)
	}
	out := &sfn.ListExecutionsOutput{}
	for i, r := range rows {
		if i == limit {
			last := rows[limit-1]
			b, _ := json.Marshal(execPosition{Start: last.StartTime, RunID: last.RunID})
			out.NextToken = s.encodeToken(kind, string(b))
			break
		}
		_, name, ok := strings.Cut(r.WorkflowID, ":")
		if !ok {
			continue
		}
		item := sfn.ExecutionListItem{
			ExecutionArn: s.cfg.ARN.ExecutionARN(m.Name, name), StateMachineArn: m.MachineARN, Name: name,
			Status: Status(enumspb.WorkflowExecutionStatus(r.Status)), StartDate: sfn.Timestamp{Time: r.StartTime},
		}
		if !r.CloseTime.IsZero() {
			item.StopDate = sfn.TS(r.CloseTime)
		}
		out.Executions = append(out.Executions, item)
	}
	return out, nil
}

// historyPosition is the position of a GetExecutionHistory page token: the Step Functions event
// ID the next page starts at, and (forward) the Temporal event to read on from.
type historyPosition struct {
	Next    int64  `json:"n"`
	From    int64  `json:"f,omitempty"`
	Reverse bool   `json:"r,omitempty"`
	Run     string `json:"run"`
}

// historyReadBatch is how many Temporal events one read of a history takes for a page of limit
// Step Functions events: enough markers (each holds at most a few hundred events) for about a
// page, so a page never decodes much more than it returns.
func historyReadBatch(limit int) int { return max(8, limit/32) }

// GetExecutionHistory pages through an execution's Step Functions events, oldest or newest
// first. includeExecutionData false drops inputs, outputs and parameters and keeps the events.
func (s *Service) GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput) (*sfn.GetExecutionHistoryOutput, error) {
	x, err := s.describe(ctx, in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	kind := "history:" + in.ExecutionArn
	after, err := s.decodeToken(kind, in.NextToken)
	if err != nil {
		return nil, err
	}
	pos := historyPosition{Next: 1, From: 1, Reverse: in.ReverseOrder, Run: x.RunID}
	if after != "" {
		// Decode into a zero position: decoded over pos, a forward token (whose "r" is omitted)
		// would keep pos.Reverse from the request and pass for a reverse one.
		var got historyPosition
		if err := json.Unmarshal([]byte(after), &got); err != nil || got.Reverse != in.ReverseOrder || got.Run != x.RunID {
			return nil, sfn.Errorf(sfn.KindInvalidToken, "Invalid Token: '%s'", in.NextToken)
		}
		pos = got
	}
	limit := int(in.MaxResults)
	if limit <= 0 {
		limit = defaultPage
	}
	includeData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	var (
		events []any
		fromOf []int64 // forward: the Temporal event each event's read started at
	)
	if !in.ReverseOrder {
		// Read forward from the Temporal event the last page stopped in, skipping the events of
		// that marker the last page already returned.
		from := pos.From
		for len(events) < limit+1 {
			page, err := s.cfg.Engine.StateMachineEvents(ctx, s.cfg.Namespace, x.RunID, from, historyReadBatch(limit))
			if err != nil {
				return nil, engineErr(err, errNoExecution(in.ExecutionArn))
			}
			for _, ev := range page.Events {
				if eventID(ev) >= pos.Next {
					events = append(events, ev)
					fromOf = append(fromOf, from)
				}
			}
			if page.Next == 0 {
				break
			}
			from = page.Next
		}
	} else {
		// Newest first, from the Temporal event the last page stopped in (the end at first),
		// skipping the events above the token's position.
		from := int64(0)
		if after != "" {
			from = pos.From
		}
		for len(events) < limit+1 {
			page, err := s.cfg.Engine.StateMachineEventsReverse(ctx, s.cfg.Namespace, x.RunID, from, historyReadBatch(limit))
			if err != nil {
				return nil, engineErr(err, errNoExecution(in.ExecutionArn))
			}
			for _, ev := range page.Events {
				if after == "" || eventID(ev) <= pos.Next {
					events = append(events, ev)
					fromOf = append(fromOf, from)
				}
			}
			if page.Next == 0 {
				break
			}
			from = page.Next
		}
	}
	out := &sfn.GetExecutionHistoryOutput{}
	for i, ev := range events {
		if i == limit {
			next := historyPosition{Next: eventID(ev), From: fromOf[i], Reverse: in.ReverseOrder, Run: x.RunID}
			b, _ := json.Marshal(next)
			out.NextToken = s.encodeToken(kind, string(b))
			break
		}
		obj, ok := ev.(*jsonv.Object)
		if !ok {
			continue
		}
		if !includeData {
			obj = withoutData(obj)
		}
		out.Events = append(out.Events, sfn.RawJSON(jsonv.Marshal(obj)))
	}
	return out, nil
}

// eventID reads a rendered event's id.
func eventID(ev any) int64 {
	obj, ok := ev.(*jsonv.Object)
	if !ok {
		return 0
	}
	v, _ := obj.Get("id")
	n, _ := v.(jsonv.Number)
	id, _ := strconv.ParseInt(string(n), 10, 64)
	return id
}

// withoutData drops the input, output and parameters of an event's details (includeExecutionData
// false), keeping everything else.
func withoutData(ev *jsonv.Object) *jsonv.Object {
	out := jsonv.NewObject()
	for _, k := range ev.Keys() {
		v, _ := ev.Get(k)
		if d, ok := v.(*jsonv.Object); ok && strings.HasSuffix(k, "EventDetails") {
			nd := jsonv.NewObject()
			for _, dk := range d.Keys() {
				switch dk {
				case "input", "output", "parameters", "inputDetails", "outputDetails", "assignedVariables", "assignedVariablesDetails":
					continue
				}
				dv, _ := d.Get(dk)
				nd.Set(dk, dv)
			}
			v = nd
		}
		out.Set(k, v)
	}
	return out
}
