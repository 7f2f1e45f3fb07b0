package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/duro-dev/duro/internal/store"
)

// Store is the PostgreSQL [store.Store]. It is safe for concurrent use; any number of Stores, in any
// number of processes, may share one database schema.
type Store struct {
	pool *pgxpool.Pool
	tmpl searchTemplates // listings by query (search.go)
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// or postgresql:// URL, or a key=value DSN;
// pool settings such as pool_max_conns and a search_path may be given in it), applies pending
// migrations under an advisory lock, and returns a Store whose connections have every statement
// prepared.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	return openConfig(ctx, cfg)
}

// openConfig is Open for a parsed configuration (tests adjust it, to count round trips).
func openConfig(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	queries, err := loadQueries(queryFiles)
	if err != nil {
		return nil, err
	}
	tmpl, err := newSearchTemplates(queries)
	if err != nil {
		return nil, err
	}
	if err := migrateSchema(ctx, cfg.ConnConfig.Copy()); err != nil {
		return nil, err
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		return prepareAll(ctx, conn, queries)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", translate(err))
	}
	return &Store{pool: pool, tmpl: tmpl}, nil
}

// prepareAll prepares every named statement on a new connection. Running statements by name keeps
// them out of pgx's statement cache, which a failed batch would invalidate; here a failed Apply
// (a conflict, routinely) leaves the next one on the same connection at one round trip.
func prepareAll(ctx context.Context, conn *pgx.Conn, queries []namedQuery) error {
	for _, q := range queries {
		if _, err := conn.Prepare(ctx, q.name, q.sql); err != nil {
			return fmt.Errorf("prepare %s: %w", q.name, err)
		}
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// SQLSTATEs the driver interprets.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeRowsRequired         = "DU001" // raised by duro_require_rows (migrations/0001_init.sql)
	codeAdminShutdown        = "57P01"
	codeCrashShutdown        = "57P02"
	codeCannotConnectNow     = "57P03"
	codeTooManyConnections   = "53300"
)

// consumedGuard ends the message of the duro_require_rows checks that consume task and timer rows
// (queries/tasks.sql, queries/timers.sql): such a failure is [store.ErrConsumed].
const consumedGuard = "rows already consumed"

// translate maps a pgx error to the store's sentinels: no rows is [store.ErrNotFound], a unique
// violation [store.ErrAlreadyExists], a failed guard, serialization failure or deadlock
// [store.ErrConflict] ([store.ErrConsumed] for a task or timer row already consumed). The
// original error stays in the chain (for messages and [IsUnavailable]). Callers add the
// operation's context.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeUniqueViolation:
			return fmt.Errorf("%w: %s", store.ErrAlreadyExists, pgErr.Message)
		case codeRowsRequired:
			if strings.Contains(pgErr.Message, consumedGuard) {
				return fmt.Errorf("%w: %s", store.ErrConsumed, pgErr.Message)
			}
			return fmt.Errorf("%w: %s", store.ErrConflict, pgErr.Message)
		case codeSerializationFailure, codeDeadlockDetected:
			return fmt.Errorf("%w: %s", store.ErrConflict, pgErr.Message)
		}
	}
	return err
}

// IsUnavailable reports whether err means the database cannot be reached or is not serving right
// now — connection refused or reset, the server shutting down or starting up, too many
// connections, a closed pool — so the caller may answer "unavailable, retry" (gRPC Unavailable,
// which the Temporal SDK retries). A caller's own cancellation or deadline is not unavailability,
// nor is a configuration mistake such as a bad password or an unknown database.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == codeAdminShutdown, pgErr.Code == codeCrashShutdown,
			pgErr.Code == codeCannotConnectNow, pgErr.Code == codeTooManyConnections:
			return true
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == "08": // connection_exception class
			return true
		}
		// Any other server answer (including an authentication failure while connecting) means
		// the server is there and said no.
		return false
	}
	var connectErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connectErr),
		errors.Is(err, puddle.ErrClosedPool),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed):
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
