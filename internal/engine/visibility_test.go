package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/duro-dev/duro/internal/visibility"
)

// jsonPayload is a json/plain payload, typed if typ is not empty.
func jsonPayload(data, typ string) *commonpb.Payload {
	p := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(data)}
	if typ != "" {
		p.Metadata["type"] = []byte(typ)
	}
	return p
}

func TestDecodeSearchValue(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC)
	ok := []struct {
		typ  visibility.Type
		data string
		want []visibility.Value
	}{
		{visibility.TypeKeyword, `"acme"`, []visibility.Value{{Name: "A", Type: visibility.TypeKeyword, Text: "acme"}}},
		{visibility.TypeText, `"some text"`, []visibility.Value{{Name: "A", Type: visibility.TypeText, Text: "some text"}}},
		{visibility.TypeInt, `-42`, []visibility.Value{{Name: "A", Type: visibility.TypeInt, Int: -42}}},
		{visibility.TypeInt, `9007199254740993`, []visibility.Value{{Name: "A", Type: visibility.TypeInt, Int: 9007199254740993}}},
		{visibility.TypeDouble, `2.5`, []visibility.Value{{Name: "A", Type: visibility.TypeDouble, Double: 2.5}}},
		{visibility.TypeDouble, `3`, []visibility.Value{{Name: "A", Type: visibility.TypeDouble, Double: 3}}},
		{visibility.TypeBool, `true`, []visibility.Value{{Name: "A", Type: visibility.TypeBool, Bool: true}}},
		{visibility.TypeDatetime, `"2026-03-04T06:06:07.89+01:00"`, []visibility.Value{{Name: "A", Type: visibility.TypeDatetime, Time: at}}},
		{visibility.TypeKeywordList, `["a","b"]`, []visibility.Value{
			{Name: "A", Type: visibility.TypeKeywordList, Text: "a"}, {Name: "A", Type: visibility.TypeKeywordList, Text: "b"}}},
		{visibility.TypeKeywordList, `"solo"`, []visibility.Value{{Name: "A", Type: visibility.TypeKeywordList, Text: "solo"}}},
		{visibility.TypeKeywordList, `[]`, []visibility.Value{}},
	}
	for _, tc := range ok {
		got, err := decodeSearchValue("A", tc.typ, jsonPayload(tc.data, ""))
		require.NoError(t, err, "%s %s", tc.typ, tc.data)
		require.Equal(t, tc.want, got, "%s %s", tc.typ, tc.data)
	}
	bad := []struct {
		typ  visibility.Type
		data string
	}{
		{visibility.TypeKeyword, `5`}, {visibility.TypeKeyword, `["a"]`}, {visibility.TypeText, `true`},
		{visibility.TypeInt, `1.5`}, {visibility.TypeInt, `"5"`}, {visibility.TypeInt, `99999999999999999999`},
		{visibility.TypeDouble, `"x"`}, {visibility.TypeDouble, `1e999`}, {visibility.TypeBool, `"true"`},
		{visibility.TypeDatetime, `"yesterday"`}, {visibility.TypeDatetime, `12`}, {visibility.TypeKeywordList, `[1]`},
		{visibility.TypeKeywordList, `{}`}, {visibility.TypeKeyword, `not json`},
	}
	for _, tc := range bad {
		_, err := decodeSearchValue("A", tc.typ, jsonPayload(tc.data, ""))
		require.ErrorContains(t, err, "invalid value for search attribute A of type "+tc.typ.String(), "%s %s", tc.typ, tc.data)
	}
	p := jsonPayload(`"x"`, "")
	p.Metadata["encoding"] = []byte("binary/encrypted")
	_, err := decodeSearchValue("A", visibility.TypeKeyword, p)
	require.ErrorContains(t, err, `encoding is "binary/encrypted"`)
}

func TestCheckSearchAttributes(t *testing.T) {
	t.Parallel()
	c := newSearchAttrCache(nil)
	c.m["ns"] = map[string]visibility.Type{"CustomerId": visibility.TypeKeyword, "Priority": visibility.TypeInt}

	// Untyped payloads get their registered type; predefined attributes need no registration;
	// unset values (empty or null) are left alone.
	sa := &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
		"CustomerId":            jsonPayload(`"acme"`, ""),
		"Priority":              jsonPayload(`3`, "Int"),
		"TemporalChangeVersion": jsonPayload(`["v-1"]`, ""),
		"Gone":                  jsonPayload(`null`, ""),
		"AlsoGone":              {},
	}}
	require.NoError(t, c.checkSearchAttributes("ns", sa))
	require.Equal(t, "Keyword", string(sa.IndexedFields["CustomerId"].Metadata["type"]))
	require.Equal(t, "Int", string(sa.IndexedFields["Priority"].Metadata["type"]))
	require.Equal(t, "KeywordList", string(sa.IndexedFields["TemporalChangeVersion"].Metadata["type"]))
	require.NotContains(t, sa.IndexedFields["Gone"].Metadata, "type")

	refused := []struct {
		field *commonpb.Payload
		name  string
		msg   string
	}{
		{jsonPayload(`"x"`, ""), "Unknown", "search attribute Unknown is not defined"},
		{jsonPayload(`"x"`, ""), "WorkflowId", "search attribute WorkflowId is reserved by system"},
		{jsonPayload(`"high"`, ""), "Priority", "invalid value for search attribute Priority of type Int"},
		{jsonPayload(`"high"`, "Keyword"), "Priority", "invalid value for search attribute Priority of type Int: payload type is Keyword"},
		{jsonPayload(`"x"`, ""), "Other", "search attribute Other is not defined"},
	}
	for _, tc := range refused {
		ns := "ns"
		if tc.name == "Other" {
			ns = "another-namespace" // CustomerId and friends are ns's, not everyone's
		}
		err := c.checkSearchAttributes(ns, &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{tc.name: tc.field}})
		require.ErrorContains(t, err, tc.msg, tc.name)
	}
	err := c.checkSearchAttributes("another-namespace", &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
		"CustomerId": jsonPayload(`"x"`, "")}})
	require.ErrorContains(t, err, "search attribute CustomerId is not defined")
}

func TestSearchAttributeLimits(t *testing.T) {
	t.Parallel()
	c := newSearchAttrCache(nil)
	c.m["ns"] = map[string]visibility.Type{"Big": visibility.TypeKeyword}
	for i := range 100 {
		c.m["ns"][fmt.Sprintf("K%03d", i)] = visibility.TypeInt
	}
	big := func(n int) *commonpb.Payload { return jsonPayload(`"`+strings.Repeat("x", n-2)+`"`, "") }

	check := func(fields map[string]*commonpb.Payload) error {
		return c.checkSearchAttributes("ns", &commonpb.SearchAttributes{IndexedFields: fields})
	}
	require.NoError(t, check(map[string]*commonpb.Payload{"Big": big(2048)}))
	require.EqualError(t, check(map[string]*commonpb.Payload{"Big": big(2049)}),
		"search attribute Big value size 2049 exceeds size limit 2048")

	fields := map[string]*commonpb.Payload{}
	for i := range 100 {
		fields[fmt.Sprintf("K%03d", i)] = jsonPayload("1", "")
	}
	require.NoError(t, check(fields))
	fields["Big"] = jsonPayload(`"x"`, "")
	require.EqualError(t, check(fields), "number of search attributes 101 exceeds limit 100")

	fields = map[string]*commonpb.Payload{}
	for i := range 25 {
		fields[fmt.Sprintf("K%03d", i)] = big(2000)
	}
	require.EqualError(t, check(fields), "total size of search attributes 50100 exceeds size limit 40960")
}
