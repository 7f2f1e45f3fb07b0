package temporal

import (
	"context"
	"encoding/json"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/visibility"
)

// maxListPageSize caps a listing's page (and is the size of a page asked for without one).
const maxListPageSize = 1000

// listToken is a listing's next page token: a keyset position in the default order, or an offset
// for a query with an ORDER BY. The query is the client's to send again with the token, as in
// Temporal; a token is only ever read back into a filter of the namespace it is sent with.
type listToken struct {
	StartTime time.Time `json:"t,omitempty"`
	RunID     string    `json:"r,omitempty"`
	Offset    int       `json:"o,omitempty"`
}

// listRequest is what ListWorkflowExecutions and ScanWorkflowExecutions have in common.
type listRequest struct {
	namespace string
	pageSize  int32
	token     []byte
	query     string
}

// list serves ListWorkflowExecutions and ScanWorkflowExecutions: the namespace's executions
// matching the query, newest first unless it orders them, one page at a time.
func (s *Service) list(ctx context.Context, r listRequest) ([]*workflowpb.WorkflowExecutionInfo, []byte, error) {
	v := &validator{}
	v.namespace(r.namespace)
	v.check(r.pageSize >= 0, "PageSize cannot be negative.")
	if v.err != nil {
		return nil, nil, v.err
	}
	q, err := s.e.ParseQuery(ctx, r.namespace, r.query)
	if err != nil {
		return nil, nil, s.mapNS(r.namespace, err)
	}
	if q != nil && len(q.GroupBy) > 0 {
		return nil, nil, serviceerror.NewInvalidArgument("invalid query: 'GROUP BY' clause is only supported in CountWorkflowExecutions")
	}
	size := int(r.pageSize)
	if size == 0 || size > maxListPageSize {
		size = maxListPageSize
	}
	f := store.ExecutionFilter{Namespace: r.namespace, PageSize: size, Query: q}
	ordered := q != nil && len(q.OrderBy) > 0
	if len(r.token) > 0 {
		var lt listToken
		if err := json.Unmarshal(r.token, &lt); err != nil || lt.Offset < 0 || (ordered != (lt.RunID == "")) {
			return nil, nil, serviceerror.NewInvalidArgument("invalid next page token")
		}
		if ordered {
			f.Offset = lt.Offset
		} else {
			f.After = &store.ListPosition{StartTime: lt.StartTime, RunID: lt.RunID}
		}
	}
	infos, next, err := s.e.ListWorkflows(ctx, f)
	if err != nil {
		return nil, nil, s.mapNS(r.namespace, err)
	}
	if next == nil {
		return infos, nil, nil
	}
	lt := listToken{StartTime: next.StartTime, RunID: next.RunID}
	if ordered {
		lt = listToken{Offset: f.Offset + len(infos)}
	}
	token, err := json.Marshal(lt)
	if err != nil {
		return nil, nil, serviceerror.NewInternal("encode next page token: " + err.Error())
	}
	return infos, token, nil
}

// ListWorkflowExecutions lists a namespace's executions matching a list filter.
func (s *Service) ListWorkflowExecutions(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	infos, token, err := s.list(ctx, listRequest{namespace: req.GetNamespace(), pageSize: req.GetPageSize(),
		token: req.GetNextPageToken(), query: req.GetQuery()})
	if err != nil {
		return nil, err
	}
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: infos, NextPageToken: token}, nil
}

// ScanWorkflowExecutions is ListWorkflowExecutions (Temporal deprecates it in its favour; on SQL
// visibility the two are the same).
func (s *Service) ScanWorkflowExecutions(ctx context.Context, req *workflowservice.ScanWorkflowExecutionsRequest) (*workflowservice.ScanWorkflowExecutionsResponse, error) {
	infos, token, err := s.list(ctx, listRequest{namespace: req.GetNamespace(), pageSize: req.GetPageSize(),
		token: req.GetNextPageToken(), query: req.GetQuery()})
	if err != nil {
		return nil, err
	}
	return &workflowservice.ScanWorkflowExecutionsResponse{Executions: infos, NextPageToken: token}, nil
}

// CountWorkflowExecutions counts the executions matching a list filter, per ExecutionStatus with
// GROUP BY ExecutionStatus.
func (s *Service) CountWorkflowExecutions(ctx context.Context, req *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	if v.err != nil {
		return nil, v.err
	}
	q, err := s.e.ParseQuery(ctx, req.GetNamespace(), req.GetQuery())
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	if q != nil && len(q.OrderBy) > 0 {
		return nil, serviceerror.NewInvalidArgument("invalid query: 'ORDER BY' clause is not supported in CountWorkflowExecutions")
	}
	f := store.ExecutionFilter{Namespace: req.GetNamespace(), Query: q}
	if q == nil || len(q.GroupBy) == 0 {
		n, err := s.e.CountWorkflows(ctx, f)
		if err != nil {
			return nil, s.mapNS(req.GetNamespace(), err)
		}
		return &workflowservice.CountWorkflowExecutionsResponse{Count: n}, nil
	}
	groups, err := s.e.CountWorkflowsByStatus(ctx, f)
	if err != nil {
		return nil, s.mapNS(req.GetNamespace(), err)
	}
	resp := &workflowservice.CountWorkflowExecutionsResponse{}
	for _, g := range groups {
		resp.Count += g.Count
		resp.Groups = append(resp.Groups, &workflowservice.CountWorkflowExecutionsResponse_AggregationGroup{
			GroupValues: []*commonpb.Payload{keywordPayload(enumspb.WorkflowExecutionStatus(g.Status).String())},
			Count:       g.Count,
		})
	}
	return resp, nil
}

// keywordPayload encodes a string as a Keyword search attribute value (JSON, with its type), the
// way Temporal encodes a group's value.
func keywordPayload(s string) *commonpb.Payload {
	data, _ := json.Marshal(s) // a string always encodes
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain"), "type": []byte(visibility.TypeKeyword.String())},
		Data:     data,
	}
}
