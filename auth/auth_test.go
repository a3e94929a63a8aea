package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestIdentityHas(t *testing.T) {
	all := knownRoles
	// want[holder] = roles it has.
	want := map[Role][]Role{
		RoleIngest:         {RoleIngest},
		RoleAnalyst:        {RoleAnalyst, RoleViewer},
		RoleProblemManager: {RoleProblemManager, RoleViewer},
		RoleViewer:         {RoleViewer},
		RoleAdmin:          all,
	}
	for holder, has := range want {
		id := Identity{Name: "x", Roles: []Role{holder}}
		for _, r := range all {
			exp := false
			for _, h := range has {
				exp = exp || h == r
			}
			if got := id.Has(r); got != exp {
				t.Errorf("%s.Has(%s) = %v, want %v", holder, r, got, exp)
			}
		}
	}
	if (Identity{}).Has(RoleViewer) {
		t.Error("zero identity has viewer")
	}
	multi := Identity{Roles: []Role{RoleIngest, RoleAnalyst}}
	if !multi.Has(RoleIngest) || !multi.Has(RoleViewer) || multi.Has(RoleAdmin) || multi.Has(RoleProblemManager) {
		t.Error("multi-role identity wrong")
	}
}

func TestTokenConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       TokenConfig
		wantField string // "" = valid
	}{
		{"plain", TokenConfig{Name: "am", Token: "s3cret", Roles: []Role{RoleIngest}}, ""},
		{"sha", TokenConfig{Name: "am", TokenSHA256: sha("x"), Roles: []Role{RoleIngest}}, ""},
		{"sha upper", TokenConfig{Name: "am", TokenSHA256: strings.ToUpper(sha("x")), Roles: []Role{RoleIngest}}, ""},
		{"env", TokenConfig{Name: "am", TokenEnv: "X", Roles: []Role{RoleAdmin}}, ""},
		{"file", TokenConfig{Name: "am", TokenFile: "/x", Roles: []Role{RoleViewer, RoleAnalyst}}, ""},
		{"no name", TokenConfig{Token: "s", Roles: []Role{RoleIngest}}, "name:"},
		{"no source", TokenConfig{Name: "am", Roles: []Role{RoleIngest}}, "token:"},
		{"two sources", TokenConfig{Name: "am", Token: "s", TokenEnv: "X", Roles: []Role{RoleIngest}}, "token_env:"},
		{"bad sha", TokenConfig{Name: "am", TokenSHA256: "abc", Roles: []Role{RoleIngest}}, "token_sha256:"},
		{"non-hex sha", TokenConfig{Name: "am", TokenSHA256: strings.Repeat("z", 64), Roles: []Role{RoleIngest}}, "token_sha256:"},
		{"no roles", TokenConfig{Name: "am", Token: "s"}, "roles:"},
		{"unknown role", TokenConfig{Name: "am", Token: "s", Roles: []Role{RoleIngest, "root"}}, "roles[1]:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantField) {
				t.Fatalf("Validate() = %v, want an error starting with %q", err, tc.wantField)
			}
		})
	}
}

func TestNewSources(t *testing.T) {
	env := map[string]string{"AM_TOKEN": "from-env"}
	files := map[string]string{"/run/secrets/grafana": "from-file\n"}
	getenv := func(k string) string { return env[k] }
	readFile := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	a, err := New([]TokenConfig{
		{Name: "plain", Token: "from-config", Roles: []Role{RoleIngest}},
		{Name: "hashed", TokenSHA256: sha("from-hash"), Roles: []Role{RoleViewer}},
		{Name: "env", TokenEnv: "AM_TOKEN", Roles: []Role{RoleIngest}},
		{Name: "file", TokenFile: "/run/secrets/grafana", Roles: []Role{RoleAnalyst}},
	}, getenv, readFile)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Enabled() {
		t.Fatal("Enabled() = false")
	}
	for tok, name := range map[string]string{
		"from-config": "plain", "from-hash": "hashed", "from-env": "env", "from-file": "file",
	} {
		id, ok := a.Authenticate("Bearer " + tok)
		if !ok || id.Name != name {
			t.Errorf("Authenticate(%q) = %v, %v; want %s", tok, id, ok, name)
		}
	}
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic from-config", "from-config", "Bearer wrong", "Bearer " + sha("from-hash")} {
		if id, ok := a.Authenticate(h); ok {
			t.Errorf("Authenticate(%q) = %v, true; want false", h, id)
		}
	}
	if _, ok := a.Authenticate("bearer   from-config "); !ok {
		t.Error("scheme should be case-insensitive and spaces tolerated")
	}
	// Nothing but hashes is kept.
	for _, e := range a.entries {
		if e.id.Name == "" {
			t.Error("entry without name")
		}
	}

	for _, tc := range []struct {
		name   string
		tokens []TokenConfig
		want   string
	}{
		{"env unset", []TokenConfig{{Name: "e", TokenEnv: "NOPE", Roles: []Role{RoleIngest}}}, "tokens[0].token_env:"},
		{"file missing", []TokenConfig{{Name: "f", TokenFile: "/nope", Roles: []Role{RoleIngest}}}, "tokens[0].token_file:"},
		{"invalid", []TokenConfig{{Name: "a", Token: "x", Roles: []Role{RoleIngest}}, {Name: "b", Roles: []Role{RoleIngest}}}, "tokens[1].token:"},
		{"dup name", []TokenConfig{{Name: "a", Token: "x", Roles: []Role{RoleIngest}}, {Name: "a", Token: "y", Roles: []Role{RoleIngest}}}, "tokens[1].name:"},
		{"dup secret", []TokenConfig{{Name: "a", Token: "x", Roles: []Role{RoleIngest}}, {Name: "b", TokenSHA256: sha("x"), Roles: []Role{RoleIngest}}}, "tokens[1] (b): same secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.tokens, getenv, readFile)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("New() = %v, want error starting with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "from-") || strings.Contains(err.Error(), `"x"`) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
	if _, err := New([]TokenConfig{{Name: "f", TokenFile: "/run/secrets/grafana", Roles: []Role{RoleIngest}}}, nil, nil); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("default readFile: %v", err)
	}
}

