package e2e

// Reliability under attack and failure (issue 10), against the real binary:
// a crash loop under load, a corrupted journal, a full disk, a spent journal
// budget, per-token rate limits, slow clients, hostile bodies and failed
// logins. Every test here is named TestReliability* and bounded in time:
//
//	go test -run Reliab ./e2e/
//
// The figures of the soak run (scripts/soak.sh) are in RELIABILITY.md.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to hold the embedded store's write lock from outside
)

// relRand returns a random source seeded from VIGIA_RELIABILITY_SEED or the
// clock; the seed is logged so that a failure can be replayed.
func relRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("VIGIA_RELIABILITY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("VIGIA_RELIABILITY_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("random seed %d (replay with VIGIA_RELIABILITY_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, 10))
}

// startServeNoWait starts `vigia serve` on a free loopback port and returns
// at once, without waiting for /readyz: the caller may kill it during its
// start-up. A process that lost its port to another is restarted.
func startServeNoWait(t *testing.T, o serveOpts) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		args := []string{"serve", "--listen", addr, "--data", o.DataDir}
		if o.ConfigFile != "" {
			args = append(args, "--config", o.ConfigFile)
		}
		s := &server{proc: startProc(t, o.Name, vigiaBin, args...), addr: addr, dataDir: o.DataDir}
		// A lost port shows within a few milliseconds of the bind.
		time.Sleep(30 * time.Millisecond)
		if attempt < 3 && s.exited() && strings.Contains(s.out.String(), "address already in use") {
			continue
		}
		return s
	}
}

