package batch

import (
	"encoding/json"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/store"
)

// Kind is the store record kind of batch jobs: one record per job, named by its job ID in its
// namespace. Jobs are records, not workflow executions, so no listing of executions shows them.
const Kind = "batch"

// Job is what DescribeBatchOperation and ListBatchOperations report of a job.
type Job struct {
	ID        string
	Namespace string
	Type      enumspb.BatchOperationType
	// State is RUNNING until the job has worked through every execution (COMPLETED), or was
	// stopped or could not go on (FAILED), as Temporal reports a terminated or failed batcher
	// workflow.
	State     enumspb.BatchOperationState
	StartTime time.Time
	CloseTime time.Time // zero while running
	// Total is the number of executions the job was estimated to touch when it started (the
	// count of its query, or the length of its list); once it completes it is Done+Failed, as in
	// Temporal.
	Total, Done, Failed int64
	Identity, Reason    string
	// Query is the visibility query the job was started with; Executions the explicit list, if
	// it was started with one.
	Query      string
	Executions []*commonpb.WorkflowExecution
	// StopReason and StopIdentity say who stopped the job, and why (StopBatchOperation).
	StopReason, StopIdentity string
	// Failure says why a FAILED job that was not stopped could not go on.
	Failure string
}

// position is where a job's work has got to: the keyset position of the last execution of the
// listing it has dealt with, or the index of the next execution of an explicit list.
type position struct {
	StartTime time.Time `json:"t,omitempty"`
	RunID     string    `json:"r,omitempty"`
	Index     int       `json:"i,omitempty"`
}

// record is a job's stored document (store.Record.Data, JSON). Counters and cursor change
// together in one compare-and-set write, so a job resumed on any node neither skips nor counts an
// execution twice.
type record struct {
	// Request is the StartBatchOperationRequest as the client sent it (protobuf).
	Request  []byte `json:"request"`
	Type     int32  `json:"type"`
	State    int32  `json:"state"`
	Identity string `json:"identity,omitempty"`

	StartTime time.Time `json:"startTime"`
	CloseTime time.Time `json:"closeTime,omitzero"`
	// Rate is the job's operations per second: the request's, capped by the node's limit.
	Rate float64 `json:"rate"`

	Total  int64    `json:"total"`
	Done   int64    `json:"done"`
	Failed int64    `json:"failed"`
	Cursor position `json:"cursor"`
	// Owner is the node working on the job while its lease (the record's WakeAt) lasts.
	Owner string `json:"owner,omitempty"`

	StopReason   string `json:"stopReason,omitempty"`
	StopIdentity string `json:"stopIdentity,omitempty"`
	Failure      string `json:"failure,omitempty"`
}

// decode reads a job record.
func decode(r *store.Record) (*record, *workflowservice.StartBatchOperationRequest, error) {
	var rec record
	if err := json.Unmarshal(r.Data, &rec); err != nil {
		return nil, nil, fmt.Errorf("decode batch job %s/%s: %w", r.Namespace, r.Name, err)
	}
	req := &workflowservice.StartBatchOperationRequest{}
	if err := proto.Unmarshal(rec.Request, req); err != nil {
		return nil, nil, fmt.Errorf("decode the request of batch job %s/%s: %w", r.Namespace, r.Name, err)
	}
	return &rec, req, nil
}

// encode writes a job record.
func (rec *record) encode() ([]byte, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode batch job: %w", err)
	}
	return b, nil
}

func (rec *record) running() bool {
	return enumspb.BatchOperationState(rec.State) == enumspb.BATCH_OPERATION_STATE_RUNNING
}

// view builds the reported Job.
func (rec *record) view(r *store.Record, req *workflowservice.StartBatchOperationRequest) *Job {
	return &Job{
		ID: r.Name, Namespace: r.Namespace,
		Type: enumspb.BatchOperationType(rec.Type), State: enumspb.BatchOperationState(rec.State),
		StartTime: rec.StartTime, CloseTime: rec.CloseTime,
		Total: rec.Total, Done: rec.Done, Failed: rec.Failed,
		Identity: rec.Identity, Reason: req.GetReason(),
		Query: req.GetVisibilityQuery(), Executions: targets(req),
		StopReason: rec.StopReason, StopIdentity: rec.StopIdentity, Failure: rec.Failure,
	}
}

// targets returns the explicit executions of a request, from either of its two fields.
func targets(req *workflowservice.StartBatchOperationRequest) []*commonpb.WorkflowExecution {
	out := append([]*commonpb.WorkflowExecution(nil), req.GetExecutions()...) //nolint:staticcheck // the deprecated field is still sent
	for _, t := range req.GetTargetExecutions() {
		out = append(out, &commonpb.WorkflowExecution{WorkflowId: t.GetBusinessId(), RunId: t.GetRunId()})
	}
	return out
}

// opType names the operation of a request with Temporal's (original) batch operation types, the
// ones its server reports; UNSPECIFIED for an operation Duro does not run.
func opType(req *workflowservice.StartBatchOperationRequest) enumspb.BatchOperationType {
	switch req.GetOperation().(type) {
	case *workflowservice.StartBatchOperationRequest_TerminationOperation:
		return enumspb.BATCH_OPERATION_TYPE_TERMINATE
	case *workflowservice.StartBatchOperationRequest_CancellationOperation:
		return enumspb.BATCH_OPERATION_TYPE_CANCEL
	case *workflowservice.StartBatchOperationRequest_SignalOperation:
		return enumspb.BATCH_OPERATION_TYPE_SIGNAL
	case *workflowservice.StartBatchOperationRequest_ResetOperation:
		return enumspb.BATCH_OPERATION_TYPE_RESET
	case *workflowservice.StartBatchOperationRequest_DeletionOperation:
		return enumspb.BATCH_OPERATION_TYPE_DELETE
	}
	return enumspb.BATCH_OPERATION_TYPE_UNSPECIFIED
}

// identityOf is the operator identity a request's operation carries.
func identityOf(req *workflowservice.StartBatchOperationRequest) string {
	switch op := req.GetOperation().(type) {
	case *workflowservice.StartBatchOperationRequest_TerminationOperation:
		return op.TerminationOperation.GetIdentity()
	case *workflowservice.StartBatchOperationRequest_CancellationOperation:
		return op.CancellationOperation.GetIdentity()
	case *workflowservice.StartBatchOperationRequest_SignalOperation:
		return op.SignalOperation.GetIdentity()
	case *workflowservice.StartBatchOperationRequest_ResetOperation:
		return op.ResetOperation.GetIdentity()
	case *workflowservice.StartBatchOperationRequest_DeletionOperation:
		return op.DeletionOperation.GetIdentity()
	}
	return ""
}

// onlyOpen tells whether an operation applies only to open executions: Temporal's batcher adds
// "ExecutionStatus = 'Running'" to the query of terminate, cancel and signal jobs, not of reset
// and delete ones.
func onlyOpen(t enumspb.BatchOperationType) bool {
	switch t {
	case enumspb.BATCH_OPERATION_TYPE_TERMINATE, enumspb.BATCH_OPERATION_TYPE_CANCEL, enumspb.BATCH_OPERATION_TYPE_SIGNAL:
		return true
	}
	return false
}
