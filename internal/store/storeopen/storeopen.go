// Package storeopen turns a store spec — what DURO_STORE and --store hold — into a [store.Store]:
// "sqlite:PATH" opens the embedded SQLite driver on the file at PATH, and a postgres:// or
// postgresql:// URL the PostgreSQL driver. It is the one place that knows every driver, so the
// server, the CLI and the tests choose a store without importing a database library.
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres"
	"github.com/duro-dev/duro/internal/store/sqlite"
)

// Default is the spec used when none is given: a SQLite file in the working directory.
const Default = "sqlite:./duro.db"

// ErrBadSpec means a spec names no known driver, or names one without saying where its data is.
var ErrBadSpec = errors.New("invalid store spec")

// kind is the driver a spec names.
type kind int

const (
	kindSQLite kind = iota + 1
	kindPostgres
)

// parse splits spec into its driver and the driver's own argument (a path, or the whole URL).
func parse(spec string) (kind, string, error) {
	switch {
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return 0, "", fmt.Errorf("%w %q: want sqlite:PATH, e.g. %s", ErrBadSpec, spec, Default)
		}
		return kindSQLite, path, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return kindPostgres, spec, nil
	default:
		return 0, "", fmt.Errorf("%w %q: want sqlite:PATH or a postgres:// URL", ErrBadSpec, Redact(spec))
	}
}

// Open opens the store spec names, applying its pending migrations.
func Open(ctx context.Context, spec string) (store.Store, error) {
	k, arg, err := parse(spec)
	if err != nil {
		return nil, err
	}
	switch k {
	case kindSQLite:
		s, err := sqlite.Open(ctx, arg)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", spec, err)
		}
		return s, nil
	default:
		s, err := postgres.Open(ctx, arg)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", Redact(spec), err)
		}
		return s, nil
	}
}

// Migrate applies the pending migrations of the store spec names, and closes it again.
func Migrate(ctx context.Context, spec string) error {
	k, arg, err := parse(spec)
	if err != nil {
		return err
	}
	switch k {
	case kindSQLite:
		// The SQLite driver migrates when it opens; there is nothing else to do.
		s, err := sqlite.Open(ctx, arg)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", spec, err)
		}
		if err := s.Close(); err != nil {
			return fmt.Errorf("migrate %s: %w", spec, err)
		}
		return nil
	default:
		if err := postgres.Migrate(ctx, arg); err != nil {
			return fmt.Errorf("migrate %s: %w", Redact(spec), err)
		}
		return nil
	}
}

// IsUnavailable reports whether err, from a store opened here, means the database cannot be
// reached right now and the operation may be retried (gRPC Unavailable). Only PostgreSQL has such
// errors; SQLite's file is either there or not.
func IsUnavailable(err error) bool {
	return postgres.IsUnavailable(err)
}

// Redact returns spec with any password in it replaced, for logs and messages.
func Redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(spec, "@") {
			return "(unparseable URL)"
		}
		return spec
	}
	return u.Redacted()
}
