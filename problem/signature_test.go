package problem

import (
	"regexp"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	s := defaultSigner
	cases := []struct {
		label, in, want string
	}{
		{"instance", "node-1:9100", "node-1"},
		{"instance", "10.1.0.11:9100", "10.1.0.11"},
		{"instance", "[2001:db8::1]:9100", "2001:db8::1"},
		{"instance", "2001:db8::1", "2001:db8::1"},
		{"instance", "db-01", "db-01"},
		{"instance", "db-02.example.com:9104", "db-02.example.com"},
		{"pod", "api-7d9f8c6b5-x2x9z", "api-*"},
		{"instance", "api-7d9f8c6b5-x2x9z", "api-*"},
		{"pod", "payments-api-5c8d7f9b6d-kq2lp", "payments-api-*"},
		{"pod", "node-exporter-x2x9z", "node-exporter-*"},
		{"instance", "node-exporter-x2x9z", "node-exporter-x2x9z"}, // a 5-letter suffix alone only in pod labels
		{"pod", "db-0", "db-0"},                                    // StatefulSet ordinal kept
		{"pod", "backup-28391234-x2x9z", "backup-*"},               // CronJob pod
		{"pod", "redis", "redis"},
		{"job", "restore-3f2b8c1e-9a4d-4c6e-8f00-123456789abc", "restore-*"},
		{"path", "/var/log/app-2026-01-05T10:00:03Z.log", "/var/log/app-*.log"},
		{"file", "dump-2026-01-05.tar", "dump-*.tar"},
		{"container", "docker://4f3a2b1c0d9e8f7a6b5c", "docker://*"},
		{"job", "batch-1736071203", "batch-*"},
		{"host", "deadbeefcafe", "deadbeefcafe"}, // hex without digits is a word
		{"host", "sw-dc1-a", "sw-dc1-a"},
		{"service", "  payments ", "payments"},
		{"service", "", ""},
	}
	for _, c := range cases {
		if got := s.Normalize(c.label, c.in); got != c.want {
			t.Errorf("Normalize(%s, %q) = %q, want %q", c.label, c.in, got, c.want)
		}
	}
}

