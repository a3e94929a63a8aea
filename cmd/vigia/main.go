package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // SLA calendars name time zones; images may lack a zone database

	"github.com/vigia-noc/vigia/app"
	"github.com/vigia-noc/vigia/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `Vigia: alarms in, incidents out.

Usage:
  vigia serve   [--config FILE] [--listen ADDR] [--data DIR] [--store DSN] [--topology FILE]
  vigia replay  [--config FILE] [--data DIR] [--topology FILE] [--export OUT.json] FILE.jsonl...
  vigia export  [--config FILE] [--data DIR] [--since T] [--out FILE]
  vigia explain [--config FILE] [--data DIR] INC-000123
  vigia simulate --out DIR [--seed N] [--days D] [--scale small|large|xl]
  vigia score   --truth truth.json --export export.json [--replay replay.jsonl] [--format text|markdown|json]
  vigia config check FILE
  vigia bench ingest [--url URL] [--target T] [--batch N] [--concurrency N] [--requests N] [--duration D] [--rate R] [--probe D]
  vigia version
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(args[1:], stderr)
	case "replay":
		err = cmdReplay(args[1:], stdout, stderr)
	case "export":
		err = cmdExport(args[1:], stderr)
	case "config":
		err = cmdConfig(args[1:], stdout)
	case "simulate":
		err = cmdSimulate(args[1:], stdout, stderr)
	case "score":
		err = cmdScore(args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "explain":
		err = cmdExplain(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "vigia", versionString())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "vigia: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			// Redact: an error may quote the store DSN and its password.
			fmt.Fprintf(stderr, "vigia %s: %s\n", args[0], config.Redact(err.Error()))
		}
		return 1
	}
	return 0
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// common holds the flags every command shares.
type common struct {
	config, listen, data, store, topology string
}

func (c *common) register(fs *flag.FlagSet, withListen bool) {
	fs.StringVar(&c.config, "config", "", "YAML configuration file")
	if withListen {
		fs.StringVar(&c.listen, "listen", "", "HTTP listen address (default 127.0.0.1:8080)")
	}
	fs.StringVar(&c.data, "data", "", "data directory: journal and embedded store (default ./vigia-data)")
	fs.StringVar(&c.store, "store", "", `store: "embedded" or clickhouse://HOST:9000/DB (default embedded)`)
	fs.StringVar(&c.topology, "topology", "", "topology file (CIs and their dependencies)")
}

// load reads the config file (or the defaults) and applies the flags set
// on the command line on top of it.
func (c *common) load() (config.Config, error) {
	cfg := config.Default()
	if c.config != "" {
		var err error
		if cfg, err = config.Load(c.config); err != nil {
			return cfg, err
		}
	}
	if c.listen != "" {
		cfg.Listen = c.listen
	}
	if c.data != "" {
		cfg.Data = c.data
	}
	if c.store != "" {
		cfg.Store = c.store
	}
	if c.topology != "" {
		cfg.Topology = c.topology
	}
	return cfg, cfg.Validate()
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vigia "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	hopts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

func cmdServe(args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	var c common
	c.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second signal exits at once.
		<-ctx.Done()
		stop()
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		<-again
		logger.Warn("second signal: exiting now")
		os.Exit(130)
	}()
	return app.Serve(ctx, app.ServeOptions{Config: cfg, Logger: logger, Version: versionString()})
}

// replayGCPercent is the GOGC of vigia replay, unless GOGC is set. In one
// pair of runs of a million episodes, 200 instead of 100 took the replay
// from 160 s to 134 s and its peak RSS from 2.3 to 3.3 GB (BENCHMARKS.md).
const replayGCPercent = 200

func cmdReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("replay", stderr)
	var c common
	c.register(fs, false)
	out := fs.String("export", "", "write the export document (contract §5) to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the replay to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if fs.NArg() == 0 {
		return errors.New("no replay file given")
	}
	if os.Getenv("GOGC") == "" {
		// A replay is a batch job whose garbage collector, at the default
		// GOGC=100, takes a fifth of its CPU: trade some memory for time.
		debug.SetGCPercent(replayGCPercent)
	}
	tempData := c.data == "" && !configSetsData(c.config)
	if tempData {
		dir, err := os.MkdirTemp("", "vigia-replay-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.data = dir
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	sum, err := app.Replay(ctx, app.ReplayOptions{Config: cfg, Logger: logger, Files: fs.Args(), Export: *out, Scratch: tempData})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "deliveries: %d\nalerts: %d\nepisodes: %d\nincidents: %d\nproblems: %d\nelapsed: %s\n",
		sum.Deliveries, sum.Alerts, sum.Episodes, sum.Incidents, sum.Problems, time.Since(start).Round(time.Millisecond))
	if tempData {
		fmt.Fprintln(stdout, "(replayed into a temporary store; pass --data DIR to keep the result)")
	}
	return nil
}

// configSetsData reports whether the config file names a data directory.
func configSetsData(path string) bool {
	if path == "" {
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "data:") && !strings.HasPrefix(line, " ") {
			return true
		}
	}
	return false
}

func cmdExport(args []string, stderr io.Writer) error {
	fs := newFlagSet("export", stderr)
	var c common
	c.register(fs, false)
	since := fs.String("since", "", "only incidents opened (and unassigned alerts started) at or after this RFC3339 time")
	out := fs.String("out", "-", "output file (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	var t time.Time
	if *since != "" {
		if t, err = time.Parse(time.RFC3339Nano, *since); err != nil {
			return fmt.Errorf("--since: %q is not an RFC3339 time", *since)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return app.Export(ctx, app.ExportOptions{Config: cfg, Logger: newLogger(cfg, stderr), Since: t, Out: *out})
}

func cmdConfig(args []string, stdout io.Writer) error {
	if len(args) != 2 || args[0] != "check" {
		return errors.New("usage: vigia config check FILE")
	}
	if _, err := config.Load(args[1]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: OK\n", args[1])
	return nil
}

func cmdExplain(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", stderr)
	var c common
	c.register(fs, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: vigia explain [--data DIR] INC-000123")
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	return app.Explain(context.Background(), cfg, fs.Arg(0), stdout)
}
