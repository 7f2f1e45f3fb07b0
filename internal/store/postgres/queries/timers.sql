-- name: insert_timers
-- All of a transition's new timer rows in one statement, IDs ascending with the input order.
INSERT INTO timers (fire_at, namespace, workflow_id, run_id, kind, event_id, attempt, data)
SELECT t.fire_at, t.namespace, t.workflow_id, t.run_id, t.kind, t.event_id, t.attempt, t.data
FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::bigint[],
            $7::integer[], $8::bytea[])
     WITH ORDINALITY AS t (fire_at, namespace, workflow_id, run_id, kind, event_id, attempt, data, ord)
ORDER BY t.ord
RETURNING id

-- name: consume_timers
-- Fires timer rows: each must still exist, else DU001, so a timer fires once in the whole cluster.
WITH deleted AS (
    DELETE FROM timers WHERE id = ANY ($1::bigint[]) RETURNING 1
)
SELECT duro_require_rows((SELECT count(*) FROM deleted), $2, 'timer rows already consumed')

-- name: list_timers
-- Earliest first, ties by ID; $2 IS NULL means no limit.
SELECT id, fire_at, namespace, workflow_id, run_id, kind, event_id, attempt, data
FROM timers
WHERE fire_at <= $1
ORDER BY fire_at, id
LIMIT $2
