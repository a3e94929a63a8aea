#!/usr/bin/env bash
# scripts/bench.sh: webhook ingest throughput and latency of Vigia beside
# Prometheus Alertmanager, measured in one run on this machine, loopback only.
#
# For each batch size it starts a fresh `vigia serve` (embedded store, journal
# fsync'd, correlation on) and a fresh Alertmanager v0.31.1, drives both with
# `vigia bench ingest` (Vigia's webhook; Alertmanager's POST /api/v2/alerts),
# RUNS times each, and prints the median alerts/s, p50/p99 latency and the
# ratio Vigia / Alertmanager as Markdown rows for BENCHMARKS.md.
#
# Environment: RUNS (default 3), BATCHES (default "100 1000"), CONCURRENCY
# (default 8), REQUESTS (requests per run for batch 100; scaled down for
# larger batches; default 3000), ALERTMANAGER_BIN.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-3}"
BATCHES="${BATCHES:-100 1000}"
CONCURRENCY="${CONCURRENCY:-8}"
REQUESTS="${REQUESTS:-3000}"
AM="${ALERTMANAGER_BIN:-$ROOT/.tools/bin/alertmanager}"
if [ ! -x "$AM" ]; then
	GOBIN="$ROOT/.tools/bin" go install github.com/prometheus/alertmanager/cmd/alertmanager@v0.31.1
fi
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
go build -o "$WORK/vigia" ./cmd/vigia
V="$WORK/vigia"

. "$ROOT/scripts/benchlib.sh"

run_one() { # target url batch requests -> "alerts/s p50_ms p99_ms"
	"$V" bench ingest --url "$2" --target "$1" --batch "$3" --concurrency "$CONCURRENCY" --requests "$4" --json |
		python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["accepted_alerts_per_second"], r["p50"]/1e6, r["p99"]/1e6, r["codes"])'
}

echo "| batch | target | alerts/s (median of $RUNS) | p50 ms | p99 ms | Vigia / Alertmanager |"
echo "|---:|---|---:|---:|---:|---:|"
for batch in $BATCHES; do
	reqs=$(( REQUESTS * 100 / batch ))
	declare -A rate p50 p99
	for target in vigia alertmanager; do
		: >"$WORK/$target.txt"
		for run in $(seq 1 "$RUNS"); do
			p=$(port)
			if [ "$target" = vigia ]; then
				rm -rf "$WORK/data"
				"$V" serve --listen "127.0.0.1:$p" --data "$WORK/data" 2>"$WORK/serve.log" &
				pid=$!
				wait_http "http://127.0.0.1:$p/readyz"
				run_one alertmanager "http://127.0.0.1:$p" "$batch" "$reqs" >>"$WORK/$target.txt"
			else
				cp=$(port)
				printf 'route: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n' >"$WORK/am.yml"
				rm -rf "$WORK/am"
				"$AM" --config.file="$WORK/am.yml" --storage.path="$WORK/am" --web.listen-address="127.0.0.1:$p" \
					--cluster.listen-address= --log.level=warn 2>"$WORK/am.log" &
				pid=$!
				wait_http "http://127.0.0.1:$p/-/ready"
				run_one alertmanager-api "http://127.0.0.1:$p" "$batch" "$reqs" >>"$WORK/$target.txt"
			fi
			kill "$pid"; wait "$pid" 2>/dev/null || true
		done
		rate[$target]=$(cut -d' ' -f1 "$WORK/$target.txt" | median)
		p50[$target]=$(cut -d' ' -f2 "$WORK/$target.txt" | median)
		p99[$target]=$(cut -d' ' -f3 "$WORK/$target.txt" | median)
		echo "runs ($target, batch $batch): $(tr '\n' ';' <"$WORK/$target.txt")" >&2
	done
	ratio=$(python3 -c "print(f'{${rate[vigia]}/${rate[alertmanager]}:.2f}')")
	printf '| %s | Vigia webhook (journal fsync, correlation on) | %.0f | %.2f | %.2f | %s |\n' "$batch" "${rate[vigia]}" "${p50[vigia]}" "${p99[vigia]}" "$ratio"
	printf '| %s | Alertmanager POST /api/v2/alerts | %.0f | %.2f | %.2f | |\n' "$batch" "${rate[alertmanager]}" "${p50[alertmanager]}" "${p99[alertmanager]}"
done
