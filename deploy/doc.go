// Package deploy holds what it takes to run Vigia for real: the production
// example configuration (vigia.yml), the container image (Dockerfile),
// docker-compose.yml with ClickHouse, Prometheus, Alertmanager and Grafana,
// Kubernetes manifests, a systemd unit, Prometheus alerting rules for
// Vigia's own health, the Alertmanager receiver and the Grafana contact
// point, and the ClickHouse cluster schema. docs/operations.md explains
// them.
//
// It has no code; its test checks that the files agree with one another
// and with the configuration loader: every referenced file exists, ports,
// URLs, token files and volumes match, and `vigia config check` accepts the
// configurations.
package deploy
