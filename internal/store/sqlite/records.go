package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duro-dev/duro/internal/store"
)

// recordWriteStmts are the record statements of the writer connection (queries/records.sql).
type recordWriteStmts struct {
	insert, update, version, delete *sql.Stmt
}

func (w *recordWriteStmts) refs() []stmtRef {
	return []stmtRef{
		{"insert_record", &w.insert},
		{"update_record", &w.update},
		{"get_record_version", &w.version},
		{"delete_record", &w.delete},
	}
}

// recordReadStmts are the record statements of the read pool.
type recordReadStmts struct {
	get, list, listDue *sql.Stmt
}

func (r *recordReadStmts) refs() []stmtRef {
	return []stmtRef{
		{"get_record", &r.get},
		{"list_records", &r.list},
		{"list_due_records", &r.listDue},
	}
}

// errBadKey refuses a record key that PostgreSQL's text cannot hold (a NUL character, invalid
// UTF-8) or, for a name, that no listing could return (empty). SQLite would store such a key, but
// the drivers must agree, and a key kept by one store and refused by the other is worse than a
// clear refusal from both.
var errBadKey = errors.New("record namespace, kind and name must be valid UTF-8 without NUL characters, and the name not empty")

// storable reports whether s can be part of a record's key in every driver.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// validKey reports whether namespace, kind and name are a key some record could have.
func validKey(namespace, kind, name string) bool {
	return name != "" && storable(namespace) && storable(kind) && storable(name)
}

// PutRecord inserts (expectedVersion 0) or fences and updates a record, and returns its new version.
func (s *Store) PutRecord(ctx context.Context, r store.Record, expectedVersion int64) (int64, error) {
	if !validKey(r.Namespace, r.Kind, r.Name) {
		return 0, fmt.Errorf("put record %s/%s/%q: %w", r.Namespace, r.Kind, r.Name, errBadKey)
	}
	now := time.Now()
	updated := r.UpdatedAt
	if updated.IsZero() {
		updated = now
	}
	key := []any{sql.Named("namespace", r.Namespace), sql.Named("kind", r.Kind), sql.Named("name", r.Name)}
	args := append(key, sql.Named("wake_at", optionalMicros(r.WakeAt)),
		sql.Named("updated_at", micros(updated)), sql.Named("data", blob(r.Data)))
	version := int64(1)
	err := s.write(ctx, func(a *applier) error {
		if expectedVersion == 0 {
			created := r.CreatedAt
			if created.IsZero() {
				created = now
			}
			return a.exec(a.ws.records.insert, append(args, sql.Named("created_at", micros(created)))...)
		}
		n, err := a.execCount(a.ws.records.update, append(args, sql.Named("expected_version", expectedVersion))...)
		if err != nil {
			return err
		}
		if n == 1 {
			version = expectedVersion + 1
			return nil
		}
		var current int64
		if err := a.stmt(a.ws.records.version).QueryRowContext(a.ctx, key...).Scan(&current); err != nil {
			return translate(a.ctx, err) // ErrNotFound: no such record
		}
		return fmt.Errorf("version is %d, not %d: %w", current, expectedVersion, store.ErrConflict)
	})
	if err != nil {
		return 0, fmt.Errorf("put record %s/%s/%s: %w", r.Namespace, r.Kind, r.Name, err)
	}
	return version, nil
}

// GetRecord reads one record. A key no record can have (see errBadKey) is simply not found.
func (s *Store) GetRecord(ctx context.Context, namespace, kind, name string) (*store.Record, error) {
	if !validKey(namespace, kind, name) {
		return nil, fmt.Errorf("get record %s/%s/%q: %w", namespace, kind, name, store.ErrNotFound)
	}
	r, err := scanRecord(s.rs.records.get.QueryRowContext(ctx,
		sql.Named("namespace", namespace), sql.Named("kind", kind), sql.Named("name", name)))
	if err != nil {
		return nil, fmt.Errorf("get record %s/%s/%s: %w", namespace, kind, name, translate(ctx, err))
	}
	return &r, nil
}

// DeleteRecord removes a record, only at expectedVersion unless that is 0.
func (s *Store) DeleteRecord(ctx context.Context, namespace, kind, name string, expectedVersion int64) error {
	if !validKey(namespace, kind, name) {
		return fmt.Errorf("delete record %s/%s/%q: %w", namespace, kind, name, store.ErrNotFound)
	}
	key := []any{sql.Named("namespace", namespace), sql.Named("kind", kind), sql.Named("name", name)}
	err := s.write(ctx, func(a *applier) error {
		n, err := a.execCount(a.ws.records.delete, append(key, sql.Named("expected_version", expectedVersion))...)
		if err != nil || n == 1 {
			return err
		}
		var current int64
		if err := a.stmt(a.ws.records.version).QueryRowContext(a.ctx, key...).Scan(&current); err != nil {
			return translate(a.ctx, err) // ErrNotFound: no such record
		}
		return fmt.Errorf("version is %d, not %d: %w", current, expectedVersion, store.ErrConflict)
	})
	if err != nil {
		return fmt.Errorf("delete record %s/%s/%s: %w", namespace, kind, name, err)
	}
	return nil
}

// ListRecords returns up to limit records of one namespace and kind named after afterName, in
// byte order. An afterName that is not a storable name is refused: no position among the stored
// names can be derived from it the same way in both drivers.
func (s *Store) ListRecords(ctx context.Context, namespace, kind, afterName string, limit int) ([]store.Record, error) {
	if !storable(afterName) {
		return nil, fmt.Errorf("list records %s/%s after %q: %w", namespace, kind, afterName, errBadKey)
	}
	if !storable(namespace) || !storable(kind) {
		return nil, nil // no record has such a key
	}
	rows, err := s.rs.records.list.QueryContext(ctx, sql.Named("namespace", namespace), sql.Named("kind", kind),
		sql.Named("after_name", afterName), sql.Named("limit", sqlLimit(limit)))
	rs, err := scanRecords(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list records %s/%s: %w", namespace, kind, translate(ctx, err))
	}
	return rs, nil
}

// ListDueRecords returns up to limit records of a kind whose WakeAt is at or before until,
// earliest first (ties by namespace, name).
func (s *Store) ListDueRecords(ctx context.Context, kind string, until time.Time, limit int) ([]store.Record, error) {
	if !storable(kind) {
		return nil, nil
	}
	rows, err := s.rs.records.listDue.QueryContext(ctx, sql.Named("kind", kind),
		sql.Named("until", micros(until)), sql.Named("limit", sqlLimit(limit)))
	rs, err := scanRecords(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list due records of kind %s: %w", kind, translate(ctx, err))
	}
	return rs, nil
}

func scanRecord(sc scanner) (store.Record, error) {
	var r store.Record
	var wake sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&r.Namespace, &r.Kind, &r.Name, &r.Version, &wake, &created, &updated, &r.Data); err != nil {
		return store.Record{}, err
	}
	if wake.Valid {
		r.WakeAt = fromMicros(wake.Int64)
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, nil
}

func scanRecords(rows *sql.Rows, err error) ([]store.Record, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []store.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// optionalMicros encodes a time that may be unset: the zero time is NULL.
func optionalMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}
