package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/vigia-noc/vigia/api"
	"github.com/vigia-noc/vigia/auth"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/ingest"
	"github.com/vigia-noc/vigia/problem"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/suppress"
	"github.com/vigia-noc/vigia/topology"
	"github.com/vigia-noc/vigia/trend"
)

// appRoutes are the routes app.Serve mounts itself, outside package api and
// ingest; the document must describe them too.
var appRoutes = []string{"GET /healthz", "GET /readyz", "GET /metrics"}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// --- fakes ------------------------------------------------------------------

type fakeStore struct{}

func (fakeStore) ListIncidents(context.Context, storage.IncidentFilter) (storage.IncidentPage, error) {
	return storage.IncidentPage{Incidents: []incident.Incident{}}, nil
}

func (fakeStore) GetIncident(_ context.Context, id string) (storage.IncidentDetail, error) {
	return storage.IncidentDetail{Incident: incident.Incident{ID: id}}, nil
}

type fakeActor struct{}

func (fakeActor) Act(_ context.Context, id string, _ incident.Request, _ *api.SuppressSpec) (storage.IncidentDetail, error) {
	return storage.IncidentDetail{Incident: incident.Incident{ID: id}}, nil
}

type fakeTopology struct{ t *topology.Topology }

func (f *fakeTopology) Topology() *topology.Topology { return f.t }
func (f *fakeTopology) SetTopology(_ context.Context, t *topology.Topology) error {
	f.t = t
	return nil
}

type fakeSuppressions struct{}

func (fakeSuppressions) List() []suppress.Suppression { return nil }
func (fakeSuppressions) Add(_ context.Context, s suppress.Suppression) (suppress.Suppression, error) {
	return s, nil
}
func (fakeSuppressions) Delete(context.Context, string) error { return nil }

type fakeSink struct{}

func (fakeSink) Put(context.Context, correlate.Delivery) error { return nil }

type fakeTrends struct{}

func (fakeTrends) TrendIncidents(context.Context, time.Time, time.Time) ([]trend.IncidentRow, error) {
	return nil, nil
}
func (fakeTrends) TrendActivity(context.Context, time.Time, time.Time) (trend.Activity, error) {
	return trend.Activity{}, nil
}
func (fakeTrends) TrendFeedback(context.Context, time.Time, time.Time) ([]trend.FeedbackRow, error) {
	return nil, nil
}
func (fakeTrends) Problems(context.Context) ([]problem.Problem, error) { return nil, nil }

