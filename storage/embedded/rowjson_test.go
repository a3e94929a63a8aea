package embedded

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
	"github.com/vigia-noc/vigia/storage"
)

// TestRowJSONFields: appendEpisode and appendEvent spell these fields; a
// field added to the types must be added to them (and here).
func TestRowJSONFields(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want []string
	}{
		{correlate.Episode{}, []string{"id", "fingerprint", "-", "starts_at", "-", "-", "source", "labels", "annotations,omitempty",
			"generator_url,omitempty", "extra,omitempty", "first_seen", "last_seen", "notifications", "incident_id,omitempty",
			"joined_at", "explanation,omitempty", "ci,omitempty", "suppressed,omitempty", "version"}},
		{incident.Explanation{}, []string{"method", "rule,omitempty", "window,omitempty", "shared_labels,omitempty",
			"ci_path,omitempty", "score", "reason"}},
		{incident.Event{}, []string{"incident_id", "at", "actor", "kind", "from,omitempty", "to,omitempty", "comment,omitempty",
			"data,omitempty"}},
	} {
		rt := reflect.TypeOf(tc.v)
		var got []string
		for i := range rt.NumField() {
			got = append(got, rt.Field(i).Tag.Get("json"))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s has the JSON fields %q; rowjson.go spells %q: update appendEpisode/appendEvent", rt, got, tc.want)
		}
	}
}

// randomEpisode returns an episode with every field set or not, and text
// that encoding/json escapes.
func randomEpisode(r *rand.Rand) correlate.Episode {
	texts := []string{"", "a", "HighCPU", "<b>&amp;</b>", "line\nbreak\ttab\"quote\\", "été ☃ 😀", "\u2028\u2029",
		"\x00\x1f", "bad\xffutf8", "host-dc1-a-01:9100", `{"json":[1]}`}
	text := func() string { return texts[r.IntN(len(texts))] }
	maps := func() map[string]string {
		switch r.IntN(4) {
		case 0:
			return nil
		case 1:
			return map[string]string{}
		}
		m := map[string]string{}
		for range r.IntN(6) + 1 {
			m[text()+text()] = text()
		}
		return m
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.Local}
	when := func() time.Time {
		if r.IntN(5) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2))).In(zones[r.IntN(len(zones))])
	}
	ep := correlate.Episode{ID: r.Int64N(1 << 40), Fingerprint: text(), StartsAtRaw: text(), Source: correlate.Source(text()),
		Labels: maps(), Annotations: maps(), GeneratorURL: text(), Extra: maps(), FirstSeen: when(), LastSeen: when(),
		Notifications: r.IntN(1000) - 1, IncidentID: text(), JoinedAt: when(), CI: text(), Suppressed: text(),
		Version: r.Int64N(100)}
	if r.IntN(3) > 0 {
		scores := []float64{0, 1, 0.5, 1.0 / 3, -2.5, 1e21, 1e-7, math.MaxFloat64, math.SmallestNonzeroFloat64}
		ep.Explanation = &incident.Explanation{Method: text(), Rule: text(), Window: text(), SharedLabels: maps(),
			Score: scores[r.IntN(len(scores))], Reason: text()}
		switch r.IntN(3) {
		case 0:
			ep.Explanation.CIPath = []string{}
		case 1:
			ep.Explanation.CIPath = []string{text(), text()}
		}
	}
	return ep
}

func randomEvent(r *rand.Rand) incident.Event {
	texts := []string{"", "opened", "vigia", "<&>", "a\nb", "\u2028", "é", "bad\xff", "\x01"}
	text := func() string { return texts[r.IntN(len(texts))] }
	ev := incident.Event{IncidentID: "INC-" + text(), At: time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC(), Actor: text(),
		Kind: text(), From: text(), To: text(), Comment: text()}
	switch r.IntN(3) {
	case 0:
		ev.Data = map[string]string{}
	case 1:
		ev.Data = map[string]string{text(): text(), "problem_id": "PRB-1"}
	}
	return ev
}

func TestRowJSONIsJSONMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 3000 {
		ep := randomEpisode(r)
		want, err := json.Marshal(&ep)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendEpisode(nil, &ep)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("appendEpisode = %s, %v\njson.Marshal  = %s", got, ok, want)
		}
		ev := randomEvent(r)
		want, err = json.Marshal(&ev)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := appendEvent(nil, &ev); !ok || !bytes.Equal(got, want) {
			t.Fatalf("appendEvent = %s, %v\njson.Marshal = %s", got, ok, want)
		}
	}
	// What json.Marshal refuses, the fast path leaves to it.
	for _, ep := range []correlate.Episode{
		{FirstSeen: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{LastSeen: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{JoinedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600))},
		{Explanation: &incident.Explanation{Score: math.NaN()}},
		{Explanation: &incident.Explanation{Score: math.Inf(-1)}},
	} {
		_, werr := json.Marshal(&ep)
		if _, ok := appendEpisode(nil, &ep); ok || werr == nil {
			t.Errorf("appendEpisode(%+v) took it (json.Marshal: %v)", ep, werr)
		}
		if _, err := marshalEpisode(nil, &ep); err == nil {
			t.Errorf("marshalEpisode(%+v): no error", ep)
		}
	}
}

func TestEventKeysAsStorage(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		evs := make([]incident.Event, r.IntN(8))
		datas := make([][]byte, len(evs))
		for i := range evs {
			evs[i] = randomEvent(r)
			if i > 0 && r.IntN(3) == 0 {
				evs[i] = evs[i-1] // identical events of one batch
			}
			var err error
			if datas[i], err = marshalEvent(nil, &evs[i]); err != nil {
				t.Fatal(err)
			}
		}
		offset := r.Uint64()
		want, err := storage.EventKeys(offset, evs)
		if err != nil {
			t.Fatal(err)
		}
		if got := eventKeys(offset, datas); !slices.Equal(got, want) {
			t.Fatalf("eventKeys = %q, storage.EventKeys = %q", got, want)
		}
	}
}
