package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// DSNEnv names the environment variable that points the tests at a
// ClickHouse server: clickhouse://HOST:9000/DB. Each test uses a fresh
// database named after DB and drops it when done (unless
// VIGIA_CLICKHOUSE_KEEP is set).
const DSNEnv = "VIGIA_CLICKHOUSE_DSN"

// FreshDSN returns a DSN for a fresh database, or skips the test when
// VIGIA_CLICKHOUSE_DSN is unset. The database is dropped at cleanup.
func FreshDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(DSNEnv)
	if base == "" {
		tb.Skipf("%s is not set: skipping the ClickHouse tests (scripts/test.sh installs ClickHouse and sets it)", DSNEnv)
	}
	co, err := clickhouse.ParseDSN(base)
	if err != nil {
		tb.Fatalf("%s: %v", DSNEnv, err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	prefix := co.Auth.Database
	if prefix == "" {
		prefix = "vigia_test"
	}
	db := prefix + "_" + hex.EncodeToString(rnd[:])
	dsn := strings.Replace(base, "/"+co.Auth.Database, "/"+db, 1)
	if co.Auth.Database == "" {
		dsn = strings.TrimSuffix(base, "/") + "/" + db
	}
	tb.Cleanup(func() {
		if os.Getenv("VIGIA_CLICKHOUSE_KEEP") != "" {
			tb.Logf("keeping database %s", db)
			return
		}
		co.Auth.Database = ""
		conn, err := clickhouse.Open(co)
		if err != nil {
			tb.Logf("drop database %s: %v", db, err)
			return
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			tb.Logf("drop database %s: %v", db, err)
		}
	})
	return dsn
}

// OpenTest opens a store on a fresh database (see FreshDSN).
func OpenTest(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), Options{DSN: FreshDSN(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
