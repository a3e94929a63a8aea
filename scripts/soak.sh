#!/usr/bin/env bash
# scripts/soak.sh: run the real `vigia serve` for a long time at a steady
# load and record, every INTERVAL seconds, what must not grow without bound:
# memory (RSS, Go heap), goroutines, open file descriptors, ingest latency
# percentiles, the engine's in-memory state, the journal and its backlog.
#
# Not part of CI (it takes DURATION, 10 minutes by default). Run it by hand
# on an otherwise idle machine; the figures of a run go in RELIABILITY.md.
#
#   ./scripts/soak.sh                          # 10 min at half the measured sustainable rate
#   DURATION=3600 ./scripts/soak.sh            # an hour
#   RATE=200 DURATION=120 ./scripts/soak.sh    # a fixed rate (requests/s), 2 minutes
#
# Environment:
#   DURATION     seconds of soak (default 600)
#   INTERVAL     seconds between samples (default 10)
#   RATE         requests per second over all senders; unset: calibrate first
#                (CALIBRATE seconds as fast as possible on a scratch instance)
#                and use half the rate it sustained
#   CALIBRATE    seconds of calibration (default 20)
#   BATCH        alerts per request (default 10)
#   CONCURRENCY  concurrent senders (default 8)
#   ACTIVE       distinct alerts in play (default 10000)
#   REPEAT, RESOLVE  weights of re-sends and resolves among the alerts of
#                active episodes (default 0.7 and 0.3, as `vigia bench ingest`)
#   CONFIG       a vigia config file for the server (default: none, the defaults)
#   OUT          output directory (default ${TMPDIR:-/tmp}/vigia-soak-YYYYmmdd-HHMMSS)
#   VIGIA_BIN    the binary to test (default: built from this checkout into OUT)
#   SOAK_NO_APT  set to 1 not to try installing gnuplot with apt-get
#
# Output in OUT: samples.csv (one row per interval), soak.png (if gnuplot is
# there or installable with apt-get), summary.txt (also printed), serve.log,
# calibration.json, bench-*.json.
#
# All traffic goes to 127.0.0.1 (`vigia bench ingest` refuses anything else).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-600}"
INTERVAL="${INTERVAL:-10}"
CALIBRATE="${CALIBRATE:-20}"
BATCH="${BATCH:-10}"
CONCURRENCY="${CONCURRENCY:-8}"
ACTIVE="${ACTIVE:-10000}"
REPEAT="${REPEAT:-0.7}"
RESOLVE="${RESOLVE:-0.3}"
CONFIG="${CONFIG:-}"
OUT="${OUT:-${TMPDIR:-/tmp}/vigia-soak-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

