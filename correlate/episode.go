package correlate

import (
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// Episode is one firing period of one alert: (fingerprint, startsAt).
// Repeated notifications of the same episode are counted, never duplicated.
type Episode struct {
	ID           int64             `json:"id"`
	Fingerprint  string            `json:"fingerprint"`
	StartsAt     time.Time         `json:"-"`
	StartsAtRaw  string            `json:"starts_at"`
	EndsAt       time.Time         `json:"-"`
	Status       Status            `json:"-"`
	Source       Source            `json:"source"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	GeneratorURL string            `json:"generator_url,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"`
	// FirstSeen and LastSeen are the processing times (received_at) of the
	// first and latest notification of this episode.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Notifications counts every notification of this episode, repeats included.
	Notifications int `json:"notifications"`

	// IncidentID is the incident the episode belongs to; "" when unassigned.
	IncidentID  string                `json:"incident_id,omitempty"`
	JoinedAt    time.Time             `json:"joined_at"`
	Explanation *incident.Explanation `json:"explanation,omitempty"`
	// CI is the configuration item the alert maps to, when known.
	CI string `json:"ci,omitempty"`
	// Suppressed is the id of the suppression or maintenance window that
	// covered the alert when it started; a suppressed alert opens no incident.
	Suppressed string `json:"suppressed,omitempty"`
	// Version increases with every change; stores keep the highest.
	Version int64 `json:"version"`
}

// Key returns the episode's identity.
func (e *Episode) Key() EpisodeKey {
	return EpisodeKey{Fingerprint: e.Fingerprint, StartsAt: e.StartsAt.UnixNano()}
}

// Firing reports whether the episode is still firing.
func (e *Episode) Firing() bool { return e.Status == StatusFiring }

// EventTime is the latest event time of the episode: its end, or its start while firing.
func (e *Episode) EventTime() time.Time {
	if !e.EndsAt.IsZero() {
		return e.EndsAt
	}
	return e.StartsAt
}
