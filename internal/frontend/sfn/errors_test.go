package sfn

import (
	"fmt"
	"net/http"
	"testing"
)

func TestErrorTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind   Kind
		code   string
		status int
	}{
		{KindInternalFailure, "InternalFailure", 500},
		{KindActivityDoesNotExist, "ActivityDoesNotExist", 400},
		{KindExecutionAlreadyExists, "ExecutionAlreadyExists", 400},
		{KindExecutionDoesNotExist, "ExecutionDoesNotExist", 400},
		{KindInvalidArn, "InvalidArn", 400},
		{KindInvalidDefinition, "InvalidDefinition", 400},
		{KindInvalidExecutionInput, "InvalidExecutionInput", 400},
		{KindInvalidName, "InvalidName", 400},
		{KindInvalidOutput, "InvalidOutput", 400},
		{KindInvalidToken, "InvalidToken", 400},
		{KindMissingRequiredParameter, "MissingRequiredParameter", 400},
		{KindStateMachineAlreadyExists, "StateMachineAlreadyExists", 400},
		{KindStateMachineDoesNotExist, "StateMachineDoesNotExist", 400},
		{KindTaskDoesNotExist, "TaskDoesNotExist", 400},
		{KindTaskTimedOut, "TaskTimedOut", 400},
		{KindValidation, "ValidationException", 400},
		{KindResourceNotFound, "ResourceNotFound", 400},
		{KindTooManyTags, "TooManyTags", 400},
		{KindUnknownOperation, "UnknownOperationException", 400},
		{KindUnsupportedContentType, "UnknownOperationException", 404},
		{KindSerialization, "SerializationException", 400},
		{KindRequestEntityTooLarge, "RequestEntityTooLargeException", 413},
		{KindMissingAuthenticationToken, "MissingAuthenticationTokenException", 400},
		{KindInvalidSignature, "InvalidSignatureException", 400},
		{KindUnrecognizedClient, "UnrecognizedClientException", 400},
		{KindThrottling, "ThrottlingException", 400},
	}
	for _, tt := range tests {
		if tt.kind.Code() != tt.code || tt.kind.Status() != tt.status {
			t.Errorf("kind %d: {%s, %d}, want {%s, %d}", tt.kind, tt.kind.Code(), tt.kind.Status(), tt.code, tt.status)
		}
	}
	// Every kind has a code and a status; out-of-range kinds are InternalFailure.
	for k := Kind(0); k < kindCount; k++ {
		if k.Code() == "" || http.StatusText(k.Status()) == "" {
			t.Errorf("kind %d has no entry in the table", k)
		}
	}
	if Kind(-1).Code() != "InternalFailure" || kindCount.Status() != 500 {
		t.Errorf("out-of-range kinds are not InternalFailure")
	}
	// A wrapped *Error keeps its kind; anything else is InternalFailure.
	if asError(fmt.Errorf("start: %w", Errorf(KindInvalidName, "x"))).Kind != KindInvalidName {
		t.Errorf("wrapped error lost its kind")
	}
	if asError(fmt.Errorf("disk on fire")).Kind != KindInternalFailure {
		t.Errorf("unclassified error is not InternalFailure")
	}
}
