package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/export"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
)

// Store is what the read API needs from a store.
type Store interface {
	ListIncidents(ctx context.Context, f storage.IncidentFilter) (storage.IncidentPage, error)
	GetIncident(ctx context.Context, id string) (storage.IncidentDetail, error)
}

// Options configure the API.
type Options struct {
	Store  Store
	Auth   *auth.Authenticator
	Logger *slog.Logger
}

// API serves the analyst endpoints.
type API struct {
	store  Store
	auth   *auth.Authenticator
	logger *slog.Logger
}

// New returns the API.
func New(opts Options) (*API, error) {
	if opts.Store == nil {
		return nil, errors.New("api: Options.Store is required")
	}
	if opts.Auth == nil {
		return nil, errors.New("api: Options.Auth is required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &API{store: opts.Store, auth: opts.Auth, logger: logger.With("component", "api")}, nil
}

// Register mounts the endpoints on r.
func (a *API) Register(r gin.IRouter) {
	read := a.auth.Require(auth.RoleViewer)
	r.GET("/api/v1/incidents", read, a.listIncidents)
	r.GET("/api/v1/incidents/:id", read, a.getIncident)
}

// Error is the body of every error reply.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func badRequest(c *gin.Context, field, msg string) {
	c.AbortWithStatusJSON(http.StatusBadRequest, Error{Error: msg, Field: field})
}

func (a *API) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		c.AbortWithStatusJSON(http.StatusNotFound, Error{Error: err.Error()})
	case errors.Is(err, storage.ErrUnavailable):
		a.logger.Warn("request failed: store unavailable", "path", c.FullPath(), "err", err)
		c.Header("Retry-After", "5")
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, Error{Error: "the store is unavailable; retry later"})
	default:
		a.logger.Error("request failed", "path", c.FullPath(), "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, Error{Error: "internal error"})
	}
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

func (a *API) listIncidents(c *gin.Context) {
	var f storage.IncidentFilter
	for _, v := range splitList(c.QueryArray("status")) {
		s, err := incident.ParseStatus(v)
		if err != nil {
			badRequest(c, "status", err.Error())
			return
		}
		f.Statuses = append(f.Statuses, s)
	}
	for _, v := range splitList(c.QueryArray("priority")) {
		p, err := incident.ParsePriority(v)
		if err != nil {
			badRequest(c, "priority", err.Error())
			return
		}
		f.Priorities = append(f.Priorities, p)
	}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(tf.name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				badRequest(c, tf.name, "want an RFC3339 time or a date (2006-01-02)")
				return
			}
			*tf.dst = t
		}
	}
	f.Q = c.Query("q")
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			badRequest(c, "limit", "want a whole number from 1 to 1000")
			return
		}
		f.Limit = n
	}
	f.Cursor = c.Query("cursor")
	page, err := a.store.ListIncidents(c.Request.Context(), f)
	if err != nil {
		if errors.Is(err, storage.ErrBadCursor) {
			badRequest(c, "cursor", "invalid cursor")
			return
		}
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// AlertView is an alert episode as the API shows it.
type AlertView struct {
	correlate.Episode
	Status string `json:"status"`
	EndsAt string `json:"ends_at,omitempty"`
}

// IncidentView is one incident as the API shows it.
type IncidentView struct {
	Incident incident.Incident `json:"incident"`
	Alerts   []AlertView       `json:"alerts"`
	Timeline []incident.Event  `json:"timeline"`
}

// ViewOf converts a stored incident detail to its API shape.
func ViewOf(d storage.IncidentDetail) IncidentView {
	v := IncidentView{Incident: d.Incident, Timeline: d.Timeline, Alerts: make([]AlertView, len(d.Alerts))}
	for i, ep := range d.Alerts {
		v.Alerts[i] = AlertView{Episode: ep, Status: ep.Status.String()}
		if !ep.EndsAt.IsZero() {
			v.Alerts[i].EndsAt = export.Time(ep.EndsAt)
		}
	}
	return v
}

func (a *API) getIncident(c *gin.Context) {
	d, err := a.store.GetIncident(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ViewOf(d))
}
