// Package migrate applies a driver's numbered, forward-only schema migrations. It holds only the
// generic part: reading NNNN_name.sql files from an [fs.FS] and applying the ones a database has
// not seen yet, in order, one transaction each. A driver supplies a [Target] that runs one
// transaction and reads and writes the recorded schema version; it adds whatever locking its
// database needs around [Run] (PostgreSQL takes an advisory lock; SQLite's BEGIN IMMEDIATE already
// serialises migrators).
//
// Invariants: versions are contiguous from 1; each migration commits together with its version
// record, so a crash leaves the schema at the last migration that committed; the version is read
// inside each migration's transaction, so two migrators never apply the same migration twice; a
// database whose version is newer than the newest migration is refused, never downgraded.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
)

// Migration is one schema change.
type Migration struct {
	// Version is the migration's number, from its file name (0001_init.sql is version 1).
	Version int
	// Name is the file name without its number and extension ("init").
	Name string
	// SQL is the file's content, run as one script.
	SQL string
}

// Tx is one migration's transaction, as the driver exposes it to [Run].
type Tx interface {
	// Version returns the recorded schema version, 0 if none (creating the version table if it
	// does not exist yet).
	Version(ctx context.Context) (int, error)
	// Exec runs a migration script.
	Exec(ctx context.Context, script string) error
	// SetVersion records m as applied.
	SetVersion(ctx context.Context, m Migration) error
}

// Target is a database that migrations are applied to.
type Target interface {
	// InTx runs fn in one transaction, committing if fn returns nil and rolling back otherwise.
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// ErrNewerSchema means the database was migrated by a newer binary than this one.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Load reads the migrations in the root of fsys: files named NNNN_name.sql, numbered contiguously
// from 0001. Other files are an error, so a misnamed migration is never silently skipped.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		match := fileName.FindStringSubmatch(e.Name())
		if match == nil {
			return nil, fmt.Errorf("migration file %q: want a name like 0001_init.sql", e.Name())
		}
		version, err := strconv.Atoi(match[1])
		if err != nil {
			return nil, fmt.Errorf("migration file %q: %w", e.Name(), err)
		}
		script, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %q: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: version, Name: match[2], SQL: string(script)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d (versions are contiguous from 1)",
				m.Version, m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations found")
	}
	return ms, nil
}

// Run applies the migrations of ms newer than the database's version, each in its own
// transaction, and returns how many it applied. ms must be ordered and contiguous from 1, as
// [Load] returns them.
func Run(ctx context.Context, target Target, ms []Migration) (int, error) {
	for i, m := range ms {
		if m.Version != i+1 {
			return 0, fmt.Errorf("migration %04d_%s: want version %d", m.Version, m.Name, i+1)
		}
	}
	applied := 0
	for {
		done := false
		err := target.InTx(ctx, func(tx Tx) error {
			current, err := tx.Version(ctx)
			if err != nil {
				return fmt.Errorf("read schema version: %w", err)
			}
			if current > len(ms) {
				return fmt.Errorf("%w: database is at version %d, newest known is %d", ErrNewerSchema, current, len(ms))
			}
			if current == len(ms) {
				done = true
				return nil
			}
			m := ms[current]
			if err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if err := tx.SetVersion(ctx, m); err != nil {
				return fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
			}
			return nil
		})
		if err != nil {
			return applied, err
		}
		if done {
			return applied, nil
		}
		applied++
	}
}
