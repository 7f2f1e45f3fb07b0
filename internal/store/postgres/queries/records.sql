-- Records (migrations/0003_records.sql): small named documents beside executions.

-- name: insert_record
-- A new record (expected version 0): a unique violation is store.ErrAlreadyExists.
INSERT INTO records (namespace, kind, name, version, wake_at, created_at, updated_at, data)
VALUES ($1, $2, $3, 1, $4, $5, $6, $7)

-- name: update_record
-- The version fence, in one statement: the first column is the new version (NULL if no row
-- matched), the second whether the record exists at all, so that a miss is told apart as
-- store.ErrConflict (stale version) or store.ErrNotFound. A writer that raced this one and won
-- holds the row lock until it commits; this UPDATE then re-checks the version on the new row.
WITH existing AS (
    SELECT 1 FROM records WHERE namespace = $1 AND kind = $2 AND name = $3
), updated AS (
    UPDATE records SET version = version + 1, wake_at = $5, updated_at = $6, data = $7
    WHERE namespace = $1 AND kind = $2 AND name = $3 AND version = $4
    RETURNING version
)
SELECT (SELECT version FROM updated), EXISTS (SELECT 1 FROM existing)

-- name: delete_record
-- $4 = 0 deletes whatever version is there. Columns: whether a row was deleted, whether one existed.
WITH existing AS (
    SELECT 1 FROM records WHERE namespace = $1 AND kind = $2 AND name = $3
), deleted AS (
    DELETE FROM records
    WHERE namespace = $1 AND kind = $2 AND name = $3 AND ($4::bigint = 0 OR version = $4)
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted), EXISTS (SELECT 1 FROM existing)

-- name: get_record
SELECT namespace, kind, name, version, wake_at, created_at, updated_at, data
FROM records
WHERE namespace = $1 AND kind = $2 AND name = $3

-- name: list_records
-- $4 IS NULL means no limit.
SELECT namespace, kind, name, version, wake_at, created_at, updated_at, data
FROM records
WHERE namespace = $1 AND kind = $2 AND name > $3
ORDER BY name
LIMIT $4

-- name: list_due_records
SELECT namespace, kind, name, version, wake_at, created_at, updated_at, data
FROM records
WHERE kind = $1 AND wake_at IS NOT NULL AND wake_at <= $2
ORDER BY wake_at, namespace, name
LIMIT $3
