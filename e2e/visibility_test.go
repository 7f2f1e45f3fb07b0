package e2e

import (
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The custom search attributes the visibility tests register.
var (
	saCustomer = temporal.NewSearchAttributeKeyKeyword("CustomerId")
	saAmount   = temporal.NewSearchAttributeKeyFloat64("Amount")
	saPriority = temporal.NewSearchAttributeKeyInt64("Priority")
	saUrgent   = temporal.NewSearchAttributeKeyBool("Urgent")
	saDueAt    = temporal.NewSearchAttributeKeyTime("DueAt")
	saTags     = temporal.NewSearchAttributeKeyKeywordList("Tags")
	saNotes    = temporal.NewSearchAttributeKeyString("Notes")
)

// visWorkflow answers the "customer" query with its CustomerId search attribute, upserts search
// attributes (and records a version marker, which upserts TemporalChangeVersion) if asked, and
// waits for a "done" signal.
func visWorkflow(ctx workflow.Context, upsert bool) (string, error) {
	err := workflow.SetQueryHandler(ctx, "customer", func() (string, error) {
		v, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(saCustomer)
		return v, nil
	})
	if err != nil {
		return "", err
	}
	if upsert {
		workflow.GetVersion(ctx, "change-a", workflow.DefaultVersion, 1)
		if err := workflow.UpsertTypedSearchAttributes(ctx, saCustomer.ValueSet("initech"), saPriority.ValueSet(7),
			saTags.ValueSet([]string{"green"})); err != nil {
			return "", err
		}
	}
	workflow.GetSignalChannel(ctx, "done").Receive(ctx, nil)
	return "ok", nil
}

// badUpsertWorkflow upserts a search attribute nobody registered.
func badUpsertWorkflow(ctx workflow.Context) error {
	if err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyKeyword("NotRegistered").ValueSet("x")); err != nil {
		return err
	}
	return workflow.Sleep(ctx, time.Hour)
}

// registerSearchAttributes registers the tests' custom attributes on the default namespace.
func (e *env) registerSearchAttributes() {
	e.t.Helper()
	_, err := e.c.OperatorService().AddSearchAttributes(e.ctx(), &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace,
		SearchAttributes: map[string]enumspb.IndexedValueType{
			"CustomerId": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
			"Amount":     enumspb.INDEXED_VALUE_TYPE_DOUBLE,
			"Priority":   enumspb.INDEXED_VALUE_TYPE_INT,
			"Urgent":     enumspb.INDEXED_VALUE_TYPE_BOOL,
			"DueAt":      enumspb.INDEXED_VALUE_TYPE_DATETIME,
			"Tags":       enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
			"Notes":      enumspb.INDEXED_VALUE_TYPE_TEXT,
		},
	})
	require.NoError(e.t, err)
}

// listIDs lists the workflow IDs matching query, page by page, in list order.
func (e *env) listIDs(query string, pageSize int32) []string {
	e.t.Helper()
	ids := []string{}
	var token []byte
	for pages := 0; ; pages++ {
		require.Less(e.t, pages, 100, "paging of %q does not end", query)
		resp, err := e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, Query: query, PageSize: pageSize, NextPageToken: token})
		require.NoError(e.t, err, "list %q", query)
		for _, info := range resp.GetExecutions() {
			ids = append(ids, info.GetExecution().GetWorkflowId())
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return ids
		}
	}
}

// sorted returns a sorted copy of ids.
func sorted(ids ...string) []string {
	out := append([]string{}, ids...)
	sort.Strings(out)
	return out
}

func TestVisibilityQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.registerSearchAttributes()
	tq := e.startWorker(registry{workflows: []any{visWorkflow}})
	due := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

	// w1 and w3 complete; w2, w4, w5 and w6 stay open. w4 upserts its attributes from the workflow,
	// w5 has none, w6 is started with the untyped (legacy) map, whose types the server looks up.
	w1 := e.start(tq, client.StartWorkflowOptions{TypedSearchAttributes: temporal.NewSearchAttributes(
		saCustomer.ValueSet("acme"), saAmount.ValueSet(10.5), saPriority.ValueSet(1), saUrgent.ValueSet(true),
		saDueAt.ValueSet(due), saTags.ValueSet([]string{"red", "blue"}), saNotes.ValueSet("Rush order, please"))}, visWorkflow, false)
	w2 := e.start(tq, client.StartWorkflowOptions{TypedSearchAttributes: temporal.NewSearchAttributes(
		saCustomer.ValueSet("acme"), saPriority.ValueSet(5), saTags.ValueSet([]string{"blue"}))}, visWorkflow, false)
	w3 := e.start(tq, client.StartWorkflowOptions{TypedSearchAttributes: temporal.NewSearchAttributes(
		saCustomer.ValueSet("globex"), saPriority.ValueSet(3), saUrgent.ValueSet(false))}, visWorkflow, false)
	w4 := e.start(tq, client.StartWorkflowOptions{}, visWorkflow, true)
	w5 := e.start(tq, client.StartWorkflowOptions{}, visWorkflow, false)
	w6 := e.start(tq, client.StartWorkflowOptions{SearchAttributes: map[string]any{"CustomerId": "legacy", "Priority": 2}}, visWorkflow, false)
	for _, run := range []client.WorkflowRun{w1, w3} {
		require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "done", nil))
		require.NoError(t, run.Get(e.ctx(), nil))
	}
	e.waitForEvent(w4.GetID(), w4.GetRunID(), enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)

	all := sorted(w1.GetID(), w2.GetID(), w3.GetID(), w4.GetID(), w5.GetID(), w6.GetID())
	id := func(runs ...client.WorkflowRun) []string {
		var ids []string
		for _, r := range runs {
			ids = append(ids, r.GetID())
		}
		return ids
	}
	cases := []struct {
		query string
		want  []string
	}{
		{"", all},
		{"CustomerId = 'acme'", id(w1, w2)},
		{"CustomerId = 'acme' AND ExecutionStatus = 'Running'", id(w2)},
		{"CustomerId IN ('globex', 'initech', 'legacy')", id(w3, w4, w6)},
		{"CustomerId STARTS_WITH 'ac'", id(w1, w2)},
		{"CustomerId IS NULL", id(w5)},
		{"Tags = 'blue'", id(w1, w2)},
		{"Tags IN ('green', 'red')", id(w1, w4)},
		{"Tags != 'blue'", id(w4)},
		{"Notes = 'rush'", id(w1)},
		{"Notes = 'PLEASE order'", id(w1)},
		{"Amount >= 10", id(w1)},
		{"Urgent = true", id(w1)},
		{"Urgent = false", id(w3)},
		{"DueAt BETWEEN '2026-05-01T00:00:00Z' AND '2026-07-01T00:00:00Z'", id(w1)},
		{"Priority > 2 AND Priority <= 7", id(w2, w3, w4)},
		{"ExecutionStatus = 'Completed' OR Priority = 7", id(w1, w3, w4)},
		{"NOT (ExecutionStatus = 'Running') AND CustomerId != 'globex'", id(w1)},
		{"TemporalChangeVersion = 'change-a-1'", id(w4)},
		{"CloseTime IS NOT NULL", id(w1, w3)},
		{"ExecutionStatus = 'Running' AND WorkflowType = 'visWorkflow' AND TaskQueue = '" + tq + "'", id(w2, w4, w5, w6)},
		{"WorkflowId = '" + w5.GetID() + "' OR RunId = '" + w6.GetRunID() + "'", id(w5, w6)},
		{"`CustomerId` = 'legacy' AND Priority = 2", id(w6)},
	}
	for _, tc := range cases {
		require.Equal(t, sorted(tc.want...), sorted(e.listIDs(tc.query, 0)...), "list %q", tc.query)
		require.Equal(t, sorted(tc.want...), sorted(e.listIDs(tc.query, 2)...), "list %q in pages of 2", tc.query)
		count, err := e.c.CountWorkflow(e.ctx(), &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: tc.query})
		require.NoError(t, err, "count %q", tc.query)
		require.Equal(t, int64(len(tc.want)), count.GetCount(), "count %q", tc.query)
		require.Empty(t, count.GetGroups())
		scan, err := e.c.ScanWorkflow(e.ctx(), &workflowservice.ScanWorkflowExecutionsRequest{Namespace: namespace, Query: tc.query})
		require.NoError(t, err, "scan %q", tc.query)
		require.Len(t, scan.GetExecutions(), len(tc.want), "scan %q", tc.query)
	}

	// ORDER BY sorts (missing values last), and its pages follow that order.
	ordered := id(w4, w2, w3, w6, w1, w5)
	require.Equal(t, ordered, e.listIDs("ORDER BY Priority DESC", 0))
	require.Equal(t, ordered, e.listIDs("ORDER BY Priority DESC", 2))
	require.Equal(t, id(w1, w6, w3), e.listIDs("Priority < 5 ORDER BY Priority", 1))

	// The default order is newest first.
	require.Equal(t, id(w6, w5, w4, w3, w2, w1), e.listIDs("WorkflowType = 'visWorkflow'", 4))

	// GROUP BY ExecutionStatus.
	count, err := e.c.CountWorkflow(e.ctx(), &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace,
		Query: "WorkflowType = 'visWorkflow' GROUP BY ExecutionStatus"})
	require.NoError(t, err)
	require.Equal(t, int64(6), count.GetCount())
	groups := map[string]int64{}
	for _, g := range count.GetGroups() {
		require.Len(t, g.GetGroupValues(), 1)
		var status string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(g.GetGroupValues()[0], &status))
		groups[status] = g.GetCount()
	}
	require.Equal(t, map[string]int64{"Running": 4, "Completed": 2}, groups)

	// Listings carry each run's search attributes, typed; the workflow reads them back too, even
	// those a legacy client sent without types.
	resp, err := e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace,
		Query: "WorkflowId = '" + w6.GetID() + "'"})
	require.NoError(t, err)
	require.Len(t, resp.GetExecutions(), 1)
	fields := resp.GetExecutions()[0].GetSearchAttributes().GetIndexedFields()
	require.Equal(t, "Keyword", string(fields["CustomerId"].GetMetadata()["type"]))
	require.Equal(t, "Int", string(fields["Priority"].GetMetadata()["type"]))
	for run, want := range map[client.WorkflowRun]string{w2: "acme", w4: "initech", w6: "legacy"} {
		v, err := e.c.QueryWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "customer")
		require.NoError(t, err)
		var got string
		require.NoError(t, v.Get(&got))
		require.Equal(t, want, got, "CustomerId seen by workflow %s", run.GetID())
	}
	desc, err := e.c.DescribeWorkflowExecution(e.ctx(), w4.GetID(), w4.GetRunID())
	require.NoError(t, err)
	fields = desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	require.Equal(t, "KeywordList", string(fields["TemporalChangeVersion"].GetMetadata()["type"]))
	require.Equal(t, "KeywordList", string(fields["Tags"].GetMetadata()["type"]))

	// Bad queries are InvalidArgument, with Temporal's "invalid query" wording.
	for _, q := range []string{"CustomerId = ", "Unknown = 'x'", "Priority = 'high'", "Notes > 'a'",
		"ExecutionStatus = 'Sleeping'", "CustomerId = 'x' ORDER BY Notes", "WorkflowId = 'a' GROUP BY ExecutionStatus"} {
		_, err := e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: q})
		var invalid *serviceerror.InvalidArgument
		require.True(t, errors.As(err, &invalid), "list %q: want InvalidArgument, got %v", q, err)
		require.Contains(t, err.Error(), "invalid query", q)
	}
	_, err = e.c.CountWorkflow(e.ctx(), &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: "GROUP BY WorkflowType"})
	var invalid *serviceerror.InvalidArgument
	require.True(t, errors.As(err, &invalid), "count grouped by WorkflowType: want InvalidArgument, got %v", err)
	_, err = e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, NextPageToken: []byte("garbage")})
	require.True(t, errors.As(err, &invalid), "bad page token: want InvalidArgument, got %v", err)

	for _, run := range []client.WorkflowRun{w2, w4, w5, w6} {
		require.NoError(t, e.c.SignalWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "done", nil))
		require.NoError(t, run.Get(e.ctx(), nil))
	}
	require.Equal(t, id(w1, w2, w3, w4, w5, w6), e.listIDs("ExecutionStatus = 'Completed' ORDER BY StartTime ASC", 5))
}

func TestSearchAttributeValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.registerSearchAttributes()
	tq := e.startWorker(registry{workflows: []any{visWorkflow, badUpsertWorkflow}})
	var invalid *serviceerror.InvalidArgument

	// A start with an unknown attribute, or a value of the wrong type, is refused.
	for name, opts := range map[string]client.StartWorkflowOptions{
		"unknown":        {TypedSearchAttributes: temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyKeyword("Nope").ValueSet("x"))},
		"typed mismatch": {TypedSearchAttributes: temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyKeyword("Priority").ValueSet("high"))},
		"untyped value":  {SearchAttributes: map[string]any{"Priority": "high"}},
		"system":         {SearchAttributes: map[string]any{"WorkflowId": "mine"}},
	} {
		opts.ID, opts.TaskQueue = e.id("bad-start"), tq
		_, err := e.c.ExecuteWorkflow(e.ctx(), opts, visWorkflow, false)
		require.True(t, errors.As(err, &invalid), "%s: want InvalidArgument, got %v", name, err)
		_, err = e.c.DescribeWorkflowExecution(e.ctx(), opts.ID, "")
		var notFound *serviceerror.NotFound
		require.True(t, errors.As(err, &notFound), "%s: nothing was started, got %v", name, err)
	}

	// Upserting an unregistered attribute fails the workflow task with BAD_SEARCH_ATTRIBUTES.
	run := e.start(tq, client.StartWorkflowOptions{}, badUpsertWorkflow)
	failed := e.waitForEvent(run.GetID(), run.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED)
	require.Equal(t, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, failed.GetWorkflowTaskFailedEventAttributes().GetCause())
	require.Contains(t, failed.GetWorkflowTaskFailedEventAttributes().GetFailure().GetMessage(), "NotRegistered")
	require.Empty(t, ofType(e.history(run.GetID(), run.GetRunID()), enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES))
	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), run.GetID(), run.GetRunID(), "test over"))

	// The operator service lists custom and system attributes, and removes custom ones.
	ops := e.c.OperatorService()
	list, err := ops.ListSearchAttributes(e.ctx(), &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	require.NoError(t, err)
	require.Equal(t, enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST, list.GetCustomAttributes()["Tags"])
	require.Len(t, list.GetCustomAttributes(), 7)
	for name, typ := range map[string]enumspb.IndexedValueType{
		"WorkflowId": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "ExecutionStatus": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"StartTime": enumspb.INDEXED_VALUE_TYPE_DATETIME, "HistoryLength": enumspb.INDEXED_VALUE_TYPE_INT,
		"TemporalChangeVersion": enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST, "BuildIds": enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
		"TemporalScheduledById": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "TemporalScheduledStartTime": enumspb.INDEXED_VALUE_TYPE_DATETIME,
	} {
		require.Equal(t, typ, list.GetSystemAttributes()[name], name)
	}

	// Registering again with the same type is accepted; another type, or a system name, is not.
	_, err = ops.AddSearchAttributes(e.ctx(), &operatorservice.AddSearchAttributesRequest{Namespace: namespace,
		SearchAttributes: map[string]enumspb.IndexedValueType{"Tags": enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST}})
	require.NoError(t, err)
	_, err = ops.AddSearchAttributes(e.ctx(), &operatorservice.AddSearchAttributesRequest{Namespace: namespace,
		SearchAttributes: map[string]enumspb.IndexedValueType{"Tags": enumspb.INDEXED_VALUE_TYPE_TEXT}})
	var exists *serviceerror.AlreadyExists
	require.True(t, errors.As(err, &exists), "want AlreadyExists, got %v", err)
	_, err = ops.AddSearchAttributes(e.ctx(), &operatorservice.AddSearchAttributesRequest{Namespace: namespace,
		SearchAttributes: map[string]enumspb.IndexedValueType{"WorkflowType": enumspb.INDEXED_VALUE_TYPE_KEYWORD}})
	require.True(t, errors.As(err, &invalid), "want InvalidArgument, got %v", err)
	_, err = ops.AddSearchAttributes(e.ctx(), &operatorservice.AddSearchAttributesRequest{Namespace: "no-such-namespace",
		SearchAttributes: map[string]enumspb.IndexedValueType{"X": enumspb.INDEXED_VALUE_TYPE_KEYWORD}})
	var nsNotFound *serviceerror.NamespaceNotFound
	require.True(t, errors.As(err, &nsNotFound), "want NamespaceNotFound, got %v", err)

	_, err = ops.RemoveSearchAttributes(e.ctx(), &operatorservice.RemoveSearchAttributesRequest{Namespace: namespace,
		SearchAttributes: []string{"Notes"}})
	require.NoError(t, err)
	list, err = ops.ListSearchAttributes(e.ctx(), &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	require.NoError(t, err)
	require.NotContains(t, list.GetCustomAttributes(), "Notes")
	_, err = e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: "Notes = 'x'"})
	require.True(t, errors.As(err, &invalid), "a removed attribute cannot be queried, got %v", err)
	_, err = ops.RemoveSearchAttributes(e.ctx(), &operatorservice.RemoveSearchAttributesRequest{Namespace: namespace,
		SearchAttributes: []string{"Notes"}})
	var notFound *serviceerror.NotFound
	require.True(t, errors.As(err, &notFound), "removing twice: want NotFound, got %v", err)

	// Other namespaces have their own registry.
	_, err = e.c.WorkflowService().RegisterNamespace(e.ctx(), &workflowservice.RegisterNamespaceRequest{Namespace: "vis-other"})
	require.NoError(t, err)
	list, err = ops.ListSearchAttributes(e.ctx(), &operatorservice.ListSearchAttributesRequest{Namespace: "vis-other"})
	require.NoError(t, err)
	require.Empty(t, list.GetCustomAttributes())
	_, err = e.c.ListWorkflow(e.ctx(), &workflowservice.ListWorkflowExecutionsRequest{Namespace: "vis-other", Query: "CustomerId = 'x'"})
	require.True(t, errors.As(err, &invalid), "CustomerId is not registered in vis-other, got %v", err)

	// GetSystemInfo declares GROUP BY ExecutionStatus.
	info, err := e.c.WorkflowService().GetSystemInfo(e.ctx(), &workflowservice.GetSystemInfoRequest{})
	require.NoError(t, err)
	require.True(t, info.GetCapabilities().GetCountGroupByExecutionStatus())
}

