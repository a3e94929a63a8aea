package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	good := Options{URL: "http://127.0.0.1:1", Target: TargetAlertmanagerWebhook, Batch: 10, Concurrency: 2,
		Requests: 1, Duration: time.Second, Active: 10, RepeatShare: 1}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Options){
		"not loopback":      func(o *Options) { o.URL = "http://192.0.2.1:8080" },
		"unknown target":    func(o *Options) { o.Target = "pagerduty" },
		"batch 0":           func(o *Options) { o.Batch = 0 },
		"no senders":        func(o *Options) { o.Concurrency = 0 },
		"no shares":         func(o *Options) { o.RepeatShare, o.ResolveShare = 0, 0 },
		"negative probe":    func(o *Options) { o.Probe = -time.Second },
		"probe against AM":  func(o *Options) { o.Target, o.Probe = TargetAlertmanagerAPI, time.Second },
		"no active alerts":  func(o *Options) { o.Active = 0 },
		"duration too long": func(o *Options) { o.Duration = 25 * time.Hour },
	} {
		o := good
		mod(&o)
		if err := o.validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// fakeVigia accepts webhooks, checks that they decode, and lists an
// incident for each alert name it received.
type fakeVigia struct {
	mu     sync.Mutex
	names  map[string]bool
	alerts int
	bad    int
}

func (f *fakeVigia) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/ingest/alertmanager":
		var m struct {
			Version string `json:"version"`
			Alerts  []struct {
				Status   string            `json:"status"`
				Labels   map[string]string `json:"labels"`
				StartsAt time.Time         `json:"startsAt"`
			} `json:"alerts"`
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.Version != "4" || len(m.Alerts) == 0 {
			f.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for _, a := range m.Alerts {
			if a.Labels["alertname"] == "" || a.StartsAt.IsZero() || (a.Status != "firing" && a.Status != "resolved") {
				f.bad++
			}
			f.names[a.Labels["alertname"]] = true
			f.alerts++
		}
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/incidents":
		f.mu.Lock()
		found := f.names[r.URL.Query().Get("q")]
		f.mu.Unlock()
		if found {
			w.Write([]byte(`{"incidents":[{"id":"INC-000001"}]}`))
			return
		}
		w.Write([]byte(`{"incidents":[]}`))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/incidents/"):
		w.Write([]byte(`{"id":"INC-000001"}`))
	default:
		http.NotFound(w, r)
	}
}

func TestRunWithProbe(t *testing.T) {
	f := &fakeVigia{names: map[string]bool{}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	res, err := Run(context.Background(), Options{URL: srv.URL, Target: TargetAlertmanagerWebhook, Batch: 50,
		Concurrency: 4, Requests: 200, Duration: 30 * time.Second, Rate: 400, Active: 1000, RepeatShare: 0.7,
		ResolveShare: 0.3, Seed: 1, Probe: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 200 || res.Accepted != 200*50 || res.Codes["202"] != 200 {
		t.Errorf("result %+v: want 200 requests of 50 accepted", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bad != 0 {
		t.Errorf("%d malformed deliveries or alerts", f.bad)
	}
	if f.alerts < 200*50 {
		t.Errorf("server saw %d alerts", f.alerts)
	}
	p := res.Probe
	if p == nil || p.Probes == 0 || p.Found != p.Probes || p.ToIncident.N != p.Found || p.Get.N < p.Found-1 || // the last may be cut short

		p.List.N < p.Found || p.ToIncident.P50 <= 0 || p.ToIncident.P50 > p.ToIncident.Max {
		t.Errorf("probe %+v: want every probe found, with its latencies", p)
	}
}
