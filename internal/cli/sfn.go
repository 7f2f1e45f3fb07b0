package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// The `duro sfn` verbs are a client of a running Duro's Step Functions API, through the AWS SDK
// like any other client: what a user reaches for without the AWS CLI.

const sfnUsage = `usage: duro sfn <verb> [flags]

verbs:
  create NAME FILE        create the state machine NAME from a definition file (- reads stdin), or
                          update it when it exists; prints created, updated or unchanged and its ARN
  start NAME              start an execution of NAME; prints its ARN, or with --wait its output
  describe MACHINE|EXEC   a state machine (by name or ARN) or an execution
  history EXEC            an execution's events as a timeline: time offset, id, type, state, detail
  list [NAME]             the executions of NAME, newest first; without NAME, the state machines

An execution EXEC is its ARN, MACHINE:NAME, or its NAME alone when only one machine has an
execution of that name. describe takes a bare name for a state machine's first.

flags of every verb:
  --endpoint URL          the Step Functions API (env DURO_SFN_ENDPOINT; default http://127.0.0.1:8083)

create flags:
  --role ARN              the state machine's role (default arn:aws:iam::000000000000:role/DuroLocal
                          on create; unchanged on update)
start flags:
  --input JSON | @FILE    the execution input (default {}; @- reads stdin)
  --name NAME             the execution's name (default a random UUID)
  --wait                  wait for the end: print the output and exit 0 on success, print
                          {"error","cause"} and exit 1 otherwise
list flags:
  --status STATUS         only RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE

Requests are signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when set (for a server started
with DURO_SFN_ACCESS_KEYS), else with dummy keys, in DURO_SFN_REGION or AWS_REGION (default us-east-1).
`

const (
	sfnDefaultEndpoint = "http://127.0.0.1:8083"
	sfnDefaultRole     = "arn:aws:iam::000000000000:role/DuroLocal"
)

// runSFN runs `duro sfn <verb>`.
func runSFN(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.Stderr, sfnUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	verbs := map[string]func(context.Context, *sfnCmd, []string) error{
		"create": sfnCreate, "start": sfnStart, "describe": sfnDescribe, "history": sfnHistory, "list": sfnList,
	}
	run, ok := verbs[args[0]]
	if !ok {
		return fail(env, "sfn", &usageError{message: fmt.Sprintf("unknown verb %q (create, start, describe, history, list)", args[0]), hint: "duro sfn start hello --input '{}' --wait"})
	}
	verb := "sfn " + args[0]
	cmd := &sfnCmd{env: env, verb: verb, fs: flag.NewFlagSet("duro "+verb, flag.ContinueOnError)}
	cmd.fs.SetOutput(io.Discard) // parse reports flag errors itself, with a hint
	cmd.fs.StringVar(&cmd.endpoint, "endpoint", envOr(env, "DURO_SFN_ENDPOINT", sfnDefaultEndpoint), "the Step Functions API (env DURO_SFN_ENDPOINT)")
	if err := run(ctx, cmd, args[1:]); err != nil {
		if errors.Is(err, errSFNReported) {
			return 1
		}
		return fail(env, verb, cmd.explain(err))
	}
	return 0
}

// errSFNReported is returned by a verb that has already told the user what went wrong (an
// execution that did not succeed, an invalid definition's diagnostics): exit 1, nothing more.
var errSFNReported = errors.New("reported")

// sfnCmd is one `duro sfn` invocation: its flags, streams and client.
type sfnCmd struct {
	env      *Env
	verb     string
	fs       *flag.FlagSet
	endpoint string
	c        *sfnsdk.Client
}

