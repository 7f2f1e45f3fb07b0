-- 0002: search attributes. The values a run is searched by, one row per value (a KeywordList has a
-- row per element, a Text one per distinct token), and each namespace's registry of custom
-- attributes. internal/visibility compiles list queries against these names (see its Compile).
--
-- A value is in the column of its type: text_value for Keyword, KeywordList and Text, int_value,
-- double_value, bool_value (0 or 1), time_value (integer Unix microseconds, like the executions
-- table). The other columns are NULL.

CREATE TABLE search_values (
    namespace    TEXT    NOT NULL,
    run_id       TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    text_value   TEXT,
    int_value    INTEGER,
    double_value REAL,
    bool_value   INTEGER,
    time_value   INTEGER,
    PRIMARY KEY (namespace, run_id, name, seq)
) WITHOUT ROWID;

-- Filtering: "which runs of this namespace have this attribute with this value (or in this range)".
CREATE INDEX search_values_by_text ON search_values (namespace, name, text_value) WHERE text_value IS NOT NULL;
CREATE INDEX search_values_by_int ON search_values (namespace, name, int_value) WHERE int_value IS NOT NULL;
CREATE INDEX search_values_by_double ON search_values (namespace, name, double_value) WHERE double_value IS NOT NULL;
CREATE INDEX search_values_by_time ON search_values (namespace, name, time_value) WHERE time_value IS NOT NULL;

-- Custom search attributes registered per namespace: type is the IndexedValueType number.
CREATE TABLE search_attributes (
    namespace TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    type      INTEGER NOT NULL,
    PRIMARY KEY (namespace, name)
) WITHOUT ROWID;
