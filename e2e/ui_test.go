package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The web UI tests drive Debian's Chromium, headless, against the real
// binary: the pages are the embedded ones, the API the real one.
//
// They skip only when there is no Chromium: VIGIA_CHROMIUM_BIN unset and no
// /usr/bin/chromium. scripts/test.sh installs it, so CI runs them.
// Screenshots of every page go to VIGIA_SCREENSHOTS when set, else to a
// temporary folder named in the log.

const (
	uiIngestToken  = "ui-ingest-token"
	uiAnalystToken = "ui-analyst-token"
	uiPMToken      = "ui-pm-token"
	uiViewerToken  = "ui-viewer-token"
	uiStepTimeout  = 20 * time.Second
)

func uiConfig() string {
	return fmt.Sprintf(`auth:
  tokens:
    - {name: feeder, token: %s, roles: [ingest]}
    - {name: ana, token: %s, roles: [analyst]}
    - {name: pam, token: %s, roles: [problem_manager]}
    - {name: vic, token: %s, roles: [viewer]}
problem:
  schedule: "@every 1s"
`, uiIngestToken, uiAnalystToken, uiPMToken, uiViewerToken)
}

// chromiumBin returns the browser to drive, or skips the test.
func chromiumBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VIGIA_CHROMIUM_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("VIGIA_CHROMIUM_BIN=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Skip("web UI browser tests skipped: no Chromium (set VIGIA_CHROMIUM_BIN, or apt-get install chromium; scripts/test.sh does)")
	return ""
}

// browser is one headless Chromium; every role gets its own tab (its own
// sessionStorage, so its own login). It records every JavaScript error.
type browser struct {
	t     *testing.T
	root  context.Context
	shots string

	mu   sync.Mutex
	errs []string
}

// cspProbe reports Content-Security-Policy violations as console errors,
// so that a blocked script, style or request fails the test.
const cspProbe = `document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' in ' + e.sourceFile + ':' + e.lineNumber));`

func newBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	shots := os.Getenv("VIGIA_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", shots)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t, shots: shots}
	root, cancelRoot := chromedp.NewContext(alloc, chromedp.WithListener(b.listener("browser")))
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
	})
	// The first run starts the browser, which then lives as long as the
	// context of that run: give it root itself, not a child with a timeout.
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	b.root = root
	return b
}

// listener records console errors and uncaught exceptions of one tab.
func (b *browser) listener(tab string) func(ev any) {
	return func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeAssert {
				return
			}
			var parts []string
			for _, a := range e.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, strings.Trim(string(a.Value), `"`))
				}
			}
			b.addErr(fmt.Sprintf("%s: console.%s: %s", tab, e.Type, strings.Join(parts, " ")))
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			b.addErr(fmt.Sprintf("%s: uncaught exception at %s:%d: %s", tab, d.URL, d.LineNumber+1, msg))
		}
	}
}

func (b *browser) addErr(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, s)
}

func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errs...)
}

// tab is one browser tab, signed in (or not) as one role.
type tab struct {
	t    *testing.T
	b    *browser
	ctx  context.Context
	base string
	name string
}

func (b *browser) newTab(t *testing.T, name, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithListener(b.listener(name)))
	t.Cleanup(cancel)
	// As for the browser, the first run opens the tab for the whole context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("%s: add the CSP probe: %v", name, err)
	}
	return &tab{t: t, b: b, ctx: ctx, base: base, name: name}
}

