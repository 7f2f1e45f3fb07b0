package cli

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/duro-dev/duro/asl"
	"github.com/duro-dev/duro/asl/jsonv"
	"github.com/duro-dev/duro/internal/asllocal"
)

const aslUsage = `usage: duro asl <verb> [flags]

verbs:
  validate FILE   check a state machine definition; prints {"result","diagnostics"}; exit 1 when invalid
  run FILE        run a definition in memory; prints its output (exit 0) or {"error","cause"} (exit 1);
                  an invalid definition prints its diagnostics (exit 2)

run flags:
  --input JSON | --input @FILE   the execution input (default {})
  --task RESOURCE=COMMAND        run Task resource RESOURCE as a shell command (input on stdin, result
                                 JSON on stdout) or, for an http(s):// URL, as a POST; repeatable
  --history                      print the Step Functions event list instead of the output
  --no-wait                      do not really wait in Wait states and retry backoffs
`

// runASL runs `duro asl validate|run`.
func runASL(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.Stderr, aslUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "validate":
		return aslValidate(env, args[1:])
	case "run":
		return aslRun(ctx, env, args[1:])
	}
	return fail(env, "asl", &usageError{message: fmt.Sprintf("unknown verb %q", args[0]), hint: "duro asl run machine.json --input '{}'"})
}

// parseInterspersed parses flags that may come before or after positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func aslValidate(env *Env, args []string) int {
	fs := flag.NewFlagSet("duro asl validate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		return fail(env, "asl validate", &usageError{message: "expected one definition FILE", hint: "duro asl validate machine.asl.json"})
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(env, "asl validate", &usageError{message: fmt.Sprintf("cannot read the definition: %v", err), hint: "duro asl validate machine.asl.json"})
	}
	diags := asl.Validate(src)
	writeDiagnostics(env.Stdout, diags)
	if asl.HasErrors(diags) {
		return 1
	}
	return 0
}

func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// writeDiagnostics prints ValidateStateMachineDefinition's answer shape.
func writeDiagnostics(w io.Writer, diags []asl.Diagnostic) {
	out := jsonv.NewObject()
	result := "OK"
	if asl.HasErrors(diags) {
		result = "FAIL"
	}
	out.Set("result", result)
	list := make([]any, 0, len(diags))
	for _, d := range diags {
		o := jsonv.NewObject()
		o.Set("severity", d.Severity)
		o.Set("code", d.Code)
		o.Set("message", d.Message)
		if d.Location != "" {
			o.Set("location", d.Location)
		}
		list = append(list, o)
	}
	out.Set("diagnostics", list)
	fmt.Fprintln(w, jsonv.String(out))
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func aslRun(ctx context.Context, env *Env, args []string) int {
	fs := flag.NewFlagSet("duro asl run", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var input string
	var tasks multiFlag
	var history, noWait bool
	fs.StringVar(&input, "input", "{}", "execution input: JSON text, or @FILE")
	fs.Var(&tasks, "task", "RESOURCE=COMMAND or RESOURCE=URL (repeatable)")
	fs.BoolVar(&history, "history", false, "print the event history instead of the output")
	fs.BoolVar(&noWait, "no-wait", false, "let time jump instead of really waiting")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	const hint = `duro asl run machine.json --input '{"a":1}' --task arn:aws:lambda:us-east-1:123456789012:function:f='jq .'`
	if len(pos) != 1 {
		return fail(env, "asl run", &usageError{message: "expected one definition FILE", hint: hint})
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		return fail(env, "asl run", &usageError{message: fmt.Sprintf("cannot read the definition: %v", err), hint: hint})
	}
	inputText := []byte(input)
	if name, ok := strings.CutPrefix(input, "@"); ok {
		if inputText, err = os.ReadFile(name); err != nil {
			return fail(env, "asl run", &usageError{message: fmt.Sprintf("cannot read the input: %v", err), hint: hint})
		}
	}
	in, err := jsonv.Parse(inputText)
	if err != nil {
		return fail(env, "asl run", &usageError{message: fmt.Sprintf("the input is not valid JSON: %v", err), hint: hint})
	}
	targets := map[string]string{}
	for _, t := range tasks {
		res, target, err := asllocal.ParseMapping(t)
		if err != nil {
			return fail(env, "asl run", &usageError{message: err.Error(), hint: hint})
		}
		targets[res] = target
	}
	m, diags := asl.Compile(src)
	if m == nil {
		writeDiagnostics(env.Stdout, diags)
		return 2
	}
	var clk asl.Clock = asllocal.RealClock{}
	if noWait {
		clk = &asl.VirtualClock{T: time.Now()}
	}
	machine := strings.TrimSuffix(filepath.Base(pos[0]), filepath.Ext(pos[0]))
	machine = strings.TrimSuffix(machine, ".asl")
	name := uuid.NewString()
	var seed [8]byte
	_, _ = rand.Read(seed[:]) // the decider's randomness is an input; the CLI draws it here
	cfg := asl.ExecutionConfig{
		ExecutionArn:     "arn:aws:states:local:000000000000:execution:" + machine + ":" + name,
		Name:             name,
		StateMachineArn:  "arn:aws:states:local:000000000000:stateMachine:" + machine,
		StateMachineName: machine,
		RoleArn:          "arn:aws:iam::000000000000:role/DuroLocal",
		Input:            in,
		StartTime:        clk.Now(),
		Seed:             binary.LittleEndian.Uint64(seed[:]),
		Region:           "local",
	}
	runner := &asl.Runner{Tasks: &asllocal.Tasks{Targets: targets}, Clock: clk}
	x, err := runner.Run(ctx, m, cfg)
	if err != nil {
		return fail(env, "asl run", err)
	}
	if history {
		writeHistory(env.Stdout, x.History())
	} else if x.Status() == asl.StatusSucceeded {
		fmt.Fprintln(env.Stdout, jsonv.String(x.Output()))
	} else {
		name, cause := x.Error()
		out := jsonv.NewObject()
		out.Set("error", name)
		out.Set("cause", cause)
		fmt.Fprintln(env.Stdout, jsonv.String(out))
	}
	if x.Status() != asl.StatusSucceeded {
		return 1
	}
	return 0
}

// writeHistory prints the events as a JSON array, one event per line.
func writeHistory(w io.Writer, events []asl.Event) {
	fmt.Fprint(w, "[")
	for i := range events {
		if i > 0 {
			fmt.Fprint(w, ",")
		}
		fmt.Fprint(w, "\n")
		fmt.Fprint(w, jsonv.String(events[i].JSON()))
	}
	fmt.Fprint(w, "\n]\n")
}
