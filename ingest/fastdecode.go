package ingest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/maphash"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/template"
)

// The fast path of the Alertmanager and Grafana decoders (issue 9): one
// pass over the body, without reflection, filling the very amMessage or
// grafanaMessage that json.Unmarshal would fill.
//
// It takes a body only when it can decode it exactly as the general path
// (checkBody, checkArrayLen, then json.Unmarshal) would accept and decode
// it. Everything else it declines, and the general path runs as before,
// with its own error messages: a body that is not JSON or not UTF-8, a key
// that matches a field only case-insensitively (encoding/json would take
// it), a repeated field (encoding/json merges), a wrong JSON type, a label
// or annotation value that is null, an orgId written as a string, a
// truncatedAlerts that is not a uint64, values nested deeper than
// wireMaxDepth, more alerts than MaxAlerts. So the fast path never decides
// to reject anything; it only ever saves the general path's work. Syntax is
// checked fully as it reads (RFC 8259 as encoding/json's scanner checks
// it, trailing data included), and strings are decoded as encoding/json
// decodes them: escapes, surrogate pairs, and U+FFFD for a lone surrogate;
// invalid UTF-8, which checkBody refuses, is declined.
//
// FuzzFastDecodeAgrees holds it to this: for any input, when the fast
// path takes it, the general path accepts it and decodes the same value
// (reflect.DeepEqual).

// fastAlertmanager decodes an Alertmanager body; false when it leaves the
// body to the general path.
func fastAlertmanager(body []byte, maxAlerts int) (amMessage, bool) {
	d := wireDecoder{b: body, maxAlerts: maxAlerts}
	var m amMessage
	if !d.document(&m.Message, &m.Alerts, nil, nil) {
		return amMessage{}, false
	}
	return m, true
}

// fastGrafana decodes a Grafana body; false when it leaves the body to the
// general path.
func fastGrafana(body []byte, maxAlerts int) (grafanaMessage, bool) {
	d := wireDecoder{b: body, maxAlerts: maxAlerts}
	var m grafanaMessage
	if !d.document(&m.Message, nil, &m.Alerts, &m.OrgID) {
		return grafanaMessage{}, false
	}
	return m, true
}

const (
	// wireMaxDepth bounds the nesting of the values the fast path skips
	// (encoding/json's own bound is 10000: deeper bodies go to it).
	wireMaxDepth = 64
	// Strings up to wireInternMax bytes go through a small cache, so that
	// the label names and the values that repeat from alert to alert in a
	// body are allocated once per body.
	wireInternMax = 128
	wireCacheSize = 512 // a power of two
)

var wireSeed = maphash.MakeSeed()

// wireDecoder reads one body. Its methods return false as soon as the body
// leaves what the fast path takes.
type wireDecoder struct {
	b         []byte
	i         int
	maxAlerts int
	// esc holds the decoded text of the last string read that had escapes.
	esc []byte
	// pairs holds the members of the object being read.
	pairs []wirePair
	// cache holds short strings read before, in sets of two by hash.
	cache [wireCacheSize]string
}

type wirePair struct{ k, v string }

// Field names, for the keys that name a field only case-insensitively.
var (
	wireMessageNames = wireNames("version", "groupKey", "truncatedAlerts", "receiver", "status", "alerts",
		"groupLabels", "commonLabels", "commonAnnotations", "externalURL")
	wireGrafanaMessageNames = append(wireNames("orgId"), wireMessageNames...)
	wireAlertNames          = wireNames("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint")
	wireGrafanaAlertNames   = append(wireNames("values", "valueString", "dashboardURL", "panelURL", "silenceURL",
		"imageURL", "orgId"), wireAlertNames...)
)

func wireNames(names ...string) [][]byte {
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = []byte(n)
	}
	return out
}

