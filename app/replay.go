package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/vigia-noc/vigia/config"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/export"
	"github.com/vigia-noc/vigia/ingest"
	"github.com/vigia-noc/vigia/topology"
)

// ReplayLine is one line of a replay file (contract §3).
type ReplayLine struct {
	ReceivedAt time.Time        `json:"received_at"`
	Source     correlate.Source `json:"source"`
	Body       json.RawMessage  `json:"body"`
}

// replayWriterCacheMiB is the embedded store writer's page cache during a
// replay.
const replayWriterCacheMiB = 256

// MaxReplayLine bounds one line of a replay file.
const MaxReplayLine = 64 << 20

// DecodeReplayLine parses and validates one replay line into a delivery,
// with the same checks as the ingest endpoints.
func DecodeReplayLine(line []byte, lim ingest.Limits) (correlate.Delivery, error) {
	if d, ok := decodeLineFast(line, lim); ok {
		return d, nil
	}
	return decodeLineGeneral(line, lim)
}

// decodeLineFast decodes a line spelled as replay files spell them,
// {"received_at":"...","source":"...","body":{...}}, without reading it
// twice: it reads the two strings, takes the rest of the line up to its
// closing brace as the body, and hands that to ingest.Decode. When the body
// decodes, it was one JSON value and the line was exactly that object, so
// the general path would have decoded the same time, source and body bytes,
// hence the same delivery. Any other spelling, and any error, is left to
// the general path (false), which alone reports errors.
func decodeLineFast(line []byte, lim ingest.Limits) (correlate.Delivery, bool) {
	rest, ok := skipToken(line, `{`)
	if !ok {
		return correlate.Delivery{}, false
	}
	var raw, src []byte
	if rest, ok = skipToken(rest, `"received_at"`, `:`); ok {
		raw, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = skipToken(rest, `,`, `"source"`, `:`)
	}
	if ok {
		src, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = skipToken(rest, `,`, `"body"`, `:`)
	}
	body := bytes.TrimRight(rest, " \t\r\n")
	if !ok || len(body) < 3 || body[0] != '{' || body[len(body)-1] != '}' {
		return correlate.Delivery{}, false
	}
	body = bytes.TrimRight(body[:len(body)-1], " \t\r\n") // the line's closing brace
	var receivedAt time.Time
	// time.Time reads the quoted text as it stands, as encoding/json has it do.
	if receivedAt.UnmarshalJSON(raw) != nil || receivedAt.IsZero() {
		return correlate.Delivery{}, false
	}
	source := correlate.Source(src[1 : len(src)-1])
	if !source.Valid() {
		return correlate.Delivery{}, false
	}
	d, err := ingest.Decode(source, body, receivedAt, lim)
	if err != nil {
		return correlate.Delivery{}, false
	}
	d.ReceivedAt = receivedAt
	return d, true
}

// skipToken consumes the tokens toks from b, each after optional white space.
func skipToken(b []byte, toks ...string) ([]byte, bool) {
	for _, tok := range toks {
		b = bytes.TrimLeft(b, " \t\r\n")
		if !bytes.HasPrefix(b, []byte(tok)) {
			return b, false
		}
		b = b[len(tok):]
	}
	return bytes.TrimLeft(b, " \t\r\n"), true
}

// plainString consumes a JSON string with no escapes and returns it with its
// quotes; such a string decodes to its bytes.
func plainString(b []byte) (quoted, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, b, false
	}
	end := bytes.IndexByte(b[1:], '"') + 1
	if end == 0 {
		return nil, b, false
	}
	for _, c := range b[1:end] {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, b, false
		}
	}
	return b[:end+1], b[end+1:], true
}

