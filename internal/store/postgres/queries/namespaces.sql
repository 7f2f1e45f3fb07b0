-- name: insert_namespace
INSERT INTO namespaces (name, id, data, created_at) VALUES ($1, $2, $3, $4)

-- name: update_namespace
UPDATE namespaces SET data = $2 WHERE name = $1

-- name: get_namespace
SELECT id, name, data, created_at FROM namespaces WHERE name = $1

-- name: list_namespaces
SELECT id, name, data, created_at FROM namespaces ORDER BY name