// document reads the whole body: one object, white space around it. Exactly
// one of amAlerts and gfAlerts is set; orgID is set for Grafana.
func (d *wireDecoder) document(msg *webhook.Message, amAlerts *[]amAlert, gfAlerts *[]grafanaAlert, orgID *json.Number) bool {
	d.ws()
	if d.peek() != '{' {
		return false // null, another type, or not JSON
	}
	names := wireMessageNames
	if orgID != nil {
		names = wireGrafanaMessageNames
	}
	var seen wireSeen
	ok := d.object(func(key []byte) bool {
		switch string(key) {
		case "version":
			return seen.first(0) && d.strField(&msg.Version)
		case "groupKey":
			return seen.first(1) && d.strField(&msg.GroupKey)
		case "truncatedAlerts":
			return seen.first(2) && d.uint64Field(&msg.TruncatedAlerts)
		case "alerts":
			if !seen.first(3) {
				return false
			}
			if amAlerts != nil {
				return wireArray(d, amAlerts, d.amAlert)
			}
			return wireArray(d, gfAlerts, d.grafanaAlert)
		case "orgId":
			if orgID == nil {
				break
			}
			return seen.first(4) && d.numberField(orgID)
		case "receiver", "status", "groupLabels", "commonLabels", "commonAnnotations", "externalURL":
			// Fields of the embedded *template.Data, which encoding/json
			// allocates for any of them, even with a null value.
			if msg.Data == nil {
				msg.Data = new(template.Data)
			}
			data := msg.Data
			switch string(key) {
			case "receiver":
				return seen.first(5) && d.strField(&data.Receiver)
			case "status":
				return seen.first(6) && d.strField(&data.Status)
			case "groupLabels":
				return seen.first(7) && d.mapField(&data.GroupLabels)
			case "commonLabels":
				return seen.first(8) && d.mapField(&data.CommonLabels)
			case "commonAnnotations":
				return seen.first(9) && d.mapField(&data.CommonAnnotations)
			default:
				return seen.first(10) && d.strField(&data.ExternalURL)
			}
		}
		return d.unknown(key, names)
	})
	if !ok {
		return false
	}
	d.ws()
	return d.i == len(d.b) // trailing data is a syntax error
}

// amAlert reads one element of an Alertmanager body's alerts.
func (d *wireDecoder) amAlert(a *amAlert) bool {
	if d.peek() == 'n' {
		return d.literal("null") // leaves the element zero, as encoding/json does
	}
	if d.peek() != '{' {
		return false
	}
	var seen wireSeen
	return d.object(func(key []byte) bool {
		if ok, known := d.alertField(a, key, &seen); known {
			return ok
		}
		return d.unknown(key, wireAlertNames)
	})
}

// grafanaAlert reads one element of a Grafana body's alerts.
func (d *wireDecoder) grafanaAlert(a *grafanaAlert) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	if d.peek() != '{' {
		return false
	}
	var seen wireSeen
	return d.object(func(key []byte) bool {
		if ok, known := d.alertField(&a.amAlert, key, &seen); known {
			return ok
		}
		switch string(key) {
		case "values":
			return seen.first(7) && d.rawMapField(&a.Values)
		case "valueString":
			return seen.first(8) && d.strField(&a.ValueString)
		case "dashboardURL":
			return seen.first(9) && d.strField(&a.DashboardURL)
		case "panelURL":
			return seen.first(10) && d.strField(&a.PanelURL)
		case "silenceURL":
			return seen.first(11) && d.strField(&a.SilenceURL)
		case "imageURL":
			return seen.first(12) && d.strField(&a.ImageURL)
		case "orgId":
			return seen.first(13) && d.numberField(&a.OrgID)
		}
		return d.unknown(key, wireGrafanaAlertNames)
	})
}

// alertField reads the value of an Alertmanager alert's field key; known
// is false when key names none.
func (d *wireDecoder) alertField(a *amAlert, key []byte, seen *wireSeen) (ok, known bool) {
	switch string(key) {
	case "status":
		return seen.first(0) && d.strField(&a.Status), true
	case "labels":
		return seen.first(1) && d.mapField(&a.Labels), true
	case "annotations":
		return seen.first(2) && d.mapField(&a.Annotations), true
	case "startsAt":
		return seen.first(3) && d.strField(&a.StartsAt), true
	case "endsAt":
		return seen.first(4) && d.strField(&a.EndsAt), true
	case "generatorURL":
		return seen.first(5) && d.strField(&a.GeneratorURL), true
	case "fingerprint":
		return seen.first(6) && d.strField(&a.Fingerprint), true
	}
	return false, false
}

// wireSeen records the fields an object has set: a field met twice sends
// the body to encoding/json, which merges repeated fields.
type wireSeen uint32

func (s *wireSeen) first(bit uint) bool {
	if *s&(1<<bit) != 0 {
		return false
	}
	*s |= 1 << bit
	return true
}

// unknown skips the value of a key that is no field's exact name, unless
// it names one case-insensitively (encoding/json would decode it into that
// field).
func (d *wireDecoder) unknown(key []byte, names [][]byte) bool {
	for _, n := range names {
		if bytes.EqualFold(key, n) {
			return false
		}
	}
	return d.skip(1)
}

// --- fields ---------------------------------------------------------------

// strField reads a string, or a null, which leaves a string as it is.
func (d *wireDecoder) strField(dst *string) bool {
	switch d.peek() {
	case '"':
		b, ok := d.strBytes()
		if ok {
			*dst = d.intern(b)
		}
		return ok
	case 'n':
		return d.literal("null")
	}
	return false
}

// mapField reads an object of strings, or a null, which makes the map nil.
func (d *wireDecoder) mapField(dst *template.KV) bool {
	switch d.peek() {
	case '{':
		m, ok := d.stringMap()
		*dst = m
		return ok
	case 'n':
		*dst = nil
		return d.literal("null")
	}
	return false
}

