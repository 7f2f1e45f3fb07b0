package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/duro-dev/duro/internal/batch"
	"github.com/duro-dev/duro/internal/cluster"
	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/frontend/temporal"
	"github.com/duro-dev/duro/internal/matching"
	"github.com/duro-dev/duro/internal/schedule"
	"github.com/duro-dev/duro/internal/stepfn"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/storeopen"
	"github.com/duro-dev/duro/internal/timer"
)

// Server is one Duro node.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	engine  *engine.Engine
	matcher *matching.Matcher
	timers  *timer.Loop
	batch   *batch.Manager // batch operations (StartBatchOperation…) and their loop
	// notifier wakes the pollers of the other nodes sharing a PostgreSQL store (nil on SQLite).
	notifier *cluster.Notifier
	grpc     *grpc.Server
	health   *health.Server
	grpcLis  net.Listener
	httpLis  net.Listener
	http     *http.Server
	// sfn serves the Step Functions API (nil when SFNAddr is empty); stepfn runs its local tasks.
	sfnLis net.Listener
	sfn    *http.Server
	stepfn *stepfn.Service

	// schedules runs Temporal Schedules: their API and the loop that fires them.
	schedules *schedule.Scheduler

	// node is this node's ID, members its membership row and view of the others (PostgreSQL).
	node    string
	members *cluster.Membership
}

// New validates cfg, opens and migrates the store and binds the listeners, so the addresses are known
// (and a port conflict is reported) before Run.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		level, _ := parseLevel(cfg.LogLevel)
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	st, err := storeopen.Open(ctx, cfg.Store)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: st}
	s.matcher = matching.New(matching.Config{Store: st, Clock: cfg.Clock, Logger: log, IsStale: engine.IsStaleTask})
	s.timers = timer.New(timer.Config{Store: st, Clock: cfg.Clock, Logger: log})
	if isPostgres(cfg.Store) {
		if s.node, err = cluster.NewNodeID(); err != nil {
			st.Close()
			return nil, err
		}
		// Timers need no cross-node wake-up: the node that commits a timer notifies its own loop,
		// which fires it on time; the others scan every second (timer.Config.MaxIdle), which bounds
		// the delay only when that node has died (docs/scaling.md). Queries and updates wait in
		// records that any node's pollers read (engine/relay.go): WakeWork, WakeUpdates and
		// Answered only say where to look.
		s.notifier, err = cluster.New(cluster.Config{
			URL: cfg.Store, Logger: log, Wake: s.matcher.Wake, Node: s.node,
			WakeAll: func() { s.engine.RelayWakeAll(); s.engine.HistoryWakeAll(); s.matcher.WakeAll() }, Answered: func(id string) { s.engine.RelayAnswer(id) },
			WakeWork: func(k store.TaskQueueKey) { s.engine.RelayWork(k); s.matcher.Wake(k) }, WakeUpdates: func(runID string) { s.engine.RelayUpdates(runID) },
			WakeRun: func(runID string) { s.engine.HistoryChanged(runID); s.schedules.RunChanged(runID) },
		})
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("cluster notifier: %w", err)
		}
	}
	s.engine = engine.New(engine.Config{
		Store: st, Clock: cfg.Clock, Logger: log, MaxPayloadBytes: cfg.MaxPayloadBytes,
		HistoryWarnEvents: cfg.HistoryWarnEvents, HistoryMaxEvents: cfg.HistoryMaxEvents,
		HistoryWarnBytes: cfg.HistoryWarnBytes, HistoryMaxBytes: cfg.HistoryMaxBytes,
		OnTask: s.onTask, OnTimer: s.timers.Notify, OnQuery: s.matcher.Wake, OnHistory: s.onHistory,
		SFNTaskToken: stepfn.EncodeToken, SFNMaxHistoryEvents: cfg.SFN.MaxHistoryEvents,
	})
	s.timers.SetFire(s.engine.FireTimer)
	if s.notifier != nil {
		s.engine.EnableRelay(engine.RelayConfig{Node: s.node, DeadAfter: cluster.DefaultMemberTTL,
			Alive:       func(node string) bool { return s.members == nil || s.members.Alive(node) },
			PublishWork: s.notifier.PublishWork, PublishUpdates: s.notifier.PublishUpdates, PublishAnswer: s.notifier.PublishAnswer})
	}
	if err := s.engine.EnsureDefaultNamespace(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("create default namespace: %w", err)
	}

	s.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("listen on %s (Temporal API): %w", cfg.GRPCAddr, err)
	}
	if cfg.HTTPAddr != "" {
		s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			s.grpcLis.Close()
			st.Close()
			return nil, fmt.Errorf("listen on %s (HTTP): %w", cfg.HTTPAddr, err)
		}
	}
	s.grpc = grpc.NewServer(
		// The SDKs ping every 30 s even when idle; Temporal's own policy accepts that.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.MaxRecvMsgSize(128*1024*1024),
		grpc.MaxSendMsgSize(128*1024*1024),
		grpc.ChainUnaryInterceptor(temporal.StatusInterceptor(), temporal.RecoverInterceptor(log)),
	)
	storeKind := "sqlite"
	if isPostgres(cfg.Store) {
		storeKind = "postgresql"
	}
	svc := temporal.New(temporal.Config{Engine: s.engine, Matcher: s.matcher, Logger: log, MaxPayloadBytes: cfg.MaxPayloadBytes, LongPollTimeout: cfg.LongPollTimeout, Store: storeKind})
	s.batch = batch.New(batch.Config{Store: st, Engine: s.engine, Clock: cfg.Clock, Logger: log,
		MaxOperationsPerSecond: cfg.BatchMaxOperationsPerSecond, MaxConcurrentPerNamespace: cfg.BatchMaxConcurrentPerNamespace})
	s.schedules = schedule.New(schedule.Config{Store: st, Engine: s.engine, Clock: cfg.Clock, Logger: log})
	workflowservice.RegisterWorkflowServiceServer(s.grpc, temporal.WithSchedules(
		temporal.WithBatchOperations(svc, s.engine, s.batch, cfg.MaxPayloadBytes), s.engine, s.schedules, cfg.MaxPayloadBytes))
	temporal.NewOperator(s.engine).Register(s.grpc)
	s.health = health.NewServer()
	s.health.SetServingStatus("temporal.api.workflowservice.v1.WorkflowService", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s.grpc, s.health)
	if s.httpLis != nil {
		s.http = &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	}
	if err := s.newSFN(cfg); err != nil {
		s.grpcLis.Close()
		if s.httpLis != nil {
			s.httpLis.Close()
		}
		st.Close()
		return nil, err
	}
	return s, nil
}

