package visibility

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// custom is the registry the tests parse against.
var custom = map[string]Type{
	"CustomKeyword": TypeKeyword, "CustomText": TypeText, "CustomInt": TypeInt, "CustomDouble": TypeDouble,
	"CustomBool": TypeBool, "CustomDatetime": TypeDatetime, "CustomKeywordList": TypeKeywordList,
	"my attr": TypeKeyword,
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	kw := Attr{Name: "CustomKeyword", Type: TypeKeyword}
	wid := Attr{Name: "WorkflowId", Type: TypeKeyword, Column: ColWorkflowID}
	status := Attr{Name: "ExecutionStatus", Type: TypeKeyword, Column: ColStatus}
	tests := []struct {
		query string
		want  *Query
	}{
		{"", &Query{}},
		{"   ", &Query{}},
		{"WorkflowId = 'a'", &Query{Where: &Compare{Attr: wid, Op: OpEq, Values: []Literal{{Text: "a"}}}}},
		{`WorkflowId = "double"`, &Query{Where: &Compare{Attr: wid, Op: OpEq, Values: []Literal{{Text: "double"}}}}},
		{`WorkflowId='it''s' `, &Query{Where: &Compare{Attr: wid, Op: OpEq, Values: []Literal{{Text: "it's"}}}}},
		{`WorkflowId = 'back\'slash\\'`, &Query{Where: &Compare{Attr: wid, Op: OpEq, Values: []Literal{{Text: `back'slash\`}}}}},
		{"WorkflowId <> 'a'", &Query{Where: &Compare{Attr: wid, Op: OpNe, Values: []Literal{{Text: "a"}}}}},
		{"`CustomKeyword` != 'x'", &Query{Where: &Compare{Attr: kw, Op: OpNe, Values: []Literal{{Text: "x"}}}}},
		{"`my attr` = 'x'", &Query{Where: &Compare{Attr: Attr{Name: "my attr", Type: TypeKeyword}, Op: OpEq, Values: []Literal{{Text: "x"}}}}},
		{"ExecutionStatus = 'Running'", &Query{Where: &Compare{Attr: status, Op: OpEq, Values: []Literal{{Int: 1, Text: "Running"}}}}},
		{"ExecutionStatus in ('completed', 'TimedOut')", &Query{Where: &Compare{Attr: status, Op: OpIn,
			Values: []Literal{{Int: 2, Text: "Completed"}, {Int: 7, Text: "TimedOut"}}}}},
		{"CustomInt BETWEEN -5 AND 10", &Query{Where: &Compare{Attr: Attr{Name: "CustomInt", Type: TypeInt}, Op: OpBetween,
			Values: []Literal{{Int: -5}, {Int: 10}}}}},
		{"CustomDouble NOT BETWEEN 1.5 AND 2e3", &Query{Where: &Compare{Attr: Attr{Name: "CustomDouble", Type: TypeDouble}, Op: OpNotBetween,
			Values: []Literal{{Double: 1.5}, {Double: 2000}}}}},
		{"CustomBool = true", &Query{Where: &Compare{Attr: Attr{Name: "CustomBool", Type: TypeBool}, Op: OpEq, Values: []Literal{{Bool: true}}}}},
		{"CustomBool = 'FALSE'", &Query{Where: &Compare{Attr: Attr{Name: "CustomBool", Type: TypeBool}, Op: OpEq, Values: []Literal{{Bool: false}}}}},
		{"StartTime > '2026-01-02T03:04:05.5+01:00'", &Query{Where: &Compare{
			Attr: Attr{Name: "StartTime", Type: TypeDatetime, Column: ColStartTime}, Op: OpGt,
			Values: []Literal{{Time: time.Date(2026, 1, 2, 2, 4, 5, 500000000, time.UTC)}}}}},
		{"ExecutionDuration > '1h30m'", &Query{Where: &Compare{Attr: Attr{Name: "ExecutionDuration", Type: TypeInt, Column: ColExecutionDuration},
			Op: OpGt, Values: []Literal{{Int: int64(90 * time.Minute)}}}}},
		{"ExecutionDuration < '00:00:02'", &Query{Where: &Compare{Attr: Attr{Name: "ExecutionDuration", Type: TypeInt, Column: ColExecutionDuration},
			Op: OpLt, Values: []Literal{{Int: int64(2 * time.Second)}}}}},
		{"CloseTime IS NULL", &Query{Where: &Compare{Attr: Attr{Name: "CloseTime", Type: TypeDatetime, Column: ColCloseTime}, Op: OpIsNull}}},
		{"CustomKeyword is not null", &Query{Where: &Compare{Attr: kw, Op: OpIsNotNull}}},
		{"CustomKeyword STARTS_WITH 'pre'", &Query{Where: &Compare{Attr: kw, Op: OpStartsWith, Values: []Literal{{Text: "pre"}}}}},
		{"CustomKeyword NOT STARTS_WITH 'pre'", &Query{Where: &Compare{Attr: kw, Op: OpNotStartsWith, Values: []Literal{{Text: "pre"}}}}},
		{"WorkflowId = 'a' OR WorkflowId = 'b' AND NOT CustomKeyword = 'c'", &Query{Where: &Or{
			Left: &Compare{Attr: wid, Op: OpEq, Values: []Literal{{Text: "a"}}},
			Right: &And{
				Left:  &Compare{Attr: wid, Op: OpEq, Values: []Literal{{Text: "b"}}},
				Right: &Not{X: &Compare{Attr: kw, Op: OpEq, Values: []Literal{{Text: "c"}}}},
			}}}},
		{"(WorkflowId = 'a' OR WorkflowId = 'b') AND CustomKeyword NOT IN ('c')", &Query{Where: &And{
			Left: &Or{
				Left:  &Compare{Attr: wid, Op: OpEq, Values: []Literal{{Text: "a"}}},
				Right: &Compare{Attr: wid, Op: OpEq, Values: []Literal{{Text: "b"}}},
			},
			Right: &Compare{Attr: kw, Op: OpNotIn, Values: []Literal{{Text: "c"}}},
		}}},
		{"order by CustomInt desc, WorkflowId", &Query{OrderBy: []Order{
			{Attr: Attr{Name: "CustomInt", Type: TypeInt}, Desc: true}, {Attr: wid}}}},
		{"CustomKeyword = 'x' ORDER BY StartTime ASC", &Query{
			Where:   &Compare{Attr: kw, Op: OpEq, Values: []Literal{{Text: "x"}}},
			OrderBy: []Order{{Attr: Attr{Name: "StartTime", Type: TypeDatetime, Column: ColStartTime}}}}},
		{"GROUP BY ExecutionStatus", &Query{GroupBy: []Attr{status}}},
		{"WorkflowType = 'w' group by ExecutionStatus", &Query{
			Where:   &Compare{Attr: Attr{Name: "WorkflowType", Type: TypeKeyword, Column: ColWorkflowType}, Op: OpEq, Values: []Literal{{Text: "w"}}},
			GroupBy: []Attr{status}}},
		{"TemporalChangeVersion = 'change-1'", &Query{Where: &Compare{Attr: Attr{Name: "TemporalChangeVersion", Type: TypeKeywordList},
			Op: OpEq, Values: []Literal{{Text: "change-1"}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			got, err := Parse(tc.query, custom)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ query, msg string }{
		{"WorkflowId", `invalid query: expected an operator after WorkflowId at position 10, found end of query`},
		{"Unknown = 'x'", `invalid query: invalid search attribute: "Unknown" is not defined`},
		{"customkeyword = 'x'", `invalid query: invalid search attribute: "customkeyword" is not defined`},
		{"WorkflowId = 'x", `invalid query: unterminated string at position 13`},
		{"WorkflowId = 5", `invalid query: invalid value "5" for search attribute WorkflowId of type Keyword: expected a string`},
		{"CustomInt = 'five'", `invalid query: invalid value "five" for search attribute CustomInt of type Int: expected an integer`},
		{"CustomInt = 1.5", `invalid query: invalid value "1.5" for search attribute CustomInt of type Int: expected an integer`},
		{"CustomDouble = 'x'", `invalid query: invalid value "x" for search attribute CustomDouble of type Double: expected a number`},
		{"CustomBool = 1", `invalid query: invalid value "1" for search attribute CustomBool of type Bool: expected true or false`},
		{"CustomDatetime > 'yesterday'", `invalid query: invalid value "yesterday" for search attribute CustomDatetime of type Datetime: expected an RFC 3339 datetime such as '2026-01-02T15:04:05Z'`},
		{"ExecutionStatus = 'Sleeping'", `invalid query: invalid value "Sleeping" for search attribute ExecutionStatus of type Keyword: expected a status name such as 'Running'`},
		{"ExecutionStatus > 'Running'", `invalid query: operator '>' not allowed for "ExecutionStatus" of type Keyword`},
		{"CustomText > 'a'", `invalid query: operator '>' not allowed for "CustomText" of type Text`},
		{"CustomText = '...'", `invalid query: invalid value "..." for search attribute CustomText of type Text: expected a text with at least one word`},
		{"CustomKeywordList STARTS_WITH 'a'", `invalid query: operator 'STARTS_WITH' not allowed for "CustomKeywordList" of type KeywordList`},
		{"CustomInt STARTS_WITH '1'", `invalid query: operator 'STARTS_WITH' not allowed for "CustomInt" of type Int`},
		{"CustomBool < true", `invalid query: operator '<' not allowed for "CustomBool" of type Bool`},
		{"WorkflowId LIKE 'a%'", `invalid query: operator 'like' not allowed: use STARTS_WITH`},
		{"WorkflowId = 'a' AND", `invalid query: expected a search attribute name at position 20, found end of query`},
		{"(WorkflowId = 'a'", `invalid query: expected ')' at position 17, found end of query`},
		{"WorkflowId = 'a')", `invalid query: unexpected ")" at position 16`},
		{"WorkflowId IN ()", `invalid query: expected a value at position 15, found ")"`},
		{"WorkflowId IN ('a' 'b')", `invalid query: expected ',' or ')' in IN list at position 19, found a string`},
		{"WorkflowId NOT = 'a'", `invalid query: expected IN, BETWEEN or STARTS_WITH after NOT at position 15, found "="`},
		{"WorkflowId BETWEEN 'a' 'b'", `invalid query: expected AND at position 23, found a string`},
		{"WorkflowId ! 'a'", `invalid query: unexpected '!' at position 11 (did you mean !=?)`},
		{"WorkflowId = 'a' ; DROP TABLE executions", `invalid query: unexpected character ';' at position 17`},
		{"ORDER BY CustomText", `invalid query: unable to sort by field of Text type, use field of type Keyword`},
		{"ORDER BY CustomKeywordList", `invalid query: unable to sort by field of KeywordList type, use field of type Keyword`},
		{"GROUP BY WorkflowType", `invalid query: 'GROUP BY' clause is only supported for ExecutionStatus`},
		{"GROUP BY ExecutionStatus ORDER BY StartTime", `invalid query: 'ORDER BY' clause is not supported with 'GROUP BY'`},
		{"ORDER StartTime", `invalid query: expected BY at position 6, found "StartTime"`},
		{"and = 'x'", `invalid query: expected a search attribute name at position 0, found "and"`},
		{"WorkflowId = 'a' LIMIT 5", `invalid query: unexpected "LIMIT" at position 17`},
		{"CustomInt = 5abc", `invalid query: malformed number at position 12`},
		{"`` = 'a'", `invalid query: empty quoted name at position 0`},
		{"`CustomKeyword = 'a'", "invalid query: unterminated quoted name at position 0"},
		{"CustomInt = 99999999999999999999", `invalid query: invalid value "99999999999999999999" for search attribute CustomInt of type Int: expected an integer`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			_, err := Parse(tc.query, custom)
			require.Error(t, err)
			var qe *Error
			require.True(t, errors.As(err, &qe), "want a *visibility.Error, got %T", err)
			require.Equal(t, tc.msg, err.Error())
		})
	}
}

func TestParseDepthLimit(t *testing.T) {
	t.Parallel()
	q := ""
	for range 200 {
		q += "("
	}
	_, err := Parse(q+"WorkflowId = 'a'", nil)
	require.EqualError(t, err, "invalid query: query is nested more than 100 levels deep")
	q = ""
	for range 200 {
		q += "NOT "
	}
	_, err = Parse(q+"WorkflowId = 'a'", nil)
	require.EqualError(t, err, "invalid query: query is nested more than 100 levels deep")
}

func TestTokens(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"the", "quick", "fox", "42"}, Tokens("The quick-fox, the 42!"))
	require.Empty(t, Tokens(" ... "))
	require.Equal(t, []string{"日本"}, Tokens("日本"))
}

func TestParseType(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"KeywordList", "keywordlist", "INDEXED_VALUE_TYPE_KEYWORD_LIST"} {
		typ, ok := ParseType(s)
		require.True(t, ok, s)
		require.Equal(t, TypeKeywordList, typ)
	}
	_, ok := ParseType("Float")
	require.False(t, ok)
	require.Equal(t, "Datetime", TypeDatetime.String())
}
