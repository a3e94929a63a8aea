package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vigia-noc/vigia/correlate"
)

// fastLimits are the limits of the differential tests: a small MaxAlerts,
// so that the alerts bound is met by small inputs too.
var fastLimits = Limits{MaxAlerts: 5}.withDefaults()

// agreeAlertmanager checks that when the fast path takes body, the general
// path accepts it and decodes the same value. It reports whether the fast
// path took it.
func agreeAlertmanager(t testing.TB, body []byte, lim Limits) bool {
	t.Helper()
	fm, ok := fastAlertmanager(body, lim.MaxAlerts)
	if !ok {
		return false
	}
	jm, err := lim.amMessageJSON(body)
	if err != nil {
		t.Fatalf("fast path took a body the general path rejects (%v):\n%q", err, body)
	}
	if !reflect.DeepEqual(fm, jm) {
		t.Fatalf("fast path decoded a different value:\nfast:    %s\ngeneral: %s\nbody: %q", dump(fm), dump(jm), body)
	}
	return true
}

func agreeGrafana(t testing.TB, body []byte, lim Limits) bool {
	t.Helper()
	fm, ok := fastGrafana(body, lim.MaxAlerts)
	if !ok {
		return false
	}
	jm, err := lim.grafanaMessageJSON(body)
	if err != nil {
		t.Fatalf("fast path took a body the general path rejects (%v):\n%q", err, body)
	}
	if !reflect.DeepEqual(fm, jm) {
		t.Fatalf("fast path decoded a different value:\nfast:    %s\ngeneral: %s\nbody: %q", dump(fm), dump(jm), body)
	}
	return true
}

// dump shows a message with what reflect.DeepEqual tells apart and JSON
// would not: nil and empty maps and slices, a nil Data.
func dump(v any) string {
	var b strings.Builder
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			b.WriteString("&")
			walk(v.Elem())
		case reflect.Struct:
			b.WriteString("{")
			for i := range v.NumField() {
				if i > 0 {
					b.WriteString(" ")
				}
				b.WriteString(v.Type().Field(i).Name + ":")
				walk(v.Field(i))
			}
			b.WriteString("}")
		case reflect.Slice:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			if v.Type().Elem().Kind() == reflect.Uint8 {
				fmt.Fprintf(&b, "%q", v.Bytes())
				return
			}
			b.WriteString("[")
			for i := range v.Len() {
				if i > 0 {
					b.WriteString(" ")
				}
				walk(v.Index(i))
			}
			b.WriteString("]")
		case reflect.Map:
			if v.IsNil() {
				b.WriteString("nil")
				return
			}
			keys := v.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
			b.WriteString("map[")
			for i, k := range keys {
				if i > 0 {
					b.WriteString(" ")
				}
				fmt.Fprintf(&b, "%q:", k.String())
				walk(v.MapIndex(k))
			}
			b.WriteString("]")
		case reflect.String:
			fmt.Fprintf(&b, "%q", v.String())
		default:
			fmt.Fprintf(&b, "%v", v)
		}
	}
	walk(reflect.ValueOf(v))
	return b.String()
}

