// Package e2e holds Vigia's end-to-end tests: they build the real vigia
// binary once (TestMain) and drive it from outside, over loopback HTTP and
// real files, the way Alertmanager, Grafana and operators do (contract.md).
//
// Run them with `go test ./e2e/`. TestAlertmanagerRealWebhook also needs a real
// Alertmanager binary: $VIGIA_ALERTMANAGER_BIN, `alertmanager` on PATH, or
// .tools/bin/alertmanager (scripts/test.sh installs it there). Set
// VIGIA_E2E_RACE=1 to build the binary with the race detector, or
// VIGIA_E2E_BIN=/path/to/vigia to test a binary built elsewhere.
package e2e
