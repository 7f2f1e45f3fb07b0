// Package cluster holds what the stateless nodes sharing one PostgreSQL database need from each
// other: membership rows with heartbeats and expiry ([Membership]), and a coalesced cross-node
// wake-up through LISTEN/NOTIFY ([Notifier]) for task queues (a poller of another node re-reads
// the backlog), for histories (a history long poll of another node, such as a client waiting for
// a workflow's result, re-reads the run), and for the queries and updates the engine relays
// between nodes through database records (a poller looks for the records waiting for its queue,
// a waiting caller re-reads the record of its query or the updates of its run).
//
// The database stays the only truth (DESIGN.md, invariant 6). A task is a row committed by the
// transition that created it, claimed by the transition that deletes it; a notification only tells
// the other nodes' waiting pollers to re-read the backlog sooner than their next poll. So:
//
//   - a notification may be lost (the connection dropped, the node was busy): the pollers find the
//     row on their next backlog read anyway, and after every (re)connect the notifier wakes every
//     local poller once, so a disconnection costs at most one extra read per poller;
//   - a notification may arrive twice or for a row already claimed: a re-read finds nothing, or a
//     claim loses the DELETE race and is dropped as stale;
//   - notifications are coalesced: keys published within one window (a few milliseconds) leave in
//     one NOTIFY, each queue at most once, so a burst of commits costs the database one small
//     message per window, not one per task.
//
// The notifier runs on connections of its own, outside the store's pool: LISTEN pins a session,
// and a wake-up must never wait behind (or hold up) the store's transactions.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duro-dev/duro/internal/store"
)

// Config wires a [Notifier].
type Config struct {
	// URL is the store's database URL; the notifier opens its own connections to it, on the same
	// schema (its channel is named after the schema, so clusters sharing one database on different
	// schemas do not wake each other).
	URL string
	// Logger receives connection losses and reconnects.
	Logger *slog.Logger
	// Wake is called when another node committed task rows of a queue.
	Wake func(store.TaskQueueKey)
	// WakeRun is called when another node appended to a run's history.
	WakeRun func(runID string)
	// WakeWork is called when another node has a query or a speculative workflow task waiting
	// for a poller of a queue (engine records).
	WakeWork func(store.TaskQueueKey)
	// WakeUpdates is called when another node changed the update records of a run.
	WakeUpdates func(runID string)
	// Answered is called when another node recorded the answer to a query.
	Answered func(queryID string)
	// WakeAll is called after every successful LISTEN (the first and each reconnect): whatever was
	// published while the node was not listening must be looked for.
	WakeAll func()
	// Coalesce is how long published keys gather before one NOTIFY carries them (default 2 ms).
	Coalesce time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnect attempts (default 100 ms, 5 s).
	MinBackoff, MaxBackoff time.Duration
	// IdleCheck is how long the listener waits for a notification before it pings its connection,
	// so a silently dead connection is noticed (default 15 s).
	IdleCheck time.Duration
	// Node is this node's ID, carried by every notification so that a node ignores its own;
	// empty means a random one.
	Node string
}

// WithDefaults returns c with every unset field given its default.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Wake == nil {
		c.Wake = func(store.TaskQueueKey) {}
	}
	if c.WakeRun == nil {
		c.WakeRun = func(string) {}
	}
	if c.WakeAll == nil {
		c.WakeAll = func() {}
	}
	if c.WakeWork == nil {
		c.WakeWork = func(store.TaskQueueKey) {}
	}
	if c.WakeUpdates == nil {
		c.WakeUpdates = func(string) {}
	}
	if c.Answered == nil {
		c.Answered = func(string) {}
	}
	if c.Coalesce <= 0 {
		c.Coalesce = 2 * time.Millisecond
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(5*time.Second, c.MinBackoff)
	}
	if c.IdleCheck <= 0 {
		c.IdleCheck = 15 * time.Second
	}
	return c
}

// Notifier publishes this node's wake-ups (task queue keys, runs, query and update signals) to
// the other nodes and delivers theirs. The Publish methods are safe for concurrent use and never
// block; Run does the I/O.
type Notifier struct {
	cfg    Config
	connCf *pgx.ConnConfig
	node   string // so a node ignores its own notifications

	mu      sync.Mutex
	pending batch // published, not yet sent
	kick    chan struct{}

	published, notifies, received, reconnects atomic.Int64
}

