package visibility

import (
	"context"
	"database/sql"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // the SQLite the compiled SQL runs on
)

func TestCompileGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query   string
		dialect Dialect
		where   string
		order   string
		args    []any
	}{
		{"", SQLite, "1=1", "e.start_time DESC, e.run_id DESC", nil},
		{"WorkflowId = 'a' AND ExecutionStatus != 'Running'", PostgreSQL,
			"((e.workflow_id = $3) AND (NOT (e.status = $4)))", "e.start_time DESC, e.run_id DESC",
			[]any{"a", int64(1)}},
		{"CustomKeyword = 'x' ORDER BY CustomInt DESC", SQLite,
			"EXISTS (SELECT 1 FROM search_values s WHERE s.namespace = e.namespace AND s.run_id = e.run_id AND s.name = ?3 AND s.text_value = ?4)",
			"(SELECT s.int_value FROM search_values s WHERE s.namespace = e.namespace AND s.run_id = e.run_id AND s.name = ?5 LIMIT 1) DESC NULLS LAST, e.start_time DESC, e.run_id DESC",
			[]any{"CustomKeyword", "x", "CustomInt"}},
		{"CloseTime > '2026-01-01T00:00:00Z'", SQLite,
			"(e.close_time <> " + zeroMicros + " AND e.close_time > ?3)", "e.start_time DESC, e.run_id DESC",
			[]any{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()}},
		{"NOT CustomKeywordList = 'a'", PostgreSQL,
			"(EXISTS (SELECT 1 FROM search_values s WHERE s.namespace = e.namespace AND s.run_id = e.run_id AND s.name = $3 AND 1=1) AND NOT " +
				"EXISTS (SELECT 1 FROM search_values s WHERE s.namespace = e.namespace AND s.run_id = e.run_id AND s.name = $3 AND s.text_value = $4))",
			"e.start_time DESC, e.run_id DESC", []any{"CustomKeywordList", "a"}},
		{"CustomKeyword STARTS_WITH 'ab'", SQLite,
			"EXISTS (SELECT 1 FROM search_values s WHERE s.namespace = e.namespace AND s.run_id = e.run_id AND s.name = ?3 AND substr(s.text_value, 1, length(?4)) = ?4)",
			"e.start_time DESC, e.run_id DESC", []any{"CustomKeyword", "ab"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, err := Parse(tc.query, custom)
			require.NoError(t, err)
			got, err := Compile(q, tc.dialect, 3)
			require.NoError(t, err)
			require.Equal(t, tc.where, got.Where)
			require.Equal(t, tc.order, got.OrderBy)
			require.Equal(t, tc.args, got.Args)
		})
	}
}

// testDB is an in-memory SQLite with the tables the compiler writes against, and a few runs.
func testDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Exec(`
CREATE TABLE executions (namespace TEXT, run_id TEXT, workflow_id TEXT, workflow_type TEXT, task_queue TEXT,
    status INTEGER, start_time INTEGER, execution_time INTEGER, close_time INTEGER, history_length INTEGER);
CREATE TABLE search_values (namespace TEXT, run_id TEXT, name TEXT, seq INTEGER, text_value TEXT, int_value INTEGER,
    double_value REAL, bool_value INTEGER, time_value INTEGER);`)
	require.NoError(t, err)
	zero := time.Time{}.UnixMicro()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	runs := []struct {
		run, wid, status string
		closed           bool
	}{{"r1", "a", "Running", false}, {"r2", "b", "Completed", true}, {"r3", "c", "Failed", true}}
	for i, r := range runs {
		closeTime := zero
		if r.closed {
			closeTime = t0.Add(time.Duration(i) * time.Hour).UnixMicro()
		}
		_, err := db.Exec(`INSERT INTO executions VALUES ('ns', ?, ?, 'W', 'q', ?, ?, ?, ?, 3)`,
			r.run, r.wid, Statuses[r.status], t0.Add(time.Duration(i)*time.Minute).UnixMicro(), t0.UnixMicro(), closeTime)
		require.NoError(t, err)
	}
	for _, v := range []struct {
		run, name, text string
		n               int64
	}{{"r1", "CustomKeyword", "x", 0}, {"r2", "CustomKeyword", "y", 0}, {"r1", "CustomInt", "", 5},
		{"r1", "CustomKeywordList", "a", 0}, {"r1", "CustomKeywordList", "b", 0}, {"r2", "CustomText", "quick", 0},
		{"r2", "CustomText", "fox", 0}} {
		_, err := db.Exec(`INSERT INTO search_values VALUES ('ns', ?, ?, 0, ?, ?, NULL, NULL, NULL)`, v.run, v.name, v.text, v.n)
		require.NoError(t, err)
	}
	return db
}

