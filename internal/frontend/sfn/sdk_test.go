package sfn

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

func newSDKClient(t *testing.T, url string) *sdk.Client {
	t.Helper()
	return sdk.New(sdk.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
}

func TestSDKValidateStateMachineDefinition(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewHandler(Config{}, stubBackend{}, nil))
	t.Cleanup(srv.Close)
	c := newSDKClient(t, srv.URL)
	ctx := context.Background()

	ok, err := c.ValidateStateMachineDefinition(ctx, &sdk.ValidateStateMachineDefinitionInput{
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`),
	})
	if err != nil {
		t.Fatalf("valid definition: %v", err)
	}
	if ok.Result != types.ValidateStateMachineDefinitionResultCodeOk || len(ok.Diagnostics) != 0 {
		t.Fatalf("valid definition: result %q, diagnostics %+v", ok.Result, ok.Diagnostics)
	}

	bad, err := c.ValidateStateMachineDefinition(ctx, &sdk.ValidateStateMachineDefinitionInput{
		Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`),
	})
	if err != nil {
		t.Fatalf("invalid definition: %v", err)
	}
	if bad.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(bad.Diagnostics) == 0 {
		t.Fatalf("invalid definition: result %q, diagnostics %+v", bad.Result, bad.Diagnostics)
	}
	var found bool
	for _, d := range bad.Diagnostics {
		if aws.ToString(d.Code) == "MISSING_TRANSITION_TARGET" && aws.ToString(d.Location) == "/States/A/Next" && d.Severity == types.ValidateStateMachineDefinitionSeverityError {
			found = true
		}
	}
	if !found {
		t.Fatalf("no MISSING_TRANSITION_TARGET at /States/A/Next in %+v", bad.Diagnostics)
	}
	if bad.Truncated == nil || *bad.Truncated {
		t.Fatalf("truncated = %v, want false", bad.Truncated)
	}

	_, err = c.ValidateStateMachineDefinition(ctx, &sdk.ValidateStateMachineDefinitionInput{
		Definition: aws.String("{}"), MaxResults: 101,
	})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("maxResults 101: %v, want ValidationException", err)
	}
}

func TestSDKTypedErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewHandler(Config{}, stubBackend{err: Errorf(KindExecutionDoesNotExist, "Execution Does Not Exist")}, nil))
	t.Cleanup(srv.Close)
	c := newSDKClient(t, srv.URL)
	ctx := context.Background()

	_, err := c.DescribeExecution(ctx, &sdk.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:execution:m:e")})
	var nf *types.ExecutionDoesNotExist
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeExecution: %v, want ExecutionDoesNotExist", err)
	}
	_, err = c.DescribeExecution(ctx, &sdk.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:m")})
	var ia *types.InvalidArn
	if !errors.As(err, &ia) {
		t.Fatalf("DescribeExecution of a state machine ARN: %v, want InvalidArn", err)
	}
	_, err = c.StartExecution(ctx, &sdk.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:m"), Name: aws.String("a b")})
	var in *types.InvalidName
	if !errors.As(err, &in) {
		t.Fatalf("StartExecution with name 'a b': %v, want InvalidName", err)
	}
	_, err = c.StartExecution(ctx, &sdk.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:m"), Input: aws.String("{")})
	var iei *types.InvalidExecutionInput
	if !errors.As(err, &iei) {
		t.Fatalf("StartExecution with input '{': %v, want InvalidExecutionInput", err)
	}
	big := make([]byte, maxPayload+1)
	for i := range big {
		big[i] = ' '
	}
	_, err = c.StartExecution(ctx, &sdk.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:m"), Input: aws.String(string(big))})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("StartExecution with 256 KiB + 1 input: %v, want ValidationException", err)
	}
	_, err = c.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{Name: aws.String("m"), RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), Definition: aws.String(`{"StartAt":"X","States":{}}`)})
	var idf *types.InvalidDefinition
	if !errors.As(err, &idf) {
		t.Fatalf("CreateStateMachine with a bad definition: %v, want InvalidDefinition", err)
	}
	empty := httptest.NewServer(NewHandler(Config{}, stubBackend{}, nil))
	t.Cleanup(empty.Close)
	out, err := newSDKClient(t, empty.URL).ListStateMachines(ctx, &sdk.ListStateMachinesInput{})
	if err != nil || out.StateMachines == nil || len(out.StateMachines) != 0 {
		t.Fatalf("ListStateMachines: %+v, %v; want an empty list", out, err)
	}
}