// Stats counts what a notifier did, for tests and metrics.
type Stats struct {
	Published  int64 // keys, runs and IDs handed to the Publish methods
	Notifies   int64 // NOTIFY messages sent
	Received   int64 // keys and runs received from other nodes
	Reconnects int64 // successful LISTENs after the first
}

// maxPayload keeps one NOTIFY under PostgreSQL's 8000-byte payload limit.
const maxPayload = 7000

// New parses cfg.URL and builds a Notifier; Run must be running for it to do anything.
func New(cfg Config) (*Notifier, error) {
	cfg = cfg.WithDefaults()
	// Parse as the store does, so pool settings in the URL (pool_max_conns…) are not sent to the
	// server as run-time parameters.
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	node := cfg.Node
	if node == "" {
		if node, err = NewNodeID(); err != nil {
			return nil, err
		}
	}
	return &Notifier{cfg: cfg, connCf: pc.ConnConfig, node: node, pending: newBatch(), kick: make(chan struct{}, 1)}, nil
}

// NewNodeID returns a random node ID (16 hex digits).
func NewNodeID() (string, error) {
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	return hex.EncodeToString(id[:]), nil
}

// Publish announces that task rows of key were committed. It only records the key; the sender
// coalesces keys into one NOTIFY per window.
func (n *Notifier) Publish(key store.TaskQueueKey) {
	n.add(func(b *batch) { b.keys[key] = struct{}{} })
}

// PublishRun announces that a run's history grew, coalesced like [Notifier.Publish].
func (n *Notifier) PublishRun(runID string) { n.add(func(b *batch) { b.runs[runID] = struct{}{} }) }

// PublishWork announces that a query or a speculative workflow task waits for a poller of key.
func (n *Notifier) PublishWork(key store.TaskQueueKey) {
	n.add(func(b *batch) { b.work[key] = struct{}{} })
}

// PublishUpdates announces that the update records of a run changed.
func (n *Notifier) PublishUpdates(runID string) {
	n.add(func(b *batch) { b.updates[runID] = struct{}{} })
}

// PublishAnswer announces that the answer to a query was recorded.
func (n *Notifier) PublishAnswer(queryID string) {
	n.add(func(b *batch) { b.answers[queryID] = struct{}{} })
}

func (n *Notifier) add(f func(*batch)) {
	n.mu.Lock()
	f(&n.pending)
	n.mu.Unlock()
	n.published.Add(1)
	n.poke()
}

func (n *Notifier) poke() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Stats returns the notifier's counters so far.
func (n *Notifier) Stats() Stats {
	return Stats{Published: n.published.Load(), Notifies: n.notifies.Load(), Received: n.received.Load(), Reconnects: n.reconnects.Load()}
}

// Run listens and sends until ctx is done. Connection failures are logged and retried with
// backoff; Run returns nil when ctx ends.
func (n *Notifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); n.listen(ctx) }()
	go func() { defer wg.Done(); n.send(ctx) }()
	wg.Wait()
	return nil
}

// message is one NOTIFY payload: the sending node, the queue keys as [kind, namespace, name] of
// new task rows (k) and of waiting queries or speculative tasks (w), the run IDs whose history
// grew (r) or whose update records changed (u), and the IDs of answered queries (a).
type message struct {
	Node    string   `json:"n"`
	Keys    [][]any  `json:"k,omitempty"`
	Work    [][]any  `json:"w,omitempty"`
	Runs    []string `json:"r,omitempty"`
	Updates []string `json:"u,omitempty"`
	Answers []string `json:"a,omitempty"`
}

// batch is what waits to be sent: sets, so a burst of publishes of one key leaves once.
type batch struct {
	keys, work             map[store.TaskQueueKey]struct{}
	runs, updates, answers map[string]struct{}
}

func newBatch() batch {
	return batch{keys: map[store.TaskQueueKey]struct{}{}, work: map[store.TaskQueueKey]struct{}{},
		runs: map[string]struct{}{}, updates: map[string]struct{}{}, answers: map[string]struct{}{}}
}

func (b batch) empty() bool {
	return len(b.keys)+len(b.work)+len(b.runs)+len(b.updates)+len(b.answers) == 0
}

