#!/usr/bin/env bash
# scripts/bench-clickhouse.sh: sustained webhook ingest through the journal
# into ClickHouse (issue 6), loopback only.
#
# Each run starts a fresh `vigia serve --store clickhouse://…/<fresh db>`
# (journal fsync'd, correlation on), sends ALERTS alerts with
# `vigia bench ingest` (Alertmanager webhooks, batches of BATCH, CONCURRENCY
# senders), then waits until the journal backlog is applied to ClickHouse.
# It reports two rates: accepted (alerts acknowledged per second while
# sending) and sustained (alerts per second from the first request until
# the last one is in ClickHouse), and checks that ClickHouse counted every
# acknowledged alert exactly once (sum of the checkpoints' alerts).
#
# Environment: RUNS (default 3), BATCH (default 1000), CONCURRENCY
# (default 8), ALERTS (per run, default 1000000), ACTIVE (distinct alerts
# in play, default 100000), CLICKHOUSE (server, default
# clickhouse://127.0.0.1:9000). Needs a running ClickHouse server and
# clickhouse-client (scripts/test.sh shows how to install and start one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-3}"
BATCH="${BATCH:-1000}"
CONCURRENCY="${CONCURRENCY:-8}"
ALERTS="${ALERTS:-1000000}"
ACTIVE="${ACTIVE:-100000}"
CLICKHOUSE="${CLICKHOUSE:-clickhouse://127.0.0.1:9000}"
clickhouse-client -q 'SELECT 1' >/dev/null || { echo "no ClickHouse server answers clickhouse-client" >&2; exit 1; }

WORK="$(mktemp -d)"
DBS=()
cleanup() {
	kill $(jobs -p) 2>/dev/null || true
	for db in "${DBS[@]}"; do clickhouse-client -q "DROP DATABASE IF EXISTS $db" || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
go build -o "$WORK/vigia" ./cmd/vigia
V="$WORK/vigia"

. "$ROOT/scripts/benchlib.sh"

reqs=$(( ALERTS / BATCH ))
: >"$WORK/runs.txt"
for run in $(seq 1 "$RUNS"); do
	db="vigia_bench_ingest_$$_$run"
	DBS+=("$db")
	p=$(port)
	url="http://127.0.0.1:$p"
	rm -rf "$WORK/data"
	"$V" serve --listen "127.0.0.1:$p" --data "$WORK/data" --store "$CLICKHOUSE/$db" 2>"$WORK/serve.log" &
	pid=$!
	wait_http "$url/readyz"
	t0=$(now)
	"$V" bench ingest --url "$url" --target alertmanager --batch "$BATCH" --concurrency "$CONCURRENCY" \
		--requests "$reqs" --active "$ACTIVE" --duration 10m --json >"$WORK/load.json"
	t1=$(now)
	peak=0
	while :; do
		b=$(metric "$url" vigia_journal_backlog_records)
		b=${b%.*}
		[ "${b:-1}" -gt "$peak" ] && peak=$b
		[ "${b:-1}" = 0 ] && break
		sleep 0.1
	done
	t2=$(now)
	kill "$pid"; wait "$pid" 2>/dev/null || true
	read -r accepted rate p99 codes < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["accepted_alerts"], r["accepted_alerts_per_second"], r["p99"]/1e6, json.dumps(r["codes"]).replace(" ",""))' "$WORK/load.json")
	stored=$(clickhouse-client -q "SELECT sum(alerts) FROM $db.checkpoints")
	sustained=$(python3 -c "print(round($accepted / ($t2 - $t0)))")
	drain=$(python3 -c "print(round($t2 - $t1, 2))")
	echo "run $run: accepted $accepted alerts at $rate/s (p99 ${p99} ms, codes $codes); in ClickHouse $stored; drained ${drain}s after the last ack (peak backlog $peak records); sustained $sustained alerts/s" >&2
	if [ "$stored" != "$accepted" ]; then
		echo "ClickHouse counted $stored alerts, $accepted were acknowledged" >&2
		exit 1
	fi
	echo "$rate $sustained $p99 $drain" >>"$WORK/runs.txt"
done
printf '| batch | alerts per run | accepted alerts/s (median of %s) | sustained into ClickHouse, alerts/s (median) | ack p99 ms (median) | drain after last ack, s (median) |\n' "$RUNS"
echo "|---:|---:|---:|---:|---:|---:|"
printf '| %s | %s | %.0f | %.0f | %.1f | %.2f |\n' "$BATCH" "$ALERTS" \
	"$(cut -d' ' -f1 "$WORK/runs.txt" | median)" "$(cut -d' ' -f2 "$WORK/runs.txt" | median)" \
	"$(cut -d' ' -f3 "$WORK/runs.txt" | median)" "$(cut -d' ' -f4 "$WORK/runs.txt" | median)"
