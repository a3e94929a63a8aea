package notify

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	sent        *prometheus.CounterVec
	failed      *prometheus.CounterVec
	retried     *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	queueLength *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
}

// newMetrics registers the notifier's metrics with reg (nil: unregistered)
// and creates the series of every receiver. Receiver names come from the
// configuration, so the label is bounded.
func newMetrics(reg prometheus.Registerer, receivers []string) *metrics {
	f := promauto.With(reg)
	const ns, sub = "vigia", "notify"
	lbl := []string{"receiver"}
	m := &metrics{
		sent: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "sent_total",
			Help: "Notifications delivered (the receiver answered 2xx).",
		}, lbl),
		failed: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "failed_total",
			Help: "Notifications given up: a non-retryable answer, retries exhausted, or shutdown.",
		}, lbl),
		retried: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "retried_total",
			Help: "Delivery attempts retried after a network error, 429 or 5xx.",
		}, lbl),
		dropped: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "dropped_total",
			Help: "Notifications dropped because the receiver's queue was full, or left queued at shutdown.",
		}, lbl),
		queueLength: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "queue_length",
			Help: "Notifications waiting in the receiver's queue.",
		}, lbl),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "request_duration_seconds",
			Help:    "Duration of one HTTP attempt.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12), // 5ms .. ~10s
		}, lbl),
	}
	for _, r := range receivers {
		m.sent.WithLabelValues(r).Add(0)
		m.failed.WithLabelValues(r).Add(0)
		m.retried.WithLabelValues(r).Add(0)
		m.dropped.WithLabelValues(r).Add(0)
		m.queueLength.WithLabelValues(r).Set(0)
		m.duration.WithLabelValues(r)
	}
	return m
}
