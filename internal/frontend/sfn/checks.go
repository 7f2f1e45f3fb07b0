package sfn

import (
	"encoding/json"
	"strings"

	"github.com/duro-dev/duro/asl"
)

// The checks below apply the model's constraints (checker) and then Step Functions' own rules
// that need no storage, in AWS's order: a ValidationException first, then InvalidArn, InvalidName,
// InvalidDefinition, InvalidExecutionInput.

func checkCreateStateMachine(_ *Handler, in *CreateStateMachineInput) error {
	var c checker
	c.name("name", in.Name, true)
	c.required("definition", in.Definition != "")
	c.length("definition", in.Definition, 0, maxDefinition, true)
	c.arn("roleArn", in.RoleArn, true)
	c.enum("type", in.Type, typeEnum...)
	c.tags("tags", in.Tags)
	c.optLength("versionDescription", in.VersionDescription, 0, 256, true)
	if err := c.err(); err != nil {
		return err
	}
	if in.VersionDescription != nil && !in.Publish {
		return Errorf(KindValidation, "Version description can only be set when publish is true")
	}
	return firstErr(checkRole(in.RoleArn), checkName(in.Name), checkDefinition(in.Definition))
}

func checkDescribeStateMachine(_ *Handler, in *DescribeStateMachineInput) error {
	var c checker
	c.arn("stateMachineArn", in.StateMachineArn, true)
	c.enum("includedData", in.IncludedData, includedEnum...)
	return firstErr(c.err(), checkARN(in.StateMachineArn, "stateMachine"))
}

func checkUpdateStateMachine(_ *Handler, in *UpdateStateMachineInput) error {
	var c checker
	c.arn("stateMachineArn", in.StateMachineArn, true)
	if in.Definition != nil {
		c.length("definition", *in.Definition, 1, maxDefinition, true)
	}
	if in.RoleArn != nil {
		c.length("roleArn", *in.RoleArn, 1, maxArn, false)
	}
	c.optLength("versionDescription", in.VersionDescription, 0, 256, true)
	if err := c.err(); err != nil {
		return err
	}
	if err := checkARN(in.StateMachineArn, "stateMachine"); err != nil {
		return err
	}
	if in.Definition == nil && in.RoleArn == nil && in.LoggingConfiguration == nil && in.TracingConfiguration == nil && in.EncryptionConfiguration == nil {
		return Errorf(KindMissingRequiredParameter, "Either the definition, roleArn, loggingConfiguration, tracingConfiguration or encryptionConfiguration must be specified")
	}
	if in.VersionDescription != nil && !in.Publish {
		return Errorf(KindValidation, "Version description can only be set when publish is true")
	}
	if in.RoleArn != nil {
		if err := checkRole(*in.RoleArn); err != nil {
			return err
		}
	}
	if in.Definition != nil {
		return checkDefinition(*in.Definition)
	}
	return nil
}

// checkARNInput checks an [ARNInput] whose one member is named member.
func checkARNInput(member string, want ...string) func(*Handler, *ARNInput) error {
	return func(_ *Handler, in *ARNInput) error {
		v := map[string]string{"stateMachineArn": in.StateMachineArn, "activityArn": in.ActivityArn, "resourceArn": in.ResourceArn}[member]
		var c checker
		c.arn(member, v, true)
		return firstErr(c.err(), checkARN(v, want...))
	}
}

func checkList(_ *Handler, in *ListInput) error {
	var c checker
	c.rng("maxResults", in.MaxResults, 0, 1000)
	if in.NextToken != "" {
		c.length("nextToken", in.NextToken, 1, maxPageToken, false)
	}
	return c.err()
}

func checkValidate(_ *Handler, in *ValidateStateMachineDefinitionInput) error {
	var c checker
	c.required("definition", in.Definition != "")
	c.length("definition", in.Definition, 0, maxDefinition, true)
	c.enum("type", in.Type, typeEnum...)
	c.enum("severity", in.Severity, asl.SeverityError, asl.SeverityWarning)
	c.rng("maxResults", in.MaxResults, 0, 100)
	return c.err()
}