// newSFN builds the Step Functions API on the engine and binds its listener.
func (s *Server) newSFN(cfg Config) error {
	var res *stepfn.Resources
	if cfg.SFN.ResourcesFile != "" {
		var err error
		if res, err = stepfn.LoadResources(cfg.SFN.ResourcesFile); err != nil {
			return err
		}
	}
	arns := sfn.Config{Region: cfg.SFN.Region, Account: cfg.SFN.Account}.WithDefaults()
	s.stepfn = stepfn.New(stepfn.Config{
		Store: s.store, Namespace: cfg.SFN.Namespace, ARN: arns, Clock: cfg.Clock, Logger: s.log,
		Engine: s.engine, Matcher: s.matcher, PollTimeout: cfg.SFN.PollTimeout, Resources: res,
	})
	if cfg.SFNAddr == "" {
		return nil
	}
	lis, err := net.Listen("tcp", cfg.SFNAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (Step Functions API): %w", cfg.SFNAddr, err)
	}
	h := sfn.NewHandler(arns, s.stepfn, s.log)
	if len(cfg.SFN.AccessKeys) > 0 {
		h.RequireSignatures(cfg.SFN.AccessKeys, cfg.Clock)
	}
	s.sfnLis = lis
	s.sfn = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// SFNAddr is the bound Step Functions API address ("" if disabled).
func (s *Server) SFNAddr() string {
	if s.sfnLis == nil {
		return ""
	}
	return s.sfnLis.Addr().String()
}

// onTask runs after the commit of every new task row: a waiting poller of this node takes it at
// once; otherwise the other nodes are told (coalesced) to look at the queue's backlog.
func (s *Server) onTask(t *store.Task) {
	if s.matcher.Offer(t) || s.notifier == nil {
		return
	}
	s.notifier.Publish(t.TaskQueueKey)
}

// onHistory runs after the commit of every transition that appended events: history long polls
// of the run on other nodes (a client waiting for the result, say) re-read it.
func (s *Server) onHistory(runID string) {
	s.schedules.RunChanged(runID) // a schedule waiting for this run to close looks at it
	if s.notifier != nil {
		s.notifier.PublishRun(runID)
	}
}

func isPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// GRPCAddr is the bound Temporal API address.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr is the bound health/metrics address ("" if disabled).
func (s *Server) HTTPAddr() string {
	if s.httpLis == nil {
		return ""
	}
	return s.httpLis.Addr().String()
}

// Run serves until ctx is done, then stops gracefully: the API first (long polls end at once with
// empty answers, a poll already claiming a task returns it, other calls finish and their
// transitions commit), then the timer loop, then the committer drains, then the store closes.
func (s *Server) Run(ctx context.Context) error {
	coreCtx, stopCore := context.WithCancel(context.Background())
	defer stopCore()
	core, _ := errgroup.WithContext(coreCtx)
	core.Go(func() error { return s.engine.Run(coreCtx) })
	timersCtx, stopTimers := context.WithCancel(coreCtx)
	defer stopTimers()
	core.Go(func() error { return s.timers.Run(timersCtx) })
	// Schedules stop with the timers: their starts need the committer.
	schedCtx, stopSchedules := context.WithCancel(coreCtx)
	defer stopSchedules()
	core.Go(func() error { return s.schedules.Run(schedCtx) })
	// Batch jobs stop first: their operations need the committer, and they release their jobs.
	batchCtx, stopBatch := context.WithCancel(coreCtx)
	defer stopBatch()
	core.Go(func() error { return s.batch.Run(batchCtx) })
	if s.notifier != nil {
		core.Go(func() error { return s.notifier.Run(coreCtx) })
		// The membership row is written before the node serves and deleted when the core stops.
		host, _ := os.Hostname()
		s.members = cluster.NewMembership(cluster.MembershipConfig{Store: s.store, Clock: s.cfg.Clock, Logger: s.log,
			Self: cluster.Member{ID: s.node, GRPCAddr: s.GRPCAddr(), HTTPAddr: s.HTTPAddr(), SFNAddr: s.SFNAddr(), Host: host, PID: os.Getpid()}})
		if err := s.members.Register(ctx); err != nil {
			s.log.Warn("cluster: cannot register now; the heartbeats will", "error", err)
		}
		core.Go(func() error { return s.members.Run(coreCtx) })
		core.Go(func() error { return s.engine.RunRelay(coreCtx) })
	}
	localCtx, stopLocal := context.WithCancel(coreCtx)
	defer stopLocal()
	core.Go(func() error { s.stepfn.RunLocal(localCtx); return nil })

	api, apiCtx := errgroup.WithContext(ctx)
	api.Go(func() error {
		if err := s.grpc.Serve(s.grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("serve gRPC: %w", err)
		}
		return nil
	})
	if s.http != nil {
		api.Go(func() error {
			if err := s.http.Serve(s.httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve HTTP: %w", err)
			}
			return nil
		})
	}
	if s.sfn != nil {
		api.Go(func() error {
			if err := s.sfn.Serve(s.sfnLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve Step Functions API: %w", err)
			}
			return nil
		})
	}
	api.Go(func() error {
		<-apiCtx.Done()
		// Long polls would hold a graceful stop for up to a minute, and a hard stop would drop
		// the answer of a poll that has just claimed a task: end the waiting ones first.
		stopLocal()
		s.matcher.Drain()
		s.health.Shutdown()
		done := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.grpc.Stop() // a call stuck on the store must not hold the node forever
		}
		for _, h := range []*http.Server{s.http, s.sfn} {
			if h == nil {
				continue
			}
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = h.Shutdown(sctx)
			cancel()
		}
		return nil
	})
	s.log.Info("duro serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr(), "sfn", s.SFNAddr(), "store", storeopen.Redact(s.cfg.Store))
	apiErr := api.Wait()
	stopBatch()
	stopSchedules()
	stopTimers()
	stopCore()
	coreErr := core.Wait()
	closeErr := s.store.Close()
	return errors.Join(apiErr, coreErr, closeErr)
}

func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := s.store.GetNamespace(ctx, engine.DefaultNamespace); err != nil {
			http.Error(w, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		s.engine.WriteMetrics(w)
		if s.members != nil {
			s.members.WriteMetrics(w)
		}
	})
	return mux
}
