// Package dashboards holds the Grafana dashboards (JSON for the ClickHouse
// data source) and the assets of the built-in web UI's views.
package dashboards