// fastSeeds are inputs at the edges of what the fast path takes.
var fastSeeds = []string{
	``,
	` `,
	`null`,
	`{}`,
	`[]`,
	`"x"`,
	`{"version":"4","alerts":[]}`,
	`{"version":"4","alerts":null}`,
	`{"version":"4","alerts":[null]}`,
	`{"version":"4","alerts":[{}],"receiver":null}`,
	`{"version":"4","Alerts":0}`,
	`{"version":"4","ALERTS":null}`,
	`{"version":"4","alerts":[{"status":"firing"}],"Version":"4"}`,
	`{"version":"4","version":"4"}`,
	`{"version":"4","truncatedAlerts":000}`,
	`{"version":"4","truncatedAlerts":0}`,
	`{"version":"4","truncatedAlerts":18446744073709551615}`,
	`{"version":"4","truncatedAlerts":18446744073709551616}`,
	`{"version":"4","truncatedAlerts":99999999999999999999999}`,
	`{"version":"4","truncatedAlerts":1e3}`,
	`{"version":"4","truncatedAlerts":1.0}`,
	`{"version":"4","truncatedAlerts":-0}`,
	`{"version":"4","truncatedAlerts":-1}`,
	`{"version":"4","truncatedAlerts":null}`,
	`{"version":"4","truncatedAlerts":"1"}`,
	`{"version":"1","orgId":1,"alerts":[{"orgId":-1.5e-3,"values":{"A":1,"B":null,"C":"NaN","D":{"x":[1,{}]},"A":2}}]}`,
	`{"version":"1","orgId":"1"}`,
	`{"version":"1","orgId":01}`,
	`{"version":"1","alerts":[{"values":null,"valueString":null,"imageURL":"x"}]}`,
	`{"version":"4","alerts":[{"labels":{"alertname":"a","job":null}}]}`,
	`{"version":"4","alerts":[{"labels":{"alertname":"a","alertname":"b"}}]}`,
	`{"version":"4","alerts":[{"labels":{"alertname":1}}]}`,
	`{"version":"4","alerts":[{"labels":[]}]}`,
	`{"version":"4","alerts":[{"status":true}]}`,
	`{"version":"4","alerts":[{"status":"firing","Status":"resolved"}]}`,
	`{"version":"4","alerts":[{"ſtatus":"firing"}]}`,
	`{"version":"4","alerts":[{"status":"firing"}],"group\u212aey":"k"}`,
	`{"version":"4","alerts":[{"st\u0061tus":"firing"}]}`,
	`{"v\u00e9rsion":"4"}`,
	`{"version":"\u0034","receiver":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20ac\ud83d\ude00"}`,
	`{"version":"4","receiver":"\ud800"}`,
	`{"version":"4","receiver":"\udc00\ud800x"}`,
	`{"version":"4","receiver":"\ud800\u0041"}`,
	`{"version":"4","receiver":"\ud800\\u0041"}`,
	`{"version":"4","receiver":"\ud83d\ude00\ud83d"}`,
	`{"version":"4","receiver":"\uD83D\uDE00"}`,
	`{"version":"4","receiver":"\uFFFD\uFEFF\u00fF\uABCD\uabcd\uDBFF\uDFFF\uffff"}`,
	`{"version":"4","receiver":"\u0000"}`,
	`{"version":"4","receiver":"\x"}`,
	`{"version":"4","receiver":"\'"}`,
	`{"version":"4","receiver":"\u12"}`,
	`{"version":"4","receiver":"\u12G4"}`,
	"{\"version\":\"4\",\"receiver\":\"tab\there\"}",
	"{\"version\":\"4\",\"receiver\":\"\xff\"}",
	"{\"version\":\"4\",\"receiver\":\"\xed\xa0\x80\"}",
	"{\"version\":\"4\",\"receiver\":\"\xc3\"}",
	"{\"version\":\"4\",\"receiver\":\"é€😀\"}",
	"{\"version\":\"4\",\"receiver\":\"x\"}\xff",
	"\xef\xbb\xbf{\"version\":\"4\"}",
	`{"version":"4"} `,
	`{"version":"4"} {}`,
	`{"version":"4"}}`,
	`{"version":"4",}`,
	`{"version":"4" "groupKey":"x"}`,
	`{"version":"4","alerts":[{},]}`,
	`{"version":"4","alerts":[{}{}]}`,
	`{"version":"4","x":[1,2,]}`,
	`{"version":"4","x":tru}`,
	`{"version":"4","x":nul}`,
	`{"version":"4","x":-}`,
	`{"version":"4","x":1.}`,
	`{"version":"4","x":.1}`,
	`{"version":"4","x":1e}`,
	`{"version":"4","x":1E+}`,
	`{"version":"4","x":01}`,
	`{"version":"4","x":-01}`,
	`{"version":"4","x":1e999999}`,
	`{"version":"4","x":[true,false,null,-0.0e-0,"s",{"a":{}}]}`,
	"{\"version\":\"4\",\"x\":\"\x01\"}",
	" \t\r\n{ \"version\" : \"4\" , \"alerts\" : [ { } , null ] } \t\r\n",
	"{\"version\":\"4\"\v}",
	`{"version":"4","x":` + strings.Repeat("[", wireMaxDepth+2) + strings.Repeat("]", wireMaxDepth+2) + `}`,
	`{"version":"4","x":` + strings.Repeat("[", wireMaxDepth-1) + strings.Repeat("]", wireMaxDepth-1) + `}`,
	`{"version":"4","x":` + strings.Repeat(`{"a":`, 10001) + `1` + strings.Repeat("}", 10001) + `}`,
	`{"version":"4","alerts":[{},{},{},{},{},{}]}`,
	`{"version":"4","alerts":[{},{},{},{},{}]}`,
	`{"version":"4","alerts":[{}],"alerts":[{},{}]}`,
	`{"version":"4","alerts":{}}`,
	`{"version":"4","alerts":[1]}`,
	`{"version":"4","alerts":[[]]}`,
	`{"version":"4","groupLabels":{},"commonLabels":null,"commonAnnotations":{"a":"b"},"externalURL":null}`,
	`{"version":"4","groupLabels":{"":""}}`,
}

