package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/visibility"
)

// searchRegistry is the custom attributes the search cases query (the store does not check a
// query against its registry: the engine parses queries with the registry it reads).
var searchRegistry = map[string]visibility.Type{
	"Kw": visibility.TypeKeyword, "N": visibility.TypeInt, "D": visibility.TypeDouble, "B": visibility.TypeBool,
	"T": visibility.TypeDatetime, "KL": visibility.TypeKeywordList, "Txt": visibility.TypeText,
}

// kw, num, … build search values.
func kw(name, s string) visibility.Value {
	return visibility.Value{Name: name, Type: visibility.TypeKeyword, Text: s}
}
func num(n int64) visibility.Value {
	return visibility.Value{Name: "N", Type: visibility.TypeInt, Int: n}
}
func dbl(d float64) visibility.Value {
	return visibility.Value{Name: "D", Type: visibility.TypeDouble, Double: d}
}
func boolean(b bool) visibility.Value {
	return visibility.Value{Name: "B", Type: visibility.TypeBool, Bool: b}
}
func datetime(t time.Time) visibility.Value {
	return visibility.Value{Name: "T", Type: visibility.TypeDatetime, Time: t}
}
func text(s string) visibility.Value {
	return visibility.Value{Name: "Txt", Type: visibility.TypeText, Text: s}
}
func keywordList(name string, elems ...string) []visibility.Value {
	var out []visibility.Value
	for _, e := range elems {
		out = append(out, visibility.Value{Name: name, Type: visibility.TypeKeywordList, Text: e})
	}
	return out
}

// populateSearch writes five runs with search values (and one in another namespace) and returns
// them by index: run i starts at minute i, so the default order lists them from 4 down to 0.
//
//	run  status     close  Kw        N   D    B      T    KL     Txt
//	0    Running    -      alpha     10  1.5  true   +1h  a b    The quick brown fox  (+ TemporalChangeVersion v1)
//	1    Completed  +10m   beta      20  2.5  false  +2h  b c    lazy dog
//	2    Failed     +20m   alphabet  -5                   c
//	3    Running    -      (none)
//	4    Completed  +5m    gamma     20                          Quick thinking
func populateSearch(f *fixture) []store.Execution {
	f.t.Helper()
	search := [][]visibility.Value{
		append(append([]visibility.Value{kw("Kw", "alpha"), num(10), dbl(1.5), boolean(true), datetime(at(time.Hour)),
			text("The quick brown fox")}, keywordList("KL", "a", "b")...), keywordList("TemporalChangeVersion", "v1")...),
		append([]visibility.Value{kw("Kw", "beta"), num(20), dbl(2.5), boolean(false), datetime(at(2 * time.Hour)),
			text("lazy dog")}, keywordList("KL", "b", "c")...),
		append([]visibility.Value{kw("Kw", "alphabet"), num(-5)}, keywordList("KL", "c")...),
		{},
		{kw("Kw", "gamma"), num(20), text("Quick thinking")},
	}
	statuses := []int32{1, 2, 3, 1, 2}
	closes := []time.Duration{0, 10 * time.Minute, 20 * time.Minute, 0, 5 * time.Minute}
	var runs []store.Execution
	var ts []*store.Transition
	for i := range search {
		e := f.newExecution(fmt.Sprintf("wf-%d", i))
		e.StartTime = at(time.Duration(i) * time.Minute)
		e.ExecutionTime = e.StartTime
		e.Status = statuses[i]
		if closes[i] > 0 {
			e.CloseTime = at(closes[i])
		}
		e.Search = search[i]
		ts = append(ts, f.start(e))
		e.Search, e.State = nil, nil
		runs = append(runs, e)
	}
	foreign := f.newExecution("wf-0")
	foreign.Namespace = "ns-other"
	foreign.Search = []visibility.Value{kw("Kw", "alpha"), num(10)}
	ts = append(ts, &store.Transition{Execution: foreign})
	f.mustApply(ts...)
	return runs
}

