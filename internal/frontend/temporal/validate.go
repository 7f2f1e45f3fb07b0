package temporal

import (
	"strings"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/protobuf/proto"
)

// Temporal's length limits on identifiers.
const (
	maxIDLength   = 1000
	maxNameLength = 1000
)

// validator collects the first problem of a request; every API validates before touching state
// (DESIGN.md, invariant 9).
type validator struct {
	err error
}

func (v *validator) check(ok bool, msg string) {
	if v.err == nil && !ok {
		v.err = serviceerror.NewInvalidArgument(msg)
	}
}

func (v *validator) namespace(ns string) {
	v.check(ns != "", "Namespace is not set on request.")
	v.check(len(ns) <= maxNameLength, "Namespace length exceeds limit.")
}

func (v *validator) workflowID(id string) {
	v.check(id != "", "WorkflowId is not set on request.")
	v.check(len(id) <= maxIDLength, "WorkflowId length exceeds limit.")
}

// text refuses a NUL character in a name a request creates: no store can keep it in a text
// column. (A read naming such an ID finds nothing: the engine answers NotFound.)
func (v *validator) text(field, s string) {
	v.check(!strings.ContainsRune(s, 0), field+" must not contain a NUL character.")
}

func (v *validator) execution(e *commonpb.WorkflowExecution) {
	v.check(e != nil, "Execution is not set on request.")
	if e != nil {
		v.workflowID(e.GetWorkflowId())
		if e.GetRunId() != "" {
			_, err := uuid.Parse(e.GetRunId())
			v.check(err == nil, "Invalid RunId.")
		}
	}
}

func (v *validator) payloadSize(p proto.Message, limit int, what string) {
	if limit > 0 && p != nil {
		v.check(proto.Size(p) <= limit, what+" size exceeds the blob size limit.")
	}
}

func (v *validator) retryPolicy(rp *commonpb.RetryPolicy) {
	if rp == nil {
		return
	}
	v.check(rp.GetInitialInterval().AsDuration() >= 0, "InitialInterval cannot be negative on retry policy.")
	v.check(rp.GetBackoffCoefficient() == 0 || rp.GetBackoffCoefficient() >= 1, "BackoffCoefficient cannot be less than 1 on retry policy.")
	v.check(rp.GetMaximumInterval().AsDuration() >= 0, "MaximumInterval cannot be negative on retry policy.")
	v.check(rp.GetMaximumInterval().AsDuration() == 0 || rp.GetMaximumInterval().AsDuration() >= rp.GetInitialInterval().AsDuration(),
		"MaximumInterval cannot be less than InitialInterval on retry policy.")
	v.check(rp.GetMaximumAttempts() >= 0, "MaximumAttempts cannot be negative on retry policy.")
}

func taskToken(tok []byte) error {
	if len(tok) == 0 {
		return serviceerror.NewInvalidArgument("Task token not set on request.")
	}
	return nil
}

func (s *Service) checkSize(p proto.Message, what string) error {
	v := &validator{}
	v.payloadSize(p, s.cfg.MaxPayloadBytes, what)
	return v.err
}
