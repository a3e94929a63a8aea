package storage

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/incident"
)

// EventKeys returns a deterministic key for each timeline event of a batch
// applied at journal offset. The key hashes the offset, the event's content
// and how many identical events precede it in the batch, so a store that
// keeps one row per key stores a batch applied twice once, while two
// identical events of one batch, or of two batches, are both kept.
func EventKeys(offset uint64, evs []incident.Event) ([]string, error) {
	keys := make([]string, len(evs))
	seen := make(map[[sha256.Size]byte]uint32, len(evs))
	for i := range evs {
		// encoding/json sorts map keys, so equal events encode equally.
		b, err := json.Marshal(&evs[i])
		if err != nil {
			return nil, fmt.Errorf("event key: %w", err)
		}
		content := sha256.Sum256(b)
		n := seen[content]
		seen[content] = n + 1
		var head [12]byte
		binary.BigEndian.PutUint64(head[:8], offset)
		binary.BigEndian.PutUint32(head[8:], n)
		h := sha256.New()
		h.Write(head[:])
		h.Write(content[:])
		keys[i] = hex.EncodeToString(h.Sum(nil)[:16])
	}
	return keys, nil
}

// FeedbackKey identifies an analyst's feedback entry, so that a store that
// keeps one row per key stores a batch applied twice once: one incident
// gets one decision of a kind by one actor at one moment.
func FeedbackKey(f *correlate.Feedback) string {
	return f.IncidentID + "@" + strconv.FormatInt(f.At.UnixNano(), 10) + "/" + f.Decision + "/" + f.Actor +
		"/" + strconv.Itoa(f.Alerts)
}
