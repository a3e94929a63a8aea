package problem

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// SignatureInput is what a signature is computed from: one incident's alerts
// and the configuration items it involves. The caller fills it from an
// incident and its episodes; every field is optional.
type SignatureInput struct {
	// AlertNames are the incident's alert names; the "alertname" label of
	// every label set is added to them.
	AlertNames []string
	// Labels are the label sets of the incident's alerts.
	Labels []map[string]string
	// CIs are the configuration items the alerts map to.
	CIs []string
	// CITypes maps a CI id (of CIs or RootCauseCI) to its topology type,
	// when the topology knows it.
	CITypes map[string]string
	// Services are the business services involved.
	Services []string
	// RootCauseCI is the CI found to be the root cause, if any.
	RootCauseCI string
	// RootCauseInferred reports that RootCauseCI raised no alert of its
	// own: correlation inferred it as the CI that the alerting CIs depend
	// on. It is also taken as inferred when CIs are given and do not hold it.
	RootCauseInferred bool
	// Branches are, for an inferred root cause, the alerting CIs it was
	// inferred from: those that depend on no other alerting CI of the
	// incident (the tops of the cascades below the root). Without them,
	// CIs stand for them.
	Branches []string
}

// rootInferred reports whether the root cause CI is inferred (see
// RootCauseInferred).
func (in *SignatureInput) rootInferred() bool {
	return in.RootCauseCI != "" && (in.RootCauseInferred || len(in.CIs) > 0 && !slices.Contains(in.CIs, in.RootCauseCI))
}

// Sig is a signature: a stable key and the human text it was made from.
//
// Key is a short hash ("sig-", "cls-" or "ci-" and 16 hex digits) of the
// normalized parts that Text shows, so two incidents share a key exactly when
// they share a text. Keys are stable across releases as long as the
// normalization rules and the configured scope labels do not change.
type Sig struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

// IsZero reports whether s is the empty signature.
func (s Sig) IsZero() bool { return s.Key == "" }

// Key prefixes by kind.
const (
	prefixSignature = "sig-"
	prefixClass     = "cls-"
	prefixCI        = "ci-"
)

// maxScopeValues is how many distinct values one scope key lists before the
// signature writes "*" (many) instead, so that a wide incident does not get a
// signature that no other incident can share.
const maxScopeValues = 3

// podLabels are the labels whose values are pod names: a trailing
// five-character pod suffix ("-x2x9z") is volatile in them.
var podLabels = map[string]bool{"pod": true, "pod_name": true, "kubernetes_pod_name": true, "exported_pod": true}

// Signer computes signatures with configured scope labels and volatile
// patterns. It is immutable and safe for concurrent use.
type Signer struct {
	scope    []string
	class    []string
	patterns []*regexp.Regexp
}

var defaultSigner = func() *Signer {
	s, err := NewSigner(DefaultConfig())
	if err != nil {
		panic(err)
	}
	return s
}()

// NewSigner builds a Signer from cfg's scope_labels, class_labels and
// volatile_patterns.
func NewSigner(cfg Config) (*Signer, error) {
	s := &Signer{scope: slices.Clone(cfg.ScopeLabels), class: slices.Clone(cfg.ClassLabels)}
	for i, p := range cfg.VolatilePatterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("problem.volatile_patterns[%d]: %w", i, err)
		}
		s.patterns = append(s.patterns, re)
	}
	return s, nil
}

// Signature computes an incident's signature with the default configuration.
// See [Signer.Signature].
func Signature(in SignatureInput) Sig { return defaultSigner.Signature(in) }

// ClassSignature computes an incident's class signature with the default
// configuration. See [Signer.Class].
func ClassSignature(in SignatureInput) Sig { return defaultSigner.Class(in) }

// CISignature is the signature of per-CI recurrence: any alert on ci. The CI
// id is used as is (topology ids are stable).
func CISignature(ci string) Sig {
	if ci == "" {
		return Sig{}
	}
	return Sig{
		Key:  prefixCI + hashParts("ci", nil, []scopePart{{"ci", []string{ci}}}),
		Text: "any alert @ ci=" + ci,
	}
}