func TestSignature(t *testing.T) {
	keyRE := regexp.MustCompile(`^sig-[0-9a-f]{16}$`)
	cases := []struct {
		name     string
		in       SignatureInput
		want     string
		sameAs   *SignatureInput // must give the same key
		differTo *SignatureInput // must give a different key
	}{
		{
			name: "root cause CI",
			in: SignatureInput{AlertNames: []string{"DiskFull"}, RootCauseCI: "db-01", CIs: []string{"db-01", "sw-1"},
				Labels: []map[string]string{{"alertname": "DiskFull", "instance": "db-01:9100"}}},
			want:     "DiskFull @ ci=db-01",
			sameAs:   &SignatureInput{RootCauseCI: "db-01", Labels: []map[string]string{{"alertname": "DiskFull", "instance": "10.0.0.5:9100"}}},
			differTo: &SignatureInput{RootCauseCI: "db-02", Labels: []map[string]string{{"alertname": "DiskFull"}}},
		},
		{
			name: "inferred root cause: the CIs it was inferred from",
			in: SignatureInput{AlertNames: []string{"HighErrorRate"}, RootCauseCI: "core-dc1", RootCauseInferred: true,
				CIs: []string{"svc-tax", "svc-cart", "host-1"}, Branches: []string{"svc-tax", "svc-cart"}},
			want:     "HighErrorRate @ ci=core-dc1 via=svc-cart|svc-tax",
			sameAs:   &SignatureInput{AlertNames: []string{"HighErrorRate"}, RootCauseCI: "core-dc1", CIs: []string{"svc-cart", "svc-tax"}},
			differTo: &SignatureInput{AlertNames: []string{"HighErrorRate"}, RootCauseCI: "core-dc1", CIs: []string{"svc-ads", "svc-tax"}},
		},
		{
			name: "inferred root cause through many CIs",
			in: SignatureInput{AlertNames: []string{"NodeUnreachable"}, RootCauseCI: "sw-1",
				CIs: []string{"host-1", "host-2", "host-3", "host-4"}},
			want:   "NodeUnreachable @ ci=sw-1 via=*",
			sameAs: &SignatureInput{AlertNames: []string{"NodeUnreachable"}, RootCauseCI: "sw-1", CIs: []string{"host-5", "host-6", "host-7", "host-8", "host-9"}},
			// An alerting root is not inferred: its own CI is the scope.
			differTo: &SignatureInput{AlertNames: []string{"NodeUnreachable"}, RootCauseCI: "sw-1", CIs: []string{"sw-1", "host-1", "host-2", "host-3", "host-4"}},
		},
		{
			name:   "CIs sorted and distinct",
			in:     SignatureInput{AlertNames: []string{"BGPDown", "BGPDown"}, CIs: []string{"edge-dc1", "core-dc1", "edge-dc1"}},
			want:   "BGPDown @ ci=core-dc1|edge-dc1",
			sameAs: &SignatureInput{AlertNames: []string{"BGPDown"}, CIs: []string{"core-dc1", "edge-dc1"}},
		},
		{
			name: "pod hashes do not split",
			in: SignatureInput{Labels: []map[string]string{
				{"alertname": "KubePodCrashLooping", "cluster": "prod", "namespace": "shop", "pod": "api-7d9f8c6b5-x2x9z", "instance": "10.244.3.17:8080"},
				{"alertname": "KubePodCrashLooping", "cluster": "prod", "namespace": "shop", "pod": "api-7d9f8c6b5-q8w4t", "instance": "10.244.1.9:8080"},
			}},
			want: "KubePodCrashLooping @ cluster=prod namespace=shop pod=api-*",
			sameAs: &SignatureInput{Labels: []map[string]string{
				{"alertname": "KubePodCrashLooping", "cluster": "prod", "namespace": "shop", "pod": "api-6b7c9d8f4-zz7kp"},
			}},
			differTo: &SignatureInput{Labels: []map[string]string{
				{"alertname": "KubePodCrashLooping", "cluster": "prod", "namespace": "shop", "pod": "web-6b7c9d8f4-zz7kp"},
			}},
		},
		{
			name: "instance keeps host, drops port",
			in:   SignatureInput{Labels: []map[string]string{{"alertname": "NodeDiskFull", "job": "node", "instance": "node-1:9100", "mountpoint": "/"}}},
			want: "NodeDiskFull @ job=node instance=node-1",
			sameAs: &SignatureInput{Labels: []map[string]string{
				{"alertname": "NodeDiskFull", "job": "node", "instance": "node-1:9101", "mountpoint": "/var"}}},
			differTo: &SignatureInput{Labels: []map[string]string{{"alertname": "NodeDiskFull", "job": "node", "instance": "node-2:9100"}}},
		},
		{
			name: "alert names sorted, order of alerts irrelevant",
			in: SignatureInput{Labels: []map[string]string{
				{"alertname": "HighLatency", "service": "checkout"}, {"alertname": "ErrorBudgetBurn", "service": "checkout"}}},
			want: "ErrorBudgetBurn, HighLatency @ service=checkout",
			sameAs: &SignatureInput{Labels: []map[string]string{
				{"alertname": "ErrorBudgetBurn", "service": "checkout"}, {"alertname": "HighLatency", "service": "checkout"}}},
			differTo: &SignatureInput{Labels: []map[string]string{{"alertname": "HighLatency", "service": "checkout"}}},
		},
		{
			name: "many values become *",
			in: SignatureInput{Labels: []map[string]string{
				{"alertname": "Down", "job": "node", "instance": "n1:9100"}, {"alertname": "Down", "job": "node", "instance": "n2:9100"},
				{"alertname": "Down", "job": "node", "instance": "n3:9100"}, {"alertname": "Down", "job": "node", "instance": "n4:9100"}}},
			want: "Down @ job=node instance=*",
		},
		{
			name:   "services join the label scope",
			in:     SignatureInput{AlertNames: []string{"SLOBurn"}, Services: []string{"payments"}, Labels: []map[string]string{{"cluster": "eu"}}},
			want:   "SLOBurn @ cluster=eu service=payments",
			sameAs: &SignatureInput{Labels: []map[string]string{{"alertname": "SLOBurn", "cluster": "eu", "service": "payments"}}},
		},
		{
			name: "no scope",
			in:   SignatureInput{AlertNames: []string{"Watchdog"}},
			want: "Watchdog @ any",
		},
		{
			name:     "CI ids keep their numbers",
			in:       SignatureInput{AlertNames: []string{"BGPDown"}, RootCauseCI: "rtr-100234"},
			want:     "BGPDown @ ci=rtr-100234",
			differTo: &SignatureInput{AlertNames: []string{"BGPDown"}, RootCauseCI: "rtr-100235"},
		},
		{
			name:   "pod CIs lose their hash",
			in:     SignatureInput{AlertNames: []string{"OOMKilled"}, CIs: []string{"api-7d9f8c6b5-x2x9z", "api-7d9f8c6b5-q8w4t"}},
			want:   "OOMKilled @ ci=api-*",
			sameAs: &SignatureInput{AlertNames: []string{"OOMKilled"}, CIs: []string{"api-5c8d7f9b6d-kq2lp"}},
		},
		{
			name: "no alert name",
			in:   SignatureInput{CIs: []string{"fw-1"}},
			want: "(no alertname) @ ci=fw-1",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Signature(c.in)
			if got.Text != c.want {
				t.Errorf("text = %q, want %q", got.Text, c.want)
			}
			if !keyRE.MatchString(got.Key) {
				t.Errorf("key %q is not sig-<16 hex>", got.Key)
			}
			if again := Signature(c.in); again != got {
				t.Errorf("not stable: %v then %v", got, again)
			}
			if c.sameAs != nil {
				if other := Signature(*c.sameAs); other != got {
					t.Errorf("want same signature as %+v: %v vs %v", *c.sameAs, got, other)
				}
			}
			if c.differTo != nil {
				if other := Signature(*c.differTo); other.Key == got.Key {
					t.Errorf("want a different signature from %+v: both %v", *c.differTo, got)
				}
			}
		})
	}
}

