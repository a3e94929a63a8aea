package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Errors returned by the journal. Test with errors.Is: they are usually wrapped.
var (
	// ErrFull means the disk budget (Options.MaxBytes) or the disk itself is
	// exhausted. It is temporary: Truncate frees space.
	ErrFull     = errors.New("journal: disk budget exhausted")
	ErrClosed   = errors.New("journal: closed")
	ErrTooLarge = fmt.Errorf("journal: payload larger than %d bytes", MaxPayload)
)

// DefaultSegmentBytes is the segment size used when Options.SegmentBytes is 0.
const DefaultSegmentBytes = 64 << 20

// Options configures a Journal.
type Options struct {
	Dir          string // required; created if missing
	SegmentBytes int64  // start a new segment when a record would not fit; 0 = DefaultSegmentBytes
	// MaxBytes is the disk budget for all segments, framing included;
	// 0 = unlimited. Appends beyond it fail with ErrFull.
	MaxBytes   int64
	Logger     *slog.Logger          // nil = discard
	Registerer prometheus.Registerer // nil = no metrics
}

// Record is one journal entry.
type Record struct {
	Seq     uint64
	Payload []byte
}

// Journal is an append-only log of records. See the package documentation.
type Journal struct {
	dir      string
	segBytes int64
	maxBytes int64
	log      *slog.Logger
	m        *metrics

	// I/O used by the write path, replaceable by tests to inject faults.
	writeAt  func(f *os.File, b []byte, off int64) (int, error)
	syncFile func(f *os.File) error

	// syncSem is the sync lock, a one-slot semaphore so that waiting for it
	// can be abandoned. Lock order: syncSem, then mu.
	syncSem chan struct{}

	mu       sync.Mutex
	segs     []*segment // in seq order; the last one is active
	unsynced []*os.File // files of sealed segments still to be fsync'd and closed
	nextSeq  uint64
	size     int64
	closed   bool
	failed   error // sticky: the files' state is uncertain, refuse to write

	durable atomic.Uint64 // last durable seq; advanced only under syncSem

	nmu    sync.Mutex
	notify chan struct{} // closed (and replaced) whenever durable advances
	shut   bool          // notify is closed for good: the journal is closed
}