// parse parses the verb's flags (before or after its arguments), checks it got lo to hi
// positional arguments (what they are: "NAME FILE"), and builds the client.
func (s *sfnCmd) parse(args []string, lo, hi int, what, hint string) ([]string, error) {
	pos, err := parseInterspersed(s.fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(s.env.Stderr, sfnUsage)
			return nil, err
		}
		return nil, &usageError{message: err.Error(), hint: hint}
	}
	if len(pos) < lo || len(pos) > hi {
		got := "no arguments"
		if len(pos) > 0 {
			got = fmt.Sprintf("%d: %s", len(pos), strings.Join(pos, " "))
		}
		return nil, &usageError{message: fmt.Sprintf("expected %s, got %s", what, got), hint: hint}
	}
	endpoint := s.endpoint
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	s.endpoint = endpoint
	region := envOr(s.env, "DURO_SFN_REGION", envOr(s.env, "AWS_REGION", envOr(s.env, "AWS_DEFAULT_REGION", "us-east-1")))
	creds := aws.Credentials{AccessKeyID: "duro", SecretAccessKey: "duro"}
	if id, secret := s.env.Getenv("AWS_ACCESS_KEY_ID"), s.env.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		creds = aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: s.env.Getenv("AWS_SESSION_TOKEN")}
	}
	s.c = sfnsdk.New(sfnsdk.Options{
		Region: region, BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
		// A CLI should say soon that nothing listens, not back off for seconds.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 200 * time.Millisecond }),
	})
	return pos, nil
}

// explain turns an SDK error into what the user needs to read: the API's error code and
// message, or that no server answers at the endpoint.
func (s *sfnCmd) explain(err error) error {
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, flag.ErrHelp) {
		return err
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("cannot reach the Step Functions API at %s (is `duro server` running? --endpoint or DURO_SFN_ENDPOINT point elsewhere): %v", s.endpoint, op.Err)
	}
	return err
}

// readArg reads a file argument, or stdin for "-".
func (s *sfnCmd) readArg(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(s.env.Stdin)
	}
	return os.ReadFile(name)
}

// machines lists every state machine.
func (s *sfnCmd) machines(ctx context.Context) ([]types.StateMachineListItem, error) {
	var all []types.StateMachineListItem
	p := sfnsdk.NewListStateMachinesPaginator(s.c, &sfnsdk.ListStateMachinesInput{MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all = append(all, page.StateMachines...)
	}
	return all, nil
}

// machineARN resolves a state machine name or ARN to its ARN; found is false for a name no
// machine has.
func (s *sfnCmd) machineARN(ctx context.Context, nameOrARN string) (arn string, found bool, err error) {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN, true, nil
	}
	all, err := s.machines(ctx)
	if err != nil {
		return "", false, err
	}
	for _, m := range all {
		if aws.ToString(m.Name) == nameOrARN {
			return aws.ToString(m.StateMachineArn), true, nil
		}
	}
	return "", false, nil
}

// mustMachineARN is machineARN with a helpful error for a name no machine has.
func (s *sfnCmd) mustMachineARN(ctx context.Context, nameOrARN string) (string, error) {
	arn, found, err := s.machineARN(ctx, nameOrARN)
	if err == nil && !found {
		err = fmt.Errorf("no state machine named %q (duro sfn create %s FILE creates it; duro sfn list shows the machines)", nameOrARN, nameOrARN)
	}
	return arn, err
}

// executionARN derives an execution's ARN from its machine's: same partition, region and
// account, resource execution:MACHINE:NAME.
func executionARN(machineARN, name string) string {
	return strings.Replace(machineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}

// resolveExecution resolves an execution argument (ARN, MACHINE:NAME or NAME) to its ARN.
func (s *sfnCmd) resolveExecution(ctx context.Context, arg string) (string, error) {
	if strings.HasPrefix(arg, "arn:") {
		if !strings.Contains(arg, ":execution:") {
			return "", &usageError{message: fmt.Sprintf("%q is not an execution ARN", arg), hint: "duro " + s.verb + " arn:aws:states:us-east-1:123456789012:execution:MACHINE:NAME"}
		}
		return arg, nil
	}
	// Step Functions names never hold a colon, so MACHINE:NAME is unambiguous.
	if machine, name, ok := strings.Cut(arg, ":"); ok {
		m, err := s.mustMachineARN(ctx, machine)
		if err != nil {
			return "", err
		}
		return executionARN(m, name), nil
	}
	all, err := s.machines(ctx)
	if err != nil {
		return "", err
	}
	var arns, labels []string
	for _, m := range all {
		arn := executionARN(aws.ToString(m.StateMachineArn), arg)
		_, err := s.c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn), IncludedData: types.IncludedDataMetadataOnly})
		var missing *types.ExecutionDoesNotExist
		switch {
		case err == nil:
			arns, labels = append(arns, arn), append(labels, aws.ToString(m.Name)+":"+arg)
		case !errors.As(err, &missing):
			return "", err
		}
	}
	switch len(arns) {
	case 0:
		return "", fmt.Errorf("no execution named %q (duro sfn list MACHINE shows a machine's executions)", arg)
	case 1:
		return arns[0], nil
	}
	return "", fmt.Errorf("%d state machines have an execution named %q: say which, as %s", len(arns), arg, strings.Join(labels, " or "))
}

