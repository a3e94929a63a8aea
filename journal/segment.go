package journal

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

const (
	// MaxPayload bounds one record's payload.
	MaxPayload = 64 << 20

	headerSize = 20         // magic, length, crc, seq
	magicStr   = "VJR1"     // how the magic number appears on disk
	magic      = 0x31524a56 // magicStr read as a little-endian uint32
	indexEvery = 64 << 10   // bytes between sparse index entries
	segSuffix  = ".seg"

	// maxSeq bounds seqs so that corrupt input cannot make them wrap around.
	maxSeq = 1 << 62
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the CRC-32C of a record's seq (8 bytes, little endian) and payload.
func checksum(seq []byte, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(seq, castagnoli), castagnoli, payload)
}

// frame writes the magic, length and payload of a record into rec, which
// must be headerSize+len(payload) bytes; seal completes it once its seq is known.
func frame(rec, payload []byte) {
	binary.LittleEndian.PutUint32(rec[0:], magic)
	binary.LittleEndian.PutUint32(rec[4:], uint32(len(payload)))
	copy(rec[headerSize:], payload)
}

// seal sets the seq and checksum of the framed record at the start of b and
// returns the record's size.
func seal(b []byte, seq uint64) int {
	size := headerSize + int(binary.LittleEndian.Uint32(b[4:]))
	binary.LittleEndian.PutUint64(b[12:], seq)
	binary.LittleEndian.PutUint32(b[8:], checksum(b[12:20], b[headerSize:size]))
	return size
}

func segName(base uint64) string { return fmt.Sprintf("%020d%s", base, segSuffix) }

// parseSegName returns the first seq encoded in a segment file name.
func parseSegName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	base, err := strconv.ParseUint(digits, 10, 64)
	return base, err == nil && base > 0 && base <= maxSeq
}

type indexEntry struct {
	seq uint64
	off int64
}

// segment describes one segment file. All fields are guarded by Journal.mu.
type segment struct {
	base        uint64 // seq in the file name
	path        string
	first, last uint64 // seqs of the first and last valid records; 0 when none
	size        int64  // bytes of complete records (the file size once recovered)
	// index maps a few seqs to their offsets so that Read need not scan a
	// whole segment. Its first entry is the segment's first valid record. It
	// is only ever appended to, so a copied slice header stays valid.
	index []indexEntry
	f     *os.File // open for writing while the segment is active
}

// add records that a valid record of n bytes with the given seq is at off.
func (s *segment) add(seq uint64, off, n int64) {
	if s.first == 0 {
		s.first = seq
	}
	s.last = seq
	if len(s.index) == 0 || off-s.index[len(s.index)-1].off >= indexEvery {
		s.index = append(s.index, indexEntry{seq, off})
	}
	s.size = max(s.size, off+n)
}

// start returns where to start scanning for records with seq >= from, and
// the seq preceding the record there.
func (s *segment) start(from uint64) (off int64, prev uint64) {
	// The last entry with seq <= from, or the first entry.
	i := max(sort.Search(len(s.index), func(i int) bool { return s.index[i].seq > from })-1, 0)
	return s.index[i].off, s.index[i].seq - 1
}

// scanner yields the valid records of a byte range of a segment. A record is
// valid when its header is well formed, it fits in the range, its checksum
// verifies and its seq is greater than the previous valid record's. After an
// invalid record the scanner resynchronises at the next magic number.
type scanner struct {
	r    io.ReaderAt
	end  int64
	off  int64  // offset of the next candidate record
	prev uint64 // seq of the last valid record
	br   *bufio.Reader
	hdr  [headerSize]byte
	buf  []byte // payload buffer
	find []byte // findMagic buffer

	// Set by next.
	seq     uint64
	payload []byte // valid until the following next call
	recOff  int64
	badFrom int64 // start of the invalid bytes skipped before this record (or before end); -1 if none
	err     error // I/O error that stopped the scan
}

func newScanner(r io.ReaderAt, off, end int64, prev uint64) *scanner {
	s := &scanner{r: r, end: end, prev: prev, badFrom: -1}
	s.br = bufio.NewReaderSize(nil, int(min(64<<10, max(end-off, 16))))
	s.seek(off)
	return s
}

func (s *scanner) seek(off int64) {
	s.off = off
	s.br.Reset(io.NewSectionReader(s.r, off, s.end-off))
}

// next advances to the next valid record. It returns false at the end of the
// range or on an I/O error (s.err); either way s.badFrom then tells whether
// the range ended in invalid bytes.
func (s *scanner) next() bool {
	s.badFrom = -1
	for s.off < s.end {
		n, err := s.parse()
		if err != nil {
			s.err = err
			return false
		}
		if n > 0 {
			s.recOff, s.prev = s.off, s.seq
			s.off += n
			return true
		}
		if s.badFrom < 0 {
			s.badFrom = s.off
		}
		next, err := s.findMagic(s.off + 1)
		if err != nil {
			s.err = err
			return false
		}
		s.seek(next)
	}
	return false
}

// parse reads the record at s.off, returning its size, or 0 if it is invalid.
func (s *scanner) parse() (int64, error) {
	room := s.end - s.off
	if room < headerSize {
		return 0, nil
	}
	if _, err := io.ReadFull(s.br, s.hdr[:]); err != nil {
		return 0, ignoreEOF(err)
	}
	length := int64(binary.LittleEndian.Uint32(s.hdr[4:]))
	seq := binary.LittleEndian.Uint64(s.hdr[12:])
	if binary.LittleEndian.Uint32(s.hdr[0:]) != magic || length > MaxPayload ||
		length > room-headerSize || seq <= s.prev || seq > maxSeq {
		return 0, nil
	}
	if int64(cap(s.buf)) < length {
		s.buf = make([]byte, length)
	}
	s.payload = s.buf[:length]
	if _, err := io.ReadFull(s.br, s.payload); err != nil {
		return 0, ignoreEOF(err)
	}
	if checksum(s.hdr[12:20], s.payload) != binary.LittleEndian.Uint32(s.hdr[8:]) {
		return 0, nil
	}
	s.seq = seq
	return headerSize + length, nil
}

// findMagic returns the offset of the first magic number at or after off, or
// s.end if there is none.
func (s *scanner) findMagic(off int64) (int64, error) {
	if s.find == nil {
		s.find = make([]byte, 64<<10)
	}
	chunk := s.find
	for off+int64(len(magicStr)) <= s.end {
		n, err := s.r.ReadAt(chunk[:min(int64(len(chunk)), s.end-off)], off)
		if i := bytes.Index(chunk[:n], []byte(magicStr)); i >= 0 {
			return off + int64(i), nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if n < len(magicStr) {
			break // the file shrank under us
		}
		off += int64(n - len(magicStr) + 1) // a magic may straddle chunks
	}
	return s.end, nil
}

// ignoreEOF treats running out of bytes as an invalid record, not an error.
func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

func segPath(dir string, base uint64) string { return filepath.Join(dir, segName(base)) }

// syncDir fsyncs a directory so that file creations and removals in it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
