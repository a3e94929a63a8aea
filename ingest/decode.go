package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"

	"github.com/vigia-noc/vigia/correlate"
)

// Limits bound what one body may hold. A zero field takes its default.
type Limits struct {
	// MaxAlerts is the most alerts (or events) one body may carry; 10000.
	MaxAlerts int
	// MaxLabels is the most labels one alert may carry; 128.
	MaxLabels int
	// MaxLabelValueLength is the longest label value, in bytes; 4096.
	MaxLabelValueLength int
	// MaxAnnotationValueLength is the longest annotation value, in bytes; 32768.
	MaxAnnotationValueLength int
	// UTF8LabelNames accepts any non-empty UTF-8 label name, as Prometheus 3
	// and Alertmanager 0.28+ can send. By default label names must match
	// the legacy [a-zA-Z_][a-zA-Z0-9_]*.
	UTF8LabelNames bool
}

// Default limits.
const (
	DefaultMaxAlerts                = 10000
	DefaultMaxLabels                = 128
	DefaultMaxLabelValueLength      = 4096
	DefaultMaxAnnotationValueLength = 32768
)

func (l Limits) withDefaults() Limits {
	if l.MaxAlerts <= 0 {
		l.MaxAlerts = DefaultMaxAlerts
	}
	if l.MaxLabels <= 0 {
		l.MaxLabels = DefaultMaxLabels
	}
	if l.MaxLabelValueLength <= 0 {
		l.MaxLabelValueLength = DefaultMaxLabelValueLength
	}
	if l.MaxAnnotationValueLength <= 0 {
		l.MaxAnnotationValueLength = DefaultMaxAnnotationValueLength
	}
	return l
}

// Reasons a body is rejected with 400; the values of the rejected_total
// metric's reason label (with the HTTP-level ones of metrics.go).
const (
	reasonMalformed = "malformed" // not JSON, wrong JSON types, unknown fields, not UTF-8
	reasonVersion   = "version"   // wrong payload version
	reasonInvalid   = "invalid"   // an alert fails validation
	reasonLimit     = "limit"     // a Limits bound is exceeded
)

// FieldError is why a body was rejected: the field at fault, as a path into
// the body (alerts[2].startsAt, events[0].labels.alertname, version; "body"
// for the body as a whole), and what is wrong with it.
type FieldError struct {
	Field  string
	Msg    string
	reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(reason, field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), reason: reason}
}

// decoder turns one body into a delivery, validating every alert; now is the
// time the body was received. It either accepts the whole body or returns a
// *FieldError.
type decoder func(body []byte, now time.Time) (decoded, error)

// decoded is a decoder's result.
type decoded struct {
	correlate.Delivery
	// Truncated is how many alerts the sender left out (truncatedAlerts).
	Truncated uint64
}

// Decode decodes and validates one body of the given source exactly as the
// HTTP endpoints do, for callers that read recorded deliveries (replay).
// receivedAt becomes the delivery's ReceivedAt and stands in for a resolved
// alert's missing endsAt. Errors are *FieldError.
func Decode(src correlate.Source, body []byte, receivedAt time.Time, lim Limits) (correlate.Delivery, error) {
	var dec decoder
	switch l := lim.withDefaults(); src {
	case correlate.SourceAlertmanager:
		dec = l.decodeAlertmanager
	case correlate.SourceGrafana:
		dec = l.decodeGrafana
	case correlate.SourceEvents:
		dec = l.decodeEvents
	default:
		return correlate.Delivery{}, fieldErr(reasonInvalid, "source", "unknown source %q", src)
	}
	d, err := dec(body, receivedAt)
	return d.Delivery, err
}

// checkBody rejects what no decoder can take: an empty body, or one that is
// not UTF-8 (encoding/json would replace the bad bytes silently).
func checkBody(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fieldErr(reasonMalformed, "body", "empty body")
	}
	if !utf8.Valid(body) {
		off := 0
		for off < len(body) {
			r, n := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return fieldErr(reasonMalformed, "body", "invalid UTF-8 at byte %d", off)
	}
	return nil
}