// uint64Field reads a number that is a uint64 (encoding/json refuses the
// others), or a null, which leaves it as it is.
func (d *wireDecoder) uint64Field(dst *uint64) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	start, ok := d.number()
	if !ok {
		return false
	}
	var n uint64
	for _, c := range d.b[start:d.i] {
		if c < '0' || c > '9' {
			return false // a sign, a fraction or an exponent
		}
		hi, lo := bits.Mul64(n, 10)
		n = lo + uint64(c-'0')
		if hi != 0 || n < lo {
			return false // overflow
		}
	}
	*dst = n
	return true
}

// numberField reads a number into a json.Number, or a null, which leaves
// it as it is. A number written as a string is left to encoding/json.
func (d *wireDecoder) numberField(dst *json.Number) bool {
	if d.peek() == 'n' {
		return d.literal("null")
	}
	start, ok := d.number()
	if ok {
		*dst = json.Number(d.intern(d.b[start:d.i]))
	}
	return ok
}

// rawMapField reads Grafana's values, any JSON value each, or a null.
func (d *wireDecoder) rawMapField(dst *map[string]json.RawMessage) bool {
	switch d.peek() {
	case '{':
	case 'n':
		*dst = nil
		return d.literal("null")
	default:
		return false
	}
	m := map[string]json.RawMessage{}
	*dst = m
	return d.object(func(key []byte) bool {
		k := d.intern(key)
		start := d.i
		if !d.skip(2) {
			return false
		}
		// As encoding/json's RawMessage: a copy of the value's bytes.
		m[k] = json.RawMessage(bytes.Clone(d.b[start:d.i]))
		return true
	})
}

// stringMap reads an object of strings. As with encoding/json, the last of
// two equal keys wins.
func (d *wireDecoder) stringMap() (map[string]string, bool) {
	pairs := d.pairs[:0]
	ok := d.object(func(key []byte) bool {
		k := d.intern(key)
		if d.peek() != '"' {
			return false // null (encoding/json stores ""), or not a string
		}
		v, ok := d.strBytes()
		if !ok {
			return false
		}
		pairs = append(pairs, wirePair{k, d.intern(v)})
		return true
	})
	d.pairs = pairs
	if !ok {
		return nil, false
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.k] = p.v
	}
	return m, true
}

// wireArray reads an array of objects into *dst, or a null, which makes
// it nil. It declines more than maxAlerts elements: checkArrayLen refuses
// them, and they are not even built. Once it has read the first element,
// it sizes the slice for as many more as the rest of the body could hold
// if they were the same size (an eighth more, at most maxAlerts): one
// allocation for the usual body of alerts of one shape, where append's
// doubling would copy every element a few times. A wrong guess costs
// append's growth from there.
func wireArray[T any](d *wireDecoder, dst *[]T, elem func(*T) bool) bool {
	switch d.peek() {
	case '[':
	case 'n':
		*dst = nil
		return d.literal("null")
	default:
		return false
	}
	d.i++
	d.ws()
	if d.peek() == ']' {
		d.i++
		*dst = []T{} // encoding/json's empty, non-nil slice
		return true
	}
	out := make([]T, 0, 4)
	for {
		if len(out) >= d.maxAlerts {
			return false
		}
		if len(out) < cap(out) {
			out = out[:len(out)+1] // zero: the slice never shrinks
		} else {
			var zero T
			out = append(out, zero)
		}
		start := d.i
		if !elem(&out[len(out)-1]) {
			return false
		}
		more, ok := d.next(']')
		if !ok {
			return false
		}
		if !more {
			break
		}
		if len(out) == 1 {
			per := d.i - start // at least 3 bytes: {},
			n := min(2+(len(d.b)-d.i)/per*9/8, d.maxAlerts)
			if n > cap(out) {
				grown := make([]T, 1, n)
				grown[0] = out[0]
				out = grown
			}
		}
	}
	*dst = out
	return true
}

// --- JSON syntax ----------------------------------------------------------

func (d *wireDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// ws skips white space as JSON defines it.
func (d *wireDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *wireDecoder) literal(lit string) bool {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return false
	}
	d.i += len(lit)
	return true
}

// next reads what follows a member or an element: a comma (more follows)
// or the closing byte.
func (d *wireDecoder) next(closing byte) (more, ok bool) {
	d.ws()
	switch d.peek() {
	case ',':
		d.i++
		d.ws()
		return true, true
	case closing:
		d.i++
		return false, true
	}
	return false, false
}

