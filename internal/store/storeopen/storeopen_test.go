package storeopen

import (
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// roundTrip writes and reads a namespace, proving s is a working store.
func roundTrip(t *testing.T, s store.Store) {
	t.Helper()
	ns := store.Namespace{ID: "id-1", Name: "default", Data: []byte("d"), CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	require.NoError(t, s.CreateNamespace(t.Context(), ns))
	got, err := s.GetNamespace(t.Context(), "default")
	require.NoError(t, err)
	require.Equal(t, ns, *got)
}

func TestOpen(t *testing.T) {
	t.Parallel()
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "duro.db")
		s, err := Open(t.Context(), "sqlite:"+path)
		require.NoError(t, err)
		defer s.Close()
		require.FileExists(t, path)
		roundTrip(t, s)
	})
	for _, scheme := range []string{"postgres", "postgresql"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			spec := pgtest.Schema(t)
			if scheme == "postgresql" {
				spec = "postgresql" + spec[len("postgres"):]
			}
			s, err := Open(t.Context(), spec)
			require.NoError(t, err)
			defer s.Close()
			roundTrip(t, s)
		})
	}
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		spec := "sqlite:" + filepath.Join(t.TempDir(), "duro.db")
		require.NoError(t, Migrate(t.Context(), spec))
		require.NoError(t, Migrate(t.Context(), spec))
		s, err := Open(t.Context(), spec)
		require.NoError(t, err)
		defer s.Close()
		roundTrip(t, s)
	})
	t.Run("Postgres", func(t *testing.T) {
		t.Parallel()
		spec := pgtest.Schema(t)
		require.NoError(t, Migrate(t.Context(), spec))
		require.NoError(t, Migrate(t.Context(), spec))
		s, err := Open(t.Context(), spec)
		require.NoError(t, err)
		defer s.Close()
		roundTrip(t, s)
	})
}

func TestBadSpec(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"", "sqlite:", "duro.db", "mysql://root@localhost/duro", "postgres:/nohost", "SQLITE:x.db"} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			_, err := Open(t.Context(), spec)
			require.ErrorIs(t, err, ErrBadSpec)
			require.ErrorIs(t, Migrate(t.Context(), spec), ErrBadSpec)
		})
	}
}

func TestUnreachablePostgresIsUnavailable(t *testing.T) {
	t.Parallel()
	// A loopback port that was just free: nothing listens there, so the connection is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	_, err = Open(t.Context(), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
	require.Error(t, err)
	require.True(t, IsUnavailable(err), "%v", err)
	require.NotErrorIs(t, err, ErrBadSpec)
}

func TestRedact(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://duro:xxxxx@db:5432/duro", Redact("postgres://duro:secret@db:5432/duro"))
	require.Equal(t, "postgres://db/duro", Redact("postgres://db/duro"))
	require.Equal(t, "sqlite:./duro.db", Redact("sqlite:./duro.db"))
}
