package embedded

import (
	"context"
	"testing"

	"github.com/vigia-noc/vigia/storage/storagetest"
)

// TestConformance runs the suite every store passes (storage/storagetest).
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Store {
		s, err := Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