// Signature is the sorted distinct alert names plus the scope they fired on:
//
//   - the root-cause CI when there is one: "DiskFull @ ci=db-01"; when that
//     CI raised no alert itself (an inferred root cause), also the CIs it
//     was inferred from (Branches, else CIs): "HighErrorRate @ ci=core-dc1
//     via=svc-cart|svc-tax", "NodeUnreachable @ ci=sw-dc1-a via=*". An
//     inferred root is a suspect: what recurs is the same symptoms through
//     the same CIs, not alike alerts on different CIs that each time
//     happened to be traced to one upstream CI;
//   - else the CIs involved: "BGPDown @ ci=core-dc1|edge-dc1";
//   - else the normalized values of the scope labels (default cluster,
//     namespace, service, job, instance, host, hostname, node, pod) and the
//     services: "KubePodCrashLooping @ cluster=prod namespace=shop pod=api-*".
//
// Label values are normalized so that volatile parts do not split a
// signature (see [Signer.Normalize]); a scope key with more than 3 distinct
// values shows "*". An instance label that is a pod IP (an IP in an alert
// that also has a pod label) is left out. CI ids come from the topology and
// are stable, so they only lose a trailing port and a pod hash
// ("api-7d9f8c6b5-x2x9z" -> "api-*"): "rtr-100234" stays itself.
func (s *Signer) Signature(in SignatureInput) Sig {
	names := alertNames(in)
	var scope []scopePart
	switch {
	case in.RootCauseCI != "":
		scope = []scopePart{{"ci", []string{normalizeCI(in.RootCauseCI)}}}
		if in.rootInferred() {
			via := in.Branches
			if len(via) == 0 {
				via = in.CIs
			}
			scope = append(scope, scopePart{"via", normalizeCIs(via)})
		}
	case len(in.CIs) > 0:
		scope = []scopePart{{"ci", normalizeCIs(in.CIs)}}
	default:
		scope = s.labelScope(in, s.scope)
		if len(in.Services) > 0 {
			scope = mergeScope(scope, scopePart{"service", s.normalizeAll("service", in.Services)})
		}
	}
	return s.sig(prefixSignature, "signature", names, scope)
}

// Class is the coarser signature used for recurrence across CIs: the alert
// names plus the CI type ("DiskFull @ type=database") — the root-cause CI's
// type when known, else the types of all CIs. Without known types it uses
// the class labels (default job: "DiskFull @ job=node"), and without those
// the alert names alone ("DiskFull @ any").
func (s *Signer) Class(in SignatureInput) Sig {
	names := alertNames(in)
	var types []string
	if t := in.CITypes[in.RootCauseCI]; in.RootCauseCI != "" && t != "" {
		types = []string{t}
	} else {
		for _, ci := range in.CIs {
			if t := in.CITypes[ci]; t != "" {
				types = append(types, t)
			}
		}
	}
	var scope []scopePart
	if len(types) > 0 {
		scope = []scopePart{{"type", distinct(types)}}
	} else {
		scope = s.labelScope(in, s.class)
	}
	return s.sig(prefixClass, "class", names, scope)
}

// CI is [CISignature].
func (s *Signer) CI(ci string) Sig { return CISignature(ci) }

// Normalize returns a label value with its volatile parts replaced by "*":
//
//   - a trailing port: "node-1:9100" -> "node-1", "[2001:db8::1]:9100" -> "2001:db8::1";
//   - Kubernetes pod names: "api-7d9f8c6b5-x2x9z" -> "api-*" (ReplicaSet hash
//     and pod suffix) in any label, and "node-exporter-x2x9z" ->
//     "node-exporter-*" in pod labels (pod, pod_name, kubernetes_pod_name,
//     exported_pod); StatefulSet ordinals ("db-0") are kept;
//   - UUIDs, timestamps (2026-01-05T10:00:03Z, 2026-01-05 10:00),
//     hexadecimal ids of 12 or more digits with at least one digit, and runs
//     of 6 or more decimal digits;
//   - every match of the configured volatile_patterns.
//
// Host names and IP addresses are kept: "db-01" and "db-02" stay different.
func (s *Signer) Normalize(label, value string) string {
	v := strings.TrimSpace(value)
	if v == "" {
		return ""
	}
	for _, re := range s.patterns {
		v = re.ReplaceAllString(v, "*")
	}
	v = uuidRE.ReplaceAllString(v, "*")
	v = timestampRE.ReplaceAllString(v, "*")
	v = stripPort(v)
	v = normalizePod(v, podLabels[label])
	v = hexRE.ReplaceAllStringFunc(v, func(m string) string {
		if strings.ContainsAny(m, "0123456789") {
			return "*"
		}
		return m
	})
	v = digitsRE.ReplaceAllString(v, "*")
	for strings.Contains(v, "**") {
		v = strings.ReplaceAll(v, "**", "*")
	}
	return v
}

