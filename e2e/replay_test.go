package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// samplePath is the example replay file (examples/sample.jsonl).
func samplePath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(repoRoot, "examples", "sample.jsonl")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample replay file: %v", err)
	}
	return p
}

var idPattern = regexp.MustCompile(`"(INC|PRB)-[0-9]+"`)

// normalizeIDs replaces every "INC-…"/"PRB-…" string of an export with its
// order of first appearance ("INC#1", "PRB#1", …) and returns the document
// decoded, so two exports compare as values.
func normalizeIDs(t testing.TB, raw []byte) any {
	t.Helper()
	seen := map[string]string{}
	n := map[string]int{}
	out := idPattern.ReplaceAllFunc(raw, func(m []byte) []byte {
		id := string(m)
		if r, ok := seen[id]; ok {
			return []byte(r)
		}
		kind := id[1:4]
		n[kind]++
		r := fmt.Sprintf("%q", fmt.Sprintf("%s#%d", kind, n[kind]))
		seen[id] = r
		return []byte(r)
	})
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("decode export: %v", err)
	}
	return v
}

// replayLine is one line of a replay file (contract §3).
type replayLine struct {
	ReceivedAt string          `json:"received_at"`
	Source     string          `json:"source"`
	Body       json.RawMessage `json:"body"`
}