// --- Alertmanager --------------------------------------------------------

// amMessage is Alertmanager's own webhook.Message, with its alerts read as
// amAlert so that the timestamps arrive as text: StartsAtRaw must keep the
// sender's precision, and a bad timestamp must be reported with its field.
type amMessage struct {
	webhook.Message
	Alerts []amAlert `json:"alerts"`
}

// amAlert is Alertmanager's template.Alert with startsAt and endsAt as text.
// The outer fields shadow the embedded time.Time ones for encoding/json.
type amAlert struct {
	template.Alert
	StartsAt string `json:"startsAt"`
	EndsAt   string `json:"endsAt"`
}

func (a *amAlert) raw() rawAlert {
	return rawAlert{
		Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
		StartsAt: a.StartsAt, EndsAt: a.EndsAt,
		GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint,
	}
}

// receiverOf returns m's receiver; m.Data is nil when the body had none of
// its fields.
func receiverOf(m *webhook.Message) string {
	if m.Data == nil {
		return ""
	}
	return m.Receiver
}

func checkVersion(got, want, other, otherPath string) error {
	if got == want {
		return nil
	}
	if got == "" {
		return fieldErr(reasonVersion, "version", "required: %q", want)
	}
	msg := fmt.Sprintf("%q: want %q", got, want)
	if got == other {
		msg += fmt.Sprintf(" (version %q payloads go to %s)", other, otherPath)
	}
	return &FieldError{Field: "version", Msg: msg, reason: reasonVersion}
}

const (
	pathAlertmanager = "/api/v1/ingest/alertmanager"
	pathGrafana      = "/api/v1/ingest/grafana"
	pathEvents       = "/api/v1/ingest/events"
)

// decodeAlertmanager decodes an Alertmanager body with the fast path of
// fastdecode.go, or with encoding/json (amMessageJSON) when the fast path
// leaves the body to it: either way into the same amMessage.
func (l Limits) decodeAlertmanager(body []byte, now time.Time) (decoded, error) {
	m, ok := fastAlertmanager(body, l.MaxAlerts)
	if !ok {
		var err error
		if m, err = l.amMessageJSON(body); err != nil {
			return decoded{}, err
		}
	}
	if err := checkVersion(m.Version, "4", "1", pathGrafana); err != nil {
		return decoded{}, err
	}
	if err := l.checkCount(amNames, len(m.Alerts)); err != nil {
		return decoded{}, err
	}
	d := decoded{Truncated: m.TruncatedAlerts, Delivery: correlate.Delivery{
		Source: correlate.SourceAlertmanager, ReceivedAt: now,
		Receiver: receiverOf(&m.Message), GroupKey: m.GroupKey,
		Alerts: make([]correlate.Alert, len(m.Alerts)),
	}}
	for i := range m.Alerts {
		if err := l.normalize(&d.Alerts[i], m.Alerts[i].raw(), amNames, i, now); err != nil {
			return decoded{}, err
		}
	}
	return d, nil
}

// amMessageJSON is the general path of decodeAlertmanager, for the bodies
// the fast path (fastAlertmanager) leaves to it: the checks before decoding,
// then encoding/json, which reports every error.
func (l Limits) amMessageJSON(body []byte) (amMessage, error) {
	if err := checkBody(body); err != nil {
		return amMessage{}, err
	}
	if err := l.checkArrayLen(body, amNames); err != nil {
		return amMessage{}, err
	}
	var m amMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return amMessage{}, jsonError(err, body, "alerts", func(b []byte) error {
			var a amAlert
			return json.Unmarshal(b, &a)
		})
	}
	return m, nil
}

// --- Grafana -------------------------------------------------------------

// grafanaMessage is the Alertmanager shape plus Grafana's fields. title,
// state and message are not read: they are group-level renderings of the
// alerts, which are kept themselves.
type grafanaMessage struct {
	webhook.Message
	Alerts []grafanaAlert `json:"alerts"`
	OrgID  json.Number    `json:"orgId"`
}

