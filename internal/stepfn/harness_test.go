package stepfn_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/stepfn"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
	"github.com/duro-dev/duro/internal/store/storeopen"
)

// catalogOnly serves the catalog half through the protocol layer while the execution half is
// written elsewhere: it embeds the Service and answers the execution actions with an error. If
// the Service gains those methods, this type's own ones shadow them, so the tests keep testing
// the catalog only.
type catalogOnly struct{ *stepfn.Service }

var _ sfn.Backend = catalogOnly{}

var errNoExecutions = errors.New("catalog tests: the execution half is not served here")

func (catalogOnly) DescribeStateMachineForExecution(context.Context, *sfn.ExecutionArnInput) (*sfn.DescribeStateMachineForExecutionOutput, error) {
	return nil, errNoExecutions
}
func (catalogOnly) StartExecution(context.Context, *sfn.StartExecutionInput) (*sfn.StartExecutionOutput, error) {
	return nil, errNoExecutions
}
func (catalogOnly) DescribeExecution(context.Context, *sfn.ExecutionArnInput) (*sfn.DescribeExecutionOutput, error) {
	return nil, errNoExecutions
}
func (catalogOnly) StopExecution(context.Context, *sfn.StopExecutionInput) (*sfn.StopExecutionOutput, error) {
	return nil, errNoExecutions
}
func (catalogOnly) ListExecutions(context.Context, *sfn.ListExecutionsInput) (*sfn.ListExecutionsOutput, error) {
	return nil, errNoExecutions
}
func (catalogOnly) GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput) (*sfn.GetExecutionHistoryOutput, error) {
	return nil, errNoExecutions
}
func (catalogOnly) GetActivityTask(context.Context, *sfn.GetActivityTaskInput) (*sfn.GetActivityTaskOutput, error) {
	return nil, errNoExecutions
}
func (catalogOnly) SendTaskSuccess(context.Context, *sfn.SendTaskInput) error { return errNoExecutions }
func (catalogOnly) SendTaskFailure(context.Context, *sfn.SendTaskInput) error { return errNoExecutions }
func (catalogOnly) SendTaskHeartbeat(context.Context, *sfn.SendTaskInput) error {
	return errNoExecutions
}

// onStores runs f once on a fresh SQLite file and once on a fresh PostgreSQL schema, in
// parallel. f gets the store spec; [setup] opens it.
func onStores(t *testing.T, f func(t *testing.T, spec string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, "sqlite:"+filepath.Join(t.TempDir(), "duro.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		f(t, pgtest.Schema(t))
	})
}

// testBundle is one node: a store, a Service on it with a manual clock, and an AWS SDK client
// talking to it over loopback through the real protocol layer.
type testBundle struct {
	store  store.Store
	svc    *stepfn.Service
	clock  *clock.Manual
	client *sdk.Client
}

// arnCfg is the region and account the tests' ARNs use (the protocol layer's defaults).
var arnCfg = sfn.Config{}.WithDefaults()

func setup(t *testing.T, spec string) *testBundle {
	t.Helper()
	st, err := storeopen.Open(t.Context(), spec)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return node(t, st)
}

// node serves a new Service over st (one more node on a shared store).
func node(t *testing.T, st store.Store) *testBundle {
	t.Helper()
	clk := clock.NewManual()
	svc := stepfn.New(stepfn.Config{Store: st, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(sfn.NewHandler(sfn.Config{}, catalogOnly{svc}, nil))
	t.Cleanup(srv.Close)
	client := sdk.New(sdk.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
	})
	return &testBundle{store: st, svc: svc, clock: clk, client: client}
}

// errAs asserts that err is (or wraps) a T and returns it.
func errAs[T error](t *testing.T, err error, msgAndArgs ...any) T {
	t.Helper()
	var target T
	require.Error(t, err, msgAndArgs...)
	require.Truef(t, errors.As(err, &target), "error %v: want a %T %v", err, target, msgAndArgs)
	return target
}

// requireCode asserts that err is an API error with the given code. The SDK raises a typed error
// only for the errors the model lists for the operation; AWS also answers others (a
// ValidationException for a constraint the operation's input breaks), which reach the caller
// as a generic smithy.APIError.
func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	require.Truef(t, errors.As(err, &ae), "error %v: want an API error %s", err, code)
	require.Equal(t, code, ae.ErrorCode(), "error %v", err)
}

// requireBetween asserts that ts, a date the service stamped from its clock (at the
// millisecond), was taken between the clock readings from and to around the call.
func requireBetween(t *testing.T, from, ts, to time.Time) {
	t.Helper()
	require.Falsef(t, ts.Before(from.Truncate(time.Millisecond)), "%v is before %v", ts, from)
	require.Falsef(t, ts.After(to), "%v is after %v", ts, to)
}

const role = "arn:aws:iam::123456789012:role/sfn"

// passDef is a one-state definition whose text (spacing, key order, non-ASCII) a normalising
// store would change.
func passDef(result string) string {
	return "{\n  \"Comment\": \"é ✓\",\n  \"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Pass\", \"Result\": \"" + result + "\",   \"End\": true}}\n}\n"
}
