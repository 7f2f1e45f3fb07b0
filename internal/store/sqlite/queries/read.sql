-- Statements prepared on the read-only pool. Each section starts with "-- name: X".

-- name: get_execution
SELECT namespace, run_id, workflow_id, version, workflow_type, task_queue, status,
    start_time, execution_time, close_time, history_length, memo, search_attributes, state
FROM executions
WHERE namespace = :namespace AND run_id = :run_id AND workflow_id = :workflow_id;

-- name: get_current
SELECT namespace, workflow_id, run_id, status, start_request_id, start_time
FROM current_runs
WHERE namespace = :namespace AND workflow_id = :workflow_id;

-- name: read_events
SELECT event_id, data FROM events
WHERE namespace = :namespace AND run_id = :run_id AND event_id >= :from_id AND event_id < :to_id
ORDER BY event_id
LIMIT :limit;

-- name: read_events_reverse
SELECT event_id, data FROM events
WHERE namespace = :namespace AND run_id = :run_id AND event_id <= :before_or_at
ORDER BY event_id DESC
LIMIT :limit;

-- name: list_tasks
SELECT id, namespace, queue, kind, workflow_id, run_id, scheduled_event_id, attempt, created_at, visible_at, data
FROM tasks
WHERE namespace = :namespace AND queue = :queue AND kind = :kind AND visible_at <= :now
ORDER BY id
LIMIT :limit;

-- name: count_tasks
SELECT count(*) FROM tasks WHERE namespace = :namespace AND queue = :queue AND kind = :kind;

-- name: list_timers
SELECT id, fire_at, namespace, workflow_id, run_id, kind, event_id, attempt, data
FROM timers
WHERE fire_at <= :until
ORDER BY fire_at, id
LIMIT :limit;

-- The list queries take the keyset position as a row value, (math.MaxInt64, '') when there is none,
-- so the index range scan starts at the position instead of skipping the rows before it. :statuses
-- is NULL (no filter) or a JSON array of status numbers.

-- name: list_executions
SELECT namespace, run_id, workflow_id, version, workflow_type, task_queue, status,
    start_time, execution_time, close_time, history_length, memo, search_attributes
FROM executions
WHERE namespace = :namespace
    AND (start_time, run_id) < (:after_start_time, :after_run_id)
    AND (:workflow_type = '' OR workflow_type = :workflow_type)
    AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)))
ORDER BY start_time DESC, run_id DESC
LIMIT :limit;

-- name: list_executions_of_workflow
SELECT namespace, run_id, workflow_id, version, workflow_type, task_queue, status,
    start_time, execution_time, close_time, history_length, memo, search_attributes
FROM executions
WHERE namespace = :namespace AND workflow_id = :workflow_id
    AND (start_time, run_id) < (:after_start_time, :after_run_id)
    AND (:workflow_type = '' OR workflow_type = :workflow_type)
    AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)))
ORDER BY start_time DESC, run_id DESC
LIMIT :limit;

-- name: count_executions
SELECT count(*) FROM executions
WHERE namespace = :namespace
    AND (:workflow_type = '' OR workflow_type = :workflow_type)
    AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)));

-- name: count_executions_of_workflow
SELECT count(*) FROM executions
WHERE namespace = :namespace AND workflow_id = :workflow_id
    AND (:workflow_type = '' OR workflow_type = :workflow_type)
    AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)));

-- name: get_namespace
SELECT name, id, created_at, data FROM namespaces WHERE name = :name;

-- name: list_namespaces
SELECT name, id, created_at, data FROM namespaces ORDER BY name;
