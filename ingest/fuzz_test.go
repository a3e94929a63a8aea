package ingest

import (
	"errors"
	"testing"

	"github.com/vigia-noc/vigia/correlate"
)

// fuzzDecode seeds f with the fixtures of prefix and checks, for any body,
// that decoding never panics, that a rejection is a *FieldError naming a
// field, and that an accepted delivery passes every check of checkAccepted.
func fuzzDecode(f *testing.F, prefix string, src correlate.Source) {
	for _, name := range fixtures(f, prefix) {
		f.Add(readFixture(f, name))
	}
	lim := Limits{MaxAlerts: 50, MaxLabels: 16, MaxLabelValueLength: 64, MaxAnnotationValueLength: 256}
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Decode(src, body, testNow, lim)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Msg == "" || fe.reason == "" {
				t.Fatalf("error %v (%T) names no field", err, err)
			}
			if len(d.Alerts) != 0 {
				t.Fatal("alerts returned with an error")
			}
			return
		}
		if d.Source != src || !d.ReceivedAt.Equal(testNow) {
			t.Fatalf("delivery %+v", d)
		}
		checkAccepted(t, d, lim)
	})
}

func FuzzDecodeAlertmanager(f *testing.F) {
	fuzzDecode(f, "alertmanager_", correlate.SourceAlertmanager)
}

func FuzzDecodeGrafana(f *testing.F) {
	fuzzDecode(f, "grafana_", correlate.SourceGrafana)
}

func FuzzDecodeEvents(f *testing.F) {
	fuzzDecode(f, "events_", correlate.SourceEvents)
}