type grafanaAlert struct {
	amAlert
	// Values maps a query ref ID to its value: a number, or null; "NaN" and
	// "±Inf" as strings are accepted too.
	Values       map[string]json.RawMessage `json:"values"`
	ValueString  string                     `json:"valueString"`
	DashboardURL string                     `json:"dashboardURL"`
	PanelURL     string                     `json:"panelURL"`
	SilenceURL   string                     `json:"silenceURL"`
	ImageURL     string                     `json:"imageURL"`
	OrgID        json.Number                `json:"orgId"`
}

// Keys of Alert.Extra.
const (
	ExtraDashboardURL = "dashboardURL"
	ExtraPanelURL     = "panelURL"
	ExtraSilenceURL   = "silenceURL"
	ExtraImageURL     = "imageURL"
	ExtraValueString  = "valueString"
	// ExtraValues holds Grafana's values as a JSON object with sorted keys,
	// e.g. {"B":44.2,"C":1}.
	ExtraValues = "values"
	ExtraOrgID  = "orgId"
	// ExtraFingerprint keeps a sender's fingerprint that was not 16 hex
	// digits and so was replaced by a computed one.
	ExtraFingerprint = "fingerprint"
)

// decodeGrafana decodes a Grafana body as decodeAlertmanager does.
func (l Limits) decodeGrafana(body []byte, now time.Time) (decoded, error) {
	m, ok := fastGrafana(body, l.MaxAlerts)
	if !ok {
		var err error
		if m, err = l.grafanaMessageJSON(body); err != nil {
			return decoded{}, err
		}
	}
	if err := checkVersion(m.Version, "1", "4", pathAlertmanager); err != nil {
		return decoded{}, err
	}
	if err := l.checkCount(amNames, len(m.Alerts)); err != nil {
		return decoded{}, err
	}
	d := decoded{Truncated: m.TruncatedAlerts, Delivery: correlate.Delivery{
		Source: correlate.SourceGrafana, ReceivedAt: now,
		Receiver: receiverOf(&m.Message), GroupKey: m.GroupKey,
		Alerts: make([]correlate.Alert, len(m.Alerts)),
	}}
	for i := range m.Alerts {
		ga := &m.Alerts[i]
		out := &d.Alerts[i]
		if err := l.normalize(out, ga.raw(), amNames, i, now); err != nil {
			return decoded{}, err
		}
		orgID := ga.OrgID
		if orgID == "" {
			orgID = m.OrgID
		}
		for _, kv := range [...]struct{ k, v string }{
			{ExtraDashboardURL, ga.DashboardURL}, {ExtraPanelURL, ga.PanelURL},
			{ExtraSilenceURL, ga.SilenceURL}, {ExtraImageURL, ga.ImageURL},
			{ExtraValueString, ga.ValueString}, {ExtraOrgID, orgID.String()},
		} {
			setExtra(out, kv.k, kv.v)
		}
		if len(ga.Values) > 0 {
			v, bad := grafanaValues(ga.Values)
			if bad != "" {
				return decoded{}, fieldErr(reasonInvalid, amNames.at(i, "values."+bad), "want a number or null")
			}
			setExtra(out, ExtraValues, v)
		}
	}
	return d, nil
}

// grafanaMessageJSON is the general path of decodeGrafana (see
// amMessageJSON).
func (l Limits) grafanaMessageJSON(body []byte) (grafanaMessage, error) {
	if err := checkBody(body); err != nil {
		return grafanaMessage{}, err
	}
	if err := l.checkArrayLen(body, amNames); err != nil {
		return grafanaMessage{}, err
	}
	var m grafanaMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return grafanaMessage{}, jsonError(err, body, "alerts", func(b []byte) error {
			var a grafanaAlert
			return json.Unmarshal(b, &a)
		})
	}
	return m, nil
}

func setExtra(a *correlate.Alert, k, v string) {
	if v == "" {
		return
	}
	if a.Extra == nil {
		a.Extra = make(map[string]string, 4)
	}
	a.Extra[k] = v
}

