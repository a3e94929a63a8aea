package problem

import (
	"testing"
	"time"
)

func TestMatchKnownError(t *testing.T) {
	sig := Signature(SignatureInput{AlertNames: []string{"DiskFull"}, RootCauseCI: "db-01"})
	mk := func(id string, st Status, key, workaround string, last time.Time) Problem {
		return Problem{ID: id, Status: st, Kind: KindSignature, SignatureKey: key, Workaround: workaround, LastSeen: last}
	}
	cases := []struct {
		name     string
		problems []Problem
		want     string
	}{
		{"none", nil, ""},
		{"candidate with workaround is not a known error", []Problem{mk("PRB-000001", StatusCandidate, sig.Key, "w", day(1))}, ""},
		{"resolved does not match", []Problem{mk("PRB-000001", StatusResolved, sig.Key, "w", day(1))}, ""},
		{"confirmed without workaround", []Problem{mk("PRB-000001", StatusConfirmed, sig.Key, "", day(1))}, ""},
		{"confirmed with workaround", []Problem{mk("PRB-000001", StatusConfirmed, sig.Key, "w", day(1))}, "PRB-000001"},
		{"other key", []Problem{mk("PRB-000001", StatusKnownError, "sig-other", "w", day(1))}, ""},
		{"known error wins over confirmed", []Problem{
			mk("PRB-000001", StatusConfirmed, sig.Key, "w", day(5)),
			mk("PRB-000002", StatusKnownError, sig.Key, "w", day(1)),
		}, "PRB-000002"},
		{"then the most recently seen", []Problem{
			mk("PRB-000003", StatusKnownError, sig.Key, "w", day(2)),
			mk("PRB-000002", StatusKnownError, sig.Key, "w", day(3)),
			mk("PRB-000004", StatusKnownError, sig.Key, "w", day(1)),
		}, "PRB-000002"},
	}
	for _, c := range cases {
		p, ok := MatchKnownError(c.problems, sig)
		if ok != (c.want != "") || p.ID != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, p.ID, ok, c.want)
		}
	}
	if _, ok := MatchKnownError([]Problem{mk("PRB-000001", StatusKnownError, "", "w", day(1))}, Sig{}); ok {
		t.Error("empty signature matched")
	}
}

func TestSearch(t *testing.T) {
	ps := []Problem{
		{ID: "PRB-000001", Status: StatusClosed, Signature: "DiskFull @ ci=db-01", RootCause: "backups", LastSeen: day(9)},
		{ID: "PRB-000002", Status: StatusKnownError, Signature: "DiskFull @ ci=db-02", RootCause: "WAL archiving stalls",
			Workaround: "Restart the archiver", LastSeen: day(1)},
		{ID: "PRB-000003", Status: StatusCandidate, Signature: "BGPDown @ ci=edge-1", LastSeen: day(5), CIs: []string{"edge-1"}},
		{ID: "PRB-000004", Status: StatusKnownError, Signature: "DiskFull @ ci=db-03", Workaround: "rotate logs", LastSeen: day(4)},
	}
	ids := func(got []Problem) []string {
		var out []string
		for _, p := range got {
			out = append(out, p.ID)
		}
		return out
	}
	cases := []struct {
		q    string
		want []string
	}{
		{"", []string{"PRB-000004", "PRB-000002", "PRB-000003", "PRB-000001"}},
		{"diskfull", []string{"PRB-000004", "PRB-000002", "PRB-000001"}},
		{"archiver", []string{"PRB-000002"}},
		{"restart WAL", []string{"PRB-000002"}},
		{"edge-1", []string{"PRB-000003"}},
		{"prb-000001", []string{"PRB-000001"}},
		{"diskfull bgp", nil},
	}
	for _, c := range cases {
		if got := ids(Search(ps, c.q)); !equalStrings(got, c.want) {
			t.Errorf("Search(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
