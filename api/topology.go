package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/topology"
)

// TopologyHolder keeps the current topology and replaces it.
type TopologyHolder interface {
	Topology() *topology.Topology
	SetTopology(ctx context.Context, t *topology.Topology) error
}

// MaxTopologyBytes bounds a topology document.
const MaxTopologyBytes = 64 << 20

// RegisterTopology mounts GET and PUT /api/v1/topology.
func (a *API) RegisterTopology(r gin.IRouter, h TopologyHolder) {
	r.GET("/api/v1/topology", a.auth.Require(auth.RoleViewer), func(c *gin.Context) {
		t := h.Topology()
		c.JSON(http.StatusOK, topology.File{CIs: nonNil(t.CIs())})
	})
	r.PUT("/api/v1/topology", a.auth.Require(auth.RoleAdmin), noSimpleForms, func(c *gin.Context) {
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxTopologyBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, Error{Error: "topology document too large"})
				return
			}
			badRequest(c, "", "cannot read body: "+err.Error())
			return
		}
		t, err := topology.Parse(body)
		if err != nil {
			badRequest(c, "cis", err.Error())
			return
		}
		if err := h.SetTopology(c.Request.Context(), t); err != nil {
			a.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"cis": t.Len()})
	})
}

func nonNil(cis []topology.CI) []topology.CI {
	if cis == nil {
		return []topology.CI{}
	}
	return cis
}