func FuzzFastDecodeAgrees(f *testing.F) {
	for _, prefix := range []string{"alertmanager_", "grafana_"} {
		for _, name := range fixtures(f, prefix) {
			f.Add(readFixture(f, name))
		}
	}
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		agreeAlertmanager(t, body, fastLimits)
		agreeGrafana(t, body, fastLimits)
	})
}

// TestFastDecodeTakes: the fast path takes what senders send (else it
// would be no faster), and decodes it as encoding/json does.
func TestFastDecodeTakes(t *testing.T) {
	lim := Limits{}.withDefaults()
	for _, name := range fixtures(t, "alertmanager_") {
		if !agreeAlertmanager(t, readFixture(t, name), lim) {
			t.Errorf("%s: left to the general path", name)
		}
	}
	for _, name := range fixtures(t, "grafana_") {
		if !agreeGrafana(t, readFixture(t, name), lim) {
			t.Errorf("%s: left to the general path", name)
		}
	}
	if !agreeAlertmanager(t, body100(t), lim) {
		t.Error("body100: left to the general path")
	}
	if !agreeGrafana(t, grafanaBody100(t), lim) {
		t.Error("grafanaBody100: left to the general path")
	}
	for _, s := range []string{
		`{"version":"4","alerts":[{"labels":{"alertname":"a\u0026b \ud83d\ude00 \ud800 \/"}}]}`,
		`{"version":"4","alerts":[null,{}],"receiver":null,"truncatedAlerts":18446744073709551615}`,
		`{"version":"4","alerts":[{"labels":null,"annotations":{},"status":null}],"x":{"y":[1,-2.5e+3,true,false,null,"z"]}}`,
		`{"version":"4","st\u0061tus":"firing","alerts":[]}`,
		`{"version":"1","orgId":1,"alerts":[{"orgId":-1.5e-3,"values":{"A":1,"B":null,"C":"NaN","D":{"x":[1,{}]},"A":2}}]}`,
	} {
		if !agreeAlertmanager(t, []byte(s), lim) || !agreeGrafana(t, []byte(s), lim) {
			t.Errorf("%s: left to the general path", s)
		}
	}
}

