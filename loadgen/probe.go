package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Percentiles summarise a set of latencies.
type Percentiles struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50"`
	P90 time.Duration `json:"p90"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

func percentiles(lat []time.Duration) Percentiles {
	if len(lat) == 0 {
		return Percentiles{}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return Percentiles{N: len(lat), P50: pct(0.50), P90: pct(0.90), P99: pct(0.99), Max: lat[len(lat)-1]}
}

func (p Percentiles) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("n %d p50 %s p90 %s p99 %s max %s", p.N, r(p.P50), r(p.P90), r(p.P99), r(p.Max))
}

// ProbeResult is what the probe measured while the load ran (Options.Probe).
type ProbeResult struct {
	// Probes were sent; Found were seen as incidents in the API in time.
	Probes int `json:"probes"`
	Found  int `json:"found"`
	// Ack is the latency of the probes' own deliveries.
	Ack Percentiles `json:"ack"`
	// ToIncident is from sending a probe until its incident is listed by
	// GET /api/v1/incidents: delivery-to-incident latency.
	ToIncident Percentiles `json:"to_incident"`
	// List and Get are the latencies of every GET /api/v1/incidents and
	// GET /api/v1/incidents/{id} the probe made.
	List Percentiles `json:"list"`
	Get  Percentiles `json:"get"`
}

func (p ProbeResult) String() string {
	return fmt.Sprintf("probe: %d sent, %d found; ack %s; delivery to incident %s; list %s; get %s",
		p.Probes, p.Found, p.Ack, p.ToIncident, p.List, p.Get)
}

// probePoll is how often a probe asks the API for its incident.
const probePoll = 5 * time.Millisecond

// probeTimeout is how long a probe waits for its incident.
const probeTimeout = 10 * time.Second

// probe runs until ctx ends: every o.Probe it sends one Alertmanager
// webhook with one alert unlike any other (a random alert name, instance
// and label), which opens an incident of its own titled after the alert
// name, and polls the incident list, searching for that name, until the
// incident shows; then it reads the incident. Needs a token that may read
// incidents when the server checks tokens.
func probe(ctx context.Context, o Options, client *http.Client) ProbeResult {
	var res ProbeResult
	var ack, toInc, list, get []time.Duration
	rng := rand.New(rand.NewPCG(o.Seed, 1<<40))
	tick := time.NewTicker(o.Probe)
	defer tick.Stop()
	do := func(method, path string, body []byte) (int, []byte, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, method, o.URL+path, bytes.NewReader(body))
		if err != nil {
			return 0, nil, 0, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if o.Token != "" {
			req.Header.Set("Authorization", "Bearer "+o.Token)
		}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, 0, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, b, time.Since(t0), err
	}
	for {
		select {
		case <-ctx.Done():
			res.Ack, res.ToIncident, res.List, res.Get = percentiles(ack), percentiles(toInc), percentiles(list), percentiles(get)
			return res
		case <-tick.C:
		}
		name := probeName(rng)
		now := time.Now().UTC().Format(time.RFC3339Nano)
		body := fmt.Sprintf(`{"version":"4","status":"firing","receiver":"vigia","groupKey":"{}:{alertname=\"%[1]s\"}",`+
			`"truncatedAlerts":0,"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager.example:9093",`+
			`"alerts":[{"status":"firing","labels":{"alertname":%[1]q,"instance":"%[2]s:9100","probe":%[3]q},"annotations":{},`+
			`"startsAt":%[4]q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example:9090/graph"}]}`,
			name, probeName(rng), probeName(rng), now)
		sent := time.Now()
		code, _, d, err := do(http.MethodPost, "/api/v1/ingest/alertmanager", []byte(body))
		if err != nil || code/100 != 2 {
			if ctx.Err() != nil {
				continue
			}
			res.Probes++
			continue
		}
		res.Probes++
		ack = append(ack, d)
		q := "/api/v1/incidents?limit=1&q=" + url.QueryEscape(name)
		found := false
		for deadline := sent.Add(probeTimeout); !found && ctx.Err() == nil && time.Now().Before(deadline); {
			code, b, d, err := do(http.MethodGet, q, nil)
			if err != nil {
				break
			}
			if code == http.StatusOK {
				list = append(list, d)
				var page struct {
					Incidents []struct {
						ID string `json:"id"`
					} `json:"incidents"`
				}
				if json.Unmarshal(b, &page) == nil && len(page.Incidents) > 0 {
					toInc = append(toInc, time.Since(sent))
					res.Found++
					found = true
					if code, _, d, err := do(http.MethodGet, "/api/v1/incidents/"+url.PathEscape(page.Incidents[0].ID), nil); err == nil && code == http.StatusOK {
						get = append(get, d)
					}
					break
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(probePoll):
			}
		}
		if !found && ctx.Err() != nil {
			// The load ended before this probe could be found: it
			// measured nothing.
			res.Probes--
			ack = ack[:len(ack)-1]
		}
	}
}

// probeName is 12 random lower-case letters: names that share no word
// with any other alert, so that similarity grouping leaves a probe alone.
func probeName(rng *rand.Rand) string {
	b := make([]byte, 12)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}
