-- name: insert_execution
-- A new run (Transition.ExpectedVersion = 0): a unique violation is store.ErrAlreadyExists.
INSERT INTO executions (namespace, workflow_id, run_id, version, state, workflow_type, task_queue,
                        status, start_time, execution_time, close_time, history_length, memo,
                        search_attributes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)

-- name: update_execution
-- The version fence: zero rows (the version moved, or the run is gone) raises DU001.
WITH updated AS (
    UPDATE executions
    SET version = $4, state = $5, workflow_type = $6, task_queue = $7, status = $8,
        start_time = $9, execution_time = $10, close_time = $11, history_length = $12,
        memo = $13, search_attributes = $14
    WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3 AND version = $15
    RETURNING 1
)
SELECT duro_require_rows((SELECT count(*) FROM updated), 1, 'execution version moved')

-- name: get_execution
SELECT namespace, workflow_id, run_id, version, state, workflow_type, task_queue, status,
       start_time, execution_time, close_time, history_length, memo, search_attributes
FROM executions
WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3

-- name: delete_execution
-- A run with its history, tasks and timers, and its current-run pointer if that still points at it.
WITH deleted_events AS (
    DELETE FROM events WHERE namespace = $1 AND run_id = $3
), deleted_tasks AS (
    DELETE FROM tasks WHERE namespace = $1 AND run_id = $3 AND workflow_id = $2
), deleted_timers AS (
    DELETE FROM timers WHERE namespace = $1 AND run_id = $3 AND workflow_id = $2
), deleted_current AS (
    DELETE FROM current_runs WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3
), deleted_search AS (
    DELETE FROM search_values WHERE namespace = $1 AND run_id = $3
)
DELETE FROM executions WHERE namespace = $1 AND workflow_id = $2 AND run_id = $3

-- name: list_executions
-- Newest first, keyset-paged: ($2, $3) is the position to continue after ('infinity' for the
-- first page), so the row comparison is always an index condition. Empty filters ($4 = '',
-- $5 = '{}') do not filter; $6 IS NULL means no limit.
SELECT namespace, workflow_id, run_id, version, workflow_type, task_queue, status, start_time,
       execution_time, close_time, history_length, memo, search_attributes
FROM executions
WHERE namespace = $1
  AND (start_time, run_id) < ($2::timestamptz, $3::text)
  AND ($4 = '' OR workflow_type = $4)
  AND (cardinality($5::integer[]) = 0 OR status = ANY ($5::integer[]))
ORDER BY start_time DESC, run_id DESC
LIMIT $6

-- name: list_executions_of_workflow
-- list_executions for one workflow ID ($7), through the primary key.
SELECT namespace, workflow_id, run_id, version, workflow_type, task_queue, status, start_time,
       execution_time, close_time, history_length, memo, search_attributes
FROM executions
WHERE namespace = $1 AND workflow_id = $7
  AND (start_time, run_id) < ($2::timestamptz, $3::text)
  AND ($4 = '' OR workflow_type = $4)
  AND (cardinality($5::integer[]) = 0 OR status = ANY ($5::integer[]))
ORDER BY start_time DESC, run_id DESC
LIMIT $6

-- name: count_executions
SELECT count(*)
FROM executions
WHERE namespace = $1
  AND ($2 = '' OR workflow_type = $2)
  AND (cardinality($3::integer[]) = 0 OR status = ANY ($3::integer[]))

-- name: count_executions_of_workflow
SELECT count(*)
FROM executions
WHERE namespace = $1 AND workflow_id = $4
  AND ($2 = '' OR workflow_type = $2)
  AND (cardinality($3::integer[]) = 0 OR status = ANY ($3::integer[]))
