package temporal

import (
	"context"
	"errors"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/visibility"
)

// Operator implements the search attribute part of Temporal's OperatorService (what the SDK's
// OperatorService client and `temporal operator search-attribute` use); every other method
// answers Unimplemented through the embedded server.
type Operator struct {
	operatorservice.UnimplementedOperatorServiceServer
	e *engine.Engine
}

var _ operatorservice.OperatorServiceServer = (*Operator)(nil)

// NewOperator builds the operator service over an engine.
func NewOperator(e *engine.Engine) *Operator { return &Operator{e: e} }

// Register adds the service to a gRPC server.
func (o *Operator) Register(g *grpc.Server) { operatorservice.RegisterOperatorServiceServer(g, o) }

// operatorErr maps an engine error of a search attribute call: an unknown namespace is Temporal's
// NamespaceNotFound, and an attribute registered with another type is AlreadyExists (not the
// NamespaceAlreadyExists the workflow service's map gives CodeAlreadyExists).
func (o *Operator) operatorErr(ctx context.Context, namespace string, err error) error {
	if _, nerr := o.e.Namespace(ctx, namespace); nerr != nil {
		return namespaceErr(namespace, nerr)
	}
	var ee *engine.Error
	if errors.As(err, &ee) && ee.Code == engine.CodeAlreadyExists {
		return serviceerror.NewAlreadyExists(ee.Message)
	}
	return toStatus(err)
}

// AddSearchAttributes registers custom search attributes of a namespace.
func (o *Operator) AddSearchAttributes(ctx context.Context, req *operatorservice.AddSearchAttributesRequest) (*operatorservice.AddSearchAttributesResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.check(len(req.GetSearchAttributes()) > 0, "SearchAttributes are not set on request.")
	if v.err != nil {
		return nil, v.err
	}
	attrs := make(map[string]visibility.Type, len(req.GetSearchAttributes()))
	for name, typ := range req.GetSearchAttributes() {
		attrs[name] = visibility.Type(typ)
	}
	if err := o.e.AddSearchAttributes(ctx, req.GetNamespace(), attrs); err != nil {
		return nil, o.operatorErr(ctx, req.GetNamespace(), err)
	}
	return &operatorservice.AddSearchAttributesResponse{}, nil
}

// RemoveSearchAttributes unregisters custom search attributes of a namespace.
func (o *Operator) RemoveSearchAttributes(ctx context.Context, req *operatorservice.RemoveSearchAttributesRequest) (*operatorservice.RemoveSearchAttributesResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	v.check(len(req.GetSearchAttributes()) > 0, "SearchAttributes are not set on request.")
	if v.err != nil {
		return nil, v.err
	}
	if err := o.e.RemoveSearchAttributes(ctx, req.GetNamespace(), req.GetSearchAttributes()); err != nil {
		return nil, o.operatorErr(ctx, req.GetNamespace(), err)
	}
	return &operatorservice.RemoveSearchAttributesResponse{}, nil
}

// ListSearchAttributes returns a namespace's custom search attributes and the system ones.
func (o *Operator) ListSearchAttributes(ctx context.Context, req *operatorservice.ListSearchAttributesRequest) (*operatorservice.ListSearchAttributesResponse, error) {
	v := &validator{}
	v.namespace(req.GetNamespace())
	if v.err != nil {
		return nil, v.err
	}
	custom, err := o.e.SearchAttributes(ctx, req.GetNamespace())
	if err != nil {
		return nil, o.operatorErr(ctx, req.GetNamespace(), err)
	}
	resp := &operatorservice.ListSearchAttributesResponse{
		CustomAttributes: make(map[string]enumspb.IndexedValueType, len(custom)),
		SystemAttributes: make(map[string]enumspb.IndexedValueType, len(visibility.System)),
		StorageSchema:    map[string]string{},
	}
	for name, typ := range custom {
		resp.CustomAttributes[name] = enumspb.IndexedValueType(typ)
	}
	for name, sa := range visibility.System {
		resp.SystemAttributes[name] = enumspb.IndexedValueType(sa.Type)
	}
	return resp, nil
}