// decodeLineGeneral decodes a line with encoding/json, then its body as the
// ingest endpoints do; it alone reports errors.
func decodeLineGeneral(line []byte, lim ingest.Limits) (correlate.Delivery, error) {
	var l ReplayLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return correlate.Delivery{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if l.ReceivedAt.IsZero() {
		return correlate.Delivery{}, errors.New("received_at: is required")
	}
	if !l.Source.Valid() {
		return correlate.Delivery{}, fmt.Errorf("source: %q must be alertmanager, grafana or events", l.Source)
	}
	if len(l.Body) == 0 {
		return correlate.Delivery{}, errors.New("body: is required")
	}
	d, err := ingest.Decode(l.Source, l.Body, l.ReceivedAt, lim)
	if err != nil {
		return correlate.Delivery{}, fmt.Errorf("body: %w", err)
	}
	d.ReceivedAt = l.ReceivedAt
	return d, nil
}

// ReplaySummary is what a replay reports.
type ReplaySummary struct {
	Deliveries int64 `json:"deliveries"`
	Alerts     int64 `json:"alerts"`
	Episodes   int64 `json:"episodes"`
	Incidents  int64 `json:"incidents"`
	Problems   int64 `json:"problems"`
}

// ReplayOptions configure Replay.
type ReplayOptions struct {
	Config config.Config
	Logger *slog.Logger
	Files  []string
	// Export, if set, is the path the export document is written to.
	Export string
	// Scratch says the data directory is thrown away after the replay
	// (vigia replay without --data): the files are then fed as they are
	// read, and a bad line stops the replay there, instead of every file
	// being checked before anything is fed.
	Scratch bool
}

// Replay feeds recorded deliveries through the journal and the engine into
// the store on event time (replay_feed.go), resolves what the end of the
// recording leaves pending, runs problem detection over the result and
// returns the store's totals. Unless opts.Scratch, every file is checked
// before anything is fed, so that a bad line leaves the data directory as
// it was.
func Replay(ctx context.Context, opts ReplayOptions) (ReplaySummary, error) {
	return replay(ctx, opts, nil)
}

// replay is Replay, with tune (if set) applied to the feeder (tests).
func replay(ctx context.Context, opts ReplayOptions, tune func(*feeder)) (ReplaySummary, error) {
	var sum ReplaySummary
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lim := ingest.Limits{UTF8LabelNames: opts.Config.Ingest.UTF8LabelNames}
	c, err := openCore(ctx, opts.Config, logger, nil, nil)
	if err != nil {
		return sum, err
	}
	defer c.close()
	// Load the state, and apply what an interrupted run left in the journal.
	if err := c.pipeline.CatchUp(ctx); err != nil {
		return sum, fmt.Errorf("replay: %w", err)
	}
	// The store's writer takes batches of tens of thousands of rows into
	// indexes of millions: a page cache that holds those indexes.
	if wc, ok := c.store.(interface {
		SetWriterCache(ctx context.Context, mib int) error
	}); ok {
		if err := wc.SetWriterCache(ctx, replayWriterCacheMiB); err != nil {
			return sum, fmt.Errorf("replay: %w", err)
		}
	}
	f := newFeeder(c, lim, c.pipeline.Applied(), int64(opts.Config.Journal.MaxBytes), logger)
	if tune != nil {
		tune(f)
	}
	if !opts.Scratch {
		if err := f.check(ctx, opts.Files); err != nil {
			return sum, err
		}
	}
	start := time.Now()
	if err := f.feed(ctx, opts.Files); err != nil {
		return sum, err
	}
	logger.Info("replay fed", "duration", time.Since(start).Round(time.Millisecond), "transactions", f.transactions)
	// Everything the engine holds is in the store now, and what follows
	// reads the store: let the engine's memory go to problem detection.
	clock := c.engine.Clock()
	c.engine, c.pipeline = nil, nil
	t, err := c.store.Totals(ctx)
	if err != nil {
		return sum, err
	}
	sum = ReplaySummary{Deliveries: t.Deliveries, Alerts: t.Alerts, Episodes: t.Episodes, Incidents: t.Incidents}
	// Problem detection over the whole replayed history, at its end.
	if ps, ok := c.store.(problemStore); ok {
		probs, err := newProblems(opts.Config.Problem, ps, func() *topology.Topology { return c.topology }, nil)
		if err != nil {
			return sum, err
		}
		start := time.Now()
		if _, err := probs.Detect(ctx, clock, time.Time{}); err != nil {
			return sum, fmt.Errorf("replay: %w", err)
		}
		logger.Info("problem detection done", "duration", time.Since(start).Round(time.Millisecond))
		all, err := ps.Problems(ctx)
		if err != nil {
			return sum, err
		}
		sum.Problems = int64(len(all))
	}
	if opts.Export != "" {
		start := time.Now()
		if err := writeExportFile(ctx, opts.Export, c.store, time.Time{}); err != nil {
			return sum, err
		}
		logger.Info("export written", "duration", time.Since(start).Round(time.Millisecond))
	}
	return sum, nil
}

// writeExportFile writes the export document atomically to path ("-" is stdout).
func writeExportFile(ctx context.Context, path string, src export.Source, since time.Time) error {
	if path == "-" {
		return export.Write(ctx, os.Stdout, src, since)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := export.Write(ctx, f, src, since); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return os.Rename(tmp, path)
}

// ExportOptions configure Export.
type ExportOptions struct {
	Config config.Config
	Logger *slog.Logger
	Since  time.Time
	Out    string
}

// Export writes the export document from the configured store. When no
// server holds the data directory, it first applies any journaled
// deliveries not yet applied; otherwise it exports what the running server
// has applied so far.
func Export(ctx context.Context, opts ExportOptions) error {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c, err := openCore(ctx, opts.Config, logger, nil, nil)
	if errors.Is(err, ErrDataDirLocked) {
		logger.Warn("a running vigia holds the data directory; exporting what it has applied so far")
		st, err := openStoreOnly(ctx, opts.Config)
		if err != nil {
			return err
		}
		defer st.Close()
		return writeExportFile(ctx, opts.Out, st, opts.Since)
	}
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.pipeline.CatchUp(ctx); err != nil {
		return err
	}
	return writeExportFile(ctx, opts.Out, c.store, opts.Since)
}
