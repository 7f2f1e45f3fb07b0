package asl

import "fmt"

// The predefined error names of the Amazon States Language and Step Functions.
const (
	ErrAll                             = "States.ALL"
	ErrHeartbeatTimeout                = "States.HeartbeatTimeout"
	ErrTimeout                         = "States.Timeout"
	ErrTaskFailed                      = "States.TaskFailed"
	ErrPermissions                     = "States.Permissions"
	ErrResultPathMatchFailure          = "States.ResultPathMatchFailure"
	ErrParameterPathFailure            = "States.ParameterPathFailure"
	ErrBranchFailed                    = "States.BranchFailed"
	ErrNoChoiceMatched                 = "States.NoChoiceMatched"
	ErrIntrinsicFailure                = "States.IntrinsicFailure"
	ErrExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed                = "States.ItemReaderFailed"
	ErrResultWriterFailed              = "States.ResultWriterFailed"
	ErrRuntime                         = "States.Runtime"
	ErrDataLimitExceeded               = "States.DataLimitExceeded"
	ErrQueryEvaluationError            = "States.QueryEvaluationError"
)

// MaxPayloadBytes is Step Functions' limit on a state's input, output and a task's result.
const MaxPayloadBytes = 256 * 1024

// StateError is an error raised while running a state: a name (matched by Retry and Catch) and a
// human-readable cause.
type StateError struct {
	Name  string
	Cause string
}

// Error formats the error as "Name: Cause".
func (e *StateError) Error() string { return e.Name + ": " + e.Cause }

func stateErr(name, format string, args ...any) *StateError {
	return &StateError{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// terminal reports whether an error can never be retried or caught. Step Functions documents
// States.Runtime as never retriable and always failing the execution; States.DataLimitExceeded is
// a terminal error that States.ALL does not catch.
func terminal(name string) bool { return name == ErrRuntime }

// matches reports whether a Retrier's or Catcher's ErrorEquals list matches the error name.
// States.ALL matches every error except States.DataLimitExceeded and States.Runtime;
// States.Timeout also matches a heartbeat timeout.
func matches(errorEquals []string, name string) bool {
	if terminal(name) {
		return false
	}
	for _, e := range errorEquals {
		switch {
		case e == name:
			return true
		case e == ErrAll && name != ErrDataLimitExceeded:
			return true
		case e == ErrTimeout && name == ErrHeartbeatTimeout:
			return true
		}
	}
	return false
}
