-- Search attributes: the values a run is searched by (search_values) and each namespace's registry
-- of custom attributes (search_attributes). Migration 0002 creates both.

-- name: delete_run_search_values
DELETE FROM search_values WHERE namespace = :namespace AND run_id = :run_id;

-- name: insert_search_value
INSERT INTO search_values (namespace, run_id, name, seq, text_value, int_value, double_value, bool_value, time_value)
VALUES (:namespace, :run_id, :name, :seq, :text_value, :int_value, :double_value, :bool_value, :time_value);

-- name: get_search_attribute
SELECT type FROM search_attributes WHERE namespace = :namespace AND name = :name;

-- name: insert_search_attribute
INSERT INTO search_attributes (namespace, name, type) VALUES (:namespace, :name, :type);

-- name: delete_search_attribute
DELETE FROM search_attributes WHERE namespace = :namespace AND name = :name;

-- name: list_search_attributes
SELECT name, type FROM search_attributes WHERE namespace = :namespace ORDER BY name;

-- The listings by query are templates: the driver puts the condition internal/visibility compiles
-- in place of "1=1 /*where*/" and its ORDER BY list in place of "/*order*/ ...", and binds the
-- compiled query's arguments after the numbered ones below. As written (no query) each is a
-- valid statement. ?4 (statuses) is NULL or a JSON array; ?5, ?6 is the keyset position
-- (math.MaxInt64 and '' before the first row); ?8 the offset of a listing with an ORDER BY.

-- name: list_executions_by_query
SELECT e.namespace, e.run_id, e.workflow_id, e.version, e.workflow_type, e.task_queue, e.status,
    e.start_time, e.execution_time, e.close_time, e.history_length, e.memo, e.search_attributes
FROM executions e
WHERE e.namespace = ?1 AND (?2 = '' OR e.workflow_id = ?2) AND (?3 = '' OR e.workflow_type = ?3)
    AND (?4 IS NULL OR e.status IN (SELECT value FROM json_each(?4)))
    AND (e.start_time, e.run_id) < (?5, ?6)
    AND (1=1 /*where*/)
ORDER BY /*order*/ e.start_time DESC, e.run_id DESC
LIMIT ?7 OFFSET ?8;

-- name: count_executions_by_query
SELECT count(*)
FROM executions e
WHERE e.namespace = ?1 AND (?2 = '' OR e.workflow_id = ?2) AND (?3 = '' OR e.workflow_type = ?3)
    AND (?4 IS NULL OR e.status IN (SELECT value FROM json_each(?4)))
    AND (1=1 /*where*/);

-- name: count_executions_by_status
SELECT e.status, count(*)
FROM executions e
WHERE e.namespace = ?1 AND (?2 = '' OR e.workflow_id = ?2) AND (?3 = '' OR e.workflow_type = ?3)
    AND (?4 IS NULL OR e.status IN (SELECT value FROM json_each(?4)))
    AND (1=1 /*where*/)
GROUP BY e.status
ORDER BY e.status;
