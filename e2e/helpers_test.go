package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// Time limits shared by the tests.
const (
	readyTimeout   = 30 * time.Second // serve start until /readyz = 200
	stopTimeout    = 20 * time.Second // SIGTERM until exit
	commandTimeout = 60 * time.Second // one replay/export/version run
	maxLogBytes    = 64 << 10         // process output kept for the test log
)

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…(cut)…\n" + s[len(s)-n:]
}

// freeAddr returns a loopback address with a port that was free just now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// proc is a child process whose output goes into the test log on failure.
type proc struct {
	t       testing.TB
	name    string
	cmd     *exec.Cmd
	out     *syncBuffer
	done    chan struct{}
	waitErr error
}

// startProc starts bin with args; a cleanup kills it if still running and
// logs its output when the test failed.
func startProc(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	// If the test binary dies (timeout panic), take the child with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("---- output of %s (%s %s) ----\n%s\n---- end of %s ----",
				name, filepath.Base(bin), strings.Join(args, " "), tail(p.out.String(), maxLogBytes), name)
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("%s had already exited before SIGKILL: %v", p.name, p.waitErr)
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// term sends SIGTERM and expects a clean exit (status 0) within stopTimeout.
func (p *proc) term() {
	p.t.Helper()
	if p.exited() {
		p.t.Fatalf("%s had already exited before SIGTERM: %v", p.name, p.waitErr)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("%s did not exit within %v of SIGTERM (killed)", p.name, stopTimeout)
	}
	if p.waitErr != nil {
		p.t.Errorf("%s: exit after SIGTERM: %v (want status 0)", p.name, p.waitErr)
	}
}

// server is a running `vigia serve`.
type server struct {
	*proc
	addr    string
	dataDir string
}

// serveOpts are the options of one `vigia serve`.
type serveOpts struct {
	DataDir    string // required
	ConfigFile string // optional --config
	Topology   string // optional --topology
	Name       string // for logs; default "vigia serve"
}

// startServe starts `vigia serve` on a free loopback port and waits until
// GET /readyz answers 200.
func startServe(t testing.TB, o serveOpts) *server {
	t.Helper()
	if o.DataDir == "" {
		t.Fatal("startServe: DataDir is required")
	}
	if o.Name == "" {
		o.Name = "vigia serve"
	}
	// The free port may be taken between freeAddr and the bind: try again then.
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		args := []string{"serve", "--listen", addr, "--data", o.DataDir}
		if o.ConfigFile != "" {
			args = append(args, "--config", o.ConfigFile)
		}
		if o.Topology != "" {
			args = append(args, "--topology", o.Topology)
		}
		s := &server{proc: startProc(t, o.Name, vigiaBin, args...), addr: addr, dataDir: o.DataDir}
		if attempt < 3 && s.exitedBeforeReady(readyTimeout) && strings.Contains(s.out.String(), "address already in use") {
			t.Logf("%s: port of %s was taken, retrying", o.Name, addr)
			continue
		}
		s.waitReady(readyTimeout)
		return s
	}
}

