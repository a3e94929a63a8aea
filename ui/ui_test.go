package ui

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/problem"
)

func router() *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	Register(r)
	r.GET("/api/v1/incidents", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{}) })
	return r
}

func get(t *testing.T, r http.Handler, path string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func checkSecurityHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("GET %s: %s = %q, want %q", path, k, got, v)
		}
	}
	if h.Get("Set-Cookie") != "" {
		t.Errorf("GET %s sets a cookie", path)
	}
}

func TestPagesServeTheApplication(t *testing.T) {
	r := router()
	index := assets["index.html"].body
	for _, p := range []string{"/", "/ui/", "/ui/queue", "/ui/incidents/INC-000001", "/ui/problems/PRB-000002", "/ui/dashboard?range=3m"} {
		w := get(t, r, p, nil)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", p, w.Code)
			continue
		}
		if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", p, got)
		}
		if w.Body.String() != string(index) {
			t.Errorf("GET %s: not index.html", p)
		}
		checkSecurityHeaders(t, p, w.Header())
	}
	// The API is not shadowed.
	if w := get(t, r, "/api/v1/incidents", nil); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "<html") {
		t.Errorf("GET /api/v1/incidents: %d %q", w.Code, w.Body.String())
	}
}

func TestAssets(t *testing.T) {
	r := router()
	for name, wantType := range map[string]string{
		"js/app.js":   "text/javascript; charset=utf-8",
		"app.css":     "text/css; charset=utf-8",
		"favicon.svg": "image/svg+xml",
	} {
		p := StaticPrefix + name
		w := get(t, r, p, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, w.Code)
		}
		if got := w.Header().Get("Content-Type"); got != wantType {
			t.Errorf("GET %s: Content-Type %q, want %q", p, got, wantType)
		}
		checkSecurityHeaders(t, p, w.Header())
		etag := w.Header().Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", p)
		}
		if w := get(t, r, p, map[string]string{"If-None-Match": etag}); w.Code != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", p, w.Code)
		}
	}
	for _, p := range []string{StaticPrefix + "nope.js", StaticPrefix + "index.html", StaticPrefix + "../ui.go", StaticPrefix} {
		if w := get(t, r, p, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, w.Code)
		}
	}
}

// Every asset that index.html and the modules load is embedded.
func TestReferencesResolve(t *testing.T) {
	ref := regexp.MustCompile(`(?:href|src)="(/ui/static/[^"]+)"|from '\./([a-z]+\.js)'`)
	for name, a := range assets {
		if !strings.HasSuffix(name, ".html") && !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, m := range ref.FindAllStringSubmatch(string(a.body), -1) {
			target := strings.TrimPrefix(m[1], StaticPrefix)
			if m[2] != "" {
				target = "js/" + m[2]
			}
			if _, ok := assets[target]; !ok {
				t.Errorf("%s refers to %s, which is not embedded", name, target)
			}
		}
	}
}

// The scripts never parse data as HTML, never evaluate strings, and load
// nothing from another origin (the UI must work without internet).
func TestScriptsAreSafe(t *testing.T) {
	banned := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setAttribute\('style'|\.on[a-z]+ = `)
	external := regexp.MustCompile(`(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := files.ReadFile(p)
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasSuffix(p, ".js") && banned.MatchString(line) {
				t.Errorf("%s:%d: %s", p, i+1, strings.TrimSpace(line))
			}
			for _, m := range external.FindAllString(line, -1) {
				if !strings.Contains(m, "www.w3.org") {
					t.Errorf("%s:%d: refers to another origin: %s", p, i+1, m)
				}
			}
			if strings.HasSuffix(p, ".html") && (strings.Contains(line, "<script>") || strings.Contains(line, " style=") || strings.Contains(line, " onclick=")) {
				t.Errorf("%s:%d: inline script or style (the CSP refuses it): %s", p, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// block returns the JSON between the BEGIN and END markers of workflow.js.
func block(t *testing.T, name string) []byte {
	t.Helper()
	src := string(assets["js/workflow.js"].body)
	_, rest, ok := strings.Cut(src, "/* BEGIN "+name+" */")
	body, _, ok2 := strings.Cut(rest, "/* END "+name+" */")
	if !ok || !ok2 {
		t.Fatalf("workflow.js: no %s block", name)
	}
	_, obj, _ := strings.Cut(body, "=")
	return []byte(strings.TrimSuffix(strings.TrimSpace(obj), ";"))
}

// The lifecycle tables the UI uses to offer actions match the server's.
func TestWorkflowTablesMatchTheServer(t *testing.T) {
	var inc map[string][]string
	if err := json.Unmarshal(block(t, "incident-allowed"), &inc); err != nil {
		t.Fatalf("incident-allowed: %v", err)
	}
	for _, st := range incident.Statuses() {
		var want []string
		for _, a := range incident.Allowed(st) {
			want = append(want, string(a))
		}
		if got := inc[st.String()]; !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("INCIDENT_ALLOWED[%s] = %v, want incident.Allowed = %v", st, got, want)
		}
	}
	if len(inc) != len(incident.Statuses()) {
		t.Errorf("INCIDENT_ALLOWED has %d statuses, want %d", len(inc), len(incident.Statuses()))
	}
	var prob map[string][]string
	if err := json.Unmarshal(block(t, "problem-allowed"), &prob); err != nil {
		t.Fatalf("problem-allowed: %v", err)
	}
	for _, st := range problem.Statuses() {
		var want []string
		for _, a := range problem.Allowed(st) {
			want = append(want, a.String())
		}
		if got := prob[st.String()]; !slices.Equal(got, want) {
			t.Errorf("PROBLEM_ALLOWED[%s] = %v, want problem.Allowed = %v", st, got, want)
		}
	}
	if len(prob) != len(problem.Statuses()) {
		t.Errorf("PROBLEM_ALLOWED has %d statuses, want %d", len(prob), len(problem.Statuses()))
	}
}

// Every action of the API has a form.
func TestEveryActionHasAForm(t *testing.T) {
	src := string(assets["js/workflow.js"].body)
	keys := func(start, end string) []string {
		_, rest, _ := strings.Cut(src, start)
		body, _, _ := strings.Cut(rest, end)
		var out []string
		for _, m := range regexp.MustCompile(`(?m)^  ([a-z_]+): \{`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	incForms := keys("export const INCIDENT_FORMS = {", "export const PROBLEM_FORMS")
	for _, a := range incident.Actions() {
		if !slices.Contains(incForms, string(a)) {
			t.Errorf("incident action %q has no form in INCIDENT_FORMS (%v)", a, incForms)
		}
	}
	probForms := keys("export const PROBLEM_FORMS = {", "\n};")
	for _, a := range problem.ActionKinds() {
		if !slices.Contains(probForms, a.String()) {
			t.Errorf("problem action %q has no form in PROBLEM_FORMS (%v)", a, probForms)
		}
	}
}
