package embedded

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
)

// decodeEpisode decodes an episode's data column into ep. The column is
// written by json.Marshal (applyTx), so its spelling is known: a fast path
// reads that spelling, without reflection, and leaves anything else (a key
// it does not know, a repeated key, a null where it expects a value, an
// escape it does not take, a number spelled otherwise) to json.Unmarshal.
// Either way ep is what json.Unmarshal makes of data (episodejson_test.go
// holds the fast path to it).
func decodeEpisode(data []byte, ep *correlate.Episode) error {
	*ep = correlate.Episode{}
	r := jsonReader{b: data}
	if r.episode(ep) {
		return nil
	}
	*ep = correlate.Episode{}
	return json.Unmarshal(data, ep)
}

// decodeIncident decodes an incident's data column into in, as
// decodeEpisode does an episode's (the fast path takes the fields a replay
// or the engine sets; the analyst workflow's records go to json.Unmarshal).
func decodeIncident(data []byte, in *incident.Incident) error {
	*in = incident.Incident{}
	r := jsonReader{b: data}
	if r.incident(in) {
		return nil
	}
	*in = incident.Incident{}
	return json.Unmarshal(data, in)
}

// jsonReader reads the JSON that encoding/json writes. Its methods return
// false as soon as the input is not what they expect.
type jsonReader struct {
	b []byte
	i int
}

