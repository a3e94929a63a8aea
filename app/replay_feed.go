package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/ingest"
	"github.com/vigia-noc/vigia/journal"
	"github.com/vigia-noc/vigia/pipeline"
	"github.com/vigia-noc/vigia/storage"
	"github.com/vigia-noc/vigia/storage/embedded"
)

// The replay feed: replay files go through the journal, the engine and the
// store as stages that overlap, where the live pipeline takes one batch at
// a time through all of them.
//
//	read ─► decode ×N ─► journal ─► engine ─► store
//	blocks   lines, in    appends    Process   Apply, then
//	of lines parallel     (fsync'd)  in order  journal truncation
//
// Order is kept: blocks are decoded in parallel but journaled in file order,
// and the engine takes every delivery in journal order, exactly as the
// pipeline would read them back. The engine is handed the decoded delivery
// itself (correlate.Journaled makes it what the journal gives back), so
// nothing is read back from the journal or decoded twice.
//
// What differs from live ingest is only the batching, and it leaves the
// result unchanged (the engine's output does not depend on when it is
// flushed; the store keeps the latest version of every row):
//   - journal appends are large (journalBatchBytes): one fsync per append,
//     where the pipeline would make one per request;
//   - a store transaction holds from feedMinBatch to feedMaxBatch
//     deliveries, more while the store is the slower stage (correlate), so
//     that the successive versions of an episode or incident are written
//     once, and the store's random indexes (the episodes' fingerprints) are
//     rewritten once per transaction rather than once per small batch. A
//     batch ends where the engine's clock enters a new UTC day, so that the
//     daily counts (correlate.Stats, per day of the batch's clock) are exact.
//
// Each store transaction is written only once the journal holds its
// deliveries, and the journal is truncated only once the store has them,
// as in the pipeline: a replay that is killed leaves a data directory that
// the next start (serve, replay or export) completes from the journal.

const (
	// feedBlockBytes is how much of a file one decoding task reads.
	feedBlockBytes = 1 << 20
	// journalBatchBytes is the size of one journal append (one fsync).
	journalBatchBytes = 8 << 20
	// A store transaction holds at least feedMinBatch deliveries (but for
	// the last ones, and at the end of a day) and at most feedMaxBatch.
	feedMinBatch = 16384
	feedMaxBatch = 131072
)

// feeder runs the stages over a core.
type feeder struct {
	journal *journal.Journal
	engine  *correlate.Engine
	store   pipeline.Store
	lim     ingest.Limits
	logger  *slog.Logger
	// offset is the last journal sequence the store holds.
	offset uint64
	// minBatch and maxBatch bound the deliveries of a store transaction.
	minBatch, maxBatch int
	// storeIdle is set while the store stage waits for a batch.
	storeIdle atomic.Bool
	// transactions counts the store transactions written.
	transactions int
	// appendBytes is the size of one journal append.
	appendBytes int
	// journaled and applied are the last journal sequences appended and
	// applied to the store (the journal is truncated up to it); progress
	// is signalled when applied moves, drain when the journal is full.
	journaled, applied atomic.Uint64
	progress, drain    chan struct{}
	workers            int
	// free recycles the blocks the decoders are done with.
	free chan []byte
}

// newFeeder returns a feeder for c, whose store holds the journal up to
// offset; journalBudget is the journal's disk budget (0: none).
func newFeeder(c *core, lim ingest.Limits, offset uint64, journalBudget int64, logger *slog.Logger) *feeder {
	workers := max(1, runtime.GOMAXPROCS(0))
	f := &feeder{journal: c.journal, engine: c.engine, store: c.store, lim: lim, logger: logger,
		offset: offset, minBatch: feedMinBatch, maxBatch: feedMaxBatch, workers: workers,
		free: make(chan []byte, 4*workers+8), appendBytes: journalBatchBytes,
		progress: make(chan struct{}, 1), drain: make(chan struct{}, 1)}
	if journalBudget > 0 {
		// Several appends fit in the budget besides the segment in use.
		f.appendBytes = int(min(int64(f.appendBytes), journalBudget/8))
	}
	f.journaled.Store(offset)
	f.applied.Store(offset)
	return f
}

