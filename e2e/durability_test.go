package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sentDelivery is one Alertmanager delivery the load generator sent.
type sentDelivery struct {
	body   []byte
	alerts []episodeKey
	labels []map[string]string
}

// loadLedger records what was sent and what was acknowledged (2xx).
type loadLedger struct {
	mu       sync.Mutex
	sent     map[episodeKey]bool // every episode sent at least once
	acked    map[episodeKey]bool // every episode in at least one 2xx delivery
	ackedDel []*sentDelivery     // deliveries with a 2xx, for re-sends
	statuses map[int]int         // HTTP status → count
	errs     int                 // transport errors (expected around a kill)
	badReply []string            // 2xx replies whose body broke the contract
}

func newLoadLedger() *loadLedger {
	return &loadLedger{
		sent:     make(map[episodeKey]bool),
		acked:    make(map[episodeKey]bool),
		statuses: make(map[int]int),
	}
}

// runLoad posts Alertmanager deliveries to s from 8 goroutines until stop is
// closed. In cycles after the first, every 5th delivery is a verbatim re-send
// of a delivery acknowledged earlier, as Alertmanager's retries and
// repeat_interval do.
func runLoad(t *testing.T, s *server, ledger *loadLedger, cycle int, base time.Time, seq *atomic.Int64, stop <-chan struct{}) {
	const workers = 8
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: workers},
	}
	defer client.CloseIdleConnections()
	url := s.url("/api/v1/ingest/alertmanager")

	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(cycle), uint64(g)))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var d *sentDelivery
				fresh := true
				if cycle > 0 && i%5 == 4 {
					ledger.mu.Lock()
					if n := len(ledger.ackedDel); n > 0 {
						d = ledger.ackedDel[rng.IntN(n)]
						fresh = false
					}
					ledger.mu.Unlock()
				}
				if d == nil {
					d = newLoadDelivery(t, cycle, g, i, 1+rng.IntN(3), base, seq)
				}
				ledger.mu.Lock()
				for _, k := range d.alerts {
					ledger.sent[k] = true
				}
				ledger.mu.Unlock()

				resp, err := client.Post(url, "application/json", bytes.NewReader(d.body))
				if err != nil {
					ledger.mu.Lock()
					ledger.errs++
					ledger.mu.Unlock()
					// The server is gone (killed) or overloaded; slow down.
					time.Sleep(20 * time.Millisecond)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()

				ledger.mu.Lock()
				ledger.statuses[resp.StatusCode]++
				if resp.StatusCode >= 200 && resp.StatusCode < 300 {
					for _, k := range d.alerts {
						ledger.acked[k] = true
					}
					if fresh {
						ledger.ackedDel = append(ledger.ackedDel, d)
						if msg := checkFreshReply(body, len(d.alerts)); msg != "" && len(ledger.badReply) < 5 {
							ledger.badReply = append(ledger.badReply, msg)
						}
					}
				}
				ledger.mu.Unlock()
				if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
}

// checkFreshReply checks the 2xx reply to a delivery of n never-seen alerts:
// 202 {"accepted":n,"duplicates":0}. It returns "" when it conforms. A body
// cut short by the kill is not held against the server.
func checkFreshReply(body []byte, n int) string {
	var r ingestReply
	if err := json.Unmarshal(body, &r); err != nil {
		return ""
	}
	if r.Accepted == nil || r.Duplicates == nil || *r.Accepted != n || *r.Duplicates != 0 {
		return fmt.Sprintf("reply %s to a delivery of %d new alerts, want {\"accepted\":%d,\"duplicates\":0}", body, n, n)
	}
	return ""
}

