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

	"github.com/vigia-noc/vigia/correlate"
	"github.com/vigia-noc/vigia/pipeline"
	"github.com/vigia-noc/vigia/topology"
)

// topologyFile is where a topology set through the API is kept, so that it
// survives a restart; it wins over the configured file.
const topologyFile = "topology.json"

// loadTopology returns the topology set through the API if there is one,
// else the configured file's, else nil.
func loadTopology(dataDir, configured string) (*topology.Topology, error) {
	saved := filepath.Join(dataDir, topologyFile)
	if _, err := os.Stat(saved); err == nil {
		return topology.Load(saved)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("topology: %w", err)
	}
	if configured == "" {
		return nil, nil
	}
	return topology.Load(configured)
}

// topologyHolder serves the API's topology reads and replaces the engine's
// topology through the pipeline, saving it in the data directory first.
type topologyHolder struct {
	dir string
	p   *pipeline.Pipeline
	mu  sync.Mutex
	cur *topology.Topology
}

func (h *topologyHolder) Topology() *topology.Topology {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

func (h *topologyHolder) SetTopology(ctx context.Context, t *topology.Topology) error {
	b, err := json.Marshal(topology.File{CIs: t.CIs()})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(h.dir, topologyFile), b); err != nil {
		return fmt.Errorf("save topology: %w", err)
	}
	if err := h.p.Do(ctx, func(e *correlate.Engine) error { e.SetTopology(t); return nil }); err != nil {
		return err
	}
	h.mu.Lock()
	h.cur = t
	h.mu.Unlock()
	return nil
}

// writeFileAtomic writes b to path through a synced temporary file.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// topologyHolderRef reads the current topology of a holder.
type topologyHolderRef struct{ h *topologyHolder }

func (r *topologyHolderRef) get() *topology.Topology { return r.h.Topology() }
