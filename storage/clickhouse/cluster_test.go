package clickhouse

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vigia-noc/vigia/storage/storagetest"
	"github.com/vigia-noc/vigia/trend/trendtest"
)

// testCluster is a cluster of Debian's stock clickhouse-server config: two
// shards, both the local server, so every row read through a Distributed
// table comes back twice; Vigia's reads must not care.
const testCluster = "test_cluster_two_shards_localhost"

var replicated = regexp.MustCompile(`Replicated(\w*MergeTree)\('[^']*', '[^']*'(, )?`)

// clusterSchema is deploy/clickhouse/cluster.sql for database db on
// testCluster, without replication (there is no ZooKeeper here).
func clusterSchema(t testing.TB, db string) []string {
	b, err := os.ReadFile("../../deploy/clickhouse/cluster.sql")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	s = strings.ReplaceAll(s, " ON CLUSTER vigia_cluster", "")
	s = strings.ReplaceAll(s, "Distributed(vigia_cluster, vigia, ", "Distributed("+testCluster+", "+db+", ")
	s = strings.ReplaceAll(s, "vigia.", db+".")
	s = strings.ReplaceAll(s, "DATABASE IF NOT EXISTS vigia;", "DATABASE IF NOT EXISTS "+db+";")
	s = replicated.ReplaceAllString(s, "$1(")
	sts := Statements(s)
	for _, st := range sts {
		if strings.Contains(st, "vigia_cluster") || strings.Contains(st, "Replicated") || strings.Contains(st, "vigia.") {
			t.Fatalf("cluster.sql: unexpected statement after rewriting:\n%s", st)
		}
	}
	return sts
}

// TestClusterSchema runs the conformance suite on the cluster schema:
// Distributed tables over *_local ones, written with insert_distributed_sync.
func TestClusterSchema(t *testing.T) {
	FreshDSN(t) // skips without ClickHouse
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return openCluster(t) })
}

// TestClusterTrends runs the trend suite on the cluster schema.
func TestClusterTrends(t *testing.T) {
	FreshDSN(t) // skips without ClickHouse
	trendtest.Run(t, func(t *testing.T) trendtest.Store { return openCluster(t) })
}

// openCluster opens a fresh database with the cluster schema.
func openCluster(t *testing.T) *Store {
	t.Helper()
	dsn := FreshDSN(t)
	boot, err := Open(context.Background(), Options{DSN: dsn}) // creates the database (and the single-node tables)
	if err != nil {
		t.Fatal(err)
	}
	db := boot.Database()
	for _, tbl := range []string{"alert_events_mv", "alert_events", "timeline",
		"incidents", "incident_trends", "episodes", "feedback", "problems", "commit_ranges", "checkpoints", "schema_migrations"} {
		if err := boot.conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+db+"."+tbl); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range clusterSchema(t, db) {
		if err := boot.conn.Exec(context.Background(), st); err != nil {
			t.Fatalf("%v\n%s", err, st)
		}
	}
	boot.Close()
	s, err := Open(context.Background(), Options{DSN: dsn + "?insert_distributed_sync=1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
