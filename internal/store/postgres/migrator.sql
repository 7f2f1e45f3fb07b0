-- Statements of the migration connection (migrate.go), run before the schema exists; they are not
-- prepared on the pool's connections like queries/*.sql.

-- name: lock
-- Nodes sharing a schema migrate it one at a time; other schemas do not wait ($1 is a constant).
SELECT pg_advisory_lock($1, hashtext(current_schema()))

-- name: unlock
SELECT pg_advisory_unlock($1, hashtext(current_schema()))

-- name: create_version_table
CREATE TABLE IF NOT EXISTS schema_version (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)

-- name: read_version
SELECT coalesce(max(version), 0) FROM schema_version

-- name: record_version
INSERT INTO schema_version (version, name) VALUES ($1, $2)
