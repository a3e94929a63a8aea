package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
)

// checkArrayLen refuses, before decoding, a body whose alerts (or events)
// array has more than MaxAlerts entries. encoding/json would build every
// entry first: 10 MiB of `{},` is 3.5 million alerts and over a gigabyte
// of memory before checkCount could say no.
func (l Limits) checkArrayLen(body []byte, fn fieldNames) error {
	// Every entry takes at least two bytes ("0,"): a shorter body is safe.
	if len(body) <= 2*l.MaxAlerts {
		return nil
	}
	if n := arrayLen(body, fn.array, l.MaxAlerts); n > l.MaxAlerts {
		return fieldErr(reasonLimit, fn.array, "more than %d entries, at most %d per body", l.MaxAlerts, l.MaxAlerts)
	}
	return nil
}

// arrayLen returns the number of entries of the array that is the value of
// key in the top-level object of the JSON text body (the largest, if key
// appears more than once), matching key as encoding/json matches field
// names, whatever the case. It stops counting once it passes limit. It reads
// body loosely, without allocating: malformed JSON is left to
// json.Unmarshal to report.
func arrayLen(body []byte, key string, limit int) int {
	best, depth := 0, 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			end := skipString(body, i)
			if depth == 1 {
				j := skipSpace(body, end)
				if j < len(body) && body[j] == ':' && keyMatches(body[i:end], key) {
					if j = skipSpace(body, j+1); j < len(body) && body[j] == '[' {
						n, next := countEntries(body, j, limit)
						if best = max(best, n); best > limit {
							return best
						}
						i = next - 1
						continue
					}
				}
			}
			i = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return best
}

// countEntries counts the entries of the array opening at body[open], up to
// limit+1, and returns the offset after the array (or where it stopped).
func countEntries(body []byte, open, limit int) (n, next int) {
	depth := 0
	inEntry := false
	for i := open + 1; i < len(body); i++ {
		c := body[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case ',':
			if depth == 0 {
				inEntry = false
			}
			continue
		case '}', ']':
			if depth == 0 {
				return n, i + 1
			}
			depth--
			continue
		}
		if depth == 0 && !inEntry {
			inEntry = true
			if n++; n > limit {
				return n, i + 1
			}
		}
		switch c {
		case '"':
			i = skipString(body, i) - 1
		case '{', '[':
			depth++
		}
	}
	return n, len(body)
}

// skipString returns the offset after the string starting at body[i] (a
// quote), or len(body) if it does not end.
func skipString(body []byte, i int) int {
	for j := i + 1; j < len(body); j++ {
		switch body[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(body)
}

func skipSpace(body []byte, i int) int {
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	return i
}

// keyMatches reports whether the quoted JSON string quoted names key as
// encoding/json would match it to a field: case-insensitively, escapes
// decoded.
func keyMatches(quoted []byte, key string) bool {
	if len(quoted) < 2 {
		return false
	}
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return bytes.EqualFold(inner, []byte(key))
	}
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		return false
	}
	return strings.EqualFold(s, key)
}
