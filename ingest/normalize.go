package ingest

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigia-noc/vigia/correlate"
)

// rawAlert is one alert as a payload states it, before validation.
type rawAlert struct {
	Status       string
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     string
	EndsAt       string
	GeneratorURL string
	Fingerprint  string
}

// fieldNames spells a source's field names in error paths.
type fieldNames struct{ array, startsAt, endsAt string }

var (
	amNames    = fieldNames{array: "alerts", startsAt: "startsAt", endsAt: "endsAt"}
	eventNames = fieldNames{array: "events", startsAt: "starts_at", endsAt: "ends_at"}
)

// at returns the path of field sub of element i, e.g. alerts[2].startsAt.
func (fn fieldNames) at(i int, sub string) string {
	return fn.array + "[" + strconv.Itoa(i) + "]." + sub
}

// mapKey returns the path of key k of map m of element i:
// alerts[2].labels.job, or alerts[2].labels["a-b"].
func (fn fieldNames) mapKey(i int, m, k string) string {
	return fn.at(i, keyPath(m, k))
}

// keyPath appends key k to path p: p.k for keys that are identifiers, and
// p["k"] for the others, such as "a-b" or "".
func keyPath(p, k string) string {
	switch {
	case !legacyLabelName(k):
		return p + "[" + strconv.Quote(k) + "]"
	case p == "":
		return k
	}
	return p + "." + k
}

func (l Limits) checkCount(fn fieldNames, n int) error {
	switch {
	case n == 0:
		return fieldErr(reasonInvalid, fn.array, "required: at least one")
	case n > l.MaxAlerts:
		return fieldErr(reasonLimit, fn.array, "%d entries, at most %d per body", n, l.MaxAlerts)
	}
	return nil
}

// normalize validates in and writes it to out. now stands in for the endsAt
// of a resolved alert that has none. It errs on the first fault, naming the
// field; it trims and drops nothing.
func (l Limits) normalize(out *correlate.Alert, in rawAlert, fn fieldNames, i int, now time.Time) error {
	st, err := correlate.ParseStatus(in.Status)
	if err != nil {
		return fieldErr(reasonInvalid, fn.at(i, "status"), "%q: want firing or resolved", in.Status)
	}
	if err := l.checkLabels(in.Labels, fn, i); err != nil {
		return err
	}
	if err := l.checkAnnotations(in.Annotations, fn, i); err != nil {
		return err
	}

	if in.StartsAt == "" {
		return fieldErr(reasonInvalid, fn.at(i, fn.startsAt), "required")
	}
	startsAt, err := parseTime(in.StartsAt)
	if err != nil {
		return fieldErr(reasonInvalid, fn.at(i, fn.startsAt), "%q: want an RFC 3339 time", in.StartsAt)
	}
	if startsAt.IsZero() {
		return fieldErr(reasonInvalid, fn.at(i, fn.startsAt), "required, got the zero time %q", in.StartsAt)
	}
	var endsAt time.Time // "" and 0001-01-01T00:00:00Z both mean none
	if in.EndsAt != "" {
		if endsAt, err = parseTime(in.EndsAt); err != nil {
			return fieldErr(reasonInvalid, fn.at(i, fn.endsAt), "%q: want an RFC 3339 time", in.EndsAt)
		}
	}
	if !endsAt.IsZero() && endsAt.Before(startsAt) {
		return fieldErr(reasonInvalid, fn.at(i, fn.endsAt), "%s is before %s %s", in.EndsAt, fn.startsAt, in.StartsAt)
	}
	switch st {
	case correlate.StatusFiring:
		endsAt = time.Time{} // a firing alert has not ended, whatever it expects
	case correlate.StatusResolved:
		if endsAt.IsZero() { // resolved now, but not before it started (clock skew)
			endsAt = now.UTC()
			if endsAt.Before(startsAt) {
				endsAt = startsAt
			}
		}
	}

	fp := in.Fingerprint
	switch {
	case isFingerprint(fp):
		fp = strings.ToLower(fp)
	default:
		fp = correlate.LabelsFingerprint(in.Labels)
	}

	*out = correlate.Alert{
		Fingerprint:  fp,
		Status:       st,
		Labels:       in.Labels,
		Annotations:  in.Annotations,
		StartsAt:     startsAt,
		StartsAtRaw:  in.StartsAt,
		EndsAt:       endsAt,
		GeneratorURL: in.GeneratorURL,
	}
	if in.Fingerprint != "" && in.Fingerprint != fp && !strings.EqualFold(in.Fingerprint, fp) {
		setExtra(out, ExtraFingerprint, in.Fingerprint)
	}
	return nil
}

// parseTime parses an RFC 3339 time as strictly as time.Time's JSON decoding
// (which Alertmanager's own types use), returning it in UTC.
func parseTime(s string) (time.Time, error) {
	var t time.Time
	if err := t.UnmarshalText([]byte(s)); err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// isFingerprint reports whether s is 16 hex digits.
func isFingerprint(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// legacyLabelName reports whether s matches [a-zA-Z_][a-zA-Z0-9_]*.
func legacyLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || '0' <= c && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

func (l Limits) validLabelName(s string) bool {
	if l.UTF8LabelNames {
		return s != "" && utf8.ValidString(s)
	}
	return legacyLabelName(s)
}

// checkLabels checks label names, value lengths, their number, and
// alertname. Values are valid UTF-8 already: checkBody saw to it and
// encoding/json keeps it so. When several labels are at fault the first in
// sorted order is reported, so a body always gets the same answer.
func (l Limits) checkLabels(labels map[string]string, fn fieldNames, i int) error {
	if len(labels) > l.MaxLabels {
		return fieldErr(reasonLimit, fn.at(i, "labels"), "%d labels, at most %d", len(labels), l.MaxLabels)
	}
	fault := func(k, v string) bool { return !l.validLabelName(k) || len(v) > l.MaxLabelValueLength }
	if k, ok := firstFault(labels, fault); ok {
		if !l.validLabelName(k) {
			want := "[a-zA-Z_][a-zA-Z0-9_]*"
			if l.UTF8LabelNames {
				want = "non-empty UTF-8"
			}
			return fieldErr(reasonInvalid, fn.mapKey(i, "labels", k), "invalid label name %q: want %s", k, want)
		}
		return fieldErr(reasonLimit, fn.mapKey(i, "labels", k), "value is %d bytes, at most %d", len(labels[k]), l.MaxLabelValueLength)
	}
	if labels["alertname"] == "" {
		return fieldErr(reasonInvalid, fn.at(i, "labels.alertname"), "required")
	}
	return nil
}

// checkAnnotations checks annotation names, which must not be empty but are
// otherwise free (rejecting a whole body over an annotation's name would lose
// its alerts), and value lengths.
func (l Limits) checkAnnotations(ann map[string]string, fn fieldNames, i int) error {
	fault := func(k, v string) bool { return k == "" || len(v) > l.MaxAnnotationValueLength }
	if k, ok := firstFault(ann, fault); ok {
		if k == "" {
			return fieldErr(reasonInvalid, fn.mapKey(i, "annotations", k), "empty annotation name")
		}
		return fieldErr(reasonLimit, fn.mapKey(i, "annotations", k), "value is %d bytes, at most %d", len(ann[k]), l.MaxAnnotationValueLength)
	}
	return nil
}

// firstFault returns the smallest key of m whose entry is at fault.
func firstFault(m map[string]string, fault func(k, v string) bool) (string, bool) {
	found := false
	var first string
	for k, v := range m {
		if fault(k, v) && (!found || k < first) {
			first, found = k, true
		}
	}
	return first, found
}
