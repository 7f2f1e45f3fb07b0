package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/store"
)

// Membership rows: every node sharing the store keeps one record of kind [MemberKind] (namespace
// "", which no Temporal namespace can be; name = node ID) saying who it is and until when it
// counts as alive (the record's WakeAt). It rewrites the record every heartbeat, deletes it when
// it stops gracefully, and deletes the records of other nodes whose expiry has passed (a node
// that was killed). Nothing here elects anyone: the rows only tell a node which others are alive,
// so that it can tell work held by a dead node (a query or a speculative workflow task handed to
// a worker there) from work held by a live one, and show the cluster (/metrics, logs).
//
// Expiry is compared with each node's own clock: the nodes' clocks must agree to well within the
// TTL (NTP does; the default TTL is 10 s).

// MemberKind is the record kind of membership rows.
const MemberKind = "cluster.node"

// Member is one node as its membership row describes it.
type Member struct {
	ID       string `json:"id"`
	GRPCAddr string `json:"grpc"`
	HTTPAddr string `json:"http,omitempty"`
	SFNAddr  string `json:"sfn,omitempty"`
	Host     string `json:"host,omitempty"`
	PID      int    `json:"pid,omitempty"`
	// Started is when the node registered; Heartbeat its last heartbeat. Expires is when the
	// row stops counting (the record's WakeAt).
	Started   time.Time `json:"started"`
	Heartbeat time.Time `json:"heartbeat"`
	Expires   time.Time `json:"-"`
}

// MembershipConfig wires a [Membership].
type MembershipConfig struct {
	Store  store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// Self describes this node (ID and addresses; the times are set by Membership).
	Self Member
	// Heartbeat is how often the row is rewritten and the view of the others refreshed
	// (default 2 s); TTL is how long a row counts after its last heartbeat (default 10 s).
	Heartbeat, TTL time.Duration
}

// Membership keeps this node's row and a view of the live rows.
type Membership struct {
	cfg MembershipConfig

	mu       sync.Mutex
	version  int64 // of this node's row; 0 when it has none
	started  time.Time
	live     map[string]Member // the last view, this node included
	viewedAt time.Time         // when live was read (zero: never)
}

// NewMembership builds a Membership; Register and Run do the I/O.
func NewMembership(cfg MembershipConfig) *Membership {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 2 * time.Second
	}
	if cfg.TTL <= cfg.Heartbeat {
		cfg.TTL = max(DefaultMemberTTL, 3*cfg.Heartbeat)
	}
	return &Membership{cfg: cfg, live: map[string]Member{}}
}

// Self is this node's ID.
func (m *Membership) Self() string { return m.cfg.Self.ID }

// TTL is how long a row counts after its last heartbeat.
func (m *Membership) TTL() time.Duration { return m.cfg.TTL }

// Register writes this node's row and reads the others; a node registers before it serves.
func (m *Membership) Register(ctx context.Context) error {
	m.mu.Lock()
	m.started = m.cfg.Clock.Now().UTC()
	m.mu.Unlock()
	if err := m.heartbeat(ctx); err != nil {
		return err
	}
	m.cfg.Logger.Info("cluster: registered", "node", m.cfg.Self.ID, "ttl", m.cfg.TTL)
	if err := m.refresh(ctx); err != nil {
		return err
	}
	return nil
}

// Run heartbeats, sweeps expired rows and refreshes the view until ctx ends, then deletes this
// node's row (a graceful stop: the others see it leave at once instead of after the TTL).
// Database errors are logged and retried at the next beat; the row expires only if they last
// longer than the TTL.
func (m *Membership) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.deregister()
			return nil
		case <-t.C:
		}
		if err := m.heartbeat(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Logger.Warn("cluster: heartbeat failed", "node", m.cfg.Self.ID, "error", err)
		}
		if err := m.sweep(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Logger.Warn("cluster: cannot sweep expired nodes", "error", err)
		}
		if err := m.refresh(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Logger.Warn("cluster: cannot read the members", "error", err)
		}
	}
}

