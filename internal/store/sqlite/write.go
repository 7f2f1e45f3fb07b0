package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/duro-dev/duro/internal/store"
)

// write runs fn in one immediate transaction on the writer connection.
func (s *Store) write(ctx context.Context, fn func(a *applier) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(ctx, err))
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(&applier{ctx: ctx, tx: tx, ws: &s.ws, stmts: map[*sql.Stmt]*sql.Stmt{}}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", translate(ctx, err))
	}
	return nil
}

// DeleteExecution removes a run with its history, tasks and timers, and its current-run pointer if
// that points at this run. Missing rows are not an error.
func (s *Store) DeleteExecution(ctx context.Context, namespace, workflowID, runID string) error {
	ns, wf, run := sql.Named("namespace", namespace), sql.Named("workflow_id", workflowID), sql.Named("run_id", runID)
	err := s.write(ctx, func(a *applier) error {
		for _, st := range []*sql.Stmt{a.ws.deleteRunEvents, a.ws.deleteRunTasks, a.ws.deleteRunTimers, a.ws.search.deleteRunValues} {
			if err := a.exec(st, ns, run); err != nil {
				return err
			}
		}
		for _, st := range []*sql.Stmt{a.ws.deleteCurrentOfRun, a.ws.deleteExecution} {
			if err := a.exec(st, ns, wf, run); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete execution %s/%s/%s: %w", namespace, workflowID, runID, err)
	}
	return nil
}

// CreateNamespace inserts a namespace; ErrAlreadyExists if the name is taken.
func (s *Store) CreateNamespace(ctx context.Context, ns store.Namespace) error {
	err := s.write(ctx, func(a *applier) error {
		return a.exec(a.ws.insertNamespace, sql.Named("name", ns.Name), sql.Named("id", ns.ID),
			sql.Named("created_at", micros(ns.CreatedAt)), sql.Named("data", blob(ns.Data)))
	})
	if err != nil {
		return fmt.Errorf("create namespace %q: %w", ns.Name, err)
	}
	return nil
}

// UpdateNamespace replaces the namespace's Data; ErrNotFound if there is no such name.
func (s *Store) UpdateNamespace(ctx context.Context, ns store.Namespace) error {
	err := s.write(ctx, func(a *applier) error {
		n, err := a.execCount(a.ws.updateNamespace, sql.Named("name", ns.Name), sql.Named("data", blob(ns.Data)))
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update namespace %q: %w", ns.Name, err)
	}
	return nil
}

// GetNamespace reads a namespace by name.
func (s *Store) GetNamespace(ctx context.Context, name string) (*store.Namespace, error) {
	ns, err := scanNamespace(s.rs.getNamespace.QueryRowContext(ctx, sql.Named("name", name)))
	if err != nil {
		return nil, fmt.Errorf("get namespace %q: %w", name, translate(ctx, err))
	}
	return &ns, nil
}

// ListNamespaces returns all namespaces ordered by name.
func (s *Store) ListNamespaces(ctx context.Context) ([]store.Namespace, error) {
	rows, err := s.rs.listNamespaces.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", translate(ctx, err))
	}
	defer rows.Close()
	var nss []store.Namespace
	for rows.Next() {
		ns, err := scanNamespace(rows)
		if err != nil {
			return nil, fmt.Errorf("list namespaces: %w", translate(ctx, err))
		}
		nss = append(nss, ns)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list namespaces: %w", translate(ctx, err))
	}
	return nss, nil
}

func scanNamespace(sc scanner) (store.Namespace, error) {
	var ns store.Namespace
	var created int64
	if err := sc.Scan(&ns.Name, &ns.ID, &created, &ns.Data); err != nil {
		return store.Namespace{}, err
	}
	ns.CreatedAt = fromMicros(created)
	return ns, nil
}
