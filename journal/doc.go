// Package journal is Vigia's write-ahead log of accepted deliveries: an
// append-only, fsync'd, group-committed sequence of opaque records stored as
// segment files in one directory.
//
// The journal owns its directory: the segment files, the sequence counter and
// the notion of which records are durable. It knows nothing about what a
// payload means and nothing about consumers' offsets; each consumer stores its
// own offset elsewhere, reads with [Journal.Read] from there, blocks in
// [Journal.Wait] for more, and calls [Journal.Truncate] once every consumer is
// past a sequence number.
//
// Durability: [Journal.Append] and [Journal.AppendBatch] return only after the
// record is fsync'd, so a caller may acknowledge it to a sender even if the
// process is killed the next instant. Concurrent appenders share fsyncs (group
// commit without a background goroutine): each writes under a mutex, then the
// first to win the sync lock fsyncs everything written so far and publishes the
// new durable sequence number; the others find their record already durable
// and return. Readers only ever see durable records.
//
// [Open] recovers after a crash: it verifies every record's checksum, cuts a
// torn tail off the last segment, and skips (and reports) a corrupted record in
// the middle of a segment, resynchronising at the next record that verifies.
// It starts no goroutines.
//
// All methods of [*Journal] are safe for concurrent use by multiple
// goroutines. One directory must be opened by at most one Journal at a time.
//
// On-disk format: segment files are named after the sequence number of their
// first record, as 20 zero-padded digits plus ".seg". Each record is framed as
//
//	magic  uint32  "VJR1" (little endian)
//	length uint32  payload length
//	crc    uint32  CRC-32C (Castagnoli) of seq and payload
//	seq    uint64
//	payload [length]byte
//
// with all integers little endian.
package journal
