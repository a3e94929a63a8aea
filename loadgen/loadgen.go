// Package loadgen drives an ingest endpoint (Vigia's webhooks, or
// Alertmanager's own API for comparison) with realistic alert payloads,
// bounded in request count and time and restricted to loopback addresses,
// and reports accepted alerts per second, latency percentiles and reply
// codes. It is the engine of `vigia bench ingest`.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Targets.
const (
	TargetAlertmanagerWebhook = "alertmanager" // POST /api/v1/ingest/alertmanager (Vigia)
	TargetGrafanaWebhook      = "grafana"      // POST /api/v1/ingest/grafana (Vigia)
	TargetEvents              = "events"       // POST /api/v1/ingest/events (Vigia)
	TargetAlertmanagerAPI     = "alertmanager-api"
)

// Options configure a run. A run stops at Requests requests or after
// Duration, whichever comes first.
type Options struct {
	// URL is the server's base URL; its host must be a loopback address.
	URL         string
	Target      string
	Token       string
	Batch       int
	Concurrency int
	Requests    int
	Duration    time.Duration
	// Rate caps requests per second over all senders; 0 = as fast as possible.
	Rate float64
	// Active is the number of distinct alerts in play.
	Active int
	// Of the alerts sent for an active episode, RepeatShare :
	// ResolveShare is the ratio of re-sends to resolves.
	RepeatShare  float64
	ResolveShare float64
	Seed         uint64
	Client       *http.Client
	// Probe, when positive, runs a probe (see ProbeResult) at this interval
	// beside the load, against Vigia's webhook and incident API.
	Probe time.Duration
}

// Result is what a run measured.
type Result struct {
	Target       string         `json:"target"`
	Requests     int            `json:"requests"`
	Alerts       int            `json:"alerts"`
	Accepted     int            `json:"accepted_alerts"`
	Codes        map[string]int `json:"codes"`
	Elapsed      time.Duration  `json:"elapsed"`
	AlertsPerSec float64        `json:"accepted_alerts_per_second"`
	P50          time.Duration  `json:"p50"`
	P90          time.Duration  `json:"p90"`
	P99          time.Duration  `json:"p99"`
	Max          time.Duration  `json:"max"`
	Probe        *ProbeResult   `json:"probe,omitempty"`
}

func (r Result) String() string {
	if r.Probe != nil {
		return r.line() + "\n" + r.Probe.String()
	}
	return r.line()
}

func (r Result) line() string {
	return fmt.Sprintf("%s: %d requests, %d alerts accepted in %s: %.0f alerts/s; latency p50 %s p90 %s p99 %s max %s; codes %v",
		r.Target, r.Requests, r.Accepted, r.Elapsed.Round(time.Millisecond), r.AlertsPerSec,
		r.P50.Round(10*time.Microsecond), r.P90.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond),
		r.Max.Round(10*time.Microsecond), r.Codes)
}

// CheckLoopback returns an error unless every address of the URL's host is
// a loopback address.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	host := u.Hostname()
	ips, err := net.LookupIP(host)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("url: %s is not a loopback address: load is only sent to this machine", host)
		}
	}
	return nil
}

func (o *Options) validate() error {
	if err := CheckLoopback(o.URL); err != nil {
		return err
	}
	switch o.Target {
	case TargetAlertmanagerWebhook, TargetGrafanaWebhook, TargetEvents, TargetAlertmanagerAPI:
	default:
		return fmt.Errorf("target %q: want alertmanager, grafana, events or alertmanager-api", o.Target)
	}
	switch {
	case o.Batch < 1 || o.Batch > 100000:
		return errors.New("batch: must be from 1 to 100000")
	case o.Concurrency < 1 || o.Concurrency > 1024:
		return errors.New("concurrency: must be from 1 to 1024")
	case o.Requests < 1:
		return errors.New("requests: must be at least 1")
	case o.Duration <= 0 || o.Duration > 24*time.Hour:
		return errors.New("duration: must be positive and at most 24h")
	case o.Active < 1:
		return errors.New("active: must be at least 1")
	case o.RepeatShare < 0 || o.ResolveShare < 0 || o.RepeatShare+o.ResolveShare == 0:
		return errors.New("repeat and resolve shares: must not be negative, and not both 0")
	case o.Probe < 0 || (o.Probe > 0 && o.Target == TargetAlertmanagerAPI):
		return errors.New("probe: must not be negative, and only against Vigia")
	}
	return nil
}

