-- Records (migrations/0003_records.sql). The write statements are prepared on the writer
-- connection, the reads on the read pool (see records.go).

-- name: insert_record
INSERT INTO records (namespace, kind, name, version, wake_at, created_at, updated_at, data)
VALUES (:namespace, :kind, :name, 1, :wake_at, :created_at, :updated_at, :data);

-- name: update_record
-- The version fence: no row changed means a stale version or no such record (get_record_version
-- tells which, inside the same transaction).
UPDATE records SET version = version + 1, wake_at = :wake_at, updated_at = :updated_at, data = :data
WHERE namespace = :namespace AND kind = :kind AND name = :name AND version = :expected_version;

-- name: get_record_version
SELECT version FROM records WHERE namespace = :namespace AND kind = :kind AND name = :name;

-- name: delete_record
-- :expected_version 0 deletes whatever version is there.
DELETE FROM records
WHERE namespace = :namespace AND kind = :kind AND name = :name
  AND (:expected_version = 0 OR version = :expected_version);

-- name: get_record
SELECT namespace, kind, name, version, wake_at, created_at, updated_at, data
FROM records
WHERE namespace = :namespace AND kind = :kind AND name = :name;

-- name: list_records
SELECT namespace, kind, name, version, wake_at, created_at, updated_at, data
FROM records
WHERE namespace = :namespace AND kind = :kind AND name > :after_name
ORDER BY name
LIMIT :limit;

-- name: list_due_records
SELECT namespace, kind, name, version, wake_at, created_at, updated_at, data
FROM records
WHERE kind = :kind AND wake_at IS NOT NULL AND wake_at <= :until
ORDER BY wake_at, namespace, name
LIMIT :limit;