func sfnCreate(ctx context.Context, s *sfnCmd, args []string) error {
	const hint = "duro sfn create hello hello.asl.json"
	role := s.fs.String("role", "", "the state machine's role ARN")
	pos, err := s.parse(args, 2, 2, "NAME FILE", hint)
	if err != nil {
		return err
	}
	name, file := pos[0], pos[1]
	def, err := s.readArg(file)
	if err != nil {
		return &usageError{message: fmt.Sprintf("cannot read the definition: %v", err), hint: hint}
	}
	arn, found, err := s.machineARN(ctx, name)
	if err != nil {
		return err
	}
	if !found {
		r := *role
		if r == "" {
			r = sfnDefaultRole
		}
		out, err := s.c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(string(def)), RoleArn: aws.String(r)})
		var exists *types.StateMachineAlreadyExists
		switch {
		case err == nil:
			fmt.Fprintf(s.env.Stdout, "created %s\n", aws.ToString(out.StateMachineArn))
			return nil
		case errors.As(err, &exists): // created meanwhile by someone else: update it
			if arn, err = s.mustMachineARN(ctx, name); err != nil {
				return err
			}
		default:
			return s.definitionError(ctx, err, def)
		}
	}
	cur, err := s.c.DescribeStateMachine(ctx, &sfnsdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		return err
	}
	if aws.ToString(cur.Definition) == string(def) && (*role == "" || *role == aws.ToString(cur.RoleArn)) {
		fmt.Fprintf(s.env.Stdout, "unchanged %s\n", arn)
		return nil
	}
	in := &sfnsdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(string(def))}
	if *role != "" {
		in.RoleArn = role
	}
	if _, err := s.c.UpdateStateMachine(ctx, in); err != nil {
		return s.definitionError(ctx, err, def)
	}
	fmt.Fprintf(s.env.Stdout, "updated %s\n", arn)
	return nil
}

// definitionError prints every diagnostic of an invalid definition (the API's error names only
// the first), from ValidateStateMachineDefinition; other errors pass through.
func (s *sfnCmd) definitionError(ctx context.Context, err error, def []byte) error {
	var invalid *types.InvalidDefinition
	if !errors.As(err, &invalid) {
		return err
	}
	v, verr := s.c.ValidateStateMachineDefinition(ctx, &sfnsdk.ValidateStateMachineDefinitionInput{Definition: aws.String(string(def))})
	if verr != nil || len(v.Diagnostics) == 0 {
		return err
	}
	fmt.Fprintf(s.env.Stderr, "duro %s: the definition is invalid:\n", s.verb)
	for _, d := range v.Diagnostics {
		loc := ""
		if l := aws.ToString(d.Location); l != "" {
			loc = " at " + l
		}
		fmt.Fprintf(s.env.Stderr, "  %s %s%s: %s\n", d.Severity, aws.ToString(d.Code), loc, aws.ToString(d.Message))
	}
	return errSFNReported
}

