#!/usr/bin/env bash
# scripts/quality.sh: the one command that measures Vigia's correlation
# quality and writes QUALITY.md.
#
# For every scale and seed it simulates an estate (vigia simulate), replays
# the deliveries through Vigia with the simulated topology (vigia replay
# --topology --export), and scores the export against the simulator's truth,
# beside two baselines on the same data (vigia score --replay): "none"
# (every alert episode its own incident) and "groupKey" (one incident per
# Alertmanager notification group). It then writes a table of every run and
# the medians per scale, against the aims of issues 3 and 5.
#
# Environment:
#   SEEDS    seeds to simulate (default "1 2 3")
#   SCALES   scales to simulate (default "small large")
#   OUT      file to write (default QUALITY.md at the repository root)
#   KEEP     directory to keep the simulated files, exports and scores in
#            (default: a temporary directory, removed at the end)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SEEDS="${SEEDS:-1 2 3}"
SCALES="${SCALES:-small large}"
OUT="${OUT:-$ROOT/QUALITY.md}"

if [ -n "${KEEP:-}" ]; then
	WORK="$KEEP"
	mkdir -p "$WORK"
else
	WORK="$(mktemp -d "${TMPDIR:-/tmp}/vigia-quality.XXXXXX")"
	trap 'rm -rf "$WORK"' EXIT
fi

SECONDS=0
now_ms() { date +%s%3N; }

echo "==> building vigia"
go build -o "$WORK/vigia" ./cmd/vigia
VIGIA="$WORK/vigia"
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain 2>/dev/null | grep -v '^??' || true)" ]; then
	COMMIT="$COMMIT (with uncommitted changes)"
fi

ROWS="$WORK/rows.md"      # one row per scale, seed and method
RUNS="$WORK/runs.md"      # one row per scale and seed: sizes and replay time
CLASSES="$WORK/classes.md" # per-class breakdown of every run
: >"$ROWS"
: >"$RUNS"
: >"$CLASSES"

for scale in $SCALES; do
	for seed in $SEEDS; do
		dir="$WORK/$scale-$seed"
		mkdir -p "$dir"
		echo "==> $scale seed $seed: simulate"
		"$VIGIA" simulate --seed "$seed" --scale "$scale" --out "$dir" >"$dir/simulate.txt"
		sed 's/^/    /' "$dir/simulate.txt" | grep -E 'estate|incidents:|episodes:|deliveries:'

		echo "==> $scale seed $seed: replay"
		t0="$(now_ms)"
		"$VIGIA" replay --topology "$dir/topology.yaml" --export "$dir/export.json" "$dir/replay.jsonl" \
			>"$dir/replay.txt" 2>"$dir/replay.log"
		t1="$(now_ms)"
		replay_s="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
		episodes="$(awk '/^episodes:/ { print $2 }' "$dir/replay.txt")"
		deliveries="$(awk '/^deliveries:/ { print $2 }' "$dir/replay.txt")"
		incidents="$(awk '/^incidents:/ { print $2 }' "$dir/replay.txt")"
		rate="$(awk -v e="$episodes" -v s="$replay_s" 'BEGIN { if (s > 0) printf "%.0f", e / s; else print "-" }')"
		echo "    replay of $scale seed $seed: ${replay_s}s for $deliveries deliveries, $episodes episodes ($rate episodes/s), $incidents incidents"
		echo "| $scale | $seed | $deliveries | $episodes | $incidents | $replay_s | $rate |" >>"$RUNS"

		echo "==> $scale seed $seed: score"
		"$VIGIA" score --truth "$dir/truth.json" --export "$dir/export.json" --replay "$dir/replay.jsonl" \
			--format markdown >"$dir/score.md"
		grep -E "^\| $scale \| $seed \|" "$dir/score.md" >>"$ROWS"
		grep -E "^\| $scale \| $seed \| vigia \|" "$dir/score.md" | sed 's/^/    /'
		{
			echo
			grep -E "^$scale seed $seed:" "$dir/score.md"
			awk '/^By fault class/ { on = 1 } on' "$dir/score.md"
		} >>"$CLASSES"
		# The replay file is the bulk of the disk used; the truth and the
		# export are enough to rescore.
		[ -n "${KEEP:-}" ] || rm -f "$dir/replay.jsonl"
	done
done

HEADER="$(sed -n '/^| scale |/{p;n;p;q}' "$WORK/$(set -- $SCALES; echo "$1")-$(set -- $SEEDS; echo "$1")/score.md")"

