package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"
)

// The Step Functions API end to end, action by action, through the official AWS SDK for Go v2
// against a real node: each action's answers and its errors, as the SDK's typed errors with
// AWS's HTTP status 400.

// requireSFNError checks that err is the SDK's typed error E, answered with HTTP 400 as AWS
// answers every client error of the service, and returns it.
func requireSFNError[E any, P interface {
	*E
	error
}](t testing.TB, err error, msgAndArgs ...any) P {
	t.Helper()
	var target P
	require.ErrorAs(t, err, &target, msgAndArgs...)
	var re *awshttp.ResponseError
	require.ErrorAs(t, err, &re, msgAndArgs...)
	require.Equal(t, 400, re.HTTPStatusCode(), msgAndArgs...)
	return target
}

// requireSFNCode checks that err is an answer with error code code and HTTP status 400, for the
// errors the model does not list for the operation (the SDK has no typed error for them there).
func requireSFNCode(t testing.TB, err error, code string, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Equal(t, code, sfnCode(err), msgAndArgs...)
	var re *awshttp.ResponseError
	require.ErrorAs(t, err, &re, msgAndArgs...)
	require.Equal(t, 400, re.HTTPStatusCode(), msgAndArgs...)
}

// sfnCode is the error code the SDK read from an answer ("" for none).
func sfnCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// passMachine is a one-state machine that ends at once with its input.
const passMachine = `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`

// waitMachine waits an hour (the manual clock decides when) and ends with its input.
const waitMachine = `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`

// startExec starts an execution and returns its ARN.
func (e *env) startExec(c *sfnsdk.Client, machine, name, input string) string {
	e.t.Helper()
	in := &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := c.StartExecution(e.ctx(), in)
	require.NoError(e.t, err, "StartExecution %s", name)
	return aws.ToString(out.ExecutionArn)
}

// sfnHistory reads an execution's whole history in pages of 1000, oldest first.
func (e *env) sfnHistory(c *sfnsdk.Client, arn string) []types.HistoryEvent {
	e.t.Helper()
	var events []types.HistoryEvent
	var token *string
	for {
		h, err := c.GetExecutionHistory(e.ctx(), &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000, NextToken: token})
		require.NoError(e.t, err)
		events = append(events, h.Events...)
		if token = h.NextToken; token == nil {
			return events
		}
	}
}

// waitSFNEvent polls an execution's history until an event of type typ is recorded and returns it
// (the last one of that type).
func (e *env) waitSFNEvent(c *sfnsdk.Client, arn string, typ types.HistoryEventType) types.HistoryEvent {
	e.t.Helper()
	var found types.HistoryEvent
	require.Eventually(e.t, func() bool {
		h, err := c.GetExecutionHistory(e.ctx(), &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: true, MaxResults: 1000})
		if err != nil {
			return false
		}
		for _, ev := range h.Events {
			if ev.Type == typ {
				found = ev
				return true
			}
		}
		return false
	}, waitFor, tick, "no %s in the history of %s", typ, arn)
	return found
}

// sfnTypes lists event types in order.
func sfnTypes(events []types.HistoryEvent) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = string(ev.Type)
	}
	return out
}

