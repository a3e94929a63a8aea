package app

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/vigia-noc/vigia/api"
	"github.com/vigia-noc/vigia/suppress"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/pipeline"
	"github.com/vigia-noc/vigia/storage"
)

// incidentReader is what actions read from the store.
type incidentReader interface {
	GetIncident(ctx context.Context, id string) (storage.IncidentDetail, error)
}

// actions runs analyst actions on the engine's goroutine, reading the
// incidents from the store there, so that the store is current.
type actions struct {
	p     *pipeline.Pipeline
	store incidentReader
	supp  *suppressions
}

func (a actions) Act(ctx context.Context, id string, r incident.Request, spec *api.SuppressSpec) (storage.IncidentDetail, error) {
	var dur time.Duration
	if spec != nil {
		var err error
		if dur, err = correlate.ParseDuration(spec.Duration); err != nil || dur <= 0 {
			return storage.IncidentDetail{}, fmt.Errorf("%w: suppress.duration: %q must be a positive duration", incident.ErrInvalidRequest, spec.Duration)
		}
		probe := suppress.Suppression{ID: "probe", Matchers: spec.Matchers, StartsAt: r.At, EndsAt: r.At.Add(dur)}
		if len(spec.Matchers) > 0 {
			if err := probe.Validate(); err != nil {
				return storage.IncidentDetail{}, fmt.Errorf("%w: suppress: %v", incident.ErrInvalidRequest, err)
			}
		}
	}
	err := a.p.Do(ctx, func(e *correlate.Engine) error {
		src, err := a.store.GetIncident(ctx, id)
		if err != nil {
			return err
		}
		var into *correlate.Stored
		if r.Into != "" {
			d, err := a.store.GetIncident(ctx, r.Into)
			if err != nil {
				return fmt.Errorf("%w: into: %v", incident.ErrInvalidRequest, err)
			}
			into = &correlate.Stored{Incident: d.Incident, Alerts: d.Alerts}
		}
		return e.Act(r, correlate.Stored{Incident: src.Incident, Alerts: src.Alerts}, into)
	})
	if err != nil {
		return storage.IncidentDetail{}, err
	}
	d, err := a.store.GetIncident(ctx, id)
	if err != nil || spec == nil {
		return d, err
	}
	matchers := spec.Matchers
	if len(matchers) == 0 {
		matchers = matchersOf(d)
	}
	_, err = a.supp.Add(ctx, suppress.Suppression{Matchers: matchers, StartsAt: r.At, EndsAt: r.At.Add(dur),
		CreatedBy: r.Actor, CreatedAt: r.At, Incident: id, Comment: fmt.Sprintf("created by rejecting %s (%s)", id, r.Reason)})
	if err != nil {
		return d, fmt.Errorf("%w: suppress: %v", incident.ErrInvalidRequest, err)
	}
	return d, nil
}

// matchersOf returns equality matchers on the labels that all of an
// incident's alerts share.
func matchersOf(d storage.IncidentDetail) []string {
	if len(d.Alerts) == 0 {
		return nil
	}
	shared := maps.Clone(d.Alerts[0].Labels)
	for _, ep := range d.Alerts[1:] {
		for k, v := range shared {
			if ep.Labels[k] != v {
				delete(shared, k)
			}
		}
	}
	keys := slices.Sorted(maps.Keys(shared))
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%s=%q", k, shared[k])
	}
	return out
}
