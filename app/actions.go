package app

import (
	"context"
	"fmt"

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
}

func (a actions) Act(ctx context.Context, id string, r incident.Request) (storage.IncidentDetail, error) {
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
	return a.store.GetIncident(ctx, id)
}
