package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
	"github.com/duro-dev/duro/internal/store/storeopen"
)

// runDuro runs duro in-process with args and the given environment, returning the exit code and
// what it wrote.
func runDuro(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(t.Context(), args, strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestMigrateSQLite(t *testing.T) {
	t.Parallel()
	spec := "sqlite:" + filepath.Join(t.TempDir(), "duro.db")
	code, out, errOut := runDuro(t, nil, "migrate", "--store", spec)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "migrated "+spec+"\n", out)

	// Again: nothing to do, still success; and the store opens.
	code, _, errOut = runDuro(t, nil, "migrate", "--store", spec)
	require.Equal(t, 0, code, errOut)
	s, err := storeopen.Open(t.Context(), spec)
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestMigratePostgresFromEnv(t *testing.T) {
	t.Parallel()
	spec := pgtest.Schema(t)
	code, out, errOut := runDuro(t, map[string]string{"DURO_STORE": spec}, "migrate")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "migrated postgres://")

	conn, err := pgx.Connect(t.Context(), spec)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var version int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT max(version) FROM schema_version").Scan(&version))
	require.GreaterOrEqual(t, version, 1)
}

func TestMigrateFlagOverridesEnv(t *testing.T) {
	t.Parallel()
	spec := "sqlite:" + filepath.Join(t.TempDir(), "flag.db")
	env := map[string]string{"DURO_STORE": "mysql://nowhere"} // would be a usage error
	code, out, errOut := runDuro(t, env, "migrate", "--store="+spec)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "migrated "+spec+"\n", out)
}

func TestMigrateDefaultIsSQLiteInWorkingDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := runDuro(t, nil, "migrate")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "migrated sqlite:./duro.db\n", out)
	require.FileExists(t, filepath.Join(dir, "duro.db"))
}

func TestMigrateErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"BadSpec", []string{"migrate", "--store", "mysql://root@db/duro"}, 2,
			[]string{"duro migrate: invalid store spec", "Try: duro migrate --store"}},
		{"ExtraArgument", []string{"migrate", "now"}, 2, []string{`unexpected argument "now"`, "Try:"}},
		{"UnknownFlag", []string{"migrate", "--nope"}, 2, []string{"flag provided but not defined", "usage: duro migrate"}},
		{"Unreachable", []string{"migrate", "--store", "postgres://duro:secret@127.0.0.1:1/duro?sslmode=disable"}, 1,
			[]string{"duro migrate: migrate postgres://duro:xxxxx@127.0.0.1:1/duro"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runDuro(t, nil, tc.args...)
			require.Equal(t, tc.code, code, errOut)
			require.Empty(t, out)
			for _, c := range tc.contains {
				require.Contains(t, errOut, c)
			}
			require.NotContains(t, errOut, "secret", "the password never reaches the terminal")
		})
	}

	t.Run("Help", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := runDuro(t, nil, "migrate", "--help")
		require.Equal(t, 0, code)
		require.Contains(t, errOut, "usage: duro migrate [--store SPEC]")
		require.Contains(t, errOut, "DURO_STORE")
	})
	t.Run("Listed", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := runDuro(t, nil, "help")
		require.Equal(t, 0, code)
		require.Contains(t, errOut, "migrate  apply the store's migrations and exit")
	})
}