// isReady reports whether /readyz answers 200 right now.
func isReady(s *server) bool {
	c := &http.Client{Timeout: 300 * time.Millisecond}
	resp, err := c.Get(s.url("/readyz"))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// relMetric returns the value of one series of /metrics (0 if absent).
func relMetric(t testing.TB, s *server, name string, lbls map[string]string) float64 {
	t.Helper()
	v, _ := scrapeMetrics(t, s).value(name, lbls)
	return v
}

// procStatus returns a field of /proc/PID/status in kB (VmRSS, VmHWM).
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

// ackSet is what a test sent and what was acknowledged, by episode.
type ackSet struct {
	mu    sync.Mutex
	sent  map[episodeKey]bool
	acked map[episodeKey]bool
}

func newAckSet() *ackSet {
	return &ackSet{sent: map[episodeKey]bool{}, acked: map[episodeKey]bool{}}
}

// checkExport checks the export of dataDir (a stopped instance): every
// acknowledged episode exactly once, nothing never sent, and none of
// mustMiss. It returns the episode counts.
func checkExport(t *testing.T, dataDir string, sent, acked, mustMiss map[episodeKey]bool) map[episodeKey]int {
	t.Helper()
	out := filepath.Join(t.TempDir(), "export.json")
	mustRunVigia(t, "", "export", "--data", dataDir, "--out", out)
	doc, _ := readExport(t, out)
	counts := episodeCounts(t, doc)
	var missing, twice, unknown, present []string
	for k, n := range counts {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s ×%d", k, n))
		}
		if !sent[k] {
			unknown = append(unknown, k.String())
		}
		if mustMiss[k] {
			present = append(present, k.String())
		}
	}
	for k := range acked {
		if counts[k] == 0 && !mustMiss[k] {
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
	report(fmt.Sprintf("%d episodes in the export should be lost", len(present)), present)
	t.Logf("export: %d incidents, %d unassigned alerts, %d distinct episodes; %d acknowledged, %d sent",
		len(doc.Incidents), len(doc.UnassignedAlerts), len(counts), len(acked), len(sent))
	return counts
}

// relDelivery builds an Alertmanager delivery of n alerts named after
// instance (instance-0, instance-1, …), each with a description of pad
// bytes, and returns it with its episodes.
func relDelivery(t testing.TB, alertname, instance string, n, pad int, startsAt time.Time) ([]byte, []episodeKey) {
	t.Helper()
	var alerts []amAlert
	var keys []episodeKey
	for i := range n {
		inst := instance
		if n > 1 {
			inst = fmt.Sprintf("%s-%d", instance, i)
		}
		a := firingAlert(map[string]string{"alertname": alertname, "instance": inst + ":9100", "severity": "warning"}, startsAt)
		if pad > 0 {
			a.Annotations["description"] = strings.Repeat("d", pad)
		}
		alerts = append(alerts, a)
		keys = append(keys, newEpisodeKey(t, a.Fingerprint, a.StartsAt))
	}
	return mustJSON(t, amDelivery(alerts...)), keys
}

// post sends body to the Alertmanager webhook of s and returns the reply;
// a transport error is returned as status 0.
func post(s *server, token string, body []byte) httpResult {
	req, _ := http.NewRequest(http.MethodPost, s.url("/api/v1/ingest/alertmanager"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		return httpResult{Body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpResult{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// --- 1. Crash loop -------------------------------------------------------

// TestReliabilityCrashLoop: 20 rounds of SIGKILL at a random moment (during
// start-up and journal recovery as well as under load) while 8 senders post
// new deliveries and re-send acknowledged ones; small journal segments so
// that kills also land on rotations and truncations. At the end every
// acknowledged episode is in the export exactly once, and no kill left a
// corrupted record.
func TestReliabilityCrashLoop(t *testing.T) {
	rng := relRand(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg := writeFile(t, dir, "vigia.yml", "journal:\n  segment_bytes: 1MiB\n")
	ledger := newLoadLedger()
	var seq atomic.Int64
	base := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)

	const rounds = 20
	killedBeforeReady := 0
	for round := 0; round < rounds; round++ {
		s := startServeNoWait(t, serveOpts{DataDir: dataDir, ConfigFile: cfg, Name: fmt.Sprintf("vigia serve (round %d)", round+1)})
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			runLoad(t, s, ledger, round, base, &seq, stop)
			close(done)
		}()
		time.Sleep(time.Duration(50+rng.IntN(1950)) * time.Millisecond)
		if s.exited() {
			close(stop)
			<-done
			t.Fatalf("round %d: vigia serve exited on its own: %v", round+1, s.waitErr)
		}
		if !isReady(s) {
			killedBeforeReady++
		}
		s.kill()
		close(stop)
		<-done
	}
	ledger.mu.Lock()
	t.Logf("%d rounds (%d killed before /readyz said ready): sent %d episodes, %d acknowledged; statuses %v, transport errors %d",
		rounds, killedBeforeReady, len(ledger.sent), len(ledger.acked), ledger.statuses, ledger.errs)
	acked := len(ledger.acked)
	for code := range ledger.statuses {
		if code >= 500 && code != http.StatusServiceUnavailable {
			t.Errorf("%d replies with status %d", ledger.statuses[code], code)
		}
	}
	for _, msg := range ledger.badReply {
		t.Errorf("ingest: %s", msg)
	}
	ledger.mu.Unlock()
	if acked == 0 {
		t.Fatal("no delivery was acknowledged")
	}

	s := startServe(t, serveOpts{DataDir: dataDir, ConfigFile: cfg, Name: "vigia serve (after the crash loop)"})
	if v := relMetric(t, s, "vigia_journal_corrupted_records_total", nil); v != 0 {
		t.Errorf("vigia_journal_corrupted_records_total = %v after SIGKILLs, want 0 (a kill tears at most a tail)", v)
	}
	s.term()
	checkExport(t, dataDir, ledger.sent, ledger.acked, nil)
}

// --- 1b. Corrupted journal -----------------------------------------------

// storeLock holds the embedded store's write lock from outside the server,
// so that the pipeline cannot apply the journal: deliveries are then
// acknowledged (journaled) but not in the store, the state a crash leaves
// when the store lagged.
type storeLock struct {
	db   *sql.DB
	conn *sql.Conn
}

func lockStore(t *testing.T, dataDir string) *storeLock {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "vigia.db")+"?_pragma=busy_timeout(20000)")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		t.Fatalf("open the store: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		db.Close()
		t.Fatalf("take the store's write lock: %v", err)
	}
	l := &storeLock{db: db, conn: conn}
	t.Cleanup(l.release)
	return l
}

func (l *storeLock) release() {
	if l.conn == nil {
		return
	}
	l.conn.ExecContext(context.Background(), "ROLLBACK")
	l.conn.Close()
	l.db.Close()
	l.conn = nil
}

// journalRecord is one record of a segment file (journal/doc.go).
type journalRecord struct {
	path    string
	off     int64
	seq     uint64
	payload []byte
}

// readJournal parses the segments of dataDir/journal, which must be intact.
func readJournal(t *testing.T, dataDir string) []journalRecord {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dataDir, "journal", "*.seg"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no journal segments in %s: %v", dataDir, err)
	}
	sort.Strings(segs)
	var recs []journalRecord
	for _, p := range segs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+20 <= len(b); {
			if string(b[off:off+4]) != "VJR1" {
				t.Fatalf("%s: no record at offset %d", p, off)
			}
			n := int(binary.LittleEndian.Uint32(b[off+4:]))
			recs = append(recs, journalRecord{path: p, off: int64(off), seq: binary.LittleEndian.Uint64(b[off+12:]), payload: b[off+20 : off+20+n]})
			off += 20 + n
		}
	}
	return recs
}

// flipPayloadByte flips one bit in the middle of the payload of the record
// whose payload contains marker, and returns that record.
func flipPayloadByte(t *testing.T, dataDir, marker string) journalRecord {
	t.Helper()
	for _, r := range readJournal(t, dataDir) {
		if !bytes.Contains(r.payload, []byte(marker)) {
			continue
		}
		f, err := os.OpenFile(r.path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		at := r.off + 20 + int64(len(r.payload)/2)
		var b [1]byte
		if _, err := f.ReadAt(b[:], at); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0x04
		if _, err := f.WriteAt(b[:], at); err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Fatalf("no journal record holds %q", marker)
	return journalRecord{}
}

// TestReliabilityJournalCorruption: a flipped byte in an acknowledged
// record that the store had not applied yet (the store was stalled, then
// the process killed) is detected at start-up by its checksum, counted in
// vigia_journal_corrupted_records_total and logged; that one delivery is
// lost, every record after it is recovered and applied, and a torn tail
// after the last record is cut without being counted as corruption. A
// flipped byte in a record the store had already applied loses nothing.
func TestReliabilityJournalCorruption(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg := writeFile(t, dir, "vigia.yml", "journal:\n  segment_bytes: 1MiB\n")
	sent, acked := map[episodeKey]bool{}, map[episodeKey]bool{}
	base := time.Now().UTC().Add(-20 * time.Minute).Truncate(time.Millisecond)
	n := 0
	send := func(s *server, instance string) []episodeKey {
		t.Helper()
		n++
		body, keys := relDelivery(t, "JournalCorruption", instance, 1, 0, base.Add(time.Duration(n)*time.Second))
		for _, k := range keys {
			sent[k] = true
		}
		if r := post(s, "", body); r.Status != http.StatusAccepted {
			t.Fatalf("POST %s: %d %s, want 202", instance, r.Status, r.Body)
		}
		for _, k := range keys {
			acked[k] = true
		}
		return keys
	}

	s := startServe(t, serveOpts{DataDir: dataDir, ConfigFile: cfg, Name: "vigia serve (before)"})
	for i := range 10 {
		send(s, fmt.Sprintf("applied-%02d", i))
	}
	eventually(t, 20*time.Second, "the store to apply the first deliveries", func() (bool, string) {
		last, applied := relMetric(t, s, "vigia_journal_last_seq", nil), relMetric(t, s, "vigia_correlate_applied_seq", nil)
		return last == 10 && applied == last, fmt.Sprintf("last_seq %v, applied_seq %v", last, applied)
	})

	lock := lockStore(t, dataDir)
	lost := map[episodeKey]bool{}
	for i := range 20 {
		keys := send(s, fmt.Sprintf("stalled-%02d", i))
		if i == 7 {
			for _, k := range keys {
				lost[k] = true
			}
		}
	}
	last, applied := relMetric(t, s, "vigia_journal_last_seq", nil), relMetric(t, s, "vigia_correlate_applied_seq", nil)
	if last != 30 || applied != 10 {
		t.Fatalf("with the store locked: last_seq %v, applied_seq %v; want 30 and 10 (acknowledged, not applied)", last, applied)
	}
	s.kill()
	lock.release()

	rec := flipPayloadByte(t, dataDir, "stalled-07:9100")
	if rec.seq <= uint64(applied) {
		t.Fatalf("the corrupted record (seq %d) was already applied (applied_seq %v)", rec.seq, applied)
	}
	// A torn tail: the start of a record that a crash cut short.
	recs := readJournal(t, dataDir)
	lastRec := recs[len(recs)-1]
	torn := make([]byte, 20+40)
	copy(torn, "VJR1")
	binary.LittleEndian.PutUint32(torn[4:], 500)
	binary.LittleEndian.PutUint64(torn[12:], lastRec.seq+1)
	f, err := os.OpenFile(lastRec.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(torn); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s = startServe(t, serveOpts{DataDir: dataDir, ConfigFile: cfg, Name: "vigia serve (corrupted journal)"})
	if v := relMetric(t, s, "vigia_journal_corrupted_records_total", nil); v != 1 {
		t.Errorf("vigia_journal_corrupted_records_total = %v, want 1", v)
	}
	for _, want := range []string{"skipped corrupted record(s)", "truncated torn tail"} {
		if !strings.Contains(s.out.String(), want) {
			t.Errorf("the log does not report %q", want)
		}
	}
	for i := range 5 {
		send(s, fmt.Sprintf("after-%02d", i))
	}
	s.term()
	checkExport(t, dataDir, sent, acked, lost)

	// Now a record the store has applied: corrupting it loses nothing.
	flipPayloadByte(t, dataDir, "applied-03:9100")
	s = startServe(t, serveOpts{DataDir: dataDir, ConfigFile: cfg, Name: "vigia serve (applied record corrupted)"})
	if v := relMetric(t, s, "vigia_journal_corrupted_records_total", nil); v != 2 {
		t.Errorf("vigia_journal_corrupted_records_total = %v, want 2 (both regions are still in the active segment)", v)
	}
	s.term()
	checkExport(t, dataDir, sent, acked, lost)
}

// --- 2. Full disk --------------------------------------------------------

// mountSmallFS mounts a tmpfs of size bytes at a new directory and returns
// it; it skips the test when mounting is not permitted.
func mountSmallFS(t *testing.T, size string) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a %s tmpfs to fill up (%v): this test needs root or CAP_SYS_ADMIN", size, err)
	}
	// Registered after t.TempDir's removal, so it runs before it; servers
	// started later are killed before it.
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

// fillDisk writes a file in dir until the file system is full.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 64 << 10, 4 << 10, 512, 1} {
		b := make([]byte, chunk)
		for {
			if _, err := f.Write(b); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("fill %s: %v", dir, err)
				}
				break
			}
		}
	}
	return path
}

