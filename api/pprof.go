package api

import (
	"net/http/pprof"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/auth"
)

// RegisterPprof mounts Go's profiling endpoints under /debug/pprof/ for the
// admin role only: CPU, heap, allocation, block and goroutine profiles of a
// running Vigia. Nothing is collected until a profile is requested.
func (a *API) RegisterPprof(r gin.IRouter) {
	g := r.Group("/debug/pprof", a.auth.Require(auth.RoleAdmin))
	g.GET("/", gin.WrapF(pprof.Index))
	g.GET("/cmdline", gin.WrapF(pprof.Cmdline))
	g.GET("/profile", gin.WrapF(pprof.Profile))
	g.GET("/symbol", gin.WrapF(pprof.Symbol))
	g.GET("/trace", gin.WrapF(pprof.Trace))
	g.GET("/:name", func(c *gin.Context) { pprof.Handler(c.Param("name")).ServeHTTP(c.Writer, c.Request) })
}
