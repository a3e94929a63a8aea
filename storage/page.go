package storage

import (
	"strconv"
	"strings"

	"github.com/vigia-noc/vigia/incident"
)

// PageLimit returns the page size a filter asks for: 1..1000, default 100.
func (f IncidentFilter) PageLimit() int {
	if f.Limit <= 0 || f.Limit > 1000 {
		return 100
	}
	return f.Limit
}

// NewIncidentPage makes a page from up to limit+1 incidents, newest first:
// the extra one only tells that a next page exists.
func NewIncidentPage(incs []incident.Incident, limit int) IncidentPage {
	page := IncidentPage{Incidents: incs}
	if len(incs) > limit {
		page.Incidents = incs[:limit]
		page.NextCursor = EncodeCursor(incs[limit-1].Seq)
	}
	if page.Incidents == nil {
		page.Incidents = []incident.Incident{}
	}
	return page
}

// EncodeCursor makes an opaque cursor from an incident sequence. Every store
// uses it, so a cursor survives a change of store.
func EncodeCursor(seq int64) string { return "i" + strconv.FormatInt(seq, 36) }

// DecodeCursor reverses EncodeCursor.
func DecodeCursor(c string) (int64, error) {
	if !strings.HasPrefix(c, "i") {
		return 0, ErrBadCursor
	}
	n, err := strconv.ParseInt(c[1:], 36, 64)
	if err != nil || n <= 0 {
		return 0, ErrBadCursor
	}
	return n, nil
}
