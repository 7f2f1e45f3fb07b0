package sfn

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind is one kind of error the Step Functions API answers with. Its wire code and HTTP status
// come from [errorTable], the only place they are defined.
type Kind int

// Error kinds: the service model's errors (bare shape names) and the AWS JSON protocol's own.
const (
	KindInternalFailure Kind = iota // zero value: an error that was not classified
	KindActivityAlreadyExists
	KindActivityDoesNotExist
	KindActivityLimitExceeded
	KindActivityWorkerLimitExceeded
	KindConflict
	KindExecutionAlreadyExists
	KindExecutionDoesNotExist
	KindExecutionLimitExceeded
	KindExecutionNotRedrivable
	KindInvalidArn
	KindInvalidDefinition
	KindInvalidEncryptionConfiguration
	KindInvalidExecutionInput
	KindInvalidLoggingConfiguration
	KindInvalidName
	KindInvalidOutput
	KindInvalidToken
	KindInvalidTracingConfiguration
	KindMissingRequiredParameter
	KindResourceNotFound
	KindServiceQuotaExceeded
	KindStateMachineAlreadyExists
	KindStateMachineDeleting
	KindStateMachineDoesNotExist
	KindStateMachineLimitExceeded
	KindStateMachineTypeNotSupported
	KindTaskDoesNotExist
	KindTaskTimedOut
	KindTooManyTags
	KindValidation
	// Protocol errors, common to AWS JSON services (not in the service model).
	KindUnknownOperation
	KindUnsupportedContentType
	KindSerialization
	KindRequestEntityTooLarge
	KindMissingAuthenticationToken
	KindIncompleteSignature
	KindInvalidSignature
	KindUnrecognizedClient
	KindThrottling
	KindServiceUnavailable
	kindCount
)