func TestAuthenticateComparesEveryToken(t *testing.T) {
	var tokens []TokenConfig
	for _, n := range []string{"a", "b", "c", "d"} {
		tokens = append(tokens, TokenConfig{Name: n, Token: "secret-" + n, Roles: []Role{RoleIngest}})
	}
	a, err := New(tokens, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	a.compare = func(x, y []byte) int { calls++; return subtle.ConstantTimeCompare(x, y) }
	for _, h := range []string{"Bearer secret-a", "Bearer secret-d", "Bearer nope"} {
		calls = 0
		a.Authenticate(h)
		if calls != len(tokens) {
			t.Errorf("Authenticate(%q) compared %d hashes, want all %d", h, calls, len(tokens))
		}
	}
	if id, ok := a.Authenticate("Bearer secret-c"); !ok || id.Name != "c" {
		t.Errorf("got %v %v", id, ok)
	}
}

func TestDisabled(t *testing.T) {
	for _, a := range []*Authenticator{nil, mustNew(t, nil)} {
		if a.Enabled() {
			t.Fatal("Enabled() = true without tokens")
		}
		id, ok := a.Authenticate("")
		if !ok || id.Name != AnonymousName || !id.Has(RoleAdmin) {
			t.Fatalf("Authenticate = %v %v", id, ok)
		}
	}
	r := newRouter(mustNew(t, nil), RoleAdmin)
	w := do(r, "")
	if w.Code != http.StatusOK || w.Body.String() != AnonymousName {
		t.Fatalf("got %d %q", w.Code, w.Body)
	}
}

func mustNew(t *testing.T, tokens []TokenConfig) *Authenticator {
	t.Helper()
	a, err := New(tokens, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newRouter(a *Authenticator, roles ...Role) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/x", a.Require(roles...), func(c *gin.Context) {
		c.String(http.StatusOK, IdentityFrom(c.Request.Context()).Name)
	})
	return r
}

func do(r http.Handler, header string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func TestRequireHTTP(t *testing.T) {
	a := mustNew(t, []TokenConfig{
		{Name: "alertmanager", Token: "am-token", Roles: []Role{RoleIngest}},
		{Name: "alice", Token: "alice-token", Roles: []Role{RoleAnalyst}},
		{Name: "root", Token: "root-token", Roles: []Role{RoleAdmin}},
	})
	for _, tc := range []struct {
		name      string
		roles     []Role
		header    string
		wantCode  int
		wantBody  string
		challenge string
	}{
		{"no header", []Role{RoleIngest}, "", 401, "", `Bearer realm="vigia"`},
		{"bad token", []Role{RoleIngest}, "Bearer nope", 401, "", `Bearer realm="vigia", error="invalid_token"`},
		{"wrong scheme", []Role{RoleIngest}, "Basic YWxpY2U6eA==", 401, "", `Bearer realm="vigia", error="invalid_token"`},
		{"ingest ok", []Role{RoleIngest}, "Bearer am-token", 200, "alertmanager", ""},
		{"wrong role", []Role{RoleIngest}, "Bearer alice-token", 403, "", ""},
		{"implied viewer", []Role{RoleViewer}, "Bearer alice-token", 200, "alice", ""},
		{"ingest cannot view", []Role{RoleViewer}, "Bearer am-token", 403, "", ""},
		{"any of", []Role{RoleProblemManager, RoleAnalyst}, "Bearer alice-token", 200, "alice", ""},
		{"admin", []Role{RoleProblemManager}, "Bearer root-token", 200, "root", ""},
		{"no roles: any token", nil, "Bearer am-token", 200, "alertmanager", ""},
		{"no roles: still needs a token", nil, "", 401, "", `Bearer realm="vigia"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := do(newRouter(a, tc.roles...), tc.header)
			if w.Code != tc.wantCode {
				t.Fatalf("code = %d, want %d (%s)", w.Code, tc.wantCode, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tc.challenge)
			}
			if tc.wantCode == 200 {
				if w.Body.String() != tc.wantBody {
					t.Errorf("identity = %q, want %q", w.Body, tc.wantBody)
				}
				return
			}
			var body struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error == "" {
				t.Errorf("body = %q: want {\"error\":...}", w.Body)
			}
			if strings.Contains(w.Body.String(), "token\"") && strings.Contains(w.Body.String(), "-token") {
				t.Errorf("body leaks a token: %s", w.Body)
			}
		})
	}
}

func TestIdentityFromEmpty(t *testing.T) {
	if id := IdentityFrom(t.Context()); id.Name != "" || id.Roles != nil {
		t.Errorf("IdentityFrom(empty) = %v", id)
	}
	ctx := NewContext(t.Context(), Identity{Name: "n"})
	if IdentityFrom(ctx).Name != "n" {
		t.Error("NewContext lost identity")
	}
}
