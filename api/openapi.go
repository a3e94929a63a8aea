package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc is the hand-written OpenAPI 3.0.3 document of the whole HTTP
// API: ingest, analyst and operational endpoints. openapi_test.go checks it
// against the routes that Register* mount, so a new route without its
// description fails the tests.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPIPath is where RegisterOpenAPI serves the document.
const OpenAPIPath = "/api/v1/openapi.json"

// OpenAPI returns a copy of the OpenAPI document.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

// RegisterOpenAPI mounts GET /api/v1/openapi.json, without authentication:
// the document describes the API and holds no data.
func (a *API) RegisterOpenAPI(r gin.IRouter) {
	r.GET(OpenAPIPath, func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json", openAPIDoc)
	})
}
