package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigia-noc/vigia/correlate"
)

func TestLoadGood(t *testing.T) {
	cfg, err := Load("testdata/conf.good.yml")
	if err != nil {
		t.Fatalf("Load(conf.good.yml): %v", err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"listen", cfg.Listen, "0.0.0.0:9080"},
		{"data", cfg.Data, "/var/lib/vigia"},
		{"log.format", cfg.Log.Format, "json"},
		{"server.read_timeout", cfg.Server.ReadTimeout, correlate.Duration(20 * time.Second)},
		{"server.tls_cert_file", cfg.Server.TLSCertFile, "/etc/vigia/tls/tls.crt"},
		{"server.tls_key_file", cfg.Server.TLSKeyFile, "/etc/vigia/tls/tls.key"},
		{"ingest.max_body_bytes", cfg.Ingest.MaxBodyBytes, ByteSize(5 << 20)},
		{"journal.max_bytes", cfg.Journal.MaxBytes, ByteSize(2 << 30)},
		{"auth.tokens", len(cfg.Auth.Tokens), 4},
		{"auth.tokens[0].token_file", cfg.Auth.Tokens[0].TokenFile, "/run/secrets/vigia-am"},
		{"correlate.dedup_retention", cfg.Correlate.DedupRetention, correlate.Duration(48 * time.Hour)},
		{"correlate.topology.max_hops", cfg.Correlate.Topology.MaxHops, 4},
		{"correlate.rules", len(cfg.Correlate.Rules), 2},
		{"correlate.rules[1].open_incident", *cfg.Correlate.Rules[1].OpenIncident, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "---\n"} {
		cfg, err := Parse([]byte(src))
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		if d := Default(); cfg.Listen != d.Listen || cfg.Data != d.Data || cfg.Journal != d.Journal {
			t.Errorf("Parse(%q) = %+v, want the defaults", src, cfg)
		}
	}
}

// TestLoadBad checks that every broken file is refused with an error that
// names the file, the line and the key.
func TestLoadBad(t *testing.T) {
	cases := []struct {
		file string
		line int
		key  string
		msg  string // also in the error
	}{
		{"conf.bad.unknown-key.yml", 4, "server.read_timout", "unknown key"},
		{"conf.bad.duration.yml", 4, "correlate.resolve_delay", `invalid duration "5 minutes"`},
		{"conf.bad.matcher.yml", 6, "correlate.rules[0].matchers[1]", "missing closing )"},
		{"conf.bad.listen.yml", 3, "listen", "not host:port"},
		{"conf.bad.listen-port.yml", 1, "listen", "port"},
		{"conf.bad.token.yml", 8, "auth.tokens[1].token_file", "conflicts with token_env"},
		{"conf.bad.token-missing.yml", 3, "auth.tokens[0].token", "one of token, token_sha256, token_env and token_file is required"},
		{"conf.bad.token-role.yml", 5, "auth.tokens[0].roles[1]", `unknown role "superuser"`},
		{"conf.bad.token-duplicate.yml", 6, "auth.tokens[1].name", "already used by auth.tokens[0]"},
		{"conf.bad.size.yml", 3, "journal.max_bytes", "invalid size"},
		{"conf.bad.type.yml", 3, "correlate.topology.max_hops", "cannot unmarshal"},
		{"conf.bad.syntax.yml", 3, "", "did not find expected key"},
		{"conf.bad.tls.yml", 2, "server.tls_cert_file", "server.tls_key_file is required too"},
		{"conf.bad.priority.yml", 5, "correlate.rules[0].priority", "P9"},
		{"conf.bad.log-level.yml", 2, "log.level", "verbose"},
		{"conf.bad.sla.yml", 5, "incident.sla.policies[P1].respond", "must be positive"},
		{"conf.bad.notify-url.yml", 4, "notify.receivers[0].url", "http or https"},
		{"conf.bad.rate-limit.yml", 4, "ingest.rate_limit.burst", "must not be negative"},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			_, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) = nil error, want one naming line %d and %q", c.file, c.line, c.key)
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if !strings.HasPrefix(msg, "config "+path+": ") {
				t.Errorf("error %q does not start with the file name", msg)
			}
			want := "line " + strconv.Itoa(c.line) + ": " + c.key
			if c.key == "" {
				want = "line " + strconv.Itoa(c.line) + ":"
			}
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not contain %q", msg, want)
			}
			if !strings.Contains(msg, c.msg) {
				t.Errorf("error %q does not contain %q", msg, c.msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans lines; want one line", msg)
			}
		})
	}
	// Every bad fixture is in the table.
	files, _ := filepath.Glob("testdata/conf.bad.*.yml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no case in TestLoadBad", f)
		}
	}
}