// newLoadDelivery builds a delivery of n alerts with label sets and startsAt
// values never used before.
func newLoadDelivery(t *testing.T, cycle, g, i, n int, base time.Time, seq *atomic.Int64) *sentDelivery {
	d := &sentDelivery{}
	alerts := make([]amAlert, 0, n)
	for j := range n {
		k := seq.Add(1)
		labels := map[string]string{
			"alertname": "E2E",
			"instance":  fmt.Sprintf("host-%d-%d-%d-%d:9100", cycle, g, i, j),
			"severity":  []string{"critical", "warning", "info"}[k%3],
			"job":       "e2e",
		}
		// Distinct instants with sub-millisecond digits, to catch any loss of precision.
		startsAt := base.Add(time.Duration(k)*time.Millisecond + time.Duration(k%997)*time.Microsecond + time.Duration(k%7)*time.Nanosecond)
		a := firingAlert(labels, startsAt)
		alerts = append(alerts, a)
		d.alerts = append(d.alerts, newEpisodeKey(t, a.Fingerprint, a.StartsAt))
		d.labels = append(d.labels, labels)
	}
	d.body = mustJSON(t, amDelivery(alerts...))
	return d
}

// TestDurabilityKill: every alert of a 2xx reply survives SIGKILL, three
// times over, and shows up exactly once in the export (contract §2, §5).
func TestDurabilityKill(t *testing.T) {
	dataDir := t.TempDir()
	ledger := newLoadLedger()
	var seq atomic.Int64
	base := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))

	const cycles = 3
	for cycle := range cycles {
		s := startServe(t, serveOpts{DataDir: dataDir, Name: fmt.Sprintf("vigia serve (cycle %d)", cycle+1)})
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			runLoad(t, s, ledger, cycle, base, &seq, stop)
			close(done)
		}()
		time.Sleep(time.Second + time.Duration(rng.IntN(1000))*time.Millisecond)
		s.kill() // mid-stream: the load is still running
		close(stop)
		<-done

		ledger.mu.Lock()
		t.Logf("cycle %d: sent %d episodes, %d acknowledged so far; statuses %v, transport errors %d",
			cycle+1, len(ledger.sent), len(ledger.acked), ledger.statuses, ledger.errs)
		ledger.mu.Unlock()
	}

	ledger.mu.Lock()
	acked, statuses, badReply := len(ledger.acked), fmt.Sprint(ledger.statuses), ledger.badReply
	ledger.mu.Unlock()
	if acked == 0 {
		t.Fatalf("no delivery was acknowledged in %d cycles (statuses %s)", cycles, statuses)
	}
	for _, msg := range badReply {
		t.Errorf("ingest: %s", msg)
	}

	// Restart once more: it must recover the journal and become ready, then
	// stop cleanly so that export may open the data directory.
	s := startServe(t, serveOpts{DataDir: dataDir, Name: "vigia serve (recovery)"})
	s.term()

	out := filepath.Join(t.TempDir(), "export.json")
	mustRunVigia(t, "", "export", "--data", dataDir, "--out", out)
	doc, _ := readExport(t, out)
	counts := episodeCounts(t, doc)

	var missing, twice, unknown []string
	for k, n := range counts {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s ×%d", k, n))
		}
		if !ledger.sent[k] {
			unknown = append(unknown, k.String())
		}
	}
	for k := range ledger.acked {
		if counts[k] == 0 {
			missing = append(missing, k.String())
		}
	}
	report := func(what string, list []string) {
		if len(list) == 0 {
			return
		}
		sort.Strings(list)
		if len(list) > 20 {
			list = append(list[:20], fmt.Sprintf("… and %d more", len(list)-20))
		}
		t.Errorf("%s:\n  %s", what, strings.Join(list, "\n  "))
	}
	report(fmt.Sprintf("%d acknowledged episodes are missing from the export", len(missing)), missing)
	report(fmt.Sprintf("%d episodes appear more than once in the export", len(twice)), twice)
	report(fmt.Sprintf("%d episodes in the export were never sent", len(unknown)), unknown)
	t.Logf("export: %d incidents, %d unassigned alerts, %d distinct episodes; %d acknowledged, %d sent",
		len(doc.Incidents), len(doc.UnassignedAlerts), len(counts), acked, len(ledger.sent))
}
