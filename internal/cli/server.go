package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/duro-dev/duro/internal/server"
)

// runServer runs `duro server`. Flags override DURO_* environment variables, which override the
// defaults.
func runServer(ctx context.Context, env *Env, args []string) int {
	fs := flag.NewFlagSet("duro server", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg := server.Config{
		GRPCAddr: envOr(env, "DURO_GRPC_ADDR", server.DefaultGRPCAddr),
		HTTPAddr: envOr(env, "DURO_HTTP_ADDR", server.DefaultHTTPAddr),
		SFNAddr:  envOr(env, "DURO_SFN_ADDR", server.DefaultSFNAddr),
		SFN: server.SFNConfig{
			Region: env.Getenv("DURO_SFN_REGION"), Account: env.Getenv("DURO_SFN_ACCOUNT"),
			ResourcesFile: env.Getenv("DURO_SFN_RESOURCES"),
		},
		Store:    envOr(env, "DURO_STORE", server.DefaultStore),
		LogLevel: envOr(env, "DURO_LOG_LEVEL", "info"),
	}
	maxPayload := server.DefaultMaxPayloadBytes
	if v := env.Getenv("DURO_MAX_PAYLOAD_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fail(env, "server", &usageError{message: fmt.Sprintf("DURO_MAX_PAYLOAD_BYTES=%q is not a number", v), hint: "DURO_MAX_PAYLOAD_BYTES=2097152 duro server"})
		}
		maxPayload = n
	}
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", cfg.GRPCAddr, "Temporal gRPC API address (env DURO_GRPC_ADDR)")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "health and metrics HTTP address, empty to disable (env DURO_HTTP_ADDR)")
	fs.StringVar(&cfg.SFNAddr, "sfn-addr", cfg.SFNAddr, "Step Functions API address, empty to disable (env DURO_SFN_ADDR)")
	fs.StringVar(&cfg.SFN.ResourcesFile, "sfn-resources", cfg.SFN.ResourcesFile, "JSON file mapping Task resources to local commands or URLs (env DURO_SFN_RESOURCES)")
	fs.StringVar(&cfg.Store, "store", cfg.Store, "store: sqlite:PATH or a postgres:// URL (env DURO_STORE)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error (env DURO_LOG_LEVEL)")
	fs.IntVar(&maxPayload, "max-payload-bytes", maxPayload, "largest accepted payload (env DURO_MAX_PAYLOAD_BYTES)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return fail(env, "server", &usageError{message: fmt.Sprintf("unexpected argument %q", fs.Arg(0)), hint: "duro server --store sqlite:./duro.db"})
	}
	cfg.MaxPayloadBytes = maxPayload
	if v := env.Getenv("DURO_BATCH_MAX_OPERATIONS_PER_SECOND"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return fail(env, "server", &usageError{message: fmt.Sprintf("DURO_BATCH_MAX_OPERATIONS_PER_SECOND=%q is not a positive number", v), hint: "DURO_BATCH_MAX_OPERATIONS_PER_SECOND=50 duro server"})
		}
		cfg.BatchMaxOperationsPerSecond = f
	}
	if v := env.Getenv("DURO_BATCH_MAX_CONCURRENT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fail(env, "server", &usageError{message: fmt.Sprintf("DURO_BATCH_MAX_CONCURRENT=%q is not a positive number", v), hint: "DURO_BATCH_MAX_CONCURRENT=1 duro server"})
		}
		cfg.BatchMaxConcurrentPerNamespace = n
	}
	if v := env.Getenv("DURO_SFN_MAX_HISTORY_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fail(env, "server", &usageError{message: fmt.Sprintf("DURO_SFN_MAX_HISTORY_EVENTS=%q is not a positive number", v), hint: "DURO_SFN_MAX_HISTORY_EVENTS=100000 duro server"})
		}
		cfg.SFN.MaxHistoryEvents = n
	}
	if v := env.Getenv("DURO_SFN_ACCESS_KEYS"); v != "" {
		keys, err := parseAccessKeys(v)
		if err != nil {
			return fail(env, "server", err)
		}
		cfg.SFN.AccessKeys = keys
	}
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return fail(env, "server", err)
	}
	if err := srv.Run(ctx); err != nil {
		return fail(env, "server", err)
	}
	return 0
}

func envOr(env *Env, key, def string) string {
	if v := env.Getenv(key); v != "" {
		return v
	}
	return def
}

// parseAccessKeys reads DURO_SFN_ACCESS_KEYS: "ID:SECRET" pairs separated by commas.
func parseAccessKeys(v string) (map[string]string, error) {
	keys := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || id == "" || secret == "" {
			return nil, &usageError{message: "DURO_SFN_ACCESS_KEYS must be ID:SECRET pairs separated by commas", hint: "DURO_SFN_ACCESS_KEYS=AKIDEXAMPLE:secret duro server"}
		}
		keys[id] = secret
	}
	return keys, nil
}
