package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/vigia-noc/vigia/correlate"
)

// The bounded label values of the metrics, created in advance.
var (
	metricSources = []correlate.Source{correlate.SourceAlertmanager, correlate.SourceGrafana, correlate.SourceEvents}
	metricCodes   = []int{202, 400, 401, 403, 413, 415, 429, 500, 503}
	// Rejection reasons: those of decode.go, plus the HTTP-level ones.
	metricReasons = []string{
		reasonMalformed, reasonVersion, reasonInvalid, reasonLimit,
		reasonTooLarge, reasonMediaType, reasonUnauthorized, reasonForbidden,
		reasonOverloaded, reasonCanceled, reasonInternal, reasonRateLimited,
	}
)

const (
	reasonTooLarge     = "too_large"
	reasonMediaType    = "media_type"
	reasonUnauthorized = "unauthorized"
	reasonForbidden    = "forbidden"
	reasonOverloaded   = "overloaded"
	reasonCanceled     = "canceled"
	reasonInternal     = "internal"
	reasonRateLimited  = "rate_limited" // 429: a sender's rate limit, or an address locked out after invalid tokens
)

type metrics struct {
	requests   *prometheus.CounterVec   // source, code
	alerts     *prometheus.CounterVec   // source: alerts accepted
	bytes      *prometheus.CounterVec   // source: body bytes read
	duration   *prometheus.HistogramVec // source
	rejected   *prometheus.CounterVec   // source, reason
	duplicates *prometheus.CounterVec   // source
	truncated  *prometheus.CounterVec   // source
}

// newMetrics registers the ingest metrics with reg. A nil reg yields working
// but unregistered metrics.
func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	const ns, sub = "vigia", "ingest"
	m := &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "requests_total",
			Help: "Webhook requests, by source and HTTP status code.",
		}, []string{"source", "code"}),
		alerts: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "alerts_total",
			Help: "Alerts accepted (durably handed on), by source.",
		}, []string{"source"}),
		bytes: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "bytes_total",
			Help: "Request body bytes read, by source.",
		}, []string{"source"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "request_duration_seconds",
			Help:    "Time from request to reply, the hand-off to the journal included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"source"}),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "rejected_total",
			Help: "Requests not accepted, by source and reason.",
		}, []string{"source", "reason"}),
		duplicates: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "duplicate_alerts_total",
			Help: "Accepted alerts already seen with the same fingerprint, startsAt, status and endsAt (advisory).",
		}, []string{"source"}),
		truncated: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "truncated_alerts_total",
			Help: "Alerts senders reported leaving out of accepted bodies (truncatedAlerts): lost before they reached Vigia.",
		}, []string{"source"}),
	}
	for _, src := range metricSources {
		s := string(src)
		for _, c := range metricCodes {
			m.requests.WithLabelValues(s, strconv.Itoa(c))
		}
		for _, r := range metricReasons {
			m.rejected.WithLabelValues(s, r)
		}
		m.alerts.WithLabelValues(s)
		m.bytes.WithLabelValues(s)
		m.duration.WithLabelValues(s)
		m.duplicates.WithLabelValues(s)
		m.truncated.WithLabelValues(s)
	}
	return m
}
