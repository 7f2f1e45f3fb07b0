// Package sfn is the protocol layer of Duro's Step Functions API: AWS JSON 1.0 over HTTP
// (POST / with X-Amz-Target: AWSStepFunctions.<Action>), the error table that maps Duro's error
// kinds to AWS's {__type, HTTP status}, request validation per the service model
// (botocore's stepfunctions 2016-11-23 service-2.json), and ARN formatting and parsing.
//
// Invariants:
//
//   - Every response carries x-amzn-RequestId and Content-Type application/x-amz-json-1.0, and is
//     either HTTP 200 with a JSON object or an error body {"__type": code, "message": text} whose
//     code and status come from the one table in errors.go ([Kind]). No panic reaches a client: a
//     panic in a handler or backend is answered as InternalFailure (500).
//   - A request reaches the [Backend] only after it decoded as the action's input shape and passed
//     the model's constraints (required members, lengths, enums, ranges) and Step Functions' own
//     rules that need no storage (names, ARN syntax and resource type, JSON inputs, definitions).
//     Bad input is answered, never obeyed: a rejected request changes nothing.
//   - Absent optional members are omitted from responses, never sent as null; required lists are
//     sent as [] when empty; timestamps are epoch seconds as JSON numbers ([Timestamp]).
//
// The package holds no storage and no engine: the next layer implements [Backend].
package sfn
