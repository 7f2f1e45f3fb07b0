// Package temporal serves Temporal's WorkflowService over gRPC so that the official SDKs and CLI
// run against Duro. It validates and translates requests and maps engine errors to the gRPC status
// (with typed details) Temporal gives for the same case; it holds no business logic.
package temporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	replicationpb "go.temporal.io/api/replication/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/matching"
	"github.com/duro-dev/duro/internal/store"
)

// ServerVersion is what GetSystemInfo reports.
const ServerVersion = "1.27.0"

// Config wires the service.
type Config struct {
	Engine          *engine.Engine
	Matcher         *matching.Matcher
	Logger          *slog.Logger
	MaxPayloadBytes int
	LongPollTimeout time.Duration
	// Store names the store kind GetClusterInfo reports ("sqlite" or "postgresql").
	Store string
}

// Service implements workflowservice.WorkflowServiceServer for what Duro really serves; every
// other method answers Unimplemented through the embedded server.
type Service struct {
	workflowservice.UnimplementedWorkflowServiceServer
	cfg Config
	e   *engine.Engine
	m   *matching.Matcher
	log *slog.Logger
}

var _ workflowservice.WorkflowServiceServer = (*Service)(nil)

// New builds the service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LongPollTimeout <= 0 {
		cfg.LongPollTimeout = 60 * time.Second
	}
	return &Service{cfg: cfg, e: cfg.Engine, m: cfg.Matcher, log: cfg.Logger}
}

// Register adds the service to a gRPC server.
func (s *Service) Register(g *grpc.Server) { workflowservice.RegisterWorkflowServiceServer(g, s) }

// RecoverInterceptor turns a panic in a handler into Internal, so no panic reaches a client.
func RecoverInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "method", info.FullMethod, "panic", r, "stack", string(debug.Stack()))
				resp, err = nil, serviceerror.NewInternal(fmt.Sprintf("internal error in %s", info.FullMethod))
			}
		}()
		return handler(ctx, req)
	}
}

// StatusInterceptor turns the serviceerror values handlers return into gRPC statuses with their
// typed details, which the SDKs decode back into serviceerror types.
func StatusInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			var se serviceerror.ServiceError
			if !errors.As(err, &se) {
				err = toStatus(err)
			}
			return nil, serviceerror.ToStatus(err).Err()
		}
		return resp, nil
	}
}

// toStatus maps an engine error to the gRPC error Temporal returns for the same case.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		if errors.Is(err, context.Canceled) {
			return serviceerror.NewCanceled(err.Error())
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return serviceerror.NewDeadlineExceeded(err.Error())
		}
		return serviceerror.NewInternal(err.Error())
	}
	switch ee.Code {
	case engine.CodeInvalidArgument:
		return serviceerror.NewInvalidArgument(ee.Message)
	case engine.CodeNotFound:
		return serviceerror.NewNotFound(ee.Message)
	case engine.CodeAlreadyStarted:
		return serviceerror.NewWorkflowExecutionAlreadyStarted(ee.Message, ee.StartRequestID, ee.RunID)
	case engine.CodeAlreadyExists:
		return serviceerror.NewNamespaceAlreadyExists(ee.Message)
	case engine.CodeFailedPrecondition:
		return serviceerror.NewFailedPrecondition(ee.Message)
	case engine.CodeUnavailable:
		return serviceerror.NewUnavailable(ee.Message)
	case engine.CodeCanceled:
		return serviceerror.NewCanceled(ee.Message)
	case engine.CodeDeadlineExceeded:
		return serviceerror.NewDeadlineExceeded(ee.Message)
	case engine.CodeQueryFailed:
		f := &failurepb.Failure{}
		if len(ee.QueryFailure) == 0 || proto.Unmarshal(ee.QueryFailure, f) != nil {
			f = &failurepb.Failure{Message: ee.Message}
		}
		return serviceerror.NewQueryFailedWithFailure(ee.Message, f)
	case engine.CodeResourceExhausted:
		return serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_SYSTEM_OVERLOADED, ee.Message)
	case engine.CodeUnimplemented:
		return serviceerror.NewUnimplemented(ee.Message)
	case engine.CodeWorkflowNotReady:
		return serviceerror.NewWorkflowNotReady(ee.Message)
	}
	return serviceerror.NewInternal(ee.Message)
}

// namespaceErr maps a namespace lookup failure, using Temporal's typed NamespaceNotFound.
func namespaceErr(name string, err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) && ee.Code == engine.CodeNotFound {
		return serviceerror.NewNamespaceNotFound(name)
	}
	return toStatus(err)
}

// GetSystemInfo declares only the capabilities Duro really has (temporal-protocol.md §2).
func (s *Service) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{
		ServerVersion: ServerVersion,
		Capabilities: &workflowservice.GetSystemInfoResponse_Capabilities{
			SignalAndQueryHeader:            true,
			InternalErrorDifferentiation:    true,
			ActivityFailureIncludeHeartbeat: true,
			EncodedFailureAttributes:        true,
			UpsertMemo:                      true,
			CountGroupByExecutionStatus:     true,
			SdkMetadata:                     true,
		},
	}, nil
}