# medians prints, per scale and method, the median of every numeric column
# over the seeds; for "flapping in one" it prints the worst seed, since the
# aim is every flapping alert in one incident in every run.
medians() {
	awk -F'|' '
	function trim(s) { gsub(/^ +| +$/, "", s); return s }
	function median(list,   n, a, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
		if (n == 0) return "n/a"
		if (n % 2) return a[(n + 1) / 2]
		return sprintf("%.3f", (a[n / 2] + a[n / 2 + 1]) / 2)
	}
	function minimum(list,   n, a, i, m) {
		n = split(list, a, " ")
		if (n == 0) return "n/a"
		m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]
		return m
	}
	{
		scale = trim($2); method = trim($4); key = scale SUBSEP method
		if (!(key in seen)) { seen[key] = 1; order[++nk] = key; seeds[key] = 0 }
		seeds[key]++
		for (c = 5; c <= NF - 1; c++) {
			v = trim($c)
			if (v != "n/a") vals[key, c] = vals[key, c] " " v
		}
		ncol = NF - 1
	}
	END {
		for (k = 1; k <= nk; k++) {
			key = order[k]; split(key, p, SUBSEP)
			line = "| " p[1] " | median of " seeds[key] " | " p[2] " |"
			for (c = 5; c <= ncol; c++) {
				v = (c == 16) ? minimum(vals[key, c]) : median(vals[key, c])
				line = line " " v " |"
			}
			print line
		}
	}' "$ROWS"
}
MEDIANS="$(medians)"

# aims checks the medians of Vigia against the aims.
aims() {
	printf '%s\n' "$MEDIANS" | awk -F'|' '
	function trim(s) { gsub(/^ +| +$/, "", s); return s }
	function mark(v, target, ge) {
		if (v == "n/a") return "n/a"
		if ((ge && v + 0 >= target) || (!ge && v + 0 <= target)) return v " ✔"
		return v " ✘"
	}
	trim($4) == "vigia" {
		s = trim($2); scales[++n] = s
		f1[s] = trim($7); ari[s] = trim($8); fm[s] = trim($9); rc[s] = trim($14); fl[s] = trim($16); pp[s] = trim($17); pr[s] = trim($18)
	}
	END {
		hdr = "| aim | target |"; sep = "|---|---|"
		for (i = 1; i <= n; i++) { hdr = hdr " " scales[i] " (median) |"; sep = sep "---:|" }
		print hdr; print sep
		row("pairwise F1", ">= 0.95", f1, 0.95, 1)
		row("Adjusted Rand Index", ">= 0.95", ari, 0.95, 1)
		row("false-merge rate", "<= 0.02", fm, 0.02, 0)
		row("root-cause accuracy", ">= 0.90", rc, 0.90, 1)
		row("flapping alerts in exactly one incident (worst seed)", "1.000", fl, 1, 1)
		row("problem precision (issue 5)", ">= 0.90", pp, 0.90, 1)
		row("problem recall (issue 5)", ">= 0.90", pr, 0.90, 1)
	}
	function row(name, target, arr, t, ge,   line, i) {
		line = "| " name " | " target " |"
		for (i = 1; i <= n; i++) line = line " " mark(arr[scales[i]], t, ge) " |"
		print line
	}'
}

CPU="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
MEM="$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)"
NPROC="$(nproc 2>/dev/null || echo '?')"
DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
GOVERSION="$(go version | awk '{ print $3 }')"

