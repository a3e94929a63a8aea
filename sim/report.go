package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }

func opt(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return f3(*v)
}

// MarkdownHeader is the header of the table rows Markdown writes, for
// tools that concatenate rows of several reports.
const MarkdownHeader = "| scale | seed | method | pairwise P | pairwise R | pairwise F1 | ARI | false-merge | false-merge (episodes) | split | compression | truth compression | root-cause acc. | root-cause acc. (silent root) | flapping in one | problem P | problem R |\n" +
	"|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"

// MarkdownRow is one method's row of the table.
func (r *Report) MarkdownRow(m *Metrics) string {
	return fmt.Sprintf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s | %s | %s | %s |\n",
		r.Scale, r.Seed, m.Method, f3(m.Precision), f3(m.Recall), f3(m.F1), f3(m.ARI), f3(m.FalseMerge),
		f3(m.FalseMergeEps), f3(m.Split), m.Compression, m.TruthCompression, opt(m.RootCause), opt(m.RootCauseSilent),
		opt(m.FlappingInOne), opt(m.ProblemPrecision), opt(m.ProblemRecall))
}

// WriteMarkdown writes the report as Markdown tables.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString(MarkdownHeader)
	for _, m := range r.Methods {
		b.WriteString(r.MarkdownRow(m))
	}
	b.WriteString("\n")
	r.writeNotes(&b)
	if v := r.Methods[0]; len(v.ByClass) > 0 {
		fmt.Fprintf(&b, "\nBy fault class (%s, %s seed %d):\n\n", v.Method, r.Scale, r.Seed)
		b.WriteString("| class | incidents | episodes | split | merged | root-cause acc. |\n|---|---:|---:|---:|---:|---:|\n")
		for _, c := range v.ByClass {
			fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s |\n", c.Class, c.Incidents, c.Episodes, f3(c.Split), f3(c.Merged), opt(c.RootCause))
		}
	}
	if v := r.Methods[0]; v.Problems != nil || v.TruthFound != nil {
		b.WriteString("\n")
		writeProblems(&b, v, true)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxListed bounds the unmatched predicted problems a report lists.
const maxListed = 12

// writeProblems summarises problem matching: predicted problems by kind
// and how many match a truth problem, the truth problems and the
// predicted problems matching them, and the unmatched predicted problems
// with a signature (class and per-CI ones are only counted: the truth has
// no such problems).
func writeProblems(b *strings.Builder, m *Metrics, markdown bool) {
	item := "  "
	if markdown {
		item = "- "
	}
	kinds := map[string]int{}
	hits := map[string]int{}
	for _, p := range m.Problems {
		kinds[p.Kind]++
		if p.Truth != "" {
			hits[p.Kind]++
		}
	}
	fmt.Fprintf(b, "Problems (%s): %d predicted", m.Method, len(m.Problems))
	for i, k := range sortedKeys(kinds) {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(b, "%s%d %s (%d match a truth problem)", sep, kinds[k], k, hits[k])
	}
	found := 0
	for _, tf := range m.TruthFound {
		if len(tf.Predicted) > 0 {
			found++
		}
	}
	fmt.Fprintf(b, "; %d of %d truth problems found.\n", found, len(m.TruthFound))
	if markdown {
		b.WriteString("\n")
	}
	for _, tf := range m.TruthFound {
		by := "not found"
		if len(tf.Predicted) > 0 {
			by = "found by " + strings.Join(tf.Predicted, ", ")
		}
		fmt.Fprintf(b, "%struth %s (%s, %d incidents): %s\n", item, tf.ID, tf.Class, tf.Incidents, by)
	}
	n := 0
	for _, p := range m.Problems {
		if p.Truth != "" || p.Kind != "signature" {
			continue
		}
		if n == maxListed {
			fmt.Fprintf(b, "%s... and %d more unmatched signature problems\n", item, kinds["signature"]-hits["signature"]-n)
			break
		}
		n++
		sig := p.Signature
		if markdown {
			sig = "`" + sig + "`"
		}
		fmt.Fprintf(b, "%sunmatched %s %s: %d incidents, %d episodes\n", item, p.ID, sig, p.Incidents, p.Episodes)
	}
}

func (r *Report) writeNotes(b *strings.Builder) {
	v := r.Methods[0]
	fmt.Fprintf(b, "%s seed %d: %d episodes, %d true incidents, %d recurring problems; export: %d predicted incidents (%d unassigned alerts), %d predicted problems",
		r.Scale, r.Seed, r.Episodes, r.Incidents, r.Problems, v.PredIncidents, v.Unassigned, v.PredProblems)
	fmt.Fprintf(b, "; episodes missing from the export: %d, not in the truth: %d, listed twice: %d", v.Missing, v.Extra, v.Duplicates)
	if v.BadTimes > 0 {
		fmt.Fprintf(b, ", unreadable starts_at: %d", v.BadTimes)
	}
	b.WriteString(".\n")
	if v.Missing > 0 {
		fmt.Fprintf(b, "WARNING: %d episodes delivered are missing from the export (contract §5: every ingested episode appears exactly once); each is scored as an incident of its own.\n", v.Missing)
	}
}

// WriteText writes the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	r.writeNotes(&b)
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "method\tP\tR\tF1\tARI\tfalse-merge\tFM(eps)\tsplit\tcompr.\troot-cause\tRC(silent)\tflap-in-one\tprob.P\tprob.R\t")
	for _, m := range r.Methods {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n", m.Method, f3(m.Precision), f3(m.Recall),
			f3(m.F1), f3(m.ARI), f3(m.FalseMerge), f3(m.FalseMergeEps), f3(m.Split), m.Compression, opt(m.RootCause),
			opt(m.RootCauseSilent), opt(m.FlappingInOne), opt(m.ProblemPrecision), opt(m.ProblemRecall))
	}
	fmt.Fprintf(tw, "truth\t1.000\t1.000\t1.000\t1.000\t0.000\t0.000\t0.000\t%.2f\t\t\t\t\t\t\n", r.Methods[0].TruthCompression)
	tw.Flush()
	if v := r.Methods[0]; len(v.ByClass) > 0 {
		fmt.Fprintf(&b, "\nby fault class (%s):\n", v.Method)
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "class\tincidents\tepisodes\tsplit\tmerged\troot-cause\t")
		for _, c := range v.ByClass {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t\n", c.Class, c.Incidents, c.Episodes, f3(c.Split), f3(c.Merged), opt(c.RootCause))
		}
		tw.Flush()
	}
	if v := r.Methods[0]; v.Problems != nil || v.TruthFound != nil {
		b.WriteString("\n")
		writeProblems(&b, v, false)
	}
	if r.GroupKeyMode != "" {
		fmt.Fprintf(&b, "\nbaselines: none = every episode alone; groupKey = one incident per Alertmanager group (%s mode), per source and alertname for other senders\n", r.GroupKeyMode)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
