package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigia-noc/vigia/loadgen"
)

func cmdBench(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "ingest" {
		return errors.New("usage: vigia bench ingest [flags]")
	}
	fs := newFlagSet("bench ingest", stderr)
	var o loadgen.Options
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	fs.StringVar(&o.Target, "target", loadgen.TargetAlertmanagerWebhook, "alertmanager, grafana, events (Vigia's webhooks) or alertmanager-api (Alertmanager's POST /api/v2/alerts)")
	fs.StringVar(&o.Token, "token", "", "bearer token")
	fs.IntVar(&o.Batch, "batch", 100, "alerts per request")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "concurrent senders")
	fs.IntVar(&o.Requests, "requests", 2000, "stop after this many requests")
	fs.DurationVar(&o.Duration, "duration", 0, "stop after this long (default 60s)")
	fs.Float64Var(&o.Rate, "rate", 0, "requests per second over all senders (0: as fast as possible)")
	fs.IntVar(&o.Active, "active", 10000, "distinct alerts in play")
	fs.Float64Var(&o.RepeatShare, "repeat", 0.7, "relative weight of re-sends among alerts of active episodes")
	fs.Float64Var(&o.ResolveShare, "resolve", 0.3, "relative weight of resolves among alerts of active episodes")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	fs.DurationVar(&o.Probe, "probe", 0, "every this long, send a unique alert and time it until its incident shows in GET /api/v1/incidents (0: off)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if o.Duration == 0 {
		o.Duration = 60e9
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, o)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	fmt.Fprintln(stdout, res)
	return nil
}
