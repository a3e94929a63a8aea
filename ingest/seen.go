package ingest

import (
	"strconv"
	"sync"

	"github.com/vigia-noc/vigia/correlate"
)

// seenIndex remembers which (fingerprint, startsAt, status, endsAt) tuples
// were in accepted deliveries, to count the duplicates of a reply. It is
// advisory (correlate does the real deduplication), bounded, and safe for
// concurrent use: a shard that fills up is emptied and starts over.
type seenIndex struct {
	shards   [seenShards]seenShard
	perShard int
}

const seenShards = 16

type seenShard struct {
	mu sync.Mutex
	m  map[seenKey]struct{}
	_  [48]byte // keep shards on separate cache lines
}

type seenKey struct {
	fp       uint64
	startsAt int64
	endsAt   int64
	status   correlate.Status
}

func newSeenIndex(capacity int) *seenIndex {
	s := &seenIndex{perShard: max(1, capacity/seenShards)}
	for i := range s.shards {
		s.shards[i].m = make(map[seenKey]struct{})
	}
	return s
}

// observe records alerts and returns how many of them were already there.
func (s *seenIndex) observe(alerts []correlate.Alert) int {
	dups := 0
	for i := range alerts {
		a := &alerts[i]
		fp, err := strconv.ParseUint(a.Fingerprint, 16, 64)
		if err != nil { // not from a decoder: nothing to compare
			continue
		}
		k := seenKey{fp: fp, startsAt: a.StartsAt.UnixNano(), status: a.Status}
		if !a.EndsAt.IsZero() {
			k.endsAt = a.EndsAt.UnixNano()
		}
		sh := &s.shards[fp%seenShards]
		sh.mu.Lock()
		if _, ok := sh.m[k]; ok {
			dups++
		} else {
			if len(sh.m) >= s.perShard {
				clear(sh.m)
			}
			sh.m[k] = struct{}{}
		}
		sh.mu.Unlock()
	}
	return dups
}
