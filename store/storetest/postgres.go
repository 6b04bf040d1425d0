package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv is the variable naming the PostgreSQL server of tests, a postgres:// URL
// (.ci/run starts a private one).
const PostgresEnv = "ACTIONFLOW_TEST_POSTGRES"

// Postgres returns the URL of a fresh, empty schema on the test server (the URL's
// search_path names it), dropped when the test ends, so tests may run in parallel. Without
// ACTIONFLOW_TEST_POSTGRES the test is skipped, or fails when CI=true.
func Postgres(t testing.TB) string {
	t.Helper()
	url := os.Getenv(PostgresEnv)
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: " + PostgresEnv + " is not set")
		}
		t.Skip(PostgresEnv + " is not set: set it to a postgres:// URL to run this test on PostgreSQL (.ci/run does)")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("storetest: drop schema: %v", err)
		}
	})
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}