var (
	uuidRE      = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	timestampRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?`)
	hexRE       = regexp.MustCompile(`\b[0-9a-fA-F]{12,}\b`)
	digitsRE    = regexp.MustCompile(`\d{6,}`)
)

// normalizeCIs normalizes CI ids (normalizeCI) and returns them distinct.
func normalizeCIs(ids []string) []string {
	cis := make([]string, 0, len(ids))
	for _, ci := range ids {
		if n := normalizeCI(ci); n != "" {
			cis = append(cis, n)
		}
	}
	return distinct(cis)
}

// normalizeCI is the light normalization of topology ids.
func normalizeCI(ci string) string {
	return normalizePod(stripPort(strings.TrimSpace(ci)), false)
}

// stripPort removes a trailing ":port" from "host:port" and "[v6]:port"; a
// bare IPv6 address is left alone.
func stripPort(v string) string {
	i := strings.LastIndexByte(v, ':')
	if i < 0 || i == len(v)-1 || len(v)-i-1 > 5 || !allDigits(v[i+1:]) {
		return v
	}
	host := v[:i]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return host[1 : len(host)-1]
	}
	if strings.Contains(host, ":") || host == "" {
		return v // bare IPv6, or not host:port
	}
	return host
}

// k8sAlphabet is the alphabet of Kubernetes generated name suffixes
// (k8s.io/apimachinery/pkg/util/rand: no vowels, no 0, 1, 3).
const k8sAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// normalizePod rewrites "name-<rs hash>-<suffix>" to "name-*", and in pod
// labels also "name-<suffix>" to "name-*".
func normalizePod(v string, podLabel bool) string {
	last := strings.LastIndexByte(v, '-')
	if last <= 0 || !isK8sSuffix(v[last+1:], 5, 5, false) {
		return v
	}
	head := v[:last]
	if prev := strings.LastIndexByte(head, '-'); prev > 0 && isK8sSuffix(head[prev+1:], 6, 10, true) {
		return head[:prev] + "-*"
	}
	if podLabel {
		return head + "-*"
	}
	return v
}

func isK8sSuffix(s string, minLen, maxLen int, digits bool) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(k8sAlphabet, c) < 0 && !(digits && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isIP(v string) bool {
	_, err := netip.ParseAddr(v)
	return err == nil
}

// scopePart is one "key=v1|v2" of a signature's scope.
type scopePart struct {
	key    string
	values []string // sorted, distinct; ["*"] when too many
}

func (s *Signer) normalizeAll(label string, vs []string) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if n := s.Normalize(label, v); n != "" {
			out = append(out, n)
		}
	}
	return distinct(out)
}

// labelScope collects the normalized values of the given labels over all
// label sets.
func (s *Signer) labelScope(in SignatureInput, labels []string) []scopePart {
	var parts []scopePart
	for _, l := range labels {
		var vs []string
		for _, ls := range in.Labels {
			raw, ok := ls[l]
			if !ok {
				continue
			}
			if l == "instance" && hasPodLabel(ls) && isIP(stripPort(strings.TrimSpace(raw))) {
				continue // a pod IP: volatile
			}
			if n := s.Normalize(l, raw); n != "" {
				vs = append(vs, n)
			}
		}
		if len(vs) > 0 {
			parts = append(parts, scopePart{l, distinct(vs)})
		}
	}
	return parts
}

func hasPodLabel(ls map[string]string) bool {
	for l := range podLabels {
		if ls[l] != "" {
			return true
		}
	}
	return false
}

func mergeScope(parts []scopePart, p scopePart) []scopePart {
	if len(p.values) == 0 {
		return parts
	}
	for i := range parts {
		if parts[i].key == p.key {
			parts[i].values = distinct(append(slices.Clone(parts[i].values), p.values...))
			return parts
		}
	}
	return append(parts, p)
}

// distinct sorts and dedups vs in place, and caps it at maxScopeValues.
func distinct(vs []string) []string {
	slices.Sort(vs)
	vs = slices.Compact(vs)
	if len(vs) > maxScopeValues || slices.Contains(vs, "*") && len(vs) > 1 {
		return []string{"*"}
	}
	return vs
}

func alertNames(in SignatureInput) []string {
	names := slices.Clone(in.AlertNames)
	for _, ls := range in.Labels {
		if n := ls["alertname"]; n != "" {
			names = append(names, n)
		}
	}
	names = slices.DeleteFunc(names, func(s string) bool { return strings.TrimSpace(s) == "" })
	slices.Sort(names)
	return slices.Compact(names)
}

func (s *Signer) sig(prefix, kind string, names []string, scope []scopePart) Sig {
	scope = slices.DeleteFunc(scope, func(p scopePart) bool { return len(p.values) == 0 })
	var b strings.Builder
	if len(names) == 0 {
		b.WriteString("(no alertname)")
	} else {
		b.WriteString(strings.Join(names, ", "))
	}
	b.WriteString(" @ ")
	if len(scope) == 0 {
		b.WriteString("any")
	}
	for i, p := range scope {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(strings.Join(p.values, "|"))
	}
	return Sig{Key: prefix + hashParts(kind, names, scope), Text: b.String()}
}

// hashParts hashes an unambiguous encoding of the parts (values may contain
// any character, so separators are control bytes) and returns 16 hex digits.
func hashParts(kind string, names []string, scope []scopePart) string {
	h := sha256.New()
	h.Write([]byte("vigia-problem-v1\x00" + kind + "\x00"))
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0x1f})
	}
	h.Write([]byte{0x1e})
	for _, p := range scope {
		h.Write([]byte(p.key))
		h.Write([]byte{0x1d})
		for _, v := range p.values {
			h.Write([]byte(v))
			h.Write([]byte{0x1f})
		}
		h.Write([]byte{0x1e})
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:8])
}
