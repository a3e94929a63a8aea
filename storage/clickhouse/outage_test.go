package clickhouse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/export"
	"github.com/vigia-noc/vigia/storage/clickhouse"
)

// chServer is a clickhouse-server of the test's own (own ports, own data
// directory), so that the test can stop and start it.
type chServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (c *chServer) start() {
	c.t.Helper()
	d := c.dir
	c.cmd = exec.Command(c.bin, "--config-file=/etc/clickhouse-server/config.xml", "--",
		fmt.Sprintf("--tcp_port=%d", c.port), fmt.Sprintf("--http_port=%d", freePort(c.t)),
		fmt.Sprintf("--interserver_http_port=%d", freePort(c.t)), "--listen_host=127.0.0.1",
		"--path="+d+"/data/", "--tmp_path="+d+"/tmp/", "--user_files_path="+d+"/user_files/",
		"--format_schema_path="+d+"/format_schemas/", "--logger.log="+d+"/server.log",
		"--logger.errorlog="+d+"/error.log", "--logger.console=0")
	if err := os.MkdirAll(d, 0o755); err != nil {
		c.t.Fatal(err)
	}
	c.cmd.Dir = d
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		c.t.Fatalf("start clickhouse-server: %v", err)
	}
	c.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		cmd.Wait()
		close(done)
	}(c.cmd, c.done)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.port), time.Second)
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-c.done:
			c.t.Fatalf("clickhouse-server exited at start; see %s/error.log", d)
		case <-time.After(100 * time.Millisecond):
		}
	}
	c.t.Fatal("clickhouse-server did not listen within 60s")
}