// TestSFNCatalogOnANode runs the catalog actions (state machines, versions, activities, tags) on
// a real node through the SDK, with their error cases. The catalog's own package tests go into
// every corner; this shows the same answers reach the SDK from `duro server`.
func TestSFNCatalogOnANode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()

	created, err := c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("orders"), Definition: aws.String(passMachine), RoleArn: aws.String(sfnRole),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("billing")}}})
	require.NoError(t, err)
	sm := aws.ToString(created.StateMachineArn)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:stateMachine:orders", sm)
	again, err := c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("orders"), Definition: aws.String(passMachine), RoleArn: aws.String(sfnRole),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("billing")}}})
	require.NoError(t, err, "an identical CreateStateMachine is idempotent")
	require.Equal(t, sm, aws.ToString(again.StateMachineArn))
	require.Equal(t, aws.ToTime(created.CreationDate), aws.ToTime(again.CreationDate))
	_, err = c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("orders"), Definition: aws.String(waitMachine), RoleArn: aws.String(sfnRole)})
	requireSFNError[types.StateMachineAlreadyExists](t, err)
	_, err = c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("broken"), Definition: aws.String(`{"StartAt":"Nowhere","States":{"P":{"Type":"Pass","End":true}}}`), RoleArn: aws.String(sfnRole)})
	bad := requireSFNError[types.InvalidDefinition](t, err)
	require.Contains(t, bad.ErrorMessage(), "Nowhere", "the interpreter's diagnostic is in the message")
	_, err = c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("has space"), Definition: aws.String(passMachine), RoleArn: aws.String(sfnRole)})
	requireSFNError[types.InvalidName](t, err)
	_, err = c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("norole"), Definition: aws.String(passMachine), RoleArn: aws.String("not-an-arn")})
	requireSFNError[types.InvalidArn](t, err)

	d, err := c.DescribeStateMachine(ctx, &sfnsdk.DescribeStateMachineInput{StateMachineArn: aws.String(sm)})
	require.NoError(t, err)
	require.Equal(t, passMachine, aws.ToString(d.Definition))
	require.Equal(t, types.StateMachineStatusActive, d.Status)
	require.Equal(t, types.StateMachineTypeStandard, d.Type)
	require.Equal(t, sfnRole, aws.ToString(d.RoleArn))
	_, err = c.DescribeStateMachine(ctx, &sfnsdk.DescribeStateMachineInput{StateMachineArn: aws.String(strings.Replace(sm, "orders", "nobody", 1))})
	requireSFNError[types.StateMachineDoesNotExist](t, err)
	_, err = c.DescribeStateMachine(ctx, &sfnsdk.DescribeStateMachineInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:activity:orders")})
	requireSFNError[types.InvalidArn](t, err, "an activity ARN where a state machine's is expected")

	// Publishing a version; an execution started from the version ARN runs the version.
	upd, err := c.UpdateStateMachine(ctx, &sfnsdk.UpdateStateMachineInput{StateMachineArn: aws.String(sm),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v1","End":true}}}`), Publish: true, VersionDescription: aws.String("first")})
	require.NoError(t, err)
	v1 := aws.ToString(upd.StateMachineVersionArn)
	require.Equal(t, sm+":1", v1)
	_, err = c.UpdateStateMachine(ctx, &sfnsdk.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(passMachine)})
	require.NoError(t, err)
	_, err = c.UpdateStateMachine(ctx, &sfnsdk.UpdateStateMachineInput{StateMachineArn: aws.String(sm)})
	requireSFNError[types.MissingRequiredParameter](t, err)
	_, err = c.UpdateStateMachine(ctx, &sfnsdk.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(`{"StartAt":1}`)})
	requireSFNError[types.InvalidDefinition](t, err)
	vd, err := c.DescribeStateMachine(ctx, &sfnsdk.DescribeStateMachineInput{StateMachineArn: aws.String(v1)})
	require.NoError(t, err)
	require.Equal(t, "first", aws.ToString(vd.Description))
	fromVersion := e.startExec(c, v1, "from-v1", `{}`)
	d1 := e.waitExecution(c, fromVersion)
	require.JSONEq(t, `"v1"`, aws.ToString(d1.Output), "the version's definition ran")
	require.Equal(t, sm, aws.ToString(d1.StateMachineArn))
	require.Equal(t, v1, aws.ToString(d1.StateMachineVersionArn))
	fromLatest := e.startExec(c, sm, "from-latest", `{"x":1}`)
	d2 := e.waitExecution(c, fromLatest)
	require.JSONEq(t, `{"x":1}`, aws.ToString(d2.Output), "the latest definition ran")
	require.Nil(t, d2.StateMachineVersionArn)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm + ":9")})
	requireSFNError[types.StateMachineDoesNotExist](t, err, "an unpublished version")

	// Listing with paging.
	for _, n := range []string{"b-two", "a-one", "c-three"} {
		e.createMachine(c, n, passMachine)
	}
	var names []string
	var token *string
	for {
		page, err := c.ListStateMachines(ctx, &sfnsdk.ListStateMachinesInput{MaxResults: 2, NextToken: token})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.StateMachines), 2)
		for _, m := range page.StateMachines {
			names = append(names, aws.ToString(m.Name))
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	require.Equal(t, []string{"a-one", "b-two", "c-three", "orders"}, names)
	_, err = c.ListStateMachines(ctx, &sfnsdk.ListStateMachinesInput{NextToken: aws.String("garbage")})
	requireSFNError[types.InvalidToken](t, err)

	// ValidateStateMachineDefinition.
	ok, err := c.ValidateStateMachineDefinition(ctx, &sfnsdk.ValidateStateMachineDefinitionInput{Definition: aws.String(passMachine)})
	require.NoError(t, err)
	require.Equal(t, types.ValidateStateMachineDefinitionResultCodeOk, ok.Result)
	require.Empty(t, ok.Diagnostics)
	fail, err := c.ValidateStateMachineDefinition(ctx, &sfnsdk.ValidateStateMachineDefinitionInput{Definition: aws.String(`{"StartAt":"X","States":{}}`)})
	require.NoError(t, err)
	require.Equal(t, types.ValidateStateMachineDefinitionResultCodeFail, fail.Result)
	require.NotEmpty(t, fail.Diagnostics)
	require.Equal(t, types.ValidateStateMachineDefinitionSeverityError, fail.Diagnostics[0].Severity)

	// Tags.
	_, err = c.TagResource(ctx, &sfnsdk.TagResourceInput{ResourceArn: aws.String(sm), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}})
	require.NoError(t, err)
	_, err = c.UntagResource(ctx, &sfnsdk.UntagResourceInput{ResourceArn: aws.String(sm), TagKeys: []string{"team"}})
	require.NoError(t, err)
	tags, err := c.ListTagsForResource(ctx, &sfnsdk.ListTagsForResourceInput{ResourceArn: aws.String(sm)})
	require.NoError(t, err)
	require.Len(t, tags.Tags, 1)
	require.Equal(t, "env", aws.ToString(tags.Tags[0].Key))
	_, err = c.ListTagsForResource(ctx, &sfnsdk.ListTagsForResourceInput{ResourceArn: aws.String(sm + "-gone")})
	requireSFNError[types.ResourceNotFound](t, err)
	_, err = c.TagResource(ctx, &sfnsdk.TagResourceInput{ResourceArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:nobody"), Tags: []types.Tag{}})
	requireSFNError[types.ResourceNotFound](t, err)

	// Activities.
	act, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("work")})
	require.NoError(t, err)
	actArn := aws.ToString(act.ActivityArn)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:activity:work", actArn)
	act2, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("work")})
	require.NoError(t, err, "CreateActivity is idempotent")
	require.Equal(t, aws.ToTime(act.CreationDate), aws.ToTime(act2.CreationDate))
	ad, err := c.DescribeActivity(ctx, &sfnsdk.DescribeActivityInput{ActivityArn: aws.String(actArn)})
	require.NoError(t, err)
	require.Equal(t, "work", aws.ToString(ad.Name))
	acts, err := c.ListActivities(ctx, &sfnsdk.ListActivitiesInput{})
	require.NoError(t, err)
	require.Len(t, acts.Activities, 1)
	_, err = c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("a/b")})
	requireSFNError[types.InvalidName](t, err)
	_, err = c.DeleteActivity(ctx, &sfnsdk.DeleteActivityInput{ActivityArn: aws.String(actArn)})
	require.NoError(t, err)
	_, err = c.DescribeActivity(ctx, &sfnsdk.DescribeActivityInput{ActivityArn: aws.String(actArn)})
	requireSFNError[types.ActivityDoesNotExist](t, err)
	_, err = c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: aws.String(actArn)})
	requireSFNError[types.ActivityDoesNotExist](t, err)
	_, err = c.DescribeActivity(ctx, &sfnsdk.DescribeActivityInput{ActivityArn: aws.String(sm)})
	requireSFNError[types.InvalidArn](t, err)

	// Deleting: idempotent, and the machine is gone.
	_, err = c.DeleteStateMachine(ctx, &sfnsdk.DeleteStateMachineInput{StateMachineArn: aws.String(sm)})
	require.NoError(t, err)
	_, err = c.DeleteStateMachine(ctx, &sfnsdk.DeleteStateMachineInput{StateMachineArn: aws.String(sm)})
	require.NoError(t, err, "DeleteStateMachine is idempotent")
	_, err = c.DescribeStateMachine(ctx, &sfnsdk.DescribeStateMachineInput{StateMachineArn: aws.String(sm)})
	requireSFNError[types.StateMachineDoesNotExist](t, err)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm)})
	requireSFNError[types.StateMachineDoesNotExist](t, err)
	_, err = c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(fromLatest)})
	require.NoError(t, err, "an execution outlives its deleted machine")
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestSFNStartExecutionIdempotency: a name reused with the same input while the execution runs
// is the same execution (same ARN, same startDate), with another input or once closed
// ExecutionAlreadyExists; no name is a UUID; names, inputs and ARNs are validated.
func TestSFNStartExecutionIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	waiting := e.createMachine(c, "waiting", waitMachine)
	quick := e.createMachine(c, "quick", passMachine)

	first, err := c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(waiting), Name: aws.String("once"), Input: aws.String(`{"n":1}`)})
	require.NoError(t, err)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:execution:waiting:once", aws.ToString(first.ExecutionArn))
	e.clk.Advance(time.Second) // a repeat must answer the first start date, not a new one
	second, err := c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(waiting), Name: aws.String("once"), Input: aws.String(`{"n":1}`)})
	require.NoError(t, err)
	require.Equal(t, aws.ToString(first.ExecutionArn), aws.ToString(second.ExecutionArn))
	require.True(t, aws.ToTime(first.StartDate).Equal(aws.ToTime(second.StartDate)), "%v vs %v", first.StartDate, second.StartDate)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(waiting), Name: aws.String("once"), Input: aws.String(`{"n":2}`)})
	requireSFNError[types.ExecutionAlreadyExists](t, err, "another input")
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(waiting), Name: aws.String("once")})
	requireSFNError[types.ExecutionAlreadyExists](t, err, "no input is {}, another input")
	list, err := c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(waiting)})
	require.NoError(t, err)
	require.Len(t, list.Executions, 1, "one execution, however often it was started")

	done := e.startExec(c, quick, "done", `{"n":1}`)
	require.Equal(t, types.ExecutionStatusSucceeded, e.waitExecution(c, done).Status)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(quick), Name: aws.String("done"), Input: aws.String(`{"n":1}`)})
	requireSFNError[types.ExecutionAlreadyExists](t, err, "the same name and input once the execution has closed")
	// The same name under another machine is another execution.
	other := e.startExec(c, waiting, "done", `{"n":1}`)
	require.Equal(t, "arn:aws:states:us-east-1:123456789012:execution:waiting:done", other)

	unnamed := e.startExec(c, quick, "", `{}`)
	name := unnamed[strings.LastIndex(unnamed, ":")+1:]
	require.Regexp(t, uuidPattern, name, "an execution without a name is named by a UUID")
	d := e.waitExecution(c, unnamed)
	require.Equal(t, name, aws.ToString(d.Name))

	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(quick), Name: aws.String("bad name")})
	requireSFNError[types.InvalidName](t, err)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(quick), Name: aws.String(strings.Repeat("n", 81))})
	requireSFNError[types.ValidationException](t, err, "a name over 80 characters")
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(quick), Input: aws.String(`{"n":`)})
	requireSFNError[types.InvalidExecutionInput](t, err)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:nobody")})
	requireSFNError[types.StateMachineDoesNotExist](t, err)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String("quick")})
	requireSFNError[types.InvalidArn](t, err)
	_, err = c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:eu-west-1:123456789012:stateMachine:quick")})
	requireSFNError[types.StateMachineDoesNotExist](t, err, "a machine of another region is not here")
	list, err = c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(quick)})
	require.NoError(t, err)
	require.Len(t, list.Executions, 2, "the rejected starts started nothing")
}