func (o *Options) path() string {
	switch o.Target {
	case TargetGrafanaWebhook:
		return "/api/v1/ingest/grafana"
	case TargetEvents:
		return "/api/v1/ingest/events"
	case TargetAlertmanagerAPI:
		return "/api/v2/alerts"
	}
	return "/api/v1/ingest/alertmanager"
}

// Run sends load until a bound is reached or ctx ends.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: o.Concurrency, MaxConnsPerHost: o.Concurrency, DisableCompression: true}}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	endpoint := o.URL + o.path()
	var next atomic.Int64
	var mu sync.Mutex
	res := Result{Target: o.Target, Codes: map[string]int{}}
	lat := make([]time.Duration, 0, min(o.Requests, 1<<20))
	var interval time.Duration
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(o.Concurrency) / o.Rate)
	}
	start := time.Now()
	var probed chan ProbeResult
	probeCtx, stopProbe := context.WithCancel(ctx)
	defer stopProbe()
	if o.Probe > 0 {
		probed = make(chan ProbeResult, 1)
		// Its own connections, so that it does not queue behind the load's.
		pc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true}}
		go func() { probed <- probe(probeCtx, o, pc) }()
	}
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(o, uint64(w))
			var buf bytes.Buffer
			tick := time.Now()
			for ctx.Err() == nil && next.Add(1) <= int64(o.Requests) {
				if interval > 0 {
					tick = tick.Add(interval)
					if d := time.Until(tick); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					}
				}
				buf.Reset()
				g.body(&buf)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(buf.Bytes()))
				req.Header.Set("Content-Type", "application/json")
				if o.Token != "" {
					req.Header.Set("Authorization", "Bearer "+o.Token)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				d := time.Since(t0)
				code := "error"
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = strconv.Itoa(resp.StatusCode)
				} else if ctx.Err() != nil {
					return
				}
				mu.Lock()
				res.Requests++
				res.Alerts += o.Batch
				res.Codes[code]++
				if err == nil && resp.StatusCode/100 == 2 {
					res.Accepted += o.Batch
				}
				if len(lat) < cap(lat) {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if probed != nil {
		stopProbe()
		p := <-probed
		res.Probe = &p
	}
	res.AlertsPerSec = float64(res.Accepted) / res.Elapsed.Seconds()
	p := percentiles(lat)
	res.P50, res.P90, res.P99, res.Max = p.P50, p.P90, p.P99, p.Max
	return res, nil
}

// gen makes request bodies for one sender.
type gen struct {
	o      Options
	rng    *rand.Rand
	sender uint64
	// starts holds, per alert slot, the start of its current episode (0: none yet).
	starts []int64
	clock  int64
}

func newGen(o Options, sender uint64) *gen {
	n := max(1, o.Active/o.Concurrency)
	return &gen{o: o, rng: rand.New(rand.NewPCG(o.Seed, sender+1)), sender: sender, starts: make([]int64, n),
		clock: time.Now().UnixMilli()}
}

// alert is one generated alert.
type alert struct {
	slot     int
	starts   int64
	resolved bool
	ends     int64
}

// pick chooses an alert slot: an idle one starts a new episode; an
// active one is re-sent (RepeatShare) or resolved (ResolveShare) — an
// alert only starts a new episode after its previous one resolved, as
// with Alertmanager.
func (g *gen) pick() alert {
	slot := g.rng.IntN(len(g.starts))
	g.clock++
	if g.starts[slot] == 0 {
		g.starts[slot] = g.clock
		return alert{slot: slot, starts: g.clock}
	}
	r := g.rng.Float64() * (g.o.RepeatShare + g.o.ResolveShare)
	if r < g.o.RepeatShare {
		return alert{slot: slot, starts: g.starts[slot]}
	}
	a := alert{slot: slot, starts: g.starts[slot], resolved: true, ends: g.clock}
	g.starts[slot] = 0
	return a
}

