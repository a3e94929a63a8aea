#!/usr/bin/env bash
# scripts/e2e-prometheus.sh: the real chain Prometheus -> Alertmanager -> Vigia.
#
# Builds Prometheus (and promtool) from source through the Go module proxy into
# .tools/bin (once: the binaries are reused while their module version matches),
# installs Alertmanager like scripts/test.sh does, checks deploy/prometheus/*.yml
# with promtool, then runs the end-to-end test e2e/prometheus_test.go
# (TestPrometheusChain): Prometheus evaluates an always-firing rule and sends to
# a real Alertmanager, which sends to a real `vigia serve`; the incident appears
# in Vigia's API; the rule is removed and Prometheus reloaded; the alert
# resolves and so does the incident.
#
# Why a wrapper module: `go install github.com/prometheus/prometheus/cmd/prometheus@V`
# fails, because Prometheus' go.mod has exclude and replace directives, which
# `go install pkg@version` refuses. A throwaway module that requires Prometheus
# and repeats those directives builds it. The first build takes about 6 minutes
# on a 2-core machine (the SD plugins are left out with -tags remove_all_sd:
# the test only needs static targets).
#
# Environment:
#   PROMETHEUS_VERSION    module version (default v0.315.0, i.e. Prometheus 3.15.0)
#   ALERTMANAGER_VERSION  default v0.31.1
#   BUILD_ONLY=1          build the tools and stop
#   VIGIA_TEST_TIMEOUT    go test -timeout (default 10m)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.315.0}"
ALERTMANAGER_VERSION="${ALERTMANAGER_VERSION:-v0.31.1}"
VIGIA_TEST_TIMEOUT="${VIGIA_TEST_TIMEOUT:-10m}"
TOOLS_BIN="$ROOT/.tools/bin"
mkdir -p "$TOOLS_BIN"

section() {
	printf '\n==> %s\n' "$*"
}

# mod_version BIN MODULE prints the version of MODULE recorded in BIN's build
# info (as main module or as dependency), or nothing.
mod_version() {
	local info
	info="$(go version -m "$1" 2>/dev/null)" || return 0
	awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }' <<<"$info"
}

SECONDS=0

section "tools: Prometheus $PROMETHEUS_VERSION (prometheus, promtool)"
PROM_MOD="github.com/prometheus/prometheus"
if [ -x "$TOOLS_BIN/prometheus" ] && [ -x "$TOOLS_BIN/promtool" ] &&
	[ "$(mod_version "$TOOLS_BIN/prometheus" "$PROM_MOD")" = "$PROMETHEUS_VERSION" ] &&
	[ "$(mod_version "$TOOLS_BIN/promtool" "$PROM_MOD")" = "$PROMETHEUS_VERSION" ]; then
	echo "already built: $TOOLS_BIN/prometheus, $TOOLS_BIN/promtool"
else
	WRAP="$(mktemp -d "${TMPDIR:-/tmp}/vigia-prometheus-build.XXXXXX")"
	trap 'rm -rf "$WRAP"' EXIT
	UPSTREAM_MOD="$(cd "$WRAP" && GOFLAGS=-mod=mod go mod download -json "$PROM_MOD@$PROMETHEUS_VERSION" |
		awk -F'"' '$2 == "GoMod" { print $4 }')"
	if [ -z "$UPSTREAM_MOD" ] || [ ! -f "$UPSTREAM_MOD" ]; then
		echo "could not download the go.mod of $PROM_MOD@$PROMETHEUS_VERSION" >&2
		exit 1
	fi
	GO_DIRECTIVE="$(awk '$1 == "go" { print $2; exit }' "$UPSTREAM_MOD")"
	{
		echo "module vigia.local/prometheus-build"
		echo
		echo "go $GO_DIRECTIVE"
		echo
		# Repeat every exclude and replace directive of Prometheus' go.mod, both
		# the one-line form and the parenthesized blocks.
		awk '
			inblock { print; if ($1 == ")") { inblock = 0; print "" } ; next }
			($1 == "exclude" || $1 == "replace") {
				print
				if ($2 == "(") inblock = 1; else print ""
			}' "$UPSTREAM_MOD"
	} >"$WRAP/go.mod"
	echo "--- wrapper go.mod"
	cat "$WRAP/go.mod"
	# The module's own settings (GOFLAGS=-buildvcs=false and so on) stay; only
	# the wrapper's go.mod and go.sum are written.
	(
		cd "$WRAP"
		export GOFLAGS="${GOFLAGS:-} -mod=mod"
		go get "$PROM_MOD/cmd/prometheus@$PROMETHEUS_VERSION" "$PROM_MOD/cmd/promtool@$PROMETHEUS_VERSION"
		UPSTREAM_VERSION="$(cat "$(go env GOMODCACHE)/$PROM_MOD@$PROMETHEUS_VERSION/VERSION" 2>/dev/null || echo "$PROMETHEUS_VERSION")"
		LDFLAGS="-X github.com/prometheus/common/version.Version=$UPSTREAM_VERSION"
		LDFLAGS="$LDFLAGS -X github.com/prometheus/common/version.Branch=vigia-tools"
		for cmd in prometheus promtool; do
			echo "building $cmd ($UPSTREAM_VERSION)"
			CGO_ENABLED=0 go build -trimpath -tags netgo,remove_all_sd -ldflags "$LDFLAGS" \
				-o "$TOOLS_BIN/$cmd.tmp" "$PROM_MOD/cmd/$cmd"
			mv "$TOOLS_BIN/$cmd.tmp" "$TOOLS_BIN/$cmd"
		done
	)
	rm -rf "$WRAP"
	trap - EXIT
	echo "built in ${SECONDS}s"
fi
"$TOOLS_BIN/prometheus" --version | sed -n 1p

section "tools: Alertmanager $ALERTMANAGER_VERSION"
if [ -x "$TOOLS_BIN/alertmanager" ] &&
	[ "$(mod_version "$TOOLS_BIN/alertmanager" github.com/prometheus/alertmanager)" = "$ALERTMANAGER_VERSION" ]; then
	echo "already installed: $TOOLS_BIN/alertmanager"
else
	GOBIN="$TOOLS_BIN" go install "github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION"
fi

if [ "${BUILD_ONLY:-0}" = "1" ]; then
	section "tools built in ${SECONDS}s (BUILD_ONLY=1: stopping here)"
	exit 0
fi

section "promtool: deploy/prometheus"
"$TOOLS_BIN/promtool" check rules deploy/prometheus/vigia-rules.yml deploy/prometheus/demo-rules.yml
"$TOOLS_BIN/promtool" test rules deploy/prometheus/vigia-rules.test.yml
# prometheus.yml refers to paths inside the compose's containers: check it
# with --syntax-only, which does not open the rule files.
"$TOOLS_BIN/promtool" check config --syntax-only deploy/prometheus/prometheus.yml

section "e2e: Prometheus -> Alertmanager -> Vigia"
export VIGIA_PROMETHEUS_BIN="$TOOLS_BIN/prometheus"
export VIGIA_ALERTMANAGER_BIN="$TOOLS_BIN/alertmanager"
go test -count=1 -timeout "$VIGIA_TEST_TIMEOUT" -run 'TestPrometheusChain' -v ./e2e/

section "passed in ${SECONDS}s"
