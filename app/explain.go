package app

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vigia-noc/vigia/config"
	"github.com/vigia-noc/vigia/export"
)

// Explain prints why every alert of an incident joined it, from the
// configured store.
func Explain(ctx context.Context, cfg config.Config, id string, w io.Writer) error {
	st, err := openStoreOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.GetIncident(ctx, id)
	if err != nil {
		return err
	}
	in := d.Incident
	fmt.Fprintf(w, "%s  %s  %s  %s\n", in.ID, in.Status, in.Priority, in.Title)
	fmt.Fprintf(w, "opened %s by %s", export.Time(in.OpenedAt), in.Method)
	if in.Rule != "" {
		fmt.Fprintf(w, " (rule %q)", in.Rule)
	}
	fmt.Fprintln(w)
	if in.RootCauseCI != "" {
		how := "the most upstream alerting CI"
		if in.RootCauseInferred {
			how = "inferred: its dependents alert and it does not"
		}
		fmt.Fprintf(w, "root cause CI: %s (%s)\n", in.RootCauseCI, how)
	}
	if in.Flapping {
		fmt.Fprintln(w, "flapping: one of its alerts keeps firing and resolving")
	}
	fmt.Fprintf(w, "\nalerts (%d):\n", len(d.Alerts))
	for _, ep := range d.Alerts {
		fmt.Fprintf(w, "- %s %s  started %s  %s", ep.Labels["alertname"], labelText(ep.Labels), ep.StartsAtRaw, ep.Status)
		if ep.CI != "" {
			fmt.Fprintf(w, "  CI %s", ep.CI)
		}
		fmt.Fprintln(w)
		if x := ep.Explanation; x != nil {
			fmt.Fprintf(w, "    method %s", x.Method)
			if x.Rule != "" {
				fmt.Fprintf(w, ", rule %q", x.Rule)
			}
			fmt.Fprintf(w, ", score %.2f", x.Score)
			if x.Window != "" {
				fmt.Fprintf(w, ", window %s", x.Window)
			}
			if len(x.CIPath) > 0 {
				fmt.Fprintf(w, ", CI path %s", strings.Join(x.CIPath, " -> "))
			}
			if len(x.SharedLabels) > 0 {
				fmt.Fprintf(w, ", shared %s", labelText(x.SharedLabels))
			}
			fmt.Fprintf(w, "\n    %s\n", x.Reason)
		}
	}
	if len(d.Timeline) > 0 {
		fmt.Fprintln(w, "\ntimeline:")
		for _, ev := range d.Timeline {
			fmt.Fprintf(w, "- %s  %s  %s", export.Time(ev.At), ev.Actor, ev.Kind)
			if ev.To != "" {
				fmt.Fprintf(w, " -> %s", ev.To)
			}
			if ev.Comment != "" {
				fmt.Fprintf(w, ": %s", ev.Comment)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

func labelText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
