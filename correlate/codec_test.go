package correlate

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestJournaledIsTheRoundTrip: Journaled gives what the journal gives back,
// for deliveries with every kind of time and map.
func TestJournaledIsTheRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("", 2*3600), time.FixedZone("X", -5*3600-1800), time.Local}
	times := func() time.Time {
		switch r.IntN(6) {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(0, 0) // the epoch: zero nanoseconds
		case 2:
			return time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) // beyond int64 nanoseconds
		case 3:
			return time.Date(1500, 6, 1, 0, 0, 0, 1, zones[r.IntN(len(zones))])
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	maps := func() map[string]string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return map[string]string{}
		}
		return map[string]string{"alertname": "A", "k": "v"}
	}
	for range 2000 {
		d := Delivery{Source: SourceAlertmanager, ReceivedAt: times(), Sender: "s", Receiver: "r", GroupKey: "g"}
		if r.IntN(10) > 0 {
			d.Alerts = make([]Alert, r.IntN(3))
		}
		for i := range d.Alerts {
			d.Alerts[i] = Alert{Fingerprint: "0123456789abcdef", Status: StatusFiring, Labels: maps(), Annotations: maps(),
				StartsAt: times(), StartsAtRaw: "raw", EndsAt: times(), GeneratorURL: "u", Extra: maps()}
		}
		b, err := EncodeDelivery(&d)
		if err != nil {
			t.Fatal(err)
		}
		want, err := DecodeDelivery(b)
		if err != nil {
			t.Fatal(err)
		}
		got := d
		got.Alerts = append([]Alert(nil), d.Alerts...)
		if d.Alerts == nil {
			got.Alerts = nil
		}
		Journaled(&got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Journaled(%+v)\n= %+v\nwant %+v", d, got, want)
		}
	}
}