// exitedBeforeReady waits until /readyz answers 200 or the process exits,
// and reports whether it exited first.
func (s *server) exitedBeforeReady(timeout time.Duration) bool {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.exited() {
			return true
		}
		if resp, err := client.Get(s.url("/readyz")); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return false
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

// waitReady polls GET /readyz until 200.
func (s *server) waitReady(timeout time.Duration) {
	s.t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		if s.exited() {
			s.t.Fatalf("%s exited before /readyz answered 200: %v", s.name, s.waitErr)
		}
		resp, err := client.Get(s.url("/readyz"))
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s: GET /readyz did not answer 200 within %v (last: %s)", s.name, timeout, last)
}

// waitApplied waits until /readyz reports no journal backlog: every
// acknowledged delivery has been applied. /readyz itself answers 200 with a
// small backlog, as a load balancer wants.
func (s *server) waitApplied(timeout time.Duration) {
	s.t.Helper()
	s.waitReady(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.url("/readyz"))
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			last = string(body)
			if resp.StatusCode == http.StatusOK && strings.Contains(last, `"backlog":0`) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("%s: the journal backlog was not applied within %v (last /readyz: %s)", s.name, timeout, last)
}

// httpResult is one HTTP exchange.
type httpResult struct {
	Status int
	Header http.Header
	Body   []byte
}

var testClient = &http.Client{Timeout: 15 * time.Second}

// doJSON sends a request with an optional bearer token and returns the reply.
func doJSON(t testing.TB, method, url, token string, body []byte) httpResult {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read reply: %v", method, url, err)
	}
	return httpResult{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// ingestReply is the 202 body of the ingest endpoints.
type ingestReply struct {
	Accepted   *int `json:"accepted"`
	Duplicates *int `json:"duplicates"`
}

// errorReply is the 4xx body of the API.
type errorReply struct {
	Error string `json:"error"`
	Field string `json:"field"`
}

// incidentSummary is one entry of GET /api/v1/incidents.
type incidentSummary struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Priority   string `json:"priority"`
	Title      string `json:"title"`
	OpenedAt   string `json:"opened_at"`
	ResolvedAt string `json:"resolved_at"`
	AlertCount int    `json:"alert_count"`
}

type incidentList struct {
	Incidents  []incidentSummary `json:"incidents"`
	NextCursor string            `json:"next_cursor"`
}

// explanation is why an alert joined its incident.
type explanation struct {
	Method       string            `json:"method"`
	Rule         string            `json:"rule"`
	Window       string            `json:"window"`
	SharedLabels map[string]string `json:"shared_labels"`
	Score        float64           `json:"score"`
	Reason       string            `json:"reason"`
}

type incidentAlert struct {
	Fingerprint string            `json:"fingerprint"`
	StartsAt    string            `json:"starts_at"`
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Explanation *explanation      `json:"explanation"`
}

type incidentDetail struct {
	Incident incidentSummary   `json:"incident"`
	Alerts   []incidentAlert   `json:"alerts"`
	Timeline []json.RawMessage `json:"timeline"`
}

// listIncidents reads every page of GET /api/v1/incidents.
func listIncidents(t testing.TB, s *server, token string) []incidentSummary {
	t.Helper()
	var all []incidentSummary
	cursor := ""
	for page := 0; page < 100; page++ {
		u := s.url("/api/v1/incidents?limit=100")
		if cursor != "" {
			u += "&cursor=" + cursor
		}
		r := doJSON(t, http.MethodGet, u, token, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: status %d, body %s", u, r.Status, r.Body)
		}
		var l incidentList
		if err := json.Unmarshal(r.Body, &l); err != nil {
			t.Fatalf("GET %s: decode %q: %v", u, r.Body, err)
		}
		all = append(all, l.Incidents...)
		if l.NextCursor == "" || len(l.Incidents) == 0 {
			return all
		}
		cursor = l.NextCursor
	}
	t.Fatalf("GET /api/v1/incidents: more than 100 pages")
	return nil
}

// getIncident reads GET /api/v1/incidents/{id}.
func getIncident(t testing.TB, s *server, token, id string) incidentDetail {
	t.Helper()
	u := s.url("/api/v1/incidents/" + id)
	r := doJSON(t, http.MethodGet, u, token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", u, r.Status, r.Body)
	}
	var d incidentDetail
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatalf("GET %s: decode %q: %v", u, r.Body, err)
	}
	return d
}

// runVigia runs the binary to completion and returns stdout and stderr.
// A non-zero exit is returned as an error (an *exec.ExitError).
func runVigia(t testing.TB, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, vigiaBin, args...)
	if dir == "" {
		dir = t.TempDir()
	}
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v: %w", commandTimeout, err)
	}
	return o.String(), e.String(), err
}

// mustRunVigia is runVigia that fails the test on a non-zero exit.
func mustRunVigia(t testing.TB, dir string, args ...string) string {
	t.Helper()
	stdout, stderr, err := runVigia(t, dir, args...)
	if err != nil {
		t.Fatalf("vigia %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err,
			tail(stdout, maxLogBytes), tail(stderr, maxLogBytes))
	}
	return stdout
}

// exportAlert is one alert episode of the export document (contract §5).
type exportAlert struct {
	Fingerprint string            `json:"fingerprint"`
	StartsAt    string            `json:"starts_at"`
	Labels      map[string]string `json:"labels"`
}

type exportIncident struct {
	ID          string        `json:"id"`
	Status      string        `json:"status"`
	Priority    string        `json:"priority"`
	Title       string        `json:"title"`
	OpenedAt    string        `json:"opened_at"`
	ResolvedAt  string        `json:"resolved_at"`
	RootCauseCI string        `json:"root_cause_ci"`
	ProblemID   string        `json:"problem_id"`
	Alerts      []exportAlert `json:"alerts"`
}

type exportProblem struct {
	ID          string   `json:"id"`
	Status      string   `json:"status"`
	Signature   string   `json:"signature"`
	IncidentIDs []string `json:"incident_ids"`
}

type exportDoc struct {
	Incidents        []exportIncident `json:"incidents"`
	UnassignedAlerts []exportAlert    `json:"unassigned_alerts"`
	Problems         []exportProblem  `json:"problems"`
}

