package clickhouse

import (
	"testing"

	"github.com/vigia-noc/vigia/storage/storagetest"
)

// TestConformance runs the suite every store passes (storage/storagetest).
func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return OpenTest(t) })
}