// errorTable maps each [Kind] to its wire code and HTTP status. The model declares no HTTP status
// for its errors, so the AWS JSON protocol's 400 applies to all of them.
//
// Protocol errors follow what Coral-based AWS JSON services answer (as recorded by dynalite for
// DynamoDB, and disneystreaming/smithy4s#167 for Kinesis): an unknown target is
// UnknownOperationException 400; a request that is not a POST with an AWS JSON content type is
// UnknownOperationException 404 (AWS sends it as XML; Duro sends JSON so clients can read it); a
// body that is not a JSON object of the input shape is SerializationException 400; a body over
// the cap is 413. SigV4 failures are 400, as Step Functions answers them.
var errorTable = [kindCount]struct {
	code   string
	status int
}{
	KindInternalFailure:                {"InternalFailure", http.StatusInternalServerError},
	KindActivityAlreadyExists:          {"ActivityAlreadyExists", http.StatusBadRequest},
	KindActivityDoesNotExist:           {"ActivityDoesNotExist", http.StatusBadRequest},
	KindActivityLimitExceeded:          {"ActivityLimitExceeded", http.StatusBadRequest},
	KindActivityWorkerLimitExceeded:    {"ActivityWorkerLimitExceeded", http.StatusBadRequest},
	KindConflict:                       {"ConflictException", http.StatusBadRequest},
	KindExecutionAlreadyExists:         {"ExecutionAlreadyExists", http.StatusBadRequest},
	KindExecutionDoesNotExist:          {"ExecutionDoesNotExist", http.StatusBadRequest},
	KindExecutionLimitExceeded:         {"ExecutionLimitExceeded", http.StatusBadRequest},
	KindExecutionNotRedrivable:         {"ExecutionNotRedrivable", http.StatusBadRequest},
	KindInvalidArn:                     {"InvalidArn", http.StatusBadRequest},
	KindInvalidDefinition:              {"InvalidDefinition", http.StatusBadRequest},
	KindInvalidEncryptionConfiguration: {"InvalidEncryptionConfiguration", http.StatusBadRequest},
	KindInvalidExecutionInput:          {"InvalidExecutionInput", http.StatusBadRequest},
	KindInvalidLoggingConfiguration:    {"InvalidLoggingConfiguration", http.StatusBadRequest},
	KindInvalidName:                    {"InvalidName", http.StatusBadRequest},
	KindInvalidOutput:                  {"InvalidOutput", http.StatusBadRequest},
	KindInvalidToken:                   {"InvalidToken", http.StatusBadRequest},
	KindInvalidTracingConfiguration:    {"InvalidTracingConfiguration", http.StatusBadRequest},
	KindMissingRequiredParameter:       {"MissingRequiredParameter", http.StatusBadRequest},
	KindResourceNotFound:               {"ResourceNotFound", http.StatusBadRequest},
	KindServiceQuotaExceeded:           {"ServiceQuotaExceededException", http.StatusBadRequest},
	KindStateMachineAlreadyExists:      {"StateMachineAlreadyExists", http.StatusBadRequest},
	KindStateMachineDeleting:           {"StateMachineDeleting", http.StatusBadRequest},
	KindStateMachineDoesNotExist:       {"StateMachineDoesNotExist", http.StatusBadRequest},
	KindStateMachineLimitExceeded:      {"StateMachineLimitExceeded", http.StatusBadRequest},
	KindStateMachineTypeNotSupported:   {"StateMachineTypeNotSupported", http.StatusBadRequest},
	KindTaskDoesNotExist:               {"TaskDoesNotExist", http.StatusBadRequest},
	KindTaskTimedOut:                   {"TaskTimedOut", http.StatusBadRequest},
	KindTooManyTags:                    {"TooManyTags", http.StatusBadRequest},
	KindValidation:                     {"ValidationException", http.StatusBadRequest},
	KindUnknownOperation:               {"UnknownOperationException", http.StatusBadRequest},
	KindUnsupportedContentType:         {"UnknownOperationException", http.StatusNotFound},
	KindSerialization:                  {"SerializationException", http.StatusBadRequest},
	KindRequestEntityTooLarge:          {"RequestEntityTooLargeException", http.StatusRequestEntityTooLarge},
	KindMissingAuthenticationToken:     {"MissingAuthenticationTokenException", http.StatusBadRequest},
	KindIncompleteSignature:            {"IncompleteSignatureException", http.StatusBadRequest},
	KindInvalidSignature:               {"InvalidSignatureException", http.StatusBadRequest},
	KindUnrecognizedClient:             {"UnrecognizedClientException", http.StatusBadRequest},
	KindThrottling:                     {"ThrottlingException", http.StatusBadRequest},
	KindServiceUnavailable:             {"ServiceUnavailable", http.StatusServiceUnavailable},
}

// Code returns the kind's wire code (the error body's __type).
func (k Kind) Code() string {
	if k < 0 || k >= kindCount {
		return errorTable[KindInternalFailure].code
	}
	return errorTable[k].code
}

// Status returns the kind's HTTP status.
func (k Kind) Status() int {
	if k < 0 || k >= kindCount {
		return errorTable[KindInternalFailure].status
	}
	return errorTable[k].status
}

// Error is an error the API answers with: a [Kind] and a message for the client. A [Backend]
// returns one (wrapped or not) to choose the answer; any other error is InternalFailure.
type Error struct {
	Kind    Kind
	Message string
	// Reason is ValidationException's reason member (a ValidationExceptionReason), if any.
	Reason string
	// ResourceName is ResourceNotFound's and TooManyTags' resourceName member, if any.
	ResourceName string
}

// Error implements error.
func (e *Error) Error() string { return e.Kind.Code() + ": " + e.Message }

// Errorf returns an [*Error] of kind k with a formatted message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// asError classifies err: an [*Error] anywhere in its chain keeps its kind; anything else is an
// InternalFailure whose details stay in the server (the client sees a generic message).
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	return &Error{Kind: KindInternalFailure, Message: "An internal error occurred"}
}

// errorBody is the wire shape of an error.
type errorBody struct {
	Type         string `json:"__type"`
	Message      string `json:"message"`
	Reason       string `json:"reason,omitempty"`
	ResourceName string `json:"resourceName,omitempty"`
}