// TestFastDecodeDeclines: what the fast path leaves to encoding/json, and
// that the decoders then answer as they always have.
func TestFastDecodeDeclines(t *testing.T) {
	am := readFixture(t, "alertmanager_v4-firing-group-grew-4alerts.json")
	lim := Limits{MaxAlerts: 3}.withDefaults()
	for _, c := range []struct {
		name, body string
		field      string // of the error, "" if accepted
	}{
		{"case variant", strings.Replace(string(am), `"version"`, `"Version"`, 1), ""},
		{"fold variant", strings.Replace(string(am), `"groupKey"`, `"group\u212aey"`, 1), ""},
		{"repeated field", strings.Replace(string(am), `"version": "4",`, `"version": "1", "version": "4",`, 1), ""},
		{"null label value", strings.Replace(string(am), `"job": "node"`, `"job": null`, 1), ""},
		{"too many alerts", string(am), "alerts"},
		{"invalid UTF-8", strings.Replace(string(am), "node-2", "node-\xff", 1), "body"},
		{"trailing data", string(am) + "{}", "body"},
		{"not JSON", string(am[:len(am)/2]), "body"},
		{"wrong type", strings.Replace(string(am), `"version": "4"`, `"version": 4`, 1), "version"},
		{"truncatedAlerts negative", strings.Replace(string(am), `"truncatedAlerts": 0`, `"truncatedAlerts": -1`, 1), "truncatedAlerts"},
		{"deep", strings.Replace(string(am), `"version": "4",`, `"version": "4", "x": `+strings.Repeat("[", 100)+strings.Repeat("]", 100)+",", 1), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := lim
			if c.name != "too many alerts" {
				l.MaxAlerts = 100
			}
			if _, ok := fastAlertmanager([]byte(c.body), l.MaxAlerts); ok {
				t.Fatal("the fast path took it")
			}
			d, err := l.decodeAlertmanager([]byte(c.body), testNow)
			fe, _ := err.(*FieldError)
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case c.field == "" && len(d.Alerts) != 4:
				t.Fatalf("%d alerts", len(d.Alerts))
			case c.field != "" && (fe == nil || fe.Field != c.field):
				t.Fatalf("err %v, want one on %s", err, c.field)
			}
		})
	}
}

// TestFastDecodeAgreesOnVariants decodes both ways many variants of the
// fixtures: keys in other cases or escaped, repeated, unknown; values
// null, of other types, escaped, with surrogates and control characters;
// white space. The fuzzer mutates bytes; this mutates the JSON.
func TestFastDecodeAgreesOnVariants(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	var bodies [][]byte
	for _, prefix := range []string{"alertmanager_", "grafana_"} {
		for _, name := range fixtures(t, prefix) {
			bodies = append(bodies, readFixture(t, name))
		}
	}
	rng := rand.New(rand.NewPCG(9, 9))
	taken := 0
	for i := range n {
		src := bodies[i%len(bodies)]
		dec := json.NewDecoder(bytes.NewReader(src))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		(&variant{rng: rng, rate: 0.04 * rng.Float64() * rng.Float64()}).value(&b, v, 0)
		body := b.Bytes()
		lim := Limits{MaxAlerts: 1 + rng.IntN(5)}.withDefaults()
		if agreeAlertmanager(t, body, lim) {
			taken++
		}
		if agreeGrafana(t, body, lim) {
			taken++
		}
	}
	t.Logf("%d variants, taken by the fast path %d times", 2*n, taken)
	if taken < n/5 {
		t.Errorf("the fast path took only %d of %d variants: the test no longer tests it", taken, 2*n)
	}
}

// variant writes a JSON value, changing it at random with probability
// rate at every step.
type variant struct {
	rng  *rand.Rand
	rate float64
}

func (g *variant) maybe() bool { return g.rng.Float64() < g.rate }

func (g *variant) ws(b *bytes.Buffer) {
	if g.maybe() {
		b.WriteString([]string{" ", "\n", "\t", "\r\n  "}[g.rng.IntN(4)])
	}
}

var variantKeys = []string{"version", "groupKey", "truncatedAlerts", "receiver", "status", "alerts", "groupLabels",
	"commonLabels", "commonAnnotations", "externalURL", "orgId", "labels", "annotations", "startsAt", "endsAt",
	"generatorURL", "fingerprint", "values", "valueString", "dashboardURL", "panelURL", "silenceURL", "imageURL"}

