package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIErrors: bad input gives a non-zero exit and one clear line on
// stderr; `vigia version` works (contract §1).
func TestCLIErrors(t *testing.T) {
	t.Run("version", func(t *testing.T) {
		out := mustRunVigia(t, "", "version")
		if strings.TrimSpace(out) == "" {
			t.Errorf("vigia version printed nothing on stdout")
		}
	})

	dir := t.TempDir()
	sample, err := os.ReadFile(samplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(string(sample), "\n", 2)[0]
	badLine := writeFile(t, dir, "bad-line.jsonl", first+"\n"+first+"\n"+`{"received_at":"2026-01-05T10:00:03Z","source":"alertmanager","body":{`+"\n")

	cases := []struct {
		name string
		args []string
		want []string // substrings of stderr (any of them)
	}{
		{"bad JSON line names its line number", []string{"replay", badLine}, []string{"line 3", ":3"}},
		{"unreadable replay file", []string{"replay", filepath.Join(dir, "no-such-file.jsonl")}, []string{"no-such-file.jsonl"}},
		{"unknown flag", []string{"replay", "--no-such-flag", badLine}, []string{"no-such-flag"}},
		{"unknown flag of serve", []string{"serve", "--no-such-flag"}, []string{"no-such-flag"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, err := runVigia(t, "", c.args...)
			if err == nil || !isExitError(err) {
				t.Fatalf("vigia %s: err %v, want a non-zero exit\nstdout: %s\nstderr: %s", strings.Join(c.args, " "), err, stdout, stderr)
			}
			msg := strings.TrimSpace(stderr)
			if msg == "" {
				t.Fatalf("vigia %s: exit %v with nothing on stderr", strings.Join(c.args, " "), err)
			}
			ok := false
			for _, w := range c.want {
				ok = ok || strings.Contains(msg, w)
			}
			if !ok {
				t.Errorf("vigia %s: stderr %q does not mention %q", strings.Join(c.args, " "), msg, c.want)
			}
		})
	}
}
