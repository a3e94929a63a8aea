package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/vigia-noc/vigia/api"
	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/pipeline"
	"github.com/vigia-noc/vigia/suppress"
)

// suppressionsFile keeps the suppressions in the data directory.
const suppressionsFile = "suppressions.json"

func loadSuppressions(dir string) (*suppress.Set, error) {
	b, err := os.ReadFile(filepath.Join(dir, suppressionsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return suppress.NewSet(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	var list []suppress.Suppression
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("suppressions: %w", err)
	}
	return suppress.NewSet(list)
}

// suppressions serves the API's suppressions: each change is saved, then
// handed to the engine.
type suppressions struct {
	dir string
	p   *pipeline.Pipeline
	mu  sync.Mutex
	set *suppress.Set
	seq int
}

func (h *suppressions) List() []suppress.Suppression {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.set.List()
}

func (h *suppressions) Add(ctx context.Context, s suppress.Suppression) (suppress.Suppression, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.ID == "" {
		h.seq = max(h.seq, len(h.set.List()))
		for {
			h.seq++
			s.ID = fmt.Sprintf("SUP-%06d", h.seq)
			if !h.has(s.ID) {
				break
			}
		}
	}
	next, err := h.set.With(s)
	if err != nil {
		return s, err
	}
	return s, h.replace(ctx, next)
}

func (h *suppressions) has(id string) bool {
	for _, x := range h.set.List() {
		if x.ID == id {
			return true
		}
	}
	return false
}

func (h *suppressions) Delete(ctx context.Context, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	next, ok := h.set.Without(id)
	if !ok {
		return fmt.Errorf("%w: %s", api.ErrSuppressionNotFound, id)
	}
	return h.replace(ctx, next)
}

// replace saves the set, then gives it to the engine. Call with mu held.
func (h *suppressions) replace(ctx context.Context, next *suppress.Set) error {
	list := next.List()
	if list == nil {
		list = []suppress.Suppression{}
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(h.dir, suppressionsFile), b); err != nil {
		return fmt.Errorf("save suppressions: %w", err)
	}
	if err := h.p.Do(ctx, func(e *correlate.Engine) error { e.SetSuppressions(next); return nil }); err != nil {
		return err
	}
	h.set = next
	return nil
}