func (r *jsonReader) byte(c byte) bool {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

func (r *jsonReader) null() bool {
	if bytes.HasPrefix(r.b[r.i:], []byte("null")) {
		r.i += 4
		return true
	}
	return false
}

// object reads an object, calling field for each key with the reader at
// its value.
func (r *jsonReader) object(field func(key []byte) bool) bool {
	if !r.byte('{') {
		return false
	}
	if r.byte('}') {
		return true
	}
	for {
		k, ok := r.strBytes()
		if !ok || !r.byte(':') || !field(k) {
			return false
		}
		if r.byte(',') {
			continue
		}
		return r.byte('}')
	}
}

// strBytes reads a string and returns its text, which may alias the input.
func (r *jsonReader) strBytes() ([]byte, bool) {
	if !r.byte('"') {
		return nil, false
	}
	start := r.i
	q := bytes.IndexByte(r.b[start:], '"')
	if q < 0 {
		return nil, false
	}
	inner := r.b[start : start+q]
	plain := true
	for _, c := range inner {
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		r.i = start + q + 1
		return inner, true
	}
	// Escapes, or text beyond ASCII: the string ends at the first quote
	// that no backslash escapes.
	for end := start; end < len(r.b); end++ {
		switch c := r.b[end]; {
		case c == '\\':
			end++
		case c < 0x20:
			return nil, false
		case c == '"':
			r.i = end + 1
			return unquote(r.b[start:end])
		}
	}
	return nil, false
}

func (r *jsonReader) str(dst *string) bool {
	b, ok := r.strBytes()
	*dst = string(b)
	return ok
}

// unquote decodes the escapes of a string's inner bytes as encoding/json
// does, refusing what encoding/json would repair (invalid UTF-8, a lone
// surrogate).
func unquote(in []byte) ([]byte, bool) {
	if !utf8.Valid(in) {
		return nil, false
	}
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		c := in[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(in) {
			return nil, false
		}
		switch in[i+1] {
		case '"', '\\', '/':
			out = append(out, in[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(in[i+2:])
			if !ok {
				return nil, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if len(in) < i+6 || in[i] != '\\' || in[i+1] != 'u' {
					return nil, false
				}
				r2, ok := hex4(in[i+2:])
				if !ok {
					return nil, false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return nil, false
				}
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, false
		}
		i += 2
	}
	return out, true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// number reads a number token as JSON spells it.
func (r *jsonReader) number() ([]byte, bool) {
	start := r.i
	r.byte('-')
	digits := func() bool {
		s := r.i
		for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
			r.i++
		}
		return r.i > s
	}
	switch {
	case r.byte('0'):
	case r.i < len(r.b) && '1' <= r.b[r.i] && r.b[r.i] <= '9':
		digits()
	default:
		return nil, false
	}
	if r.byte('.') && !digits() {
		return nil, false
	}
	if r.byte('e') || r.byte('E') {
		if !r.byte('+') {
			r.byte('-')
		}
		if !digits() {
			return nil, false
		}
	}
	return r.b[start:r.i], true
}

func (r *jsonReader) int64(dst *int64) bool {
	n, ok := r.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	*dst = v
	return err == nil
}

func (r *jsonReader) int(dst *int) bool {
	var v int64
	ok := r.int64(&v)
	*dst = int(v)
	return ok
}

func (r *jsonReader) float(dst *float64) bool {
	n, ok := r.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(string(n), 64)
	*dst = v
	return err == nil
}

// time reads a time as time.Time's UnmarshalJSON does (the quoted text as
// it stands).
func (r *jsonReader) time(dst *time.Time) bool {
	start := r.i
	if _, ok := r.strBytes(); !ok {
		return false
	}
	return dst.UnmarshalJSON(r.b[start:r.i]) == nil
}

// stringMap reads an object of strings, or null.
func (r *jsonReader) stringMap(dst *map[string]string) bool {
	if r.null() {
		*dst = nil
		return true
	}
	m := map[string]string{}
	*dst = m
	return r.object(func(k []byte) bool {
		v, ok := r.strBytes()
		m[string(k)] = string(v)
		return ok
	})
}

// strings reads an array of strings, or null.
func (r *jsonReader) strings(dst *[]string) bool {
	if r.null() {
		*dst = nil
		return true
	}
	if !r.byte('[') {
		return false
	}
	out := []string{}
	if !r.byte(']') {
		for {
			var s string
			if !r.str(&s) {
				return false
			}
			out = append(out, s)
			if r.byte(',') {
				continue
			}
			if !r.byte(']') {
				return false
			}
			break
		}
	}
	*dst = out
	return true
}

// once reports whether the key with this bit is seen for the first time:
// encoding/json lets a repeated key merge or override, which the fast path
// leaves to it.
func once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// episode reads the JSON of a correlate.Episode.
func (r *jsonReader) episode(ep *correlate.Episode) bool {
	var seen uint32
	ok := r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return once(&seen, 1<<0) && r.int64(&ep.ID)
		case "fingerprint":
			return once(&seen, 1<<1) && r.str(&ep.Fingerprint)
		case "starts_at":
			return once(&seen, 1<<2) && r.str(&ep.StartsAtRaw)
		case "source":
			var s string
			ok := once(&seen, 1<<3) && r.str(&s)
			ep.Source = correlate.Source(s)
			return ok
		case "labels":
			return once(&seen, 1<<4) && r.stringMap(&ep.Labels)
		case "annotations":
			return once(&seen, 1<<5) && r.stringMap(&ep.Annotations)
		case "generator_url":
			return once(&seen, 1<<6) && r.str(&ep.GeneratorURL)
		case "extra":
			return once(&seen, 1<<7) && r.stringMap(&ep.Extra)
		case "first_seen":
			return once(&seen, 1<<8) && r.time(&ep.FirstSeen)
		case "last_seen":
			return once(&seen, 1<<9) && r.time(&ep.LastSeen)
		case "notifications":
			return once(&seen, 1<<10) && r.int(&ep.Notifications)
		case "incident_id":
			return once(&seen, 1<<11) && r.str(&ep.IncidentID)
		case "joined_at":
			return once(&seen, 1<<12) && r.time(&ep.JoinedAt)
		case "explanation":
			if !once(&seen, 1<<13) {
				return false
			}
			if r.null() {
				return true
			}
			ep.Explanation = &incident.Explanation{}
			return r.explanation(ep.Explanation)
		case "ci":
			return once(&seen, 1<<14) && r.str(&ep.CI)
		case "suppressed":
			return once(&seen, 1<<15) && r.str(&ep.Suppressed)
		case "version":
			return once(&seen, 1<<16) && r.int64(&ep.Version)
		}
		return false
	})
	return ok && r.i == len(r.b)
}

func (r *jsonReader) explanation(x *incident.Explanation) bool {
	var seen uint32
	return r.object(func(k []byte) bool {
		switch string(k) {
		case "method":
			return once(&seen, 1<<0) && r.str(&x.Method)
		case "rule":
			return once(&seen, 1<<1) && r.str(&x.Rule)
		case "window":
			return once(&seen, 1<<2) && r.str(&x.Window)
		case "shared_labels":
			return once(&seen, 1<<3) && r.stringMap(&x.SharedLabels)
		case "ci_path":
			return once(&seen, 1<<4) && r.strings(&x.CIPath)
		case "score":
			return once(&seen, 1<<5) && r.float(&x.Score)
		case "reason":
			return once(&seen, 1<<6) && r.str(&x.Reason)
		}
		return false
	})
}

// bool reads true or false.
func (r *jsonReader) bool(dst *bool) bool {
	switch {
	case bytes.HasPrefix(r.b[r.i:], []byte("true")):
		r.i += 4
		*dst = true
	case bytes.HasPrefix(r.b[r.i:], []byte("false")):
		r.i += 5
		*dst = false
	default:
		return false
	}
	return true
}

// timePtr reads a time into a new *time.Time, as encoding/json does.
func (r *jsonReader) timePtr(dst **time.Time) bool {
	t := new(time.Time)
	*dst = t
	return r.time(t)
}

// text reads a string token and hands it, quotes and all, to unmarshal (a
// type's UnmarshalJSON, which encoding/json calls with the token as is).
func (r *jsonReader) text(unmarshal func([]byte) error) bool {
	start := r.i
	if _, ok := r.strBytes(); !ok {
		return false
	}
	return unmarshal(r.b[start:r.i]) == nil
}

// incident reads the JSON of an incident.Incident, less the analyst
// workflow's lists (escalations, pauses, SLA marks), which it leaves to
// json.Unmarshal.
func (r *jsonReader) incident(in *incident.Incident) bool {
	var seen uint64
	once := func(bit uint64) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	ok := r.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return once(1<<0) && r.str(&in.ID)
		case "status":
			return once(1<<1) && r.text(in.Status.UnmarshalJSON)
		case "priority":
			return once(1<<2) && r.text(in.Priority.UnmarshalJSON)
		case "severity":
			return once(1<<3) && r.str(&in.Severity)
		case "title":
			return once(1<<4) && r.str(&in.Title)
		case "method":
			return once(1<<5) && r.str(&in.Method)
		case "rule":
			return once(1<<6) && r.str(&in.Rule)
		case "group_key":
			return once(1<<7) && r.str(&in.GroupKey)
		case "labels":
			return once(1<<8) && r.stringMap(&in.Labels)
		case "opened_at":
			return once(1<<9) && r.time(&in.OpenedAt)
		case "updated_at":
			return once(1<<10) && r.time(&in.UpdatedAt)
		case "resolved_at":
			return once(1<<11) && r.timePtr(&in.ResolvedAt)
		case "closed_at":
			return once(1<<12) && r.timePtr(&in.ClosedAt)
		case "root_cause_ci":
			return once(1<<13) && r.str(&in.RootCauseCI)
		case "root_cause_inferred":
			return once(1<<14) && r.bool(&in.RootCauseInferred)
		case "flapping":
			return once(1<<15) && r.bool(&in.Flapping)
		case "problem_id":
			return once(1<<16) && r.str(&in.ProblemID)
		case "workaround":
			return once(1<<17) && r.str(&in.Workaround)
		case "merged_into":
			return once(1<<18) && r.str(&in.MergedInto)
		case "alert_count":
			return once(1<<19) && r.int(&in.AlertCount)
		case "firing_count":
			return once(1<<20) && r.int(&in.FiringCount)
		case "reopens":
			return once(1<<21) && r.int(&in.Reopens)
		case "first_event_at":
			return once(1<<22) && r.time(&in.FirstEventAt)
		case "last_event_at":
			return once(1<<23) && r.time(&in.LastEventAt)
		case "version":
			return once(1<<24) && r.int64(&in.Version)
		case "urgency":
			return once(1<<25) && r.text(in.Urgency.UnmarshalJSON)
		case "impact":
			return once(1<<26) && r.text(in.Impact.UnmarshalJSON)
		case "category":
			return once(1<<27) && r.str(&in.Category)
		case "subcategory":
			return once(1<<28) && r.str(&in.Subcategory)
		case "major":
			return once(1<<29) && r.bool(&in.Major)
		case "major_at":
			return once(1<<30) && r.timePtr(&in.MajorAt)
		case "coordinator":
			return once(1<<31) && r.str(&in.Coordinator)
		case "level":
			return once(1<<32) && r.text(in.Level.UnmarshalJSON)
		case "assignment_group":
			return once(1<<33) && r.str(&in.AssignmentGroup)
		case "assignee":
			return once(1<<34) && r.str(&in.Assignee)
		case "escalation_count":
			return once(1<<35) && r.int(&in.EscalationCount)
		case "bounces":
			return once(1<<36) && r.int(&in.Bounces)
		case "decided_by":
			return once(1<<37) && r.str(&in.DecidedBy)
		case "reject_reason":
			return once(1<<38) && r.str(&in.RejectReason)
		case "closure_code":
			return once(1<<39) && r.str(&in.ClosureCode)
		case "confirmed_at":
			return once(1<<40) && r.timePtr(&in.ConfirmedAt)
		case "rejected_at":
			return once(1<<41) && r.timePtr(&in.RejectedAt)
		case "acknowledged_at":
			return once(1<<42) && r.timePtr(&in.AcknowledgedAt)
		case "started_at":
			return once(1<<43) && r.timePtr(&in.StartedAt)
		}
		return false
	})
	return ok && r.i == len(r.b)
}
