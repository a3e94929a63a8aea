package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
)

// Actor carries out analyst actions on incidents.
type Actor interface {
	// Act applies r; with supp (reject only) it also creates a suppression.
	Act(ctx context.Context, id string, r incident.Request, supp *SuppressSpec) (storage.IncidentDetail, error)
}

// SuppressSpec asks a rejection to create a suppression: matchers
// (default: the incident's shared labels) for a duration.
type SuppressSpec struct {
	Matchers []string `json:"matchers,omitempty"`
	Duration string   `json:"duration"`
}

// actionBody is the JSON body of an action.
type actionBody struct {
	incident.Request
	Suppress *SuppressSpec `json:"suppress,omitempty"`
}

// MaxActionBytes bounds an action's body.
const MaxActionBytes = 1 << 20

// TransitionErrorBody is the 409 reply to a forbidden transition.
type TransitionErrorBody struct {
	Error   string            `json:"error"`
	Allowed []incident.Action `json:"allowed"`
}

// RegisterActions mounts POST /api/v1/incidents/{id}/{action}.
func (a *API) RegisterActions(r gin.IRouter, act Actor, now func() time.Time) {
	r.POST("/api/v1/incidents/:id/:action", a.auth.Require(auth.RoleAnalyst), noSimpleForms, func(c *gin.Context) {
		action, err := incident.ParseAction(c.Param("action"))
		if err != nil {
			c.AbortWithStatusJSON(http.StatusNotFound, Error{Error: err.Error(), Field: "action"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxActionBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, Error{Error: "body too large"})
				return
			}
			badRequest(c, "", "cannot read body")
			return
		}
		var ab actionBody
		if len(bytes.TrimSpace(body)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&ab); err != nil {
				badRequest(c, "", "invalid JSON body: "+err.Error())
				return
			}
		}
		if ab.Suppress != nil && action != incident.ActionReject {
			badRequest(c, "suppress", "only reject can create a suppression")
			return
		}
		req := ab.Request
		req.Action = action
		req.Actor = auth.IdentityFrom(c.Request.Context()).Name
		req.At = now()
		d, err := act.Act(c.Request.Context(), c.Param("id"), req, ab.Suppress)
		var te *correlate.TransitionError
		switch {
		case err == nil:
			c.JSON(http.StatusOK, ViewOf(d))
		case errors.As(err, &te):
			c.AbortWithStatusJSON(http.StatusConflict, TransitionErrorBody{Error: te.Error(), Allowed: te.Allowed})
		case errors.Is(err, incident.ErrInvalidRequest):
			badRequest(c, "", err.Error())
		default:
			a.fail(c, err)
		}
	})
}
