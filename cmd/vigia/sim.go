package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigia-noc/vigia/sim"
)

// cmdSimulate writes a simulated estate, its replay file and its ground
// truth: vigia simulate --seed N --days D --scale small|large|xl --out DIR.
func cmdSimulate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigia simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same files")
	days := fs.Int("days", 0, "simulated days (default 7 for small and xl, 14 for large)")
	scale := fs.String("scale", "small", "estate size: small (2 datacenters, ~300 CIs), large (6 datacenters, ~3,000 CIs) or xl (102 datacenters, ~51,000 CIs: with --days 14, about a million alert episodes, for throughput benchmarks)")
	out := fs.String("out", "", "directory to write topology.yaml, replay.jsonl and truth.json into (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return errors.New("--out DIR is required")
	}
	if !slices.Contains(sim.Scales, *scale) {
		return fmt.Errorf("--scale %q: want %s", *scale, strings.Join(sim.Scales, " or "))
	}
	res, err := sim.WriteDir(sim.Config{Seed: *seed, Days: *days, Scale: *scale}, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "simulated %s estate, seed %d, %d days from %s\n", res.Config.Scale, res.Config.Seed, res.Config.Days,
		res.Config.Start.Format("2006-01-02"))
	res.Summary(stdout)
	for _, name := range []string{sim.TopologyFile, sim.ReplayFile, sim.TruthFile} {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, name))
	}
	return nil
}

// cmdScore scores an export against a simulation's truth:
// vigia score --truth truth.json --export export.json [--replay replay.jsonl] [--format text|markdown|json].
func cmdScore(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigia score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	truth := fs.String("truth", "", "truth.json written by vigia simulate (required)")
	export := fs.String("export", "", "export document written by vigia replay --export (required)")
	replay := fs.String("replay", "", "replay.jsonl: also score the baselines none and groupKey")
	format := fs.String("format", "text", "output: text, markdown or json")
	perKey := fs.Bool("groupkey-per-key", false, "groupKey baseline: one incident per groupKey for the whole replay (default: per notification thread, closed by a resolved notification)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *truth == "" || *export == "" {
		return errors.New("--truth and --export are required")
	}
	var write func(*sim.Report, io.Writer) error
	switch *format {
	case "text":
		write = (*sim.Report).WriteText
	case "markdown":
		write = (*sim.Report).WriteMarkdown
	case "json":
		write = (*sim.Report).WriteJSON
	default:
		return fmt.Errorf("--format %q: want text, markdown or json", *format)
	}
	rep, err := sim.Score(sim.ScoreOptions{Truth: *truth, Export: *export, Replay: *replay, PerKey: *perKey})
	if err != nil {
		return err
	}
	return write(rep, stdout)
}