func sfnStart(ctx context.Context, s *sfnCmd, args []string) error {
	const hint = `duro sfn start hello --input '{"name":"Ada"}' --wait`
	input := s.fs.String("input", "{}", "execution input: JSON text, or @FILE")
	name := s.fs.String("name", "", "the execution's name")
	wait := s.fs.Bool("wait", false, "wait for the execution to end and print its output")
	pos, err := s.parse(args, 1, 1, "the state machine's NAME", hint)
	if err != nil {
		return err
	}
	text := []byte(*input)
	if file, ok := strings.CutPrefix(*input, "@"); ok {
		if text, err = s.readArg(file); err != nil {
			return &usageError{message: fmt.Sprintf("cannot read the input: %v", err), hint: hint}
		}
	}
	if !json.Valid(text) {
		return &usageError{message: "the input is not valid JSON", hint: hint}
	}
	machine, err := s.mustMachineARN(ctx, pos[0])
	if err != nil {
		return err
	}
	in := &sfnsdk.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(string(text))}
	if *name != "" {
		in.Name = name
	}
	out, err := s.c.StartExecution(ctx, in)
	if err != nil {
		return err
	}
	arn := aws.ToString(out.ExecutionArn)
	if !*wait {
		fmt.Fprintln(s.env.Stdout, arn)
		return nil
	}
	fmt.Fprintf(s.env.Stderr, "started %s\n", arn)
	d, err := s.waitExecution(ctx, arn)
	if err != nil {
		return err
	}
	if d.Status == types.ExecutionStatusSucceeded {
		fmt.Fprintln(s.env.Stdout, aws.ToString(d.Output))
		return nil
	}
	b, _ := json.Marshal(struct {
		Error string `json:"error"`
		Cause string `json:"cause"`
	}{aws.ToString(d.Error), aws.ToString(d.Cause)})
	fmt.Fprintln(s.env.Stdout, string(b))
	fmt.Fprintf(s.env.Stderr, "duro %s: execution %s %s\n", s.verb, aws.ToString(d.Name), d.Status)
	return errSFNReported
}

// waitExecution polls DescribeExecution until the execution leaves RUNNING, quickly at first
// and then every second (the API has no long poll for an execution's end).
func (s *sfnCmd) waitExecution(ctx context.Context, arn string) (*sfnsdk.DescribeExecutionOutput, error) {
	delay := 20 * time.Millisecond
	for {
		d, err := s.c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			return nil, err
		}
		if d.Status != types.ExecutionStatusRunning {
			return d, nil
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting; the execution runs on (duro sfn describe %s): %w", arn, ctx.Err())
		}
		delay = min(2*delay, time.Second)
	}
}

func sfnDescribe(ctx context.Context, s *sfnCmd, args []string) error {
	pos, err := s.parse(args, 1, 1, "one state machine or execution", "duro sfn describe hello   (or MACHINE:EXECUTION, or an ARN)")
	if err != nil {
		return err
	}
	arg := pos[0]
	if strings.Contains(arg, ":stateMachine:") || (!strings.HasPrefix(arg, "arn:") && !strings.Contains(arg, ":")) {
		arn, found, err := s.machineARN(ctx, arg)
		if err != nil {
			return err
		}
		if found {
			return s.describeMachine(ctx, arn)
		}
	}
	arn, err := s.resolveExecution(ctx, arg)
	if err != nil {
		if !strings.Contains(arg, ":") {
			return fmt.Errorf("no state machine or execution named %q (duro sfn list shows the machines)", arg)
		}
		return err
	}
	d, err := s.c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(s.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "execution:\t%s\n", aws.ToString(d.Name))
	fmt.Fprintf(w, "arn:\t%s\n", aws.ToString(d.ExecutionArn))
	fmt.Fprintf(w, "state machine:\t%s\n", aws.ToString(d.StateMachineArn))
	fmt.Fprintf(w, "status:\t%s\n", d.Status)
	fmt.Fprintf(w, "started:\t%s\n", sfnTime(d.StartDate))
	if d.StopDate != nil {
		fmt.Fprintf(w, "stopped:\t%s (after %s)\n", sfnTime(d.StopDate), sfnDuration(d.StopDate.Sub(aws.ToTime(d.StartDate))))
	}
	fmt.Fprintf(w, "input:\t%s\n", aws.ToString(d.Input))
	if d.Output != nil {
		fmt.Fprintf(w, "output:\t%s\n", aws.ToString(d.Output))
	}
	if d.Error != nil || d.Cause != nil {
		fmt.Fprintf(w, "error:\t%s\n", aws.ToString(d.Error))
		fmt.Fprintf(w, "cause:\t%s\n", aws.ToString(d.Cause))
	}
	return w.Flush()
}

