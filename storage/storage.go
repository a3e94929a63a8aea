package storage

import (
	"errors"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
)

// ErrNotFound is returned when a requested entity does not exist.
var ErrNotFound = errors.New("not found")

// ErrUnavailable is returned while a store cannot be reached (a database
// server down); the request may be retried later.
var ErrUnavailable = errors.New("store unavailable")

// ErrBadCursor is returned for a paging cursor the store did not produce.
var ErrBadCursor = errors.New("invalid cursor")

// IncidentFilter selects incidents for a list.
type IncidentFilter struct {
	Statuses   []incident.Status
	Priorities []incident.Priority
	// From and To bound opened_at (From inclusive, To exclusive); zero = open.
	From, To time.Time
	// Q is a case-insensitive substring of the title or id.
	Q string
	// Limit caps the page (1..1000); Cursor continues a previous page.
	Limit  int
	Cursor string
}

// IncidentPage is one page of an incident list, newest first.
type IncidentPage struct {
	Incidents  []incident.Incident `json:"incidents"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// IncidentDetail is one incident with its alerts and timeline.
type IncidentDetail struct {
	Incident incident.Incident   `json:"incident"`
	Alerts   []correlate.Episode `json:"alerts"`
	Timeline []incident.Event    `json:"timeline"`
}

// Totals are the store's running counters.
type Totals struct {
	correlate.Stats
	Episodes  int64 `json:"episodes"`
	Incidents int64 `json:"incidents"`
}

// Checkpoint is the position a batch of changes brings a store to.
type Checkpoint struct {
	// Offset is the last journal sequence whose effects are included.
	Offset          uint64
	Clock           time.Time
	NextIncidentSeq int64
	NextEpisodeID   int64
}
