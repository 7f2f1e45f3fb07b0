-- Duro's initial SQLite schema.
--
-- Times are integer Unix microseconds in UTC (the zero time.Time is stored as its own, very negative,
-- value). Blobs are opaque to the driver and never NULL. There are no foreign keys: the engine owns
-- all meaning, task and timer rows are hints checked against the execution when used, and
-- DeleteExecution removes a run's rows explicitly.

CREATE TABLE namespaces (
    name       TEXT    NOT NULL PRIMARY KEY,
    id         TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    data       BLOB    NOT NULL
);

-- One row per run, rewritten by every transition. The blobs come last, the state very last, so that
-- list queries read the small columns without walking the state's overflow pages.
CREATE TABLE executions (
    namespace         TEXT    NOT NULL,
    run_id            TEXT    NOT NULL,
    workflow_id       TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    workflow_type     TEXT    NOT NULL,
    task_queue        TEXT    NOT NULL,
    status            INTEGER NOT NULL,
    start_time        INTEGER NOT NULL,
    execution_time    INTEGER NOT NULL,
    close_time        INTEGER NOT NULL,
    history_length    INTEGER NOT NULL,
    memo              BLOB    NOT NULL,
    search_attributes BLOB    NOT NULL,
    state             BLOB    NOT NULL,
    PRIMARY KEY (namespace, run_id)
);

-- Visibility: newest first, ties by run ID, per namespace and per workflow ID.
CREATE INDEX executions_by_start_time ON executions (namespace, start_time DESC, run_id DESC);
CREATE INDEX executions_by_workflow_id ON executions (namespace, workflow_id, start_time DESC, run_id DESC);

-- The current-run pointer of each workflow ID.
CREATE TABLE current_runs (
    namespace        TEXT    NOT NULL,
    workflow_id      TEXT    NOT NULL,
    run_id           TEXT    NOT NULL,
    status           INTEGER NOT NULL,
    start_request_id TEXT    NOT NULL,
    start_time       INTEGER NOT NULL,
    PRIMARY KEY (namespace, workflow_id)
) WITHOUT ROWID;

-- Histories, clustered by run so that reading one is a scan of adjacent pages.
CREATE TABLE events (
    namespace TEXT    NOT NULL,
    run_id    TEXT    NOT NULL,
    event_id  INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (namespace, run_id, event_id)
) WITHOUT ROWID;

-- AUTOINCREMENT: IDs are never reused, even after the newest row is consumed, so a stale claim can
-- never consume a newer row that happens to get the same ID.
CREATE TABLE tasks (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace          TEXT    NOT NULL,
    queue              TEXT    NOT NULL,
    kind               INTEGER NOT NULL,
    workflow_id        TEXT    NOT NULL,
    run_id             TEXT    NOT NULL,
    scheduled_event_id INTEGER NOT NULL,
    attempt            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    visible_at         INTEGER NOT NULL,
    data               BLOB    NOT NULL
);

CREATE INDEX tasks_by_queue ON tasks (namespace, queue, kind, id);
CREATE INDEX tasks_by_run ON tasks (namespace, run_id);

CREATE TABLE timers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    fire_at     INTEGER NOT NULL,
    namespace   TEXT    NOT NULL,
    workflow_id TEXT    NOT NULL,
    run_id      TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    event_id    INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    data        BLOB    NOT NULL
);

CREATE INDEX timers_by_fire_at ON timers (fire_at, id);
CREATE INDEX timers_by_run ON timers (namespace, run_id);