func checkExecutionArnInput(_ *Handler, in *ExecutionArnInput) error {
	var c checker
	c.arn("executionArn", in.ExecutionArn, true)
	c.enum("includedData", in.IncludedData, includedEnum...)
	return firstErr(c.err(), checkARN(in.ExecutionArn, "execution", "express"))
}

func checkTagResource(_ *Handler, in *TagResourceInput) error {
	var c checker
	c.arn("resourceArn", in.ResourceArn, true)
	c.required("tags", in.Tags != nil)
	c.tags("tags", in.Tags)
	return firstErr(c.err(), checkARN(in.ResourceArn, "stateMachine", "activity"))
}

func checkUntagResource(_ *Handler, in *UntagResourceInput) error {
	var c checker
	c.arn("resourceArn", in.ResourceArn, true)
	c.required("tagKeys", in.TagKeys != nil)
	for i, k := range in.TagKeys {
		c.length("tagKeys."+itoa(i+1)+".member", k, 1, 128, false)
	}
	return firstErr(c.err(), checkARN(in.ResourceArn, "stateMachine", "activity"))
}

func checkStartExecution(_ *Handler, in *StartExecutionInput) error {
	var c checker
	c.arn("stateMachineArn", in.StateMachineArn, true)
	c.name("name", in.Name, false)
	c.payload("input", in.Input)
	c.length("traceHeader", in.TraceHeader, 0, 256, false)
	for _, r := range in.TraceHeader {
		if r > 127 {
			c.add("traceHeader", in.TraceHeader, false, `Member must satisfy regular expression pattern: \p{ASCII}*`)
			break
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	if err := firstErr(checkARN(in.StateMachineArn, "stateMachine"), checkName(in.Name)); err != nil {
		return err
	}
	if in.Input != nil && !validJSON(*in.Input) {
		return Errorf(KindInvalidExecutionInput, "Invalid State Machine Execution Input: the input is not valid JSON")
	}
	return nil
}

func checkStopExecution(_ *Handler, in *StopExecutionInput) error {
	var c checker
	c.arn("executionArn", in.ExecutionArn, true)
	c.optLength("error", in.Error, 0, maxError, true)
	c.optLength("cause", in.Cause, 0, maxCause, true)
	return firstErr(c.err(), checkARN(in.ExecutionArn, "execution", "express"))
}

func checkListExecutions(_ *Handler, in *ListExecutionsInput) error {
	var c checker
	if in.StateMachineArn != "" {
		c.length("stateMachineArn", in.StateMachineArn, 1, maxArn, false)
	}
	if in.MapRunArn != "" {
		c.length("mapRunArn", in.MapRunArn, 1, 2000, false)
	}
	c.enum("statusFilter", in.StatusFilter, statusEnum...)
	c.enum("redriveFilter", in.RedriveFilter, "REDRIVEN", "NOT_REDRIVEN")
	c.rng("maxResults", in.MaxResults, 0, 1000)
	if in.NextToken != "" {
		c.length("nextToken", in.NextToken, 1, 3096, false)
	}
	if err := c.err(); err != nil {
		return err
	}
	if (in.StateMachineArn == "") == (in.MapRunArn == "") {
		return Errorf(KindValidation, "Exactly one of stateMachineArn and mapRunArn must be specified")
	}
	return firstErr(checkARN(in.StateMachineArn, "stateMachine"), checkARN(in.MapRunArn, "mapRun"))
}

func checkGetExecutionHistory(_ *Handler, in *GetExecutionHistoryInput) error {
	var c checker
	c.arn("executionArn", in.ExecutionArn, true)
	c.rng("maxResults", in.MaxResults, 0, 1000)
	if in.NextToken != "" {
		c.length("nextToken", in.NextToken, 1, maxPageToken, false)
	}
	return firstErr(c.err(), checkARN(in.ExecutionArn, "execution", "express"))
}

func checkCreateActivity(_ *Handler, in *CreateActivityInput) error {
	var c checker
	c.name("name", in.Name, true)
	c.tags("tags", in.Tags)
	return firstErr(c.err(), checkName(in.Name))
}

func checkGetActivityTask(_ *Handler, in *GetActivityTaskInput) error {
	var c checker
	c.arn("activityArn", in.ActivityArn, true)
	c.name("workerName", in.WorkerName, false)
	return firstErr(c.err(), checkARN(in.ActivityArn, "activity"))
}

func checkToken(c *checker, tok string) {
	c.required("taskToken", tok != "")
	if tok != "" {
		c.length("taskToken", tok, 1, maxToken, false)
	}
}

func checkSendTaskSuccess(_ *Handler, in *SendTaskInput) error {
	var c checker
	checkToken(&c, in.TaskToken)
	c.required("output", in.Output != nil)
	c.payload("output", in.Output)
	if err := c.err(); err != nil {
		return err
	}
	if !validJSON(*in.Output) {
		return Errorf(KindInvalidOutput, "Invalid Output: the output is not valid JSON")
	}
	return nil
}

func checkSendTaskFailure(_ *Handler, in *SendTaskInput) error {
	var c checker
	checkToken(&c, in.TaskToken)
	c.optLength("error", in.Error, 0, maxError, true)
	c.optLength("cause", in.Cause, 0, maxCause, true)
	return c.err()
}

func checkSendTaskHeartbeat(_ *Handler, in *SendTaskInput) error {
	var c checker
	checkToken(&c, in.TaskToken)
	return c.err()
}

// checkRole answers InvalidArn unless s is an ARN (arn:partition:service:region:account:resource).
func checkRole(s string) error {
	f := strings.SplitN(s, ":", 6)
	if len(f) < 6 || f[0] != "arn" || f[1] == "" || f[2] == "" || f[5] == "" {
		return Errorf(KindInvalidArn, "Invalid Arn: 'Invalid ARN prefix: %s'", s)
	}
	return nil
}

// checkDefinition answers InvalidDefinition with the interpreter's errors when def is invalid.
func checkDefinition(def string) error {
	diags := asl.Validate([]byte(def))
	if !asl.HasErrors(diags) {
		return nil
	}
	var msgs []string
	for _, d := range diags {
		if d.Severity == asl.SeverityError {
			msgs = append(msgs, d.Code+": "+d.Message+locSuffix(d.Location))
		}
	}
	return Errorf(KindInvalidDefinition, "Invalid State Machine Definition: '%s'", strings.Join(msgs, ", "))
}

func locSuffix(loc string) string {
	if loc == "" {
		return ""
	}
	return " at " + loc
}

func validJSON(s string) bool { return json.Valid([]byte(s)) }

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// validateDefinition answers ValidateStateMachineDefinition: the interpreter's diagnostics, at
// or above the requested severity (ERROR by default, as AWS), at most maxResults (default and
// cap 100) with truncated set when some were left out.
func validateDefinition(in *ValidateStateMachineDefinitionInput) *ValidateStateMachineDefinitionOutput {
	diags := asl.Validate([]byte(in.Definition))
	limit := int(in.MaxResults)
	if limit == 0 {
		limit = 100
	}
	out := &ValidateStateMachineDefinitionOutput{Result: "OK", Diagnostics: []ValidateStateMachineDefinitionDiagnostic{}}
	if asl.HasErrors(diags) {
		out.Result = "FAIL"
	}
	wantWarnings := in.Severity == asl.SeverityWarning
	truncated := false
	for _, d := range diags {
		if d.Severity != asl.SeverityError && !wantWarnings {
			continue
		}
		if len(out.Diagnostics) == limit {
			truncated = true
			break
		}
		out.Diagnostics = append(out.Diagnostics, ValidateStateMachineDefinitionDiagnostic{Severity: d.Severity, Code: d.Code, Message: d.Message, Location: d.Location})
	}
	out.Truncated = &truncated
	return out
}