// chunk is a block of lines of one file.
type chunk struct {
	name  string
	block []byte
	lines [][]byte
	nums  []int // line numbers, from 1
	// Set by a decoder, which then closes done.
	ds   []correlate.Delivery
	recs [][]byte
	err  error
	done chan struct{}
}

// journaled is a run of deliveries appended to the journal: the i-th has
// sequence first+i.
type journaled struct {
	ds    []correlate.Delivery
	first uint64
}

// storeBatch is one store transaction.
type storeBatch struct {
	cp storage.Checkpoint
	ch correlate.Changes
}

// check decodes every line of files and returns the first error, in file
// order, feeding nothing.
func (f *feeder) check(ctx context.Context, files []string) error {
	g, ctx := errgroup.WithContext(ctx)
	work, ordered := make(chan *chunk, 2*f.workers), make(chan *chunk, 4*f.workers)
	g.Go(func() error { return f.read(ctx, files, work, ordered) })
	for range f.workers {
		g.Go(func() error { return f.decode(ctx, work, false) })
	}
	g.Go(func() error {
		for c := range ordered {
			if err := waitChunk(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	return g.Wait()
}

// feed replays files into the core.
func (f *feeder) feed(ctx context.Context, files []string) error {
	g, ctx := errgroup.WithContext(ctx)
	work, ordered := make(chan *chunk, 2*f.workers), make(chan *chunk, 4*f.workers)
	toEngine, toStore := make(chan journaled, 2), make(chan []storeBatch)
	g.Go(func() error { return f.read(ctx, files, work, ordered) })
	for range f.workers {
		g.Go(func() error { return f.decode(ctx, work, true) })
	}
	g.Go(func() error { return f.append(ctx, ordered, toEngine) })
	g.Go(func() error { return f.correlate(ctx, toEngine, toStore) })
	g.Go(func() error { return f.write(ctx, toStore) })
	return g.Wait()
}

func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func waitChunk(ctx context.Context, c *chunk) error {
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *feeder) getBlock(n int) []byte {
	select {
	case b := <-f.free:
		if cap(b) >= n {
			return b[:cap(b)]
		}
	default:
	}
	return make([]byte, max(n, feedBlockBytes))
}

func (f *feeder) putBlock(b []byte) {
	if cap(b) > feedBlockBytes {
		return // grown for a long line: let it go
	}
	select {
	case f.free <- b:
	default:
	}
}

// read cuts files into blocks of whole lines and sends each block to the
// decoders (work) and, in file order, to the journal stage (ordered).
func (f *feeder) read(ctx context.Context, files []string, work, ordered chan<- *chunk) error {
	defer close(work)
	defer close(ordered)
	for _, name := range files {
		if err := f.readFile(ctx, name, work, ordered); err != nil {
			return err
		}
	}
	return nil
}

func (f *feeder) readFile(ctx context.Context, name string, work, ordered chan<- *chunk) error {
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer fh.Close()
	lineNo := 0
	var carry []byte // the start of a line that the previous block cut
	for {
		block := f.getBlock(2 * len(carry))
		n := copy(block, carry)
		m, rerr := io.ReadFull(fh, block[n:])
		block = block[:n+m]
		eof := errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF)
		if rerr != nil && !eof {
			return fmt.Errorf("%s:%d: %w", name, lineNo+1, rerr)
		}
		end := len(block)
		if !eof {
			end = bytes.LastIndexByte(block, '\n') + 1
		}
		carry = append(carry[:0], block[end:]...)
		if len(carry) > MaxReplayLine {
			return fmt.Errorf("%s:%d: line longer than %d bytes", name, lineNo+1, MaxReplayLine)
		}
		if end == 0 && !eof {
			f.putBlock(block)
			continue // no line ends in this block: read on
		}
		c := &chunk{name: name, block: block, done: make(chan struct{})}
		for rest := block[:end]; len(rest) > 0; {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			lineNo++
			line = bytes.TrimSuffix(line, []byte{'\r'})
			if len(line) > MaxReplayLine {
				return fmt.Errorf("%s:%d: line longer than %d bytes", name, lineNo, MaxReplayLine)
			}
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			c.lines = append(c.lines, line)
			c.nums = append(c.nums, lineNo)
		}
		if err := send(ctx, work, c); err != nil {
			return err
		}
		if err := send(ctx, ordered, c); err != nil {
			return err
		}
		if eof {
			return nil
		}
	}
}

// decode decodes the chunks of work; with journal set it also encodes each
// delivery for the journal and makes it what the journal gives back.
func (f *feeder) decode(ctx context.Context, work <-chan *chunk, journal bool) error {
	for c := range work {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f.decodeChunk(c, journal)
		close(c.done)
	}
	return nil
}

func (f *feeder) decodeChunk(c *chunk, journal bool) {
	defer func() {
		f.putBlock(c.block)
		c.block, c.lines = nil, nil
	}()
	if journal {
		c.ds = make([]correlate.Delivery, 0, len(c.lines))
		c.recs = make([][]byte, 0, len(c.lines))
	}
	for i, line := range c.lines {
		d, err := DecodeReplayLine(line, f.lim)
		if err != nil {
			c.err = fmt.Errorf("%s:%d: %w", c.name, c.nums[i], err)
			return
		}
		if !journal {
			continue
		}
		rec, err := correlate.EncodeDelivery(&d)
		if err != nil {
			c.err = fmt.Errorf("%s:%d: %w", c.name, c.nums[i], err)
			return
		}
		correlate.Journaled(&d)
		c.ds = append(c.ds, d)
		c.recs = append(c.recs, rec)
	}
}

// append journals the decoded chunks in file order, in appends of about
// appendBytes, and hands each run of durable deliveries on. When the
// journal is at its disk budget (journal.max_bytes), it waits for the store
// to take what the journal holds (the journal is truncated behind it), and
// asks the engine to hand over what it has meanwhile.
func (f *feeder) append(ctx context.Context, ordered <-chan *chunk, out chan<- journaled) error {
	defer close(out)
	var (
		ds   []correlate.Delivery
		recs [][]byte
		size int
	)
	flush := func() error {
		for len(recs) > 0 {
			n, sz := 0, 0
			for n < len(recs) && (n == 0 || sz+len(recs[n]) <= f.appendBytes) {
				sz += len(recs[n])
				n++
			}
			last, err := f.appendDurable(ctx, recs[:n])
			if err != nil {
				return err
			}
			f.journaled.Store(last)
			if err := send(ctx, out, journaled{ds: ds[:n], first: last - uint64(n) + 1}); err != nil {
				return err
			}
			ds, recs = ds[n:], recs[n:]
		}
		ds, recs, size = nil, nil, 0
		return nil
	}
	for c := range ordered {
		if err := waitChunk(ctx, c); err != nil {
			return err
		}
		ds = append(ds, c.ds...)
		recs = append(recs, c.recs...)
		for _, r := range c.recs {
			size += len(r)
		}
		c.ds, c.recs = nil, nil
		if size >= f.appendBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return flush()
}

// appendDurable appends recs to the journal; at the journal's disk budget it
// waits for the store to apply (and the journal to drop) what the journal
// holds, then tries again.
func (f *feeder) appendDurable(ctx context.Context, recs [][]byte) (uint64, error) {
	for {
		last, err := f.journal.AppendBatch(ctx, recs)
		if !errors.Is(err, journal.ErrFull) || f.applied.Load() >= f.journaled.Load() {
			if err != nil {
				return 0, fmt.Errorf("replay: journal: %w", err)
			}
			return last, nil
		}
		applied := f.applied.Load()
		select {
		case f.drain <- struct{}{}:
		default:
		}
		for f.applied.Load() == applied {
			select {
			case <-f.progress:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
	}
}

// utcDay is the UTC day of t, in days since 1970-01-01.
func utcDay(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// correlate runs the engine over the journaled deliveries in order and
// hands its changes to the store in batches, then resolves what the end of
// the recording leaves pending, as the pipeline's CatchUp and Drain do.
//
// A batch grows while the store is busy with the previous one, and is handed
// over once the store is free and it holds feedMinBatch deliveries: when
// the store is the slower stage, its transactions grow (and with them the
// share of rows and index pages written once for several changes); at the
// end of the recording, they are small. A batch also ends where the
// engine's clock enters a new UTC day; the batches closed while the store
// is busy go to it together, in one transaction. Whatever waits for the
// store is bounded by feedMaxBatch deliveries.
func (f *feeder) correlate(ctx context.Context, in <-chan journaled, out chan<- []storeBatch) error {
	defer close(out)
	e := f.engine
	var (
		last    = f.offset
		n       int // deliveries in the open batch
		waiting int // deliveries in queue
		queue   []storeBatch
	)
	cut := func() {
		ch := e.Flush()
		inc, ep := e.NextIDs()
		queue = append(queue, storeBatch{
			cp: storage.Checkpoint{Offset: last, Clock: e.Clock(), NextIncidentSeq: inc, NextEpisodeID: ep},
			ch: ch,
		})
		waiting += n
		n = 0
	}
	handOver := func() error {
		err := send(ctx, out, queue)
		queue, waiting = nil, 0
		return err
	}
	for {
		var run journaled
		select {
		case r, ok := <-in:
			if !ok {
				return f.finish(ctx, cut, handOver)
			}
			run = r
		case <-f.drain:
			// The journal is full: the store must take what is open.
			if len(queue) > 0 || n > 0 {
				cut()
				if err := handOver(); err != nil {
					return err
				}
			}
			continue
		case <-ctx.Done():
			return ctx.Err()
		}
		for i := range run.ds {
			d := &run.ds[i]
			if n > 0 && d.ReceivedAt.After(e.Clock()) && utcDay(d.ReceivedAt) != utcDay(e.Clock()) {
				cut()
			}
			e.Process(d)
			run.ds[i] = correlate.Delivery{}
			last, n = run.first+uint64(i), n+1
			if total := waiting + n; total >= f.maxBatch || total >= f.minBatch && f.storeIdle.Load() {
				cut()
				if err := handOver(); err != nil {
					return err
				}
			}
		}
	}
}

// finish resolves what the end of the recording leaves pending, as the
// pipeline's CatchUp and Drain do, and hands the last batches over.
func (f *feeder) finish(ctx context.Context, cut func(), handOver func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.engine.FlushRepeats()
	cut()
	f.engine.Drain()
	cut()
	return handOver()
}

// write applies the batches to the store and truncates the journal behind
// them. The embedded store takes the batches handed over together in one
// transaction.
func (f *feeder) write(ctx context.Context, in <-chan []storeBatch) error {
	grouped, _ := f.store.(interface {
		ApplyBatches(context.Context, []embedded.Batch) error
	})
	for {
		f.storeIdle.Store(true)
		bs, ok := <-in
		f.storeIdle.Store(false)
		if !ok {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if grouped != nil {
			eb := make([]embedded.Batch, len(bs))
			for i, b := range bs {
				eb[i] = embedded.Batch{Checkpoint: b.cp, Changes: b.ch}
			}
			if err := grouped.ApplyBatches(ctx, eb); err != nil {
				return fmt.Errorf("replay: store: %w", err)
			}
		} else {
			for _, b := range bs {
				if err := f.store.Apply(ctx, b.cp, b.ch); err != nil {
					return fmt.Errorf("replay: store: %w", err)
				}
			}
		}
		f.transactions++
		offset := bs[len(bs)-1].cp.Offset
		if err := f.journal.Truncate(offset + 1); err != nil {
			f.logger.Warn("journal truncation failed", "err", err)
		}
		f.applied.Store(offset)
		select {
		case f.progress <- struct{}{}:
		default:
		}
	}
}