// Open opens the journal in opts.Dir, creating the directory if needed, and
// recovers what a crash may have left: every record is verified, a torn tail
// is cut off, and corrupted records are skipped and reported. All recovered
// records are durable when Open returns.
func Open(opts Options) (*Journal, error) {
	switch {
	case opts.Dir == "":
		return nil, errors.New("journal: Options.Dir is required")
	case opts.SegmentBytes < 0:
		return nil, errors.New("journal: Options.SegmentBytes must not be negative")
	case opts.MaxBytes < 0:
		return nil, errors.New("journal: Options.MaxBytes must not be negative")
	}
	if opts.SegmentBytes == 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	j := &Journal{
		dir:      opts.Dir,
		segBytes: opts.SegmentBytes,
		maxBytes: opts.MaxBytes,
		log:      log.With("component", "journal"),
		writeAt:  (*os.File).WriteAt,
		syncFile: (*os.File).Sync,
		syncSem:  make(chan struct{}, 1),
		notify:   make(chan struct{}),
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	corrupted, err := j.recover()
	if err != nil {
		if a := j.segs; len(a) > 0 && a[len(a)-1].f != nil {
			a[len(a)-1].f.Close()
		}
		return nil, fmt.Errorf("journal: recover %s: %w", opts.Dir, err)
	}
	// Register metrics only once Open can no longer fail, so that a retry
	// with the same registry does not panic.
	j.m = newMetrics(opts.Registerer)
	j.m.corrupted.Add(float64(corrupted))
	j.m.size.Set(float64(j.size))
	j.m.segments.Set(float64(len(j.segs)))
	j.m.lastSeq.Set(float64(j.durable.Load()))
	j.log.Info("journal opened", "dir", j.dir, "segments", len(j.segs), "bytes", j.size,
		"first_seq", j.FirstSeq(), "last_seq", j.LastSeq(), "corrupted", corrupted)
	return j, nil
}

// recover loads the segments in j.dir and opens the last one for writing,
// creating it if there is none. It returns the number of corrupted regions.
func (j *Journal) recover() (corrupted int, err error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return 0, err
	}
	var bases []uint64
	for _, e := range entries {
		base, ok := parseSegName(e.Name())
		if ok && e.Type().IsRegular() {
			bases = append(bases, base)
		} else if strings.HasSuffix(e.Name(), segSuffix) {
			j.log.Warn("ignoring file that is not a segment", "file", e.Name())
		}
	}
	slices.Sort(bases)

	var prev uint64 // seqs must keep increasing across segments
	tails := make([]int64, len(bases))
	for i, base := range bases {
		seg, tail, err := j.recoverSegment(base, prev)
		if err != nil {
			return 0, err
		}
		corrupted += seg.corrupted
		tails[i] = tail
		j.segs = append(j.segs, &seg.segment)
		j.size += seg.size
		prev = max(prev, seg.last)
	}
	// A segment that ends in invalid bytes with no record surviving after it
	// was torn by a crash. Otherwise the bytes were most likely durable
	// records lost to corruption (or, rarely, a crash just after a rotation
	// that wrote the new segment out before the end of the old one).
	recordsAfter := false
	for i := len(tails) - 1; i >= 0; i-- {
		if tail := tails[i]; tail > 0 {
			args := []any{"segment", j.segs[i].path, "offset", j.segs[i].size, "bytes", tail}
			if recordsAfter {
				corrupted++
				j.log.Error("truncated corrupted end of segment; later records are intact", args...)
			} else {
				j.log.Warn("truncated torn tail", args...)
			}
		}
		recordsAfter = recordsAfter || j.segs[i].last != 0
	}

	j.nextSeq = prev + 1
	if n := len(j.segs); n > 0 {
		// An empty last segment is named after the next seq to hand out.
		active := j.segs[n-1]
		j.nextSeq = max(j.nextSeq, active.base)
		if active.f, err = os.OpenFile(active.path, os.O_RDWR, 0); err != nil {
			return 0, err
		}
	} else if err := j.createSegment(); err != nil {
		return 0, err
	}
	j.durable.Store(prev)
	return corrupted, syncDir(j.dir)
}

type recovered struct {
	segment
	corrupted int
}

// recoverSegment scans one segment file, truncates invalid trailing bytes
// (returning how many) and fsyncs it. Records must have seqs above prev.
func (j *Journal) recoverSegment(base, prev uint64) (seg recovered, tail int64, err error) {
	seg.base, seg.path = base, segPath(j.dir, base)
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return seg, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return seg, 0, err
	}
	sc := newScanner(f, 0, fi.Size(), max(prev, base-1))
	for sc.next() {
		if sc.badFrom >= 0 {
			seg.corrupted++
			j.log.Error("skipped corrupted record(s)", "segment", seg.path, "offset", sc.badFrom,
				"bytes", sc.recOff-sc.badFrom, "resumed_at_seq", sc.seq)
		}
		seg.add(sc.seq, sc.recOff, headerSize+int64(len(sc.payload)))
	}
	if sc.err != nil {
		return seg, 0, sc.err
	}
	seg.size = fi.Size()
	if sc.badFrom >= 0 {
		tail, seg.size = fi.Size()-sc.badFrom, sc.badFrom
		if err := f.Truncate(seg.size); err != nil {
			return seg, 0, err
		}
	}
	// What a crashed process wrote may still be only in the page cache.
	return seg, tail, f.Sync()
}