// merge adds o's entries to b.
func (b batch) merge(o batch) {
	for k := range o.keys {
		b.keys[k] = struct{}{}
	}
	for k := range o.work {
		b.work[k] = struct{}{}
	}
	for _, pair := range [][2]map[string]struct{}{{b.runs, o.runs}, {b.updates, o.updates}, {b.answers, o.answers}} {
		for id := range pair[1] {
			pair[0][id] = struct{}{}
		}
	}
}

// channel is the NOTIFY channel of the schema conn works on: one per schema, within PostgreSQL's
// 63-byte identifier limit.
func channel(ctx context.Context, conn *pgx.Conn) (string, error) {
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", fmt.Errorf("read current schema: %w", err)
	}
	name := "duro_tasks." + schema
	if len(name) > 63 {
		sum := sha256.Sum256([]byte(schema))
		name = "duro_tasks." + hex.EncodeToString(sum[:16])
	}
	return name, nil
}

// connect opens a dedicated connection, retrying with backoff until it succeeds or ctx ends.
func (n *Notifier) connect(ctx context.Context, role string) (*pgx.Conn, string, error) {
	wait := n.cfg.MinBackoff
	for {
		conn, err := pgx.ConnectConfig(ctx, n.connCf.Copy())
		if err == nil {
			var ch string
			if ch, err = channel(ctx, conn); err == nil {
				return conn, ch, nil
			}
			conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		n.cfg.Logger.Warn("cluster notifier: cannot connect; retrying", "role", role, "in", wait, "error", err)
		if !sleep(ctx, jitter(wait)) {
			return nil, "", ctx.Err()
		}
		wait = min(2*wait, n.cfg.MaxBackoff)
	}
}

// listen keeps one LISTENing connection and turns notifications into wake-ups.
func (n *Notifier) listen(ctx context.Context) {
	first := true
	for ctx.Err() == nil {
		conn, ch, err := n.connect(ctx, "listen")
		if err != nil {
			return
		}
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			conn.Close(context.Background())
			if ctx.Err() == nil {
				n.cfg.Logger.Warn("cluster notifier: LISTEN failed; reconnecting", "error", err)
				sleep(ctx, jitter(n.cfg.MinBackoff))
			}
			continue
		}
		if !first {
			n.reconnects.Add(1)
			n.cfg.Logger.Info("cluster notifier: listening again; waking every poller", "channel", ch)
		}
		first = false
		// Anything published while we were not listening is in the backlog: look once.
		n.cfg.WakeAll()
		err = n.receive(ctx, conn)
		conn.Close(context.Background())
		if ctx.Err() == nil {
			n.cfg.Logger.Warn("cluster notifier: listening connection lost; reconnecting", "error", err)
		}
	}
}

// receive delivers notifications from conn until it fails or ctx ends.
func (n *Notifier) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, n.cfg.IdleCheck)
		note, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed() {
				return fmt.Errorf("wait for notification: %w", err)
			}
			// Quiet for a while: make sure the connection is still alive.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping listening connection: %w", err)
			}
			continue
		}
		n.deliver(note.Payload)
	}
}

func (n *Notifier) deliver(payload string) {
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		n.cfg.Logger.Warn("cluster notifier: ignoring a malformed notification", "error", err)
		return
	}
	if m.Node == n.node {
		return // our own: matching already had the rows at commit
	}
	for _, keys := range []struct {
		list [][]any
		wake func(store.TaskQueueKey)
	}{{m.Keys, n.cfg.Wake}, {m.Work, n.cfg.WakeWork}} {
		for _, k := range keys.list {
			if key, ok := decodeKey(k); ok {
				n.received.Add(1)
				keys.wake(key)
			}
		}
	}
	for _, ids := range []struct {
		list []string
		wake func(string)
	}{{m.Runs, n.cfg.WakeRun}, {m.Updates, n.cfg.WakeUpdates}, {m.Answers, n.cfg.Answered}} {
		for _, id := range ids.list {
			n.received.Add(1)
			ids.wake(id)
		}
	}
}

