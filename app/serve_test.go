package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/config"
	"github.com/vigia-noc/vigia/notify"
)

// server is an in-process vigia serve on loopback.
type server struct {
	url  string
	stop func()
}

func startServer(t *testing.T, yamlCfg string) *server {
	t.Helper()
	cfg, err := config.Parse([]byte(yamlCfg))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.Data = "127.0.0.1:0", t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ServeOptions{Config: cfg, Ready: func(a net.Addr) { addr <- a }}) }()
	select {
	case a := <-addr:
		s := &server{url: "http://" + a.String(), stop: func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}}
		t.Cleanup(s.stop)
		waitReady(t, s.url)
		return s
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return nil
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("not ready")
}

// waitApplied waits until the engine has applied every journaled delivery.
func waitApplied(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, b := call(t, "GET", url+"/readyz", "", nil)
		if strings.Contains(string(b), `"backlog":0`) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("backlog not applied")
}

func call(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

const rolesConfig = `
auth:
  tokens:
    - {name: am, token: t-ingest, roles: [ingest]}
    - {name: ana, token: t-analyst, roles: [analyst]}
    - {name: pm, token: t-pm, roles: [problem_manager]}
    - {name: vic, token: t-viewer, roles: [viewer]}
    - {name: root, token: t-admin, roles: [admin]}
`

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../ingest/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firstIncident(t *testing.T, url, token string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		code, body := call(t, "GET", url+"/api/v1/incidents", token, nil)
		var page struct {
			Incidents []struct{ ID string } `json:"incidents"`
		}
		if code == 200 && json.Unmarshal(body, &page) == nil && len(page.Incidents) > 0 {
			return page.Incidents[len(page.Incidents)-1].ID
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no incident appeared")
	return ""
}

// TestRoleMatrix checks every endpoint with every role over real HTTP.
func TestRoleMatrix(t *testing.T) {
	s := startServer(t, rolesConfig)
	am := fixture(t, "alertmanager_v4-firing-group-grew-4alerts.json")
	if code, body := call(t, "POST", s.url+"/api/v1/ingest/alertmanager", "t-ingest", am); code != 202 {
		t.Fatalf("ingest: %d %s", code, body)
	}
	id := firstIncident(t, s.url, "t-viewer")
	topo := []byte(`{"cis":[{"id":"core"},{"id":"node-1","depends_on":["core"]}]}`)
	type ep struct {
		method, path string
		body         any
	}
	endpoints := []struct {
		ep
		ok []string // roles that get 2xx; others 403, no token 401
	}{
		{ep{"POST", "/api/v1/ingest/alertmanager", am}, []string{"t-ingest", "t-admin"}},
		{ep{"POST", "/api/v1/ingest/grafana", fixture(t, "grafana_v1-docs-firing-2alerts.json")}, []string{"t-ingest", "t-admin"}},
		{ep{"POST", "/api/v1/ingest/events", []byte(`{"events":[{"source":"zabbix","status":"firing","summary":"Link down","labels":{"alertname":"LinkDown"},"starts_at":"2026-01-05T10:00:00Z"}]}`)}, []string{"t-ingest", "t-admin"}},
		{ep{"GET", "/api/v1/incidents", nil}, []string{"t-analyst", "t-pm", "t-viewer", "t-admin"}},
		{ep{"GET", "/api/v1/incidents/" + id, nil}, []string{"t-analyst", "t-pm", "t-viewer", "t-admin"}},
		{ep{"POST", "/api/v1/incidents/" + id + "/comment", map[string]string{"comment": "looking"}}, []string{"t-analyst", "t-admin"}},
		{ep{"GET", "/api/v1/topology", nil}, []string{"t-analyst", "t-pm", "t-viewer", "t-admin"}},
		{ep{"PUT", "/api/v1/topology", topo}, []string{"t-admin"}},
		{ep{"GET", "/api/v1/problems", nil}, []string{"t-analyst", "t-pm", "t-viewer", "t-admin"}},
		{ep{"GET", "/api/v1/problems/PRB-000001", nil}, []string{"t-analyst", "t-pm", "t-viewer", "t-admin"}},
		{ep{"POST", "/api/v1/problems/PRB-000001/confirm", map[string]string{}}, []string{"t-pm", "t-admin"}},
		{ep{"GET", "/api/v1/suppressions", nil}, []string{"t-analyst", "t-pm", "t-viewer", "t-admin"}},
		{ep{"POST", "/api/v1/suppressions", map[string]any{"matchers": []string{`alertname="X"`}}}, []string{"t-analyst", "t-admin"}},
		{ep{"DELETE", "/api/v1/suppressions/SUP-999999", nil}, []string{"t-analyst", "t-admin"}},
		{ep{"GET", "/api/v1/trends/incidents", nil}, []string{"t-analyst", "t-pm", "t-viewer", "t-admin"}},
		{ep{"GET", "/api/v1/whoami", nil}, []string{"t-ingest", "t-analyst", "t-pm", "t-viewer", "t-admin"}},
		{ep{"GET", "/debug/pprof/", nil}, []string{"t-admin"}},
	}
	tokens := []string{"t-ingest", "t-analyst", "t-pm", "t-viewer", "t-admin"}
	for _, e := range endpoints {
		if code, _ := call(t, e.method, s.url+e.path, "", e.body); code != 401 {
			t.Errorf("%s %s without a token: %d, want 401", e.method, e.path, code)
		}
		if code, _ := call(t, e.method, s.url+e.path, "wrong", e.body); code != 401 {
			t.Errorf("%s %s with a wrong token: %d, want 401", e.method, e.path, code)
		}
		for _, tok := range tokens {
			want := 403
			for _, ok := range e.ok {
				if ok == tok {
					want = 200
				}
			}
			code, body := call(t, e.method, s.url+e.path, tok, e.body)
			// An allowed role may still get 404 for an entity that does not exist.
			allowed := code/100 == 2 || code == 404
			if (want == 200) != allowed || (want == 403 && code != 403) {
				t.Errorf("%s %s as %s: %d %s, want %d", e.method, e.path, tok, code, body, want)
			}
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := call(t, "GET", s.url+path, "", nil); code != 200 {
			t.Errorf("GET %s: %d", path, code)
		}
	}
}

// TestWorkflowOverHTTP confirms, rejects and works incidents through the
// API: forbidden transitions answer 409 with the allowed actions, bad
// bodies 400, and rule precision shows in /metrics.
func TestWorkflowOverHTTP(t *testing.T) {
	s := startServer(t, rolesConfig)
	for _, f := range []string{"alertmanager_v4-firing-group-grew-4alerts.json", "alertmanager_v4-firing-critical-route-1alert.json"} {
		if code, body := call(t, "POST", s.url+"/api/v1/ingest/alertmanager", "t-ingest", fixture(t, f)); code != 202 {
			t.Fatalf("ingest: %d %s", code, body)
		}
	}
	var ids []string
	deadline := time.Now().Add(10 * time.Second)
	for len(ids) < 2 && time.Now().Before(deadline) {
		_, body := call(t, "GET", s.url+"/api/v1/incidents", "t-viewer", nil)
		var page struct {
			Incidents []struct{ ID string } `json:"incidents"`
		}
		json.Unmarshal(body, &page)
		ids = ids[:0]
		for _, in := range page.Incidents {
			ids = append(ids, in.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(ids) < 2 {
		t.Fatalf("incidents: %v", ids)
	}
	act := func(id, action string, body any) (int, map[string]any) {
		code, b := call(t, "POST", s.url+"/api/v1/incidents/"+id+"/"+action, "t-analyst", body)
		var m map[string]any
		json.Unmarshal(b, &m)
		return code, m
	}
	a, b := ids[0], ids[1]
	if code, m := act(a, "confirm", map[string]string{"comment": "real"}); code != 200 {
		t.Fatalf("confirm: %d %v", code, m)
	}
	if code, m := act(b, "reject", map[string]string{}); code != 400 {
		t.Fatalf("reject without reason: %d %v", code, m)
	}
	if code, m := act(b, "reject", map[string]string{"reason": "noise"}); code != 200 {
		t.Fatalf("reject: %d %v", code, m)
	}
	code, m := act(b, "acknowledge", nil)
	if code != 409 || fmt.Sprint(m["allowed"]) == "" || !strings.Contains(fmt.Sprint(m["allowed"]), "reopen") {
		t.Fatalf("acknowledge a rejected incident: %d %v", code, m)
	}
	if code, m := act(a, "nonsense", nil); code != 404 {
		t.Fatalf("unknown action: %d %v", code, m)
	}
	if code, m := act(a, "acknowledge", []byte(`{"colour":"red"}`)); code != 400 {
		t.Fatalf("unknown field: %d %v", code, m)
	}
	for _, step := range []struct {
		action string
		body   any
	}{{"acknowledge", nil}, {"assign", map[string]string{"group": "network", "assignee": "bob"}}, {"start", nil},
		{"resolve", map[string]string{"closure_code": "resolved"}}, {"close", nil}} {
		if code, m := act(a, step.action, step.body); code != 200 {
			t.Fatalf("%s: %d %v", step.action, code, m)
		}
	}
	code, body := call(t, "GET", s.url+"/api/v1/incidents/"+a, "t-viewer", nil)
	var view struct {
		Incident struct{ Status, Assignee string } `json:"incident"`
		Timeline []struct{ Kind, Actor string }    `json:"timeline"`
	}
	if code != 200 || json.Unmarshal(body, &view) != nil || view.Incident.Status != "closed" || view.Incident.Assignee != "bob" {
		t.Fatalf("incident after the workflow: %d %s", code, body)
	}
	actors := map[string]string{}
	for _, ev := range view.Timeline {
		actors[ev.Kind] = ev.Actor
	}
	if actors["confirmed"] != "ana" || actors["closed"] != "ana" || actors["opened"] != "vigia" {
		t.Errorf("timeline actors = %v", actors)
	}
	_, metrics := call(t, "GET", s.url+"/metrics", "", nil)
	for _, want := range []string{`vigia_correlate_feedback_total{decision="confirm",method="similarity",rule=""} 1`,
		`vigia_correlate_feedback_total{decision="reject",method="similarity",rule=""} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestEscalationNotifies leaves an incident unacknowledged: it escalates,
// a receiver on loopback gets the signed notification, and a receiver that
// is down does not stop the engine.
func TestEscalationNotifies(t *testing.T) {
	var mu sync.Mutex
	var got []notify.Event
	var sigOK bool
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev notify.Event
		json.Unmarshal(body, &ev)
		mu.Lock()
		got = append(got, ev)
		if ev.Kind == "escalated" {
			sigOK = notify.Verify([]byte("hmac-secret"), body, r.Header.Get(notify.HeaderSignature))
		}
		mu.Unlock()
	}))
	defer recv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	s := startServer(t, fmt.Sprintf(`
jobs: {sla: "@every 1s"}
incident:
  escalation_rules:
    - {name: unacked, not_acknowledged_within: 1s}
notify:
  receivers:
    - {name: noc, url: %q, secret: hmac-secret, events: [opened, escalated]}
    - {name: down, url: %q, events: [opened, escalated], max_retries: 2, backoff: 10ms}
`, recv.URL+"/hook", deadURL+"/hook"))
	if code, body := call(t, "POST", s.url+"/api/v1/ingest/alertmanager", "", fixture(t, "alertmanager_v4-firing-critical-route-1alert.json")); code != 202 {
		t.Fatalf("ingest: %d %s", code, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		kinds := map[string]bool{}
		for _, ev := range got {
			kinds[ev.Kind] = true
		}
		ok := kinds["opened"] && kinds["escalated"] && sigOK
		mu.Unlock()
		if ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if !sigOK {
		t.Fatalf("no signed escalation notification; got %+v", got)
	}
	// The engine kept working while the other receiver was down.
	if code, body := call(t, "POST", s.url+"/api/v1/ingest/alertmanager", "", fixture(t, "alertmanager_v4-firing-from-prometheus-1alert.json")); code != 202 {
		t.Fatalf("ingest after: %d %s", code, body)
	}
}

// TestRejectCreatesSuppression rejects an incident with a suppression: the
// same alerts firing again are stored, marked suppressed, and open nothing.
func TestRejectCreatesSuppression(t *testing.T) {
	s := startServer(t, "")
	now := time.Now().UTC()
	body := func(start time.Time) []byte {
		return []byte(fmt.Sprintf(`{"version":"4","status":"firing","receiver":"v","groupKey":"{}:{}","alerts":[
{"status":"firing","labels":{"alertname":"NoisyProbe","job":"blackbox","target":"a"},"annotations":{},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z"}]}`,
			start.Format(time.RFC3339Nano)))
	}
	if code, b := call(t, "POST", s.url+"/api/v1/ingest/alertmanager", "", body(now)); code != 202 {
		t.Fatalf("ingest: %d %s", code, b)
	}
	id := firstIncident(t, s.url, "")
	if code, b := call(t, "POST", s.url+"/api/v1/incidents/"+id+"/reject", "", map[string]any{
		"reason": "noise", "suppress": map[string]string{"duration": "bogus"}}); code != 400 {
		t.Fatalf("bad suppression duration: %d %s", code, b)
	}
	if code, b := call(t, "POST", s.url+"/api/v1/incidents/"+id+"/reject", "", map[string]any{
		"reason": "noise", "suppress": map[string]string{"duration": "2h"}}); code != 200 {
		t.Fatalf("reject: %d %s", code, b)
	}
	code, b := call(t, "GET", s.url+"/api/v1/suppressions", "", nil)
	if code != 200 || !strings.Contains(string(b), `alertname=\"NoisyProbe\"`) {
		t.Fatalf("suppressions: %d %s", code, b)
	}
	// The alert resolves and fires again: a new episode, suppressed.
	if code, b := call(t, "POST", s.url+"/api/v1/ingest/alertmanager", "", body(now.Add(time.Minute))); code != 202 {
		t.Fatalf("ingest: %d %s", code, b)
	}
	waitApplied(t, s.url)
	_, b = call(t, "GET", s.url+"/api/v1/incidents", "", nil)
	if n := strings.Count(string(b), `"id":"INC-`); n != 1 {
		t.Fatalf("incidents after the suppressed alert: %d: %s", n, b)
	}
	// A maintenance window with a bad schedule is refused; a good one is kept.
	bad := map[string]any{"matchers": []string{`cluster="prod"`}, "schedule": map[string]string{"start": "9am", "duration": "1h"}}
	if code, b := call(t, "POST", s.url+"/api/v1/suppressions", "", bad); code != 400 {
		t.Fatalf("bad window: %d %s", code, b)
	}
	good := map[string]any{"matchers": []string{`cluster="prod"`}, "schedule": map[string]any{"weekdays": []string{"sun"}, "start": "02:00", "duration": "3h"}}
	code, b = call(t, "POST", s.url+"/api/v1/suppressions", "", good)
	if code != 201 {
		t.Fatalf("window: %d %s", code, b)
	}
	var created struct{ ID string }
	json.Unmarshal(b, &created)
	if code, _ := call(t, "DELETE", s.url+"/api/v1/suppressions/"+created.ID, "", nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := call(t, "DELETE", s.url+"/api/v1/suppressions/"+created.ID, "", nil); code != 404 {
		t.Fatalf("delete again: %d", code)
	}
}

// TestCrossSiteFormRefused: a form another site could post gets 415 and
// changes nothing, even with authentication off.
func TestCrossSiteFormRefused(t *testing.T) {
	s := startServer(t, "")
	if code, b := call(t, "POST", s.url+"/api/v1/ingest/alertmanager", "", fixture(t, "alertmanager_v4-firing-critical-route-1alert.json")); code != 202 {
		t.Fatalf("ingest: %d %s", code, b)
	}
	id := firstIncident(t, s.url, "")
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		req, _ := http.NewRequest("POST", s.url+"/api/v1/incidents/"+id+"/reject", strings.NewReader(`{"reason":"noise"}`))
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("%s: %d, want 415", ct, resp.StatusCode)
		}
	}
	_, b := call(t, "GET", s.url+"/api/v1/incidents/"+id, "", nil)
	if !strings.Contains(string(b), `"status":"new"`) {
		t.Errorf("incident changed: %s", b)
	}
}
