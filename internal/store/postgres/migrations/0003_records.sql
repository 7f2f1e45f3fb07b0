-- 0003: records, the small named documents the engine keeps beside executions (a state machine,
-- an activity, a schedule, a batch operation), keyed by namespace, kind and name. Data is opaque.
--
-- The key columns use the "C" collation so that names sort in byte order (UTF-8) whatever the
-- database's locale, as they do in SQLite and as listings page. wake_at is NULL when the record's
-- owner never wants to look at it again; only set rows are in the due index.

CREATE TABLE records (
    namespace  text COLLATE "C" NOT NULL,
    kind       text COLLATE "C" NOT NULL,
    name       text COLLATE "C" NOT NULL,
    version    bigint           NOT NULL,
    wake_at    timestamptz,
    created_at timestamptz      NOT NULL,
    updated_at timestamptz      NOT NULL,
    data       bytea,
    PRIMARY KEY (namespace, kind, name)
);

-- ListDueRecords: the earliest wake-ups of one kind in every namespace, ties by namespace, name.
CREATE INDEX records_by_wake_at ON records (kind, wake_at, namespace, name) WHERE wake_at IS NOT NULL;
