package trend

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vigia-noc/vigia/incident"
)

// The record of an IncidentRow (without ReopenedAt) is a sequence of
// fields, each an integer ("-12;") or a string ("5:hello", its length in
// bytes then the bytes), so records need no separator and strings no
// escaping: the format version (1), ID, Status, Priority, Severity,
// Method, Rule, Service, CI, Category, Level, Group, Assignee, DecidedBy,
// then the times in Unix nanoseconds (0: unset) OpenedAt, UpdatedAt,
// ConfirmedAt, RejectedAt, AcknowledgedAt, ResolvedAt, ClosedAt,
// RespondBreachedAt, ResolveBreachedAt, then Reopens, EscalationCount,
// Bounces, and the number of holds followed by each hold's Start, End and
// Reason.
const recordVersion = 1

// EncodeRecord packs r (without ReopenedAt) in one record, which
// DecodeRecords reads back; a store may keep it as its trend row.
func EncodeRecord(r *IncidentRow) string {
	b := make([]byte, 0, 256)
	num := func(n int64) {
		b = strconv.AppendInt(b, n, 10)
		b = append(b, ';')
	}
	str := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	tm := func(t time.Time) {
		if t.IsZero() {
			num(0)
		} else {
			num(t.UnixNano())
		}
	}
	num(recordVersion)
	str(r.ID)
	num(int64(r.Status))
	num(int64(r.Priority))
	for _, s := range []string{r.Severity, r.Method, r.Rule, r.Service, r.CI, r.Category} {
		str(s)
	}
	num(int64(r.Level))
	for _, s := range []string{r.Group, r.Assignee, r.DecidedBy} {
		str(s)
	}
	for _, t := range []time.Time{r.OpenedAt, r.UpdatedAt, r.ConfirmedAt, r.RejectedAt, r.AcknowledgedAt,
		r.ResolvedAt, r.ClosedAt, r.RespondBreachedAt, r.ResolveBreachedAt} {
		tm(t)
	}
	num(int64(r.Reopens))
	num(int64(r.EscalationCount))
	num(int64(r.Bounces))
	num(int64(len(r.Holds)))
	for _, h := range r.Holds {
		tm(h.Start)
		tm(h.End)
		str(h.Reason)
	}
	return string(b)
}

// recordReader decodes records; it interns the strings that repeat.
type recordReader struct {
	b      []byte
	err    error
	intern map[string]string
}

// int reads digits (after an optional '-') up to the byte end.
func (d *recordReader) int(end byte) int64 {
	if d.err != nil {
		return 0
	}
	b := d.b
	neg := len(b) > 0 && b[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	var n int64
	start := i
	for ; i < len(b) && b[i] != end; i++ {
		c := b[i] - '0'
		if c > 9 || i-start >= 19 {
			d.err = errors.New("bad number in record")
			return 0
		}
		n = n*10 + int64(c)
	}
	if i == start || i == len(b) {
		d.err = errors.New("truncated record")
		return 0
	}
	d.b = b[i+1:]
	if neg {
		return -n
	}
	return n
}

func (d *recordReader) num() int64 { return d.int(';') }

func (d *recordReader) bytes() []byte {
	n := d.int(':')
	if d.err != nil {
		return nil
	}
	if n < 0 || n > int64(len(d.b)) {
		d.err = errors.New("bad string in record")
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *recordReader) str() string {
	b := d.bytes()
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.intern) < 100_000 {
		d.intern[s] = s
	}
	return s
}

func (d *recordReader) time() time.Time {
	if n := d.num(); n != 0 {
		return time.Unix(0, n).UTC()
	}
	return time.Time{}
}

// DecodeRecords decodes n concatenated records (EncodeRecord).
func DecodeRecords(b []byte, n int) ([]IncidentRow, error) {
	d := &recordReader{b: b, intern: map[string]string{}}
	if n < 0 {
		return nil, fmt.Errorf("%d records", n)
	}
	// A record takes at least 60 bytes: n cannot ask for more room than b fills.
	out := make([]IncidentRow, 0, min(n, len(b)/60+1))
	for len(d.b) > 0 && d.err == nil {
		if v := d.num(); v != recordVersion && d.err == nil {
			return nil, fmt.Errorf("record version %d, want %d", v, recordVersion)
		}
		var r IncidentRow
		r.ID = string(d.bytes())
		r.Status, r.Priority = incident.Status(d.num()), incident.Priority(d.num())
		r.Severity, r.Method, r.Rule, r.Service, r.CI, r.Category = d.str(), d.str(), d.str(), d.str(), d.str(), d.str()
		r.Level = incident.SupportLevel(d.num())
		r.Group, r.Assignee, r.DecidedBy = d.str(), d.str(), d.str()
		r.OpenedAt, r.UpdatedAt, r.ConfirmedAt, r.RejectedAt = d.time(), d.time(), d.time(), d.time()
		r.AcknowledgedAt, r.ResolvedAt, r.ClosedAt = d.time(), d.time(), d.time()
		r.RespondBreachedAt, r.ResolveBreachedAt = d.time(), d.time()
		r.Reopens, r.EscalationCount, r.Bounces = int(d.num()), int(d.num()), int(d.num())
		if n := d.num(); n > 0 && d.err == nil {
			if n > int64(len(d.b)) {
				return nil, errors.New("bad hold count in record")
			}
			r.Holds = make([]incident.Interval, n)
			for i := range r.Holds {
				r.Holds[i] = incident.Interval{Start: d.time(), End: d.time(), Reason: d.str()}
			}
		}
		out = append(out, r)
	}
	if d.err == nil && len(out) != n {
		d.err = fmt.Errorf("%d records, want %d", len(out), n)
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}
