package problem

import (
	"cmp"
	"slices"
	"strings"
)

// MatchKnownError finds the problem whose workaround a new incident with
// signature sig should carry: a known error, or a confirmed problem with a
// workaround, whose SignatureKey is sig.Key. Call it with the incident's
// signature and, when that finds nothing, with its class signature.
//
// When several match, a known error wins over a confirmed problem, then the
// most recently seen, then the highest id.
func MatchKnownError(problems []Problem, sig Sig) (Problem, bool) {
	if sig.Key == "" {
		return Problem{}, false
	}
	best := -1
	for i := range problems {
		p := &problems[i]
		if p.SignatureKey != sig.Key || !p.HasWorkaround() {
			continue
		}
		if best < 0 || betterMatch(p, &problems[best]) {
			best = i
		}
	}
	if best < 0 {
		return Problem{}, false
	}
	return problems[best], true
}

func betterMatch(a, b *Problem) bool {
	if (a.Status == StatusKnownError) != (b.Status == StatusKnownError) {
		return a.Status == StatusKnownError
	}
	if c := a.LastSeen.Compare(b.LastSeen); c != 0 {
		return c > 0
	}
	return a.ID > b.ID
}

// Search is the known-error database's search: the problems whose id,
// signature text, root cause, workaround, CIs or services contain every
// word of query (case-insensitive; an empty query matches all). Results
// come known errors first, then confirmed, candidate, resolved, rejected
// and closed, and within a status the most recently seen first.
func Search(problems []Problem, query string) []Problem {
	terms := strings.Fields(strings.ToLower(query))
	var out []Problem
	for i := range problems {
		p := &problems[i]
		if len(terms) > 0 {
			text := strings.ToLower(strings.Join([]string{p.ID, p.Signature, p.RootCause, p.Workaround,
				strings.Join(p.CIs, " "), strings.Join(p.Services, " ")}, "\n"))
			if !containsAll(text, terms) {
				continue
			}
		}
		out = append(out, *p)
	}
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(searchRank(a.Status), searchRank(b.Status)),
			b.LastSeen.Compare(a.LastSeen), strings.Compare(a.ID, b.ID))
	})
	return out
}

func containsAll(text string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(text, t) {
			return false
		}
	}
	return true
}

func searchRank(s Status) int {
	switch s {
	case StatusKnownError:
		return 0
	case StatusConfirmed:
		return 1
	case StatusCandidate:
		return 2
	case StatusResolved:
		return 3
	case StatusRejected:
		return 4
	}
	return 5
}