// grafanaValues renders values as a JSON object with sorted keys. It returns
// the key of a value that is neither a number, null, nor a string holding a
// float (Grafana's NaN and ±Inf).
func grafanaValues(vals map[string]json.RawMessage) (rendered, badKey string) {
	var arr [8]string
	keys := arr[:0]
	size := 2
	for k, v := range vals {
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('{')
	for i, k := range keys {
		v := vals[k]
		switch {
		case len(v) == 0:
			return "", k
		case string(v) == "null", v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
			// null, or a number encoding/json has already checked.
		case v[0] == '"':
			var s string
			if json.Unmarshal(v, &s) != nil {
				return "", k
			}
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				return "", k
			}
		default:
			return "", k
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if plainJSONString(k) {
			b.WriteByte('"')
			b.WriteString(k)
			b.WriteByte('"')
		} else {
			kq, _ := json.Marshal(k)
			b.Write(kq)
		}
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String(), ""
}

// plainJSONString reports whether json.Marshal writes s as it is between
// quotes: printable ASCII without the characters it escapes.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// --- generic events -------------------------------------------------------

type eventsBody struct {
	Events []event `json:"events"`
}

// event is one generic event (contract §2). Unknown fields are rejected.
type event struct {
	Source      string            `json:"source"`
	Fingerprint string            `json:"fingerprint"`
	Status      string            `json:"status"`
	Severity    string            `json:"severity"`
	Summary     string            `json:"summary"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    string            `json:"starts_at"`
	EndsAt      string            `json:"ends_at"`
}

// Severities an event's severity field may take.
var eventSeverities = []string{"critical", "high", "warning", "info"}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailingData{dec.InputOffset()}
	}
	return nil
}

// decodeEvents decodes generic events. Each event becomes an alert:
//   - source is required and becomes the label "source" (an event whose
//     labels.source differs from it is rejected);
//   - severity, when given, must be critical, high, warning or info and
//     becomes labels.severity unless the labels already have one;
//   - summary becomes annotations.summary unless already set, and
//     labels.alertname when the labels have none (one of the two is required);
//   - without a fingerprint, the fingerprint is that of the labels (source
//     included); a fingerprint that is not 16 hex digits is the sender's own
//     ID, and is hashed together with the source into one.
func (l Limits) decodeEvents(body []byte, now time.Time) (decoded, error) {
	if err := checkBody(body); err != nil {
		return decoded{}, err
	}
	if err := l.checkArrayLen(body, eventNames); err != nil {
		return decoded{}, err
	}
	var m eventsBody
	if err := decodeStrict(body, &m); err != nil {
		return decoded{}, jsonError(err, body, "events", func(b []byte) error {
			var e event
			return decodeStrict(b, &e)
		})
	}
	if err := l.checkCount(eventNames, len(m.Events)); err != nil {
		return decoded{}, err
	}
	d := decoded{Delivery: correlate.Delivery{
		Source: correlate.SourceEvents, ReceivedAt: now,
		Alerts: make([]correlate.Alert, len(m.Events)),
	}}
	for i := range m.Events {
		raw, err := eventToRaw(&m.Events[i], i)
		if err != nil {
			return decoded{}, err
		}
		if err := l.normalize(&d.Alerts[i], raw, eventNames, i, now); err != nil {
			return decoded{}, err
		}
		if fp := m.Events[i].Fingerprint; fp != "" && fp != raw.Fingerprint {
			setExtra(&d.Alerts[i], ExtraFingerprint, fp)
		}
	}
	return d, nil
}

func eventToRaw(e *event, i int) (rawAlert, error) {
	if e.Source == "" {
		return rawAlert{}, fieldErr(reasonInvalid, eventNames.at(i, "source"), "required")
	}
	labels := e.Labels
	if labels == nil {
		labels = make(map[string]string, 4)
	}
	if v, ok := labels["source"]; ok && v != e.Source {
		return rawAlert{}, fieldErr(reasonInvalid, eventNames.at(i, "labels.source"), "%q conflicts with source %q", v, e.Source)
	}
	labels["source"] = e.Source
	if e.Severity != "" {
		ok := false
		for _, s := range eventSeverities {
			ok = ok || e.Severity == s
		}
		if !ok {
			return rawAlert{}, fieldErr(reasonInvalid, eventNames.at(i, "severity"), "%q: want one of %s", e.Severity, strings.Join(eventSeverities, ", "))
		}
		if _, set := labels["severity"]; !set {
			labels["severity"] = e.Severity
		}
	}
	annotations := e.Annotations
	if e.Summary != "" {
		if _, set := annotations["summary"]; !set {
			if annotations == nil {
				annotations = make(map[string]string, 1)
			}
			annotations["summary"] = e.Summary
		}
		if labels["alertname"] == "" {
			labels["alertname"] = e.Summary
		}
	}
	fp := e.Fingerprint
	if fp != "" && !isFingerprint(fp) {
		fp = correlate.LabelsFingerprint(map[string]string{"source": e.Source, "fingerprint": fp})
	}
	return rawAlert{
		Status: e.Status, Labels: labels, Annotations: annotations,
		StartsAt: e.StartsAt, EndsAt: e.EndsAt, Fingerprint: fp,
	}, nil
}

// --- JSON errors ----------------------------------------------------------

// errTrailingData is a JSON value followed by more than white space.
type errTrailingData struct{ offset int64 }

func (e errTrailingData) Error() string {
	return fmt.Sprintf("unexpected data after the JSON value at byte %d", e.offset)
}

const msgUnknownField = "unknown field"

// jsonError turns an encoding/json error into a *FieldError. When the error
// may lie inside the array named array, it finds the element at fault by
// decoding the elements one by one with decodeElem: slow, but only on this
// error path.
func jsonError(err error, body []byte, array string, decodeElem func([]byte) error) *FieldError {
	fe := jsonErrorAt(err)
	if fe.Msg != msgUnknownField && !strings.HasPrefix(fe.Field, array+".") {
		return fe
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return fe
	}
	raw, ok := top[array]
	if !ok { // encoding/json matches keys case-insensitively
		for k, v := range top {
			if strings.EqualFold(k, array) {
				raw = v
				break
			}
		}
	}
	var elems []json.RawMessage
	if json.Unmarshal(raw, &elems) != nil {
		return fe
	}
	for i, e := range elems {
		if err := decodeElem(e); err != nil {
			efe := jsonErrorAt(err)
			field := fmt.Sprintf("%s[%d]", array, i)
			switch {
			case efe.Field == "body":
			case strings.HasPrefix(efe.Field, "["):
				field += efe.Field
			default:
				field += "." + efe.Field
			}
			efe.Field = field
			return efe
		}
	}
	return fe
}

// jsonErrorAt converts err without locating array elements: Field is the
// path encoding/json knows (alerts.labels for alerts[3].labels), the name of
// an unknown field, or "body" when the JSON itself is broken.
func jsonErrorAt(err error) *FieldError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var td errTrailingData
	switch {
	case errors.As(err, &td):
		return fieldErr(reasonMalformed, "body", "%v", td)
	case errors.As(err, &se):
		return fieldErr(reasonMalformed, "body", "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fieldErr(reasonMalformed, "body", "malformed JSON: unexpected end of input")
	case errors.As(err, &te):
		field := jsonPath(te.Field)
		if field == "" {
			field = "body"
		}
		return fieldErr(reasonMalformed, field, "want %s, got %s", jsonKind(te.Type), te.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if n, err := strconv.Unquote(name); err == nil {
			name = n
		}
		return fieldErr(reasonMalformed, keyPath("", name), msgUnknownField)
	}
	return fieldErr(reasonMalformed, "body", "%v", err)
}

// jsonPath removes from an encoding/json field path the names of the
// embedded Go structs it goes through (Message.version is version).
func jsonPath(p string) string {
	parts := strings.Split(p, ".")
	parts = slices.DeleteFunc(parts, func(s string) bool {
		switch s {
		case "Message", "Data", "Alert", "amAlert":
			return true
		}
		return false
	})
	return strings.Join(parts, ".")
}

func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}