// TestSFNDescribeExecutionByStatus: output only when SUCCEEDED; error and cause when FAILED,
// TIMED_OUT or ABORTED; stopDate once closed; the machine's TimeoutSeconds ends an execution
// TIMED_OUT with States.Timeout.
func TestSFNDescribeExecutionByStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	waiting := e.createMachine(c, "waiting", waitMachine)
	ok := e.createMachine(c, "ok", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"done":true},"End":true}}}`)
	failing := e.createMachine(c, "failing", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Custom.Broken","Cause":"it broke"}}}`)
	slow := e.createMachine(c, "slow", `{"TimeoutSeconds":60,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`)

	running := e.startExec(c, waiting, "running", `{"a":1}`)
	d, err := c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(running)})
	require.NoError(t, err)
	require.Equal(t, types.ExecutionStatusRunning, d.Status)
	require.Equal(t, "running", aws.ToString(d.Name))
	require.Equal(t, waiting, aws.ToString(d.StateMachineArn))
	require.JSONEq(t, `{"a":1}`, aws.ToString(d.Input))
	require.True(t, d.InputDetails.Included)
	require.Nil(t, d.Output, "no output while RUNNING")
	require.Nil(t, d.StopDate)
	require.Nil(t, d.Error)
	require.Nil(t, d.Cause)
	require.False(t, aws.ToTime(d.StartDate).IsZero())

	succeeded := e.startExec(c, ok, "succeeded", `{}`)
	d = e.waitExecution(c, succeeded)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	require.JSONEq(t, `{"done":true}`, aws.ToString(d.Output))
	require.True(t, d.OutputDetails.Included)
	require.NotNil(t, d.StopDate)
	require.False(t, aws.ToTime(d.StopDate).Before(aws.ToTime(d.StartDate)))
	require.Nil(t, d.Error)
	require.Nil(t, d.Cause)
	meta, err := c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(succeeded), IncludedData: types.IncludedDataMetadataOnly})
	require.NoError(t, err)
	require.Nil(t, meta.Input, "METADATA_ONLY leaves input and output out")
	require.Nil(t, meta.Output)
	require.False(t, meta.InputDetails.Included)

	failed := e.startExec(c, failing, "failed", `{}`)
	d = e.waitExecution(c, failed)
	require.Equal(t, types.ExecutionStatusFailed, d.Status)
	require.Equal(t, "Custom.Broken", aws.ToString(d.Error))
	require.Equal(t, "it broke", aws.ToString(d.Cause))
	require.Nil(t, d.Output, "no output for a FAILED execution")
	require.NotNil(t, d.StopDate)
	require.Equal(t, []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"}, sfnTypes(e.sfnHistory(c, failed)))

	timedOut := e.startExec(c, slow, "timed-out", `{}`)
	e.waitSFNEvent(c, timedOut, types.HistoryEventTypeWaitStateEntered)
	e.clk.Advance(61 * time.Second)
	d = e.waitExecution(c, timedOut)
	require.Equal(t, types.ExecutionStatusTimedOut, d.Status)
	require.Equal(t, "States.Timeout", aws.ToString(d.Error), "as AWS answers")
	require.Nil(t, d.Output)
	require.NotNil(t, d.StopDate)
	h := e.sfnHistory(c, timedOut)
	require.Equal(t, []string{"ExecutionStarted", "WaitStateEntered", "ExecutionTimedOut"}, sfnTypes(h))
	require.Equal(t, "States.Timeout", aws.ToString(h[2].ExecutionTimedOutEventDetails.Error))

	_, err = c.StopExecution(ctx, &sfnsdk.StopExecutionInput{ExecutionArn: aws.String(running), Error: aws.String("Operator.Stop"), Cause: aws.String("no longer needed")})
	require.NoError(t, err)
	d = e.waitExecution(c, running)
	require.Equal(t, types.ExecutionStatusAborted, d.Status)
	require.Equal(t, "Operator.Stop", aws.ToString(d.Error))
	require.Equal(t, "no longer needed", aws.ToString(d.Cause))
	require.Nil(t, d.Output)
	require.NotNil(t, d.StopDate)

	_, err = c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(strings.Replace(running, ":running", ":nobody", 1))})
	requireSFNError[types.ExecutionDoesNotExist](t, err)
	_, err = c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(waiting)})
	requireSFNError[types.InvalidArn](t, err, "a state machine ARN where an execution's is expected")
	_, err = c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:waiting")})
	requireSFNError[types.InvalidArn](t, err, "an execution ARN without the execution's name")
}