func decodeKey(k []any) (store.TaskQueueKey, bool) {
	if len(k) != 3 {
		return store.TaskQueueKey{}, false
	}
	kind, ok1 := k[0].(float64)
	ns, ok2 := k[1].(string)
	name, ok3 := k[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return store.TaskQueueKey{}, false
	}
	return store.TaskQueueKey{Namespace: ns, Name: name, Kind: store.TaskKind(kind)}, true
}

// send waits for published keys, lets a window's worth gather, and NOTIFYs them.
func (n *Notifier) send(ctx context.Context) {
	var conn *pgx.Conn
	var ch string
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	wait := n.cfg.MinBackoff
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		}
		if !sleep(ctx, n.cfg.Coalesce) {
			return
		}
		b := n.take()
		if b.empty() {
			continue
		}
		if conn == nil {
			var err error
			if conn, ch, err = n.connect(ctx, "notify"); err != nil {
				return
			}
		}
		err := n.notify(ctx, conn, ch, b)
		if err == nil {
			wait = n.cfg.MinBackoff
			continue
		}
		if ctx.Err() != nil {
			return
		}
		// Keep the keys for the next attempt (a notification is a hint, so a repeat is harmless)
		// and reconnect after a pause.
		n.cfg.Logger.Warn("cluster notifier: NOTIFY failed; reconnecting", "in", wait, "error", err)
		conn.Close(context.Background())
		conn = nil
		n.mu.Lock()
		n.pending.merge(b)
		n.mu.Unlock()
		if !sleep(ctx, jitter(wait)) {
			return
		}
		wait = min(2*wait, n.cfg.MaxBackoff)
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
}

// take empties the pending sets and returns what they held.
func (n *Notifier) take() batch {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.pending
	n.pending = newBatch()
	return b
}

// notify sends b in as few payloads as fit, pipelined in one round trip.
func (n *Notifier) notify(ctx context.Context, conn *pgx.Conn, ch string, b batch) error {
	payloads, err := encode(n.node, b)
	if err != nil {
		return err
	}
	q := &pgx.Batch{}
	for _, p := range payloads {
		q.Queue("SELECT pg_notify($1, $2)", ch, p)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.SendBatch(sctx, q).Close(); err != nil {
		return fmt.Errorf("notify %d queues and %d runs: %w", len(b.keys)+len(b.work), len(b.runs)+len(b.updates)+len(b.answers), err)
	}
	n.notifies.Add(int64(len(payloads)))
	return nil
}

// encode packs b into JSON payloads of at most maxPayload bytes each.
func encode(node string, b batch) ([]string, error) {
	var out []string
	m := message{Node: node}
	size := 0
	flush := func() error {
		if len(m.Keys)+len(m.Work)+len(m.Runs)+len(m.Updates)+len(m.Answers) == 0 {
			return nil
		}
		data, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode notification: %w", err)
		}
		out = append(out, string(data))
		m = message{Node: node}
		size = 0
		return nil
	}
	// add appends one entry, flushing first if it would not fit; an entry too long to announce
	// at all (a name of control characters, escaped six-fold) is left out: its readers find the
	// records or rows on their next read anyway.
	add := func(v any, to func()) error {
		eb, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode notification entry: %w", err)
		}
		if len(eb)+64 > maxPayload {
			return nil
		}
		if size+len(eb)+64 > maxPayload {
			if err := flush(); err != nil {
				return err
			}
		}
		to()
		size += len(eb) + 1
		return nil
	}
	for _, keys := range []struct {
		set map[store.TaskQueueKey]struct{}
		dst *[][]any
	}{{b.keys, &m.Keys}, {b.work, &m.Work}} {
		for k := range keys.set {
			v := []any{int32(k.Kind), k.Namespace, k.Name}
			if err := add(v, func() { *keys.dst = append(*keys.dst, v) }); err != nil {
				return nil, err
			}
		}
	}
	for _, ids := range []struct {
		set map[string]struct{}
		dst *[]string
	}{{b.runs, &m.Runs}, {b.updates, &m.Updates}, {b.answers, &m.Answers}} {
		for id := range ids.set {
			if err := add(id, func() { *ids.dst = append(*ids.dst, id) }); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// sleep waits d or until ctx ends; it reports whether the wait was complete.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// jitter spreads reconnects of many nodes over ±25% of d.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(mrand.Int64N(int64(d)/2+1))
}