// visParentWorkflow starts a child with a search attribute (an unregistered one if bad).
func visParentWorkflow(ctx workflow.Context, bad bool) error {
	key := saCustomer
	if bad {
		key = temporal.NewSearchAttributeKeyKeyword("NotRegistered")
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            workflow.GetInfo(ctx).WorkflowExecution.ID + "-child",
		TypedSearchAttributes: temporal.NewSearchAttributes(key.ValueSet("child-co")),
	})
	return workflow.ExecuteChildWorkflow(cctx, visChildWorkflow).Get(ctx, nil)
}

func visChildWorkflow(workflow.Context) error { return nil }

// visChainWorkflow continues as new n times.
func visChainWorkflow(ctx workflow.Context, n int) error {
	if n > 0 {
		return workflow.NewContinueAsNewError(ctx, visChainWorkflow, n-1)
	}
	return nil
}

func TestSearchAttributesOfChildrenAndContinueAsNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.registerSearchAttributes()
	tq := e.startWorker(registry{workflows: []any{visParentWorkflow, visChildWorkflow, visChainWorkflow}})

	// Every run of a chain carries the search attributes it started with, and is found by them.
	chain := e.start(tq, client.StartWorkflowOptions{TypedSearchAttributes: temporal.NewSearchAttributes(
		saCustomer.ValueSet("chain"), saTags.ValueSet([]string{"x", "y"}))}, visChainWorkflow, 2)
	require.NoError(t, chain.Get(e.ctx(), nil))
	require.Equal(t, []string{chain.GetID(), chain.GetID(), chain.GetID()}, e.listIDs("CustomerId = 'chain' AND Tags = 'y'", 2))
	count, err := e.c.CountWorkflow(e.ctx(), &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace,
		Query: "CustomerId = 'chain' GROUP BY ExecutionStatus"})
	require.NoError(t, err)
	groups := map[string]int64{}
	for _, g := range count.GetGroups() {
		var status string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(g.GetGroupValues()[0], &status))
		groups[status] = g.GetCount()
	}
	require.Equal(t, map[string]int64{"ContinuedAsNew": 2, "Completed": 1}, groups)

	// A child starts with the search attributes its parent gives it.
	parent := e.start(tq, client.StartWorkflowOptions{}, visParentWorkflow, false)
	require.NoError(t, parent.Get(e.ctx(), nil))
	require.Equal(t, []string{parent.GetID() + "-child"}, e.listIDs("CustomerId = 'child-co'", 0))

	// An unregistered one fails the parent's workflow task with BAD_SEARCH_ATTRIBUTES.
	bad := e.start(tq, client.StartWorkflowOptions{}, visParentWorkflow, true)
	failed := e.waitForEvent(bad.GetID(), bad.GetRunID(), enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED)
	require.Equal(t, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, failed.GetWorkflowTaskFailedEventAttributes().GetCause())
	require.Contains(t, failed.GetWorkflowTaskFailedEventAttributes().GetFailure().GetMessage(), "search attribute NotRegistered is not defined")
	require.Empty(t, ofType(e.history(bad.GetID(), bad.GetRunID()), enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED))
	require.NoError(t, e.c.TerminateWorkflow(e.ctx(), bad.GetID(), bad.GetRunID(), "test over"))
}