// newRouter mounts every route of package api and ingest the way app.Serve
// does, with fakes behind them.
func newRouter(t *testing.T, authn *auth.Authenticator) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	ing, err := ingest.New(ingest.Options{Sink: fakeSink{}, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := api.New(api.Options{Store: fakeStore{}, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	topo, err := topology.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ing.Register(r)
	rd.Register(r)
	rd.RegisterOpenAPI(r)
	rd.RegisterWhoAmI(r, incident.DefaultConfig())
	rd.RegisterTopology(r, &fakeTopology{t: topo})
	rd.RegisterSuppressions(r, fakeSuppressions{}, time.Now)
	rd.RegisterActions(r, fakeActor{}, time.Now)
	rd.RegisterTrends(r, fakeTrends{}, time.Now)
	return r
}

// --- document helpers -----------------------------------------------------

func loadDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// resolve follows a local JSON pointer ("#/components/schemas/X").
func resolve(doc map[string]any, ref string) (any, error) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local to the document", ref)
	}
	var cur any = doc
	for _, tok := range strings.Split(p, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not inside an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("$ref %q: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref resolves v when it is a {"$ref": ...} object.
func deref(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m := obj(v)
	if ref, ok := m["$ref"].(string); ok {
		r, err := resolve(doc, ref)
		if err != nil {
			t.Fatal(err)
		}
		return obj(r)
	}
	return m
}

// walk calls f on every object in v, with its JSON path.
func walk(path string, v any, f func(path string, m map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(path, x)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walk(path+"/"+k, x[k], f)
		}
	case []any:
		for i, e := range x {
			walk(path+"/"+strconv.Itoa(i), e, f)
		}
	}
}

type operation struct {
	method, path string
	op           map[string]any
}

func (o operation) String() string { return strings.ToUpper(o.method) + " " + o.path }

func operations(doc map[string]any) []operation {
	var out []operation
	paths := obj(doc["paths"])
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item := obj(paths[p])
		for _, m := range httpMethods {
			if op, ok := item[m]; ok {
				out = append(out, operation{method: m, path: p, op: obj(op)})
			}
		}
	}
	return out
}

func schema(t *testing.T, doc map[string]any, name string) map[string]any {
	t.Helper()
	s := obj(obj(obj(doc["components"])["schemas"])[name])
	if s == nil {
		t.Fatalf("components.schemas.%s is missing", name)
	}
	return s
}

func stringList(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

// --- (1) the document is structurally an OpenAPI 3.0.3 document -----------

func TestOpenAPIDocumentStructure(t *testing.T) {
	doc := loadDoc(t)
	if doc["openapi"] != "3.0.3" {
		t.Errorf("openapi = %v, want 3.0.3", doc["openapi"])
	}
	info := obj(doc["info"])
	if info["title"] == nil || info["title"] == "" || info["version"] == nil || info["version"] == "" {
		t.Errorf("info needs title and version: %v", info)
	}
	if len(obj(doc["paths"])) == 0 {
		t.Fatal("no paths")
	}
	schemes := obj(obj(doc["components"])["securitySchemes"])
	if b := obj(schemes["bearerAuth"]); b["type"] != "http" || b["scheme"] != "bearer" {
		t.Errorf("securitySchemes.bearerAuth = %v, want http bearer", b)
	}

	// Every $ref resolves, and every component is used.
	used := map[string]bool{}
	walk("#", doc, func(path string, m map[string]any) {
		ref, ok := m["$ref"]
		if !ok {
			return
		}
		s, isString := ref.(string)
		if !isString {
			t.Errorf("%s: $ref is not a string", path)
			return
		}
		if _, err := resolve(doc, s); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		used[s] = true
	})
	comps := obj(doc["components"])
	for _, kind := range slices.Sorted(maps.Keys(comps)) {
		if kind == "securitySchemes" {
			continue
		}
		for name := range obj(comps[kind]) {
			if ref := "#/components/" + kind + "/" + name; !used[ref] {
				t.Errorf("%s is never referenced", ref)
			}
		}
	}

	// Every schema's required properties exist; enums are not empty.
	walk("#", doc, func(path string, m map[string]any) {
		if req, ok := m["required"].([]any); ok && m["type"] == "object" {
			props := obj(m["properties"])
			for _, r := range req {
				if _, ok := props[r.(string)]; !ok {
					t.Errorf("%s: required %q is not a property", path, r)
				}
			}
		}
		if e, ok := m["enum"]; ok {
			if l, _ := e.([]any); len(l) == 0 {
				t.Errorf("%s: empty enum", path)
			}
		}
	})

	paramRE := regexp.MustCompile(`\{([^}]+)\}`)
	opIDs := map[string]string{}
	for _, o := range operations(doc) {
		if id, _ := o.op["operationId"].(string); id == "" {
			t.Errorf("%s: no operationId", o)
		} else if prev, dup := opIDs[id]; dup {
			t.Errorf("%s: operationId %q already used by %s", o, id, prev)
		} else {
			opIDs[id] = o.String()
		}
		resp := obj(o.op["responses"])
		if len(resp) == 0 {
			t.Errorf("%s: no responses", o)
		}
		for code, r := range resp {
			if _, err := strconv.Atoi(code); err != nil && code != "default" {
				t.Errorf("%s: response key %q is not a status code", o, code)
			}
			if d, _ := deref(t, doc, r)["description"].(string); d == "" {
				t.Errorf("%s %s: response without description", o, code)
			}
		}
		// Every template parameter is declared as a required path parameter.
		declared := map[string]bool{}
		for _, p := range slices.Concat(sliceOf(obj(obj(doc["paths"])[o.path])["parameters"]), sliceOf(o.op["parameters"])) {
			pm := deref(t, doc, p)
			if pm["in"] == "path" {
				if pm["required"] != true {
					t.Errorf("%s: path parameter %v is not required", o, pm["name"])
				}
				declared[pm["name"].(string)] = true
			}
		}
		for _, m := range paramRE.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", o, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: declares path parameter %q that the path lacks", o, name)
		}
		// Security: either explicitly none, or bearer with the roles named.
		if sec, ok := o.op["security"]; ok {
			if l, _ := sec.([]any); len(l) != 0 {
				t.Errorf("%s: security should be [] (open) or inherit the bearer default", o)
			}
			if _, ok := o.op["x-roles"]; ok {
				t.Errorf("%s: open operation names roles", o)
			}
			continue
		}
		roles, _ := o.op["x-roles"].([]any)
		if len(roles) == 0 {
			t.Errorf("%s: protected operation without x-roles", o)
		}
		for _, r := range roles {
			if s, _ := r.(string); !auth.Role(s).Valid() {
				t.Errorf("%s: x-roles: unknown role %v", o, r)
			}
		}
		if _, ok := resp["401"]; !ok {
			t.Errorf("%s: protected operation without a 401 reply", o)
		}
		if _, ok := resp["403"]; !ok {
			t.Errorf("%s: protected operation without a 403 reply", o)
		}
	}
}

func sliceOf(v any) []any {
	l, _ := v.([]any)
	return l
}

// --- (2) the document describes exactly the mounted routes -----------------

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

func TestOpenAPICoversEveryRoute(t *testing.T) {
	authn, err := auth.New(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := newRouter(t, authn)
	mounted := map[string]bool{}
	for _, rt := range r.Routes() {
		mounted[rt.Method+" "+ginParam.ReplaceAllString(rt.Path, "{$1}")] = true
	}
	for _, rt := range appRoutes {
		mounted[rt] = true
	}
	documented := map[string]bool{}
	for _, o := range operations(loadDoc(t)) {
		documented[o.String()] = true
	}
	for _, rt := range slices.Sorted(maps.Keys(mounted)) {
		if !documented[rt] {
			t.Errorf("route %s is mounted but not in openapi.json", rt)
		}
	}
	for _, rt := range slices.Sorted(maps.Keys(documented)) {
		if !mounted[rt] {
			t.Errorf("openapi.json documents %s, which is not mounted", rt)
		}
	}
}

// TestOpenAPIRoles checks every operation's x-roles against the real auth
// middleware: with tokens configured, a token of each role gets through
// exactly when the document says it should.
func TestOpenAPIRoles(t *testing.T) {
	roles := []auth.Role{auth.RoleIngest, auth.RoleAnalyst, auth.RoleProblemManager, auth.RoleViewer, auth.RoleAdmin}
	var tokens []auth.TokenConfig
	for _, role := range roles {
		tokens = append(tokens, auth.TokenConfig{Name: string(role), Token: "tok-" + string(role), Roles: []auth.Role{role}})
	}
	authn, err := auth.New(tokens, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := newRouter(t, authn)
	for _, o := range operations(loadDoc(t)) {
		if slices.Contains(appRoutes, o.String()) {
			continue
		}
		path := strings.NewReplacer("{id}", "INC-000001", "{action}", "comment", "{name}", "incidents").Replace(o.path)
		do := func(token string) int {
			req := httptest.NewRequest(strings.ToUpper(o.method), path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			return w.Code
		}
		want, protected := o.op["x-roles"].([]any)
		if !protected {
			if code := do(""); code == http.StatusUnauthorized || code == http.StatusForbidden {
				t.Errorf("%s is documented as open but answers %d without a token", o, code)
			}
			continue
		}
		if code := do(""); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", o, code)
		}
		for _, role := range roles {
			id := auth.Identity{Name: string(role), Roles: []auth.Role{role}}
			allowed := false
			for _, w := range want {
				allowed = allowed || id.Has(auth.Role(w.(string)))
			}
			code := do("tok-" + string(role))
			if got := code != http.StatusForbidden && code != http.StatusUnauthorized; got != allowed {
				t.Errorf("%s with role %s: %d; x-roles %v says allowed=%v", o, role, code, want, allowed)
			}
		}
	}
}

func TestOpenAPIActionEnum(t *testing.T) {
	doc := loadDoc(t)
	got := stringList(schema(t, doc, "Action")["enum"])
	var want []string
	for _, a := range incident.Actions() {
		want = append(want, string(a))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Action enum = %v, want incident.Actions() = %v", got, want)
	}
	// The action path parameter uses it.
	op := obj(obj(obj(doc["paths"])["/api/v1/incidents/{id}/{action}"])["post"])
	found := false
	for _, p := range sliceOf(op["parameters"]) {
		pm := deref(t, doc, p)
		if pm["name"] == "action" {
			found = obj(pm["schema"])["$ref"] == "#/components/schemas/Action"
		}
	}
	if !found {
		t.Error("the {action} parameter does not use #/components/schemas/Action")
	}
}

func TestOpenAPIEnums(t *testing.T) {
	doc := loadDoc(t)
	var statuses []string
	for _, s := range incident.Statuses() {
		statuses = append(statuses, s.String())
	}
	var levels []string
	for _, l := range incident.SupportLevels() {
		levels = append(levels, l.String())
	}
	for name, want := range map[string][]string{
		"IncidentStatus": statuses,
		"SupportLevel":   levels,
		"Priority":       {incident.P1.String(), incident.P2.String(), incident.P3.String(), incident.P4.String(), incident.P5.String()},
		"Level":          {incident.High.String(), incident.Medium.String(), incident.Low.String()},
		"TrendName":      trend.Names(),
		"TrendStep":      stringsOf(trend.Steps()),
		"TrendDimension": stringsOf(trend.Dimensions()),
	} {
		if got := stringList(schema(t, doc, name)["enum"]); !slices.Equal(got, want) {
			t.Errorf("%s enum = %v, want %v", name, got, want)
		}
	}
}

func stringsOf[S ~string](l []S) []string {
	var out []string
	for _, v := range l {
		out = append(out, string(v))
	}
	return out
}

// --- the schemas match the Go types they describe ----------------------------

// jsonFields returns the JSON names of t's fields, each with whether it is
// always present (no omitempty or omitzero). Embedded structs without a tag
// are flattened, their fields shadowed by the outer ones as encoding/json does.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	var embedded []reflect.Type
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			embedded = append(embedded, f.Type)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		out[name] = !omit
	}
	for _, e := range embedded {
		for k, v := range jsonFields(e) {
			if _, shadowed := out[k]; !shadowed {
				out[k] = v
			}
		}
	}
	return out
}

func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadDoc(t)
	requestFields := jsonFields(reflect.TypeFor[incident.Request]())
	requestFields["suppress"] = false
	for _, c := range []struct {
		schema string
		fields map[string]bool
		// exactRequired: required lists exactly the fields always present
		// (response shapes); otherwise it is only checked to be a subset.
		exactRequired bool
		// subset: the schema may leave fields out (request shapes).
		subset bool
	}{
		{"Incident", jsonFields(reflect.TypeFor[incident.Incident]()), true, false},
		{"Alert", jsonFields(reflect.TypeFor[api.AlertView]()), true, false},
		{"Explanation", jsonFields(reflect.TypeFor[incident.Explanation]()), true, false},
		{"Event", jsonFields(reflect.TypeFor[incident.Event]()), true, false},
		{"EscalationRecord", jsonFields(reflect.TypeFor[incident.EscalationRecord]()), true, false},
		{"Interval", jsonFields(reflect.TypeFor[incident.Interval]()), true, false},
		{"SLAMarks", jsonFields(reflect.TypeFor[incident.SLAMarks]()), true, false},
		{"IncidentPage", jsonFields(reflect.TypeFor[storage.IncidentPage]()), true, false},
		{"IncidentDetail", jsonFields(reflect.TypeFor[api.IncidentView]()), true, false},
		{"Error", jsonFields(reflect.TypeFor[api.Error]()), true, false},
		{"TransitionError", jsonFields(reflect.TypeFor[api.TransitionErrorBody]()), true, false},
		{"Suppression", jsonFields(reflect.TypeFor[suppress.Suppression]()), true, false},
		{"SuppressionSchedule", jsonFields(reflect.TypeFor[suppress.Schedule]()), true, false},
		{"SuppressSpec", jsonFields(reflect.TypeFor[api.SuppressSpec]()), true, false},
		{"Topology", jsonFields(reflect.TypeFor[topology.File]()), true, false},
		{"CI", jsonFields(reflect.TypeFor[topology.CI]()), false, false},
		{"ActionRequest", requestFields, false, false},
		{"SuppressionRequest", jsonFields(reflect.TypeFor[suppress.Suppression]()), false, true},
		{"TrendResult", jsonFields(reflect.TypeFor[trend.Result]()), true, false},
		{"TrendSeries", jsonFields(reflect.TypeFor[trend.Series]()), true, false},
		{"TrendPoint", jsonFields(reflect.TypeFor[trend.Point]()), true, false},
		{"TrendTable", jsonFields(reflect.TypeFor[trend.Table]()), true, false},
		{"TrendModel", jsonFields(reflect.TypeFor[trend.Model]()), true, false},
	} {
		s := schema(t, doc, c.schema)
		props := slices.Sorted(maps.Keys(obj(s["properties"])))
		fields := slices.Sorted(maps.Keys(c.fields))
		if c.subset {
			for _, p := range props {
				if _, ok := c.fields[p]; !ok {
					t.Errorf("%s: property %q is not a field of the Go type", c.schema, p)
				}
			}
		} else if missing, extra := diff(fields, props), diff(props, fields); len(missing)+len(extra) > 0 {
			t.Errorf("%s: Go fields missing from the schema: %v; schema properties not in the Go type: %v", c.schema, missing, extra)
		}
		if !c.exactRequired {
			continue
		}
		var want []string
		for k, always := range c.fields {
			if always {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		var got []string
		if req, ok := s["required"]; ok {
			got = stringList(req)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: required %v, always-present Go fields %v", c.schema, got, want)
		}
	}
}

// diff returns the elements of a not in b.
func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// --- the document is served ------------------------------------------------

func TestOpenAPIServed(t *testing.T) {
	authn, err := auth.New([]auth.TokenConfig{{Name: "v", Token: "secret", Roles: []auth.Role{auth.RoleViewer}}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := newRouter(t, authn)
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, api.OpenAPIPath, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s without a token: %d, want 200", api.OpenAPIPath, w.Code)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if w.Body.String() != string(api.OpenAPI()) {
		t.Error("the body is not the embedded document")
	}
}
