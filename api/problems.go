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
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/storage"
)

// Problems is problem management as the API needs it.
type Problems interface {
	List(ctx context.Context, statuses []problem.Status, q string) ([]problem.Problem, error)
	Get(ctx context.Context, id string) (problem.Problem, error)
	Act(ctx context.Context, id string, a problem.Action) (problem.Problem, error)
}

// ProblemTransitionErrorBody is the 409 reply to a forbidden problem transition.
type ProblemTransitionErrorBody struct {
	Error   string               `json:"error"`
	Allowed []problem.ActionKind `json:"allowed"`
}

// RegisterProblems mounts /api/v1/problems.
func (a *API) RegisterProblems(r gin.IRouter, h Problems, now func() time.Time) {
	r.GET("/api/v1/problems", a.auth.Require(auth.RoleViewer), func(c *gin.Context) {
		var sts []problem.Status
		for _, v := range splitList(c.QueryArray("status")) {
			st, err := problem.ParseStatus(v)
			if err != nil {
				badRequest(c, "status", err.Error())
				return
			}
			sts = append(sts, st)
		}
		list, err := h.List(c.Request.Context(), sts, c.Query("q"))
		if err != nil {
			a.fail(c, err)
			return
		}
		if list == nil {
			list = []problem.Problem{}
		}
		c.JSON(http.StatusOK, gin.H{"problems": list})
	})
	r.GET("/api/v1/problems/:id", a.auth.Require(auth.RoleViewer), func(c *gin.Context) {
		p, err := h.Get(c.Request.Context(), c.Param("id"))
		if err != nil {
			a.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, p)
	})
	r.POST("/api/v1/problems/:id/:action", a.auth.Require(auth.RoleProblemManager), noSimpleForms, func(c *gin.Context) {
		kind, err := problem.ParseActionKind(c.Param("action"))
		if err != nil {
			c.AbortWithStatusJSON(http.StatusNotFound, Error{Error: err.Error(), Field: "action"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxActionBytes))
		if err != nil {
			badRequest(c, "", "cannot read body")
			return
		}
		var act problem.Action
		if len(bytes.TrimSpace(body)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&act); err != nil {
				badRequest(c, "", "invalid JSON body: "+err.Error())
				return
			}
		}
		act.Kind = kind
		act.Actor = auth.IdentityFrom(c.Request.Context()).Name
		act.At = now()
		p, err := h.Act(c.Request.Context(), c.Param("id"), act)
		switch {
		case err == nil:
			c.JSON(http.StatusOK, p)
		case errors.Is(err, problem.ErrInvalidTransition):
			c.AbortWithStatusJSON(http.StatusConflict, ProblemTransitionErrorBody{Error: err.Error(), Allowed: problem.Allowed(p.Status)})
		case errors.Is(err, problem.ErrInvalidAction):
			badRequest(c, "", err.Error())
		case errors.Is(err, problem.ErrNotFound), errors.Is(err, storage.ErrNotFound):
			c.AbortWithStatusJSON(http.StatusNotFound, Error{Error: err.Error()})
		default:
			a.fail(c, err)
		}
	})
}
