// Package export writes the export document of contract §5: every incident
// with its alerts, the alerts that belong to no incident, and the problems.
// It reads through a narrow interface that every store satisfies and
// streams the document, so exports of large stores stay small in memory.
package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
)

// Source is what export reads from a store.
type Source interface {
	ForEachIncident(ctx context.Context, since time.Time, fn func(incident.Incident, []correlate.Episode) error) error
	ForEachUnassigned(ctx context.Context, since time.Time, fn func(correlate.Episode) error) error
}

// ProblemSource is implemented by stores that keep problems.
type ProblemSource interface {
	Problems(ctx context.Context) ([]problem.Problem, error)
}

// Alert is an alert episode as exported.
type Alert struct {
	Fingerprint string            `json:"fingerprint"`
	StartsAt    string            `json:"starts_at"`
	Labels      map[string]string `json:"labels"`
}

// Incident is an incident as exported.
type Incident struct {
	ID          string  `json:"id"`
	Status      string  `json:"status"`
	Priority    string  `json:"priority"`
	Title       string  `json:"title"`
	OpenedAt    string  `json:"opened_at"`
	ResolvedAt  string  `json:"resolved_at,omitempty"`
	RootCauseCI string  `json:"root_cause_ci,omitempty"`
	ProblemID   string  `json:"problem_id,omitempty"`
	Alerts      []Alert `json:"alerts"`
}

// Problem is a problem as exported.
type Problem struct {
	ID          string   `json:"id"`
	Status      string   `json:"status"`
	Signature   string   `json:"signature"`
	IncidentIDs []string `json:"incident_ids"`
}

// Document is the whole export, for readers of the format.
type Document struct {
	Incidents        []Incident `json:"incidents"`
	UnassignedAlerts []Alert    `json:"unassigned_alerts"`
	Problems         []Problem  `json:"problems"`
}

// Time formats a timestamp as the export writes it.
func Time(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func alertOf(ep *correlate.Episode) Alert {
	raw := ep.StartsAtRaw
	if raw == "" {
		raw = Time(ep.StartsAt)
	}
	labels := ep.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return Alert{Fingerprint: ep.Fingerprint, StartsAt: raw, Labels: labels}
}

// IncidentOf converts an incident and its episodes to the export shape. A
// merged incident lists no alerts.
func IncidentOf(in *incident.Incident, eps []correlate.Episode) Incident {
	out := Incident{ID: in.ID, Status: in.Status.String(), Priority: in.Priority.String(), Title: in.Title,
		OpenedAt: Time(in.OpenedAt), RootCauseCI: in.RootCauseCI, ProblemID: in.ProblemID, Alerts: []Alert{}}
	if in.ResolvedAt != nil {
		out.ResolvedAt = Time(*in.ResolvedAt)
	}
	if in.Status != incident.StatusMerged {
		for i := range eps {
			out.Alerts = append(out.Alerts, alertOf(&eps[i]))
		}
	}
	return out
}

// Write streams the export document of src to w. Incidents opened and
// unassigned alerts started before since are left out.
func Write(ctx context.Context, w io.Writer, src Source, since time.Time) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	first := true
	sep := func() {
		if !first {
			bw.WriteString(",\n")
		}
		first = false
	}
	var problems []Problem
	problemOf := map[string]string{}
	if ps, ok := src.(ProblemSource); ok {
		list, err := ps.Problems(ctx)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		for _, p := range list {
			ids := p.IncidentIDs
			if ids == nil {
				ids = []string{}
			}
			problems = append(problems, Problem{ID: p.ID, Status: p.Status.String(), Signature: p.Signature, IncidentIDs: ids})
			for _, id := range p.IncidentIDs {
				problemOf[id] = p.ID
			}
		}
	}
	bw.WriteString("{\n\"incidents\": [\n")
	err := src.ForEachIncident(ctx, since, func(in incident.Incident, eps []correlate.Episode) error {
		sep()
		if in.ProblemID == "" {
			in.ProblemID = problemOf[in.ID]
		}
		return enc.Encode(IncidentOf(&in, eps))
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	bw.WriteString("],\n\"unassigned_alerts\": [\n")
	first = true
	err = src.ForEachUnassigned(ctx, since, func(ep correlate.Episode) error {
		sep()
		return enc.Encode(alertOf(&ep))
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	bw.WriteString("],\n\"problems\": [\n")
	first = true
	for _, p := range problems {
		sep()
		if err := enc.Encode(p); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	bw.WriteString("]\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
