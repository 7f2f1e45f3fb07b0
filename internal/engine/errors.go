package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/duro-dev/duro/internal/store"
)

// Code classifies engine errors; the Temporal frontend maps each to its gRPC status once.
type Code int

// Error codes.
const (
	CodeInvalidArgument Code = iota + 1
	CodeNotFound
	CodeAlreadyStarted
	CodeAlreadyExists
	CodeFailedPrecondition
	CodeUnavailable
	CodeInternal
	CodeCanceled
	CodeDeadlineExceeded
	CodeQueryFailed
	CodeResourceExhausted
	CodeUnimplemented
	// CodeWorkflowNotReady: the run cannot serve the request yet (a query before its first
	// workflow task, or while its workflow task keeps failing).
	CodeWorkflowNotReady
)

// Error is an engine error with a code and a message meant for the client.
type Error struct {
	Code    Code
	Message string
	// StartRequestID and RunID describe the running execution for CodeAlreadyStarted.
	StartRequestID string
	RunID          string
	// QueryFailure is the serialized failurepb.Failure of a failed query (CodeQueryFailed), if any.
	QueryFailure []byte
	cause        error
}

func (e *Error) Error() string { return e.Message }

// Unwrap exposes the underlying cause.
func (e *Error) Unwrap() error { return e.cause }

func newErr(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalidArgument(format string, args ...any) *Error {
	return newErr(CodeInvalidArgument, format, args...)
}
func notFound(format string, args ...any) *Error { return newErr(CodeNotFound, format, args...) }

func unavailable(err error) *Error {
	var ee *Error
	if errors.As(err, &ee) {
		return ee
	}
	return &Error{Code: CodeUnavailable, Message: "store unavailable: " + err.Error(), cause: err}
}

func internal(err error) *Error {
	var ee *Error
	if errors.As(err, &ee) {
		return ee
	}
	return &Error{Code: CodeInternal, Message: "internal error: " + err.Error(), cause: err}
}

// busy is what a transition that lost the race for its execution on every attempt returns: the
// store's conflict (still matched by errors.Is) as Unavailable, so that each API answers it as
// its retryable "try again" (gRPC Unavailable, Step Functions ServiceUnavailable). Any other error,
// and a row already consumed (final, not a busy run), passes through as it is.
func busy(err error) error {
	var ee *Error
	if !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrConsumed) || errors.As(err, &ee) {
		return err
	}
	return &Error{Code: CodeUnavailable, Message: "workflow is busy (every attempt lost a race with another change of it); retry: " + err.Error(), cause: err}
}

func canceled(err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeDeadlineExceeded, Message: err.Error(), cause: err}
	}
	return &Error{Code: CodeCanceled, Message: err.Error(), cause: err}
}
