-- 0001: the durable core's tables. Times are timestamptz (microseconds, UTC on read); blobs are
-- bytea, opaque to the database. Every row is keyed so that the hot paths are index range scans.

-- Namespaces by name.
CREATE TABLE namespaces (
    name       text        PRIMARY KEY,
    id         text        NOT NULL,
    data       bytea,
    created_at timestamptz NOT NULL
);

-- One row per run: the engine's opaque mutable state plus the columns visibility filters on.
-- version fences writers on every node (UPDATE ... WHERE version = expected).
CREATE TABLE executions (
    namespace         text        NOT NULL,
    workflow_id       text        NOT NULL,
    run_id            text        NOT NULL,
    version           bigint      NOT NULL,
    state             bytea,
    workflow_type     text        NOT NULL,
    task_queue        text        NOT NULL,
    status            integer     NOT NULL,
    start_time        timestamptz NOT NULL,
    execution_time    timestamptz,          -- NULL if unset
    close_time        timestamptz,          -- NULL while open
    history_length    bigint      NOT NULL,
    memo              bytea,
    search_attributes bytea,
    PRIMARY KEY (namespace, workflow_id, run_id)
) WITH (fillfactor = 70); -- every transition rewrites its row: room on the page keeps it a HOT
                          -- update, with no new index entries

-- Listing: newest first, keyset-paged on (start_time, run_id).
CREATE INDEX executions_by_start ON executions (namespace, start_time DESC, run_id DESC);

-- The current-run pointer of each workflow ID.
CREATE TABLE current_runs (
    namespace        text        NOT NULL,
    workflow_id      text        NOT NULL,
    run_id           text        NOT NULL,
    status           integer     NOT NULL,
    start_request_id text        NOT NULL,
    start_time       timestamptz NOT NULL,
    PRIMARY KEY (namespace, workflow_id)
);

-- Append-only histories.
CREATE TABLE events (
    namespace text   NOT NULL,
    run_id    text   NOT NULL,
    event_id  bigint NOT NULL,
    data      bytea,
    PRIMARY KEY (namespace, run_id, event_id)
);

-- Task rows: hints that a run has a task to hand out. IDs come from an identity sequence, so they
-- increase and are never reused.
CREATE TABLE tasks (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace          text        NOT NULL,
    name               text        NOT NULL,
    kind               integer     NOT NULL,
    workflow_id        text        NOT NULL,
    run_id             text        NOT NULL,
    scheduled_event_id bigint      NOT NULL,
    attempt            integer     NOT NULL,
    created_at         timestamptz NOT NULL,
    visible_at         timestamptz NOT NULL,
    data               bytea
);

-- Polling a queue oldest first; dropping a closed run's rows.
CREATE INDEX tasks_by_queue ON tasks (namespace, name, kind, id);
CREATE INDEX tasks_by_run ON tasks (namespace, run_id);

-- Durable timers.
CREATE TABLE timers (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fire_at     timestamptz NOT NULL,
    namespace   text        NOT NULL,
    workflow_id text        NOT NULL,
    run_id      text        NOT NULL,
    kind        integer     NOT NULL,
    event_id    bigint      NOT NULL,
    attempt     integer     NOT NULL,
    data        bytea
);

-- The timer loop reads the earliest due timers; closing a run drops its rows.
CREATE INDEX timers_by_fire ON timers (fire_at, id);
CREATE INDEX timers_by_run ON timers (namespace, run_id);

-- duro_require_rows fails the statement that calls it with SQLSTATE DU001 when a guarded write
-- touched a different number of rows than required: a stale execution version, a moved current-run
-- pointer, a task or timer row already consumed. Raising (rather than returning a count) lets Apply
-- pipeline a whole transition in one round trip: the server skips everything after the failed
-- check, and the driver maps DU001 to store.ErrConflict.
CREATE FUNCTION duro_require_rows(got bigint, want bigint, what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF got <> want THEN
        RAISE EXCEPTION 'duro: %: % of % rows', what, got, want USING ERRCODE = 'DU001';
    END IF;
END
$$;
