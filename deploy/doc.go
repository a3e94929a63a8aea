// Package deploy holds what it takes to run Vigia for real: example
// configurations for Alertmanager and Grafana, and (as they are added)
// container, Kubernetes, systemd and ClickHouse files. It has no Go code.
package deploy
