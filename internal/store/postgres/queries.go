package postgres

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// queryFiles holds the driver's named statements, several to a file, each introduced by a
// "-- name: NAME" line and running to the next one.
//
//go:embed queries/*.sql
var queryFiles embed.FS

// Statement names, as written in queries/*.sql. Every connection prepares all of them when it
// connects (see prepareAll), and the driver runs them by name.
const (
	qBegin               = "begin"
	qCommit              = "commit"
	qSavepoint           = "savepoint"
	qReleaseSavepoint    = "release_savepoint"
	qRollbackToSavepoint = "rollback_to_savepoint"
	qRollback            = "rollback"

	qInsertExecution = "insert_execution"
	qUpdateExecution = "update_execution"
	qGetExecution    = "get_execution"
	qDeleteExecution = "delete_execution"
	qListExecutions  = "list_executions"
	qCountExecutions = "count_executions"

	qListExecutionsOfWorkflow  = "list_executions_of_workflow"
	qCountExecutionsOfWorkflow = "count_executions_of_workflow"

	qInsertCurrent = "insert_current"
	qUpdateCurrent = "update_current"
	qGetCurrent    = "get_current"

	qInsertEvents      = "insert_events"
	qReadEvents        = "read_events"
	qReadEventsReverse = "read_events_reverse"

	qInsertTasks           = "insert_tasks"
	qConsumeTasks          = "consume_tasks"
	qDropRunTasksAndTimers = "drop_run_tasks_and_timers"
	qListTasks             = "list_tasks"
	qCountTasks            = "count_tasks"
	qInsertTimers          = "insert_timers"
	qConsumeTimers         = "consume_timers"
	qListTimers            = "list_timers"
	qInsertNamespace       = "insert_namespace"
	qUpdateNamespace       = "update_namespace"
	qGetNamespace          = "get_namespace"
	qListNamespaces        = "list_namespaces"
)

// namedQuery is one statement of queries/*.sql.
type namedQuery struct {
	name string
	sql  string
}

// loadQueries parses every file of fsys (a tree holding queries/*.sql) into named statements,
// sorted by name. A name defined twice, text before the first name, or an empty statement is an
// error: the files are part of the binary, so this fails every test if someone gets it wrong.
func loadQueries(fsys fs.FS) ([]namedQuery, error) {
	paths, err := fs.Glob(fsys, "queries/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list queries: %w", err)
	}
	seen := make(map[string]bool)
	var qs []namedQuery
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		parsed, err := parseQueries(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, q := range parsed {
			if seen[q.name] {
				return nil, fmt.Errorf("%s: query %q defined twice", p, q.name)
			}
			seen[q.name] = true
			qs = append(qs, q)
		}
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].name < qs[j].name })
	return qs, nil
}

// parseQueries splits one file into its named statements. Comment lines before a file's first
// name (a file header) are allowed; SQL there is not.
func parseQueries(text string) ([]namedQuery, error) {
	const marker = "-- name:"
	var qs []namedQuery
	var cur *namedQuery
	var body strings.Builder
	flush := func() error {
		if cur == nil {
			return nil
		}
		cur.sql = strings.TrimSpace(body.String())
		if cur.sql == "" {
			return fmt.Errorf("query %q is empty", cur.name)
		}
		qs = append(qs, *cur)
		body.Reset()
		return nil
	}
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if name, ok := strings.CutPrefix(trimmed, marker); ok {
			if err := flush(); err != nil {
				return nil, err
			}
			name = strings.TrimSpace(name)
			if name == "" {
				return nil, fmt.Errorf("line %d: query without a name", i+1)
			}
			cur = &namedQuery{name: name}
			continue
		}
		if cur == nil {
			if trimmed != "" && !strings.HasPrefix(trimmed, "--") {
				return nil, fmt.Errorf("line %d: SQL before the first %q line", i+1, marker)
			}
			continue
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return qs, nil
}