func (s *sfnCmd) describeMachine(ctx context.Context, arn string) error {
	d, err := s.c.DescribeStateMachine(ctx, &sfnsdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(s.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "state machine:\t%s\n", aws.ToString(d.Name))
	fmt.Fprintf(w, "arn:\t%s\n", aws.ToString(d.StateMachineArn))
	fmt.Fprintf(w, "status:\t%s\n", d.Status)
	fmt.Fprintf(w, "type:\t%s\n", d.Type)
	fmt.Fprintf(w, "role:\t%s\n", aws.ToString(d.RoleArn))
	fmt.Fprintf(w, "created:\t%s\n", sfnTime(d.CreationDate))
	if r := aws.ToString(d.RevisionId); r != "" {
		fmt.Fprintf(w, "revision:\t%s\n", r)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(s.env.Stdout, "definition:\n%s\n", strings.TrimRight(aws.ToString(d.Definition), "\n"))
	return nil
}

func sfnHistory(ctx context.Context, s *sfnCmd, args []string) error {
	pos, err := s.parse(args, 1, 1, "one execution", "duro sfn history hello:run1   (or the execution's ARN or name)")
	if err != nil {
		return err
	}
	arn, err := s.resolveExecution(ctx, pos[0])
	if err != nil {
		return err
	}
	var events []types.HistoryEvent
	p := sfnsdk.NewGetExecutionHistoryPaginator(s.c, &sfnsdk.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		events = append(events, page.Events...)
	}
	writeTimeline(s.env.Stdout, events)
	return nil
}

func sfnList(ctx context.Context, s *sfnCmd, args []string) error {
	const hint = "duro sfn list hello --status FAILED"
	status := s.fs.String("status", "", "only executions of this status")
	pos, err := s.parse(args, 0, 1, "at most one state machine NAME", hint)
	if err != nil {
		return err
	}
	filter := types.ExecutionStatus(strings.ToUpper(*status))
	if *status != "" && !sfnKnownStatus(filter) {
		return &usageError{message: fmt.Sprintf("unknown status %q (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE)", *status), hint: hint}
	}
	w := tabwriter.NewWriter(s.env.Stdout, 0, 0, 2, ' ', 0)
	if len(pos) == 0 {
		if *status != "" {
			return &usageError{message: "--status filters the executions of a state machine: name it", hint: hint}
		}
		all, err := s.machines(ctx)
		if err != nil {
			return err
		}
		sort.Slice(all, func(i, j int) bool { return aws.ToString(all[i].Name) < aws.ToString(all[j].Name) })
		fmt.Fprintln(w, "NAME\tTYPE\tCREATED\tARN")
		for _, m := range all {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", aws.ToString(m.Name), m.Type, sfnTime(m.CreationDate), aws.ToString(m.StateMachineArn))
		}
		return w.Flush()
	}
	machine, err := s.mustMachineARN(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "NAME\tSTATUS\tSTARTED\tDURATION")
	p := sfnsdk.NewListExecutionsPaginator(s.c, &sfnsdk.ListExecutionsInput{StateMachineArn: aws.String(machine), StatusFilter: filter, MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, x := range page.Executions {
			took := "-"
			if x.StopDate != nil {
				took = sfnDuration(x.StopDate.Sub(aws.ToTime(x.StartDate)))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", aws.ToString(x.Name), x.Status, sfnTime(x.StartDate), took)
		}
	}
	return w.Flush()
}

func sfnKnownStatus(st types.ExecutionStatus) bool {
	for _, v := range st.Values() {
		if v == st {
			return true
		}
	}
	return false
}

// sfnTime prints a timestamp in UTC to the millisecond.
func sfnTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// sfnDuration prints a duration to the millisecond.
func sfnDuration(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}

// writeTimeline prints events as a table: offset from the first event, id, type, the state the
// event belongs to, and a short detail.
func writeTimeline(out io.Writer, events []types.HistoryEvent) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "OFFSET\tID\tTYPE\tSTATE\tDETAIL")
	var t0 time.Time
	if len(events) > 0 {
		t0 = aws.ToTime(events[0].Timestamp)
	}
	states := eventStates(events)
	for _, ev := range events {
		d := aws.ToTime(ev.Timestamp).Sub(t0)
		offset := fmt.Sprintf("+%.3fs", d.Seconds())
		if d >= time.Minute {
			offset = "+" + sfnDuration(d)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", offset, ev.Id, ev.Type, states[ev.Id], shorten(eventDetail(ev), 100))
	}
	_ = w.Flush()
}

// eventStates names the state each event belongs to, by walking its previousEventId chain back
// to the StateEntered event of the state it is in. A StateExited met on the way is a state the
// event comes after, not one it is in: the walk skips back past that state's StateEntered.
// Execution-level events belong to no state.
func eventStates(events []types.HistoryEvent) map[int64]string {
	byID := make(map[int64]*types.HistoryEvent, len(events))
	for i := range events {
		byID[events[i].Id] = &events[i]
	}
	out := make(map[int64]string, len(events))
	for _, ev := range events {
		switch {
		case ev.StateEnteredEventDetails != nil:
			out[ev.Id] = aws.ToString(ev.StateEnteredEventDetails.Name)
			continue
		case ev.StateExitedEventDetails != nil:
			out[ev.Id] = aws.ToString(ev.StateExitedEventDetails.Name)
			continue
		case strings.HasPrefix(string(ev.Type), "Execution"):
			continue
		}
		skip := "" // the name of an exited state being walked past
		for cur := byID[ev.PreviousEventId]; cur != nil; cur = byID[cur.PreviousEventId] {
			if d := cur.StateExitedEventDetails; d != nil && skip == "" {
				skip = aws.ToString(d.Name)
				continue
			}
			if d := cur.StateEnteredEventDetails; d != nil {
				if skip == "" {
					out[ev.Id] = aws.ToString(d.Name)
					break
				}
				if aws.ToString(d.Name) == skip {
					skip = ""
				}
			}
		}
	}
	return out
}

// eventDetail is the gist of an event's details: an input or output, a resource, an error and
// cause, a Map's length or an iteration's index.
func eventDetail(ev types.HistoryEvent) string {
	failed := func(e, c *string) string {
		if c == nil || *c == "" {
			return aws.ToString(e)
		}
		return aws.ToString(e) + ": " + aws.ToString(c)
	}
	data := func(what string, s *string) string {
		if s == nil {
			return ""
		}
		return what + " " + *s
	}
	switch d := ev; {
	case d.ExecutionStartedEventDetails != nil:
		return data("input", d.ExecutionStartedEventDetails.Input)
	case d.ExecutionSucceededEventDetails != nil:
		return data("output", d.ExecutionSucceededEventDetails.Output)
	case d.ExecutionFailedEventDetails != nil:
		return failed(d.ExecutionFailedEventDetails.Error, d.ExecutionFailedEventDetails.Cause)
	case d.ExecutionAbortedEventDetails != nil:
		return failed(d.ExecutionAbortedEventDetails.Error, d.ExecutionAbortedEventDetails.Cause)
	case d.ExecutionTimedOutEventDetails != nil:
		return failed(d.ExecutionTimedOutEventDetails.Error, d.ExecutionTimedOutEventDetails.Cause)
	case d.ExecutionRedrivenEventDetails != nil:
		return fmt.Sprintf("redrive %d", aws.ToInt32(d.ExecutionRedrivenEventDetails.RedriveCount))
	case d.StateEnteredEventDetails != nil:
		return data("input", d.StateEnteredEventDetails.Input)
	case d.StateExitedEventDetails != nil:
		return data("output", d.StateExitedEventDetails.Output)
	case d.TaskScheduledEventDetails != nil:
		return aws.ToString(d.TaskScheduledEventDetails.Resource) + " " + aws.ToString(d.TaskScheduledEventDetails.Parameters)
	case d.TaskStartedEventDetails != nil:
		return aws.ToString(d.TaskStartedEventDetails.Resource)
	case d.TaskSubmittedEventDetails != nil:
		return data("output", d.TaskSubmittedEventDetails.Output)
	case d.TaskSucceededEventDetails != nil:
		return data("output", d.TaskSucceededEventDetails.Output)
	case d.TaskFailedEventDetails != nil:
		return failed(d.TaskFailedEventDetails.Error, d.TaskFailedEventDetails.Cause)
	case d.TaskTimedOutEventDetails != nil:
		return failed(d.TaskTimedOutEventDetails.Error, d.TaskTimedOutEventDetails.Cause)
	case d.TaskStartFailedEventDetails != nil:
		return failed(d.TaskStartFailedEventDetails.Error, d.TaskStartFailedEventDetails.Cause)
	case d.TaskSubmitFailedEventDetails != nil:
		return failed(d.TaskSubmitFailedEventDetails.Error, d.TaskSubmitFailedEventDetails.Cause)
	case d.ActivityScheduledEventDetails != nil:
		return aws.ToString(d.ActivityScheduledEventDetails.Resource) + " " + aws.ToString(d.ActivityScheduledEventDetails.Input)
	case d.ActivityStartedEventDetails != nil:
		return data("worker", d.ActivityStartedEventDetails.WorkerName)
	case d.ActivitySucceededEventDetails != nil:
		return data("output", d.ActivitySucceededEventDetails.Output)
	case d.ActivityFailedEventDetails != nil:
		return failed(d.ActivityFailedEventDetails.Error, d.ActivityFailedEventDetails.Cause)
	case d.ActivityTimedOutEventDetails != nil:
		return failed(d.ActivityTimedOutEventDetails.Error, d.ActivityTimedOutEventDetails.Cause)
	case d.ActivityScheduleFailedEventDetails != nil:
		return failed(d.ActivityScheduleFailedEventDetails.Error, d.ActivityScheduleFailedEventDetails.Cause)
	case d.LambdaFunctionScheduledEventDetails != nil:
		return aws.ToString(d.LambdaFunctionScheduledEventDetails.Resource) + " " + aws.ToString(d.LambdaFunctionScheduledEventDetails.Input)
	case d.LambdaFunctionSucceededEventDetails != nil:
		return data("output", d.LambdaFunctionSucceededEventDetails.Output)
	case d.LambdaFunctionFailedEventDetails != nil:
		return failed(d.LambdaFunctionFailedEventDetails.Error, d.LambdaFunctionFailedEventDetails.Cause)
	case d.LambdaFunctionTimedOutEventDetails != nil:
		return failed(d.LambdaFunctionTimedOutEventDetails.Error, d.LambdaFunctionTimedOutEventDetails.Cause)
	case d.LambdaFunctionStartFailedEventDetails != nil:
		return failed(d.LambdaFunctionStartFailedEventDetails.Error, d.LambdaFunctionStartFailedEventDetails.Cause)
	case d.LambdaFunctionScheduleFailedEventDetails != nil:
		return failed(d.LambdaFunctionScheduleFailedEventDetails.Error, d.LambdaFunctionScheduleFailedEventDetails.Cause)
	case d.MapStateStartedEventDetails != nil:
		return fmt.Sprintf("length %d", d.MapStateStartedEventDetails.Length)
	case d.MapIterationStartedEventDetails != nil:
		return fmt.Sprintf("iteration %d", d.MapIterationStartedEventDetails.Index)
	case d.MapIterationSucceededEventDetails != nil:
		return fmt.Sprintf("iteration %d", d.MapIterationSucceededEventDetails.Index)
	case d.MapIterationFailedEventDetails != nil:
		return fmt.Sprintf("iteration %d", d.MapIterationFailedEventDetails.Index)
	case d.MapIterationAbortedEventDetails != nil:
		return fmt.Sprintf("iteration %d", d.MapIterationAbortedEventDetails.Index)
	case d.MapRunStartedEventDetails != nil:
		return aws.ToString(d.MapRunStartedEventDetails.MapRunArn)
	case d.MapRunFailedEventDetails != nil:
		return failed(d.MapRunFailedEventDetails.Error, d.MapRunFailedEventDetails.Cause)
	case d.EvaluationFailedEventDetails != nil:
		return failed(d.EvaluationFailedEventDetails.Error, d.EvaluationFailedEventDetails.Cause)
	}
	return ""
}

// shorten puts s on one line of at most n characters.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
