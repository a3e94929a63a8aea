package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/journal"
	"github.com/vigia-noc/vigia/storage"
)

// Log is the part of the journal the pipeline reads.
type Log interface {
	Read(from uint64, maxRecords, maxBytes int) ([]journal.Record, error)
	Changed() <-chan struct{}
	LastSeq() uint64
	Truncate(before uint64) error
}

// Store is the part of a store the pipeline writes.
type Store interface {
	LoadState(ctx context.Context, epRetention, incRetention time.Duration) (storage.Checkpoint, correlate.State, error)
	Apply(ctx context.Context, cp storage.Checkpoint, ch correlate.Changes) error
}

// Options configure a Pipeline.
type Options struct {
	Journal Log
	Store   Store
	Engine  *correlate.Engine
	// Now is the wall clock used to advance the engine while idle (serve
	// mode); nil never advances it (replay mode).
	Now func() time.Time
	// Tick is how often the idle engine is advanced; default 1s.
	Tick time.Duration
	// BatchRecords caps the journal records applied in one store transaction.
	BatchRecords int
	// Linger is how long Run lets the journal fill after a partial batch
	// before it reads the next one: under a steady stream the store then
	// gets fewer, larger writes (each a transaction and an fsync) and the
	// CPU goes to ingest, at the cost of up to Linger of delay from
	// acknowledgement to incident. 0: read again at once.
	Linger time.Duration
	// TruncateJournal deletes journal segments once applied.
	TruncateJournal bool
	// OnCommit, if set, is called with every batch of changes once the
	// store has it (notifications); it must not block.
	OnCommit   func(correlate.Changes)
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Pipeline moves records from the journal through the engine into the store.
type Pipeline struct {
	opts    Options
	logger  *slog.Logger
	m       *metrics
	applied atomic.Uint64
	loaded  atomic.Bool
	// unwritten are changes the engine made that the store has not taken
	// yet; only the goroutine driving the engine touches it.
	unwritten []pendingWrite
	// read is the last journal sequence fed to the engine.
	read uint64
	cmds chan command
}

// New checks the options and returns a pipeline; it starts nothing.
func New(opts Options) (*Pipeline, error) {
	switch {
	case opts.Journal == nil:
		return nil, errors.New("pipeline: Options.Journal is required")
	case opts.Store == nil:
		return nil, errors.New("pipeline: Options.Store is required")
	case opts.Engine == nil:
		return nil, errors.New("pipeline: Options.Engine is required")
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.BatchRecords <= 0 {
		opts.BatchRecords = 512
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Pipeline{opts: opts, logger: logger.With("component", "pipeline"), m: newMetrics(opts.Registerer),
		cmds: make(chan command)}
	// Read at every scrape: it grows while a store write is slow or failing.
	promauto.With(opts.Registerer).NewGaugeFunc(prometheus.GaugeOpts{Namespace: "vigia", Subsystem: "journal",
		Name: "backlog_records", Help: "Durable journal records not yet applied to the store."},
		func() float64 { b, _ := p.Backlog(); return float64(b) })
	return p, nil
}

// Applied returns the last journal sequence applied to the store.
func (p *Pipeline) Applied() uint64 { return p.applied.Load() }

// Backlog returns how many durable journal records are not applied yet, and
// whether the state has been loaded at all.
func (p *Pipeline) Backlog() (uint64, bool) {
	last, applied := p.opts.Journal.LastSeq(), p.applied.Load()
	if last < applied {
		return 0, p.loaded.Load()
	}
	return last - applied, p.loaded.Load()
}

// Load restores the engine from the store. Run calls it; CatchUp too.
func (p *Pipeline) load(ctx context.Context) error {
	if p.loaded.Load() {
		return nil
	}
	epRet, incRet := p.opts.Engine.Retention()
	cp, st, err := p.opts.Store.LoadState(ctx, epRet, incRet)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	p.opts.Engine.Restore(st)
	p.applied.Store(cp.Offset)
	p.read = cp.Offset
	p.loaded.Store(true)
	p.logger.Info("state restored", "offset", cp.Offset, "episodes", len(st.Episodes), "incidents", len(st.Incidents))
	return nil
}

// Run applies records as they become durable, and runs the commands sent
// with Do, until ctx is done. Between batches it advances the engine's clock
// with Now, so that incidents resolve on time while no alerts arrive.
func (p *Pipeline) Run(ctx context.Context) error {
	// The store may be down when the server starts: the journal keeps the
	// deliveries meanwhile, so keep trying.
	for backoff := 100 * time.Millisecond; ; backoff = min(backoff*2, 10*time.Second) {
		err := p.load(ctx)
		if err == nil {
			break
		}
		p.m.storeErrors.Inc()
		p.logger.Error("loading the state from the store failed; retrying", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
	}
	tick := time.NewTicker(p.opts.Tick)
	defer tick.Stop()
	for {
		changed := p.opts.Journal.Changed()
		n, err := p.step(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if n > 0 {
			p.runCommands(ctx)
			if n < p.opts.BatchRecords && p.opts.Linger > 0 {
				p.linger(ctx)
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case c := <-p.cmds:
			p.runCommand(ctx, c)
		case <-tick.C:
			if p.opts.Now != nil {
				p.opts.Engine.Advance(p.opts.Now())
				if err := p.commit(ctx, p.read); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
			}
		}
	}
}

// command is a function run on the goroutine that owns the engine.
// linger waits Linger, serving the commands that arrive meanwhile.
func (p *Pipeline) linger(ctx context.Context) {
	t := time.NewTimer(p.opts.Linger)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			return
		case c := <-p.cmds:
			p.runCommand(ctx, c)
		}
	}
}

type command struct {
	fn   func(*correlate.Engine) error
	done chan error
}

// Do runs fn on the goroutine that owns the engine, between two batches,
// commits what fn changed, and returns fn's error (or the commit's). It is
// how analyst actions and topology changes reach the engine.
func (p *Pipeline) Do(ctx context.Context, fn func(*correlate.Engine) error) error {
	c := command{fn: fn, done: make(chan error, 1)}
	select {
	case p.cmds <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pipeline) runCommands(ctx context.Context) {
	for {
		select {
		case c := <-p.cmds:
			p.runCommand(ctx, c)
		default:
			return
		}
	}
}

func (p *Pipeline) runCommand(ctx context.Context, c command) {
	err := c.fn(p.opts.Engine)
	if cerr := p.commit(ctx, p.read); cerr != nil && err == nil {
		err = cerr
	}
	c.done <- err
}

// CatchUp applies every durable record and returns, with every pending
// repeat counter written.
func (p *Pipeline) CatchUp(ctx context.Context) error {
	if err := p.load(ctx); err != nil {
		return err
	}
	for {
		n, err := p.step(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			p.opts.Engine.FlushRepeats()
			return p.commit(ctx, p.read)
		}
	}
}

// Drain resolves what a finished replay leaves pending and commits it.
func (p *Pipeline) Drain(ctx context.Context) error {
	p.opts.Engine.Drain()
	return p.commit(ctx, p.read)
}

// step applies one batch of records; it returns how many it applied.
func (p *Pipeline) step(ctx context.Context) (int, error) {
	from := p.read + 1
	recs, err := p.opts.Journal.Read(from, p.opts.BatchRecords, 16<<20)
	if err != nil {
		return 0, fmt.Errorf("pipeline: read journal: %w", err)
	}
	if len(recs) == 0 {
		return 0, nil
	}
	start := time.Now()
	last := from - 1
	var oldest time.Time
	for _, r := range recs {
		last = r.Seq
		d, err := correlate.DecodeDelivery(r.Payload)
		if err != nil {
			p.m.undecodable.Inc()
			p.logger.Error("skipping undecodable journal record", "seq", r.Seq, "err", err)
			continue
		}
		if oldest.IsZero() || d.ReceivedAt.Before(oldest) {
			oldest = d.ReceivedAt
		}
		p.opts.Engine.Process(&d)
		p.m.deliveries.Inc()
		p.m.alerts.Add(float64(len(d.Alerts)))
	}
	p.read = last
	if err := p.commit(ctx, last); err != nil {
		return 0, err
	}
	p.m.batchDuration.Observe(time.Since(start).Seconds())
	p.m.batchRecords.Observe(float64(len(recs)))
	if p.opts.Now != nil && !oldest.IsZero() {
		// Serve mode: received_at is the wall clock, so this is how long
		// the batch's oldest delivery took to reach the store.
		p.m.applyLatency.Observe(max(0, p.opts.Now().Sub(oldest).Seconds()))
	}
	if p.opts.TruncateJournal {
		if err := p.opts.Journal.Truncate(last + 1); err != nil {
			p.logger.Warn("journal truncation failed", "err", err)
		}
	}
	return len(recs), nil
}

// commit writes the engine's pending changes with the checkpoint. A failed
// write is retried with backoff; if ctx ends first, the changes are kept
// and written ahead of the next commit, because the engine has already
// moved past them.
func (p *Pipeline) commit(ctx context.Context, offset uint64) error {
	ch := p.opts.Engine.Flush()
	if ch.Empty() && offset == p.applied.Load() && len(p.unwritten) == 0 {
		return nil
	}
	inc, ep := p.opts.Engine.NextIDs()
	p.unwritten = append(p.unwritten, pendingWrite{
		cp: storage.Checkpoint{Offset: offset, Clock: p.opts.Engine.Clock(), NextIncidentSeq: inc, NextEpisodeID: ep},
		ch: ch,
	})
	backoff := 100 * time.Millisecond
	for len(p.unwritten) > 0 {
		w := p.unwritten[0]
		// The write itself is not cancelled half-way: a shutdown waits for it.
		err := p.opts.Store.Apply(context.WithoutCancel(ctx), w.cp, w.ch)
		if err == nil {
			p.unwritten = p.unwritten[1:]
			p.applied.Store(w.cp.Offset)
			p.committed(w.ch)
			backoff = 100 * time.Millisecond
			continue
		}
		p.m.storeErrors.Inc()
		p.logger.Error("store write failed; retrying", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return fmt.Errorf("pipeline: store write: %w", err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	p.unwritten = nil
	p.m.applied.Set(float64(offset))
	p.m.open.Reset()
	for k, n := range p.opts.Engine.OpenByStatusPriority() {
		p.m.open.WithLabelValues(k[0], k[1]).Set(float64(n))
	}
	p.m.activeEpisodes.Set(float64(p.opts.Engine.ActiveEpisodes()))
	p.m.openIncidents.Set(float64(p.opts.Engine.OpenIncidents()))
	return nil
}

// pendingWrite is a batch of changes not yet in the store.
type pendingWrite struct {
	cp storage.Checkpoint
	ch correlate.Changes
}

// committed counts what a written batch holds and hands it to OnCommit.
func (p *Pipeline) committed(ch correlate.Changes) {
	for i := range ch.Episodes {
		if x := ch.Episodes[i].Explanation; x != nil && ch.Episodes[i].Version == 1 {
			p.m.joins.WithLabelValues(x.Method).Inc()
		}
	}
	for _, f := range ch.Feedback {
		p.m.feedback.WithLabelValues(f.Method, f.Rule, f.Decision).Inc()
	}
	for _, ev := range ch.Events {
		switch ev.Kind {
		case "opened", "sla_at_risk", "sla_breached", "escalated":
			p.m.events.WithLabelValues(ev.Kind).Inc()
		}
	}
	if p.opts.OnCommit != nil {
		p.opts.OnCommit(ch)
	}
}
