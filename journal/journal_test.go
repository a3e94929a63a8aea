package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// open opens a journal in dir with a fresh registry and closes it at cleanup.
func open(t testing.TB, opts Options) (*Journal, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	j, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, reg
}

// metricValue returns a counter's or gauge's value, or a histogram's count.
func metricValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func payload(i int) []byte { return fmt.Appendf(nil, "delivery-%04d", i) }

// appendN appends payload(1..n) one by one, checking seqs continue from first.
func appendN(t testing.TB, j *Journal, first uint64, n int) {
	t.Helper()
	for i := range n {
		seq, err := j.Append(context.Background(), payload(int(first)+i))
		if err != nil {
			t.Fatal(err)
		}
		if want := first + uint64(i); seq != want {
			t.Fatalf("Append: seq %d, want %d", seq, want)
		}
	}
}

func read(t testing.TB, j *Journal, from uint64, maxRecords, maxBytes int) []Record {
	t.Helper()
	recs, err := j.Read(from, maxRecords, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// checkRecords checks that recs are exactly the records with seqs want,
// carrying payload(seq).
func checkRecords(t testing.TB, recs []Record, want ...uint64) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("got %d records %v, want seqs %v", len(recs), seqs(recs), want)
	}
	for i, r := range recs {
		if r.Seq != want[i] || !bytes.Equal(r.Payload, payload(int(want[i]))) {
			t.Fatalf("record %d: seq %d payload %q, want seq %d payload %q",
				i, r.Seq, r.Payload, want[i], payload(int(want[i])))
		}
	}
}

func seqs(recs []Record) []uint64 {
	s := make([]uint64, len(recs))
	for i, r := range recs {
		s[i] = r.Seq
	}
	return s
}

func span(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAppendRead(t *testing.T) {
	j, _ := open(t, Options{Dir: t.TempDir()})
	if got := read(t, j, 0, 0, 0); got == nil || len(got) != 0 {
		t.Fatalf("empty journal: Read = %#v, want empty non-nil slice", got)
	}
	if j.FirstSeq() != 0 || j.LastSeq() != 0 {
		t.Fatalf("empty journal: FirstSeq %d LastSeq %d, want 0 0", j.FirstSeq(), j.LastSeq())
	}
	appendN(t, j, 1, 10)
	if j.FirstSeq() != 1 || j.LastSeq() != 10 {
		t.Fatalf("FirstSeq %d LastSeq %d, want 1 10", j.FirstSeq(), j.LastSeq())
	}
	checkRecords(t, read(t, j, 0, 0, 0), span(1, 10)...)
	checkRecords(t, read(t, j, 1, 0, 0), span(1, 10)...)
	checkRecords(t, read(t, j, 5, 3, 0), 5, 6, 7)
	checkRecords(t, read(t, j, 9, 100, 0), 9, 10)
	checkRecords(t, read(t, j, 11, 0, 0))
	// maxBytes counts payload bytes but never returns nothing.
	n := len(payload(1))
	checkRecords(t, read(t, j, 1, 0, 1), 1)
	checkRecords(t, read(t, j, 1, 0, 3*n), 1, 2, 3)
	checkRecords(t, read(t, j, 1, 0, 3*n+1), 1, 2, 3)

	last, err := j.AppendBatch(context.Background(), [][]byte{payload(11), payload(12), payload(13)})
	if err != nil || last != 13 {
		t.Fatalf("AppendBatch = %d, %v; want 13", last, err)
	}
	checkRecords(t, read(t, j, 10, 0, 0), span(10, 13)...)
	if want := int64(13 * (headerSize + n)); j.Size() != want {
		t.Fatalf("Size = %d, want %d", j.Size(), want)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	rec := int64(headerSize + len(payload(1)))
	j, reg := open(t, Options{Dir: dir, SegmentBytes: 3 * rec})
	appendN(t, j, 1, 20)
	files := segFiles(t, dir)
	if len(files) != 7 { // 3 records per segment
		t.Fatalf("%d segment files, want 7: %v", len(files), files)
	}
	if got := filepath.Base(files[1]); got != "00000000000000000004.seg" {
		t.Fatalf("second segment is %s, want 00000000000000000004.seg", got)
	}
	var size int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
	}
	if j.Size() != size || metricValue(t, reg, "vigia_journal_size_bytes") != float64(size) {
		t.Fatalf("Size %d, size_bytes %v, want %d", j.Size(), metricValue(t, reg, "vigia_journal_size_bytes"), size)
	}
	if got := metricValue(t, reg, "vigia_journal_segments"); got != 7 {
		t.Fatalf("segments gauge = %v, want 7", got)
	}
	checkRecords(t, read(t, j, 1, 0, 0), span(1, 20)...)
	checkRecords(t, read(t, j, 3, 5, 0), span(3, 7)...)
	checkRecords(t, read(t, j, 18, 0, 0), 18, 19, 20)
}

// TestReadIndex reads from the middle of a segment large enough to have
// several sparse index entries.
func TestReadIndex(t *testing.T) {
	j, _ := open(t, Options{Dir: t.TempDir()})
	big := make([][]byte, 1000)
	for i := range big {
		big[i] = append(payload(i+1), make([]byte, 1000)...)
	}
	if _, err := j.AppendBatch(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	entries := len(j.segs[0].index)
	j.mu.Unlock()
	if entries < 10 {
		t.Fatalf("index has %d entries, want >= 10", entries)
	}
	for _, from := range []uint64{1, 2, 64, 65, 66, 500, 999, 1000} {
		recs := read(t, j, from, 2, 0)
		if recs[0].Seq != from || !bytes.Equal(recs[0].Payload, big[from-1]) {
			t.Fatalf("Read(%d) starts at seq %d", from, recs[0].Seq)
		}
	}
}

func TestWait(t *testing.T) {
	j, _ := open(t, Options{Dir: t.TempDir()})
	ctx := context.Background()
	done := make(chan error)
	go func() { done <- j.Wait(ctx, 0) }()
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v before any append", err)
	case <-time.After(20 * time.Millisecond):
	}
	appendN(t, j, 1, 1)
	if err := <-done; err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if err := j.Wait(ctx, 0); err != nil { // already there
		t.Fatalf("Wait = %v", err)
	}

	tctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := j.Wait(tctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with timeout = %v, want DeadlineExceeded", err)
	}

	go func() { done <- j.Wait(ctx, 1) }()
	time.Sleep(10 * time.Millisecond)
	j.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close = %v, want ErrClosed", err)
	}
}

