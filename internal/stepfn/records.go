package stepfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/store"
)

// Record kinds of the catalog.
const (
	kindMachine  = "sfn.statemachine"
	kindVersion  = "sfn.statemachine.version"
	kindActivity = "sfn.activity"
)

// maxCASAttempts bounds the compare-and-swap rounds of one write. Each lost round means another
// writer committed in between, so running out takes a storm of writers on one record; the client
// is then told ConflictException (which AWS also answers for concurrent changes) rather than
// kept waiting.
const maxCASAttempts = 64

// getRecord reads one record of the namespace and decodes its Data into a T. A missing record is
// a wrapped [store.ErrNotFound].
func getRecord[T any](ctx context.Context, s *Service, kind, name string) (*store.Record, *T, error) {
	r, err := s.store.GetRecord(ctx, s.cfg.Namespace, kind, name)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s %q: %w", kind, name, err)
	}
	d, err := decode[T](*r)
	if err != nil {
		return nil, nil, err
	}
	return r, d, nil
}

// decode decodes a record's Data into a T.
func decode[T any](r store.Record) (*T, error) {
	d := new(T)
	if err := json.Unmarshal(r.Data, d); err != nil {
		return nil, fmt.Errorf("decode %s %q: %w", r.Kind, r.Name, err)
	}
	return d, nil
}

// isKind reports whether err answers the client with kind k.
func isKind(err error, k sfn.Kind) bool {
	var e *sfn.Error
	return errors.As(err, &e) && e.Kind == k
}

// putRecord writes d as the Data of one record: expected 0 inserts it ([store.ErrAlreadyExists]
// if it exists), otherwise it replaces the record only if its version is still expected
// ([store.ErrConflict], or [store.ErrNotFound] if it was deleted meanwhile).
func (s *Service) putRecord(ctx context.Context, kind, name string, expected int64, d any) (int64, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return 0, fmt.Errorf("encode %s %q: %w", kind, name, err)
	}
	v, err := s.store.PutRecord(ctx, store.Record{Namespace: s.cfg.Namespace, Kind: kind, Name: name, Data: b}, expected)
	if err != nil {
		return 0, fmt.Errorf("write %s %q: %w", kind, name, err)
	}
	return v, nil
}

// deleteRecord deletes one record if its version is still expected. A record already gone is
// not an error.
func (s *Service) deleteRecord(ctx context.Context, kind, name string, expected int64) error {
	err := s.store.DeleteRecord(ctx, s.cfg.Namespace, kind, name, expected)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete %s %q: %w", kind, name, err)
	}
	return nil
}

// mutate reads one record, lets f change its data and writes it back with a compare-and-swap on
// the version it read; after a conflict it starts over from a fresh read, so f must depend only
// on the data it is given and on its captured inputs. A missing record is a wrapped
// [store.ErrNotFound]; an error from f is returned as is, with nothing written.
func mutate[T any](ctx context.Context, s *Service, kind, name string, f func(d *T) error) (*T, error) {
	for range maxCASAttempts {
		r, d, err := getRecord[T](ctx, s, kind, name)
		if err != nil {
			return nil, err
		}
		if err := f(d); err != nil {
			return nil, err
		}
		_, err = s.putRecord(ctx, kind, name, r.Version, d)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, errContended(kind, name)
}

// errContended answers a write that lost maxCASAttempts rounds in a row.
func errContended(kind, name string) error {
	return fmt.Errorf("%s %q: %w", kind, name, sfn.Errorf(sfn.KindConflict,
		"Too many concurrent updates of '%s'; retry the request", name))
}