// createSegment starts a new active segment named after j.nextSeq. The
// previous active segment, if any, is sealed; its file waits in j.unsynced
// for the next fsync. Called with j.mu held (or before j is shared).
func (j *Journal) createSegment() error {
	path := segPath(j.dir, j.nextSeq)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return ioError("create segment", err)
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		os.Remove(path)
		return ioError("create segment", err)
	}
	if n := len(j.segs); n > 0 {
		j.unsynced = append(j.unsynced, j.segs[n-1].f)
		j.segs[n-1].f = nil
	}
	j.segs = append(j.segs, &segment{base: j.nextSeq, path: path, f: f})
	return nil
}

// ioError wraps err, adding ErrFull when the disk or quota is full.
func ioError(op string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w (%s: %w)", ErrFull, op, err)
	}
	return fmt.Errorf("journal: %s: %w", op, err)
}

// Append appends payload as one record and returns its seq once the record
// is durable. The journal does not retain payload.
//
// If ctx ends first, Append returns ctx.Err(); the record may then still
// become durable, so the caller must treat it as not acknowledged, not as
// absent.
func (j *Journal) Append(ctx context.Context, payload []byte) (seq uint64, err error) {
	return j.AppendBatch(ctx, [][]byte{payload})
}

// AppendBatch appends payloads as consecutive records with a single fsync
// and returns the seq of the last one; the first is lastSeq-len(payloads)+1.
// On error no record of the batch is acknowledged (though after a crash a
// prefix of an unacknowledged batch may be recovered). An empty batch
// returns 0, nil.
func (j *Journal) AppendBatch(ctx context.Context, payloads [][]byte) (lastSeq uint64, err error) {
	if len(payloads) == 0 {
		return 0, nil
	}
	total := 0
	for _, p := range payloads {
		if len(p) > MaxPayload {
			return 0, ErrTooLarge
		}
		total += headerSize + len(p)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// Frame outside the lock; headers are filled in once seqs are known.
	buf := make([]byte, total)
	off := 0
	for _, p := range payloads {
		frame(buf[off:], p)
		off += headerSize + len(p)
	}
	last, err := j.write(buf, len(payloads))
	if err != nil {
		return 0, err
	}
	if err := j.waitDurable(ctx, last); err != nil {
		return 0, err
	}
	j.m.appends.Add(float64(len(payloads)))
	j.m.bytes.Add(float64(total))
	return last, nil
}

// write assigns seqs to the n framed records in buf and writes them to the
// active segment, without syncing. It returns the last seq.
func (j *Journal) write(buf []byte, n int) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.closed:
		return 0, ErrClosed
	case j.failed != nil:
		return 0, j.failed
	case j.nextSeq+uint64(n) > maxSeq:
		return 0, errors.New("journal: sequence numbers exhausted")
	case j.maxBytes > 0 && j.size+int64(len(buf)) > j.maxBytes:
		return 0, fmt.Errorf("%w: %d of %d bytes used, %d more needed", ErrFull, j.size, j.maxBytes, len(buf))
	}
	if a := j.segs[len(j.segs)-1]; a.size > 0 && a.size+int64(len(buf)) > j.segBytes {
		if err := j.createSegment(); err != nil {
			return 0, err
		}
		j.m.segments.Set(float64(len(j.segs)))
	}
	a := j.segs[len(j.segs)-1]
	seq := j.nextSeq
	offs := make([]int64, n+1) // record boundaries within buf
	for i := range n {
		offs[i+1] = offs[i] + int64(seal(buf[offs[i]:], seq+uint64(i)))
	}
	if _, err := j.writeAt(a.f, buf, a.size); err != nil {
		// Leave no partial record behind: the next append would follow it.
		if terr := a.f.Truncate(a.size); terr != nil {
			j.failed = fmt.Errorf("journal: segment %s may hold a partial record: %w", a.path, terr)
			j.log.Error("journal unusable until reopened", "err", j.failed)
		}
		return 0, ioError("write", err)
	}
	base := a.size
	for i := range n {
		a.add(seq+uint64(i), base+offs[i], offs[i+1]-offs[i])
	}
	j.nextSeq += uint64(n)
	j.size += int64(len(buf))
	j.m.size.Set(float64(j.size))
	return j.nextSeq - 1, nil
}

