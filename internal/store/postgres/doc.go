// Package postgres is Duro's scale-out store: a [store.Store] on PostgreSQL through pgx v5
// (pgxpool), which any number of stateless Duro nodes may share. PostgreSQL is the only
// coordinator between them: every guarantee below is enforced by the database, never by one
// process's memory.
//
// # Group commit in one round trip
//
// [Store.Apply] sends a whole group of transitions as one pipeline — BEGIN; per transition
// SAVEPOINT, its statements, RELEASE; COMMIT — and reads the answers once. The guards that fence
// concurrent writers on any node are conditional writes that raise SQLSTATE DU001 when they touch
// the wrong number of rows (duro_require_rows, migrations/0001_init.sql):
//
//   - the execution row is updated only WHERE version = Transition.ExpectedVersion;
//   - the current-run pointer moves only WHERE run_id = CurrentUpdate.ExpectedRunID (a new pointer
//     is a plain INSERT, whose unique violation is store.ErrAlreadyExists);
//   - consumed task and timer rows are DELETEd and must all have been there.
//
// Raising instead of returning a count is what lets the pipeline run blind: when a guard fails,
// the server skips the rest of the pipeline, Apply records that transition's error at its index,
// and sends the next pipeline, which rolls back to the savepoint and carries on with the
// transitions after it. Linked transitions (a run that continues as new and the run it starts)
// are written inside their carrier's savepoint, so they commit or fail with it. Each transition
// writes its rows with one statement per table (events, tasks and timers as arrays through
// unnest), so its cost is statements, not round trips.
//
// Round trips: one per Apply, whatever the number of transitions, plus one per transition that
// fails on its own. A new connection first prepares every statement (one round trip each, once),
// and pgxpool pings a connection that sat idle for over a second before handing it out.
// Statements run by their prepared names, outside pgx's statement cache: pgx invalidates the
// cached statements of any batch that fails, which would make every conflict cost the next Apply
// on that connection two more round trips.
//
// Which errors stay inside a transition: the guards (store.ErrConflict), unique violations
// (store.ErrAlreadyExists), deadlocks and serialization failures (store.ErrConflict, the engine
// retries on fresh state), and other integrity or data errors such as a NUL byte in a text column.
// Anything else — the connection, the server, a broken statement — aborts the commit and is
// Apply's second result; [IsUnavailable] tells the frontends which of those to answer with
// Unavailable (retried by the SDK). New task and timer IDs reach the caller's structs only once
// the commit is durable.
//
// # Schema and migrations
//
// Migrations are numbered, forward-only and embedded (migrations/NNNN_name.sql), applied by
// internal/store/migrate at [Open] (and by [Migrate], for `duro migrate`) on a dedicated
// connection holding a session advisory lock keyed by the schema, so nodes starting together
// migrate once. Every query is a named statement in queries/*.sql. Times are timestamptz (read
// back in UTC, microsecond precision), blobs bytea. The schema is the first of the connection's
// search_path, so tests give each case its own schema (package pgtest).
//
// # Claiming
//
// ListTasks and ListTimers are plain ordered reads; rows are hints. A claim is fenced by naming
// the row in Transition.DeleteTasks or DeleteTimers inside Apply: of two nodes that race for a
// row, exactly one deletes it and the other's transition fails with store.ErrConflict.
package postgres