// runQuery runs a compiled query on db and returns the matching run IDs in order.
func runQuery(t testing.TB, db *sql.DB, c *SQL) ([]string, error) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT e.run_id FROM executions e WHERE e.namespace = ?1 AND "+
		c.Where+" ORDER BY "+c.OrderBy+" LIMIT ?2", append([]any{"ns", int64(100)}, c.Args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func TestCompileRunsOnSQLite(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"r3", "r2", "r1"}},
		{"CustomKeyword = 'x'", []string{"r1"}},
		{"CustomKeyword != 'x'", []string{"r2"}},
		{"NOT CustomKeyword = 'x'", []string{"r2"}},
		// r2 has CustomKeyword 'y' but no CustomInt: TRUE AND NULL is not true, as in SQL.
		{"NOT (CustomKeyword = 'x' OR CustomInt = 5)", nil},
		{"NOT (CustomKeyword = 'x' AND CustomInt = 5)", []string{"r2"}},
		{"CustomKeyword IS NULL", []string{"r3"}},
		{"NOT CustomKeyword IS NULL", []string{"r2", "r1"}},
		{"CustomKeywordList = 'b'", []string{"r1"}},
		{"CustomKeywordList IN ('z', 'a')", []string{"r1"}},
		{"CustomKeywordList != 'z'", []string{"r1"}},
		{"CustomKeywordList NOT IN ('a')", nil},
		{"CustomText = 'Fox QUICK'", []string{"r2"}},
		{"CustomText = 'fox jumps'", nil},
		{"CustomText != 'jumps'", []string{"r2"}},
		{"CloseTime IS NULL", []string{"r1"}},
		{"CloseTime IS NOT NULL ORDER BY CloseTime ASC", []string{"r2", "r3"}},
		{"CloseTime < '2030-01-01T00:00:00Z'", []string{"r3", "r2"}},
		{"NOT CloseTime < '2030-01-01T00:00:00Z'", nil},
		{"ExecutionDuration > '90m'", []string{"r3"}},
		{"ExecutionStatus IN ('Running', 'Failed')", []string{"r3", "r1"}},
		{"ExecutionStatus = 'Completed' OR CustomInt BETWEEN 1 AND 5", []string{"r2", "r1"}},
		{"WorkflowId STARTS_WITH 'b'", []string{"r2"}},
		{"WorkflowId NOT STARTS_WITH 'b'", []string{"r3", "r1"}},
		{"ORDER BY CustomKeyword DESC", []string{"r2", "r1", "r3"}},
		{"ORDER BY CustomKeyword", []string{"r1", "r2", "r3"}},
		{"ORDER BY WorkflowId", []string{"r1", "r2", "r3"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, err := Parse(tc.query, custom)
			require.NoError(t, err)
			c, err := Compile(q, SQLite, 3)
			require.NoError(t, err)
			got, err := runQuery(t, db, c)
			require.NoError(t, err, "where %s", c.Where)
			require.Equal(t, tc.want, got)
		})
	}
}

