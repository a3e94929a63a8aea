package journal

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	appends   prometheus.Counter
	bytes     prometheus.Counter
	fsyncs    prometheus.Counter
	fsyncDur  prometheus.Histogram
	size      prometheus.Gauge
	segments  prometheus.Gauge
	corrupted prometheus.Counter
	lastSeq   prometheus.Gauge
}

// newMetrics registers the journal's metrics with reg. A nil reg yields
// working but unregistered metrics.
func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	const ns, sub = "vigia", "journal"
	return &metrics{
		appends: f.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "appends_total",
			Help: "Records appended and made durable.",
		}),
		bytes: f.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "bytes_total",
			Help: "Bytes appended, framing included.",
		}),
		fsyncs: f.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "fsyncs_total",
			Help: "fsync calls on segment files.",
		}),
		fsyncDur: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "fsync_duration_seconds",
			Help:    "Time spent making a group of appends durable.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 0.1ms .. ~3.3s
		}),
		size: f.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "size_bytes",
			Help: "Bytes on disk in all segments.",
		}),
		segments: f.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "segments",
			Help: "Segment files on disk.",
		}),
		corrupted: f.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "corrupted_records_total",
			Help: "Corrupted regions skipped during recovery (each loses one or more records).",
		}),
		lastSeq: f.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "last_seq",
			Help: "Sequence number of the last durable record.",
		}),
	}
}
