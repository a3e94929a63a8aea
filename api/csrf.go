package api

import (
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"
)

// noSimpleForms refuses the content types an HTML form on another site can
// send without a CORS preflight (form encodings and text/plain). The API
// authenticates with bearer tokens, never cookies, so a cross-site request
// carries no credentials; this closes the remaining hole when tokens are
// not configured (authentication off).
func noSimpleForms(c *gin.Context) {
	ct := c.GetHeader("Content-Type")
	if ct == "" {
		return
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		c.AbortWithStatusJSON(http.StatusUnsupportedMediaType, Error{Error: "invalid Content-Type"})
		return
	}
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		c.AbortWithStatusJSON(http.StatusUnsupportedMediaType, Error{Error: "Content-Type must be application/json"})
	}
}
