-- Statements run while opening the store: the journal mode check and the migrator's own
-- (internal/store/migrate), which run inside each migration's transaction.

-- name: journal_mode
PRAGMA journal_mode;

-- name: create_schema_version
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
);

-- name: get_schema_version
SELECT coalesce(max(version), 0) FROM schema_version;

-- name: insert_schema_version
INSERT INTO schema_version (version, name, applied_at) VALUES (:version, :name, :applied_at);
