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
	"github.com/vigia-noc/vigia/suppress"
)

// Suppressions keeps the suppressions and maintenance windows.
type Suppressions interface {
	List() []suppress.Suppression
	Add(ctx context.Context, s suppress.Suppression) (suppress.Suppression, error)
	Delete(ctx context.Context, id string) error
}

// ErrSuppressionNotFound is returned by Delete for an unknown id.
var ErrSuppressionNotFound = errors.New("suppression not found")

// RegisterSuppressions mounts /api/v1/suppressions.
func (a *API) RegisterSuppressions(r gin.IRouter, h Suppressions, now func() time.Time) {
	r.GET("/api/v1/suppressions", a.auth.Require(auth.RoleViewer), func(c *gin.Context) {
		list := h.List()
		if list == nil {
			list = []suppress.Suppression{}
		}
		c.JSON(http.StatusOK, gin.H{"suppressions": list})
	})
	r.POST("/api/v1/suppressions", a.auth.Require(auth.RoleAnalyst), noSimpleForms, func(c *gin.Context) {
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxActionBytes))
		if err != nil {
			badRequest(c, "", "cannot read body")
			return
		}
		var s suppress.Suppression
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			badRequest(c, "", "invalid JSON body: "+err.Error())
			return
		}
		if s.StartsAt.IsZero() {
			s.StartsAt = now()
		}
		s.CreatedBy, s.CreatedAt = auth.IdentityFrom(c.Request.Context()).Name, now()
		out, err := h.Add(c.Request.Context(), s)
		if err != nil {
			if errors.Is(err, suppress.ErrInvalid) {
				badRequest(c, "", err.Error())
				return
			}
			a.fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, out)
	})
	r.DELETE("/api/v1/suppressions/:id", a.auth.Require(auth.RoleAnalyst), noSimpleForms, func(c *gin.Context) {
		if err := h.Delete(c.Request.Context(), c.Param("id")); err != nil {
			if errors.Is(err, ErrSuppressionNotFound) {
				c.AbortWithStatusJSON(http.StatusNotFound, Error{Error: err.Error()})
				return
			}
			a.fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}
