package embedded

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
)

// The data columns of episodes and timeline events are json.Marshal's
// encoding of correlate.Episode and incident.Event. The writer spells them
// without reflection: appendEpisode and appendEvent write the very bytes
// json.Marshal writes (rowjson_test.go compares them, field list included,
// so a field added to those types fails the test until it is added here),
// and fall back to json.Marshal for what they do not spell (a time outside
// RFC 3339, a score that is not a finite number).

// marshalEpisode returns the data column of ep.
func marshalEpisode(buf []byte, ep *correlate.Episode) ([]byte, error) {
	if b, ok := appendEpisode(buf[:0], ep); ok {
		return b, nil
	}
	return json.Marshal(ep)
}

// marshalEvent returns the data column of ev.
func marshalEvent(buf []byte, ev *incident.Event) ([]byte, error) {
	if b, ok := appendEvent(buf[:0], ev); ok {
		return b, nil
	}
	return json.Marshal(ev)
}

func appendEpisode(b []byte, ep *correlate.Episode) ([]byte, bool) {
	ok := true
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, ep.ID, 10)
	b = append(b, `,"fingerprint":`...)
	b = appendString(b, ep.Fingerprint)
	b = append(b, `,"starts_at":`...)
	b = appendString(b, ep.StartsAtRaw)
	b = append(b, `,"source":`...)
	b = appendString(b, string(ep.Source))
	b = append(b, `,"labels":`...)
	b = appendMap(b, ep.Labels)
	if len(ep.Annotations) > 0 {
		b = append(b, `,"annotations":`...)
		b = appendMap(b, ep.Annotations)
	}
	if ep.GeneratorURL != "" {
		b = append(b, `,"generator_url":`...)
		b = appendString(b, ep.GeneratorURL)
	}
	if len(ep.Extra) > 0 {
		b = append(b, `,"extra":`...)
		b = appendMap(b, ep.Extra)
	}
	b = append(b, `,"first_seen":`...)
	b, ok = appendTime(b, ep.FirstSeen, ok)
	b = append(b, `,"last_seen":`...)
	b, ok = appendTime(b, ep.LastSeen, ok)
	b = append(b, `,"notifications":`...)
	b = strconv.AppendInt(b, int64(ep.Notifications), 10)
	if ep.IncidentID != "" {
		b = append(b, `,"incident_id":`...)
		b = appendString(b, ep.IncidentID)
	}
	b = append(b, `,"joined_at":`...)
	b, ok = appendTime(b, ep.JoinedAt, ok)
	if x := ep.Explanation; x != nil {
		b = append(b, `,"explanation":{"method":`...)
		b = appendString(b, x.Method)
		if x.Rule != "" {
			b = append(b, `,"rule":`...)
			b = appendString(b, x.Rule)
		}
		if x.Window != "" {
			b = append(b, `,"window":`...)
			b = appendString(b, x.Window)
		}
		if len(x.SharedLabels) > 0 {
			b = append(b, `,"shared_labels":`...)
			b = appendMap(b, x.SharedLabels)
		}
		if len(x.CIPath) > 0 {
			b = append(b, `,"ci_path":[`...)
			for i, s := range x.CIPath {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, s)
			}
			b = append(b, ']')
		}
		b = append(b, `,"score":`...)
		b, ok = appendFloat(b, x.Score, ok)
		b = append(b, `,"reason":`...)
		b = appendString(b, x.Reason)
		b = append(b, '}')
	}
	if ep.CI != "" {
		b = append(b, `,"ci":`...)
		b = appendString(b, ep.CI)
	}
	if ep.Suppressed != "" {
		b = append(b, `,"suppressed":`...)
		b = appendString(b, ep.Suppressed)
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, ep.Version, 10)
	return append(b, '}'), ok
}

func appendEvent(b []byte, ev *incident.Event) ([]byte, bool) {
	ok := true
	b = append(b, `{"incident_id":`...)
	b = appendString(b, ev.IncidentID)
	b = append(b, `,"at":`...)
	b, ok = appendTime(b, ev.At, ok)
	b = append(b, `,"actor":`...)
	b = appendString(b, ev.Actor)
	b = append(b, `,"kind":`...)
	b = appendString(b, ev.Kind)
	if ev.From != "" {
		b = append(b, `,"from":`...)
		b = appendString(b, ev.From)
	}
	if ev.To != "" {
		b = append(b, `,"to":`...)
		b = appendString(b, ev.To)
	}
	if ev.Comment != "" {
		b = append(b, `,"comment":`...)
		b = appendString(b, ev.Comment)
	}
	if len(ev.Data) > 0 {
		b = append(b, `,"data":`...)
		b = appendMap(b, ev.Data)
	}
	return append(b, '}'), ok
}

// eventKeys is storage.EventKeys computed from the events' data columns
// (the same json.Marshal bytes it hashes), so that each event is encoded
// once: datas[i] is the data column of event i.
func eventKeys(offset uint64, datas [][]byte) []string {
	keys := make([]string, len(datas))
	seen := make(map[[sha256.Size]byte]uint32, len(datas))
	var head [12]byte
	binary.BigEndian.PutUint64(head[:8], offset)
	for i, data := range datas {
		content := sha256.Sum256(data)
		n := seen[content]
		seen[content] = n + 1
		binary.BigEndian.PutUint32(head[8:], n)
		h := sha256.New()
		h.Write(head[:])
		h.Write(content[:])
		keys[i] = hex.EncodeToString(h.Sum(nil)[:16])
	}
	return keys
}

// appendMap writes a map as encoding/json does: null when nil, keys sorted.
func appendMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var stack [16]string
	keys := stack[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

// appendTime writes t as its MarshalJSON does; ok turns false for the times
// it refuses (a year outside 0-9999, an offset beyond 23 hours).
func appendTime(b []byte, t time.Time, ok bool) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), ok
}

// appendFloat writes f as encoding/json writes a float64.
func appendFloat(b []byte, f float64, ok bool) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json has it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, ok
}

// htmlSafe marks the ASCII bytes encoding/json writes as they are (with
// its default HTML escaping).
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf-1; c++ {
		switch c {
		case '"', '\\', '<', '>', '&':
		default:
			t[c] = true
		}
	}
	return t
}()

// appendString writes s as encoding/json does (HTML-safe, invalid UTF-8 as
// U+FFFD, U+2028 and U+2029 escaped).
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
