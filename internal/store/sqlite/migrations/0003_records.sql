-- 0003: records, the small named documents the engine keeps beside executions (a state machine,
-- an activity, a schedule, a batch operation), keyed by namespace, kind and name. Data is opaque.
--
-- Text compares with SQLite's BINARY collation, so names sort in byte order (UTF-8), as listings
-- page. Times are integer Unix microseconds in UTC, like the other tables; wake_at is NULL when
-- the record's owner never wants to look at it again, and only set rows are in the due index.

CREATE TABLE records (
    namespace  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    wake_at    INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    data       BLOB    NOT NULL,
    PRIMARY KEY (namespace, kind, name)
);

-- ListDueRecords: the earliest wake-ups of one kind in every namespace, ties by namespace, name.
CREATE INDEX records_by_wake_at ON records (kind, wake_at, namespace, name) WHERE wake_at IS NOT NULL;