func readReplayFile(t testing.TB, path string) []replayLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []replayLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l replayLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// writeDoubled writes every line of lines, then every line again with a
// received_at after the last original (keeping their order and spacing of
// 100ms), as a sender retrying everything would.
func writeDoubled(t testing.TB, path string, lines []replayLine) {
	t.Helper()
	var last time.Time
	for _, l := range lines {
		ts, err := time.Parse(time.RFC3339Nano, l.ReceivedAt)
		if err != nil {
			t.Fatalf("received_at %q: %v", l.ReceivedAt, err)
		}
		if ts.After(last) {
			last = ts
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range lines {
		l.ReceivedAt = last.Add(time.Second + time.Duration(i)*100*time.Millisecond).UTC().Format(time.RFC3339Nano)
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReplayDeterministic: replaying the same file gives the same export, and
// replaying every delivery twice gives the same episodes, grouped the same
// way (contract §1, §2, §3, §5).
func TestReplayDeterministic(t *testing.T) {
	sample := samplePath(t)
	tmp := t.TempDir()

	// Run 1: no --data (a fresh temporary store). It must not leave a data
	// directory in its working directory.
	cwd := t.TempDir()
	exportA := filepath.Join(tmp, "a.json")
	summary := mustRunVigia(t, cwd, "replay", "--export", exportA, sample)
	t.Logf("vigia replay summary:\n%s", summary)
	if strings.TrimSpace(summary) == "" {
		t.Errorf("vigia replay printed no summary on stdout")
	}
	if entries, _ := os.ReadDir(cwd); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("vigia replay without --data left %v in its working directory; want a temporary store", names)
	}

	// Run 2: an explicit fresh data directory.
	exportB := filepath.Join(tmp, "b.json")
	mustRunVigia(t, "", "replay", "--data", t.TempDir(), "--export", exportB, sample)

	docA, rawA := readExport(t, exportA)
	_, rawB := readExport(t, exportB)
	if a, b := normalizeIDs(t, rawA), normalizeIDs(t, rawB); !reflect.DeepEqual(a, b) {
		t.Errorf("two replays of %s gave different exports (ids normalized):\n--- a.json\n%s\n--- b.json\n%s",
			sample, tail(string(rawA), 8192), tail(string(rawB), 8192))
	}

	// The sample's content: every alert of every line appears exactly once,
	// and nothing else does.
	checkSampleEpisodes(t, docA, readReplayFile(t, sample))
	countsA := episodeCounts(t, docA)

	// Every line twice: the same episodes, the same grouping.
	doubled := filepath.Join(tmp, "doubled.jsonl")
	writeDoubled(t, doubled, readReplayFile(t, sample))
	exportD := filepath.Join(tmp, "doubled.json")
	mustRunVigia(t, "", "replay", "--export", exportD, doubled)
	docD, _ := readExport(t, exportD)
	countsD := episodeCounts(t, docD)
	if !reflect.DeepEqual(countsA, countsD) {
		t.Errorf("replaying every line twice changed the episodes:\n single: %v\n doubled: %v", countsA, countsD)
	}
	if ga, gd := grouping(t, docA), grouping(t, docD); !reflect.DeepEqual(ga, gd) {
		t.Errorf("replaying every line twice changed the grouping:\n single:\n  %s\n doubled:\n  %s",
			strings.Join(ga, "\n  "), strings.Join(gd, "\n  "))
	}

	// With the example topology the replay still runs, and sees the same episodes.
	exportT := filepath.Join(tmp, "topology.json")
	mustRunVigia(t, "", "replay", "--topology", filepath.Join(repoRoot, "examples", "topology.yaml"), "--export", exportT, sample)
	docT, _ := readExport(t, exportT)
	if countsT := episodeCounts(t, docT); !reflect.DeepEqual(countsA, countsT) {
		t.Errorf("replay with --topology examples/topology.yaml changed the episodes:\n without: %v\n with: %v", countsA, countsT)
	}
}

// wantEpisode is an episode a replay file holds. Events sent without a
// fingerprint get one computed by Vigia (source + sorted labels, contract §2)
// whose format the contract does not fix: those are matched on their labels.
type wantEpisode struct {
	where       string
	fingerprint string            // "" for events without one
	labels      map[string]string // matched when fingerprint is ""
	startsAt    time.Time
}

func (w wantEpisode) matches(t testing.TB, a exportAlert) bool {
	ts, err := time.Parse(time.RFC3339Nano, a.StartsAt)
	if err != nil || !ts.Equal(w.startsAt) {
		return false
	}
	if w.fingerprint != "" {
		return a.Fingerprint == w.fingerprint
	}
	for k, v := range w.labels {
		if a.Labels[k] != v {
			return false
		}
	}
	return true
}

// sampleEpisodes returns the distinct episodes of a replay file.
func sampleEpisodes(t testing.TB, lines []replayLine) []wantEpisode {
	t.Helper()
	var eps []wantEpisode
	seen := map[string]bool{}
	add := func(w wantEpisode) {
		key := w.fingerprint + "|" + w.startsAt.UTC().Format(time.RFC3339Nano)
		if w.fingerprint == "" {
			key += "|" + string(mustJSON(t, w.labels)) // map keys marshal sorted
		}
		if !seen[key] {
			seen[key] = true
			eps = append(eps, w)
		}
	}
	parse := func(where, s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("%s: startsAt %q: %v", where, s, err)
		}
		return ts
	}
	for i, l := range lines {
		switch l.Source {
		case "alertmanager", "grafana":
			var p struct {
				Alerts []struct {
					Fingerprint string            `json:"fingerprint"`
					Labels      map[string]string `json:"labels"`
					StartsAt    string            `json:"startsAt"`
				} `json:"alerts"`
			}
			if err := json.Unmarshal(l.Body, &p); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			for j, a := range p.Alerts {
				where := fmt.Sprintf("line %d alert %d (%s)", i+1, j, a.Labels["alertname"])
				add(wantEpisode{where: where, fingerprint: a.Fingerprint, labels: a.Labels, startsAt: parse(where, a.StartsAt)})
			}
		case "events":
			var p struct {
				Events []struct {
					Fingerprint string            `json:"fingerprint"`
					Labels      map[string]string `json:"labels"`
					StartsAt    string            `json:"starts_at"`
				} `json:"events"`
			}
			if err := json.Unmarshal(l.Body, &p); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			for j, e := range p.Events {
				where := fmt.Sprintf("line %d event %d (%s)", i+1, j, e.Labels["alertname"])
				add(wantEpisode{where: where, fingerprint: e.Fingerprint, labels: e.Labels, startsAt: parse(where, e.StartsAt)})
			}
		default:
			t.Fatalf("line %d: unknown source %q", i+1, l.Source)
		}
	}
	return eps
}

// checkSampleEpisodes checks that every episode of the replay file appears
// exactly once in the export and that the export holds no other.
func checkSampleEpisodes(t testing.TB, doc exportDoc, lines []replayLine) {
	t.Helper()
	want := sampleEpisodes(t, lines)
	var all []exportAlert
	for _, in := range doc.Incidents {
		all = append(all, in.Alerts...)
	}
	all = append(all, doc.UnassignedAlerts...)
	matched := make([]bool, len(all))
	for _, w := range want {
		n := 0
		for i, a := range all {
			if w.matches(t, a) {
				n++
				matched[i] = true
			}
		}
		if n != 1 {
			t.Errorf("%s, fingerprint %q starting %s: appears %d times in the export, want 1",
				w.where, w.fingerprint, w.startsAt.Format(time.RFC3339Nano), n)
		}
	}
	for i, a := range all {
		if !matched[i] {
			t.Errorf("export has episode %s@%s %v that is not in the replay file", a.Fingerprint, a.StartsAt, a.Labels)
		}
	}
}
