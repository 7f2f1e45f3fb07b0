// Package visibility holds Temporal's list filter language — the query string of
// ListWorkflowExecutions, ScanWorkflowExecutions and CountWorkflowExecutions — and the typed search
// attribute values the stores index.
//
// [Parse] turns a query into a [Query]: a filter expression, an optional ORDER BY and an optional
// GROUP BY, validated against the attribute types (the system attributes in [System] and a
// namespace's registered custom attributes). Every literal is converted to its attribute's type at
// parse time, so a bad query is refused with an [*Error] before any database sees it.
//
// [Compile] turns a Query into SQL fragments (a WHERE condition and an ORDER BY list) for one
// [Dialect], over the schema both store drivers share (see [Compile] for the contract). It is the one
// place in Duro that builds SQL text at run time, and it only ever writes fixed keywords, fixed
// column names and placeholders: every literal value and every attribute name travels as a bound
// parameter. FuzzParse checks that no input text reaches the SQL.
//
// Semantics follow Temporal's SQL visibility:
//
//   - a comparison on an attribute a run does not have is not true (SQL's NULL), and NOT keeps
//     that: NOT (A = 'x') matches only runs that have A, with another value;
//   - KeywordList: A = 'x' means "contains x", IN means "contains any of", != and NOT IN their
//     negations;
//   - Text is matched by tokens: A = 'quick fox' matches a text that contains both words
//     (case-insensitive); only = and != apply, and Text cannot be sorted;
//   - ExecutionStatus takes status names ('Running', 'Completed', …);
//   - datetimes are RFC 3339 strings (or integer Unix nanoseconds); ExecutionDuration takes integer
//     nanoseconds or a duration such as '1h30m' or '01:30:00'.
package visibility