func TestSignatureKeyIsStable(t *testing.T) {
	// Keys are persisted: a change of the hashing is a migration.
	got := Signature(SignatureInput{AlertNames: []string{"DiskFull"}, RootCauseCI: "db-01"})
	if got.Key != Signature(SignatureInput{Labels: []map[string]string{{"alertname": "DiskFull"}}, RootCauseCI: "db-01"}).Key {
		t.Fatal("alert names from labels and from AlertNames differ")
	}
	const pinned = "sig-30932cb035575505"
	if got.Key != pinned {
		t.Errorf("signature key of DiskFull @ ci=db-01 changed: %s, pinned %s", got.Key, pinned)
	}
}

func TestClassAndCISignature(t *testing.T) {
	types := map[string]string{"db-01": "database", "db-02": "database", "sw-1": "switch"}
	a := ClassSignature(SignatureInput{AlertNames: []string{"DiskFull"}, RootCauseCI: "db-01", CITypes: types})
	b := ClassSignature(SignatureInput{AlertNames: []string{"DiskFull"}, CIs: []string{"db-02"}, CITypes: types})
	if a != b || a.Text != "DiskFull @ type=database" || !strings.HasPrefix(a.Key, "cls-") {
		t.Errorf("class signatures across CIs of one type: %v, %v", a, b)
	}
	if Signature(SignatureInput{AlertNames: []string{"DiskFull"}, RootCauseCI: "db-01"}).Key ==
		Signature(SignatureInput{AlertNames: []string{"DiskFull"}, RootCauseCI: "db-02"}).Key {
		t.Error("signatures of two CIs should differ")
	}
	c := ClassSignature(SignatureInput{AlertNames: []string{"DiskFull"}, CIs: []string{"db-01", "sw-1"}, CITypes: types})
	if c.Text != "DiskFull @ type=database|switch" {
		t.Errorf("class over two types: %v", c)
	}
	d := ClassSignature(SignatureInput{Labels: []map[string]string{{"alertname": "NodeDown", "job": "node", "instance": "n1:9100"}}})
	if d.Text != "NodeDown @ job=node" {
		t.Errorf("class without CI types: %v", d)
	}
	e := ClassSignature(SignatureInput{AlertNames: []string{"Watchdog"}})
	if e.Text != "Watchdog @ any" {
		t.Errorf("class without scope: %v", e)
	}
	ci := CISignature("db-01")
	if ci.Text != "any alert @ ci=db-01" || !strings.HasPrefix(ci.Key, "ci-") || ci == CISignature("db-02") {
		t.Errorf("CISignature: %v", ci)
	}
	if !CISignature("").IsZero() {
		t.Error("CISignature(\"\") should be zero")
	}
}

func TestSignerVolatilePatterns(t *testing.T) {
	cfg := DefaultConfig()
	cfg.VolatilePatterns = []string{`^tenant-[a-z]+-`}
	s, err := NewSigner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := s.Signature(SignatureInput{Labels: []map[string]string{{"alertname": "QuotaExceeded", "service": "tenant-acme-store"}}})
	b := s.Signature(SignatureInput{Labels: []map[string]string{{"alertname": "QuotaExceeded", "service": "tenant-globex-store"}}})
	if a != b || a.Text != "QuotaExceeded @ service=*store" {
		t.Errorf("configured pattern: %v vs %v", a, b)
	}
	cfg.VolatilePatterns = []string{`(`}
	if _, err := NewSigner(cfg); err == nil || !strings.Contains(err.Error(), "problem.volatile_patterns[0]") {
		t.Errorf("bad pattern error = %v", err)
	}
}