// TestReliabilityFullDisk: with the data directory on an 8 MiB file system
// that fills up, ingest answers 503 with Retry-After (never a 2xx without
// the record on disk, never a 500), keeps serving, damages nothing already
// acknowledged, and takes deliveries again by itself once space is freed.
func TestReliabilityFullDisk(t *testing.T) {
	mnt := mountSmallFS(t, "8m")
	dir := t.TempDir()
	dataDir := filepath.Join(mnt, "data")
	cfg := writeFile(t, dir, "vigia.yml", "ingest:\n  retry_after: 3s\n")
	acks := newAckSet()
	base := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	n := 0
	// send posts a delivery of 4 alerts with 2 KiB descriptions and returns
	// the reply, recording what was sent and acknowledged.
	send := func(s *server, what string) httpResult {
		n++
		body, keys := relDelivery(t, "FullDisk", fmt.Sprintf("%s-%03d", what, n), 4, 2048, base.Add(time.Duration(n)*time.Second))
		for _, k := range keys {
			acks.sent[k] = true
		}
		r := post(s, "", body)
		if r.Status/100 == 2 {
			for _, k := range keys {
				acks.acked[k] = true
			}
		}
		return r
	}

	s := startServe(t, serveOpts{DataDir: dataDir, ConfigFile: cfg, Name: "vigia serve (small disk)"})
	for range 10 {
		if r := send(s, "before"); r.Status != http.StatusAccepted {
			t.Fatalf("before the disk fills: %d %s", r.Status, r.Body)
		}
	}
	// A backlog for the store to write when there is no room left: 10 more
	// deliveries journaled while the store is held, then the disk filled
	// and the store let go.
	lock := lockStore(t, dataDir)
	for range 10 {
		if r := send(s, "backlog"); r.Status != http.StatusAccepted {
			t.Fatalf("before the disk fills: %d %s", r.Status, r.Body)
		}
	}
	filler := fillDisk(t, mnt)
	lock.release()

	codes := map[int]int{}
	for range 30 {
		r := send(s, "full")
		codes[r.Status]++
		switch {
		case r.Status == http.StatusServiceUnavailable:
			if ra := r.Header.Get("Retry-After"); ra != "3" {
				t.Errorf("503 with Retry-After %q, want \"3\" (ingest.retry_after)", ra)
			}
		case r.Status == http.StatusAccepted:
			// It fitted in a page the segment already had: it is on disk,
			// and the export must show it.
		default:
			t.Errorf("disk full: status %d %s, want 503 (or 202 if it still fitted)", r.Status, r.Body)
		}
	}
	t.Logf("with the disk full: replies %v; store write errors %v", codes, relMetric(t, s, "vigia_storage_write_errors_total", nil))
	if codes[http.StatusServiceUnavailable] == 0 {
		t.Fatalf("no 503 while the disk was full (replies %v)", codes)
	}
	if r := doJSON(t, http.MethodGet, s.url("/healthz"), "", nil); r.Status != http.StatusOK || s.exited() {
		t.Fatalf("with the disk full: /healthz %d, exited %v", r.Status, s.exited())
	}
	sc := scrapeMetrics(t, s)
	if v, _ := sc.value("vigia_ingest_rejected_total", map[string]string{"source": "alertmanager", "reason": "overloaded"}); v != float64(codes[503]) {
		t.Errorf("rejected_total{reason=overloaded} = %v, want %d", v, codes[503])
	}
	if v, _ := sc.value("vigia_ingest_requests_total", map[string]string{"source": "alertmanager", "code": "500"}); v != 0 {
		t.Errorf("%v replies with 500 while the disk was full", v)
	}

	time.Sleep(time.Second) // the store retries its writes meanwhile
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	eventually(t, 15*time.Second, "ingest to take deliveries again after space was freed", func() (bool, string) {
		r := send(s, "freed")
		return r.Status == http.StatusAccepted, fmt.Sprintf("%d %s", r.Status, r.Body)
	})
	t.Logf("ingest took deliveries again %v after space was freed", time.Since(start).Round(time.Millisecond))
	for range 10 {
		if r := send(s, "after"); r.Status != http.StatusAccepted {
			t.Fatalf("after space was freed: %d %s", r.Status, r.Body)
		}
	}
	eventually(t, 30*time.Second, "the store to catch up", func() (bool, string) {
		last, applied := relMetric(t, s, "vigia_journal_last_seq", nil), relMetric(t, s, "vigia_correlate_applied_seq", nil)
		return last == applied, fmt.Sprintf("last_seq %v, applied_seq %v, store write errors %v", last, applied,
			relMetric(t, s, "vigia_storage_write_errors_total", nil))
	})
	t.Logf("store write errors while the disk was full: %v", relMetric(t, s, "vigia_storage_write_errors_total", nil))
	s.term()

	s = startServe(t, serveOpts{DataDir: dataDir, ConfigFile: cfg, Name: "vigia serve (restart after full disk)"})
	if v := relMetric(t, s, "vigia_journal_corrupted_records_total", nil); v != 0 {
		t.Errorf("vigia_journal_corrupted_records_total = %v after the full disk, want 0", v)
	}
	s.term()
	checkExport(t, dataDir, acks.sent, acks.acked, nil)
}

