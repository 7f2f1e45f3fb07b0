// Package e2etest holds what the end-to-end suites share: the store each test runs on.
package e2etest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// Store returns the store spec for one test: a temp SQLite file, or a fresh PostgreSQL schema
// (dropped in t.Cleanup) when DURO_E2E_STORE is a postgres:// URL, so a suite runs on either driver.
// prefix names the schema's suite.
func Store(t testing.TB, prefix string) string {
	t.Helper()
	base := os.Getenv("DURO_E2E_STORE")
	if base == "" || strings.HasPrefix(base, "sqlite") {
		return "sqlite:" + filepath.Join(t.TempDir(), "duro.db")
	}
	require.True(t, strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://"),
		"DURO_E2E_STORE=%q: want a postgres:// URL or nothing", base)
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	schema := prefix + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(t, err, "connect to DURO_E2E_STORE")
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err, "create schema %s", schema)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
