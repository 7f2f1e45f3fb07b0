package migrate_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store/migrate"
)

// memTarget is an in-memory database: a recorded version and the scripts that committed. A
// transaction's effects are buffered and applied only when fn returns nil.
type memTarget struct {
	version int
	scripts []string
	failOn  string // a script that fails to run
	txs     int
}

type memTx struct {
	t       *memTarget
	version int
	scripts []string
}

func (m *memTarget) InTx(ctx context.Context, fn func(tx migrate.Tx) error) error {
	m.txs++
	tx := &memTx{t: m, version: m.version}
	if err := fn(tx); err != nil {
		return err
	}
	m.version = tx.version
	m.scripts = append(m.scripts, tx.scripts...)
	return nil
}

func (tx *memTx) Version(context.Context) (int, error) { return tx.version, nil }

func (tx *memTx) Exec(_ context.Context, script string) error {
	if script == tx.t.failOn {
		return errors.New("syntax error")
	}
	tx.scripts = append(tx.scripts, script)
	return nil
}

func (tx *memTx) SetVersion(_ context.Context, m migrate.Migration) error {
	tx.version = m.Version
	return nil
}

func files(names ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, n := range names {
		fsys[n] = &fstest.MapFile{Data: []byte("-- " + n)}
	}
	return fsys
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("OrdersByVersion", func(t *testing.T) {
		t.Parallel()
		ms, err := migrate.Load(files("0002_tasks.sql", "0001_init.sql", "0003_add_index_2.sql"))
		require.NoError(t, err)
		require.Equal(t, []migrate.Migration{
			{Version: 1, Name: "init", SQL: "-- 0001_init.sql"},
			{Version: 2, Name: "tasks", SQL: "-- 0002_tasks.sql"},
			{Version: 3, Name: "add_index_2", SQL: "-- 0003_add_index_2.sql"},
		}, ms)
	})

	for name, fsys := range map[string]fstest.MapFS{
		"Gap":          files("0001_init.sql", "0003_more.sql"),
		"NotFromOne":   files("0002_init.sql"),
		"Duplicate":    files("0001_init.sql", "0001_again.sql"),
		"BadName":      files("0001_init.sql", "2_more.sql"),
		"OtherFile":    files("0001_init.sql", "README.md"),
		"UpperCase":    files("0001_Init.sql"),
		"NoMigrations": {},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := migrate.Load(fsys)
			require.Error(t, err)
		})
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	ms, err := migrate.Load(files("0001_init.sql", "0002_tasks.sql", "0003_timers.sql"))
	require.NoError(t, err)

	t.Run("AppliesInOrderOnePerTransaction", func(t *testing.T) {
		t.Parallel()
		db := &memTarget{}
		n, err := migrate.Run(t.Context(), db, ms)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		require.Equal(t, 3, db.version)
		require.Equal(t, []string{"-- 0001_init.sql", "-- 0002_tasks.sql", "-- 0003_timers.sql"}, db.scripts)
		require.Equal(t, 4, db.txs, "three migrations and the final version check")
	})

	t.Run("IsIdempotent", func(t *testing.T) {
		t.Parallel()
		db := &memTarget{}
		_, err := migrate.Run(t.Context(), db, ms)
		require.NoError(t, err)
		n, err := migrate.Run(t.Context(), db, ms)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Len(t, db.scripts, 3)
	})

	t.Run("ContinuesFromRecordedVersion", func(t *testing.T) {
		t.Parallel()
		db := &memTarget{version: 1}
		n, err := migrate.Run(t.Context(), db, ms)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Equal(t, []string{"-- 0002_tasks.sql", "-- 0003_timers.sql"}, db.scripts)
	})

	t.Run("FailureKeepsEarlierMigrations", func(t *testing.T) {
		t.Parallel()
		db := &memTarget{failOn: "-- 0002_tasks.sql"}
		n, err := migrate.Run(t.Context(), db, ms)
		require.Error(t, err)
		require.ErrorContains(t, err, "0002_tasks")
		require.Equal(t, 1, n)
		require.Equal(t, 1, db.version)
		require.Equal(t, []string{"-- 0001_init.sql"}, db.scripts)
	})

	t.Run("NewerSchemaIsRefused", func(t *testing.T) {
		t.Parallel()
		db := &memTarget{version: 4}
		_, err := migrate.Run(t.Context(), db, ms)
		require.ErrorIs(t, err, migrate.ErrNewerSchema)
		require.Empty(t, db.scripts)
	})

	t.Run("RejectsUnorderedList", func(t *testing.T) {
		t.Parallel()
		_, err := migrate.Run(t.Context(), &memTarget{}, []migrate.Migration{ms[1], ms[0]})
		require.Error(t, err)
	})
}
