package pipeline

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	deliveries     prometheus.Counter
	alerts         prometheus.Counter
	undecodable    prometheus.Counter
	storeErrors    prometheus.Counter
	applied        prometheus.Gauge
	activeEpisodes prometheus.Gauge
	openIncidents  prometheus.Gauge
	batchDuration  prometheus.Histogram
	batchRecords   prometheus.Histogram
	feedback       *prometheus.CounterVec
	events         *prometheus.CounterVec
	joins          *prometheus.CounterVec
	open           *prometheus.GaugeVec
	applyLatency   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		deliveries: f.NewCounter(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "deliveries_processed_total", Help: "Journal deliveries processed by the correlation engine."}),
		alerts: f.NewCounter(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "alerts_processed_total", Help: "Alert notifications processed by the correlation engine."}),
		undecodable: f.NewCounter(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "undecodable_records_total", Help: "Journal records skipped because they could not be decoded."}),
		storeErrors: f.NewCounter(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "storage",
			Name: "write_errors_total", Help: "Failed store writes (retried)."}),
		applied: f.NewGauge(prometheus.GaugeOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "applied_seq", Help: "Last journal sequence applied to the store."}),
		activeEpisodes: f.NewGauge(prometheus.GaugeOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "episodes_in_memory", Help: "Alert episodes held by the engine (firing and recently resolved)."}),
		openIncidents: f.NewGauge(prometheus.GaugeOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "incidents_in_memory", Help: "Incidents held by the engine (open and recently resolved)."}),
		batchDuration: f.NewHistogram(prometheus.HistogramOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "batch_duration_seconds", Help: "Time to correlate and store one batch of journal records.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		batchRecords: f.NewHistogram(prometheus.HistogramOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "batch_records", Help: "Journal records per correlation batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11)}),
		feedback: f.NewCounterVec(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "correlate",
			Name: "feedback_total", Help: "Analyst decisions (confirm, reject) and corrections (merge, move) by the method and rule that grouped the incident; precision = confirm / (confirm + reject)."},
			[]string{"method", "rule", "decision"}),
		events: f.NewCounterVec(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "incident",
			Name: "events_total", Help: "Incident timeline events by kind: opened, sla_at_risk, sla_breached, escalated."},
			[]string{"kind"}),
	}
	m.joins = f.NewCounterVec(prometheus.CounterOpts{Namespace: "vigia", Subsystem: "correlate",
		Name: "joins_total", Help: "New alert episodes by the method that placed them in an incident."}, []string{"method"})
	for _, k := range []string{"rule", "topology", "similarity", "flapping", "repeat", "manual"} {
		m.joins.WithLabelValues(k).Add(0)
	}
	m.open = f.NewGaugeVec(prometheus.GaugeOpts{Namespace: "vigia", Subsystem: "incident",
		Name: "open", Help: "Incidents not resolved, closed, rejected or merged, by status and priority."}, []string{"status", "priority"})
	m.applyLatency = f.NewHistogram(prometheus.HistogramOpts{Namespace: "vigia", Subsystem: "correlate",
		Name: "delivery_to_store_seconds", Help: "Time from a delivery's acknowledgement to its effects (episodes, incidents) being in the store, for the oldest delivery of each batch.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)})
	for _, k := range []string{"opened", "sla_at_risk", "sla_breached", "escalated"} {
		m.events.WithLabelValues(k).Add(0)
	}
	return m
}