say() { printf '%s soak: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ -z "${VIGIA_BIN:-}" ]; then
	say "building vigia into $OUT"
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$OUT/vigia" ./cmd/vigia)
	VIGIA_BIN="$OUT/vigia"
fi

SERVER_PID=""
cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT

# start_server DATA_DIR LOG: starts vigia serve on a free loopback port and
# sets SERVER_PID and ADDR once /readyz answers 200.
start_server() {
	local data="$1" log="$2"
	local args=(serve --listen 127.0.0.1:0 --data "$data")
	[ -n "$CONFIG" ] && args+=(--config "$CONFIG")
	"$VIGIA_BIN" "${args[@]}" >"$log" 2>&1 &
	SERVER_PID=$!
	ADDR=""
	for _ in $(seq 1 300); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			say "vigia serve exited at start:"; tail -n 20 "$log" >&2; exit 1
		fi
		ADDR="$(grep -o 'msg="vigia listening" addr=[0-9.:]*' "$log" | head -n1 | sed 's/.*addr=//')" || true
		if [ -n "$ADDR" ] && curl -fs -o /dev/null "http://$ADDR/readyz"; then
			return 0
		fi
		sleep 0.1
	done
	say "vigia serve not ready after 30s"; tail -n 20 "$log" >&2; exit 1
}

stop_server() {
	local t0=$SECONDS
	kill -TERM "$SERVER_PID"
	local rc=0
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=""
	STOP_SECONDS=$((SECONDS - t0))
	STOP_RC=$rc
}

# jnum FILE KEY: a number field of a bench JSON result.
jnum() { grep -o "\"$2\":[0-9.e+-]*" "$1" | head -n1 | cut -d: -f2; }

bench() { # bench OUTFILE DURATION_S RATE SEED
	"$VIGIA_BIN" bench ingest --url "http://$ADDR" --duration "${2}s" --rate "$3" --seed "$4" \
		--batch "$BATCH" --concurrency "$CONCURRENCY" --active "$ACTIVE" --repeat "$REPEAT" --resolve "$RESOLVE" \
		--requests 1000000000 --json >"$1"
}

# --- calibration ------------------------------------------------------------
if [ -z "${RATE:-}" ]; then
	say "calibrating: ${CALIBRATE}s as fast as possible on a scratch instance"
	start_server "$OUT/calibration-data" "$OUT/calibration.log"
	bench "$OUT/calibration.json" "$CALIBRATE" 0 999
	stop_server
	reqs="$(jnum "$OUT/calibration.json" requests)"
	elapsed_ns="$(jnum "$OUT/calibration.json" elapsed)"
	SUSTAINED="$(awk -v r="$reqs" -v e="$elapsed_ns" 'BEGIN { printf "%.0f", r / (e / 1e9) }')"
	RATE="$(awk -v s="$SUSTAINED" 'BEGIN { r = int(s / 2); if (r < 1) r = 1; print r }')"
	say "sustained $SUSTAINED requests/s ($BATCH alerts each): soaking at $RATE requests/s"
	SUSTAINED="$SUSTAINED requests/s"
	rm -rf "$OUT/calibration-data"
else
	SUSTAINED="not measured (RATE given)"
fi

# --- soak -------------------------------------------------------------------
start_server "$OUT/data" "$OUT/serve.log"
say "vigia serve pid $SERVER_PID on $ADDR; ${DURATION}s at $RATE requests/s x $BATCH alerts, sample every ${INTERVAL}s"
CSV="$OUT/samples.csv"
echo "t_s,rss_kib,heap_inuse_kib,goroutines,threads,fds,requests,non2xx,p50_ms,p90_ms,p99_ms,episodes_in_memory,incidents_in_memory,journal_kib,backlog,load1" >"$CSV"

metric() { awk -v m="$1" '$1 == m { print $2; exit }' "$OUT/metrics.txt"; }

# window PREV CUR: over the requests between two scrapes, prints
# "requests,non2xx,p50_ms,p90_ms,p99_ms": server-side latency (request to
# reply, fsync included), interpolated within the buckets of
# vigia_ingest_request_duration_seconds as histogram_quantile does.
window() {
	awk '
	function le(line) { match(line, /le="[^"]*"/); return substr(line, RSTART + 4, RLENGTH - 5) }
	/^vigia_ingest_request_duration_seconds_bucket/ {
		l = le($0)
		if (!(l in seen)) { seen[l] = 1; order[++nb] = l }
		if (FNR == NR) prev[l] += $NF; else cur[l] += $NF
		next
	}
	/^vigia_ingest_requests_total/ {
		if (FNR == NR) { preq += $NF; if ($0 !~ /code="2/) pbad += $NF } else { creq += $NF; if ($0 !~ /code="2/) cbad += $NF }
	}
	function q(p,    i, rank, lo, c, d, prevc, b) {
		total = cur["+Inf"] - prev["+Inf"]
		if (total <= 0) return 0
		rank = p * total; prevc = 0; lo = 0
		for (i = 1; i <= nb; i++) {
			c = cur[order[i]] - prev[order[i]]
			if (c >= rank) {
				if (order[i] == "+Inf") return lo * 1000
				b = order[i] + 0
				d = c - prevc
				return (lo + (b - lo) * (d > 0 ? (rank - prevc) / d : 1)) * 1000
			}
			prevc = c; lo = order[i] + 0
		}
		return lo * 1000
	}
	END { printf "%d,%d,%.2f,%.2f,%.2f", creq - preq, cbad - pbad, q(0.5), q(0.9), q(0.99) }' "$1" "$2"
}

# One bench run for the whole soak: its senders keep their alerts' state
# (an episode started is later resolved), as real senders do.
"$VIGIA_BIN" bench ingest --url "http://$ADDR" --duration "${DURATION}s" --rate "$RATE" --seed 1 \
	--batch "$BATCH" --concurrency "$CONCURRENCY" --active "$ACTIVE" --repeat "$REPEAT" --resolve "$RESOLVE" \
	--requests 1000000000 --json >"$OUT/bench.json" 2>"$OUT/bench.err" &
BENCH_PID=$!
start=$SECONDS
curl -fs "http://$ADDR/metrics" >"$OUT/metrics.prev"
i=0
while kill -0 "$BENCH_PID" 2>/dev/null; do
	i=$((i + 1))
	while [ $((SECONDS - start)) -lt $((i * INTERVAL)) ] && kill -0 "$BENCH_PID" 2>/dev/null; do sleep 0.5; done
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		say "vigia serve died"; tail -n 30 "$OUT/serve.log" >&2; exit 1
	fi
	curl -fs "http://$ADDR/metrics" >"$OUT/metrics.txt"
	win="$(window "$OUT/metrics.prev" "$OUT/metrics.txt")"
	mv "$OUT/metrics.txt" "$OUT/metrics.prev"
	cp "$OUT/metrics.prev" "$OUT/metrics.txt"
	rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")"
	threads="$(awk '/^Threads:/ { print $2 }' "/proc/$SERVER_PID/status")"
	fds="$(find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)"
	awk -v t="$((SECONDS - start))" -v rss="$rss" -v heap="$(metric go_memstats_heap_inuse_bytes)" \
		-v gor="$(metric go_goroutines)" -v thr="$threads" -v fds="$fds" -v win="$win" \
		-v eps="$(metric vigia_correlate_episodes_in_memory)" -v incs="$(metric vigia_correlate_incidents_in_memory)" \
		-v jb="$(metric vigia_journal_size_bytes)" -v last="$(metric vigia_journal_last_seq)" \
		-v applied="$(metric vigia_correlate_applied_seq)" -v load1="$(cut -d' ' -f1 /proc/loadavg)" \
		'BEGIN { printf "%d,%d,%d,%d,%d,%d,%s,%d,%d,%d,%d,%s\n",
			t, rss, heap / 1024, gor, thr, fds, win, eps, incs, jb / 1024, last - applied, load1 }' >>"$CSV"
	tail -n1 "$CSV" | awk -F, '{ printf "  t=%ss rss=%s KiB goroutines=%s fds=%s req=%s non2xx=%s p50=%sms p99=%sms episodes=%s backlog=%s load=%s\n", $1, $2, $4, $6, $7, $8, $9, $11, $12, $15, $16 }' >&2
done
wait "$BENCH_PID" || { say "bench failed:"; cat "$OUT/bench.err" >&2; }
stop_server
say "stopped with SIGTERM in ${STOP_SECONDS}s, exit status $STOP_RC"

# --- summary ------------------------------------------------------------------
{
	echo "vigia soak: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "duration ${DURATION}s, sample every ${INTERVAL}s; load $RATE requests/s x $BATCH alerts ($CONCURRENCY senders, $ACTIVE distinct alerts, repeat:resolve $REPEAT:$RESOLVE); sustainable rate measured: $SUSTAINED"
	echo "config: ${CONFIG:-none (defaults)}$( [ -n "$CONFIG" ] && printf '\n'; [ -n "$CONFIG" ] && sed 's/^/    /' "$CONFIG")"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "shutdown (SIGTERM): ${STOP_SECONDS}s, exit status $STOP_RC"
	awk -v r="$(jnum "$OUT/bench.json" requests)" -v a="$(jnum "$OUT/bench.json" accepted_alerts)" \
		-v p50="$(jnum "$OUT/bench.json" p50)" -v p90="$(jnum "$OUT/bench.json" p90)" -v p99="$(jnum "$OUT/bench.json" p99)" \
		-v mx="$(jnum "$OUT/bench.json" max)" 'BEGIN { printf "client side, whole run: %d requests, %d alerts accepted; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", r, a, p50 / 1e6, p90 / 1e6, p99 / 1e6, mx / 1e6 }'
	echo "codes: $(grep -o '"codes":{[^}]*}' "$OUT/bench.json")"
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) name[i] = $i; next }
		{ n++; for (i = 2; i <= NF; i++) { v = $i + 0; if (n == 1 || v < lo[i]) lo[i] = v; if (n == 1 || v > hi[i]) hi[i] = v; sum[i] += v;
		  if (n == 1) first[i] = v; lastv[i] = v; if (n == 2) second[i] = v } }
		END { printf "%-20s %12s %12s %12s %12s %12s\n", "series", "first", "min", "mean", "max", "last";
		  for (i = 2; i <= length(name); i++) printf "%-20s %12.2f %12.2f %12.2f %12.2f %12.2f\n", name[i], first[i], lo[i], sum[i] / n, hi[i], lastv[i] }' "$CSV"
	awk -F, 'NR > 1 { n++; t[n] = $1; r[n] = $2; g[n] = $4; f[n] = $6 }
		END { h = int(n / 2); if (h < 1) exit;
		  for (i = 1; i <= h; i++) { r1 += r[i]; g1 += g[i]; f1 += f[i] } for (i = n - h + 1; i <= n; i++) { r2 += r[i]; g2 += g[i]; f2 += f[i] }
		  printf "first half vs second half (mean): RSS %.0f -> %.0f KiB (%+.1f%%), goroutines %.1f -> %.1f, fds %.1f -> %.1f\n",
		    r1 / h, r2 / h, 100 * (r2 - r1) / r1, g1 / h, g2 / h, f1 / h, f2 / h }' "$CSV"
} | tee "$OUT/summary.txt"

