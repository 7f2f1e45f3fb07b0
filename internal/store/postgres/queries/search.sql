-- Search attributes: the values a run is searched by (search_values) and each namespace's registry
-- of custom attributes (search_attributes). Migration 0002 creates both.

-- name: delete_run_search_values
DELETE FROM search_values WHERE namespace = $1 AND run_id = $2

-- name: insert_search_values
-- One row per value, from column arrays ($3 names, $4 sequence numbers, then one array per value
-- column, NULL where the value is of another type).
INSERT INTO search_values (namespace, run_id, name, seq, text_value, int_value, double_value, bool_value, time_value)
SELECT $1, $2, v.name, v.seq, v.text_value, v.int_value, v.double_value, v.bool_value, v.time_value
FROM unnest($3::text[], $4::integer[], $5::text[], $6::bigint[], $7::double precision[], $8::boolean[],
            $9::timestamptz[]) AS v (name, seq, text_value, int_value, double_value, bool_value, time_value)

-- name: insert_search_attribute
-- Registering a name twice with the same type is not an error; the caller reads the type back.
INSERT INTO search_attributes (namespace, name, type) VALUES ($1, $2, $3)
ON CONFLICT (namespace, name) DO NOTHING

-- name: get_search_attribute
SELECT type FROM search_attributes WHERE namespace = $1 AND name = $2

-- name: delete_search_attribute
DELETE FROM search_attributes WHERE namespace = $1 AND name = $2

-- name: list_search_attributes
SELECT name, type FROM search_attributes WHERE namespace = $1 ORDER BY name

-- The listings by query are templates: the driver puts the condition internal/visibility compiles
-- in place of "TRUE /*where*/" and its ORDER BY list in place of "/*order*/ ...", and binds the
-- compiled query's arguments after the numbered ones below. As written (no query) each is a
-- valid statement. Empty filters ($2 = '', $3 = '', $4 = '{}') do not filter; ($5, $6) is the
-- keyset position ('infinity' before the first row); $7 IS NULL means no limit; $8 is the offset
-- of a listing with an ORDER BY.

-- name: list_executions_by_query
SELECT e.namespace, e.workflow_id, e.run_id, e.version, e.workflow_type, e.task_queue, e.status,
       e.start_time, e.execution_time, e.close_time, e.history_length, e.memo, e.search_attributes
FROM executions e
WHERE e.namespace = $1 AND ($2 = '' OR e.workflow_id = $2) AND ($3 = '' OR e.workflow_type = $3)
  AND (cardinality($4::integer[]) = 0 OR e.status = ANY ($4::integer[]))
  AND (e.start_time, e.run_id) < ($5::timestamptz, $6::text)
  AND (TRUE /*where*/)
ORDER BY /*order*/ e.start_time DESC, e.run_id DESC
LIMIT $7 OFFSET $8

-- name: count_executions_by_query
SELECT count(*)
FROM executions e
WHERE e.namespace = $1 AND ($2 = '' OR e.workflow_id = $2) AND ($3 = '' OR e.workflow_type = $3)
  AND (cardinality($4::integer[]) = 0 OR e.status = ANY ($4::integer[]))
  AND (TRUE /*where*/)

-- name: count_executions_by_status
SELECT e.status, count(*)
FROM executions e
WHERE e.namespace = $1 AND ($2 = '' OR e.workflow_id = $2) AND ($3 = '' OR e.workflow_type = $3)
  AND (cardinality($4::integer[]) = 0 OR e.status = ANY ($4::integer[]))
  AND (TRUE /*where*/)
GROUP BY e.status
ORDER BY e.status
