package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/duro-dev/duro/internal/store/storeopen"
)

// runMigrate applies the store's pending migrations and exits: `duro migrate [--store SPEC]`.
// Servers migrate at start too; this verb lets an operator do it first, on its own (the
// PostgreSQL driver takes an advisory lock, so running it beside starting nodes is safe).
func runMigrate(ctx context.Context, env *Env, args []string) int {
	fs := flag.NewFlagSet("duro migrate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	defaultSpec := env.Getenv("DURO_STORE")
	if defaultSpec == "" {
		defaultSpec = storeopen.Default
	}
	spec := fs.String("store", defaultSpec, "the store: sqlite:PATH or a postgres:// URL (env DURO_STORE)")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "usage: duro migrate [--store SPEC]")
		fmt.Fprintln(env.Stderr, "\nApplies the store's pending schema migrations and exits.")
		fmt.Fprintln(env.Stderr, "\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return fail(env, "migrate", &usageError{
			message: fmt.Sprintf("unexpected argument %q", fs.Arg(0)),
			hint:    "duro migrate --store sqlite:./duro.db",
		})
	}
	if err := storeopen.Migrate(ctx, *spec); err != nil {
		if errors.Is(err, storeopen.ErrBadSpec) {
			return fail(env, "migrate", &usageError{
				message: err.Error(),
				hint:    "duro migrate --store sqlite:./duro.db   or   --store postgres://user@host:5432/db",
			})
		}
		return fail(env, "migrate", err)
	}
	fmt.Fprintf(env.Stdout, "migrated %s\n", storeopen.Redact(*spec))
	return 0
}
