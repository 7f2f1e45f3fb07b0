// Package sqlite is Duro's embedded store: a [store.Store] over one SQLite file, through
// modernc.org/sqlite (pure Go, database/sql).
//
// Connections. The file is in WAL mode with synchronous=FULL, so a commit is durable once Apply
// returns. All writes go through ONE connection (SetMaxOpenConns(1)) whose transactions begin with
// BEGIN IMMEDIATE (_txlock=immediate): a deferred transaction that upgrades from reading to
// writing fails with SQLITE_BUSY_SNAPSHOT in WAL mode whatever the busy timeout, while an immediate
// one takes the write lock up front and waits for it. Reads go through a separate pool of
// query_only connections, which WAL lets run while a write transaction is open; each read
// statement sees the last committed state.
//
// Group commit. [Store.Apply] runs all its transitions in one transaction, each inside a SAVEPOINT:
// a transition that fails a fence (version, current pointer, consumed row) or a constraint (a
// duplicate event) is rolled back to its savepoint and reported, the others commit together with
// one fsync. Any other database error aborts the whole commit.
//
// SQL lives in embedded .sql files: numbered migrations (migrations/, applied at [Open] by
// internal/store/migrate) and named queries (queries/, "-- name: x" sections prepared at Open).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed queries/*.sql
var queryFiles embed.FS

// readConns is the size of the read pool. Each connection has its own page cache; a handful is
// plenty for one node's pollers, timer loop and frontends.
const readConns = 4

// busyTimeout is how long a connection waits for a lock held by another connection (in this or
// another process) before failing with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// Store is the SQLite driver. It is safe for concurrent use.
type Store struct {
	w *sql.DB // the single writer connection
	r *sql.DB // the read-only pool

	ws writeStmts
	rs readStmts

	tmpl searchTemplates // listings by query (search.go)

	holds claimHolds // backlog claims in progress (claims.go)
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database file at path, applies any pending migrations and
// returns the store. The caller must Close it.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite store: invalid path %q (empty, or contains ? or #)", path)
	}
	queries, err := loadQueries(queryFiles)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}

	// The writer: WAL, an fsync per commit, BEGIN IMMEDIATE. temp_store=MEMORY keeps the savepoint
	// sub-journals of Apply in memory (in a temp file they cost a pwrite per changed page), and a
	// 32 MiB page cache (default 2 MiB) keeps the indexes every transition walks from being re-read.
	timeout := fmt.Sprint(busyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", path+"?_pragma=busy_timeout("+timeout+")"+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)"+
		"&_pragma=cache_size(-32768)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	if err := s.setup(ctx, path, timeout, queries); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	return s, nil
}

// setup checks the writer's journal mode, migrates the schema, opens the read pool and prepares
// the statements.
func (s *Store) setup(ctx context.Context, path, timeout string, queries map[string]string) error {
	mode, err := s.journalMode(ctx, queries["journal_mode"])
	if err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal (is the file on a file system without shared memory?)", mode)
	}

	migrations, err := migrate.Load(subFS(migrationFiles, "migrations"))
	if err != nil {
		return err
	}
	if _, err := migrate.Run(ctx, &migrator{db: s.w, queries: queries}, migrations); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	s.r, err = sql.Open("sqlite", path+"?_pragma=busy_timeout("+timeout+")&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("open read pool: %w", err)
	}
	s.r.SetMaxOpenConns(readConns)
	s.r.SetMaxIdleConns(readConns)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)

	if s.tmpl, err = newSearchTemplates(queries); err != nil {
		return err
	}
	if err := prepare(ctx, s.w, queries, &s.ws); err != nil {
		return err
	}
	return prepare(ctx, s.r, queries, &s.rs)
}

// journalMode connects the writer (which switches the file to WAL) and returns the journal mode.
// Two connections switching a new file to WAL at once can deadlock on the upgrade to an exclusive
// lock; SQLite then fails one of them with SQLITE_BUSY at once instead of calling its busy
// handler, so the connection is retried here, within the busy timeout.
func (s *Store) journalMode(ctx context.Context, query string) (string, error) {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := s.w.QueryRowContext(ctx, query).Scan(&mode)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return mode, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Close releases the store's connections.
func (s *Store) Close() error {
	var errs []error
	for _, st := range append(allStmts(&s.ws), allStmts(&s.rs)...) {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite store: %w", err)
	}
	return nil
}

func subFS(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		// fs.Sub fails only on an invalid path, and dir is a constant.
		return fsys
	}
	return sub
}

// migrator runs migrations on the writer connection for internal/store/migrate. BEGIN IMMEDIATE
// serialises it against any other process migrating the same file.
type migrator struct {
	db      *sql.DB
	queries map[string]string
}

// InTx implements migrate.Target.
func (m *migrator) InTx(ctx context.Context, fn func(tx migrate.Tx) error) error {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&migrationTx{tx: tx, queries: m.queries}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

type migrationTx struct {
	tx      *sql.Tx
	queries map[string]string
}

// Version implements migrate.Tx.
func (m *migrationTx) Version(ctx context.Context) (int, error) {
	if _, err := m.tx.ExecContext(ctx, m.queries["create_schema_version"]); err != nil {
		return 0, fmt.Errorf("create schema_version: %w", err)
	}
	var v int
	if err := m.tx.QueryRowContext(ctx, m.queries["get_schema_version"]).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema_version: %w", err)
	}
	return v, nil
}

// Exec implements migrate.Tx.
func (m *migrationTx) Exec(ctx context.Context, script string) error {
	_, err := m.tx.ExecContext(ctx, script)
	return err
}

// SetVersion implements migrate.Tx.
func (m *migrationTx) SetVersion(ctx context.Context, mig migrate.Migration) error {
	_, err := m.tx.ExecContext(ctx, m.queries["insert_schema_version"],
		sql.Named("version", int64(mig.Version)),
		sql.Named("name", mig.Name),
		sql.Named("applied_at", time.Now().UnixMicro()))
	return err
}