{
	cat <<EOF
# Correlation quality

Vigia's grouping of alert episodes into incidents, measured on the project's simulator against its ground truth,
beside two baselines on the same deliveries. Produced by one command:

    scripts/quality.sh

Run on ${DATE}, commit ${COMMIT}, on a machine with ${NPROC} CPUs (${CPU:-unknown CPU}), ${MEM:-? GiB} of memory, ${GOVERSION}.
Seeds: ${SEEDS}; scales: ${SCALES}. Total time of the run: SECONDS_PLACEHOLDER.

## Aims

From issue 3 (correlation) and issue 5 (problem management), checked on the medians of Vigia over the seeds:

$(aims)

## Medians per scale

${HEADER}
${MEDIANS}

## Every run

${HEADER}
$(cat "$ROWS")

## Runs: size and replay time

| scale | seed | deliveries | episodes | Vigia incidents | replay time (s) | episodes/s |
|---|---:|---:|---:|---:|---:|---:|
$(cat "$RUNS")

The replay time is the wall time of \`vigia replay --topology … --export …\` (ingest, correlation on event time, problem
detection and the export) on the whole replay file.

## What is measured

- **The simulator** (\`vigia simulate --seed N --scale small|large\`): *small* is 2 datacenters and about 300 CIs over 7
  days; *large* 6 datacenters and about 3,000 CIs over 14 days. Each fault is one true incident: switch and core-router
  cascades (about 40% with a silent root: the failing device raises no alert itself), database slowdowns with the
  services that use them, singletons on hosts and other CIs, pairs of unrelated faults in one datacenter starting within
  60 s of each other, alerts flapping about twenty times in an hour, recurring faults (the truth's problems: a nightly
  full disk, an uplink or a BGP session dropping every few days, a nightly failed backup; at the large scale also a
  nightly failed CronJob and a database slowing down every working morning; 3 problems at the small scale, 12 at the
  large), and alerts that map to no CI (bursts of one cause, and unrelated ones overlapping). Deliveries emulate Alertmanager (group_by alertname and cluster,
  group_wait 30s, group_interval 5m, repeat_interval 4h, send_resolved, an HA pair sending some notifications twice, a
  few deliveries minutes late), with about 5% Grafana webhooks and 5% generic events.
- **Episodes** are matched by fingerprint and start instant; an unassigned alert counts as an incident of its own.
- **Pairwise P / R / F1**: over pairs of episodes, is "same predicted incident" right (precision) and are the true
  same-incident pairs found (recall). A method that predicts no pairs has precision 1.
- **ARI**: the Adjusted Rand Index of the two partitions (1 identical, about 0 for chance).
- **false-merge**: share of predicted incidents holding episodes of two or more true incidents; *(episodes)* weighs it
  by their episodes.
- **split**: share of true incidents whose episodes are spread over two or more predicted incidents.
- **compression**: episodes per predicted incident (the truth's own is beside it).
- **root-cause acc.**: over true incidents with a root-cause CI, the share whose main predicted incident (the one holding
  most of its episodes) names that CI; *(silent root)* restricts it to roots that raised no alert themselves.
- **flapping in one**: share of flapping true incidents whose episodes are all in exactly one predicted incident (the
  medians table shows the worst seed).
- **Recurring problems in the truth** (the definition is in \`sim/doc.go\`): one fault on one target occurring as 3 or
  more incidents within 14 days (Vigia's default \`min_incidents\` and \`window\`). The target of an alert is its
  fault's root-cause CI, or for a fault with no CI its values of the scope labels (cluster, namespace, service, job,
  instance, host, ...): labels such as zone, cronjob, queue or domain do not tell targets apart. Every other fault is
  one-off: the simulator places no alert of one-off faults on one target 3 or more times within 14 days (nor the alert
  names of a whole one-off incident), and none on a problem's target; a test checks this with Vigia's own signatures,
  and that recurrence detection on the truth's own incidents proposes exactly the truth's problems. Recurrence of one
  alert name across the CIs of a type (a *class* problem, "DiskFull @ type=host") or of different alerts on one CI (a
  *per-CI* problem, "any alert @ ci=…") is not a problem of the truth: at the simulated rates (about one host
  singleton per host and day) every alert name recurs across hosts, and most hosts have several incidents a week.
- **problem P / R**: a predicted problem matches the truth problem that more than half of its incidents' episodes
  belong to. Precision is the share of predicted problems (of every kind: signature, class, per-CI) that match a truth
  problem; recall the share of truth problems matched by at least one predicted problem. So when Vigia splits one
  truth problem into two predicted problems (a DiskWillFillIn4Hours signature apart from the DiskFull one), both count
  as right for precision and the truth problem counts once for recall. Precision is n/a when the export lists no
  problems (recall is then 0). The per-run section below lists the predicted problems by kind (read from the
  signature text), which predicted problems found each truth problem, and the unmatched signature problems.
- **Baselines**: *none* puts every episode in its own incident. *groupKey* opens an incident with the first new episode of
  an Alertmanager groupKey and closes it when that group's notification says "resolved" (as a pager keyed on the
  groupKey would); Grafana and generic-event deliveries group by source and alertname the same way. Baselines name no
  root causes and no problems.

## By fault class

<details><summary>Vigia's scores by fault class, and its problems, for every run</summary>
$(cat "$CLASSES")

</details>
EOF
} >"$OUT.tmp"

TOTAL="$(printf '%dm%02ds' $((SECONDS / 60)) $((SECONDS % 60)))"
sed "s/SECONDS_PLACEHOLDER/${TOTAL}/" "$OUT.tmp" >"$OUT"
rm -f "$OUT.tmp"

echo
echo "==> medians"
printf '%s\n%s\n' "$HEADER" "$MEDIANS"
echo
echo "wrote $OUT in $TOTAL"