// readExport reads and decodes an export file, checking the document's
// required top-level keys are present.
func readExport(t testing.TB, path string) (exportDoc, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read export: %v", err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatalf("export %s is not a JSON object: %v\n%s", path, err, tail(string(raw), 4096))
	}
	for _, k := range []string{"incidents", "unassigned_alerts", "problems"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("export %s: missing top-level key %q (contract §5)", path, k)
		}
	}
	var doc exportDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode export %s: %v", path, err)
	}
	return doc, raw
}

// episodeKey identifies one alert episode; startsAt is normalized to UTC
// with full precision so that equal instants compare equal.
type episodeKey struct {
	Fingerprint string
	StartsAt    string
}

func (k episodeKey) String() string { return k.Fingerprint + "@" + k.StartsAt }

func newEpisodeKey(t testing.TB, fingerprint, startsAt string) episodeKey {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, startsAt)
	if err != nil {
		t.Fatalf("episode %s: starts_at %q is not RFC3339: %v", fingerprint, startsAt, err)
	}
	return episodeKey{Fingerprint: fingerprint, StartsAt: ts.UTC().Format(time.RFC3339Nano)}
}

// episodeCounts counts how often each episode appears in the export, over
// incidents[].alerts and unassigned_alerts.
func episodeCounts(t testing.TB, doc exportDoc) map[episodeKey]int {
	t.Helper()
	n := make(map[episodeKey]int)
	for _, in := range doc.Incidents {
		for _, a := range in.Alerts {
			n[newEpisodeKey(t, a.Fingerprint, a.StartsAt)]++
		}
	}
	for _, a := range doc.UnassignedAlerts {
		n[newEpisodeKey(t, a.Fingerprint, a.StartsAt)]++
	}
	return n
}

// grouping returns the partition of episodes into incidents, as sorted
// strings, one per non-empty incident, plus one line for the unassigned ones;
// incident ids play no part.
func grouping(t testing.TB, doc exportDoc) []string {
	t.Helper()
	var groups []string
	keys := func(as []exportAlert) string {
		ks := make([]string, 0, len(as))
		for _, a := range as {
			ks = append(ks, newEpisodeKey(t, a.Fingerprint, a.StartsAt).String())
		}
		sort.Strings(ks)
		return strings.Join(ks, " ")
	}
	for _, in := range doc.Incidents {
		if len(in.Alerts) > 0 {
			groups = append(groups, "incident: "+keys(in.Alerts))
		}
	}
	sort.Strings(groups)
	return append(groups, "unassigned: "+keys(doc.UnassignedAlerts))
}

// fingerprint is the Prometheus fingerprint of a label set, the value
// Alertmanager sends as alerts[].fingerprint.
func fingerprint(labels map[string]string) string {
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls.Fingerprint().String()
}

// amAlert is one alert of an Alertmanager webhook v4 payload.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// amPayload is an Alertmanager webhook v4 payload.
type amPayload struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []amAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
}

const zeroTime = "0001-01-01T00:00:00Z"

// firingAlert builds a firing alert in Alertmanager's webhook shape.
func firingAlert(labels map[string]string, startsAt time.Time) amAlert {
	return amAlert{
		Status:       "firing",
		Labels:       labels,
		Annotations:  map[string]string{"summary": "e2e alert on " + labels["instance"]},
		StartsAt:     startsAt.UTC().Format(time.RFC3339Nano),
		EndsAt:       zeroTime,
		GeneratorURL: "http://prometheus.e2e.invalid/graph?g0.expr=up+%3D%3D+0\u0026g0.tab=1",
		Fingerprint:  fingerprint(labels),
	}
}

// amDelivery wraps alerts (sharing alertname) into a webhook v4 payload.
func amDelivery(alerts ...amAlert) amPayload {
	name := alerts[0].Labels["alertname"]
	status := "resolved"
	for _, a := range alerts {
		if a.Status == "firing" {
			status = "firing"
		}
	}
	return amPayload{
		Receiver:          "vigia",
		Status:            status,
		Alerts:            alerts,
		GroupLabels:       map[string]string{"alertname": name},
		CommonLabels:      map[string]string{"alertname": name},
		CommonAnnotations: map[string]string{},
		ExternalURL:       "http://alertmanager.e2e.invalid:9093",
		Version:           "4",
		GroupKey:          fmt.Sprintf("{}:{alertname=%q}", name),
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// eventually polls cond every 200ms until it returns true or timeout passes;
// cond's last message is reported on timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var msg string
	for {
		var ok bool
		ok, msg = cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s; last state: %s", timeout, what, msg)
}

// isExitError reports whether err is a non-zero exit of a process.
func isExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// writeFile writes a file in dir and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
