package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

func limitedRouter(t *testing.T, a *Authenticator) *gin.Engine {
	t.Helper()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/x", a.Require(RoleViewer), func(c *gin.Context) { c.Status(http.StatusOK) })
	return r
}

func get(r *gin.Engine, addr, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.RemoteAddr = addr
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// TestFailedLoginsLockOut: after max invalid tokens from one address, every
// request from it gets 429 with Retry-After, even with a valid token (no
// oracle); other addresses are unaffected; requests without a token do not
// count; the allowance refills at max per window.
func TestFailedLoginsLockOut(t *testing.T) {
	a, err := New([]TokenConfig{{Name: "v", Token: "good", Roles: []Role{RoleViewer}}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.LimitFailures(3, time.Minute) // one more try every 20s
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.failures.now = func() time.Time { return now }
	r := limitedRouter(t, a)
	const attacker, other = "192.0.2.7:5000", "192.0.2.8:5000"

	for i := range 10 {
		if w := get(r, attacker, ""); w.Code != 401 {
			t.Fatalf("no token, request %d: %d, want 401 (missing tokens do not count)", i, w.Code)
		}
	}
	for i := range 3 {
		if w := get(r, attacker, fmt.Sprintf("guess-%d", i)); w.Code != 401 {
			t.Fatalf("invalid token %d: %d, want 401", i, w.Code)
		}
	}
	for _, tok := range []string{"guess-4", "good", ""} {
		w := get(r, attacker, tok)
		if w.Code != 429 {
			t.Errorf("locked-out address with token %q: %d, want 429", tok, w.Code)
		}
		if got := w.Header().Get("Retry-After"); got != "20" {
			t.Errorf("Retry-After = %q, want \"20\"", got)
		}
	}
	if w := get(r, other, "good"); w.Code != 200 {
		t.Errorf("another address: %d, want 200", w.Code)
	}
	now = now.Add(20 * time.Second)
	if w := get(r, attacker, "good"); w.Code != 200 {
		t.Errorf("after 20s, valid token: %d, want 200", w.Code)
	}
	if w := get(r, attacker, "guess-5"); w.Code != 401 {
		t.Errorf("after 20s, invalid token: %d, want 401", w.Code)
	}
	if w := get(r, attacker, "good"); w.Code != 429 {
		t.Errorf("after spending the refill: %d, want 429", w.Code)
	}
}

func TestFailedLoginsOff(t *testing.T) {
	a, err := New([]TokenConfig{{Name: "v", Token: "good", Roles: []Role{RoleViewer}}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.LimitFailures(0, time.Minute)
	r := limitedRouter(t, a)
	for i := range 500 {
		if w := get(r, "192.0.2.7:1", "bad"); w.Code != 401 {
			t.Fatalf("request %d: %d, want 401", i, w.Code)
		}
	}
}

func TestFailedLoginsAddressesBounded(t *testing.T) {
	a, _ := New([]TokenConfig{{Name: "v", Token: "good", Roles: []Role{RoleViewer}}}, nil, nil)
	a.LimitFailures(1, time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.failures.now = func() time.Time { return now }
	for i := range maxFailureKeys + 100 {
		a.failures.failed(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	if n := len(a.failures.addrs); n > maxFailureKeys {
		t.Errorf("%d addresses tracked, want at most %d", n, maxFailureKeys)
	}
}

// TestNoPlaintextTokenKept walks everything an Authenticator holds and
// checks that no secret is kept in plain text, whichever way it was given
// (inline, environment, file): only SHA-256 hashes are.
func TestNoPlaintextTokenKept(t *testing.T) {
	secrets := map[string]string{
		"inline": "inline-secret-4f1c2b", "env": "env-secret-9a8b7c", "file": "file-secret-1d2e3f",
	}
	a, err := New([]TokenConfig{
		{Name: "inline", Token: secrets["inline"], Roles: []Role{RoleIngest}},
		{Name: "env", TokenEnv: "TOK", Roles: []Role{RoleViewer}},
		{Name: "file", TokenFile: "/tok", Roles: []Role{RoleAdmin}},
	}, func(string) string { return secrets["env"] }, func(string) ([]byte, error) { return []byte(secrets["file"] + "\n"), nil })
	if err != nil {
		t.Fatal(err)
	}
	a.LimitFailures(5, time.Minute)
	// Fail once so the limiter holds state too.
	limitedRouter(t, a).ServeHTTP(httptest.NewRecorder(), func() *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set("Authorization", "Bearer "+secrets["inline"]+"x")
		return req
	}())

	var found []string
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, path string)
	check := func(s, path string) {
		for name, sec := range secrets {
			if strings.Contains(s, sec) {
				found = append(found, fmt.Sprintf("%s holds the %s secret", path, name))
			}
		}
	}
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			if v.Kind() == reflect.Pointer {
				if seen[v.Pointer()] {
					return
				}
				seen[v.Pointer()] = true
			}
			walk(v.Elem(), path)
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice, reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				b := make([]byte, v.Len())
				for i := range b {
					b[i] = byte(v.Index(i).Uint())
				}
				check(string(b), path)
				return
			}
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				walk(it.Key(), path+"[key]")
				walk(it.Value(), path+"[value]")
			}
		case reflect.String:
			check(v.String(), path)
		}
	}
	walk(reflect.ValueOf(a), "Authenticator")
	for _, f := range found {
		t.Error(f)
	}
	// And the hashes are there: the walk did see the entries.
	if len(a.entries) != 3 {
		t.Fatalf("%d entries", len(a.entries))
	}
	for _, tok := range []string{secrets["inline"], secrets["env"], secrets["file"]} {
		if _, ok := a.Authenticate("Bearer " + tok); !ok {
			t.Errorf("token %q does not authenticate", tok)
		}
	}
}
