#!/usr/bin/env bash
# scripts/test.sh: the one command that runs Vigia's whole test suite.
#
# Works on a fresh Debian machine that has Go: it installs what the tests need
# first (a C compiler for -race, a real Alertmanager for the e2e webhook test,
# Debian's ClickHouse server for the ClickHouse store's tests, Debian's
# Chromium for the web UI's browser tests),
# then checks formatting, vets, runs every test with the race detector, and
# gives every fuzz target a short run.
#
# Environment:
#   FUZZTIME            time per fuzz target (default 10s; 0 or "off" skips the fuzz pass)
#   VIGIA_TEST_TIMEOUT  go test -timeout for the main run (default 20m)
#   VIGIA_CLICKHOUSE_DSN  ClickHouse for the storage tests (default: install and
#                       start Debian's clickhouse-server, clickhouse://127.0.0.1:9000/vigia_test)
#   VIGIA_CHROMIUM_BIN  browser for the web UI tests (default: Debian's chromium, installed if missing)
#   VIGIA_SCREENSHOTS   folder for the web UI tests' screenshots (default: a temporary one)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FUZZTIME="${FUZZTIME:-10s}"
VIGIA_TEST_TIMEOUT="${VIGIA_TEST_TIMEOUT:-20m}"
ALERTMANAGER_VERSION="v0.31.1"
TOOLS_BIN="$ROOT/.tools/bin"

section() {
	printf '\n==> %s\n' "$*"
}

SECONDS=0

section "environment"
go version
echo "repo: $ROOT"

# apt_install PKG... installs Debian packages, running apt-get update once.
APT_UPDATED=0
apt_install() {
	if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
		echo "need root (or sudo) to apt-get install $*" >&2
		return 1
	fi
	local SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	if [ "$APT_UPDATED" -eq 0 ]; then
		$SUDO apt-get update -qq
		APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

section "tools: C compiler (go test -race needs cgo)"
if ! command -v gcc >/dev/null 2>&1; then
	apt_install gcc libc6-dev
fi
gcc --version 2>&1 | sed -n 1p
export CGO_ENABLED=1

section "tools: Alertmanager $ALERTMANAGER_VERSION"
mkdir -p "$TOOLS_BIN"
# am_version prints the alertmanager module version from the binary's build
# info (go install does not stamp --version). No early-exit pipes here: with
# pipefail, a SIGPIPE would count as a failure.
am_version() {
	local info
	info="$(go version -m "$TOOLS_BIN/alertmanager" 2>/dev/null)" || return 0
	awk '$1 == "mod" && $2 == "github.com/prometheus/alertmanager" { print $3; exit }' <<<"$info"
}
if [ -x "$TOOLS_BIN/alertmanager" ] && [ "$(am_version)" = "$ALERTMANAGER_VERSION" ]; then
	echo "already installed: $TOOLS_BIN/alertmanager"
else
	GOBIN="$TOOLS_BIN" go install "github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION"
fi
echo "alertmanager module version: $(am_version)"
export VIGIA_ALERTMANAGER_BIN="$TOOLS_BIN/alertmanager"

section "tools: ClickHouse (Debian's clickhouse-server, for the storage/clickhouse tests)"
# The ClickHouse tests (conformance suite, crash/retry, cluster schema,
# replay equivalence, outage) run in the main go test pass below; they skip
# only when VIGIA_CLICKHOUSE_DSN is unset, and this section always sets it.
# An already set VIGIA_CLICKHOUSE_DSN (an external server) is kept as is.
if [ -z "${VIGIA_CLICKHOUSE_DSN:-}" ]; then
	if ! command -v clickhouse-server >/dev/null 2>&1 || ! command -v clickhouse-client >/dev/null 2>&1; then
		apt_install clickhouse-server clickhouse-client
	fi
	if clickhouse-client -q 'SELECT 1' >/dev/null 2>&1; then
		echo "already running"
	else
		# The package starts no service here: run the server in the background.
		SUDO=""
		[ "$(id -u)" -ne 0 ] && SUDO="sudo"
		mkdir -p "$ROOT/.tools"
		nohup $SUDO clickhouse-server --config-file=/etc/clickhouse-server/config.xml \
			>"$ROOT/.tools/clickhouse-server.log" 2>&1 </dev/null &
		for _ in $(seq 1 120); do
			clickhouse-client -q 'SELECT 1' >/dev/null 2>&1 && break
			sleep 0.5
		done
		if ! clickhouse-client -q 'SELECT 1' >/dev/null 2>&1; then
			echo "clickhouse-server did not answer within 60s; its log:" >&2
			tail -n 50 "$ROOT/.tools/clickhouse-server.log" >&2 || true
			exit 1
		fi
	fi
	export VIGIA_CLICKHOUSE_DSN="clickhouse://127.0.0.1:9000/vigia_test"
fi
echo "ClickHouse $(clickhouse-client -q 'SELECT version()' 2>/dev/null || echo '(external)'); VIGIA_CLICKHOUSE_DSN=$VIGIA_CLICKHOUSE_DSN"

section "tools: Chromium (web UI tests)"
# e2e/ui_test.go drives Debian's Chromium, headless, against the real binary;
# it skips only when there is no Chromium, so install it here and CI runs it.
# An already set VIGIA_CHROMIUM_BIN (another build) is kept as is.
if [ -z "${VIGIA_CHROMIUM_BIN:-}" ]; then
	if [ ! -x /usr/bin/chromium ]; then
		apt_install chromium fonts-liberation
	fi
	export VIGIA_CHROMIUM_BIN=/usr/bin/chromium
fi
"$VIGIA_CHROMIUM_BIN" --version 2>/dev/null || echo "$VIGIA_CHROMIUM_BIN (version unknown)"

section "gofmt"
mapfile -t GOFILES < <(find . -name '*.go' \
	-not -path './.git/*' -not -path './.tools/*' -not -path './vendor/*' \
	-not -path '*/testdata/*' -not -path './vigia-data/*' | sort)
if [ "${#GOFILES[@]}" -gt 0 ]; then
	UNFORMATTED="$(gofmt -l "${GOFILES[@]}")"
	if [ -n "$UNFORMATTED" ]; then
		echo "these files are not gofmt'd (run gofmt -w on them):" >&2
		echo "$UNFORMATTED" >&2
		exit 1
	fi
fi
echo "ok (${#GOFILES[@]} files)"

section "go vet ./..."
go vet ./...
echo "ok"

section "go test -race -count=1 ./..."
go test -race -count=1 -timeout "$VIGIA_TEST_TIMEOUT" ./...

section "fuzz (FUZZTIME=$FUZZTIME per target)"
if [ "$FUZZTIME" = "0" ] || [ "$FUZZTIME" = "off" ]; then
	echo "skipped (FUZZTIME=$FUZZTIME)"
else
	# Every "func FuzzXxx(" in a _test.go file, as "dir name" pairs.
	mapfile -t TARGETS < <(grep -rEo --include='*_test.go' \
		--exclude-dir=.git --exclude-dir=.tools --exclude-dir=vendor --exclude-dir=testdata \
		'^func Fuzz[A-Za-z0-9_]*\(' . |
		sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u)
	if [ "${#TARGETS[@]}" -eq 0 ]; then
		echo "no fuzz targets found"
	fi
	for target in "${TARGETS[@]}"; do
		dir="${target% *}"
		name="${target#* }"
		echo "--- $name in $dir"
		go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$dir"
	done
fi

section "all checks passed in ${SECONDS}s"
