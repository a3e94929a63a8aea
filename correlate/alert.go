package correlate

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/common/model"
)

// Source names the kind of sender a delivery came from.
type Source string

// The sources of contract §2.
const (
	SourceAlertmanager Source = "alertmanager"
	SourceGrafana      Source = "grafana"
	SourceEvents       Source = "events"
)

// Valid reports whether s is one of the known sources.
func (s Source) Valid() bool {
	switch s {
	case SourceAlertmanager, SourceGrafana, SourceEvents:
		return true
	}
	return false
}

// Status is the state an alert reports in a notification.
type Status uint8

// Alert states.
const (
	StatusFiring Status = iota + 1
	StatusResolved
)

func (s Status) String() string {
	switch s {
	case StatusFiring:
		return "firing"
	case StatusResolved:
		return "resolved"
	}
	return "unknown"
}

// MarshalJSON writes "firing" or "resolved".
func (s Status) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// UnmarshalJSON reads "firing" or "resolved".
func (s *Status) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("status %s: must be a string", b)
	}
	v, err := ParseStatus(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseStatus parses "firing" or "resolved".
func ParseStatus(s string) (Status, error) {
	switch s {
	case "firing":
		return StatusFiring, nil
	case "resolved":
		return StatusResolved, nil
	}
	return 0, fmt.Errorf("status %q: must be firing or resolved", s)
}

// Alert is one alert of one notification, normalized from any source.
type Alert struct {
	// Fingerprint identifies the alert's label set: 16 lowercase hex digits.
	Fingerprint string
	Status      Status
	Labels      map[string]string
	Annotations map[string]string
	// StartsAt is when the alert started firing; StartsAtRaw keeps the text
	// it arrived as, so exports keep its precision.
	StartsAt    time.Time
	StartsAtRaw string
	// EndsAt is when the alert resolved; zero while firing.
	EndsAt       time.Time
	GeneratorURL string
	// Extra holds source-specific fields worth keeping (Grafana's
	// dashboardURL, panelURL, silenceURL, imageURL, valueString, values).
	Extra map[string]string
}

// Delivery is one accepted notification: the unit the journal stores.
type Delivery struct {
	Source     Source
	ReceivedAt time.Time
	// Sender is the identity of the token that sent it ("" without tokens).
	Sender string
	// Receiver and GroupKey come from Alertmanager-shaped payloads.
	Receiver string
	GroupKey string
	Alerts   []Alert
}

// Errors returned by validation.
var (
	ErrNoFingerprint = errors.New("alert has no fingerprint")
)

// LabelsFingerprint computes the Prometheus fingerprint of a label set, as
// Alertmanager does, formatted as 16 lowercase hex digits.
func LabelsFingerprint(labels map[string]string) string {
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// SortedLabelNames returns the label names of m in lexical order.
func SortedLabelNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Severity returns the alert's normalized severity label.
func (a *Alert) Severity() string { return a.Labels["severity"] }

// EpisodeKey identifies one firing period of one alert.
type EpisodeKey struct {
	Fingerprint string
	StartsAt    int64 // Unix nanoseconds
}

// Key returns the alert's episode key.
func (a *Alert) Key() EpisodeKey {
	return EpisodeKey{Fingerprint: a.Fingerprint, StartsAt: a.StartsAt.UnixNano()}
}