// heartbeat rewrites this node's row with a new expiry, inserting it again if it is gone (swept
// by another node after an outage longer than the TTL).
func (m *Membership) heartbeat(ctx context.Context) error {
	m.mu.Lock()
	self := m.cfg.Self
	self.Started = m.started
	version := m.version
	m.mu.Unlock()
	now := m.cfg.Clock.Now().UTC()
	self.Heartbeat = now
	data, err := json.Marshal(self)
	if err != nil {
		return fmt.Errorf("encode membership row: %w", err)
	}
	rec := store.Record{Kind: MemberKind, Name: self.ID, Data: data, WakeAt: now.Add(m.cfg.TTL), UpdatedAt: now}
	v, err := m.cfg.Store.PutRecord(ctx, rec, version)
	if version != 0 && (errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict)) {
		m.cfg.Logger.Warn("cluster: membership row was gone; registering again", "node", self.ID)
		v, err = m.cfg.Store.PutRecord(ctx, rec, 0)
		if errors.Is(err, store.ErrAlreadyExists) {
			var cur *store.Record
			if cur, err = m.cfg.Store.GetRecord(ctx, "", MemberKind, self.ID); err == nil {
				v, err = m.cfg.Store.PutRecord(ctx, rec, cur.Version)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("write membership row of %s: %w", self.ID, err)
	}
	m.mu.Lock()
	m.version = v
	m.mu.Unlock()
	return nil
}

// sweep deletes the rows whose expiry passed, each at the version read (a node that heartbeats
// meanwhile keeps its row).
func (m *Membership) sweep(ctx context.Context) error {
	now := m.cfg.Clock.Now().UTC()
	expired, err := m.cfg.Store.ListDueRecords(ctx, MemberKind, now, 100)
	if err != nil {
		return fmt.Errorf("list expired members: %w", err)
	}
	for _, r := range expired {
		if r.Name == m.cfg.Self.ID {
			continue // late heartbeats of our own: the next one renews it
		}
		err := m.cfg.Store.DeleteRecord(ctx, r.Namespace, r.Kind, r.Name, r.Version)
		if err == nil {
			m.cfg.Logger.Info("cluster: node expired; its row is removed", "node", r.Name, "expired", r.WakeAt)
		} else if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete expired member %s: %w", r.Name, err)
		}
	}
	return nil
}

// refresh reads the live rows and logs the nodes that joined or left since the last view.
func (m *Membership) refresh(ctx context.Context) error {
	recs, err := m.cfg.Store.ListRecords(ctx, "", MemberKind, "", 0)
	if err != nil {
		return fmt.Errorf("list members: %w", err)
	}
	now := m.cfg.Clock.Now().UTC()
	live := map[string]Member{}
	for _, r := range recs {
		if !r.WakeAt.After(now) {
			continue // expired: ignored until someone sweeps it
		}
		var mem Member
		if err := json.Unmarshal(r.Data, &mem); err != nil {
			m.cfg.Logger.Warn("cluster: ignoring a malformed membership row", "node", r.Name, "error", err)
			continue
		}
		mem.ID, mem.Expires = r.Name, r.WakeAt
		live[mem.ID] = mem
	}
	m.mu.Lock()
	old, first := m.live, m.viewedAt.IsZero()
	m.live, m.viewedAt = live, now
	m.mu.Unlock()
	for id, mem := range live {
		if _, ok := old[id]; !ok && id != m.cfg.Self.ID {
			verb := "joined"
			if first {
				verb = "is a member"
			}
			m.cfg.Logger.Info("cluster: node "+verb, "node", id, "grpc", mem.GRPCAddr, "members", len(live))
		}
	}
	for id := range old {
		if _, ok := live[id]; !ok {
			m.cfg.Logger.Info("cluster: node left", "node", id, "members", len(live))
		}
	}
	return nil
}

// deregister deletes this node's row, on its own short deadline: the node's context has ended.
func (m *Membership) deregister() {
	m.mu.Lock()
	version := m.version
	m.version = 0
	m.mu.Unlock()
	if version == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.cfg.Store.DeleteRecord(ctx, "", MemberKind, m.cfg.Self.ID, 0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		m.cfg.Logger.Warn("cluster: cannot delete the membership row; it expires instead", "node", m.cfg.Self.ID, "error", err)
		return
	}
	m.cfg.Logger.Info("cluster: deregistered", "node", m.cfg.Self.ID)
}

// Members returns the live nodes of the last view, ordered by ID.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.live))
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Alive reports whether node counts as alive: this node always; another if the last view lists
// it — or if that view is too old to tell (the database was unreachable for longer than the
// TTL): when in doubt a node is alive, so that nothing it holds is taken from it.
func (m *Membership) Alive(node string) bool {
	if node == m.cfg.Self.ID {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg.Clock.Now().Sub(m.viewedAt) > m.cfg.TTL {
		return true
	}
	_, ok := m.live[node]
	return ok
}

// WriteMetrics writes the membership view in Prometheus' text format: how many nodes are alive,
// and one duro_cluster_member series per node, labelled with its ID and addresses.
func (m *Membership) WriteMetrics(w io.Writer) {
	members := m.Members()
	fmt.Fprintf(w, "# TYPE duro_cluster_nodes gauge\nduro_cluster_nodes %d\n", len(members))
	fmt.Fprintf(w, "# TYPE duro_cluster_member gauge\n")
	for _, mem := range members {
		self := "0"
		if mem.ID == m.cfg.Self.ID {
			self = "1"
		}
		fmt.Fprintf(w, "duro_cluster_member{node=%s,grpc=%s,self=%s} %d\n",
			strconv.Quote(mem.ID), strconv.Quote(mem.GRPCAddr), strconv.Quote(self), mem.Heartbeat.Unix())
	}
}

// DefaultMemberTTL is how long a membership row counts after its last heartbeat by default.
const DefaultMemberTTL = 10 * time.Second
