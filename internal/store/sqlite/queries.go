package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strings"
)

// loadQueries reads every queries/*.sql file and splits it into named statements: a line
// "-- name: x" starts statement x, which runs to the next such line. Comment lines before the first
// name are the file's header.
func loadQueries(fsys fs.FS) (map[string]string, error) {
	files, err := fs.Glob(fsys, "queries/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list queries: %w", err)
	}
	queries := map[string]string{}
	for _, file := range files {
		content, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("read queries: %w", err)
		}
		var name string
		var body strings.Builder
		flush := func() error {
			if name == "" {
				return nil
			}
			q := strings.TrimSpace(body.String())
			if q == "" {
				return fmt.Errorf("%s: query %q is empty", file, name)
			}
			if _, dup := queries[name]; dup {
				return fmt.Errorf("%s: query %q defined twice", file, name)
			}
			queries[name] = q
			return nil
		}
		sc := bufio.NewScanner(strings.NewReader(string(content)))
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
				if err := flush(); err != nil {
					return nil, err
				}
				name = strings.TrimSpace(n)
				body.Reset()
				continue
			}
			if name == "" || strings.HasPrefix(strings.TrimSpace(line), "--") {
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return queries, nil
}

// stmtRef binds a query name to the field its prepared statement goes in.
type stmtRef struct {
	name string
	stmt **sql.Stmt
}

// stmtSet is a struct of prepared statements.
type stmtSet interface {
	refs() []stmtRef
}

// prepare prepares every statement of set on db.
func prepare(ctx context.Context, db *sql.DB, queries map[string]string, set stmtSet) error {
	for _, ref := range set.refs() {
		q, ok := queries[ref.name]
		if !ok {
			return fmt.Errorf("query %q is missing from queries/*.sql", ref.name)
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", ref.name, err)
		}
		*ref.stmt = st
	}
	return nil
}

// allStmts returns the prepared statements of set (nil for those not prepared).
func allStmts(set stmtSet) []*sql.Stmt {
	var sts []*sql.Stmt
	for _, ref := range set.refs() {
		sts = append(sts, *ref.stmt)
	}
	return sts
}

// writeStmts are prepared on the writer connection (queries/write.sql).
type writeStmts struct {
	savepoint, rollbackToSavepoint, releaseSavepoint *sql.Stmt

	insertExecution, updateExecution *sql.Stmt
	insertCurrent, updateCurrent     *sql.Stmt
	insertEvent                      *sql.Stmt
	insertTask, deleteTask           *sql.Stmt
	insertTimer, deleteTimer         *sql.Stmt
	deleteRunTasks, deleteRunTimers  *sql.Stmt

	deleteRunEvents, deleteExecution, deleteCurrentOfRun *sql.Stmt

	insertNamespace, updateNamespace *sql.Stmt

	search  searchWriteStmts
	records recordWriteStmts
}

func (w *writeStmts) refs() []stmtRef {
	return append([]stmtRef{
		{"savepoint", &w.savepoint},
		{"rollback_to_savepoint", &w.rollbackToSavepoint},
		{"release_savepoint", &w.releaseSavepoint},
		{"insert_execution", &w.insertExecution},
		{"update_execution", &w.updateExecution},
		{"insert_current", &w.insertCurrent},
		{"update_current", &w.updateCurrent},
		{"insert_event", &w.insertEvent},
		{"insert_task", &w.insertTask},
		{"delete_task", &w.deleteTask},
		{"insert_timer", &w.insertTimer},
		{"delete_timer", &w.deleteTimer},
		{"delete_run_tasks", &w.deleteRunTasks},
		{"delete_run_timers", &w.deleteRunTimers},
		{"delete_run_events", &w.deleteRunEvents},
		{"delete_execution", &w.deleteExecution},
		{"delete_current_of_run", &w.deleteCurrentOfRun},
		{"insert_namespace", &w.insertNamespace},
		{"update_namespace", &w.updateNamespace},
	}, append(w.search.refs(), w.records.refs()...)...)
}

// readStmts are prepared on the read pool (queries/read.sql).
type readStmts struct {
	getExecution, getCurrent                   *sql.Stmt
	readEvents, readEventsReverse              *sql.Stmt
	listTasks, countTasks, listTimers          *sql.Stmt
	listExecutions, listExecutionsOfWorkflow   *sql.Stmt
	countExecutions, countExecutionsOfWorkflow *sql.Stmt
	getNamespace, listNamespaces               *sql.Stmt

	search  searchReadStmts
	records recordReadStmts
}

func (r *readStmts) refs() []stmtRef {
	return append([]stmtRef{
		{"get_execution", &r.getExecution},
		{"get_current", &r.getCurrent},
		{"read_events", &r.readEvents},
		{"read_events_reverse", &r.readEventsReverse},
		{"list_tasks", &r.listTasks},
		{"count_tasks", &r.countTasks},
		{"list_timers", &r.listTimers},
		{"list_executions", &r.listExecutions},
		{"list_executions_of_workflow", &r.listExecutionsOfWorkflow},
		{"count_executions", &r.countExecutions},
		{"count_executions_of_workflow", &r.countExecutionsOfWorkflow},
		{"get_namespace", &r.getNamespace},
		{"list_namespaces", &r.listNamespaces},
	}, append(r.search.refs(), r.records.refs()...)...)
}