// TestReliabilityJournalBudget: when the journal reaches journal.max_bytes
// (the store being stalled, so that nothing can be truncated), ingest
// answers 503 with Retry-After; once the store applies the journal and its
// segments are deleted, ingest takes deliveries again by itself.
func TestReliabilityJournalBudget(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg := writeFile(t, dir, "vigia.yml", "journal:\n  segment_bytes: 1MiB\n  max_bytes: 2MiB\n")
	acks := newAckSet()
	base := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	n := 0
	send := func(s *server) httpResult {
		n++
		// 5 alerts of 20 KiB: about 100 KiB a record.
		body, keys := relDelivery(t, "JournalBudget", fmt.Sprintf("budget-%03d", n), 5, 20<<10, base.Add(time.Duration(n)*time.Second))
		for _, k := range keys {
			acks.sent[k] = true
		}
		r := post(s, "", body)
		if r.Status/100 == 2 {
			for _, k := range keys {
				acks.acked[k] = true
			}
		}
		return r
	}

	s := startServe(t, serveOpts{DataDir: dataDir, ConfigFile: cfg})
	lock := lockStore(t, dataDir)
	var full httpResult
	accepted := 0
	for range 40 {
		r := send(s)
		if r.Status == http.StatusAccepted {
			accepted++
			continue
		}
		full = r
		break
	}
	if full.Status != http.StatusServiceUnavailable || full.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d deliveries of 100 KiB with a 2 MiB budget: status %d (Retry-After %q) %s, want 503 with Retry-After",
			accepted, full.Status, full.Header.Get("Retry-After"), full.Body)
	}
	size := relMetric(t, s, "vigia_journal_size_bytes", nil)
	t.Logf("budget spent after %d deliveries: journal %v bytes", accepted, size)
	if size > 2<<20 || size < 1.5*(1<<20) {
		t.Errorf("vigia_journal_size_bytes = %v when refusing, want between 1.5 MiB and 2 MiB", size)
	}
	lock.release()
	start := time.Now()
	eventually(t, 30*time.Second, "ingest to take deliveries again once the store applied the journal", func() (bool, string) {
		r := send(s)
		return r.Status == http.StatusAccepted, fmt.Sprintf("%d %s", r.Status, r.Body)
	})
	t.Logf("ingest took deliveries again %v after the store was released", time.Since(start).Round(time.Millisecond))
	s.term()
	checkExport(t, dataDir, acks.sent, acks.acked, nil)
}

// --- 3. Overload: per-token rate limits ----------------------------------

