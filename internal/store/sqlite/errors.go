package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/duro-dev/duro/internal/store"
)

// errConstraint marks a constraint violation other than a duplicate key (NOT NULL, CHECK): it
// fails the transition that caused it, not the whole commit.
var errConstraint = errors.New("constraint violated")

// translate turns a database/sql or SQLite error into what the store returns: ErrNotFound for no
// rows, ErrAlreadyExists for a duplicate key, errConstraint for another constraint violation, the
// context's error if ctx is done, and otherwise an error that carries the SQLite message but not
// its type, so nothing above the driver can depend on the database library.
func translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err // database/sql's own errors (closed pool, context) carry no driver type
	}
	switch code := se.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || code == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%w: %s", store.ErrAlreadyExists, se.Error())
	case code&0xff == sqlite3.SQLITE_CONSTRAINT:
		return fmt.Errorf("%w: %s", errConstraint, se.Error())
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%w: %s", ctxErr, se.Error())
	}
	return errors.New(se.Error())
}

// failsTransition reports whether err rolls back only the transition it happened in (a fence or a
// constraint), rather than the whole commit.
func failsTransition(err error) bool {
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrAlreadyExists) ||
		errors.Is(err, errConstraint)
}

// isBusy reports whether err is SQLITE_BUSY (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