func TestClose(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, Options{Dir: dir})
	appendN(t, j, 1, 3)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := j.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := j.Read(1, 0, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close = %v, want ErrClosed", err)
	}

	// Reopening resumes the seqs.
	j2, _ := open(t, Options{Dir: dir})
	if j2.FirstSeq() != 1 || j2.LastSeq() != 3 {
		t.Fatalf("reopened: FirstSeq %d LastSeq %d, want 1 3", j2.FirstSeq(), j2.LastSeq())
	}
	appendN(t, j2, 4, 2)
	checkRecords(t, read(t, j2, 0, 0, 0), span(1, 5)...)
}

// TestCrash reopens a journal that was never closed: every acknowledged
// record must be there.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	rec := int64(headerSize + len(payload(1)))
	j, _ := open(t, Options{Dir: dir, SegmentBytes: 7 * rec})
	appendN(t, j, 1, 30)

	j2, _ := open(t, Options{Dir: dir, SegmentBytes: 7 * rec})
	if j2.LastSeq() != 30 {
		t.Fatalf("after crash LastSeq = %d, want 30", j2.LastSeq())
	}
	checkRecords(t, read(t, j2, 0, 0, 0), span(1, 30)...)
	appendN(t, j2, 31, 10)
	checkRecords(t, read(t, j2, 25, 0, 0), span(25, 40)...)
}