// sqlToken matches the pieces compiled SQL may be made of.
var sqlToken = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z_0-9.]*|\$[0-9]+|\?[0-9]+|-?[0-9]+|::|<=|>=|<>|[()=<>,*\-])`)

// sqlWords are the only words compiled SQL may contain: keywords, functions, table and column names.
var sqlWords = func() map[string]bool {
	words := map[string]bool{}
	for _, w := range strings.Fields(`EXISTS SELECT FROM WHERE AND OR NOT IN BETWEEN IS NULL NULLS LAST ASC DESC CASE WHEN THEN END
		LIMIT EXTRACT EPOCH bigint substr length starts_with search_values s e s.namespace s.run_id s.name s.text_value
		s.int_value s.double_value s.bool_value s.time_value e.namespace e.run_id e.workflow_id e.workflow_type
		e.task_queue e.status e.start_time e.execution_time e.close_time e.history_length`) {
		words[w] = true
	}
	return words
}()

// requireOnlySQL fails unless s is made of fixed SQL words, numbers the compiler writes itself,
// operators and placeholders numbered first..first+nargs-1, each used.
func requireOnlySQL(t *testing.T, s string, d Dialect, first, nargs int) {
	t.Helper()
	used := map[int]bool{}
	for rest := strings.TrimSpace(s); rest != ""; rest = strings.TrimSpace(rest) {
		tok := sqlToken.FindString(rest)
		require.NotEmpty(t, tok, "unexpected text in SQL at %q (SQL: %s)", rest, s)
		rest = rest[len(tok):]
		switch {
		case tok[0] == '$' || tok[0] == '?':
			require.Equal(t, map[Dialect]byte{SQLite: '?', PostgreSQL: '$'}[d], tok[0], "placeholder style")
			n, err := strconv.Atoi(tok[1:])
			require.NoError(t, err)
			require.True(t, n >= first && n < first+nargs, "placeholder %s out of range", tok)
			used[n] = true
		case tok[0] == '-' && len(tok) > 1 || tok[0] >= '0' && tok[0] <= '9':
			require.Contains(t, []string{"0", "1", "1000", "1000000000", zeroMicros}, tok, "number in SQL")
		case tok[0] == '_' || tok[0] >= 'A' && tok[0] <= 'Z' || tok[0] >= 'a' && tok[0] <= 'z':
			require.True(t, sqlWords[tok], "word %q in SQL", tok)
		}
	}
	require.Len(t, used, nargs, "every argument has its placeholder")
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "WorkflowId = 'a'", "ExecutionStatus = 'Running' AND CustomInt > 5 OR NOT (CustomKeyword IN ('a', \"b\"))",
		"CustomText = 'quick fox' ORDER BY CustomDouble DESC", "CloseTime BETWEEN '2026-01-01T00:00:00Z' AND '2027-01-01T00:00:00Z'",
		"CustomKeywordList NOT IN ('x') GROUP BY ExecutionStatus", "`my attr` STARTS_WITH 'p%_'",
		"CustomBool = true AND CustomDatetime IS NOT NULL", "ExecutionDuration >= '01:00:00'", "WorkflowId = 'x'') OR 1=1 --'",
		"CustomKeyword = '\\'; DROP TABLE executions; --'", "CustomDouble < -1.5e3", "ORDER BY CloseTime, CustomKeyword ASC",
	} {
		f.Add(seed)
	}
	db := testDB(f)
	f.Fuzz(func(t *testing.T, query string) {
		q, err := Parse(query, custom)
		if err != nil {
			_, ok := err.(*Error)
			require.True(t, ok, "Parse errors are *Error, got %T: %v", err, err)
			return
		}
		for _, d := range []Dialect{SQLite, PostgreSQL} {
			c, err := Compile(q, d, 3)
			require.NoError(t, err)
			requireOnlySQL(t, c.Where+" "+c.OrderBy, d, 3, len(c.Args))
			if d == SQLite {
				_, err := runQuery(t, db, c)
				require.NoError(t, err, "compiled SQL runs: WHERE %s ORDER BY %s", c.Where, c.OrderBy)
			}
		}
	})
}
