// Command duro is Duro's single binary: the server, the migrator and the command-line tools.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/duro-dev/duro/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