// object reads an object from its opening brace, calling member for each
// key with the decoder at the value. key may alias a scratch buffer that
// the next string read overwrites.
func (d *wireDecoder) object(member func(key []byte) bool) bool {
	d.i++ // '{'
	d.ws()
	if d.peek() == '}' {
		d.i++
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		key, ok := d.strBytes()
		if !ok {
			return false
		}
		d.ws()
		if d.peek() != ':' {
			return false
		}
		d.i++
		d.ws()
		if !member(key) {
			return false
		}
		more, ok := d.next('}')
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// skip reads any JSON value, checking its syntax, at nesting depth depth.
func (d *wireDecoder) skip(depth int) bool {
	switch d.peek() {
	case '"':
		_, _, ok := d.scanString()
		return ok
	case '{':
		if depth >= wireMaxDepth {
			return false
		}
		return d.object(func([]byte) bool { return d.skip(depth + 1) })
	case '[':
		if depth >= wireMaxDepth {
			return false
		}
		d.i++
		d.ws()
		if d.peek() == ']' {
			d.i++
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			more, ok := d.next(']')
			if !ok {
				return false
			}
			if !more {
				return true
			}
		}
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	_, ok := d.number()
	return ok
}

// number reads a number as JSON spells it and returns where it starts.
// What may follow it is the caller's to check.
func (d *wireDecoder) number() (start int, ok bool) {
	b, i := d.b, d.i
	start = i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return start, false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = wireDigits(b, i+1)
	default:
		return start, false
	}
	if i < len(b) && b[i] == '.' {
		j := wireDigits(b, i+1)
		if j == i+1 {
			return start, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := wireDigits(b, i)
		if j == i {
			return start, false
		}
		i = j
	}
	d.i = i
	return start, true
}

func wireDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// strBytes reads a string and returns its decoded bytes, which alias the
// body or d.esc (until the next string with escapes).
func (d *wireDecoder) strBytes() ([]byte, bool) {
	start, esc, ok := d.scanString()
	if !ok {
		return nil, false
	}
	inner := d.b[start : d.i-1]
	if !esc {
		return inner, true
	}
	return d.unescape(inner), true
}

// intern returns b as a string, from the cache when it holds it.
func (d *wireDecoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > wireInternMax {
		return string(b)
	}
	// Two ways per set, the most recently used first: two strings that
	// repeat in every alert do not evict each other when they share a set.
	set := (*[2]string)(d.cache[maphash.Bytes(wireSeed, b)&(wireCacheSize-2):])
	if set[0] == string(b) { // no conversion: compared in place
		return set[0]
	}
	if set[1] == string(b) {
		set[0], set[1] = set[1], set[0]
		return set[0]
	}
	s := string(b)
	set[0], set[1] = s, set[0]
	return s
}

// wirePlain marks the bytes a string holds as they are: printable ASCII
// but the quote and the backslash.
var wirePlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// wireSpecial has the high bit set in the byte of w (little-endian) that
// is the first quote, backslash, control character or non-ASCII byte; the
// bits of the bytes above it may be set too.
func wireSpecial(w uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q := w ^ (lo * '"')
	bs := w ^ (lo * '\\')
	return ((q-lo)&^q | (bs-lo)&^bs | (w-lo*0x20)&^w | w) & hi
}

// scanString moves past the string at d.i, checking it as encoding/json's
// scanner does (no control characters, valid escapes) and checking that
// it is UTF-8, and returns where its text starts and whether it has
// escapes.
func (d *wireDecoder) scanString() (start int, esc, ok bool) {
	b := d.b
	i := d.i + 1
	start = i
	for {
		for i+8 <= len(b) {
			if m := wireSpecial(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && wirePlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return start, false, false
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return start, esc, true
		case c == '\\':
			if i+1 >= len(b) {
				return start, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || wireHex4(b[i+2:i+6]) < 0 {
					return start, false, false
				}
				i += 6
			default:
				return start, false, false
			}
			esc = true
		case c < 0x20:
			return start, false, false
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return start, false, false // invalid UTF-8: checkBody refuses it
			}
			i += n
		}
	}
}

// wireHex4 decodes 4 hex digits, or returns -1.
func wireHex4(b []byte) rune {
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
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unescape decodes the text of a string that scanString has checked, as
// encoding/json's unquote does: a surrogate pair is one rune, and a
// surrogate that is not part of a pair becomes U+FFFD.
func (d *wireDecoder) unescape(s []byte) []byte {
	out := d.esc[:0]
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			j := bytes.IndexByte(s[i:], '\\')
			if j < 0 {
				j = len(s) - i
			}
			out = append(out, s[i:i+j]...)
			i += j
			continue
		}
		c := s[i+1]
		switch c {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'u':
			r := wireHex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = wireHex4(s[i+2 : i+6])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		out = append(out, c) // and '"', '\\', '/' as they are
		i += 2
	}
	d.esc = out
	return out
}
