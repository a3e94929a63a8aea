package embedded

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
)

// checkEpisodeJSON checks that decodeEpisode gives what json.Unmarshal
// gives, and reports whether the fast path took data.
func checkEpisodeJSON(t *testing.T, data []byte) bool {
	t.Helper()
	var want correlate.Episode
	werr := json.Unmarshal(data, &want)
	var fast correlate.Episode
	r := jsonReader{b: data}
	took := r.episode(&fast)
	if took && werr != nil {
		t.Fatalf("fast path took data json.Unmarshal rejects (%v): %q", werr, data)
	}
	var got correlate.Episode
	gerr := decodeEpisode(data, &got)
	if (gerr != nil) != (werr != nil) {
		t.Fatalf("decodeEpisode error %v, json.Unmarshal error %v: %q", gerr, werr, data)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeEpisode(%q)\n= %+v\nwant %+v", data, got, want)
	}
	return took
}

func TestDecodeEpisodeAsJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		ep := randomEpisode(r)
		data, err := json.Marshal(&ep)
		if err != nil {
			t.Fatal(err)
		}
		if !checkEpisodeJSON(t, data) {
			t.Fatalf("the fast path left what json.Marshal wrote to the general path: %s", data)
		}
	}
	for _, data := range []string{
		`{"id":1,"id":2}`, `{"ID":1}`, `{"id":1.0}`, `{"id":1} `, `{"labels":{"a":null}}`, `{"labels":{"a":"b","a":"c"}}`,
		`{"explanation":null}`, `{"explanation":{"score":1e400}}`, `{"first_seen":null}`, `{"first_seen":"yesterday"}`,
		`{"fingerprint":"\ud800"}`, `{"fingerprint":"\u00e9\ud83d\ude00"}`, `{"x":1}`, `{}`, `[]`, ``, `{"id":-0}`,
		`{"explanation":{"ci_path":null}}`, `{"explanation":{"ci_path":["a",1]}}`, "{\"fingerprint\":\"a\xffb\"}",
	} {
		checkEpisodeJSON(t, []byte(data))
	}
}

func FuzzDecodeEpisode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		ep := randomEpisode(r)
		data, _ := json.Marshal(&ep)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEpisodeJSON(t, data)
	})
}

func BenchmarkDecodeEpisode(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	var datas [][]byte
	for range 1000 {
		ep := randomEpisode(r)
		data, _ := json.Marshal(&ep)
		datas = append(datas, data)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte, *correlate.Episode) error
	}{{"fast", decodeEpisode}, {"json", func(d []byte, ep *correlate.Episode) error { return json.Unmarshal(d, ep) }}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range datas {
					var ep correlate.Episode
					if err := bc.decode(d, &ep); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// randomIncident returns an incident with the fields the engine and the
// analysts set, or not.
func randomIncident(r *rand.Rand) incident.Incident {
	texts := []string{"", "a", "INC-000001", "<b>&</b>", "q\"\\", "é😀", "\u2028", "bad\xff"}
	text := func() string { return texts[r.IntN(len(texts))] }
	when := func() time.Time { return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC() }
	whenp := func() *time.Time {
		if r.IntN(2) == 0 {
			return nil
		}
		t := when()
		return &t
	}
	statuses := incident.Statuses()
	in := incident.Incident{ID: text(), Status: statuses[r.IntN(len(statuses))], Priority: incident.Priority(r.IntN(5) + 1),
		Severity: text(), Title: text(), Method: text(), Rule: text(), GroupKey: text(), OpenedAt: when(), UpdatedAt: when(),
		ResolvedAt: whenp(), ClosedAt: whenp(), RootCauseCI: text(), RootCauseInferred: r.IntN(2) == 0, Flapping: r.IntN(2) == 0,
		ProblemID: text(), Workaround: text(), MergedInto: text(), AlertCount: r.IntN(100), FiringCount: r.IntN(10),
		Reopens: r.IntN(3), FirstEventAt: when(), LastEventAt: when(), Version: r.Int64N(1000),
		Urgency: incident.Level(r.IntN(4)), Impact: incident.Level(r.IntN(4)), Category: text(), Subcategory: text(),
		Major: r.IntN(2) == 0, MajorAt: whenp(), Coordinator: text(), Level: incident.SupportLevel(r.IntN(6)),
		AssignmentGroup: text(), Assignee: text(), EscalationCount: r.IntN(3), Bounces: r.IntN(2), DecidedBy: text(),
		RejectReason: text(), ClosureCode: text(), ConfirmedAt: whenp(), RejectedAt: whenp(), AcknowledgedAt: whenp(),
		StartedAt: whenp()}
	switch r.IntN(3) {
	case 0:
		in.Labels = map[string]string{}
	case 1:
		in.Labels = map[string]string{"ci": text(), text(): text()}
	}
	if r.IntN(10) == 0 {
		in.Pauses = []incident.Interval{{Start: when()}}
	}
	return in
}

func checkIncidentJSON(t *testing.T, data []byte) bool {
	t.Helper()
	var want incident.Incident
	werr := json.Unmarshal(data, &want)
	var fast incident.Incident
	r := jsonReader{b: data}
	took := r.incident(&fast)
	if took && werr != nil {
		t.Fatalf("fast path took data json.Unmarshal rejects (%v): %q", werr, data)
	}
	var got incident.Incident
	gerr := decodeIncident(data, &got)
	if (gerr != nil) != (werr != nil) {
		t.Fatalf("decodeIncident error %v, json.Unmarshal error %v: %q", gerr, werr, data)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeIncident(%q)\n= %+v\nwant %+v", data, got, want)
	}
	return took
}

func TestDecodeIncidentAsJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	took := 0
	for range 3000 {
		in := randomIncident(r)
		data, err := json.Marshal(&in)
		if err != nil {
			t.Fatal(err)
		}
		if checkIncidentJSON(t, data) {
			took++
		} else if len(in.Pauses) == 0 && len(in.Escalations) == 0 && in.SLAMarks == (incident.SLAMarks{}) {
			t.Fatalf("the fast path left what json.Marshal wrote to the general path: %s", data)
		}
	}
	if took < 2000 {
		t.Errorf("the fast path took %d of 3000 incidents", took)
	}
	for _, data := range []string{
		`{"status":"nonsense"}`, `{"priority":3}`, `{"priority":"P9"}`, `{"level":"L7"}`, `{"urgency":""}`, `{"major":1}`,
		`{"resolved_at":null}`, `{"resolved_at":"2026-01-01T00:00:00Z","resolved_at":"2026-01-02T00:00:00Z"}`,
		`{"alert_count":1e2}`, `{"Title":"x"}`, `{"pauses":[]}`, `{"flapping":true} `, `{"labels":{"a":"b"},"labels":{"c":"d"}}`,
	} {
		checkIncidentJSON(t, []byte(data))
	}
}

func FuzzDecodeIncident(f *testing.F) {
	r := rand.New(rand.NewPCG(15, 16))
	for range 20 {
		in := randomIncident(r)
		data, _ := json.Marshal(&in)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkIncidentJSON(t, data)
	})
}