// waitDurable returns once seq is durable. The caller that wins the sync lock
// while seq is not yet durable becomes the leader and fsyncs on behalf of
// everyone who has written so far; the others wait for its broadcast.
func (j *Journal) waitDurable(ctx context.Context, seq uint64) error {
	for {
		ch, shut := j.watch()
		if j.durable.Load() >= seq {
			return nil
		}
		if shut {
			return j.closedErr()
		}
		select {
		case j.syncSem <- struct{}{}:
			err := j.syncLocked(seq)
			<-j.syncSem
			if err != nil {
				return err
			}
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// watch returns the channel that will be closed when durable next advances,
// and whether the journal has been closed. Load it before reading durable.
func (j *Journal) watch() (<-chan struct{}, bool) {
	j.nmu.Lock()
	defer j.nmu.Unlock()
	return j.notify, j.shut
}

// Changed returns a channel that is closed when the durable seq next
// advances or the journal closes. Take it before reading LastSeq, so that
// no advance is missed; it lets a consumer wait in a select.
func (j *Journal) Changed() <-chan struct{} {
	ch, _ := j.watch()
	return ch
}

func (j *Journal) closedErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed != nil {
		return j.failed
	}
	return ErrClosed
}

// syncLocked fsyncs everything written so far, unless seq is already
// durable, and publishes the new durable seq. The caller holds syncSem.
func (j *Journal) syncLocked(seq uint64) error {
	if j.durable.Load() >= seq {
		return nil
	}
	j.mu.Lock()
	if err := j.failed; err != nil {
		j.mu.Unlock()
		return err
	}
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	target := j.nextSeq - 1
	files := append(j.unsynced, j.segs[len(j.segs)-1].f)
	j.unsynced = nil
	j.mu.Unlock()

	// Writers go on appending to the active file meanwhile; their records
	// are not covered by target and wait for the next leader.
	err := j.syncFiles(files)
	for _, f := range files[:len(files)-1] { // sealed: no more writes
		f.Close()
	}
	if err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages:
		// what is on disk is unknown, so refuse further writes.
		j.mu.Lock()
		j.failed = fmt.Errorf("%w; journal unusable until reopened", ioError("fsync", err))
		err = j.failed
		j.mu.Unlock()
		j.log.Error("fsync failed", "err", err)
		return err
	}
	j.publish(target)
	return nil
}

func (j *Journal) syncFiles(files []*os.File) error {
	start := time.Now()
	defer func() { j.m.fsyncDur.Observe(time.Since(start).Seconds()) }()
	for _, f := range files {
		j.m.fsyncs.Inc()
		if err := j.syncFile(f); err != nil {
			return err
		}
	}
	return nil
}

// publish makes records up to seq visible and wakes waiters. The caller
// holds syncSem.
func (j *Journal) publish(seq uint64) {
	j.durable.Store(seq)
	j.m.lastSeq.Set(float64(seq))
	j.nmu.Lock()
	defer j.nmu.Unlock()
	if !j.shut {
		close(j.notify)
		j.notify = make(chan struct{})
	}
}

// Read returns durable records with Seq >= from, in order, at most
// maxRecords of them and at most maxBytes of payload, but always at least
// one record if any is available (limits <= 0 mean no limit). If from is
// below FirstSeq, reading starts at FirstSeq. The result is empty, not nil,
// when there is nothing to read yet. Payloads belong to the caller.
func (j *Journal) Read(from uint64, maxRecords int, maxBytes int) ([]Record, error) {
	durable := j.durable.Load()
	out := []Record{}
	type view struct {
		path  string
		end   int64
		start int64
		prev  uint64
	}
	var views []view
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return out, ErrClosed
	}
	from = max(from, 1)
	for _, s := range j.segs {
		if from <= durable && s.last >= from && s.first <= durable {
			off, prev := s.start(from)
			views = append(views, view{s.path, s.size, off, prev})
		}
	}
	j.mu.Unlock()

	n := 0 // payload bytes in out
	for _, v := range views {
		f, err := os.Open(v.path)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed by a concurrent Truncate
		} else if err != nil {
			return out, fmt.Errorf("journal: read: %w", err)
		}
		sc := newScanner(f, v.start, v.end, v.prev)
		full := false
		for !full && sc.next() && sc.seq <= durable {
			if sc.seq < from {
				continue
			}
			full = len(out) > 0 && (maxRecords > 0 && len(out) >= maxRecords ||
				maxBytes > 0 && n+len(sc.payload) > maxBytes)
			if !full {
				out = append(out, Record{Seq: sc.seq, Payload: slices.Clone(sc.payload)})
				n += len(sc.payload)
			}
		}
		f.Close()
		if sc.err != nil {
			return out, fmt.Errorf("journal: read %s: %w", v.path, sc.err)
		}
		if full || sc.seq > durable {
			break
		}
	}
	return out, nil
}

