package correlate

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Journal record encodings. v2 is a compact binary form written by
// EncodeDelivery; v1 (JSON) is still read, for journals written before it.
const (
	codecV1 = 1
	codecV2 = 2
)

// ErrCorruptDelivery is returned for a record that does not decode.
var ErrCorruptDelivery = errors.New("decode delivery: corrupt record")

// EncodeDelivery serializes a delivery for the journal.
func EncodeDelivery(d *Delivery) ([]byte, error) {
	n := 64
	for i := range d.Alerts {
		a := &d.Alerts[i]
		n += 64 + len(a.Fingerprint) + len(a.StartsAtRaw) + len(a.GeneratorURL) + mapSize(a.Labels) + mapSize(a.Annotations) + mapSize(a.Extra)
	}
	b := make([]byte, 0, n)
	b = append(b, codecV2)
	b = appendString(b, string(d.Source))
	b = binary.AppendVarint(b, d.ReceivedAt.UnixNano())
	b = appendString(b, d.Sender)
	b = appendString(b, d.Receiver)
	b = appendString(b, d.GroupKey)
	b = binary.AppendUvarint(b, uint64(len(d.Alerts)))
	for i := range d.Alerts {
		a := &d.Alerts[i]
		b = appendString(b, a.Fingerprint)
		b = append(b, byte(a.Status))
		b = binary.AppendVarint(b, a.StartsAt.UnixNano())
		b = appendString(b, a.StartsAtRaw)
		var ends int64
		if !a.EndsAt.IsZero() {
			ends = a.EndsAt.UnixNano()
		}
		b = binary.AppendVarint(b, ends)
		b = appendString(b, a.GeneratorURL)
		b = appendMap(b, a.Labels)
		b = appendMap(b, a.Annotations)
		b = appendMap(b, a.Extra)
	}
	return b, nil
}

func mapSize(m map[string]string) int {
	n := 4
	for k, v := range m {
		n += len(k) + len(v) + 4
	}
	return n
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for k, v := range m {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	return b
}

// reader decodes the v2 form; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = ErrCorruptDelivery
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = ErrCorruptDelivery
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = ErrCorruptDelivery
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = ErrCorruptDelivery
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) stringMap() map[string]string {
	n := r.uvarint()
	if r.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(r.b)/2) {
		r.err = ErrCorruptDelivery
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.string()
		m[k] = r.string()
	}
	return m
}

func nanoTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// DecodeDelivery reverses EncodeDelivery.
func DecodeDelivery(b []byte) (Delivery, error) {
	if len(b) == 0 {
		return Delivery{}, ErrCorruptDelivery
	}
	switch b[0] {
	case codecV1:
		return decodeV1(b[1:])
	case codecV2:
	default:
		return Delivery{}, errors.New("decode delivery: unknown encoding")
	}
	r := reader{b: b[1:]}
	d := Delivery{Source: Source(r.string()), ReceivedAt: time.Unix(0, r.varint()).UTC(), Sender: r.string(),
		Receiver: r.string(), GroupKey: r.string()}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return Delivery{}, ErrCorruptDelivery
	}
	d.Alerts = make([]Alert, n)
	for i := range d.Alerts {
		a := &d.Alerts[i]
		a.Fingerprint = r.string()
		a.Status = Status(r.byte())
		a.StartsAt = time.Unix(0, r.varint()).UTC()
		a.StartsAtRaw = r.string()
		a.EndsAt = nanoTime(r.varint())
		a.GeneratorURL = r.string()
		a.Labels = r.stringMap()
		a.Annotations = r.stringMap()
		a.Extra = r.stringMap()
		if r.err != nil {
			break
		}
	}
	if r.err != nil {
		return Delivery{}, r.err
	}
	if len(r.b) != 0 {
		return Delivery{}, fmt.Errorf("%w: %d trailing bytes", ErrCorruptDelivery, len(r.b))
	}
	return d, nil
}

// v1: JSON, as written before v2.
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

func decodeV1(b []byte) (Delivery, error) {
	var w wireDelivery
	if err := json.Unmarshal(b, &w); err != nil {
		return Delivery{}, fmt.Errorf("decode delivery: %w", err)
	}
	d := Delivery{Source: w.Source, ReceivedAt: time.Unix(0, w.ReceivedAt).UTC(), Sender: w.Sender,
		Receiver: w.Receiver, GroupKey: w.GroupKey, Alerts: make([]Alert, len(w.Alerts))}
	for i, a := range w.Alerts {
		d.Alerts[i] = Alert{Fingerprint: a.Fingerprint, Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
			StartsAt: time.Unix(0, a.StartsAt).UTC(), StartsAtRaw: a.StartsAtRaw, GeneratorURL: a.GeneratorURL, Extra: a.Extra,
			EndsAt: nanoTime(a.EndsAt)}
	}
	return d, nil
}

// Journaled makes d what the journal gives back for it,
// DecodeDelivery(EncodeDelivery(d)), without the round trip: times in UTC
// as their Unix nanoseconds (an EndsAt of zero nanoseconds is no end),
// and empty maps nil. A replay that feeds the engine the deliveries it also
// journals uses it, so that the engine sees exactly what it would have
// read back from the journal.
func Journaled(d *Delivery) {
	d.ReceivedAt = time.Unix(0, d.ReceivedAt.UnixNano()).UTC()
	if d.Alerts == nil {
		d.Alerts = []Alert{}
	}
	for i := range d.Alerts {
		a := &d.Alerts[i]
		a.StartsAt = time.Unix(0, a.StartsAt.UnixNano()).UTC()
		var ends int64
		if !a.EndsAt.IsZero() {
			ends = a.EndsAt.UnixNano()
		}
		a.EndsAt = nanoTime(ends)
		a.Labels = nilIfEmpty(a.Labels)
		a.Annotations = nilIfEmpty(a.Annotations)
		a.Extra = nilIfEmpty(a.Extra)
	}
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
