package correlate

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// codecV1 prefixes a JSON-encoded delivery in the journal.
const codecV1 = 1

type wireAlert struct {
	Fingerprint  string            `json:"f"`
	Status       Status            `json:"s"`
	Labels       map[string]string `json:"l"`
	Annotations  map[string]string `json:"a,omitempty"`
	StartsAt     int64             `json:"st"`
	StartsAtRaw  string            `json:"sr"`
	EndsAt       int64             `json:"e,omitempty"`
	GeneratorURL string            `json:"g,omitempty"`
	Extra        map[string]string `json:"x,omitempty"`
}

type wireDelivery struct {
	Source     Source      `json:"src"`
	ReceivedAt int64       `json:"rcv"`
	Sender     string      `json:"snd,omitempty"`
	Receiver   string      `json:"rcvr,omitempty"`
	GroupKey   string      `json:"gk,omitempty"`
	Alerts     []wireAlert `json:"al"`
}

// EncodeDelivery serializes a delivery for the journal.
func EncodeDelivery(d *Delivery) ([]byte, error) {
	w := wireDelivery{Source: d.Source, ReceivedAt: d.ReceivedAt.UnixNano(), Sender: d.Sender,
		Receiver: d.Receiver, GroupKey: d.GroupKey, Alerts: make([]wireAlert, len(d.Alerts))}
	for i := range d.Alerts {
		a := &d.Alerts[i]
		w.Alerts[i] = wireAlert{Fingerprint: a.Fingerprint, Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: a.StartsAt.UnixNano(), StartsAtRaw: a.StartsAtRaw, GeneratorURL: a.GeneratorURL, Extra: a.Extra}
		if !a.EndsAt.IsZero() {
			w.Alerts[i].EndsAt = a.EndsAt.UnixNano()
		}
	}
	b, err := json.Marshal(&w)
	if err != nil {
		return nil, fmt.Errorf("encode delivery: %w", err)
	}
	return append([]byte{codecV1}, b...), nil
}

// DecodeDelivery reverses EncodeDelivery.
func DecodeDelivery(b []byte) (Delivery, error) {
	var d Delivery
	if len(b) == 0 || b[0] != codecV1 {
		return d, errors.New("decode delivery: unknown encoding")
	}
	var w wireDelivery
	if err := json.Unmarshal(b[1:], &w); err != nil {
		return d, fmt.Errorf("decode delivery: %w", err)
	}
	d = Delivery{Source: w.Source, ReceivedAt: time.Unix(0, w.ReceivedAt).UTC(), Sender: w.Sender,
		Receiver: w.Receiver, GroupKey: w.GroupKey, Alerts: make([]Alert, len(w.Alerts))}
	for i, a := range w.Alerts {
		d.Alerts[i] = Alert{Fingerprint: a.Fingerprint, Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: time.Unix(0, a.StartsAt).UTC(), StartsAtRaw: a.StartsAtRaw, GeneratorURL: a.GeneratorURL, Extra: a.Extra}
		if a.EndsAt != 0 {
			d.Alerts[i].EndsAt = time.Unix(0, a.EndsAt).UTC()
		}
	}
	return d, nil
}
