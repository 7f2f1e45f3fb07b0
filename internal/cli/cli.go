// Package cli holds duro's verbs. Each noun has its own file; every verb takes its streams and
// getenv from [Env], so tests run verbs in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a verb may touch of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// command is one top-level noun or verb.
type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"server":  {"run a Duro server (Temporal gRPC API, HTTP health and metrics)", runServer},
		"asl":     {"validate or run an Amazon States Language definition locally", runASL},
		"sfn":     {"create, start, describe and list state machines and executions on a running Duro", runSFN},
		"migrate": {"apply the store's migrations and exit", runMigrate},
	}
}

// Main runs duro with args (without the program name) and returns the process exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: getenv}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "duro: unknown command %q\n", args[0])
		usage(env.Stderr, cmds)
		return 2
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: duro <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
}

// usageError is a mistake in how a verb was called; it carries a hint on how to call it right.
type usageError struct {
	message string
	hint    string
}

func (e *usageError) Error() string { return e.message }

// fail prints err (with its hint for a usageError) and returns the exit code for it.
func fail(env *Env, verb string, err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.Stderr, "duro %s: %s\n", verb, ue.message)
		if ue.hint != "" {
			fmt.Fprintf(env.Stderr, "Try: %s\n", ue.hint)
		}
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(env.Stderr, "duro %s: %s\n", verb, strings.TrimSpace(err.Error()))
	return 1
}
