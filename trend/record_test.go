package trend

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// TestRecordRoundTrip packs rows with awkward strings (the separators of
// the format, NUL, multi-byte runes) and negative times, and reads them back.
func TestRecordRoundTrip(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC)
	rows := []IncidentRow{
		{ID: "INC-000001", Status: incident.StatusInProgress, Priority: incident.P2, Severity: "crit;ical",
			Method: "rule", Rule: "12:by:service", Service: "wéb\x00;:", CI: "", Category: "日本", Level: incident.L3,
			Group: "noc", Assignee: "ana", DecidedBy: "vigia", OpenedAt: t0, UpdatedAt: t0.Add(time.Hour),
			ConfirmedAt: t0.Add(time.Minute), AcknowledgedAt: t0.Add(2 * time.Minute),
			RespondBreachedAt: time.Date(1960, 1, 1, 0, 0, 0, 1, time.UTC), Reopens: 2, EscalationCount: 3, Bounces: 1,
			Holds: []incident.Interval{{Start: t0.Add(3 * time.Minute), Reason: "waiting; on: vendor"},
				{Start: t0.Add(4 * time.Minute), End: t0.Add(5 * time.Minute)}}},
		{ID: "INC-000002", Status: incident.StatusNew, Priority: incident.P5, OpenedAt: t0, UpdatedAt: t0},
	}
	var packed string
	for i := range rows {
		packed += EncodeRecord(&rows[i])
	}
	got, err := DecodeRecords([]byte(packed), len(rows))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonOf(t, got), jsonOf(t, rows); g != w {
		t.Errorf("round trip:\n got %s\nwant %s", g, w)
	}
	for _, bad := range []string{packed[:len(packed)-3], "2;" + packed, packed + "1;", "1;99:x"} {
		if _, err := DecodeRecords([]byte(bad), 2); err == nil {
			t.Errorf("DecodeRecords(%.30q...) accepted a bad record", bad)
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzDecodeRecords feeds arbitrary bytes to the record decoder: it
// returns rows or an error, never panics, and the rows it accepts survive
// a round trip (the decoder also takes non-canonical numbers such as "00").
func FuzzDecodeRecords(f *testing.F) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r := IncidentRow{ID: "INC-000001", Status: incident.StatusNew, Priority: incident.P3, OpenedAt: t0, UpdatedAt: t0,
		Holds: []incident.Interval{{Start: t0, Reason: "vendor"}}}
	f.Add([]byte(EncodeRecord(&r)), 1)
	f.Add([]byte("1;99:x"), 1)
	f.Add([]byte("1;1:x1;1;0:0:0:0:0:0:1;0:0:0:1;1;0;0;0;0;0;0;0;0;0;0;0;99999999999;"), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		rows, err := DecodeRecords(b, n)
		if err != nil {
			return
		}
		var again string
		for i := range rows {
			again += EncodeRecord(&rows[i])
		}
		back, err := DecodeRecords([]byte(again), len(rows))
		if err != nil {
			t.Fatalf("re-encoded rows of %q do not decode: %v", b, err)
		}
		if g, w := jsonOf(t, back), jsonOf(t, rows); g != w {
			t.Errorf("round trip of %q:\n got %s\nwant %s", b, g, w)
		}
	})
}
