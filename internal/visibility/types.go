package visibility

import (
	"strings"
	"time"
	"unicode"
)

// Type is a search attribute's type. The numbers are Temporal's IndexedValueType
// (go.temporal.io/api/enums/v1), so a Type converts to and from it directly.
type Type int32

// The search attribute types.
const (
	TypeUnspecified Type = 0
	TypeText        Type = 1
	TypeKeyword     Type = 2
	TypeInt         Type = 3
	TypeDouble      Type = 4
	TypeBool        Type = 5
	TypeDatetime    Type = 6
	TypeKeywordList Type = 7
)

var typeNames = map[Type]string{
	TypeText: "Text", TypeKeyword: "Keyword", TypeInt: "Int", TypeDouble: "Double",
	TypeBool: "Bool", TypeDatetime: "Datetime", TypeKeywordList: "KeywordList",
}

// String returns Temporal's name of the type ("Keyword", "Int", …).
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return "Unspecified"
}

// Valid reports whether t is one of the seven attribute types.
func (t Type) Valid() bool { _, ok := typeNames[t]; return ok }

// ParseType returns the type named s ("Keyword", "keyword", "INDEXED_VALUE_TYPE_KEYWORD", …).
func ParseType(s string) (Type, bool) {
	s = strings.TrimPrefix(strings.ToLower(s), "indexed_value_type_")
	s = strings.ReplaceAll(s, "_", "")
	for t, n := range typeNames {
		if strings.ToLower(n) == s {
			return t, true
		}
	}
	return TypeUnspecified, false
}

// Value is one indexed value of a run's search attribute, as the stores keep it. A KeywordList
// attribute has one Value per element (all with the same Name); every other attribute has one.
// Only the field of the value's Type is meaningful: Text for Keyword, KeywordList and Text, Int,
// Double, Bool, Time for Datetime.
type Value struct {
	Name   string
	Type   Type
	Text   string
	Int    int64
	Double float64
	Bool   bool
	Time   time.Time
}

// Tokens splits a Text value into the lower-cased words it is matched by: maximal runs of letters
// and digits. The stores index a Text attribute as its distinct tokens, and a Text comparison
// matches when every token of the literal is among them.
func Tokens(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// Column names a system attribute stored as a column of the executions table.
type Column int

// The column-backed system attributes.
const (
	ColNone Column = iota // not a column: the value is in the search values table
	ColWorkflowID
	ColRunID
	ColWorkflowType
	ColTaskQueue
	ColStatus
	ColStartTime
	ColExecutionTime
	ColCloseTime
	ColHistoryLength
	ColExecutionDuration
)

// SystemAttribute describes one of Temporal's system (predefined) search attributes.
type SystemAttribute struct {
	Type Type
	// Column is the executions column the attribute is read from, or ColNone for the predefined
	// attributes that are written like custom ones (TemporalChangeVersion, BuildIds, …).
	Column Column
}

// System lists the system search attributes Duro serves: the ones it keeps as execution columns
// and the predefined ones the SDKs and schedules upsert without registering them. Custom attributes
// may not take these names.
var System = map[string]SystemAttribute{
	"WorkflowId":        {TypeKeyword, ColWorkflowID},
	"RunId":             {TypeKeyword, ColRunID},
	"WorkflowType":      {TypeKeyword, ColWorkflowType},
	"TaskQueue":         {TypeKeyword, ColTaskQueue},
	"ExecutionStatus":   {TypeKeyword, ColStatus},
	"StartTime":         {TypeDatetime, ColStartTime},
	"ExecutionTime":     {TypeDatetime, ColExecutionTime},
	"CloseTime":         {TypeDatetime, ColCloseTime},
	"HistoryLength":     {TypeInt, ColHistoryLength},
	"ExecutionDuration": {TypeInt, ColExecutionDuration},

	"TemporalChangeVersion":      {TypeKeywordList, ColNone},
	"BinaryChecksums":            {TypeKeywordList, ColNone},
	"BuildIds":                   {TypeKeywordList, ColNone},
	"BatcherUser":                {TypeKeyword, ColNone},
	"BatcherNamespace":           {TypeKeyword, ColNone},
	"TemporalScheduledById":      {TypeKeyword, ColNone},
	"TemporalScheduledStartTime": {TypeDatetime, ColNone},
	"TemporalSchedulePaused":     {TypeBool, ColNone},
	"TemporalNamespaceDivision":  {TypeKeyword, ColNone},
	"TemporalPauseInfo":          {TypeKeywordList, ColNone},
}

// Predefined reports the type of a system attribute a workflow may set itself (one with no
// column), such as TemporalChangeVersion.
func Predefined(name string) (Type, bool) {
	a, ok := System[name]
	if !ok || a.Column != ColNone {
		return TypeUnspecified, false
	}
	return a.Type, true
}

// Statuses maps the ExecutionStatus names a query may use to the status numbers
// (enums.WorkflowExecutionStatus).
var Statuses = map[string]int32{
	"Running": 1, "Completed": 2, "Failed": 3, "Canceled": 4, "Terminated": 5,
	"ContinuedAsNew": 6, "TimedOut": 7, "Paused": 8,
}