var alertnames = []string{"HighCPUUsage", "DiskWillFillIn4Hours", "NodeUnreachable", "HighLatency", "PodCrashLooping", "InterfaceDown"}

func (g *gen) body(b *bytes.Buffer) {
	alerts := make([]alert, g.o.Batch)
	for i := range alerts {
		alerts[i] = g.pick()
	}
	name := alertnames[int(g.sender)%len(alertnames)]
	cluster := "dc" + strconv.Itoa(int(g.sender%4)+1)
	switch g.o.Target {
	case TargetAlertmanagerAPI:
		b.WriteByte('[')
		for i, a := range alerts {
			if i > 0 {
				b.WriteByte(',')
			}
			g.writeAlert(b, a, name, cluster, false)
		}
		b.WriteByte(']')
	case TargetEvents:
		b.WriteString(`{"events":[`)
		for i, a := range alerts {
			if i > 0 {
				b.WriteByte(',')
			}
			status := "firing"
			if a.resolved {
				status = "resolved"
			}
			fmt.Fprintf(b, `{"source":"loadgen","status":%q,"severity":"warning","summary":"%s on host-%d-%d","labels":{"alertname":%q,"cluster":%q,"host":"host-%d-%d"},"starts_at":%q`,
				status, name, g.sender, a.slot, name, cluster, g.sender, a.slot, ts(a.starts))
			if a.resolved {
				fmt.Fprintf(b, `,"ends_at":%q`, ts(a.ends))
			}
			b.WriteByte('}')
		}
		b.WriteString(`]}`)
	default:
		status := "firing"
		if g.o.Target == TargetGrafanaWebhook {
			b.WriteString(`{"receiver":"vigia","status":"firing","orgId":1,"alerts":[`)
		} else {
			b.WriteString(`{"receiver":"vigia","status":"` + status + `","alerts":[`)
		}
		for i, a := range alerts {
			if i > 0 {
				b.WriteByte(',')
			}
			g.writeAlert(b, a, name, cluster, true)
		}
		fmt.Fprintf(b, `],"groupLabels":{"alertname":%q,"cluster":%q},"commonLabels":{"alertname":%q,"cluster":%q},"commonAnnotations":{},"externalURL":"http://alertmanager.example:9093",`,
			name, cluster, name, cluster)
		if g.o.Target == TargetGrafanaWebhook {
			fmt.Fprintf(b, `"version":"1","groupKey":"{}:{alertname=\"%s\"}","truncatedAlerts":0,"title":"[FIRING] %s","state":"alerting","message":""}`, name, name)
		} else {
			fmt.Fprintf(b, `"version":"4","groupKey":"{}:{alertname=\"%s\", cluster=\"%s\"}","truncatedAlerts":0}`, name, cluster)
		}
	}
}

func (g *gen) writeAlert(b *bytes.Buffer, a alert, name, cluster string, webhook bool) {
	status := "firing"
	ends := "0001-01-01T00:00:00Z"
	if a.resolved {
		status, ends = "resolved", ts(a.ends)
	}
	if webhook {
		fmt.Fprintf(b, `{"status":%q,`, status)
	} else {
		b.WriteByte('{')
		if !a.resolved {
			ends = ts(a.starts + 3600_000)
		}
	}
	fmt.Fprintf(b, `"labels":{"alertname":%q,"cluster":%q,"instance":"host-%d-%d:9100","job":"node","severity":"warning"},"annotations":{"summary":"%s on host-%d-%d"},"startsAt":%q,"endsAt":%q,"generatorURL":"http://prometheus.example:9090/graph"}`,
		name, cluster, g.sender, a.slot, name, g.sender, a.slot, ts(a.starts), ends)
}

func ts(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00") }
