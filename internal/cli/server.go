package cli

import (
	"context"
	"fmt"
)

// runServer starts a Duro server; the wiring lands with the engine.
func runServer(ctx context.Context, env *Env, args []string) int {
	fmt.Fprintln(env.Stderr, "duro server: not available in this build yet")
	return 1
}