# --- plot -----------------------------------------------------------------------
if ! command -v gnuplot >/dev/null 2>&1 && [ "${SOAK_NO_APT:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1; then
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	say "installing gnuplot-nox with apt-get for the plot"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gnuplot-nox >/dev/null 2>&1 ||
		{ $SUDO apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gnuplot-nox >/dev/null 2>&1; } || true
fi
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<EOF
set terminal pngcairo size 1400,1000 noenhanced font ",10"
set output "$OUT/soak.png"
set datafile separator ","
set key autotitle columnhead top left
set xlabel "seconds"
set grid
set multiplot layout 3,2 title "vigia soak: $RATE req/s x $BATCH alerts, ${DURATION}s"
set title "memory (MiB)"
unset y2tics
plot "$CSV" using 1:(\$2/1024) with linespoints title "RSS", "" using 1:(\$3/1024) with linespoints title "Go heap in use"
set title "goroutines, threads, open fds"
set yrange [0:*]
plot "$CSV" using 1:4 with linespoints title "goroutines", "" using 1:5 with linespoints title "threads", "" using 1:6 with linespoints title "fds"
set title "ingest latency (ms, server side, per interval)"
set autoscale y
set logscale y
plot "$CSV" using 1:9 with linespoints title "p50", "" using 1:10 with linespoints title "p90", "" using 1:11 with linespoints title "p99"
unset logscale y
set title "engine state in memory"
set y2tics
set ytics nomirror
plot "$CSV" using 1:12 with linespoints title "episodes", "" using 1:13 with linespoints axes x1y2 title "incidents (right)"
set title "journal (KiB) and backlog (records)"
set y2tics
set ytics nomirror
plot "$CSV" using 1:14 with linespoints title "journal KiB", "" using 1:15 with linespoints axes x1y2 title "backlog (right)"
set title "throughput and machine load"
plot "$CSV" using 1:(\$7/$INTERVAL) with linespoints title "requests/s", "" using 1:16 with linespoints axes x1y2 title "load average (1 min, right)"
unset multiplot
EOF
	say "plot: $OUT/soak.png"
else
	say "gnuplot not available: the samples as a table"
	column -s, -t "$CSV" | tee "$OUT/samples.txt"
fi
say "samples: $CSV; summary: $OUT/summary.txt"