// Wait blocks until a durable record with Seq > after exists, ctx is done
// (returning ctx.Err()) or the journal is closed (returning ErrClosed).
func (j *Journal) Wait(ctx context.Context, after uint64) error {
	for {
		ch, shut := j.watch()
		if j.durable.Load() > after {
			return nil
		}
		if shut {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// LastSeq returns the seq of the last durable record, 0 if there has never
// been one.
func (j *Journal) LastSeq() uint64 { return j.durable.Load() }

// FirstSeq returns the seq of the first retained durable record, 0 if there
// is none.
func (j *Journal) FirstSeq() uint64 {
	durable := j.durable.Load()
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range j.segs {
		if s.first != 0 {
			if s.first > durable {
				return 0
			}
			return s.first
		}
	}
	return 0
}

// Truncate deletes the oldest segments whose records all have Seq < before
// and are durable. The active segment is never deleted, so up to one
// segment's worth of records below before may remain.
func (j *Journal) Truncate(before uint64) error {
	durable := j.durable.Load()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	var err error
	n := 0
	for ; n < len(j.segs)-1; n++ {
		s := j.segs[n]
		if s.last >= before || s.last > durable {
			break
		}
		// Removing under the lock keeps Size honest: unlink is cheap.
		if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("journal: truncate: %w", rerr)
			break
		}
		j.size -= s.size
	}
	j.segs = slices.Delete(j.segs, 0, n)
	j.m.size.Set(float64(j.size))
	j.m.segments.Set(float64(len(j.segs)))
	j.mu.Unlock()
	if n == 0 {
		return err
	}
	j.log.Debug("truncated", "before", before, "segments_removed", n)
	if serr := syncDir(j.dir); serr != nil {
		err = errors.Join(err, fmt.Errorf("journal: truncate: %w", serr))
	}
	return err
}

// Size returns the bytes on disk in all segments.
func (j *Journal) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size
}

// Close waits for an in-flight fsync, makes everything written durable and
// closes the files. Appends and Reads fail with ErrClosed afterwards, and
// Wait returns ErrClosed. Closing twice is a no-op.
func (j *Journal) Close() error {
	j.syncSem <- struct{}{}
	defer func() { <-j.syncSem }()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	files := append(j.unsynced, j.segs[len(j.segs)-1].f)
	j.unsynced, j.segs[len(j.segs)-1].f = nil, nil
	target, failed := j.nextSeq-1, j.failed
	j.mu.Unlock()

	err := failed
	if failed == nil && target > j.durable.Load() {
		if err = j.syncFiles(files); err == nil {
			j.durable.Store(target)
			j.m.lastSeq.Set(float64(target))
		}
	}
	for _, f := range files {
		err = errors.Join(err, f.Close())
	}
	j.nmu.Lock()
	j.shut = true
	close(j.notify)
	j.nmu.Unlock()
	if err != nil {
		return fmt.Errorf("journal: close: %w", err)
	}
	return nil
}
