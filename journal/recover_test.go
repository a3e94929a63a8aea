package journal

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeJournal creates a closed journal in a new dir with records 1..n and
// returns the dir and the size of one record.
func writeJournal(t testing.TB, n int, segRecords int) (dir string, rec int64) {
	t.Helper()
	dir = t.TempDir()
	rec = int64(headerSize + len(payload(1)))
	j, err := Open(Options{Dir: dir, SegmentBytes: int64(segRecords) * rec})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 1, n)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, rec
}

// edit applies fn to the contents of the segment file named after base.
func edit(t testing.TB, dir string, base uint64, fn func([]byte) []byte) {
	t.Helper()
	path := filepath.Join(dir, segName(base))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reopen opens dir, capturing the log.
func reopen(t testing.TB, dir string) (*Journal, float64, string) {
	t.Helper()
	var log bytes.Buffer
	j, reg := open(t, Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	return j, metricValue(t, reg, "vigia_journal_corrupted_records_total"), log.String()
}

func TestTornTail(t *testing.T) {
	rec := int64(headerSize + len(payload(1)))
	for _, tc := range []struct {
		name string
		cut  int64  // bytes cut off the end
		junk string // then appended
		last uint64 // records that survive
	}{
		{"mid payload", 3, "", 9},
		{"mid header", rec - 7, "", 9},
		{"whole header", rec - headerSize, "", 9},
		{"mid payload plus garbage", 3, "garbage\x00\x00\xff", 9},
		{"garbage after complete records", 0, "some garbage", 10},
		{"garbage with a magic", 0, "VJR1\x05\x00\x00\x00junkjunkjunkjunk", 10},
		{"zeros", 0, string(make([]byte, 4096)), 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := writeJournal(t, 10, 100)
			edit(t, dir, 1, func(b []byte) []byte { return append(b[:int64(len(b))-tc.cut], tc.junk...) })

			j, corrupted, log := reopen(t, dir)
			if corrupted != 0 {
				t.Errorf("corrupted = %v, want 0 for a torn tail", corrupted)
			}
			if wantLog := tc.cut > 0 || tc.junk != ""; wantLog && !strings.Contains(log, "torn tail") {
				t.Errorf("log does not report the torn tail:\n%s", log)
			}
			checkRecords(t, read(t, j, 0, 0, 0), span(1, tc.last)...)
			if fi, err := os.Stat(filepath.Join(dir, segName(1))); err != nil || fi.Size() != int64(tc.last)*rec {
				t.Fatalf("segment not truncated to its last complete record: %v, %v", fi.Size(), err)
			}
			appendN(t, j, tc.last+1, 3)
			checkRecords(t, read(t, j, 0, 0, 0), span(1, tc.last+3)...)
		})
	}
}

// TestTornTailAcrossRotation: the crash hit right after a rotation, so the
// end of the previous segment was never synced either.
func TestTornTailAcrossRotation(t *testing.T) {
	dir, _ := writeJournal(t, 4, 3) // segments 1-3 and 4
	edit(t, dir, 1, func(b []byte) []byte { return b[:len(b)-2] })
	edit(t, dir, 4, func(b []byte) []byte { return b[:5] })
	j, corrupted, _ := reopen(t, dir)
	if corrupted != 0 {
		t.Errorf("corrupted = %v, want 0", corrupted)
	}
	checkRecords(t, read(t, j, 0, 0, 0), 1, 2)
	// The empty active segment is named 4, so seqs go on from there.
	appendN(t, j, 4, 2)
	checkRecords(t, read(t, j, 0, 0, 0), 1, 2, 4, 5)
}

func TestCorruptMiddle(t *testing.T) {
	rec := int64(headerSize + len(payload(1)))
	third := 2 * rec // offset of record 3
	for _, tc := range []struct {
		name string
		at   int64
	}{
		{"magic", third + 1},
		{"length", third + 4},
		{"length high byte", third + 7},
		{"crc", third + 9},
		{"seq", third + 12},
		{"payload", third + headerSize + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := writeJournal(t, 5, 100)
			edit(t, dir, 1, func(b []byte) []byte { b[tc.at] ^= 0x40; return b })

			j, corrupted, log := reopen(t, dir)
			if corrupted != 1 {
				t.Errorf("corrupted = %v, want 1", corrupted)
			}
			if !strings.Contains(log, "corrupted") {
				t.Errorf("log does not report the corruption:\n%s", log)
			}
			checkRecords(t, read(t, j, 0, 0, 0), 1, 2, 4, 5)
			checkRecords(t, read(t, j, 3, 0, 0), 4, 5)
			checkRecords(t, read(t, j, 2, 2, 0), 2, 4)
			if j.LastSeq() != 5 {
				t.Fatalf("LastSeq = %d, want 5", j.LastSeq())
			}
			appendN(t, j, 6, 2)
			checkRecords(t, read(t, j, 4, 0, 0), 4, 5, 6, 7)
		})
	}
}