// GetClusterInfo describes the cluster as Temporal's does (the CLI's `operator cluster
// describe`): one cluster whose ID is the default namespace's ID (stable for a database), one
// history "shard" (Duro does not shard: any node serves any execution), the store in use.
func (s *Service) GetClusterInfo(ctx context.Context, _ *workflowservice.GetClusterInfoRequest) (*workflowservice.GetClusterInfoResponse, error) {
	ns, err := s.e.Namespace(ctx, engine.DefaultNamespace)
	if err != nil {
		return nil, toStatus(err)
	}
	return &workflowservice.GetClusterInfoResponse{
		SupportedClients: map[string]string{
			"temporal-go": ">=1.0.0 <2.0.0", "temporal-typescript": ">=1.0.0 <2.0.0", "temporal-cli": ">=0.1.0 <2.0.0",
		},
		ServerVersion:     ServerVersion,
		ClusterId:         ns.ID,
		ClusterName:       "duro",
		HistoryShardCount: 1,
		PersistenceStore:  s.cfg.Store,
		VisibilityStore:   s.cfg.Store,
	}, nil
}

func (s *Service) namespaceInfo(ns *engine.Namespace) (*namespacepb.NamespaceInfo, *namespacepb.NamespaceConfig) {
	return &namespacepb.NamespaceInfo{
			Name:        ns.Name,
			State:       enumspb.NAMESPACE_STATE_REGISTERED,
			Description: ns.Description,
			OwnerEmail:  ns.OwnerEmail,
			Data:        ns.Data,
			Id:          ns.ID,
			Capabilities: &namespacepb.NamespaceInfo_Capabilities{
				EagerWorkflowStart: false, SyncUpdate: true, AsyncUpdate: true,
			},
		}, &namespacepb.NamespaceConfig{
			WorkflowExecutionRetentionTtl: durationpb.New(ns.Retention),
			HistoryArchivalState:          enumspb.ARCHIVAL_STATE_DISABLED,
			VisibilityArchivalState:       enumspb.ARCHIVAL_STATE_DISABLED,
		}
}

func replication() *replicationpb.NamespaceReplicationConfig {
	return &replicationpb.NamespaceReplicationConfig{
		ActiveClusterName: "active",
		Clusters:          []*replicationpb.ClusterReplicationConfig{{ClusterName: "active"}},
	}
}

// DescribeNamespace answers for a namespace by name (or ID).
func (s *Service) DescribeNamespace(ctx context.Context, req *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	name := req.GetNamespace()
	if name == "" && req.GetId() != "" {
		all, err := s.e.ListNamespaces(ctx)
		if err != nil {
			return nil, toStatus(err)
		}
		for _, ns := range all {
			if ns.ID == req.GetId() {
				name = ns.Name
			}
		}
		if name == "" {
			return nil, serviceerror.NewNamespaceNotFound(req.GetId())
		}
	}
	if name == "" {
		return nil, serviceerror.NewInvalidArgument("Namespace is not set on request.")
	}
	ns, err := s.e.Namespace(ctx, name)
	if err != nil {
		return nil, namespaceErr(name, err)
	}
	info, cfg := s.namespaceInfo(ns)
	return &workflowservice.DescribeNamespaceResponse{NamespaceInfo: info, Config: cfg, ReplicationConfig: replication()}, nil
}