// parseQuery parses a query against searchRegistry.
func parseQuery(t *testing.T, q string) *visibility.Query {
	t.Helper()
	pq, err := visibility.Parse(q, searchRegistry)
	require.NoError(t, err, "parse %q", q)
	return pq
}

// listedRuns maps listed executions to their indexes in runs.
func listedRuns(t *testing.T, runs []store.Execution, got []store.Execution) []int {
	t.Helper()
	out := []int{}
	for _, g := range got {
		found := -1
		for i, r := range runs {
			if r.RunID == g.RunID {
				found = i
			}
		}
		require.NotEqual(t, -1, found, "listed run %s is not one of the populated runs", g.RunID)
		out = append(out, found)
	}
	return out
}

// testSearch covers search values, list filters and the custom attribute registry.
func (s *suite) testSearch(t *testing.T) {
	t.Parallel()

	t.Run("Filters", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		runs := populateSearch(f)
		ts := func(d time.Duration) string { return "'" + at(d).Format(time.RFC3339Nano) + "'" }
		cases := []struct {
			query string
			want  []int
		}{
			{"", []int{4, 3, 2, 1, 0}},
			{"Kw = 'alpha'", []int{0}},
			{"Kw != 'alpha'", []int{4, 2, 1}},
			{"Kw STARTS_WITH 'alpha'", []int{2, 0}},
			{"Kw NOT STARTS_WITH 'alpha'", []int{4, 1}},
			{"Kw IN ('beta', 'gamma')", []int{4, 1}},
			{"Kw NOT IN ('beta', 'gamma')", []int{2, 0}},
			{"Kw > 'alpha'", []int{4, 2, 1}},
			{"Kw IS NOT NULL", []int{4, 2, 1, 0}},
			{"Kw IS NULL", []int{3}},
			{"N >= 10", []int{4, 1, 0}},
			{"N BETWEEN -10 AND 10", []int{2, 0}},
			{"N NOT BETWEEN -10 AND 10", []int{4, 1}},
			{"N < 0", []int{2}},
			{"D > 2.0", []int{1}},
			{"D = 1.5", []int{0}},
			{"B = true", []int{0}},
			{"B = false", []int{1}},
			{"B != true", []int{1}},
			{"T > " + ts(90*time.Minute), []int{1}},
			{"T IS NULL", []int{4, 3, 2}},
			{"KL = 'b'", []int{1, 0}},
			{"KL IN ('a', 'c')", []int{2, 1, 0}},
			{"KL != 'c'", []int{0}},
			{"KL NOT IN ('a')", []int{2, 1}},
			{"KL IS NULL", []int{4, 3}},
			{"TemporalChangeVersion = 'v1'", []int{0}},
			{"Txt = 'quick'", []int{4, 0}},
			{"Txt = 'QUICK fox'", []int{0}},
			{"Txt = 'quick dog'", []int{}},
			{"Txt != 'quick'", []int{1}},
			{"ExecutionStatus = 'Running'", []int{3, 0}},
			{"ExecutionStatus IN ('Completed', 'Failed')", []int{4, 2, 1}},
			{"ExecutionStatus != 'Running' AND N = 20", []int{4, 1}},
			{"CloseTime IS NULL", []int{3, 0}},
			{"CloseTime > " + ts(7*time.Minute), []int{2, 1}},
			{"ExecutionDuration > '10m'", []int{2}},
			{"ExecutionDuration < 600000000000", []int{4, 1}},
			{"StartTime >= " + ts(2*time.Minute), []int{4, 3, 2}},
			{"StartTime BETWEEN " + ts(time.Minute) + " AND " + ts(3*time.Minute), []int{3, 2, 1}},
			{"WorkflowId = 'wf-1' OR (Kw = 'gamma' AND NOT N = 5)", []int{4, 1}},
			{"NOT (Kw = 'alpha' OR Kw = 'beta')", []int{4, 2}},
			{"RunId = '" + runs[3].RunID + "'", []int{3}},
			{"WorkflowType = 'OrderWorkflow' AND TaskQueue = 'orders' AND HistoryLength = 2", []int{4, 3, 2, 1, 0}},
			{"WorkflowType = 'Other'", []int{}},
		}
		for _, tc := range cases {
			t.Run(tc.query, func(t *testing.T) {
				filter := store.ExecutionFilter{Namespace: f.ns, Query: parseQuery(t, tc.query)}
				got, err := f.st.ListExecutions(f.ctx, filter)
				require.NoError(t, err)
				require.Equal(t, tc.want, listedRuns(t, runs, got))
				for i, g := range got {
					require.Empty(t, g.State, "list results leave State empty")
					requireExecution(t, runs[tc.want[i]], g)
				}
				n, err := f.st.CountExecutions(f.ctx, filter)
				require.NoError(t, err)
				require.Equal(t, int64(len(tc.want)), n, "CountExecutions")
			})
		}
	})

	t.Run("CombinedWithFilterFields", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		runs := populateSearch(f)
		q := parseQuery(t, "N = 20")
		got, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, WorkflowID: "wf-1", Query: q})
		require.NoError(t, err)
		require.Equal(t, []int{1}, listedRuns(t, runs, got))
		got, err = f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, Statuses: []int32{2}, Query: q})
		require.NoError(t, err)
		require.Equal(t, []int{4, 1}, listedRuns(t, runs, got))
		n, err := f.st.CountExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, WorkflowType: "Other", Query: q})
		require.NoError(t, err)
		require.Zero(t, n)
		// The other namespace's run is never listed.
		n, err = f.st.CountExecutions(f.ctx, store.ExecutionFilter{Namespace: "ns-other", Query: parseQuery(t, "Kw = 'alpha'")})
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
	})

	t.Run("OrderBy", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		runs := populateSearch(f)
		cases := []struct {
			query string
			want  []int
		}{
			// Missing values sort last; ties fall back to the default order.
			{"ORDER BY N DESC", []int{4, 1, 0, 2, 3}},
			{"ORDER BY N", []int{2, 0, 4, 1, 3}},
			{"ORDER BY Kw", []int{0, 2, 1, 4, 3}},
			{"Kw IS NOT NULL ORDER BY Kw DESC", []int{4, 1, 2, 0}},
			{"ORDER BY CloseTime DESC", []int{2, 1, 4, 3, 0}},
			{"ORDER BY ExecutionStatus, StartTime ASC", []int{0, 3, 1, 4, 2}},
			{"ORDER BY WorkflowId DESC", []int{4, 3, 2, 1, 0}},
			{"ORDER BY T DESC", []int{1, 0, 4, 3, 2}},
		}
		for _, tc := range cases {
			t.Run(tc.query, func(t *testing.T) {
				q := parseQuery(t, tc.query)
				got, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, Query: q})
				require.NoError(t, err)
				require.Equal(t, tc.want, listedRuns(t, runs, got))
				for _, size := range []int{1, 2, 3} {
					var paged []store.Execution
					for offset := 0; ; offset += size {
						require.Less(t, offset, 20, "paging does not end")
						page, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, Query: q, PageSize: size, Offset: offset})
						require.NoError(t, err)
						require.LessOrEqual(t, len(page), size)
						paged = append(paged, page...)
						if len(page) < size {
							break
						}
					}
					require.Equal(t, tc.want, listedRuns(t, runs, paged), "page size %d", size)
				}
			})
		}
	})

	t.Run("KeysetPaging", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		runs := populateSearch(f)
		q := parseQuery(t, "Kw IS NOT NULL OR ExecutionStatus = 'Running'")
		for _, size := range []int{1, 2, 3} {
			filter := store.ExecutionFilter{Namespace: f.ns, Query: q, PageSize: size}
			var got []store.Execution
			for pages := 0; ; pages++ {
				require.Less(t, pages, 20, "paging does not end")
				page, err := f.st.ListExecutions(f.ctx, filter)
				require.NoError(t, err)
				got = append(got, page...)
				if len(page) < size {
					break
				}
				last := page[len(page)-1]
				filter.After = &store.ListPosition{StartTime: last.StartTime, RunID: last.RunID}
			}
			require.Equal(t, []int{4, 3, 2, 1, 0}, listedRuns(t, runs, got), "page size %d", size)
		}
	})

	t.Run("GroupByStatus", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		populateSearch(f)
		got, err := f.st.CountExecutionsGroupBy(f.ctx, store.ExecutionFilter{Namespace: f.ns}, "ExecutionStatus")
		require.NoError(t, err)
		require.Equal(t, []store.GroupCount{{Status: 1, Count: 2}, {Status: 2, Count: 2}, {Status: 3, Count: 1}}, got)
		got, err = f.st.CountExecutionsGroupBy(f.ctx, store.ExecutionFilter{Namespace: f.ns, Query: parseQuery(t, "N >= 0 GROUP BY ExecutionStatus")}, "ExecutionStatus")
		require.NoError(t, err)
		require.Equal(t, []store.GroupCount{{Status: 1, Count: 1}, {Status: 2, Count: 2}}, got)
		got, err = f.st.CountExecutionsGroupBy(f.ctx, store.ExecutionFilter{Namespace: f.ns, Query: parseQuery(t, "Kw = 'none'")}, "ExecutionStatus")
		require.NoError(t, err)
		require.Empty(t, got)
		_, err = f.st.CountExecutionsGroupBy(f.ctx, store.ExecutionFilter{Namespace: f.ns}, "WorkflowType")
		require.Error(t, err)
	})

	t.Run("ReplaceKeepAndDelete", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		e := f.newExecution("wf-search")
		e.Search = []visibility.Value{kw("Kw", "one"), num(1)}
		f.mustApply(f.start(e))
		count := func(q string) int64 {
			t.Helper()
			n, err := f.st.CountExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, Query: parseQuery(t, q)})
			require.NoError(t, err)
			return n
		}
		require.Equal(t, int64(1), count("Kw = 'one' AND N = 1"))
		require.Nil(t, f.getExecution(e).Search, "reads leave Search nil")

		// nil keeps the values.
		e.Search = nil
		tr := next(e)
		f.mustApply(tr)
		require.Equal(t, int64(1), count("Kw = 'one' AND N = 1"))

		// A slice replaces them all.
		e2 := tr.Execution
		tr = next(e2)
		tr.Execution.Search = []visibility.Value{kw("Kw", "two")}
		f.mustApply(tr)
		require.Zero(t, count("Kw = 'one'"))
		require.Zero(t, count("N IS NOT NULL"))
		require.Equal(t, int64(1), count("Kw = 'two'"))

		// An empty slice removes them.
		e3 := tr.Execution
		e3.Search = nil
		tr = next(e3)
		tr.Execution.Search = []visibility.Value{}
		f.mustApply(tr)
		require.Zero(t, count("Kw IS NOT NULL"))

		// A conflicting transition writes nothing.
		stale := next(e3)
		stale.Execution.Search = []visibility.Value{kw("Kw", "stale")}
		require.ErrorIs(t, f.apply(stale)[0], store.ErrConflict)
		require.Zero(t, count("Kw = 'stale'"))

		// Deleting the run removes its values: a new run with the same ID starts without them.
		e4 := tr.Execution
		e4.Search = nil
		tr = next(e4)
		tr.Execution.Search = []visibility.Value{kw("Kw", "four")}
		f.mustApply(tr)
		require.NoError(t, f.st.DeleteExecution(f.ctx, e.Namespace, e.WorkflowID, e.RunID))
		e.Search = nil
		f.mustApply(f.start(e))
		require.Zero(t, count("Kw = 'four'"))
	})

	t.Run("Linked", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		first := f.create("wf-chain")
		closing := next(first)
		closing.Execution.Status = 6
		closing.Execution.CloseTime = at(time.Minute)
		second := f.newExecution("wf-chain")
		second.Search = []visibility.Value{kw("Kw", "carried")}
		closing.Linked = []*store.Transition{{Execution: second}}
		f.mustApply(closing)
		got, err := f.st.ListExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, Query: parseQuery(t, "Kw = 'carried'")})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, second.RunID, got[0].RunID)
	})

	t.Run("Strings", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		odd := `it's "quoted" ; -- % _ \ ü 日本 🙂`
		e := f.newExecution("wf-odd")
		e.Search = append([]visibility.Value{kw("Kw", odd)}, keywordList("KL", "%", "_")...)
		f.mustApply(f.start(e))
		count := func(q string, custom map[string]visibility.Type) int64 {
			t.Helper()
			pq, err := visibility.Parse(q, custom)
			require.NoError(t, err)
			n, err := f.st.CountExecutions(f.ctx, store.ExecutionFilter{Namespace: f.ns, Query: pq})
			require.NoError(t, err)
			return n
		}
		require.Equal(t, int64(1), count(`Kw = 'it''s "quoted" ; -- % _ \\ ü 日本 🙂'`, searchRegistry))
		require.Equal(t, int64(1), count(`Kw STARTS_WITH 'it''s "q'`, searchRegistry))
		// No pattern matching: % and _ are plain characters.
		require.Zero(t, count(`Kw STARTS_WITH '%'`, searchRegistry))
		require.Zero(t, count(`Kw STARTS_WITH 'IT'`, searchRegistry))
		require.Equal(t, int64(1), count(`KL = '%'`, searchRegistry))
		require.Zero(t, count(`KL = 'x'`, searchRegistry))
		// An attribute name is a parameter too.
		e2 := f.newExecution("wf-odd-name")
		e2.Search = []visibility.Value{kw("a'b; DROP TABLE search_values", "v")}
		f.mustApply(f.start(e2))
		require.Equal(t, int64(1), count("`a'b; DROP TABLE search_values` = 'v'",
			map[string]visibility.Type{"a'b; DROP TABLE search_values": visibility.TypeKeyword}))
	})

	t.Run("Registry", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		list := func(ns string) map[string]visibility.Type {
			t.Helper()
			got, err := f.st.ListSearchAttributes(f.ctx, ns)
			require.NoError(t, err)
			return got
		}
		require.Empty(t, list(f.ns))
		require.NoError(t, f.st.AddSearchAttributes(f.ctx, f.ns, map[string]visibility.Type{
			"CustomerId": visibility.TypeKeyword, "Amount": visibility.TypeDouble}))
		require.NoError(t, f.st.AddSearchAttributes(f.ctx, "ns-other", map[string]visibility.Type{"Amount": visibility.TypeInt}))
		want := map[string]visibility.Type{"CustomerId": visibility.TypeKeyword, "Amount": visibility.TypeDouble}
		require.Equal(t, want, list(f.ns))
		require.Equal(t, map[string]visibility.Type{"Amount": visibility.TypeInt}, list("ns-other"))

		// The same name and type again is a no-op; another type fails the whole call.
		require.NoError(t, f.st.AddSearchAttributes(f.ctx, f.ns, map[string]visibility.Type{"CustomerId": visibility.TypeKeyword}))
		err := f.st.AddSearchAttributes(f.ctx, f.ns, map[string]visibility.Type{
			"Amount": visibility.TypeInt, "Tags": visibility.TypeKeywordList})
		require.ErrorIs(t, err, store.ErrAlreadyExists)
		require.Equal(t, want, list(f.ns))

		require.NoError(t, f.st.AddSearchAttributes(f.ctx, f.ns, map[string]visibility.Type{"Tags": visibility.TypeKeywordList}))
		want["Tags"] = visibility.TypeKeywordList
		require.Equal(t, want, list(f.ns))

		// Removing a name that is not registered fails the whole call.
		err = f.st.RemoveSearchAttributes(f.ctx, f.ns, []string{"Tags", "Missing"})
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Equal(t, want, list(f.ns))
		require.NoError(t, f.st.RemoveSearchAttributes(f.ctx, f.ns, []string{"Tags", "Amount"}))
		require.Equal(t, map[string]visibility.Type{"CustomerId": visibility.TypeKeyword}, list(f.ns))
		require.Equal(t, map[string]visibility.Type{"Amount": visibility.TypeInt}, list("ns-other"))
	})
}
