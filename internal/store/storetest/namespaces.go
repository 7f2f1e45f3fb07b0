package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
)

// testNamespaces covers namespace rows.
func (s *suite) testNamespaces(t *testing.T) {
	t.Parallel()

	requireNamespace := func(t *testing.T, want, got store.Namespace) {
		t.Helper()
		requireTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt")
		requireBlob(t, want.Data, got.Data, "Data")
		require.Equal(t, want.ID, got.ID)
		require.Equal(t, want.Name, got.Name)
	}
	newNamespace := func(name string) store.Namespace {
		return store.Namespace{ID: "id-" + name, Name: name, Data: []byte("data-" + name), CreatedAt: at(0)}
	}

	t.Run("CreateAndGet", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		ns := newNamespace("orders")
		require.NoError(t, f.st.CreateNamespace(f.ctx, ns))
		got, err := f.st.GetNamespace(f.ctx, "orders")
		require.NoError(t, err)
		requireNamespace(t, ns, *got)
	})

	t.Run("CreateExistingIsAlreadyExists", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		ns := newNamespace("orders")
		require.NoError(t, f.st.CreateNamespace(f.ctx, ns))
		again := newNamespace("orders")
		again.ID, again.Data = "another-id", []byte("other data")
		require.ErrorIs(t, f.st.CreateNamespace(f.ctx, again), store.ErrAlreadyExists)
		got, err := f.st.GetNamespace(f.ctx, "orders")
		require.NoError(t, err)
		requireNamespace(t, ns, *got)
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		require.NoError(t, f.st.CreateNamespace(f.ctx, newNamespace("orders")))
		_, err := f.st.GetNamespace(f.ctx, "payments")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("UpdateReplacesData", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		ns := newNamespace("orders")
		require.NoError(t, f.st.CreateNamespace(f.ctx, ns))
		require.NoError(t, f.st.CreateNamespace(f.ctx, newNamespace("payments")))

		update := ns
		update.Data = []byte("new data")
		require.NoError(t, f.st.UpdateNamespace(f.ctx, update))
		got, err := f.st.GetNamespace(f.ctx, "orders")
		require.NoError(t, err)
		requireNamespace(t, update, *got)

		// Only Data is replaced: the ID and creation time stay.
		update.ID, update.CreatedAt, update.Data = "changed-id", at(time.Hour), []byte("newer data")
		require.NoError(t, f.st.UpdateNamespace(f.ctx, update))
		got, err = f.st.GetNamespace(f.ctx, "orders")
		require.NoError(t, err)
		requireNamespace(t, store.Namespace{ID: ns.ID, Name: ns.Name, Data: []byte("newer data"), CreatedAt: ns.CreatedAt}, *got)

		other, err := f.st.GetNamespace(f.ctx, "payments")
		require.NoError(t, err)
		requireNamespace(t, newNamespace("payments"), *other)
	})

	t.Run("UpdateMissingIsNotFound", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		require.ErrorIs(t, f.st.UpdateNamespace(f.ctx, newNamespace("orders")), store.ErrNotFound)
		_, err := f.st.GetNamespace(f.ctx, "orders")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("ListOrderedByName", func(t *testing.T) {
		t.Parallel()
		f := s.setup(t)
		got, err := f.st.ListNamespaces(f.ctx)
		require.NoError(t, err)
		require.Empty(t, got)

		for _, name := range []string{"payments", "default", "orders", "billing"} {
			require.NoError(t, f.st.CreateNamespace(f.ctx, newNamespace(name)))
		}
		got, err = f.st.ListNamespaces(f.ctx)
		require.NoError(t, err)
		require.Len(t, got, 4)
		for i, name := range []string{"billing", "default", "orders", "payments"} {
			requireNamespace(t, newNamespace(name), got[i])
		}
	})
}