// TestSecretsNotInErrors checks that an error about a token entry never
// repeats the secret of a plain token.
func TestSecretsNotInErrors(t *testing.T) {
	const secret = "s3cr3t-value-never-shown"
	src := "auth:\n  tokens:\n    - name: x\n      token: " + secret + "\n      token_env: X\n      roles: [ingest]\n"
	_, err := Parse([]byte(src))
	if err == nil {
		t.Fatal("want an error for two token sources")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the secret", err)
	}
}

func TestKeyLine(t *testing.T) {
	src := `listen: 127.0.0.1:8080
correlate:
  rules:
    - name: a
      matchers:
        - 'x="1"'
        - 'y="2"'
    - name: b
      matchers: ['z="3"']
  severity_priority:
    critical: P1
`
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(src), &root); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path        string
		line        int
		exact, isOK bool
	}{
		{"listen", 1, true, true},
		{"correlate", 2, true, true},
		{"correlate.rules[0]", 4, true, true},
		{"correlate.rules[0].matchers[1]", 7, true, true},
		{"correlate.rules[1].matchers[0]", 9, true, true},
		{"correlate.rules[1].window", 8, false, true},
		{"correlate.rules[5].name", 3, false, true},
		{"correlate.severity_priority.critical", 11, true, true},
		{"correlate.severity_priority[critical]", 11, true, true},
		{"correlate.rules[x]", 3, false, true},
		{"store", 0, false, false},
		{"not a path", 0, false, false},
	}
	for _, c := range cases {
		line, exact, ok := KeyLine(&root, c.path)
		if line != c.line || exact != c.exact || ok != c.isOK {
			t.Errorf("KeyLine(%q) = %d, %v, %v; want %d, %v, %v", c.path, line, exact, ok, c.line, c.exact, c.isOK)
		}
	}
}

// TestDocumentedKeys checks that docs/configuration.md names every key of
// conf.good.yml, which sets them all.
func TestDocumentedKeys(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Skipf("docs/configuration.md: %v", err)
	}
	b, err := os.ReadFile("testdata/conf.good.yml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		n = docRoot(n)
		if n == nil || n.Kind != yaml.MappingNode || strings.HasSuffix(path, "severity_priority") {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if !strings.Contains(string(doc), k+":") {
				t.Errorf("docs/configuration.md does not document %s", joinKey(path, k))
			}
			v := n.Content[i+1]
			if v.Kind == yaml.SequenceNode && len(v.Content) > 0 {
				walk(v.Content[0], joinKey(path, k)+"[0]")
			}
			walk(v, joinKey(path, k))
		}
	}
	walk(&root, "")
	// And conf.good.yml sets every key there is, so the check is complete.
	for _, key := range missingKeys(reflect.TypeFor[Config](), []*yaml.Node{docRoot(&root)}, "") {
		t.Errorf("testdata/conf.good.yml does not set %s: add it there and to docs/configuration.md", key)
	}
}

// missingKeys returns the keys of struct type t (recursively) that none of
// the mapping nodes ns sets.
func missingKeys(t reflect.Type, ns []*yaml.Node, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(unmarshalerType) || pt.Implements(obsoleteUnmarshalerType) {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice:
		var items []*yaml.Node
		for _, n := range ns {
			if n.Kind == yaml.SequenceNode {
				items = append(items, n.Content...)
			}
		}
		return missingKeys(t.Elem(), items, path+"[]")
	case reflect.Struct:
	default:
		return nil
	}
	var missing []string
	for key, ft := range yamlFields(t) {
		var vs []*yaml.Node
		for _, n := range ns {
			if v, _ := child(n, keyStep{key: key, index: -1}); v != nil {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			missing = append(missing, joinKey(path, key))
			continue
		}
		missing = append(missing, missingKeys(ft, vs, joinKey(path, key))...)
	}
	return missing
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"embedded":                                     "embedded",
		"clickhouse://ch:9000/vigia":                   "clickhouse://ch:9000/vigia",
		"clickhouse://vigia@ch:9000/vigia":             "clickhouse://vigia@ch:9000/vigia",
		"clickhouse://vigia:s3cret@ch:9000/vigia":      "clickhouse://vigia:xxxxx@ch:9000/vigia",
		`store: dsn "clickhouse://u:p%40ss@h:9000/db"`: `store: dsn "clickhouse://u:xxxxx@h:9000/db"`,
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