// TestCorruptSealedSegmentEnd: the last record of a sealed segment is bad,
// yet later segments hold records, so this is corruption, not a torn tail.
func TestCorruptSealedSegmentEnd(t *testing.T) {
	dir, _ := writeJournal(t, 9, 3) // segments 1-3, 4-6, 7-9
	edit(t, dir, 1, func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
	j, corrupted, _ := reopen(t, dir)
	if corrupted != 1 {
		t.Errorf("corrupted = %v, want 1", corrupted)
	}
	checkRecords(t, read(t, j, 0, 0, 0), 1, 2, 4, 5, 6, 7, 8, 9)
	appendN(t, j, 10, 1)
}

func FuzzRecover(f *testing.F) {
	var valid []byte
	for i := range 4 {
		b := make([]byte, headerSize+len(payload(i+1)))
		frame(b, payload(i+1))
		seal(b, uint64(i+1))
		valid = append(valid, b...)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-5])
	f.Add(append(bytes.Clone(valid), "VJR1garbage"...))
	flipped := bytes.Clone(valid)
	flipped[headerSize+len(payload(1))+25] ^= 0xff
	f.Add(flipped)
	f.Add(append(bytes.Clone(valid[:40]), valid...))
	f.Add([]byte{})
	f.Add([]byte("VJR1"))

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segName(1)), data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		recs, err := j.Read(0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var prev uint64
		for _, r := range recs {
			if r.Seq <= prev {
				t.Fatalf("seq %d after %d", r.Seq, prev)
			}
			prev = r.Seq
			// A recovered record must be a verbatim, verified frame of the input.
			b := make([]byte, headerSize+len(r.Payload))
			frame(b, r.Payload)
			seal(b, r.Seq)
			if !bytes.Contains(data, b) {
				t.Fatalf("recovered record %d is not in the input", r.Seq)
			}
		}
		if j.LastSeq() != prev || len(recs) > 0 && j.FirstSeq() != recs[0].Seq {
			t.Fatalf("FirstSeq %d LastSeq %d, records %v", j.FirstSeq(), j.LastSeq(), seqs(recs))
		}
		seq, err := j.Append(context.Background(), []byte("after"))
		if err != nil || seq <= prev {
			t.Fatalf("Append = %d, %v after last seq %d", seq, err, prev)
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}

		// Recovery is idempotent: reopening yields the same records plus the new one.
		j2, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer j2.Close()
		again, err := j2.Read(0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(recs)+1 || again[len(recs)].Seq != seq {
			t.Fatalf("reopened: %v, want %v then %d", seqs(again), seqs(recs), seq)
		}
		for i, r := range recs {
			if again[i].Seq != r.Seq || !bytes.Equal(again[i].Payload, r.Payload) {
				t.Fatalf("reopened: record %d differs", i)
			}
		}
	})
}