// do runs steps with a time limit, failing the test with what was asked.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, uiStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.shot("failed-" + tb.name)
		tb.t.Fatalf("%s: %s: %v\nJavaScript errors so far: %v", tb.name, what, err, tb.b.errors())
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func evalJS[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, uiStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("%s: evaluate %s: %v", tb.name, expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is truthy.
func (tb *tab) waitJS(what, expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, uiStepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		tb.shot("failed-" + tb.name)
		tb.t.Fatalf("%s: waiting for %s (%s): %v\nJavaScript errors so far: %v", tb.name, what, expr, err, tb.b.errors())
	}
}

func (tb *tab) count(sel string) int {
	tb.t.Helper()
	return evalJS[int](tb, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return evalJS[string](tb, fmt.Sprintf(`(document.querySelector(%s) || {textContent: ''}).textContent`, jsString(sel)))
}

func (tb *tab) open(path, readySel string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(tb.base+path), chromedp.WaitVisible(chromedp.CSS(readySel)))
}

// login signs in on the login page with a token.
func (tb *tab) login(token string) {
	tb.t.Helper()
	tb.open("/ui/login", "#token")
	tb.do("sign in", chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#nav")))
}

// shot writes a full-page screenshot.
func (tb *tab) shot(name string) {
	ctx, cancel := context.WithTimeout(tb.ctx, uiStepTimeout)
	defer cancel()
	// From the top, so that the sticky header is where it belongs.
	_ = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(tb.b.shots, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		tb.t.Errorf("write screenshot: %v", err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// --- seeded data ---------------------------------------------------------------

type replayEvent struct {
	Source   string            `json:"source"`
	Status   string            `json:"status"`
	Severity string            `json:"severity"`
	Summary  string            `json:"summary"`
	Labels   map[string]string `json:"labels"`
	StartsAt string            `json:"starts_at"`
	EndsAt   string            `json:"ends_at,omitempty"`
}

// uiHistory writes a replay file of past alerts: DiskFull on db-01 firing
// and resolving on six different days (a recurring signature, so a
// candidate problem), and a background of other alerts over three months
// for the dashboard's trends.
func uiHistory(t *testing.T, dir string, now time.Time) string {
	t.Helper()
	type line struct {
		ReceivedAt string          `json:"received_at"`
		Source     string          `json:"source"`
		Body       json.RawMessage `json:"body"`
		at         time.Time
	}
	var lines []line
	add := func(at time.Time, ev replayEvent) {
		body := mustJSON(t, map[string]any{"events": []replayEvent{ev}})
		lines = append(lines, line{ReceivedAt: at.Format(time.RFC3339Nano), Source: "events", Body: body, at: at})
	}
	episode := func(start time.Time, d time.Duration, sev, name, host, service string) {
		labels := map[string]string{"alertname": name, "host": host, "service": service}
		ev := replayEvent{Source: "zabbix", Status: "firing", Severity: sev, Summary: name + " on " + host, Labels: labels,
			StartsAt: start.Format(time.RFC3339)}
		add(start.Add(5*time.Second), ev)
		ev.Status, ev.EndsAt = "resolved", start.Add(d).Format(time.RFC3339)
		add(start.Add(d), ev)
	}
	day := 24 * time.Hour
	for _, d := range []int{24, 19, 13, 9, 5, 2} {
		episode(now.Add(-time.Duration(d)*day-3*time.Hour), 40*time.Minute, "high", "DiskFull", "db-01", "billing")
	}
	names := []string{"HighLatency", "ErrorRate", "NodeDown", "QueueBacklog"}
	services := []string{"shop", "portal", "search"}
	sevs := []string{"critical", "high", "warning", "info"}
	for i := range 60 {
		start := now.Add(-time.Duration(3+(i*97)%95)*day - time.Duration(i*37%24)*time.Hour)
		host := fmt.Sprintf("%s-%02d", services[i%3], i%17)
		episode(start, time.Duration(10+i*13%200)*time.Minute, sevs[i%4], names[i%4], host, services[i%3])
	}
	slices.SortStableFunc(lines, func(x, y line) int { return x.at.Compare(y.at) })
	var b strings.Builder
	for _, l := range lines {
		b.Write(mustJSON(t, l))
		b.WriteByte('\n')
	}
	return writeFile(t, dir, "history.jsonl", b.String())
}

// uiLiveAlerts are the alerts that open the incidents of the NOC queue,
// newest first: the switch and the two nodes behind it make one incident
// (topology), the others one each.
var uiLiveAlerts = []struct{ sev, name, host, service string }{
	{"critical", "LinkDown", "core-sw1", "network"},
	{"warning", "NodeUnreachable", "k8s-node-4", "checkout"},
	{"warning", "NodeUnreachable", "k8s-node-5", "checkout"},
	{"warning", "HighLatency", "api-7", "shop"},
	{"info", "CertExpiring", "web-3", "portal"},
	// Labels that look like markup must show as text.
	{"critical", "DatabaseDown", "pg-main", `<img src=x onerror="window.__xss=1">`},
}

// uiTopology puts the two nodes behind the switch.
const uiTopology = `cis:
  - {id: core-sw1, type: switch}
  - {id: k8s-node-4, type: host, service: checkout, depends_on: [core-sw1]}
  - {id: k8s-node-5, type: host, service: checkout, depends_on: [core-sw1]}
`

// postEvent sends one generic event.
func postEvent(t *testing.T, s *server, ev replayEvent) {
	t.Helper()
	body := mustJSON(t, map[string]any{"events": []replayEvent{ev}})
	if r := doJSON(t, http.MethodPost, s.url("/api/v1/ingest/events"), uiIngestToken, body); r.Status != http.StatusAccepted {
		t.Fatalf("ingest: %d %s", r.Status, r.Body)
	}
}

type uiIncident struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	Priority     string `json:"priority"`
	DecidedBy    string `json:"decided_by"`
	RejectReason string `json:"reject_reason"`
}

func uiGetIncident(t *testing.T, s *server, id string) uiIncident {
	t.Helper()
	r := doJSON(t, http.MethodGet, s.url("/api/v1/incidents/"+id), uiViewerToken, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET incident %s: %d %s", id, r.Status, r.Body)
	}
	var d struct {
		Incident uiIncident `json:"incident"`
	}
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatal(err)
	}
	return d.Incident
}

type uiProblem struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Signature  string `json:"signature"`
	RootCause  string `json:"root_cause"`
	Workaround string `json:"workaround"`
}

func uiProblems(t *testing.T, s *server) []uiProblem {
	t.Helper()
	r := doJSON(t, http.MethodGet, s.url("/api/v1/problems"), uiViewerToken, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET problems: %d %s", r.Status, r.Body)
	}
	var l struct {
		Problems []uiProblem `json:"problems"`
	}
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatal(err)
	}
	return l.Problems
}

// --- the test -------------------------------------------------------------------

// TestWebUI: an analyst confirms one incident and rejects another from the
// NOC queue, and the API shows both decisions; the incident page shows the
// alerts with their explanations and answers a forbidden action with the
// allowed ones; a problem manager confirms a candidate problem and records
// its known error; a viewer sees no action; the executive dashboard draws
// its charts (when the trend API exists); no page logs a JavaScript error.
func TestWebUI(t *testing.T) {
	bin := chromiumBin(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigia.yml", uiConfig())
	dataDir := filepath.Join(dir, "data")
	now := time.Now().UTC()
	history := uiHistory(t, dir, now)
	mustRunVigia(t, dir, "replay", "--data", dataDir, "--config", cfg, history)
	topo := writeFile(t, dir, "topology.yaml", uiTopology)
	s := startServe(t, serveOpts{DataDir: dataDir, ConfigFile: cfg, Topology: topo, Name: "vigia serve (web UI)"})

	// The live alerts open new incidents.
	for i := len(uiLiveAlerts) - 1; i >= 0; i-- {
		a := uiLiveAlerts[i]
		postEvent(t, s, replayEvent{
			Source: "prometheus", Status: "firing", Severity: a.sev, Summary: a.name + " on " + a.host,
			Labels:   map[string]string{"alertname": a.name, "host": a.host, "service": a.service},
			StartsAt: now.Add(-time.Duration(i+1) * time.Minute).Format(time.RFC3339),
		})
	}
	var newIncidents int
	eventually(t, 15*time.Second, "the live alerts to open new incidents", func() (bool, string) {
		alerts, n := 0, 0
		for _, in := range listIncidents(t, s, uiViewerToken) {
			if in.Status == "new" {
				alerts += in.AlertCount
				n++
			}
		}
		newIncidents = n
		return alerts >= len(uiLiveAlerts) && n >= 3, fmt.Sprintf("%d new incidents with %d alerts", n, alerts)
	})

	b := newBrowser(t, bin)

	var confirmed, rejected, rejectedOther string
	t.Run("analyst confirms and rejects from the queue", func(t *testing.T) {
		ana := b.newTab(t, "analyst", s.url(""))
		// Signed out, any page shows the login.
		ana.open("/ui/queue", "#token")
		ana.shot("01-login")
		ana.login(uiAnalystToken)
		ana.open("/ui/queue", "table.queue tbody tr")
		ana.waitJS("every new incident in the queue", fmt.Sprintf(`document.querySelectorAll('table.queue tbody tr').length === %d`, newIncidents))
		if got := ana.text(".who-name"); got != "ana" {
			t.Errorf("signed in as %q, want ana", got)
		}
		// Highest priority first.
		prios := evalJS[[]string](ana, `[...document.querySelectorAll('table.queue tbody tr .prio')].map((e) => e.textContent)`)
		for i := 1; i < len(prios); i++ {
			if prios[i] < prios[i-1] {
				t.Errorf("queue order by priority: %v", prios)
				break
			}
		}
		// Markup in a label is shown as text, never run.
		if evalJS[bool](ana, `window.__xss === 1`) {
			t.Error("a label value was rendered as HTML")
		}
		ana.shot("02-queue")

		ids := evalJS[[]string](ana, `[...document.querySelectorAll('table.queue tbody tr')].map((r) => r.dataset.id)`)
		if len(ids) < 3 {
			t.Fatalf("queue rows: %v", ids)
		}
		confirmed, rejected, rejectedOther = ids[0], ids[1], ids[2]

		// Confirm in one click.
		row := func(id string) string { return fmt.Sprintf(`table.queue tbody tr[data-id=%q]`, id) }
		ana.do("confirm "+confirmed, chromedp.Click(chromedp.CSS(row(confirmed)+` button[data-act="confirm"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(row(confirmed))))

		// Reject with one key: select the row, press r (reason: the default, false positive).
		if got := evalJS[string](ana, `document.getElementById('f-reason').value`); got != "false_positive" {
			t.Errorf("default reject reason %q, want false_positive", got)
		}
		ana.do("select "+rejected, chromedp.Click(chromedp.CSS(row(rejected)+` .title`)))
		ana.waitJS("the row to be selected", fmt.Sprintf(`document.querySelector(%s).getAttribute('aria-current') === 'true'`, jsString(row(rejected))))
		ana.do("reject "+rejected+" with the r key", chromedp.KeyEvent("r"), chromedp.WaitNotPresent(chromedp.CSS(row(rejected))))

		// Reject with another reason: "other" needs a comment.
		ana.do("open the reject form of "+rejectedOther, chromedp.Click(chromedp.CSS(row(rejectedOther)+` button[data-act="reject-other"]`)),
			chromedp.WaitVisible(chromedp.CSS("dialog[open] select[name=reason]")))
		ana.do("choose other", chromedp.SetValue(chromedp.CSS("dialog[open] select[name=reason]"), "other"),
			chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("dialog[open] .form-error")))
		if msg := ana.text("dialog[open] .form-error"); !strings.Contains(msg, "comment is required") {
			t.Errorf("reject as other without comment: %q, want a comment required", msg)
		}
		ana.shot("03-queue-reject-dialog")
		ana.do("comment and reject", chromedp.SendKeys(chromedp.CSS("dialog[open] textarea[name=comment]"), "synthetic check from the e2e suite"),
			chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)),
			chromedp.WaitNotPresent(chromedp.CSS("dialog[open]")),
			chromedp.WaitNotPresent(chromedp.CSS(row(rejectedOther))))
		ana.shot("04-queue-after")

		// The API shows the decisions.
		if in := uiGetIncident(t, s, confirmed); in.Status != "confirmed" || in.DecidedBy != "ana" {
			t.Errorf("%s after Confirm: status %q decided by %q, want confirmed by ana", confirmed, in.Status, in.DecidedBy)
		}
		if in := uiGetIncident(t, s, rejected); in.Status != "rejected" || in.RejectReason != "false_positive" || in.DecidedBy != "ana" {
			t.Errorf("%s after r: status %q reason %q by %q, want rejected as false_positive by ana", rejected, in.Status, in.RejectReason, in.DecidedBy)
		}
		if in := uiGetIncident(t, s, rejectedOther); in.Status != "rejected" || in.RejectReason != "other" {
			t.Errorf("%s after Other…: status %q reason %q, want rejected as other", rejectedOther, in.Status, in.RejectReason)
		}
	})
	if confirmed == "" {
		t.FailNow()
	}

	t.Run("incident page", func(t *testing.T) {
		ana := b.newTab(t, "analyst-incident", s.url(""))
		ana.login(uiAnalystToken)
		ana.open("/ui/incidents/"+confirmed, ".inc-head h1")
		ana.waitJS("the alerts", `document.querySelectorAll('ol.alerts li.alert').length > 0`)
		if !strings.Contains(ana.text("ol.alerts .why"), "Why it is here") {
			t.Errorf("no membership explanation: %q", ana.text("ol.alerts .why"))
		}
		if n := ana.count(`.clock[data-clock="respond"]`); n != 1 {
			t.Errorf("respond SLA clock shown %d times", n)
		}
		if !strings.Contains(ana.text("ol.timeline"), "Confirmed") {
			t.Errorf("timeline lacks the confirmation: %q", ana.text("ol.timeline"))
		}
		ana.shot("05-incident")

		// Acknowledge through its form.
		ana.do("acknowledge", chromedp.Click(chromedp.CSS(`button[data-action="acknowledge"]`)),
			chromedp.WaitVisible(chromedp.CSS("dialog[open]")),
			chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)),
			chromedp.WaitNotPresent(chromedp.CSS("dialog[open]")))
		ana.waitJS("status acknowledged", `(document.querySelector('.inc-head .status') || {}).textContent === 'Acknowledged'`)

		// A forbidden action answers with the allowed ones.
		ana.do("try to close", chromedp.Click(chromedp.CSS(".other-actions summary")),
			chromedp.Click(chromedp.CSS(`.other-actions button[data-action="close"]`)),
			chromedp.WaitVisible(chromedp.CSS("dialog[open]")),
			chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("dialog[open] .form-error ul.allowed")))
		allowed := ana.text("dialog[open] .form-error ul.allowed")
		for _, want := range []string{"Start work", "Resolve"} {
			if !strings.Contains(allowed, want) {
				t.Errorf("409 allowed list %q lacks %q", allowed, want)
			}
		}
		ana.shot("06-incident-409")
		ana.do("close the dialog", chromedp.Click(chromedp.CSS(`dialog[open] .form-buttons button[type=button]`)),
			chromedp.WaitNotPresent(chromedp.CSS("dialog[open]")))
		if in := uiGetIncident(t, s, confirmed); in.Status != "acknowledged" {
			t.Errorf("%s: status %q, want acknowledged (the refused close changes nothing)", confirmed, in.Status)
		}
	})

	var knownError uiProblem
	t.Run("problem manager confirms a candidate", func(t *testing.T) {
		var cand uiProblem
		eventually(t, 20*time.Second, "a candidate problem for DiskFull", func() (bool, string) {
			ps := uiProblems(t, s)
			for _, p := range ps {
				if p.Status == "candidate" && strings.Contains(p.Signature, "DiskFull") {
					cand = p
					return true, ""
				}
			}
			return false, fmt.Sprintf("%+v", ps)
		})
		pm := b.newTab(t, "problem-manager", s.url(""))
		pm.login(uiPMToken)
		pm.open("/ui/problems", "article.problem")
		card := fmt.Sprintf(`article.problem[data-id=%q]`, cand.ID)
		pm.do("show the candidate", chromedp.WaitVisible(chromedp.CSS(card)), chromedp.ScrollIntoView(chromedp.CSS(card)))
		if n := pm.count(card + " .chart-bar svg rect.bar"); n < 3 {
			t.Errorf("recurrence chart of %s has %d bars, want one per day with incidents (>= 3)", cand.ID, n)
		}
		pm.shot("07-problems")
		pm.do("confirm "+cand.ID, chromedp.Click(chromedp.CSS(card+` button[data-action="confirm"]`)),
			chromedp.WaitVisible(chromedp.CSS("dialog[open]")),
			chromedp.SendKeys(chromedp.CSS("dialog[open] textarea[name=comment]"), "recurring disk saturation"),
			chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)),
			chromedp.WaitNotPresent(chromedp.CSS("dialog[open]")))
		pm.waitJS("the card to leave the candidates", fmt.Sprintf(`document.querySelector(%s).classList.contains('decided')`, jsString(card)))
		if got := statusOf(t, s, cand.ID); got != "confirmed" {
			t.Fatalf("%s after Confirm: status %q, want confirmed", cand.ID, got)
		}

		// Record the known error on the problem's page.
		pm.open("/ui/problems/"+cand.ID, ".problem-head h1")
		pm.do("record the known error", chromedp.Click(chromedp.CSS(`button[data-action="known_error"]`)),
			chromedp.WaitVisible(chromedp.CSS("dialog[open]")),
			chromedp.SendKeys(chromedp.CSS("dialog[open] textarea[name=root_cause]"), "log rotation disabled on db-01"),
			chromedp.SendKeys(chromedp.CSS("dialog[open] textarea[name=workaround]"), "run logrotate -f, then restart the exporter"),
			chromedp.Click(chromedp.CSS(`dialog[open] button[type=submit]`)),
			chromedp.WaitNotPresent(chromedp.CSS("dialog[open]")))
		pm.waitJS("status known error", `(document.querySelector('.problem-head .status') || {}).textContent === 'Known error'`)
		pm.shot("08-problem")
		for _, p := range uiProblems(t, s) {
			if p.ID == cand.ID && (p.Status != "known_error" || p.Workaround == "") {
				t.Errorf("%s after known error: %+v", cand.ID, p)
			}
		}
		knownError = cand

	})

	t.Run("viewer sees no action", func(t *testing.T) {
		vic := b.newTab(t, "viewer", s.url(""))
		vic.open("/ui/login", "#token")
		vic.do("sign in with a wrong token", chromedp.SendKeys(chromedp.CSS("#token"), "not-a-token"), chromedp.Click(chromedp.CSS("#signin")),
			chromedp.WaitVisible(chromedp.CSS("#login-form .form-error")))
		if msg := vic.text("#login-form .form-error"); !strings.Contains(msg, "not valid") {
			t.Errorf("wrong token: %q", msg)
		}
		vic.login(uiViewerToken)
		for _, pg := range []struct{ path, ready, shot string }{
			{"/ui/queue", "table.queue tbody tr", "09-viewer-queue"},
			{"/ui/incidents", "table.queue tbody tr", ""},
			{"/ui/incidents/" + confirmed, "ol.alerts li.alert", "10-viewer-incident"},
			{"/ui/problems?status=", "article.problem", "11-viewer-problems"},
		} {
			vic.open(pg.path, pg.ready)
			if n := vic.count("main button[data-act], main button[data-action], main .action-panel, main input.pick, #f-reason"); n != 0 {
				t.Errorf("viewer on %s sees %d action controls", pg.path, n)
			}
			if pg.shot != "" {
				vic.shot(pg.shot)
			}
		}
	})

	t.Run("executive dashboard", func(t *testing.T) {
		if r := doJSON(t, http.MethodGet, s.url("/api/v1/trends/incidents"), uiViewerToken, nil); r.Status == http.StatusNotFound {
			t.Skip("the trend API (GET /api/v1/trends/{name}) is not in this build yet: the dashboard has nothing to draw")
		}
		ana := b.newTab(t, "dashboard", s.url(""))
		ana.login(uiAnalystToken)
		ana.open("/ui/dashboard", "main h1")
		ana.waitJS("the charts", `document.querySelectorAll('main .dash-card').length >= 8 && !document.querySelector('main [aria-busy="true"]')`)
		ana.shot("12-dashboard")
		if errs := evalJS[[]string](ana, `[...document.querySelectorAll('main .dash-card .form-error')].map((e) => e.closest('.dash-card').id + ': ' + e.textContent)`); len(errs) > 0 {
			t.Errorf("dashboard cards failed: %v", errs)
		}
		// Each chart draws marks from the seeded history and the decisions above.
		for _, c := range []struct{ card, what string }{
			{"projection", "monthly volume with the projection"},
			{"incidents", "incident counts"},
			{"times", "MTTA and MTTR"},
			{"sla", "SLA compliance"},
			{"noise", "noise reduction"},
			{"problems", "top problems"},
			{"by", "the breakdown by service"},
			{"levels", "resolution by support level"},
		} {
			sel := fmt.Sprintf(`#dash-%s :is(rect.bar, path.line, circle.dot, li.hbar-row)`, c.card)
			if n := ana.count(sel); n == 0 {
				t.Errorf("dashboard: %s (#dash-%s) draws nothing", c.what, c.card)
			}
		}
		if got := ana.text(".stats .stat-value"); got == "" || got == "—" {
			t.Errorf("dashboard: first headline figure %q", got)
		}
	})

	t.Run("no JavaScript error", func(t *testing.T) {
		if errs := b.errors(); len(errs) > 0 {
			t.Errorf("the pages logged %d JavaScript error(s):\n%s", len(errs), strings.Join(errs, "\n"))
		}
		// The check itself works: an error logged and an exception thrown
		// on purpose are both seen, and so is a CSP violation.
		probe := b.newTab(t, "probe", s.url(""))
		probe.open("/ui/login", "#token")
		probe.do("log an error, throw, break the CSP", chromedp.Evaluate[chromedp.Void](`console.error('probe-error');
			setTimeout(() => { throw new Error('probe-exception'); });
			document.head.append(Object.assign(document.createElement('script'), {textContent: 'window.__inline = 1'}));`))
		eventually(t, 5*time.Second, "the probe errors to be recorded", func() (bool, string) {
			all := strings.Join(b.errors(), "\n")
			return strings.Contains(all, "probe-error") && strings.Contains(all, "probe-exception") && strings.Contains(all, "CSP violation"), all
		})
	})

	// Last, as it sends a new alert: an incident of a known error's
	// signature shows the problem and its workaround.
	t.Run("known error on a new incident", func(t *testing.T) {
		if knownError.ID == "" {
			t.Skip("no known error was recorded above")
		}
		cand := knownError
		before := len(b.errors())
		pm := b.newTab(t, "known-error", s.url(""))
		pm.login(uiPMToken)
		// The disk fills again: the new incident's page shows the workaround.
		postEvent(t, s, replayEvent{Source: "zabbix", Status: "firing", Severity: "high", Summary: "DiskFull on db-01",
			Labels:   map[string]string{"alertname": "DiskFull", "host": "db-01", "service": "billing"},
			StartsAt: time.Now().UTC().Format(time.RFC3339)})
		var again string
		eventually(t, 15*time.Second, "a new DiskFull incident linked to "+cand.ID, func() (bool, string) {
			for _, in := range listIncidents(t, s, uiViewerToken) {
				if in.Status == "new" && strings.HasPrefix(in.Title, "DiskFull") {
					again = in.ID
					return true, ""
				}
			}
			return false, "none yet"
		})
		pm.open("/ui/incidents/"+again, ".inc-head h1")
		pm.waitJS("the known error", `!!document.querySelector('.known-error')`)
		if ke := pm.text(".known-error"); !strings.Contains(ke, cand.ID) || !strings.Contains(ke, "logrotate -f") {
			t.Errorf("%s: known error section %q, want %s and its workaround", again, ke, cand.ID)
		}
		pm.shot("13-incident-known-error")
		if errs := b.errors()[before:]; len(errs) > 0 {
			t.Errorf("JavaScript errors:\n%s", strings.Join(errs, "\n"))
		}
	})
}

func statusOf(t *testing.T, s *server, problemID string) string {
	t.Helper()
	for _, p := range uiProblems(t, s) {
		if p.ID == problemID {
			return p.Status
		}
	}
	return ""
}

// TestWebUIHeaders: the UI's pages and assets carry the security headers,
// and the application is served at / and under /ui/.
func TestWebUIHeaders(t *testing.T) {
	s := startServe(t, serveOpts{DataDir: t.TempDir(), ConfigFile: writeFile(t, t.TempDir(), "vigia.yml", uiConfig())})
	csp := regexp.MustCompile(`default-src 'none'.*script-src 'self'.*frame-ancestors 'none'`)
	for _, p := range []string{"/", "/ui/", "/ui/queue", "/ui/incidents/INC-000001", "/ui/static/js/app.js", "/ui/static/app.css"} {
		r := doJSON(t, http.MethodGet, s.url(p), "", nil)
		if r.Status != http.StatusOK {
			t.Errorf("GET %s: %d", p, r.Status)
			continue
		}
		h := r.Header
		if !csp.MatchString(h.Get("Content-Security-Policy")) {
			t.Errorf("GET %s: Content-Security-Policy %q", p, h.Get("Content-Security-Policy"))
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := h.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", p, k, got, want)
			}
		}
		if h.Get("Set-Cookie") != "" {
			t.Errorf("GET %s sets a cookie: %q", p, h.Get("Set-Cookie"))
		}
	}
	if r := doJSON(t, http.MethodGet, s.url("/ui/static/nope.js"), "", nil); r.Status != http.StatusNotFound {
		t.Errorf("GET a missing asset: %d, want 404", r.Status)
	}
	// whoami: 401 without a token when tokens are configured.
	if r := doJSON(t, http.MethodGet, s.url("/api/v1/whoami"), "", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/whoami without a token: %d, want 401", r.Status)
	}
	r := doJSON(t, http.MethodGet, s.url("/api/v1/whoami"), uiPMToken, nil)
	var who struct {
		Name        string   `json:"name"`
		Roles       []string `json:"roles"`
		AuthEnabled bool     `json:"auth_enabled"`
	}
	if err := json.Unmarshal(r.Body, &who); err != nil || r.Status != http.StatusOK || who.Name != "pam" || !who.AuthEnabled ||
		len(who.Roles) != 1 || who.Roles[0] != "problem_manager" {
		t.Errorf("GET /api/v1/whoami as pam: %d %s", r.Status, r.Body)
	}
}

// TestWebUIAuthOff: with no token configured the UI opens without a login,
// as "anonymous" with every role.
func TestWebUIAuthOff(t *testing.T) {
	bin := chromiumBin(t)
	s := startServe(t, serveOpts{DataDir: t.TempDir(), Name: "vigia serve (no tokens)"})
	postEvent(t, s, replayEvent{Source: "zabbix", Status: "firing", Severity: "warning", Summary: "Fan failure on rack-9",
		Labels: map[string]string{"alertname": "FanFailure", "host": "rack-9"}, StartsAt: time.Now().UTC().Format(time.RFC3339)})
	b := newBrowser(t, bin)
	tb := b.newTab(t, "anonymous", s.url(""))
	tb.open("/", "table.queue tbody tr")
	if n := tb.count("#token"); n != 0 {
		t.Error("the login page is shown with authentication off")
	}
	if got := tb.text(".who"); !strings.Contains(got, "anonymous") || !strings.Contains(got, "Authentication off") {
		t.Errorf("header %q, want anonymous and Authentication off", got)
	}
	if n := tb.count(`table.queue button[data-act="confirm"]`); n != 1 {
		t.Errorf("%d Confirm buttons, want 1 (anonymous has every role)", n)
	}
	tb.shot("14-auth-off")
	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("JavaScript errors:\n%s", strings.Join(errs, "\n"))
	}
}