// RegisterNamespace creates a namespace.
func (s *Service) RegisterNamespace(ctx context.Context, req *workflowservice.RegisterNamespaceRequest) (*workflowservice.RegisterNamespaceResponse, error) {
	if req.GetNamespace() == "" {
		return nil, serviceerror.NewInvalidArgument("Namespace is not set on request.")
	}
	if len(req.GetNamespace()) > 1000 {
		return nil, serviceerror.NewInvalidArgument("Namespace length exceeds limit.")
	}
	if strings.ContainsRune(req.GetNamespace(), 0) {
		return nil, serviceerror.NewInvalidArgument("Namespace must not contain a NUL character.")
	}
	if d := req.GetWorkflowExecutionRetentionPeriod(); d != nil && d.AsDuration() < 0 {
		return nil, serviceerror.NewInvalidArgument("WorkflowExecutionRetentionPeriod must not be negative.")
	}
	err := s.e.RegisterNamespace(ctx, engine.Namespace{
		Name: req.GetNamespace(), Description: req.GetDescription(), OwnerEmail: req.GetOwnerEmail(),
		Retention: req.GetWorkflowExecutionRetentionPeriod().AsDuration(), Data: req.GetData(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &workflowservice.RegisterNamespaceResponse{}, nil
}

// ListNamespaces lists every namespace (one page).
func (s *Service) ListNamespaces(ctx context.Context, req *workflowservice.ListNamespacesRequest) (*workflowservice.ListNamespacesResponse, error) {
	all, err := s.e.ListNamespaces(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &workflowservice.ListNamespacesResponse{}
	for _, ns := range all {
		info, cfg := s.namespaceInfo(ns)
		resp.Namespaces = append(resp.Namespaces, &workflowservice.DescribeNamespaceResponse{NamespaceInfo: info, Config: cfg, ReplicationConfig: replication()})
	}
	return resp, nil
}

// UpdateNamespace changes a namespace's description, owner, data and retention.
func (s *Service) UpdateNamespace(ctx context.Context, req *workflowservice.UpdateNamespaceRequest) (*workflowservice.UpdateNamespaceResponse, error) {
	ns, err := s.e.Namespace(ctx, req.GetNamespace())
	if err != nil {
		return nil, namespaceErr(req.GetNamespace(), err)
	}
	upd := *ns
	if ui := req.GetUpdateInfo(); ui != nil {
		if ui.GetDescription() != "" {
			upd.Description = ui.GetDescription()
		}
		if ui.GetOwnerEmail() != "" {
			upd.OwnerEmail = ui.GetOwnerEmail()
		}
		if len(ui.GetData()) > 0 {
			upd.Data = map[string]string{}
			for k, v := range ns.Data {
				upd.Data[k] = v
			}
			for k, v := range ui.GetData() {
				upd.Data[k] = v
			}
		}
	}
	if c := req.GetConfig(); c != nil && c.GetWorkflowExecutionRetentionTtl() != nil {
		upd.Retention = c.GetWorkflowExecutionRetentionTtl().AsDuration()
	}
	if err := s.e.UpdateNamespace(ctx, upd); err != nil {
		return nil, toStatus(err)
	}
	info, cfg := s.namespaceInfo(&upd)
	return &workflowservice.UpdateNamespaceResponse{NamespaceInfo: info, Config: cfg, ReplicationConfig: replication()}, nil
}

// ShutdownWorker hands the workflow tasks waiting on the stopping worker's sticky queue back to
// their normal queues at once, instead of after the sticky timeout.
func (s *Service) ShutdownWorker(ctx context.Context, req *workflowservice.ShutdownWorkerRequest) (*workflowservice.ShutdownWorkerResponse, error) {
	if req.GetStickyTaskQueue() == "" {
		return &workflowservice.ShutdownWorkerResponse{}, nil
	}
	if _, err := s.e.Namespace(ctx, req.GetNamespace()); err != nil {
		return nil, namespaceErr(req.GetNamespace(), err)
	}
	if err := s.e.ReleaseStickyQueue(ctx, req.GetNamespace(), req.GetStickyTaskQueue()); err != nil {
		return nil, toStatus(err)
	}
	return &workflowservice.ShutdownWorkerResponse{}, nil
}

// ResetStickyTaskQueue is accepted as a no-op (no SDK calls it in production).
func (s *Service) ResetStickyTaskQueue(ctx context.Context, req *workflowservice.ResetStickyTaskQueueRequest) (*workflowservice.ResetStickyTaskQueueResponse, error) {
	return &workflowservice.ResetStickyTaskQueueResponse{}, nil
}

// DescribeTaskQueue reports a queue's recent pollers and its backlog.
func (s *Service) DescribeTaskQueue(ctx context.Context, req *workflowservice.DescribeTaskQueueRequest) (*workflowservice.DescribeTaskQueueResponse, error) {
	if _, err := s.e.Namespace(ctx, req.GetNamespace()); err != nil {
		return nil, namespaceErr(req.GetNamespace(), err)
	}
	if req.GetTaskQueue().GetName() == "" {
		return nil, serviceerror.NewInvalidArgument("TaskQueue is not set on request.")
	}
	kind := store.TaskWorkflow
	if req.GetTaskQueueType() == enumspb.TASK_QUEUE_TYPE_ACTIVITY {
		kind = store.TaskActivity
	}
	key := store.TaskQueueKey{Namespace: req.GetNamespace(), Name: req.GetTaskQueue().GetName(), Kind: kind}
	resp := &workflowservice.DescribeTaskQueueResponse{}
	if req.GetIncludeTaskQueueStatus() {
		n, err := s.e.Backlog(ctx, key)
		if err != nil {
			return nil, toStatus(err)
		}
		resp.TaskQueueStatus = &taskqueuepb.TaskQueueStatus{BacklogCountHint: n}
	}
	for id, at := range s.m.Pollers(key) {
		resp.Pollers = append(resp.Pollers, pollerInfo(id, at))
	}
	return resp, nil
}

func pollerInfo(id string, at time.Time) *taskqueuepb.PollerInfo {
	return &taskqueuepb.PollerInfo{Identity: id, LastAccessTime: timestamppb.New(at)}
}