func (c *chServer) stop() {
	c.t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// TestOutageEveryAcknowledgedAlertOnce runs the real `vigia serve` on
// ClickHouse, streams deliveries into it, stops ClickHouse for a while and
// starts it again: deliveries are still acknowledged during the outage (the
// journal keeps them), and in the end every acknowledged alert is in
// ClickHouse exactly once, and every delivery is counted once.
func TestOutageEveryAcknowledgedAlertOnce(t *testing.T) { testOutage(t, false) }

// TestOutageAtStart starts `vigia serve` while its ClickHouse is down (a
// host whose ClickHouse comes up after Vigia): it acknowledges deliveries
// from the start, answers the API with 503 and Retry-After, and once
// ClickHouse is up every acknowledged alert lands there exactly once.
func TestOutageAtStart(t *testing.T) { testOutage(t, true) }

func testOutage(t *testing.T, downAtStart bool) {
	clickhouse.FreshDSN(t) // skips without ClickHouse
	if testing.Short() {
		t.Skip("-short")
	}
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		t.Skip("clickhouse-server is not installed: the outage test runs its own")
	}
	dir := t.TempDir()
	ch := &chServer{t: t, bin: bin, dir: filepath.Join(dir, "clickhouse"), port: freePort(t)}
	if !downAtStart {
		ch.start()
	}
	t.Cleanup(func() {
		if ch.cmd != nil && ch.cmd.ProcessState == nil {
			ch.stop()
		}
	})

	vigia := filepath.Join(dir, "vigia")
	if out, err := exec.Command("go", "build", "-o", vigia, "github.com/vigia-noc/vigia/cmd/vigia").CombinedOutput(); err != nil {
		t.Fatalf("build vigia: %v\n%s", err, out)
	}
	dsn := fmt.Sprintf("clickhouse://127.0.0.1:%d/vigia_outage", ch.port)
	data := filepath.Join(dir, "data")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var logs bytes.Buffer
	var logMu sync.Mutex
	serve := exec.Command(vigia, "serve", "--listen", addr, "--data", data, "--store", dsn)
	serve.Stdout = lockedWriter{&logMu, &logs}
	serve.Stderr = serve.Stdout
	serve.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	serveDone := make(chan error, 1)
	go func() { serveDone <- serve.Wait() }()
	t.Cleanup(func() {
		serve.Process.Kill()
		if t.Failed() {
			logMu.Lock()
			t.Logf("vigia serve output:\n%s", tail(logs.String(), 20000))
			logMu.Unlock()
		}
	})
	client := &http.Client{Timeout: 10 * time.Second}
	if downAtStart {
		// Up, but not ready: it cannot restore the state.
		waitStatus(t, client, "http://"+addr+"/readyz", http.StatusServiceUnavailable, 60*time.Second)
	} else {
		waitStatus(t, client, "http://"+addr+"/readyz", http.StatusOK, 60*time.Second)
	}

	// Stream deliveries: 4 new alerts each, every one a distinct episode.
	var (
		mu       sync.Mutex
		acked    = map[string]int{} // instance label -> acknowledgements
		ackedDel int
		failed   atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	const senders, perDelivery = 4, 4
	starts := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var alerts []map[string]any
				var ids []string
				for j := 0; j < perDelivery; j++ {
					id := fmt.Sprintf("g%d-d%d-a%d", g, i, j)
					ids = append(ids, id)
					alerts = append(alerts, map[string]any{"status": "firing",
						"labels":   map[string]string{"alertname": "OutageTest", "instance": id, "shard": fmt.Sprint(j)},
						"startsAt": starts, "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090"})
				}
				body, _ := json.Marshal(map[string]any{"version": "4", "status": "firing", "receiver": "vigia",
					"groupKey": "{}:{}", "groupLabels": map[string]string{}, "commonLabels": map[string]string{},
					"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager:9093", "alerts": alerts})
				resp, err := client.Post("http://"+addr+"/api/v1/ingest/alertmanager", "application/json", bytes.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					failed.Add(1)
					continue
				}
				mu.Lock()
				ackedDel++
				for _, id := range ids {
					acked[id]++
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return ackedDel
	}
	beforeOutage := 0
	if downAtStart {
		// The API cannot read the store: 503, with when to retry.
		resp, err := client.Get("http://" + addr + "/api/v1/incidents")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET /api/v1/incidents with ClickHouse down: %d, Retry-After %q; want 503 with Retry-After",
				resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	} else {
		time.Sleep(2 * time.Second)
		beforeOutage = count()
		ch.stop()
		t.Logf("clickhouse stopped after %d acknowledged deliveries", beforeOutage)
		// The store is unreachable: /readyz says so, ingest still acknowledges.
		waitStatus(t, client, "http://"+addr+"/readyz", http.StatusServiceUnavailable, 30*time.Second)
	}
	time.Sleep(3 * time.Second)
	duringOutage := count() - beforeOutage
	ch.start()
	t.Logf("clickhouse started again; %d deliveries acknowledged during the outage", duringOutage)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	if duringOutage == 0 {
		t.Error("no delivery was acknowledged while ClickHouse was down")
	}
	waitStatus(t, client, "http://"+addr+"/readyz", http.StatusOK, 60*time.Second)
	serve.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-serveDone:
		if err != nil {
			t.Fatalf("vigia serve exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("vigia serve did not stop within 60s of SIGTERM")
	}

	// The export from ClickHouse has every acknowledged alert exactly once.
	out := filepath.Join(dir, "export.json")
	if b, err := exec.Command(vigia, "export", "--data", data, "--store", dsn, "--out", out).CombinedOutput(); err != nil {
		t.Fatalf("vigia export: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc export.Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, in := range doc.Incidents {
		for _, a := range in.Alerts {
			seen[a.Labels["instance"]]++
		}
	}
	for _, a := range doc.UnassignedAlerts {
		seen[a.Labels["instance"]]++
	}
	missing, dup := 0, 0
	for id := range acked {
		switch seen[id] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	for id, n := range seen {
		if n > 1 && acked[id] == 0 {
			dup++
		}
	}
	if missing > 0 || dup > 0 {
		t.Errorf("of %d acknowledged alerts, %d are missing from ClickHouse and %d are there more than once", len(acked), missing, dup)
	}
	s, err := clickhouse.Open(context.Background(), clickhouse.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tot, err := s.Totals(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A delivery whose reply was lost may be stored without being counted
	// as acknowledged here, never the other way round.
	if tot.Deliveries < int64(ackedDel) || tot.Deliveries > int64(ackedDel)+failed.Load() ||
		tot.Episodes != int64(len(seen)) || tot.Alerts != tot.Deliveries*perDelivery {
		t.Errorf("totals %+v: want %d deliveries (up to %d more unacknowledged), %d episodes, %d alerts per delivery",
			tot, ackedDel, failed.Load(), len(seen), perDelivery)
	}
	t.Logf("%d deliveries acknowledged (%d during the outage, %d failed), %d alerts, totals %+v",
		ackedDel, duringOutage, failed.Load(), len(acked), tot)
}

func waitStatus(t *testing.T, client *http.Client, url string, want int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: want %d within %v, last: %s", url, want, timeout, last)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
