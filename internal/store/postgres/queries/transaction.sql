-- Transaction control for Apply's pipelines. They are prepared like every other statement, so a
-- failed pipeline never invalidates a cached statement and the next Apply still needs one round trip.

-- name: begin
BEGIN ISOLATION LEVEL READ COMMITTED

-- name: commit
COMMIT

-- name: savepoint
SAVEPOINT transition

-- name: release_savepoint
RELEASE SAVEPOINT transition

-- name: rollback_to_savepoint
ROLLBACK TO SAVEPOINT transition

-- name: rollback
ROLLBACK
