package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrationFiles holds the schema's numbered, forward-only migrations (NNNN_name.sql).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the first key of the advisory lock that serialises migrations; the second is
// a hash of the schema being migrated, so nodes sharing a schema migrate it once while unrelated
// schemas (one per test, say) do not wait for each other. The value spells "DURO".
const migrationLockKey = 0x4455524f

// Migrate applies the store's pending migrations to the database at url and returns. It is what
// `duro migrate` runs; [Open] does the same before it serves.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	return migrate(ctx, cfg)
}

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// migrate connects with its own connection (a session advisory lock belongs to a connection, and the
// pool's connections prepare statements that need the schema to exist), takes the lock, and applies
// every migration newer than the schema_version table says, each in its own transaction.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) (err error) {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", translate(err))
	}
	defer func() {
		// Closing the connection also releases the session's advisory lock.
		if cerr := conn.Close(context.WithoutCancel(ctx)); cerr != nil && err == nil {
			err = fmt.Errorf("migrate: close: %w", cerr)
		}
	}()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, hashtext(current_schema()))", migrationLockKey); err != nil {
		return fmt.Errorf("migrate: take advisory lock: %w", translate(err))
	}
	defer func() {
		_, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, hashtext(current_schema()))", migrationLockKey)
		if uerr != nil && err == nil {
			err = fmt.Errorf("migrate: release advisory lock: %w", translate(uerr))
		}
	}()
	return applyMigrations(ctx, conn, ms)
}

// applyMigrations runs, under the caller's lock, every migration newer than the recorded version.
func applyMigrations(ctx context.Context, conn *pgx.Conn, ms []migration) error {
	const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_version (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`
	if _, err := conn.Exec(ctx, createVersionTable); err != nil {
		return fmt.Errorf("migrate: create schema_version: %w", translate(err))
	}
	var current int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&current); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", translate(err))
	}
	if n := len(ms); current > n {
		return fmt.Errorf("migrate: database schema is at version %d, newer than this binary's %d: run a newer duro", current, n)
	}
	for _, m := range ms[current:] {
		if err := applyMigration(ctx, conn, m); err != nil {
			return err
		}
	}
	return nil
}

// applyMigration runs one migration and records it, in one transaction.
func applyMigration(ctx context.Context, conn *pgx.Conn, m migration) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate %04d_%s: begin: %w", m.version, m.name, translate(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	// Without arguments Exec uses the simple protocol, which runs a multi-statement script.
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return fmt.Errorf("migrate %04d_%s: %w", m.version, m.name, translate(err))
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
		return fmt.Errorf("migrate %04d_%s: record version: %w", m.version, m.name, translate(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate %04d_%s: commit: %w", m.version, m.name, translate(err))
	}
	return nil
}

// loadMigrations reads dir of fsys: files named NNNN_name.sql, numbered contiguously from 1.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		file := e.Name()
		base, ok := strings.CutSuffix(file, ".sql")
		if e.IsDir() || !ok {
			continue
		}
		num, name, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 || name == "" {
			return nil, fmt.Errorf("migration %s: want a name like 0001_init.sql", file)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", file, err)
		}
		ms = append(ms, migration{version: version, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d (numbers must run 1, 2, 3 ... without gaps)", m.version, m.name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return ms, nil
}
