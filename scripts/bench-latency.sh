#!/usr/bin/env bash
# scripts/bench-latency.sh: latencies at half the sustainable ingest rate
# (issue 9), and throughput and memory from 1,000 to 1,000,000 active
# alerts, on the embedded store, loopback only.
#
# Latency: each run measures the sustainable rate of a fresh `vigia serve`
# (8 senders at full speed, batches of BATCH; alerts sent divided by the time
# until the last of them is applied to the store), then drives another fresh
# one at half that rate for DURATION with `vigia bench ingest --probe`:
# the load's acknowledgement latency, and the probe's delivery-to-incident
# latency (a unique alert sent every 200 ms, timed until GET
# /api/v1/incidents lists its incident) and the latencies of its list and
# get requests, all while the load runs. Prints medians of RUNS runs.
#
# Scale (SCALE=1, or SCALE=only to skip the latency part): for each count
# in ACTIVES, a fresh server receives 3 x count alerts (at least 300,000) in
# batches of 1,000 over that many distinct alerts, all firing (re-sent,
# never resolved: --repeat 1 --resolve 0); once applied, it reports
# the rate, the alerts held in memory (vigia_correlate_episodes_in_memory)
# and the Go heap and RSS per held alert.
#
# Environment: RUNS (3), BATCH (100), DURATION (60s), SCALE (unset),
# ACTIVES ("1000 10000 100000 1000000").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-3}"
BATCH="${BATCH:-100}"
DURATION="${DURATION:-60s}"
SCALE="${SCALE:-}"
ACTIVES="${ACTIVES:-1000 10000 100000 1000000}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
go build -o "$WORK/vigia" ./cmd/vigia
V="$WORK/vigia"

. "$ROOT/scripts/benchlib.sh"

start_server() { # -> sets URL and PID
	local p
	p=$(port)
	rm -rf "$WORK/data"
	"$V" serve --listen "127.0.0.1:$p" --data "$WORK/data" 2>"$WORK/serve.log" &
	PID=$!
	URL="http://127.0.0.1:$p"
	wait_http "$URL/readyz"
}
stop_server() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
wait_applied() { while [ "$(metric "$1" vigia_journal_backlog_records)" != 0 ]; do sleep 0.2; done; }

if [ "$SCALE" != only ]; then
	: >"$WORK/lat.txt"
	for run in $(seq 1 "$RUNS"); do
		start_server
		t0=$(now)
		accepted=$("$V" bench ingest --url "$URL" --batch "$BATCH" --concurrency 8 --requests 3000 --json |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted_alerts"])')
		wait_applied "$URL"
		full=$(python3 -c "print($accepted / ($(now) - $t0))")
		stop_server
		half=$(python3 -c "print($full / 2)")
		reqs=$(python3 -c "print($half / $BATCH)")
		start_server
		"$V" bench ingest --url "$URL" --batch "$BATCH" --concurrency 8 --rate "$reqs" --requests 100000000 \
			--duration "$DURATION" --probe 200ms --json >"$WORK/half.json"
		stop_server
		python3 - "$WORK/half.json" "$full" >>"$WORK/lat.txt" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); p = r["probe"]; ms = lambda d: d / 1e6
print(sys.argv[2], r["accepted_alerts_per_second"], ms(r["p50"]), ms(r["p99"]), p["found"], p["probes"],
      ms(p["to_incident"]["p50"]), ms(p["to_incident"]["p99"]), ms(p["list"]["p50"]), ms(p["list"]["p99"]),
      ms(p["get"]["p50"]), ms(p["get"]["p99"]))
EOF
		echo "latency run $run: $(tail -n1 "$WORK/lat.txt")" >&2
	done
	col() { cut -d' ' -f"$1" "$WORK/lat.txt" | median; }
	echo "| sustainable alerts/s (sent at full speed, until applied) | half-rate load alerts/s | ack p50 ms | ack p99 ms | probes found | delivery to incident p50 ms | p99 ms | list p50 ms | list p99 ms | get p50 ms | get p99 ms |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	printf '| %.0f | %.0f | %.1f | %.1f | %s/%s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n' \
		"$(col 1)" "$(col 2)" "$(col 3)" "$(col 4)" "$(col 5)" "$(col 6)" "$(col 7)" "$(col 8)" "$(col 9)" "$(col 10)" "$(col 11)" "$(col 12)"
	echo "(medians of $RUNS runs, each column on its own; batches of $BATCH, 8 senders, $DURATION at half rate)"
fi

if [ -n "$SCALE" ]; then
	echo
	echo "| distinct alerts | alerts sent | alerts/s | held in memory | Go heap MiB | heap bytes per held alert | RSS MiB |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for active in $ACTIVES; do
		alerts=$(( active * 3 > 300000 ? active * 3 : 300000 ))
		start_server
		rate=$("$V" bench ingest --url "$URL" --batch 1000 --concurrency 8 --requests $(( alerts / 1000 )) \
			--active "$active" --repeat 1 --resolve 0 --duration 30m --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["accepted_alerts_per_second"])')
		wait_applied "$URL"
		held=$(metric "$URL" vigia_correlate_episodes_in_memory)
		heap=$(metric "$URL" go_memstats_heap_inuse_bytes)
		rss=$(metric "$URL" process_resident_memory_bytes)
		stop_server
		printf '| %s | %s | %.0f | %s | %.0f | %.0f | %.0f |\n' "$active" "$alerts" "$rate" "$held" \
			"$(python3 -c "print($heap/1048576)")" "$(python3 -c "print($heap/max($held,1))")" "$(python3 -c "print($rss/1048576)")"
	done
fi