// TestReliabilityRateLimit: with ingest.rate_limit set, a token flooding
// as fast as 8 connections go gets 429 with Retry-After beyond its limit,
// while another token sending at a normal pace gets 202 every time; the
// server's memory stays bounded (figures logged).
func TestReliabilityRateLimit(t *testing.T) {
	const (
		floodToken = "rel-flood-token-5d1c0e"
		calmToken  = "rel-calm-token-77a9b2"
		rps, burst = 20, 20
		duration   = 4 * time.Second
	)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigia.yml", fmt.Sprintf(`ingest:
  rate_limit:
    requests_per_second: %d
    burst: %d
auth:
  tokens:
    - {name: flood, token: %s, roles: [ingest]}
    - {name: calm, token: %s, roles: [ingest]}
`, rps, burst, floodToken, calmToken))
	s := startServe(t, serveOpts{DataDir: filepath.Join(dir, "data"), ConfigFile: cfg})
	pid := s.cmd.Process.Pid
	rssBefore := procStatus(pid, "VmRSS")
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)

	type tally struct {
		mu       sync.Mutex
		codes    map[int]int
		noRetry  int // 429s without a valid Retry-After
		slowest  time.Duration
		requests int
	}
	flood, calm := &tally{codes: map[int]int{}}, &tally{codes: map[int]int{}}
	var seq atomic.Int64
	sendAs := func(tok string, tl *tally, client *http.Client) {
		i := seq.Add(1)
		body, _ := relDelivery(t, "RateLimit", fmt.Sprintf("rl-%d", i), 1, 0, base.Add(time.Duration(i)*time.Millisecond))
		req, _ := http.NewRequest(http.MethodPost, s.url("/api/v1/ingest/alertmanager"), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		t0 := time.Now()
		resp, err := client.Do(req)
		d := time.Since(t0)
		code := 0
		retry := ""
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			code, retry = resp.StatusCode, resp.Header.Get("Retry-After")
		}
		tl.mu.Lock()
		defer tl.mu.Unlock()
		tl.requests++
		tl.codes[code]++
		if code == http.StatusTooManyRequests {
			if v, err := strconv.Atoi(retry); err != nil || v < 1 {
				tl.noRetry++
			}
		}
		tl.slowest = max(tl.slowest, d)
	}
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	floodClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer floodClient.CloseIdleConnections()
	for range 8 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				sendAs(floodToken, flood, floodClient)
			}
		})
	}
	wg.Go(func() {
		client := &http.Client{Timeout: 10 * time.Second}
		for time.Now().Before(deadline) {
			sendAs(calmToken, calm, client)
			time.Sleep(200 * time.Millisecond) // 5 requests a second, under the limit
		}
	})
	wg.Wait()

	t.Logf("flood: %d requests in %v (%.0f/s), replies %v, slowest %v", flood.requests, duration,
		float64(flood.requests)/duration.Seconds(), flood.codes, flood.slowest.Round(time.Millisecond))
	t.Logf("calm: %d requests, replies %v, slowest %v", calm.requests, calm.codes, calm.slowest.Round(time.Millisecond))
	if flood.codes[http.StatusTooManyRequests] == 0 {
		t.Errorf("the flooding token got no 429")
	}
	if flood.noRetry > 0 {
		t.Errorf("%d 429 replies without a Retry-After of at least 1 second", flood.noRetry)
	}
	if maxOK := burst + int(rps*duration.Seconds()) + 10; flood.codes[http.StatusAccepted] > maxOK {
		t.Errorf("the flooding token got %d 202s in %v, want at most %d (burst %d + %d/s)", flood.codes[http.StatusAccepted], duration, maxOK, burst, rps)
	}
	if calm.codes[http.StatusAccepted] != calm.requests || calm.requests < 10 {
		t.Errorf("the calm token: replies %v over %d requests, want 202 to every one (and at least 10)", calm.codes, calm.requests)
	}
	for code, n := range flood.codes {
		if code != http.StatusAccepted && code != http.StatusTooManyRequests {
			t.Errorf("flood: %d replies with status %d, want only 202 and 429", n, code)
		}
	}
	if v := relMetric(t, s, "vigia_ingest_requests_total", map[string]string{"source": "alertmanager", "code": "429"}); v != float64(flood.codes[429]) {
		t.Errorf("vigia_ingest_requests_total{code=429} = %v, want %d", v, flood.codes[429])
	}
	rssAfter, hwm := procStatus(pid, "VmRSS"), procStatus(pid, "VmHWM")
	t.Logf("server memory: RSS %d KiB before, %d KiB after, peak %d KiB", rssBefore, rssAfter, hwm)
	if hwm > 512<<10 {
		t.Errorf("server peak RSS %d KiB during the flood, want under 512 MiB", hwm)
	}
}

// --- 4. Slow clients -----------------------------------------------------

// TestReliabilitySlowClients: slowloris connections (headers one byte at a
// time) are cut by server.read_header_timeout, bodies trickled slowly by
// server.read_timeout (answered 503 with Retry-After, never 2xx or 400: the
// sender may retry), and neither starves normal requests, which keep being
// answered 202 quickly meanwhile. Afterwards the goroutines are back.
func TestReliabilitySlowClients(t *testing.T) {
	const (
		headerTimeout = time.Second
		readTimeout   = 2 * time.Second
		slowloris     = 150
		slowBodies    = 20
		drip          = 250 * time.Millisecond
	)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigia.yml", `server:
  read_header_timeout: 1s
  read_timeout: 2s
  write_timeout: 5s
  idle_timeout: 5s
`)
	s := startServe(t, serveOpts{DataDir: filepath.Join(dir, "data"), ConfigFile: cfg})
	goroutinesBefore := relMetric(t, s, "go_goroutines", nil)

	var (
		mu       sync.Mutex
		lorisCut []time.Duration
		lorisErr []string
		bodyRes  = map[string]int{}
		bodyCut  []time.Duration
	)
	var wg sync.WaitGroup
	for i := range slowloris {
		wg.Go(func() {
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				mu.Lock()
				lorisErr = append(lorisErr, err.Error())
				mu.Unlock()
				return
			}
			defer conn.Close()
			start := time.Now()
			closed := make(chan struct{})
			go func() { // the server closing the connection ends this read
				io.Copy(io.Discard, conn)
				close(closed)
			}()
			head := fmt.Sprintf("POST /api/v1/ingest/alertmanager HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-Slow-%d: ", s.addr, i)
			if _, err := io.WriteString(conn, head); err != nil {
				return
			}
			tick := time.NewTicker(drip)
			defer tick.Stop()
			for {
				select {
				case <-closed:
					mu.Lock()
					lorisCut = append(lorisCut, time.Since(start))
					mu.Unlock()
					return
				case <-tick.C:
					if time.Since(start) > 4*readTimeout {
						mu.Lock()
						lorisErr = append(lorisErr, "still open after "+time.Since(start).String())
						mu.Unlock()
						return
					}
					conn.Write([]byte("a")) // fails once the server has closed
				}
			}
		})
	}
	for i := range slowBodies {
		wg.Go(func() {
			conn, err := net.Dial("tcp", s.addr)
			if err != nil {
				return
			}
			defer conn.Close()
			body, _ := relDelivery(t, "SlowBody", fmt.Sprintf("slow-%d", i), 1, 0, time.Now().Add(-time.Minute))
			start := time.Now()
			fmt.Fprintf(conn, "POST /api/v1/ingest/alertmanager HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", s.addr, len(body))
			type result struct {
				resp *http.Response
				err  error
			}
			got := make(chan result, 1)
			go func() {
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				got <- result{resp, err}
			}()
			tick := time.NewTicker(drip)
			defer tick.Stop()
			for off := 0; ; {
				select {
				case r := <-got:
					mu.Lock()
					defer mu.Unlock()
					bodyCut = append(bodyCut, time.Since(start))
					switch {
					case r.err != nil:
						bodyRes["closed without a reply"]++
					case r.resp.StatusCode == http.StatusServiceUnavailable && r.resp.Header.Get("Retry-After") != "":
						bodyRes["503 with Retry-After"]++
					default:
						bodyRes[r.resp.Status]++
					}
					return
				case <-tick.C:
					if off < len(body)-1 { // never the last byte
						conn.Write(body[off : off+1])
						off++
					}
				}
			}
		})
	}

	// Normal traffic meanwhile.
	var normal []time.Duration
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	for i := 0; time.Duration(i)*100*time.Millisecond < 2*readTimeout; i++ {
		body, _ := relDelivery(t, "SlowClientsNormal", fmt.Sprintf("normal-%d", i), 1, 0, base.Add(time.Duration(i)*time.Second))
		t0 := time.Now()
		r := post(s, "", body)
		normal = append(normal, time.Since(t0))
		if r.Status != http.StatusAccepted {
			t.Errorf("normal request %d among slow clients: %d %s", i, r.Status, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()

	sort.Slice(lorisCut, func(i, j int) bool { return lorisCut[i] < lorisCut[j] })
	sort.Slice(bodyCut, func(i, j int) bool { return bodyCut[i] < bodyCut[j] })
	sort.Slice(normal, func(i, j int) bool { return normal[i] < normal[j] })
	t.Logf("slowloris: %d of %d cut, after %v to %v (read_header_timeout %v)", len(lorisCut), slowloris,
		first(lorisCut), last(lorisCut), headerTimeout)
	t.Logf("slow bodies: %v, after %v to %v (read_timeout %v)", bodyRes, first(bodyCut), last(bodyCut), readTimeout)
	t.Logf("normal requests meanwhile: %d, median %v, slowest %v", len(normal), normal[len(normal)/2], last(normal))
	for _, e := range lorisErr {
		t.Errorf("slowloris connection: %s", e)
	}
	if len(lorisCut) != slowloris {
		t.Errorf("%d of %d slowloris connections cut", len(lorisCut), slowloris)
	} else if last(lorisCut) > headerTimeout+2*time.Second {
		t.Errorf("slowest slowloris cut after %v, want about read_header_timeout (%v)", last(lorisCut), headerTimeout)
	}
	if n := bodyRes["503 with Retry-After"] + bodyRes["closed without a reply"]; n != slowBodies {
		t.Errorf("slow bodies: %v, want %d answered 503 with Retry-After (or closed)", bodyRes, slowBodies)
	} else if last(bodyCut) > readTimeout+2*time.Second {
		t.Errorf("slowest slow body cut after %v, want about read_timeout (%v)", last(bodyCut), readTimeout)
	}
	if last(normal) > time.Second {
		t.Errorf("a normal request took %v among slow clients, want under 1s", last(normal))
	}
	eventually(t, 10*time.Second, "the goroutines of the cut connections to end", func() (bool, string) {
		g := relMetric(t, s, "go_goroutines", nil)
		return g <= goroutinesBefore+10, fmt.Sprintf("go_goroutines %v, %v before", g, goroutinesBefore)
	})
	if s.exited() {
		t.Fatalf("vigia serve exited: %v", s.waitErr)
	}
}

func first(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[0].Round(time.Millisecond)
}

func last(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[len(d)-1].Round(time.Millisecond)
}

// --- 5. Hostile input ----------------------------------------------------

// TestReliabilityHostileInput posts hostile bodies and headers to the real
// server: deep nesting, huge label sets, millions of tiny alerts, enormous
// strings, invalid UTF-8, control characters, absurd numbers. Each gets a
// 4xx (or, where the content is harmless once decoded, 202), never a 5xx;
// whatever is accepted comes back intact through the API; concurrent
// decompression bombs are held to a bounded memory by the in-flight budget
// (503); and the server is alive at the end, with no panic in its log.
func TestReliabilityHostileInput(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, serveOpts{DataDir: filepath.Join(dir, "data")})
	pid := s.cmd.Process.Pid
	now := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	am := func(alerts string) []byte {
		return []byte(`{"version":"4","status":"firing","receiver":"r","groupKey":"g","alerts":[` + alerts + `]}`)
	}
	alert := func(labels, extra string) string {
		return `{"status":"firing","labels":{"alertname":"Hostile"` + labels + `},"annotations":{"summary":"s"},"startsAt":"` + now + `"` + extra + `}`
	}
	manyLabels := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `,"l%x":"v"`, i)
		}
		return b.String()
	}
	type hostile struct {
		name string
		path string // default alertmanager
		ct   string // Content-Type; default application/json
		body []byte
		ok   []int // acceptable statuses
	}
	cases := []hostile{
		{name: "nested arrays 5M deep", body: []byte(strings.Repeat("[", 5<<20) + strings.Repeat("]", 5<<20)), ok: []int{400}},
		{name: "nested objects 1M deep in an alert", body: am(`{"status":"firing","labels":` + strings.Repeat(`{"a":`, 1<<20) + `1` + strings.Repeat("}", 1<<20) + `}`), ok: []int{400}},
		{name: "nesting 9000 deep in an annotation", body: am(alert("", `,"annotations":{"a":`+strings.Repeat("[", 9000)+strings.Repeat("]", 9000)+`}`)), ok: []int{400}},
		{name: "nesting 9000 deep in an unknown field", body: am(alert("", `,"x":`+strings.Repeat(`{"x":`, 9000)+`1`+strings.Repeat("}", 9000))), ok: []int{202, 400}},
		{name: "3.5 million empty alerts", body: am(strings.TrimSuffix(strings.Repeat("{},", (10<<20-100)/3), ",")), ok: []int{400}},
		{name: "5 million zeros as alerts", body: am(strings.TrimSuffix(strings.Repeat("0,", (10<<20-100)/2), ",")), ok: []int{400}},
		{name: "800k labels in one alert", body: am(alert(manyLabels(800000), "")), ok: []int{400}},
		{name: "129 labels", body: am(alert(manyLabels(128), "")), ok: []int{400}},
		{name: "a 5 MB label value", body: am(alert(`,"big":"`+strings.Repeat("x", 5<<20)+`"`, "")), ok: []int{400}},
		{name: "a 9 MB annotation", body: am(alert("", `,"annotations":{"d":"`+strings.Repeat("x", 9<<20)+`"}`)), ok: []int{400}},
		{name: "an 11 MB body", body: am(alert("", `,"annotations":{"d":"`+strings.Repeat("x", 11<<20)+`"}`)), ok: []int{413}},
		{name: "invalid UTF-8 in a label value", body: am(alert(`,"v":"a`+"\xff\xfe"+`b"`, "")), ok: []int{400}},
		{name: "invalid UTF-8 in a label name", body: am(alert(`,"`+"\xc3\x28"+`":"v"`, "")), ok: []int{400}},
		{name: "overlong UTF-8 encoding of /", body: am(alert(`,"v":"`+"\xc0\xaf"+`"`, "")), ok: []int{400}},
		{name: "a raw control character in a string", body: am(alert(`,"v":"a`+"\x01"+`b"`, "")), ok: []int{400}},
		// Prometheus 3 allows any UTF-8 label name (ingest.utf8_label_names).
		{name: "an escaped NUL in a label name", body: am(alert(`,"a\u0000b":"v"`, "")), ok: []int{202, 400}},
		{name: "an empty label name", body: am(alert(`,"":"v"`, "")), ok: []int{400}},
		{name: "a number too large", body: []byte(`{"version":"4","status":"firing","truncatedAlerts":1e999,"alerts":[` + alert("", "") + `]}`), ok: []int{400}},
		{name: "a negative count", body: []byte(`{"version":"4","status":"firing","truncatedAlerts":-1,"alerts":[` + alert("", "") + `]}`), ok: []int{400}},
		{name: "startsAt in year 99999", body: am(`{"status":"firing","labels":{"alertname":"Hostile"},"startsAt":"99999-01-01T00:00:00Z"}`), ok: []int{400}},
		{name: "null", body: []byte("null"), ok: []int{400}},
		{name: "a string", body: []byte(`"alerts"`), ok: []int{400}},
		{name: "an empty array", body: []byte(`[]`), ok: []int{400}},
		{name: "whitespace", body: []byte(" \n\t "), ok: []int{400}},
		{name: "two JSON documents", body: append(am(alert("", "")), am(alert("", ""))...), ok: []int{400}},
		{name: "events: 10k events of 1 KB summaries, 1 over", path: "/api/v1/ingest/events",
			body: []byte(`{"events":[` + strings.TrimSuffix(strings.Repeat(`{"source":"x","status":"firing","severity":"info","summary":"`+strings.Repeat("s", 900)+`","labels":{"host":"h"},"starts_at":"`+now+`"},`, 10001), ",") + `]}`), ok: []int{400}},
		{name: "grafana: a value that is an object", path: "/api/v1/ingest/grafana",
			body: []byte(`{"version":"1","status":"firing","orgId":1,"alerts":[{"status":"firing","labels":{"alertname":"H"},"values":{"A":{"a":1}},"startsAt":"` + now + `"}]}`), ok: []int{400}},
		{name: "text/plain", ct: "text/plain", body: am(alert("", "")), ok: []int{415}},
		{name: "a multipart body", ct: "multipart/form-data; boundary=x", body: []byte("--x\r\n\r\n{}\r\n--x--"), ok: []int{415}},
	}
	// Harmless once decoded: accepted, and must come back exactly.
	tricky := map[string]string{
		"escaped NUL":          "a\x00b",
		"terminal escape":      "\x1b[2J\x1b[31mred",
		"log injection":        "x\nlevel=ERROR msg=\"forged line\" component=ingest",
		"bidi override":        "\u202egnp.exe",
		"lone surrogate":       "\ufffd", // \ud800 decodes to U+FFFD
		"zero width and emoji": "\u200b\U0001F525",
	}
	for name, v := range tricky {
		raw := mustJSON(t, v)
		if name == "lone surrogate" {
			raw = []byte(`"\ud800"`)
		}
		cases = append(cases, hostile{name: "control characters: " + name, body: am(alert(`,"tricky":`+string(raw)+`,"case":`+string(mustJSON(t, name)), "")), ok: []int{202, 400}})
	}

	statuses := map[int]int{}
	for _, c := range cases {
		path := c.path
		if path == "" {
			path = "/api/v1/ingest/alertmanager"
		}
		req, _ := http.NewRequest(http.MethodPost, s.url(path), bytes.NewReader(c.body))
		ct := c.ct
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
		t0 := time.Now()
		resp, err := testClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		statuses[resp.StatusCode]++
		ok := false
		for _, want := range c.ok {
			ok = ok || resp.StatusCode == want
		}
		if !ok {
			t.Errorf("%s: status %d %s, want one of %v", c.name, resp.StatusCode, b, c.ok)
		}
		if d := time.Since(t0); d > 5*time.Second {
			t.Errorf("%s: answered after %v", c.name, d)
		}
		if s.exited() {
			t.Fatalf("vigia serve died on %s: %v", c.name, s.waitErr)
		}
	}
	t.Logf("replies to %d hostile bodies: %v; server peak RSS %d KiB", len(cases), statuses, procStatus(pid, "VmHWM"))

	// Oversized and malformed headers.
	for _, h := range []struct {
		name, raw string
		want      int
	}{
		{"a 100 KB header", "X-Big: " + strings.Repeat("h", 100<<10) + "\r\n", 431},
		{"a header name with a control character", "X-\x01Bad: 1\r\n", 400},
		{"two Content-Lengths", "Content-Length: 2\r\nContent-Length: 3\r\n", 400},
	} {
		conn, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/v1/ingest/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n{}", h.raw)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("%s: %v", h.name, err)
		} else if resp.StatusCode != h.want {
			t.Errorf("%s: status %d, want %d", h.name, resp.StatusCode, h.want)
		}
		conn.Close()
	}

	// Decompression-style bombs in parallel: 16 bodies of 10 MB that each
	// decode to hundreds of MB of maps. The in-flight budget turns most
	// away with 503; memory stays bounded.
	bomb := am(alert(manyLabels(800000), ""))
	var wg sync.WaitGroup
	var mu sync.Mutex
	bombs := map[int]int{}
	for range 16 {
		wg.Go(func() {
			code, _, err := postRaw(s.url("/api/v1/ingest/alertmanager"), bomb)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bombs[-1]++
			} else {
				bombs[code]++
			}
		})
	}
	wg.Wait()
	hwm := procStatus(pid, "VmHWM")
	t.Logf("16 concurrent label bombs: replies %v; server peak RSS %d KiB", bombs, hwm)
	if bombs[400]+bombs[503] != 16 {
		t.Errorf("16 concurrent label bombs: replies %v, want only 400 and 503", bombs)
	}
	if hwm > 768<<10 {
		t.Errorf("server peak RSS %d KiB, want under 768 MiB", hwm)
	}

	// What was accepted reads back intact through the API, as valid JSON.
	s.waitApplied(readyTimeout)
	back := map[string]string{}
	for _, in := range listIncidents(t, s, "") {
		for _, a := range getIncident(t, s, "", in.ID).Alerts {
			if c, ok := a.Labels["case"]; ok {
				back[c] = a.Labels["tricky"]
			}
		}
	}
	for name, v := range tricky {
		got, ok := back[name]
		if !ok {
			continue // refused with 400, which is allowed
		}
		if got != v {
			t.Errorf("%s: label read back as %q, want %q", name, got, v)
		}
	}
	t.Logf("control characters accepted and read back intact: %d of %d", len(back), len(tricky))

	if r := doJSON(t, http.MethodGet, s.url("/healthz"), "", nil); r.Status != http.StatusOK {
		t.Errorf("/healthz after the hostile input: %d", r.Status)
	}
	if v := relMetric(t, s, "vigia_ingest_requests_total", map[string]string{"source": "alertmanager", "code": "500"}); v != 0 {
		t.Errorf("%v replies with 500", v)
	}
	out := s.out.String()
	if strings.Contains(out, "panic") {
		t.Errorf("the server log shows a panic")
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "level=ERROR msg=\"forged line\"") {
			t.Errorf("a label value forged a log line: %q", line)
		}
	}
	s.term()
}

// --- 6. Failed logins ----------------------------------------------------

// TestReliabilityFailedLogins: after auth.failed_logins.max invalid tokens
// from one address, that address gets 429 with Retry-After on every
// endpoint, even with a valid token, while other addresses are served;
// requests without a token do not count.
func TestReliabilityFailedLogins(t *testing.T) {
	const good, reader = "rel-good-token-01f3", "rel-reader-token-9c2e"
	dir := t.TempDir()
	cfg := writeFile(t, dir, "vigia.yml", fmt.Sprintf(`auth:
  tokens:
    - {name: am, token: %s, roles: [ingest]}
    - {name: reader, token: %s, roles: [viewer]}
  failed_logins:
    max: 5
    window: 1m
`, good, reader))
	s := startServe(t, serveOpts{DataDir: filepath.Join(dir, "data"), ConfigFile: cfg})
	body, _ := relDelivery(t, "FailedLogins", "fl", 1, 0, time.Now().Add(-time.Minute))

	for i := range 20 {
		if r := post(s, "", body); r.Status != http.StatusUnauthorized {
			t.Fatalf("no token, request %d: %d, want 401 (requests without a token do not count)", i, r.Status)
		}
	}
	for i := range 5 {
		if r := post(s, fmt.Sprintf("guess-%d", i), body); r.Status != http.StatusUnauthorized {
			t.Fatalf("invalid token %d: %d, want 401", i, r.Status)
		}
	}
	r := post(s, good, body)
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("valid token from a locked-out address: %d (Retry-After %q), want 429 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
	if r := doJSON(t, http.MethodGet, s.url("/api/v1/incidents"), reader, nil); r.Status != http.StatusTooManyRequests {
		t.Errorf("GET /api/v1/incidents from a locked-out address: %d, want 429", r.Status)
	}
	if r := doJSON(t, http.MethodGet, s.url("/healthz"), "", nil); r.Status != http.StatusOK {
		t.Errorf("/healthz from a locked-out address: %d, want 200 (not authenticated)", r.Status)
	}

	// Another address: 127.0.0.2 is loopback too on Linux.
	other := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)},
	}).DialContext}}
	req, _ := http.NewRequest(http.MethodPost, s.url("/api/v1/ingest/alertmanager"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+good)
	resp, err := other.Do(req)
	if err != nil {
		t.Logf("cannot send from 127.0.0.2 (%v): the check that other addresses are served is skipped", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("valid token from another address: %d, want 202", resp.StatusCode)
	}
}
