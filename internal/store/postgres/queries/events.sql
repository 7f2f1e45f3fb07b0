-- name: insert_events
-- All of a transition's events in one statement; a taken event ID is a unique violation.
INSERT INTO events (namespace, run_id, event_id, data)
SELECT $1, $2, e.event_id, e.data
FROM unnest($3::bigint[], $4::bytea[]) AS e (event_id, data)

-- name: read_events
-- $4 IS NULL: no upper bound; $5 IS NULL: no limit.
SELECT event_id, data
FROM events
WHERE namespace = $1 AND run_id = $2 AND event_id >= $3 AND ($4::bigint IS NULL OR event_id < $4)
ORDER BY event_id
LIMIT $5

-- name: read_events_reverse
-- $3 IS NULL: from the last event; $4 IS NULL: no limit.
SELECT event_id, data
FROM events
WHERE namespace = $1 AND run_id = $2 AND ($3::bigint IS NULL OR event_id <= $3)
ORDER BY event_id DESC
LIMIT $4