func TestContextCanceled(t *testing.T) {
	j, _ := open(t, Options{Dir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append = %v, want context.Canceled", err)
	}
	if j.Size() != 0 {
		t.Fatalf("canceled Append wrote %d bytes", j.Size())
	}
}

func TestTooLarge(t *testing.T) {
	j, _ := open(t, Options{Dir: t.TempDir()})
	if _, err := j.Append(context.Background(), make([]byte, MaxPayload+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Append = %v, want ErrTooLarge", err)
	}
}

func TestGroupCommit(t *testing.T) {
	j, reg := open(t, Options{Dir: t.TempDir()})
	// Give fsync the latency of a real disk even when TMPDIR is a tmpfs,
	// where fsync is free and there would be nothing to share.
	j.syncFile = func(f *os.File) error {
		time.Sleep(time.Millisecond)
		return f.Sync()
	}
	const workers, each = 64, 50
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = make(map[uint64]bool)
	)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				seq, err := j.Append(context.Background(), fmt.Appendf(nil, "w%d-%d", w, i))
				if err != nil {
					t.Error(err)
					return
				}
				if j.LastSeq() < seq {
					t.Errorf("Append returned seq %d before it was durable (LastSeq %d)", seq, j.LastSeq())
				}
				mu.Lock()
				seen[seq] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const total = workers * each
	if len(seen) != total || j.LastSeq() != total {
		t.Fatalf("%d distinct seqs, LastSeq %d; want %d", len(seen), j.LastSeq(), total)
	}
	if got := len(read(t, j, 0, 0, 0)); got != total {
		t.Fatalf("Read returned %d records, want %d", got, total)
	}
	fsyncs := metricValue(t, reg, "vigia_journal_fsyncs_total")
	appends := metricValue(t, reg, "vigia_journal_appends_total")
	t.Logf("%v appends, %v fsyncs (%.1f appends per fsync)", appends, fsyncs, appends/fsyncs)
	if appends != total || fsyncs > total/4 {
		t.Fatalf("%v appends with %v fsyncs: want %d appends and at most %d fsyncs", appends, fsyncs, total, total/4)
	}
}

func TestAppendBatchOneFsync(t *testing.T) {
	j, reg := open(t, Options{Dir: t.TempDir()})
	last, err := j.AppendBatch(context.Background(), [][]byte{payload(1), payload(2), payload(3)})
	if err != nil || last != 3 {
		t.Fatalf("AppendBatch = %d, %v; want 3", last, err)
	}
	if got := metricValue(t, reg, "vigia_journal_fsyncs_total"); got != 1 {
		t.Fatalf("fsyncs = %v, want 1", got)
	}
	if got := metricValue(t, reg, "vigia_journal_appends_total"); got != 3 {
		t.Fatalf("appends = %v, want 3", got)
	}
}

func TestFullAndTruncate(t *testing.T) {
	dir := t.TempDir()
	rec := int64(headerSize + len(payload(1)))
	j, _ := open(t, Options{Dir: dir, SegmentBytes: 3 * rec, MaxBytes: 10 * rec})
	appendN(t, j, 1, 10)
	_, err := j.Append(context.Background(), payload(11))
	if !errors.Is(err, ErrFull) {
		t.Fatalf("Append over budget = %v, want ErrFull", err)
	}
	if j.Size() != 10*rec || j.LastSeq() != 10 {
		t.Fatalf("after ErrFull: Size %d LastSeq %d, want %d 10", j.Size(), j.LastSeq(), 10*rec)
	}

	// Segments hold 1-3, 4-6, 7-9, 10. Truncate(5) may only remove 1-3.
	if err := j.Truncate(5); err != nil {
		t.Fatal(err)
	}
	if j.FirstSeq() != 4 || len(segFiles(t, dir)) != 3 {
		t.Fatalf("after Truncate(5): FirstSeq %d, %d files; want 4, 3", j.FirstSeq(), len(segFiles(t, dir)))
	}
	checkRecords(t, read(t, j, 1, 0, 0), span(4, 10)...) // from below FirstSeq
	appendN(t, j, 11, 3)
	if _, err := j.Append(context.Background(), payload(14)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append over budget = %v, want ErrFull", err)
	}

	// Truncating everything keeps the active segment.
	if err := j.Truncate(1000); err != nil {
		t.Fatal(err)
	}
	if files := segFiles(t, dir); len(files) != 1 || j.FirstSeq() != 13 {
		t.Fatalf("after Truncate(1000): files %v, FirstSeq %d; want one file, 13", files, j.FirstSeq())
	}
	appendN(t, j, 14, 5)
	checkRecords(t, read(t, j, 0, 0, 0), span(13, 18)...)

	// Seqs survive a reopen even when the oldest segments are gone.
	j.Close()
	j2, _ := open(t, Options{Dir: dir, SegmentBytes: 3 * rec, MaxBytes: 10 * rec})
	appendN(t, j2, 19, 1)
}

// TestWriteFailure injects ENOSPC halfway through a write: no partial record
// may remain, the error is ErrFull, and the journal keeps working.
func TestWriteFailure(t *testing.T) {
	dir := t.TempDir()
	j, _ := open(t, Options{Dir: dir})
	appendN(t, j, 1, 3)
	j.writeAt = func(f *os.File, b []byte, off int64) (int, error) {
		n, _ := f.WriteAt(b[:len(b)/2], off)
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	before := j.Size()
	if _, err := j.Append(context.Background(), payload(4)); !errors.Is(err, ErrFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append = %v, want ErrFull and ENOSPC", err)
	}
	fi, err := os.Stat(segFiles(t, dir)[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != before || j.Size() != before {
		t.Fatalf("after failed write: file %d bytes, Size %d; want %d", fi.Size(), j.Size(), before)
	}
	j.writeAt = (*os.File).WriteAt
	appendN(t, j, 4, 2)
	j.Close()

	j2, reg := open(t, Options{Dir: dir})
	checkRecords(t, read(t, j2, 0, 0, 0), span(1, 5)...)
	if got := metricValue(t, reg, "vigia_journal_corrupted_records_total"); got != 0 {
		t.Fatalf("corrupted = %v, want 0", got)
	}
}

// TestFsyncFailure: after a failed fsync nothing more may be acknowledged.
func TestFsyncFailure(t *testing.T) {
	j, _ := open(t, Options{Dir: t.TempDir()})
	appendN(t, j, 1, 1)
	j.syncFile = func(*os.File) error { return syscall.EIO }
	if _, err := j.Append(context.Background(), payload(2)); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append = %v, want EIO", err)
	}
	j.syncFile = (*os.File).Sync
	if _, err := j.Append(context.Background(), payload(3)); !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append after failed fsync = %v, want the sticky EIO", err)
	}
	if j.LastSeq() != 1 {
		t.Fatalf("LastSeq = %d, want 1", j.LastSeq())
	}
}

func TestMetricsRegistered(t *testing.T) {
	j, reg := open(t, Options{Dir: t.TempDir()})
	appendN(t, j, 1, 1)
	for _, name := range []string{"appends_total", "bytes_total", "fsyncs_total", "fsync_duration_seconds",
		"size_bytes", "segments", "corrupted_records_total", "last_seq"} {
		metricValue(t, reg, "vigia_journal_"+name)
	}
	if got := metricValue(t, reg, "vigia_journal_last_seq"); got != 1 {
		t.Fatalf("last_seq = %v, want 1", got)
	}
	// Two journals, two registries: no package-level state.
	open(t, Options{Dir: t.TempDir()})
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{}, {Dir: t.TempDir(), SegmentBytes: -1}, {Dir: t.TempDir(), MaxBytes: -1}} {
		if _, err := Open(o); err == nil {
			t.Errorf("Open(%+v) succeeded", o)
		}
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	j, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if files := segFiles(t, dir); len(files) != 1 || filepath.Base(files[0]) != "00000000000000000001.seg" {
		t.Fatalf("new journal files: %v", files)
	}
}

// TestConcurrentConsumer runs appenders, a consumer that follows with Wait
// and Read, and truncation behind the consumer, all at once.
func TestConcurrentConsumer(t *testing.T) {
	rec := int64(headerSize + len("w0-0000"))
	j, _ := open(t, Options{Dir: t.TempDir(), SegmentBytes: 50 * rec})
	const workers, each = 8, 250
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	consumed := make(chan error, 1)
	go func() {
		var offset uint64 // last seq consumed
		for offset < workers*each {
			if err := j.Wait(ctx, offset); err != nil {
				consumed <- err
				return
			}
			recs, err := j.Read(offset+1, 100, 0)
			if err != nil {
				consumed <- err
				return
			}
			for _, r := range recs {
				if r.Seq != offset+1 {
					consumed <- fmt.Errorf("read seq %d after %d", r.Seq, offset)
					return
				}
				offset = r.Seq
			}
			if offset > j.LastSeq() {
				consumed <- fmt.Errorf("read seq %d beyond LastSeq %d", offset, j.LastSeq())
				return
			}
			if err := j.Truncate(offset + 1); err != nil {
				consumed <- err
				return
			}
		}
		consumed <- nil
	}()

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := j.Append(ctx, fmt.Appendf(nil, "w%d-%04d", w, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := <-consumed; err != nil {
		t.Fatal(err)
	}
	if first := j.FirstSeq(); first < workers*each-100 {
		t.Fatalf("FirstSeq = %d after truncating behind the consumer", first)
	}
}

// TestReadOnlyDurable: a record that is written but not yet fsync'd is
// invisible to Read, Wait and LastSeq.
func TestReadOnlyDurable(t *testing.T) {
	j, _ := open(t, Options{Dir: t.TempDir()})
	appendN(t, j, 1, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	j.syncFile = func(f *os.File) error {
		once.Do(func() { close(entered) })
		<-release
		return f.Sync()
	}
	done := make(chan error)
	go func() {
		_, err := j.Append(context.Background(), payload(2))
		done <- err
	}()
	<-entered // record 2 is written, its fsync is in progress
	if j.Size() != 2*int64(headerSize+len(payload(1))) {
		t.Fatalf("Size = %d: record 2 not written yet", j.Size())
	}
	checkRecords(t, read(t, j, 0, 0, 0), 1)
	checkRecords(t, read(t, j, 2, 0, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := j.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) || j.LastSeq() != 1 {
		t.Fatalf("Wait = %v, LastSeq %d: record 2 visible before its fsync", err, j.LastSeq())
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	j.syncFile = (*os.File).Sync
	checkRecords(t, read(t, j, 0, 0, 0), 1, 2)
}
