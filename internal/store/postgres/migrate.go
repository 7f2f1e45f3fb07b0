package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"github.com/duro-dev/duro/internal/store/migrate"
)

// migrationFiles holds the schema's numbered, forward-only migrations (NNNN_name.sql), applied by
// internal/store/migrate.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migratorFile holds the migration connection's own statements.
//
//go:embed migrator.sql
var migratorFile string

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
	return migrateSchema(ctx, cfg)
}

// migrateSchema connects with its own connection (a session advisory lock belongs to a connection,
// and the pool's connections prepare statements that need the schema to exist), takes the lock,
// and lets the migrator apply every migration newer than the schema_version table says, each in
// its own transaction.
func migrateSchema(ctx context.Context, cfg *pgx.ConnConfig) (err error) {
	ms, err := embeddedMigrations()
	if err != nil {
		return err
	}
	q, err := migratorQueries()
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
	if _, err := conn.Exec(ctx, q["lock"], migrationLockKey); err != nil {
		return fmt.Errorf("migrate: take advisory lock: %w", translate(err))
	}
	defer func() {
		_, uerr := conn.Exec(context.WithoutCancel(ctx), q["unlock"], migrationLockKey)
		if uerr != nil && err == nil {
			err = fmt.Errorf("migrate: release advisory lock: %w", translate(uerr))
		}
	}()
	if _, err := migrate.Run(ctx, connTarget{conn: conn, q: q}, ms); err != nil {
		return fmt.Errorf("migrate: %w", translate(err))
	}
	return nil
}

// embeddedMigrations returns the migrations compiled into the binary.
func embeddedMigrations() ([]migrate.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return migrate.Load(sub)
}

// migratorQueries parses migrator.sql into statements by name.
func migratorQueries() (map[string]string, error) {
	qs, err := parseQueries(migratorFile)
	if err != nil {
		return nil, fmt.Errorf("migrator.sql: %w", err)
	}
	m := make(map[string]string, len(qs))
	for _, q := range qs {
		m[q.name] = q.sql
	}
	for _, name := range []string{"lock", "unlock", "create_version_table", "read_version", "record_version"} {
		if m[name] == "" {
			return nil, fmt.Errorf("migrator.sql: no statement %q", name)
		}
	}
	return m, nil
}

// connTarget is the migrator's view of the migration connection.
type connTarget struct {
	conn *pgx.Conn
	q    map[string]string
}

// InTx runs fn in one transaction on the connection.
func (c connTarget) InTx(ctx context.Context, fn func(tx migrate.Tx) error) error {
	return pgx.BeginFunc(ctx, c.conn, func(tx pgx.Tx) error { return fn(migrationTx{tx: tx, q: c.q}) })
}

// migrationTx is one migration's transaction.
type migrationTx struct {
	tx pgx.Tx
	q  map[string]string
}

// Version creates the version table if needed and returns the newest recorded version.
func (m migrationTx) Version(ctx context.Context) (int, error) {
	if _, err := m.tx.Exec(ctx, m.q["create_version_table"]); err != nil {
		return 0, fmt.Errorf("create schema_version: %w", err)
	}
	var v int
	if err := m.tx.QueryRow(ctx, m.q["read_version"]).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema_version: %w", err)
	}
	return v, nil
}

// Exec runs a migration script. Without arguments pgx uses the simple protocol, which runs a
// script of several statements.
func (m migrationTx) Exec(ctx context.Context, script string) error {
	_, err := m.tx.Exec(ctx, script)
	return err
}

// SetVersion records mig as applied.
func (m migrationTx) SetVersion(ctx context.Context, mig migrate.Migration) error {
	_, err := m.tx.Exec(ctx, m.q["record_version"], mig.Version, mig.Name)
	return err
}