func (g *variant) value(b *bytes.Buffer, v any, depth int) {
	g.ws(b)
	if g.maybe() {
		g.other(b)
		g.ws(b)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		g.rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		b.WriteByte('{')
		first := true
		member := func(k string, v any) {
			if !first {
				b.WriteByte(',')
			}
			first = false
			g.ws(b)
			g.key(b, k)
			g.ws(b)
			b.WriteByte(':')
			g.value(b, v, depth+1)
		}
		for _, k := range keys {
			if g.maybe() {
				continue // dropped
			}
			member(k, v[k])
			if g.maybe() {
				member(k, v[k]) // repeated
			}
		}
		if g.maybe() {
			member(variantKeys[g.rng.IntN(len(variantKeys))], nil)
		}
		if g.maybe() {
			member("extra", map[string]any{"a": []any{json.Number("1"), "x", true}})
		}
		g.ws(b)
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			g.value(b, e, depth+1)
			if g.maybe() {
				b.WriteByte(',')
				g.value(b, e, depth+1)
			}
		}
		b.WriteByte(']')
	case string:
		g.str(b, v)
	case json.Number:
		b.WriteString(string(v))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case nil:
		b.WriteString("null")
	}
	g.ws(b)
}

// other writes a value of any type in place of the expected one.
func (g *variant) other(b *bytes.Buffer) {
	b.WriteString([]string{`null`, `0`, `-1`, `1.5`, `1e3`, `18446744073709551615`, `18446744073709551616`,
		`true`, `false`, `""`, `"x"`, `"4"`, `"1"`, `[]`, `[null]`, `[{}]`, `{}`, `{"a":"b"}`, `{"a":null}`,
		`{"alertname":"x","alertname":"y"}`, `[[[[]]]]`}[g.rng.IntN(21)])
}

func (g *variant) key(b *bytes.Buffer, k string) {
	if g.maybe() {
		switch g.rng.IntN(3) {
		case 0:
			k = strings.ToUpper(k)
		case 1:
			k = strings.ToUpper(k[:min(1, len(k))]) + k[min(1, len(k)):]
		default:
			k = strings.ReplaceAll(strings.ReplaceAll(k, "s", "ſ"), "k", "\u212a")
		}
	}
	g.str(b, k)
}

