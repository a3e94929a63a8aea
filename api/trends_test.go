package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/api"
	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/trend"
	"github.com/vigia-noc/vigia/trend/trendtest"
)

func trendRouter(t *testing.T) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.TestMode)
	authn, err := auth.New([]auth.TokenConfig{
		{Name: "v", Token: "viewer-token", Roles: []auth.Role{auth.RoleViewer}},
		{Name: "i", Token: "ingest-token", Roles: []auth.Role{auth.RoleIngest}},
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := api.New(api.Options{Store: fakeStore{}, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	mem := trendtest.NewMemory()
	if err := trendtest.Seed(context.Background(), mem); err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	rd.RegisterTrends(r, mem, func() time.Time { return trendtest.Now })
	return r
}

func get(r http.Handler, url, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// TestTrendsJSONAndCSV serves the hand-computed cases over HTTP, as JSON
// and as CSV.
func TestTrendsJSONAndCSV(t *testing.T) {
	r := trendRouter(t)
	c := trendtest.Cases[0] // incidents by week of March
	url := "/api/v1/trends/incidents?from=2026-03-02&to=2026-03-30T00:00:00Z&step=week"

	w := get(r, url, "viewer-token")
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, w.Code, w.Body)
	}
	var res trend.Result
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Name != "incidents" || res.Step != trend.Week || res.By != "" || res.Method == "" ||
		!res.From.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) || !res.To.Equal(time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("header: name %q step %q by %q from %v to %v method %q", res.Name, res.Step, res.By, res.From, res.To, res.Method)
	}
	if !slices.Equal(res.Table.Columns, c.Columns) {
		t.Errorf("columns %q, want %q", res.Table.Columns, c.Columns)
	}
	if got := res.Table.Strings(); !slices.EqualFunc(got, c.Rows, slices.Equal) {
		t.Errorf("rows\n got %q\nwant %q", got, c.Rows)
	}
	if len(res.Series) != len(c.Columns)-1 || res.Series[0].Key != "opened" || len(res.Series[0].Points) != 4 {
		t.Errorf("series: %d, first %+v", len(res.Series), res.Series[0])
	}
	// A null point is JSON null.
	if !strings.Contains(w.Body.String(), `"value":null`) {
		t.Error("no null point in the reply")
	}

	w = get(r, url+"&format=csv", "viewer-token")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename="vigia-incidents-20260302-20260330.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	recs, err := csv.NewReader(w.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := append([][]string{c.Columns}, c.Rows...); !slices.EqualFunc(recs, want, slices.Equal) {
		t.Errorf("CSV\n got %q\nwant %q", recs, want)
	}
}

// TestTrendsEveryName answers every name in JSON and CSV.
func TestTrendsEveryName(t *testing.T) {
	r := trendRouter(t)
	for _, name := range trend.Names() {
		for _, format := range []string{"json", "csv"} {
			url := "/api/v1/trends/" + name + "?from=2025-06-01&to=2026-04-01&step=month&format=" + format
			if w := get(r, url, "viewer-token"); w.Code != http.StatusOK || w.Body.Len() == 0 {
				t.Errorf("GET %s: %d %s", url, w.Code, w.Body)
			}
		}
	}
}

func TestTrendsBadParameters(t *testing.T) {
	r := trendRouter(t)
	for _, c := range []struct{ url, field string }{
		{"/api/v1/trends/volume", "name"},
		{"/api/v1/trends/incidents?step=hour", "step"},
		{"/api/v1/trends/incidents?by=color", "by"},
		{"/api/v1/trends/incidents?from=yesterday", "from"},
		{"/api/v1/trends/incidents?to=2026-13-01", "to"},
		{"/api/v1/trends/incidents?from=2026-03-10&to=2026-03-01", "to"},
		{"/api/v1/trends/incidents?from=2020-01-01&to=2026-01-01&step=day", "from"},
		{"/api/v1/trends/incidents?limit=0", "limit"},
		{"/api/v1/trends/incidents?limit=x", "limit"},
		{"/api/v1/trends/incidents?limit=1001", "limit"},
		{"/api/v1/trends/incidents?format=xml", "format"},
		{"/api/v1/trends/noise?by=service", "by"},
		{"/api/v1/trends/levels?by=service", "by"},
		{"/api/v1/trends/projection?step=week", "step"},
		{"/api/v1/trends/projection?horizon=25", "horizon"},
		{"/api/v1/trends/projection?from=2026-03-01&to=2026-04-01", "from"},
	} {
		w := get(r, c.url, "viewer-token")
		var body api.Error
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != http.StatusBadRequest || body.Field != c.field || body.Error == "" {
			t.Errorf("GET %s: %d %+v, want 400 naming %q", c.url, w.Code, body, c.field)
		}
	}
}

func TestTrendsRoles(t *testing.T) {
	r := trendRouter(t)
	for token, want := range map[string]int{"": http.StatusUnauthorized, "ingest-token": http.StatusForbidden, "viewer-token": http.StatusOK} {
		if w := get(r, "/api/v1/trends/incidents", token); w.Code != want {
			t.Errorf("token %q: %d, want %d", token, w.Code, want)
		}
	}
}
