package trend_test

import (
	"testing"

	"github.com/vigia-noc/vigia/trend/trendtest"
)

// TestCases checks every hand-computed expectation on the reference store.
func TestCases(t *testing.T) {
	trendtest.Run(t, func(*testing.T) trendtest.Store { return trendtest.NewMemory() })
}
