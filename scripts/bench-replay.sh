#!/usr/bin/env bash
# scripts/bench-replay.sh: replay throughput and memory (issue 3's aim: a
# million alert episodes in under 60 s).
#
# It simulates an estate (by default the xl scale: 102 datacenters, 14 days,
# about 1.06 million alert episodes in 1.93 million deliveries), then replays
# it RUNS times end to end, each time into a fresh temporary store, the way
# a user runs it:
#
#     vigia replay --topology topology.yaml --export export.json replay.jsonl
#
# (decoding, journal, correlation, embedded store, problem detection at the
# end, export). It prints every run and the medians: wall time, episodes per
# second, peak RSS; and checks that every run exported the same document.
#
# Environment:
#   RUNS   replays to run (default 3)
#   SCALE  simulated scale (default xl), DAYS (default 14), SEED (default 1)
#   KEEP   directory to keep the simulation and the exports in (default: a
#          temporary directory, removed at the end; the xl replay file is
#          about 4 GB)
#   OUT    file to append the result row to (markdown), besides stdout
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/benchlib.sh
. "$ROOT/scripts/benchlib.sh"

RUNS="${RUNS:-3}"
SCALE="${SCALE:-xl}"
DAYS="${DAYS:-14}"
SEED="${SEED:-1}"

if [ -n "${KEEP:-}" ]; then
	WORK="$KEEP"
	mkdir -p "$WORK"
else
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/vigia-bench-replay.XXXXXX")"
	trap 'rm -rf "$WORK"' EXIT
fi
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench-replay: needs GNU time at $TIME (apt-get install time)" >&2; exit 1; }

echo "==> building vigia"
go build -o "$WORK/vigia" ./cmd/vigia
VIGIA="$WORK/vigia"

SIM="$WORK/sim-$SCALE-$DAYS-$SEED"
if [ ! -s "$SIM/replay.jsonl" ]; then
	echo "==> simulating: --scale $SCALE --days $DAYS --seed $SEED"
	"$VIGIA" simulate --scale "$SCALE" --days "$DAYS" --seed "$SEED" --out "$SIM" | sed 's/^/    /'
fi
# Read the file once so that every run finds it in the page cache alike.
cat "$SIM/replay.jsonl" >/dev/null

: >"$WORK/runs.txt"
for run in $(seq 1 "$RUNS"); do
	echo "==> replay $run of $RUNS"
	t0="$(date +%s%3N)"
	"$TIME" -f '%M %U %S' -o "$WORK/time-$run.txt" \
		"$VIGIA" replay --topology "$SIM/topology.yaml" --export "$WORK/export-$run.json" "$SIM/replay.jsonl" \
		>"$WORK/replay-$run.txt" 2>"$WORK/replay-$run.log"
	t1="$(date +%s%3N)"
	episodes="$(awk '/^episodes:/ { print $2 }' "$WORK/replay-$run.txt")"
	deliveries="$(awk '/^deliveries:/ { print $2 }' "$WORK/replay-$run.txt")"
	read -r rss_kb user sys <"$WORK/time-$run.txt"
	wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
	rate="$(awk -v e="$episodes" -v s="$wall" 'BEGIN { printf "%.0f", e / s }')"
	rss="$(awk -v k="$rss_kb" 'BEGIN { printf "%.0f", k / 1024 }')"
	cpu="$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", u + s }')"
	echo "    $deliveries deliveries, $episodes episodes: ${wall} s, $rate episodes/s, peak RSS $rss MiB, CPU ${cpu} s, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "$wall $rate $rss $cpu $episodes $deliveries" >>"$WORK/runs.txt"
	if [ "$run" -gt 1 ] && ! cmp -s "$WORK/export-1.json" "$WORK/export-$run.json"; then
		echo "bench-replay: run $run exported a different document than run 1" >&2
		exit 1
	fi
	[ "$run" -eq 1 ] || rm -f "$WORK/export-$run.json"
done

wall="$(awk '{ print $1 }' "$WORK/runs.txt" | median)"
rate="$(awk '{ print $2 }' "$WORK/runs.txt" | median)"
rss="$(awk '{ print $3 }' "$WORK/runs.txt" | median)"
cpu="$(awk '{ print $4 }' "$WORK/runs.txt" | median)"
read -r _ _ _ _ episodes deliveries <"$WORK/runs.txt"
ROW="| replay of the $SCALE simulated estate ($DAYS days, seed $SEED: $deliveries deliveries, $episodes episodes), problem detection and export at the end | median of $RUNS: ${wall} s, $rate episodes/s, peak RSS $rss MiB, CPU ${cpu} s |"
echo
echo "$ROW"
if [ -n "${OUT:-}" ]; then
	echo "$ROW" >>"$OUT"
fi
