package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// MaxReplayLine bounds one line of a replay file.
const MaxReplayLine = 64 << 20

// DecodeReplayLine parses and validates one replay line into a delivery,
// with the same checks as the ingest endpoints.
func DecodeReplayLine(line []byte, lim ingest.Limits) (correlate.Delivery, error) {
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
}

// Replay feeds recorded deliveries through the journal and the pipeline on
// event time, resolves what the end of the recording leaves pending, and
// returns the store's totals. Every file is checked before anything is fed.
func Replay(ctx context.Context, opts ReplayOptions) (ReplaySummary, error) {
	var sum ReplaySummary
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var all [][]byte
	for _, name := range opts.Files {
		recs, err := readReplayFile(name, ingest.Limits{UTF8LabelNames: opts.Config.Ingest.UTF8LabelNames})
		if err != nil {
			return sum, err
		}
		all = append(all, recs...)
	}
	c, err := openCore(ctx, opts.Config, logger, nil, nil)
	if err != nil {
		return sum, err
	}
	defer c.close()
	const chunk = 1024
	for i := 0; i < len(all); i += chunk {
		if _, err := c.journal.AppendBatch(ctx, all[i:min(i+chunk, len(all))]); err != nil {
			return sum, fmt.Errorf("replay: journal: %w", err)
		}
		if err := c.pipeline.CatchUp(ctx); err != nil {
			return sum, fmt.Errorf("replay: %w", err)
		}
	}
	if err := c.pipeline.CatchUp(ctx); err != nil {
		return sum, fmt.Errorf("replay: %w", err)
	}
	if err := c.pipeline.Drain(ctx); err != nil {
		return sum, fmt.Errorf("replay: %w", err)
	}
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
		if _, err := probs.Detect(ctx, c.engine.Clock(), time.Time{}); err != nil {
			return sum, fmt.Errorf("replay: %w", err)
		}
		all, err := ps.Problems(ctx)
		if err != nil {
			return sum, err
		}
		sum.Problems = int64(len(all))
	}
	if opts.Export != "" {
		if err := writeExportFile(ctx, opts.Export, c.store, time.Time{}); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// readReplayFile decodes and validates every line of a replay file and
// returns the deliveries encoded for the journal.
func readReplayFile(name string, lim ingest.Limits) ([][]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	var out [][]byte
	br := bufio.NewReaderSize(f, 1<<20)
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) && len(line) == 0 {
			return out, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		d, derr := DecodeReplayLine(line, lim)
		if derr != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, derr)
		}
		b, derr := correlate.EncodeDelivery(&d)
		if derr != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, derr)
		}
		out = append(out, b)
	}
}

func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, isPrefix, err := br.ReadLine()
		line = append(line, part...)
		if len(line) > MaxReplayLine {
			return nil, fmt.Errorf("line longer than %d bytes", MaxReplayLine)
		}
		if err != nil || !isPrefix {
			return line, err
		}
	}
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
