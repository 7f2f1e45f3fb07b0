// Package pgtest gives tests a PostgreSQL schema of their own: one database server, one schema per
// test (created with a random name, dropped when the test ends), never a database per test.
//
// The server is DURO_TEST_DATABASE_URL, by default the local one on 127.0.0.1:5432. A test that
// cannot reach it fails, with a message saying so; it never skips (CI relies on that).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when DURO_TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// BaseURL returns the test server's URL.
func BaseURL() string {
	if u := os.Getenv("DURO_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Schema creates a new empty schema, arranges for it to be dropped (with everything in it) when t
// ends, and returns the test server's URL with search_path set to it. It must be called before
// the test opens anything on the schema, so that t.Cleanup closes those first.
func Schema(t testing.TB) string {
	t.Helper()
	base := BaseURL()
	name := "duro_test_" + randomHex(t, 8)
	admin := connect(t, base)
	defer admin.Close(context.Background())
	if _, err := admin.Exec(t.Context(), "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn := connect(t, base)
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	return WithSearchPath(t, base, name)
}

// WithSearchPath returns the URL base with its search_path parameter set to schema.
func WithSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		t.Fatalf("pgtest: DURO_TEST_DATABASE_URL must be a postgres:// URL, got %q", base)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: parse %q: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// connect opens an administrative connection, failing t with a clear message if the server
// cannot be reached.
func connect(t testing.TB, base string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: PostgreSQL is unreachable at %s (set DURO_TEST_DATABASE_URL, or start the "+
			"local server): %v", redact(base), err)
	}
	return conn
}

// redact hides a password in a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("pgtest: random: %v", err)
	}
	return hex.EncodeToString(b)
}
