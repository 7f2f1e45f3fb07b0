package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

func openStore(t *testing.T, url string) store.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func ids(ms []Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// TestMembership drives two nodes' memberships by hand on one schema, with a manual clock: they
// see each other once registered, a heartbeat moves the expiry on, a node past its expiry is
// not counted and is swept by the other, and a deregistered node is gone at once.
func TestMembership(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	clk := clock.NewManual()
	ctx := t.Context()
	newMember := func(id string) *Membership {
		return NewMembership(MembershipConfig{Store: openStore(t, url), Clock: clk, Self: Member{ID: id, GRPCAddr: "127.0.0.1:" + id}})
	}
	a, b := newMember("7001"), newMember("7002")
	require.NoError(t, a.Register(ctx))
	require.NoError(t, b.Register(ctx))
	require.NoError(t, a.refresh(ctx))
	require.Equal(t, []string{"7001", "7002"}, ids(a.Members()))
	require.True(t, a.Alive("7002"))
	require.False(t, a.Alive("7003"), "a node with no row is not alive")
	require.Equal(t, "127.0.0.1:7002", b.Members()[1].GRPCAddr)

	// b stops heartbeating; a keeps on. Past b's TTL, a no longer counts b, and its sweep
	// deletes b's row.
	before := a.Members()[1].Expires
	clk.Advance(a.TTL() / 2)
	require.NoError(t, a.heartbeat(ctx))
	require.NoError(t, a.refresh(ctx))
	require.True(t, a.Members()[0].Expires.After(before), "a heartbeat moves the expiry on")
	clk.Advance(a.TTL()/2 + time.Second)
	require.NoError(t, a.heartbeat(ctx))
	require.NoError(t, a.refresh(ctx))
	require.Equal(t, []string{"7001"}, ids(a.Members()), "an expired row is ignored")
	require.False(t, a.Alive("7002"))
	require.NoError(t, a.sweep(ctx))
	_, err := a.cfg.Store.GetRecord(ctx, "", MemberKind, "7002")
	require.ErrorIs(t, err, store.ErrNotFound, "the expired row is deleted")

	// b comes back (its row was swept): its next heartbeat registers it again.
	require.NoError(t, b.heartbeat(ctx))
	require.NoError(t, a.refresh(ctx))
	require.Equal(t, []string{"7001", "7002"}, ids(a.Members()))

	// A graceful stop deletes the row at once.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(runCtx) }()
	stop()
	require.NoError(t, <-done)
	require.NoError(t, a.refresh(ctx))
	require.Equal(t, []string{"7001"}, ids(a.Members()), "a deregistered node is gone before its TTL")
}

// TestAliveWhenInDoubt: a view older than the TTL (the database unreachable) cannot tell a dead
// node from a live one, so every node counts as alive and nothing is taken from it.
func TestAliveWhenInDoubt(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	clk := clock.NewManual()
	m := NewMembership(MembershipConfig{Store: openStore(t, url), Clock: clk, Self: Member{ID: "self"}})
	require.NoError(t, m.Register(t.Context()))
	require.False(t, m.Alive("other"))
	clk.Advance(m.TTL() + time.Second)
	require.True(t, m.Alive("other"), "a stale view tells nothing")
	require.True(t, m.Alive("self"))
}
