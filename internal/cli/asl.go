package cli

import (
	"context"
	"fmt"
)

// runASL is replaced by the ASL verbs (validate, run) as the interpreter lands.
func runASL(ctx context.Context, env *Env, args []string) int {
	fmt.Fprintln(env.Stderr, "duro asl: not available in this build yet")
	return 1
}
