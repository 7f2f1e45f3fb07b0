-- name: insert_current
-- CurrentUpdate.ExpectedRunID = "": a unique violation is store.ErrAlreadyExists.
INSERT INTO current_runs (namespace, workflow_id, run_id, status, start_request_id, start_time)
VALUES ($1, $2, $3, $4, $5, $6)

-- name: update_current
-- Moves the pointer only if it still points at the expected run ($7); else DU001.
WITH updated AS (
    UPDATE current_runs
    SET run_id = $3, status = $4, start_request_id = $5, start_time = $6
    WHERE namespace = $1 AND workflow_id = $2 AND run_id = $7
    RETURNING 1
)
SELECT duro_require_rows((SELECT count(*) FROM updated), 1, 'current run moved')

-- name: get_current
SELECT namespace, workflow_id, run_id, status, start_request_id, start_time
FROM current_runs
WHERE namespace = $1 AND workflow_id = $2
