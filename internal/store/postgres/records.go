package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/duro-dev/duro/internal/store"
)

// Record statements (queries/records.sql).
const (
	qInsertRecord   = "insert_record"
	qUpdateRecord   = "update_record"
	qDeleteRecord   = "delete_record"
	qGetRecord      = "get_record"
	qListRecords    = "list_records"
	qListDueRecords = "list_due_records"
)

// errBadKey refuses a record key that PostgreSQL's text cannot hold (a NUL character, invalid
// UTF-8) or, for a name, that no listing could return (empty). Checking it here, before the
// query, gives the same answer as the SQLite driver instead of a data exception.
var errBadKey = errors.New("record namespace, kind and name must be valid UTF-8 without NUL characters, and the name not empty")

// storable reports whether s can be part of a record's key in every driver.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// validKey reports whether namespace, kind and name are a key some record could have.
func validKey(namespace, kind, name string) bool {
	return name != "" && storable(namespace) && storable(kind) && storable(name)
}

// PutRecord inserts (expectedVersion 0) or fences and updates a record, and returns its new
// version. Each case is one statement, so it needs no explicit transaction.
func (s *Store) PutRecord(ctx context.Context, r store.Record, expectedVersion int64) (int64, error) {
	if !validKey(r.Namespace, r.Kind, r.Name) {
		return 0, fmt.Errorf("put record %s/%s/%q: %w", r.Namespace, r.Kind, r.Name, errBadKey)
	}
	now := time.Now()
	updated := r.UpdatedAt
	if updated.IsZero() {
		updated = now
	}
	if expectedVersion == 0 {
		created := r.CreatedAt
		if created.IsZero() {
			created = now
		}
		_, err := s.pool.Exec(ctx, qInsertRecord, r.Namespace, r.Kind, r.Name, optionalTime(r.WakeAt), created, updated, r.Data)
		if err != nil {
			return 0, fmt.Errorf("put record %s/%s/%s: %w", r.Namespace, r.Kind, r.Name, translate(err))
		}
		return 1, nil
	}
	var version *int64
	var exists bool
	err := s.pool.QueryRow(ctx, qUpdateRecord, r.Namespace, r.Kind, r.Name, expectedVersion,
		optionalTime(r.WakeAt), updated, r.Data).Scan(&version, &exists)
	switch {
	case err != nil:
		return 0, fmt.Errorf("put record %s/%s/%s: %w", r.Namespace, r.Kind, r.Name, translate(err))
	case version != nil:
		return *version, nil
	case exists:
		return 0, fmt.Errorf("put record %s/%s/%s: version is not %d: %w", r.Namespace, r.Kind, r.Name, expectedVersion, store.ErrConflict)
	default:
		return 0, fmt.Errorf("put record %s/%s/%s: %w", r.Namespace, r.Kind, r.Name, store.ErrNotFound)
	}
}

// GetRecord reads one record. A key no record can have (see errBadKey) is simply not found.
func (s *Store) GetRecord(ctx context.Context, namespace, kind, name string) (*store.Record, error) {
	if !validKey(namespace, kind, name) {
		return nil, fmt.Errorf("get record %s/%s/%q: %w", namespace, kind, name, store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, qGetRecord, namespace, kind, name)
	if err != nil {
		return nil, fmt.Errorf("get record %s/%s/%s: %w", namespace, kind, name, translate(err))
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("get record %s/%s/%s: %w", namespace, kind, name, translate(err))
	}
	return &r, nil
}

// DeleteRecord removes a record, only at expectedVersion unless that is 0. With expectedVersion
// 0, a record deleted by someone else meanwhile is not found (there was nothing left to delete).
func (s *Store) DeleteRecord(ctx context.Context, namespace, kind, name string, expectedVersion int64) error {
	if !validKey(namespace, kind, name) {
		return fmt.Errorf("delete record %s/%s/%q: %w", namespace, kind, name, store.ErrNotFound)
	}
	var deleted, exists bool
	err := s.pool.QueryRow(ctx, qDeleteRecord, namespace, kind, name, expectedVersion).Scan(&deleted, &exists)
	switch {
	case err != nil:
		return fmt.Errorf("delete record %s/%s/%s: %w", namespace, kind, name, translate(err))
	case deleted:
		return nil
	case exists && expectedVersion != 0:
		return fmt.Errorf("delete record %s/%s/%s: version is not %d: %w", namespace, kind, name, expectedVersion, store.ErrConflict)
	default:
		return fmt.Errorf("delete record %s/%s/%s: %w", namespace, kind, name, store.ErrNotFound)
	}
}

// ListRecords returns up to limit records of one namespace and kind named after afterName, in
// byte order (the key columns are COLLATE "C"). An afterName PostgreSQL's text cannot hold is
// refused, as in the SQLite driver.
func (s *Store) ListRecords(ctx context.Context, namespace, kind, afterName string, limit int) ([]store.Record, error) {
	if !storable(afterName) {
		return nil, fmt.Errorf("list records %s/%s after %q: %w", namespace, kind, afterName, errBadKey)
	}
	if !storable(namespace) || !storable(kind) {
		return nil, nil // no record has such a key
	}
	rows, err := s.pool.Query(ctx, qListRecords, namespace, kind, afterName, limitArg(limit))
	rs, err := collectRecords(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list records %s/%s: %w", namespace, kind, err)
	}
	return rs, nil
}

// ListDueRecords returns up to limit records of a kind whose WakeAt is at or before until,
// earliest first (ties by namespace, name).
func (s *Store) ListDueRecords(ctx context.Context, kind string, until time.Time, limit int) ([]store.Record, error) {
	if !storable(kind) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, qListDueRecords, kind, until, limitArg(limit))
	rs, err := collectRecords(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list due records of kind %s: %w", kind, err)
	}
	return rs, nil
}

func scanRecord(row pgx.CollectableRow) (store.Record, error) {
	var r store.Record
	var wake *time.Time
	if err := row.Scan(&r.Namespace, &r.Kind, &r.Name, &r.Version, &wake, &r.CreatedAt, &r.UpdatedAt, &r.Data); err != nil {
		return store.Record{}, err
	}
	r.WakeAt, r.CreatedAt, r.UpdatedAt = utc(wake), r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

func collectRecords(rows pgx.Rows, err error) ([]store.Record, error) {
	if err != nil {
		return nil, translate(err)
	}
	rs, err := pgx.CollectRows(rows, scanRecord)
	if err != nil {
		return nil, translate(err)
	}
	return rs, nil
}
