// Package ui serves Vigia's web UI: a single-page application of plain
// HTML, CSS and JavaScript modules embedded in the binary (no build step, no
// framework, nothing fetched from the internet at run time). It has the NOC
// queue, the incident page, the problem review and the executive dashboard,
// all drawn from the JSON API of contract §6.
//
// # Security
//
// The UI authenticates every API call with the bearer token the user pasted
// at login, sent in the Authorization header by the UI's own JavaScript and
// kept in sessionStorage (gone when the tab closes). No cookie is ever set
// or read, so a cross-site request carries no ambient credential: cross-site
// request forgery has nothing to ride on, and the API needs no CSRF token.
//
// Every UI response carries a Content-Security-Policy that allows only the
// UI's own origin (no inline script or style, no framing, no plugins), plus
// X-Content-Type-Options, X-Frame-Options and Referrer-Policy. The scripts
// render data with textContent and DOM nodes only, never innerHTML.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

//go:embed static
var files embed.FS

// Prefix is where the UI lives; StaticPrefix is where its assets are.
const (
	Prefix       = "/ui/"
	StaticPrefix = "/ui/static/"
)

// ContentSecurityPolicy allows only the UI's own origin: scripts, styles,
// API calls and images come from it, inline code and framing are refused.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".json": "application/json",
}

// assets are the embedded files by path below static/ ("js/app.js").
var assets = func() map[string]asset {
	out := map[string]asset{}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		ct := contentTypes[path.Ext(p)]
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "static/")] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic("ui: embedded assets: " + err.Error())
	}
	if _, ok := out["index.html"]; !ok {
		panic("ui: static/index.html is not embedded")
	}
	return out
}()

// Register mounts the UI: the application at / and under /ui/ (every path
// below /ui/ that is not an asset is a page of the application and gets
// index.html), and its assets under /ui/static/.
func Register(r gin.IRouter) {
	r.GET("/", servePage)
	r.HEAD("/", servePage)
	r.GET("/ui/*path", serveUI)
	r.HEAD("/ui/*path", serveUI)
}

// setSecurityHeaders sets the headers every UI response carries.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

func servePage(c *gin.Context) { serve(c, assets["index.html"]) }

func serveUI(c *gin.Context) {
	p := c.Request.URL.Path
	if rest, ok := strings.CutPrefix(p, StaticPrefix); ok {
		a, found := assets[rest]
		if !found || rest == "index.html" {
			setSecurityHeaders(c.Writer.Header())
			c.String(http.StatusNotFound, "not found\n")
			return
		}
		serve(c, a)
		return
	}
	serve(c, assets["index.html"])
}

func serve(c *gin.Context, a asset) {
	h := c.Writer.Header()
	setSecurityHeaders(h)
	h.Set("Content-Type", a.contentType)
	// Revalidate every time: file names carry no version, and the ETag
	// makes the revalidation cheap (304).
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(a.body))
}
