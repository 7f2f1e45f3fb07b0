// Package server assembles a Duro node by hand: it opens the store, builds the engine, matching,
// timers and frontends, owns the listeners and runs every loop under one errgroup.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/duro-dev/duro/internal/clock"
)

// Config is every setting of a node. Flags override DURO_* environment variables (internal/cli).
type Config struct {
	// GRPCAddr is the Temporal API listener (DURO_GRPC_ADDR). Port 0 picks a free port.
	GRPCAddr string
	// HTTPAddr is the health and metrics listener (DURO_HTTP_ADDR). Empty disables it.
	HTTPAddr string
	// SFNAddr is the Step Functions API listener (DURO_SFN_ADDR; the CLI's default is AWS Step
	// Functions Local's 127.0.0.1:8083). Empty disables it.
	SFNAddr string
	// SFN configures the Step Functions API: ARN region and account (DURO_SFN_REGION,
	// DURO_SFN_ACCOUNT), the namespace its executions run in, access keys whose SigV4
	// signatures are verified (DURO_SFN_ACCESS_KEYS, "ID:SECRET,..."; none: any signature is
	// accepted, as Step Functions Local does) and the local resource file (DURO_SFN_RESOURCES).
	SFN SFNConfig
	// Store selects the store (DURO_STORE): "sqlite:PATH" or a postgres:// URL.
	Store string
	// LogLevel is debug, info, warn or error (DURO_LOG_LEVEL).
	LogLevel string
	// MaxPayloadBytes caps one payload (Temporal's blob size limit, 2 MB by default).
	MaxPayloadBytes int
	// LongPollTimeout bounds task-queue long polls; the SDK's own deadline is 70 s.
	LongPollTimeout time.Duration
	// History limits: past the warning thresholds WorkflowTaskStarted suggests continue-as-new;
	// at the maximum the run is terminated. Zero means Temporal's defaults (10,240 events / 10 MB
	// and 51,200 events / 50 MB).
	HistoryWarnEvents, HistoryMaxEvents int
	HistoryWarnBytes, HistoryMaxBytes   int
	// BatchMaxOperationsPerSecond caps the rate of every batch operation (Temporal's
	// worker.batcherRPS): a request asking for more, or for no rate, gets this. Zero means 50.
	BatchMaxOperationsPerSecond float64
	// BatchMaxConcurrentPerNamespace bounds the batch operations running at once in a namespace
	// (Temporal's frontend.MaxConcurrentBatchOperationPerNamespace). Zero means 1.
	BatchMaxConcurrentPerNamespace int
	// Clock is the node's time source; nil means the wall clock. Tests inject a manual clock.
	Clock clock.Clock
	// Logger receives the node's logs; nil means a text logger on stderr at LogLevel.
	Logger *slog.Logger
}

// SFNConfig is the Step Functions API's part of Config.
type SFNConfig struct {
	Region, Account string
	// Namespace hosts the executions; default "default".
	Namespace string
	// AccessKeys maps access key IDs to secrets; empty accepts any signature.
	AccessKeys map[string]string
	// ResourcesFile maps Task resources to local commands and URLs (stepfn.LoadResources).
	ResourcesFile string
	// PollTimeout bounds GetActivityTask long polls; default 50 s (under botocore's 60 s).
	PollTimeout time.Duration
	// MaxHistoryEvents bounds an execution's history (DURO_SFN_MAX_HISTORY_EVENTS); 0 means
	// Step Functions' quota of 25,000 events.
	MaxHistoryEvents int
}

// Defaults used by WithDefaults.
const (
	DefaultGRPCAddr        = "127.0.0.1:7233"
	DefaultHTTPAddr        = "127.0.0.1:8233"
	DefaultSFNAddr         = "127.0.0.1:8083"
	DefaultStore           = "sqlite:./duro.db"
	DefaultMaxPayloadBytes = 2 * 1024 * 1024
	DefaultLongPollTimeout = 60 * time.Second
)

// WithDefaults returns c with every unset field given its default.
func (c Config) WithDefaults() Config {
	if c.GRPCAddr == "" {
		c.GRPCAddr = DefaultGRPCAddr
	}
	if c.Store == "" {
		c.Store = DefaultStore
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.MaxPayloadBytes == 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if c.LongPollTimeout == 0 {
		c.LongPollTimeout = DefaultLongPollTimeout
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if !strings.HasPrefix(c.Store, "sqlite:") && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		return fmt.Errorf("store %q: want sqlite:PATH or a postgres:// URL", c.Store)
	}
	if c.MaxPayloadBytes < 0 {
		return errors.New("max payload bytes must not be negative")
	}
	if c.LongPollTimeout < time.Second || c.LongPollTimeout > 65*time.Second {
		return fmt.Errorf("long poll timeout %v: want between 1s and 65s (the SDK's deadline is 70s)", c.LongPollTimeout)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}