// str writes s as a JSON string, escaping characters at random, or with
// odd characters added.
func (g *variant) str(b *bytes.Buffer, s string) {
	if g.maybe() {
		odd := []string{"\x00", "\x1f", "\u2028", "é", "😀", "\ufffd", "\\", `"`, "/"}
		s += odd[g.rng.IntN(len(odd))]
	}
	b.WriteByte('"')
	if g.maybe() {
		b.WriteString([]string{`\ud800`, `\udfff`, `\ud83d\ude00`, `\ud83d`, `\u0000`, `\/`, `\b`}[g.rng.IntN(7)])
	}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || g.maybe():
			if r > 0xffff {
				r1, r2 := utf16Pair(r)
				fmt.Fprintf(b, `\u%04x\u%04X`, r1, r2)
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// TestWireSpecial checks the word-at-a-time search for the bytes a string
// scan must stop at against a byte-at-a-time one.
func TestWireSpecial(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := []byte{0, 0x1f, 0x20, 0x21, '"', '\\', 'a', 0x7f, 0x80, 0xff, 0xc3, '!', '#', '[', ']'}
	for range 200000 {
		var w [8]byte
		for i := range w {
			w[i] = pick[rng.IntN(len(pick))]
		}
		want := -1
		for i, c := range w {
			if !wirePlain[c] {
				want = i
				break
			}
		}
		m := wireSpecial(uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56)
		got := -1
		if m != 0 {
			got = 0
			for m&0x80 == 0 {
				m >>= 8
				got++
			}
		}
		if got != want {
			t.Fatalf("%q: first special byte %d, want %d", w, got, want)
		}
	}
}

// TestFastDecodeStrings decodes strings with every kind of content at
// every alignment, against encoding/json.
func TestFastDecodeStrings(t *testing.T) {
	parts := []string{"a", "é", "😀", `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u0041`, `\u00e9`, `\u00C9`,
		`\uABCD`, `\uabcd`, `\uFFFF`, `\ud83d\ude00`, `\uDBFF\uDFFF`, `\ud800`, `\udc00`, `\uDFFF`, "\u2028", `\u0000`,
		`\u001f`, "~", " ", "\x7f"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		var s strings.Builder
		for range rng.IntN(24) {
			s.WriteString(parts[rng.IntN(len(parts))])
		}
		body := []byte(`{"version":"4","receiver":"` + s.String() + `"}`)
		if !agreeAlertmanager(t, body, fastLimits) {
			t.Fatalf("%s: left to the general path", body)
		}
		if !utf8.Valid(body) {
			t.Fatal("invalid test input")
		}
	}
}

// TestFastDecodeBodyAlone: the decoded delivery keeps nothing of the body,
// whose buffer goes back to a pool.
func TestFastDecodeBodyAlone(t *testing.T) {
	for _, c := range []struct {
		src  correlate.Source
		body []byte
	}{
		{correlate.SourceAlertmanager, readFixture(t, "alertmanager_v4-firing-group-grew-4alerts.json")},
		{correlate.SourceGrafana, readFixture(t, "grafana_v1-from-source-resolved-2alerts.json")},
		{correlate.SourceGrafana, grafanaBody100(t)},
	} {
		d, err := Decode(c.src, c.body, testNow, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprint(d)
		for i := range c.body {
			c.body[i] = 'x'
		}
		if got := fmt.Sprint(d); got != want {
			t.Fatalf("the %s delivery changed with the body's buffer", c.src)
		}
	}
}

// grafanaValuesBefore is grafanaValues as it was before issue 9, the
// reference for TestGrafanaValuesUnchanged.
func grafanaValuesBefore(vals map[string]json.RawMessage) (rendered, badKey string) {
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		v := vals[k]
		switch {
		case len(v) == 0:
			return "", k
		case string(v) == "null", v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
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
		kq, _ := json.Marshal(k)
		b.Write(kq)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String(), ""
}

// TestGrafanaValuesUnchanged: the rendering of Grafana's values, made
// cheaper for issue 9, is the same as before for any keys and values.
func TestGrafanaValuesUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	keyParts := []string{"A", "B", "z", "_", "0", " ", "<", ">", "&", `"`, `\`, "\x7f", "\x00", "\n", "é", "\u2028", "😀", "\xff", "~"}
	vals := []string{"1", "-2.5e3", "null", `"NaN"`, `"+Inf"`, `"x"`, `"\u0031"`, "true", "{}", "[]", ""}
	for range 20000 {
		m := map[string]json.RawMessage{}
		for range rng.IntN(12) {
			var k strings.Builder
			for range rng.IntN(4) {
				k.WriteString(keyParts[rng.IntN(len(keyParts))])
			}
			m[k.String()] = json.RawMessage(vals[rng.IntN(len(vals))])
		}
		got, gotBad := grafanaValues(m)
		want, wantBad := grafanaValuesBefore(m)
		if got != want || gotBad != wantBad {
			t.Fatalf("%q: got %q %q, want %q %q", m, got, gotBad, want, wantBad)
		}
	}
}

// TestWireNamesAreTheFields: the fast path knows every field encoding/json
// would decode into (else it would skip as unknown a key that
// encoding/json decodes), and no other. A new field in amMessage,
// grafanaMessage or the Alertmanager module's types fails here first.
func TestWireNamesAreTheFields(t *testing.T) {
	for _, c := range []struct {
		v     any
		names [][]byte
	}{
		{amMessage{}, wireMessageNames},
		{grafanaMessage{}, wireGrafanaMessageNames},
		{amAlert{}, wireAlertNames},
		{grafanaAlert{}, wireGrafanaAlertNames},
	} {
		want := jsonFieldNames(reflect.TypeOf(c.v))
		var got []string
		for _, n := range c.names {
			got = append(got, string(n))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%T: the fast path knows %q, encoding/json %q", c.v, got, want)
		}
	}
}

// jsonFieldNames returns, sorted, the names of the fields of struct type t
// as encoding/json names them, embedded structs' included.
func jsonFieldNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Tag.Get("json") == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, jsonFieldNames(ft)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
