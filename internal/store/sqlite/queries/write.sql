-- Statements prepared on the single writer connection. Each section starts with "-- name: X".

-- name: savepoint
SAVEPOINT transition;

-- name: rollback_to_savepoint
ROLLBACK TO transition;

-- name: release_savepoint
RELEASE transition;

-- name: insert_execution
INSERT INTO executions (
    namespace, run_id, workflow_id, version, workflow_type, task_queue, status,
    start_time, execution_time, close_time, history_length, memo, search_attributes, state
) VALUES (
    :namespace, :run_id, :workflow_id, :version, :workflow_type, :task_queue, :status,
    :start_time, :execution_time, :close_time, :history_length, :memo, :search_attributes, :state
);

-- name: update_execution
UPDATE executions SET
    version = :version,
    workflow_type = :workflow_type,
    task_queue = :task_queue,
    status = :status,
    start_time = :start_time,
    execution_time = :execution_time,
    close_time = :close_time,
    history_length = :history_length,
    memo = :memo,
    search_attributes = :search_attributes,
    state = :state
WHERE namespace = :namespace AND run_id = :run_id AND workflow_id = :workflow_id
    AND version = :expected_version;

-- name: insert_current
INSERT INTO current_runs (namespace, workflow_id, run_id, status, start_request_id, start_time)
VALUES (:namespace, :workflow_id, :run_id, :status, :start_request_id, :start_time);

-- name: update_current
UPDATE current_runs SET
    run_id = :run_id,
    status = :status,
    start_request_id = :start_request_id,
    start_time = :start_time
WHERE namespace = :namespace AND workflow_id = :workflow_id AND run_id = :expected_run_id;

-- name: insert_event
INSERT INTO events (namespace, run_id, event_id, data) VALUES (:namespace, :run_id, :event_id, :data);

-- name: insert_task
INSERT INTO tasks (
    namespace, queue, kind, workflow_id, run_id, scheduled_event_id, attempt, created_at, visible_at, data
) VALUES (
    :namespace, :queue, :kind, :workflow_id, :run_id, :scheduled_event_id, :attempt, :created_at, :visible_at, :data
);

-- name: delete_task
DELETE FROM tasks WHERE id = :id;

-- name: insert_timer
INSERT INTO timers (fire_at, namespace, workflow_id, run_id, kind, event_id, attempt, data)
VALUES (:fire_at, :namespace, :workflow_id, :run_id, :kind, :event_id, :attempt, :data);

-- name: delete_timer
DELETE FROM timers WHERE id = :id;

-- name: delete_run_tasks
DELETE FROM tasks WHERE namespace = :namespace AND run_id = :run_id;

-- name: delete_run_timers
DELETE FROM timers WHERE namespace = :namespace AND run_id = :run_id;

-- name: delete_run_events
DELETE FROM events WHERE namespace = :namespace AND run_id = :run_id;

-- name: delete_execution
DELETE FROM executions WHERE namespace = :namespace AND workflow_id = :workflow_id AND run_id = :run_id;

-- name: delete_current_of_run
DELETE FROM current_runs WHERE namespace = :namespace AND workflow_id = :workflow_id AND run_id = :run_id;

-- name: insert_namespace
INSERT INTO namespaces (name, id, created_at, data) VALUES (:name, :id, :created_at, :data);

-- name: update_namespace
UPDATE namespaces SET data = :data WHERE name = :name;
