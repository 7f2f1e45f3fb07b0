// Package stepfn is Duro's Step Functions backend: it carries out the actions of the
// [sfn.Backend] that the protocol layer (internal/frontend/sfn) has already decoded and
// validated, on the store and the engine.
//
// It has two halves. The catalog (catalog.go, tags.go, versions.go) keeps state machines, their
// published versions, activities and their tags as generic store records (kinds
// "sfn.statemachine", "sfn.statemachine.version" and "sfn.activity", Data encoded as JSON). The
// execution half (executions.go and the exec*/task* files) runs executions on the engine, and
// reads the catalog through [Service.LookupStateMachine] and [Service.LookupActivity].
//
// Invariants of the catalog:
//
//   - Every write is a compare-and-swap on the record's version, re-read and re-applied after a
//     conflict, so two nodes writing the same state machine or activity never lose an update.
//   - A definition is stored as the client sent it and returned byte for byte.
//   - An ARN outside the configured partition, region and account names nothing
//     (StateMachineDoesNotExist, ActivityDoesNotExist or ResourceNotFound), as in AWS, where
//     such a resource lives in another account.
//   - Create actions are idempotent as AWS's are, so a client retrying after a lost reply gets
//     the first answer (same ARN and creation date), never a second resource or an error.
package stepfn

import (
	"log/slog"
	"time"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/matching"
	"github.com/duro-dev/duro/internal/store"
)

// Config is the backend's configuration and dependencies.
type Config struct {
	// Store holds the catalog's records (and the engine's executions).
	Store store.Store
	// Namespace is the Temporal namespace that hosts executions, and the namespace of the
	// catalog's records; default "default".
	Namespace string
	// ARN is the partition, region and account of the ARNs the backend formats and accepts, as
	// the frontend formats them (defaults applied by [sfn.Config.WithDefaults]).
	ARN sfn.Config
	// Clock stamps creation and update dates and ages page tokens; default the wall clock.
	Clock clock.Clock
	// Logger receives what the backend cannot answer to a client; default slog.Default().
	Logger *slog.Logger

	// --- Execution half (the lead's): its dependencies go below. The catalog uses none of them.

	// Engine runs executions.
	Engine *engine.Engine
	// Matcher hands activity tasks to GetActivityTask polls (and to the local resource runner).
	Matcher *matching.Matcher
	// PollTimeout is how long GetActivityTask waits for a task; default DefaultPollTimeout.
	PollTimeout time.Duration
	// Resources maps Task resources that are not activities to local commands and URLs (see
	// LoadResources); nil runs none of them.
	Resources *Resources
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	c.ARN = c.ARN.WithDefaults()
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Service implements the Step Functions actions. It is safe for concurrent use, and any number
// of Services (on any number of nodes) may share one store.
type Service struct {
	cfg   Config
	store store.Store
	clock clock.Clock
	log   *slog.Logger

	// --- Execution half (the lead's): its state goes below.
}

// New returns a Service over cfg (defaults applied).
func New(cfg Config) *Service {
	cfg = cfg.WithDefaults()
	return &Service{cfg: cfg, store: cfg.Store, clock: cfg.Clock, log: cfg.Logger}
}