// TestSFNStopExecution: StopExecution records its error and cause in an ExecutionAborted event,
// ends the execution ABORTED, expires the task it was waiting for, and leaves an execution that
// already ended as it was.
func TestSFNStopExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	act, err := c.CreateActivity(ctx, &sfnsdk.CreateActivityInput{Name: aws.String("slowpoke")})
	require.NoError(t, err)
	sm := e.createMachine(c, "stoppable", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+aws.ToString(act.ActivityArn)+`","End":true}}}`)
	arn := e.startExec(c, sm, "stop-me", `{"v":1}`)
	task, err := c.GetActivityTask(ctx, &sfnsdk.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(task.TaskToken))

	e.clk.Advance(time.Second)
	stopped, err := c.StopExecution(ctx, &sfnsdk.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String("Stopped.ByTest"), Cause: aws.String("the test stopped it")})
	require.NoError(t, err)
	require.False(t, aws.ToTime(stopped.StopDate).IsZero())
	d, err := c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	require.NoError(t, err)
	require.Equal(t, types.ExecutionStatusAborted, d.Status)
	require.Equal(t, "Stopped.ByTest", aws.ToString(d.Error))
	require.Equal(t, "the test stopped it", aws.ToString(d.Cause))
	require.True(t, aws.ToTime(stopped.StopDate).Equal(aws.ToTime(d.StopDate)), "%v vs %v", stopped.StopDate, d.StopDate)

	h := e.sfnHistory(c, arn)
	require.Equal(t, []string{"ExecutionStarted", "TaskStateEntered", actScheduled, actStarted, "ExecutionAborted"}, sfnTypes(h),
		"the worker took the task before the stop")
	last := h[len(h)-1]
	require.Equal(t, int64(len(h)), last.Id)
	require.Equal(t, last.Id-1, last.PreviousEventId)
	require.NotNil(t, last.ExecutionAbortedEventDetails)
	require.Equal(t, "Stopped.ByTest", aws.ToString(last.ExecutionAbortedEventDetails.Error))
	require.Equal(t, "the test stopped it", aws.ToString(last.ExecutionAbortedEventDetails.Cause))

	_, err = c.SendTaskSuccess(ctx, &sfnsdk.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{}`)})
	requireSFNError[types.TaskTimedOut](t, err, "the task of a stopped execution has expired")

	// Stopping again changes nothing: the first error and cause stay.
	_, err = c.StopExecution(ctx, &sfnsdk.StopExecutionInput{ExecutionArn: aws.String(arn), Error: aws.String("Again"), Cause: aws.String("twice")})
	require.NoError(t, err)
	d, err = c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	require.NoError(t, err)
	require.Equal(t, "Stopped.ByTest", aws.ToString(d.Error))
	require.Len(t, e.sfnHistory(c, arn), len(h))

	// Without error and cause.
	plain := e.startExec(c, sm, "stop-plain", `{}`)
	_, err = c.StopExecution(ctx, &sfnsdk.StopExecutionInput{ExecutionArn: aws.String(plain)})
	require.NoError(t, err)
	d = e.waitExecution(c, plain)
	require.Equal(t, types.ExecutionStatusAborted, d.Status)
	require.Nil(t, d.Error)
	require.Nil(t, d.Cause)

	// A succeeded execution stays SUCCEEDED.
	quick := e.createMachine(c, "quick", passMachine)
	done := e.startExec(c, quick, "done", `{}`)
	require.Equal(t, types.ExecutionStatusSucceeded, e.waitExecution(c, done).Status)
	_, err = c.StopExecution(ctx, &sfnsdk.StopExecutionInput{ExecutionArn: aws.String(done), Error: aws.String("Late")})
	require.NoError(t, err)
	d, err = c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(done)})
	require.NoError(t, err)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	require.Nil(t, d.Error)

	_, err = c.StopExecution(ctx, &sfnsdk.StopExecutionInput{ExecutionArn: aws.String(strings.Replace(done, ":done", ":nobody", 1))})
	requireSFNError[types.ExecutionDoesNotExist](t, err)
	_, err = c.StopExecution(ctx, &sfnsdk.StopExecutionInput{ExecutionArn: aws.String("garbage")})
	requireSFNError[types.InvalidArn](t, err)
}

// TestSFNListExecutions: newest first, a status filter, pages of maxResults that neither repeat
// nor skip, and a bad page token.
func TestSFNListExecutions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	waiting := e.createMachine(c, "waiting", waitMachine)
	quick := e.createMachine(c, "quick", passMachine)
	e.startExec(c, quick, "elsewhere", `{}`) // another machine's execution is not listed

	// Seven executions a second apart (the Wait is an hour, so advancing the clock by seconds
	// keeps them running): e0 … e6, newest last; e1 and e4 are then stopped.
	var arns []string
	for i := 0; i < 7; i++ {
		arns = append(arns, e.startExec(c, waiting, fmt.Sprintf("e%d", i), `{}`))
		e.clk.Advance(time.Second)
	}
	for _, i := range []int{1, 4} {
		_, err := c.StopExecution(ctx, &sfnsdk.StopExecutionInput{ExecutionArn: aws.String(arns[i])})
		require.NoError(t, err)
	}

	list := func(status types.ExecutionStatus, pageSize int32) []types.ExecutionListItem {
		t.Helper()
		var items []types.ExecutionListItem
		var token *string
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20, "paging does not end")
			out, err := c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(waiting), StatusFilter: status, MaxResults: pageSize, NextToken: token})
			require.NoError(t, err)
			if pageSize > 0 {
				require.LessOrEqual(t, len(out.Executions), int(pageSize))
			}
			items = append(items, out.Executions...)
			if token = out.NextToken; token == nil {
				return items
			}
		}
	}
	names := func(items []types.ExecutionListItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, aws.ToString(it.Name))
		}
		return out
	}

	all := list("", 0)
	require.Equal(t, []string{"e6", "e5", "e4", "e3", "e2", "e1", "e0"}, names(all), "newest first")
	for i, it := range all {
		require.Equal(t, waiting, aws.ToString(it.StateMachineArn))
		require.Equal(t, arns[6-i], aws.ToString(it.ExecutionArn))
		if i > 0 {
			require.True(t, aws.ToTime(it.StartDate).Before(aws.ToTime(all[i-1].StartDate)))
		}
		switch aws.ToString(it.Name) {
		case "e1", "e4":
			require.Equal(t, types.ExecutionStatusAborted, it.Status)
			require.NotNil(t, it.StopDate)
		default:
			require.Equal(t, types.ExecutionStatusRunning, it.Status)
			require.Nil(t, it.StopDate)
		}
	}
	require.Equal(t, names(all), names(list("", 2)), "pages of 2 list the same executions in the same order")
	require.Equal(t, names(all), names(list("", 3)))
	require.Equal(t, []string{"e6", "e5", "e3", "e2", "e0"}, names(list(types.ExecutionStatusRunning, 2)))
	require.Equal(t, []string{"e4", "e1"}, names(list(types.ExecutionStatusAborted, 1)))
	require.Empty(t, list(types.ExecutionStatusSucceeded, 0))
	require.Empty(t, list(types.ExecutionStatusFailed, 0))

	// A page token survives executions starting meanwhile: the next page goes on below it.
	first, err := c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(waiting), MaxResults: 3})
	require.NoError(t, err)
	require.Equal(t, []string{"e6", "e5", "e4"}, names(first.Executions))
	e.startExec(c, waiting, "e7", `{}`)
	rest, err := c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(waiting), MaxResults: 3, NextToken: first.NextToken})
	require.NoError(t, err)
	require.Equal(t, []string{"e3", "e2", "e1"}, names(rest.Executions))

	_, err = c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(waiting), NextToken: aws.String("not-a-token")})
	requireSFNError[types.InvalidToken](t, err)
	_, err = c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(quick), NextToken: first.NextToken})
	requireSFNError[types.InvalidToken](t, err, "a token of another machine's list")
	_, err = c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:nobody")})
	requireSFNError[types.StateMachineDoesNotExist](t, err)
	_, err = c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String("nobody")})
	requireSFNError[types.InvalidArn](t, err)
	_, err = c.ListExecutions(ctx, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(waiting), MaxResults: 1001})
	requireSFNError[types.ValidationException](t, err)
}

// TestSFNExecutionHistoryPaging pages a long history (a Map of timers, over a thousand events
// recorded across many engine transitions) forward and backward with small pages: no event
// repeated or missing, ids 1…n, every previousEventId pointing back; includeExecutionData=false
// keeps the events and drops their data.
func TestSFNExecutionHistoryPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	items := make([]int, 200)
	for i := range items {
		items[i] = i
	}
	in, err := json.Marshal(map[string]any{"items": items})
	require.NoError(t, err)
	sm := e.createMachine(c, "many", `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{
		"StartAt":"Nap","States":{"Nap":{"Type":"Wait","Seconds":1,"Next":"Note"},"Note":{"Type":"Pass","Parameters":{"i.$":"$"},"End":true}}},"End":true}}}`)
	arn := e.startExec(c, sm, "long", string(in))
	// Inline Map runs 40 iterations at once: each second of clock fires a round of waits.
	deadline := time.Now().Add(waitFor)
	for {
		d, err := c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		require.NoError(t, err)
		if d.Status != types.ExecutionStatusRunning {
			require.Equal(t, types.ExecutionStatusSucceeded, d.Status, "error %s: %s", aws.ToString(d.Error), aws.ToString(d.Cause))
			break
		}
		require.True(t, time.Now().Before(deadline), "the Map did not finish")
		e.clk.Advance(time.Second)
		time.Sleep(tick)
	}

	full := e.sfnHistory(c, arn)
	n := len(full)
	require.Equal(t, 6+6*len(items), n, "the execution's 2 events, the Map's 4 and 6 per iteration")
	// The Step Functions events are recorded in markers among the engine's timer events: over 500
	// engine events, more than one read of the engine's history serves a page.
	require.Greater(t, len(e.history("many:long", "")), 500)
	byID := map[int64]types.HistoryEvent{}
	for i, ev := range full {
		require.Equal(t, int64(i+1), ev.Id)
		if i > 0 {
			require.Greater(t, ev.PreviousEventId, int64(0), "event %d (%s) points back", ev.Id, ev.Type)
			require.Less(t, ev.PreviousEventId, ev.Id)
		}
		require.False(t, aws.ToTime(ev.Timestamp).IsZero())
		byID[ev.Id] = ev
	}
	// Each iteration's events chain from its MapIterationStarted to its MapIterationSucceeded.
	for _, ev := range full {
		if ev.Type != types.HistoryEventTypeMapIterationSucceeded {
			continue
		}
		chain := []string{string(ev.Type)}
		for p := byID[ev.PreviousEventId]; ; p = byID[p.PreviousEventId] {
			chain = append(chain, string(p.Type))
			if p.Type == types.HistoryEventTypeMapIterationStarted {
				require.Equal(t, ev.MapIterationSucceededEventDetails.Index, p.MapIterationStartedEventDetails.Index)
				break
			}
		}
		require.Equal(t, []string{"MapIterationSucceeded", "PassStateExited", "PassStateEntered", "WaitStateExited", "WaitStateEntered", "MapIterationStarted"}, chain)
	}

	read := func(reverse bool, size int32, includeData *bool) []types.HistoryEvent {
		t.Helper()
		var events []types.HistoryEvent
		var token *string
		for pages := 0; ; pages++ {
			require.Less(t, pages, n, "paging does not end")
			h, err := c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: reverse,
				MaxResults: size, NextToken: token, IncludeExecutionData: includeData})
			require.NoError(t, err)
			require.LessOrEqual(t, len(h.Events), int(size))
			events = append(events, h.Events...)
			if token = h.NextToken; token == nil {
				return events
			}
		}
	}
	ids := func(events []types.HistoryEvent) []int64 {
		out := make([]int64, len(events))
		for i, ev := range events {
			out[i] = ev.Id
		}
		return out
	}
	// Every page reads the engine history again (reverse pages all of it), so the page sizes
	// are kept moderate for the suite's time; they still end inside markers and engine reads.
	forward := read(false, 23, nil)
	require.Equal(t, ids(full), ids(forward), "forward pages of 23")
	require.Equal(t, sfnTypes(full), sfnTypes(forward))
	backward := read(true, 47, nil)
	require.Len(t, backward, n, "reverse pages of 47")
	for i, ev := range backward {
		require.Equal(t, int64(n-i), ev.Id)
		require.Equal(t, full[n-1-i].PreviousEventId, ev.PreviousEventId)
	}
	big := read(false, 400, nil)
	require.Equal(t, ids(full), ids(big), "pages larger than one engine read")

	noData := read(false, 250, aws.Bool(false))
	require.Equal(t, sfnTypes(full), sfnTypes(noData), "includeExecutionData=false keeps every event")
	for i, ev := range noData {
		switch ev.Type {
		case types.HistoryEventTypeExecutionStarted:
			require.Nil(t, ev.ExecutionStartedEventDetails.Input)
			require.NotNil(t, full[i].ExecutionStartedEventDetails.Input)
		case types.HistoryEventTypePassStateEntered, types.HistoryEventTypeWaitStateEntered, types.HistoryEventTypeMapStateEntered:
			require.Nil(t, ev.StateEnteredEventDetails.Input)
			require.Equal(t, aws.ToString(full[i].StateEnteredEventDetails.Name), aws.ToString(ev.StateEnteredEventDetails.Name))
		case types.HistoryEventTypePassStateExited, types.HistoryEventTypeWaitStateExited, types.HistoryEventTypeMapStateExited:
			require.Nil(t, ev.StateExitedEventDetails.Output)
			require.NotNil(t, full[i].StateExitedEventDetails.Output)
		case types.HistoryEventTypeExecutionSucceeded:
			require.Nil(t, ev.ExecutionSucceededEventDetails.Output)
		}
	}
	ms := full[2]
	require.Equal(t, types.HistoryEventTypeMapStateStarted, ms.Type)
	require.Equal(t, int32(len(items)), ms.MapStateStartedEventDetails.Length)

	// Bad tokens: garbage, another execution's, one of the other direction.
	_, err = c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), NextToken: aws.String("garbage")})
	requireSFNError[types.InvalidToken](t, err)
	page, err := c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 5})
	require.NoError(t, err)
	require.NotNil(t, page.NextToken)
	_, err = c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), NextToken: page.NextToken, ReverseOrder: true})
	requireSFNError[types.InvalidToken](t, err, "a forward token read in reverse")
	other := e.startExec(c, e.createMachine(c, "other", waitMachine), "other", `{}`)
	_, err = c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(other), NextToken: page.NextToken})
	requireSFNError[types.InvalidToken](t, err, "a token of another execution")
	_, err = c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn + "x")})
	requireSFNError[types.ExecutionDoesNotExist](t, err)
	_, err = c.GetExecutionHistory(ctx, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1001})
	requireSFNCode(t, err, "ValidationException")
}

// TestSFNDescribeStateMachineForExecution: an execution keeps running the definition it started
// with after UpdateStateMachine, and DescribeStateMachineForExecution answers that one.
func TestSFNDescribeStateMachineForExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	ctx := e.ctx()
	v1 := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"Next":"P"},"P":{"Type":"Pass","Result":"one","End":true}}}`
	v2 := `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"Next":"P"},"P":{"Type":"Pass","Result":"two","End":true}}}`
	sm := e.createMachine(c, "evolving", v1)
	old := e.startExec(c, sm, "old", `{}`)
	e.waitSFNEvent(c, old, types.HistoryEventTypeWaitStateEntered)
	upd, err := c.UpdateStateMachine(ctx, &sfnsdk.UpdateStateMachineInput{StateMachineArn: aws.String(sm), Definition: aws.String(v2)})
	require.NoError(t, err)
	latest := e.startExec(c, sm, "new", `{}`)

	forOld, err := c.DescribeStateMachineForExecution(ctx, &sfnsdk.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(old)})
	require.NoError(t, err)
	require.Equal(t, v1, aws.ToString(forOld.Definition), "the definition the execution started with")
	require.Equal(t, sm, aws.ToString(forOld.StateMachineArn))
	require.Equal(t, "evolving", aws.ToString(forOld.Name))
	require.Equal(t, sfnRole, aws.ToString(forOld.RoleArn))
	forNew, err := c.DescribeStateMachineForExecution(ctx, &sfnsdk.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(latest)})
	require.NoError(t, err)
	require.Equal(t, v2, aws.ToString(forNew.Definition))
	require.Equal(t, aws.ToString(upd.RevisionId), aws.ToString(forNew.RevisionId))
	d, err := c.DescribeStateMachine(ctx, &sfnsdk.DescribeStateMachineInput{StateMachineArn: aws.String(sm)})
	require.NoError(t, err)
	require.Equal(t, v2, aws.ToString(d.Definition))

	e.clk.Advance(61 * time.Second)
	require.JSONEq(t, `"one"`, aws.ToString(e.waitExecution(c, old).Output), "the old execution ran its own definition to the end")
	require.JSONEq(t, `"two"`, aws.ToString(e.waitExecution(c, latest).Output))

	_, err = c.DescribeStateMachineForExecution(ctx, &sfnsdk.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(old + "-nobody")})
	requireSFNError[types.ExecutionDoesNotExist](t, err)
	_, err = c.DescribeStateMachineForExecution(ctx, &sfnsdk.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(sm)})
	requireSFNError[types.InvalidArn](t, err)
}

// TestSFNExecutionEndingInItsFirstTransition: an execution whose every state runs in the
// transition that starts it (a Pass, a Fail) ends within StartExecution, and a repeated start
// of it is ExecutionAlreadyExists.
func TestSFNExecutionEndingInItsFirstTransition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.sfnClient()
	sm := e.createMachine(c, "instant", passMachine)
	arn := e.startExec(c, sm, "now", `{"x":1}`)
	d := e.waitExecution(c, arn)
	require.Equal(t, types.ExecutionStatusSucceeded, d.Status)
	require.JSONEq(t, `{"x":1}`, aws.ToString(d.Output))
	require.Equal(t, []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}, sfnTypes(e.sfnHistory(c, arn)))
	fails := e.createMachine(c, "instant-fail", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}`)
	d = e.waitExecution(c, e.startExec(c, fails, "now", `{}`))
	require.Equal(t, types.ExecutionStatusFailed, d.Status)
	require.Equal(t, "E", aws.ToString(d.Error))
	_, err := c.StartExecution(e.ctx(), &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("now"), Input: aws.String(`{"x":1}`)})
	requireSFNError[types.ExecutionAlreadyExists](t, err)
}
