package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/crmkit/crm/config"
)

// A configuration reload changes the plugin blocks in two steps. Prepare
// compares the new blocks with the running ones and starts every plugin
// whose block changed (path, sha256, config, read, write, entities) or was
// added, under its new block, beside the process it would replace: its
// checksum is checked, its manifest read and its configuration accepted
// (Configure) before anything changes. The caller checks the new manifests
// (the rules' actions against them) and then either applies the change,
// which puts the new processes in place and retires the old ones once
// their calls in flight end, or discards it, which stops the new
// processes and leaves the running ones as they were. A plugin whose block
// did not change is not touched; a removed block's plugin is stopped.

// Change is a change of the plugin blocks that Prepare made ready.
type Change struct {
	h *Host
	// Changed, Added and Removed name the plugins whose block changed,
	// was added or was removed, in the order of the configuration.
	Changed, Added, Removed []string
	// Failed holds, by plugin name, why a changed or added plugin did not
	// start under its new block. A change with failures is to be
	// discarded.
	Failed map[string]error

	next  map[string]*managed // started under the new blocks
	order []string            // the plugin names of the new configuration
	done  bool
}

// Prepare starts the plugins of cfgs whose block is new or differs from
// the running one, each beside the process it would replace, and returns
// the change for the caller to check (Manifest) and then Apply or
// Discard. It returns when each of them runs or has failed (Failed).
func (h *Host) Prepare(ctx context.Context, cfgs []*config.Plugin) *Change {
	c := &Change{h: h, Failed: map[string]error{}, next: map[string]*managed{}}
	h.mu.RLock()
	running := maps.Clone(h.plugins)
	order := slices.Clone(h.order)
	closed := h.closed
	h.mu.RUnlock()
	var todo []*managed
	seen := map[string]bool{}
	for _, cfg := range cfgs {
		c.order = append(c.order, cfg.Name)
		seen[cfg.Name] = true
		old := running[cfg.Name]
		switch {
		case old == nil:
			c.Added = append(c.Added, cfg.Name)
		case SameBlock(old.cfg, cfg):
			continue
		default:
			c.Changed = append(c.Changed, cfg.Name)
		}
		switch {
		case closed:
			c.Failed[cfg.Name] = fmt.Errorf("plugin %q: the host is closed", cfg.Name)
		case old != nil && old.source() == "attached":
			c.Failed[cfg.Name] = fmt.Errorf("plugin %q runs attached (a debugger or the test kit): restart the server to change its block", cfg.Name)
		default:
			todo = append(todo, newManaged(h, cfg))
		}
	}
	for _, name := range order {
		if !seen[name] {
			c.Removed = append(c.Removed, name)
		}
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, m := range todo {
		wg.Go(func() { errs[i] = m.start(ctx) })
	}
	wg.Wait()
	for i, m := range todo {
		if errs[i] != nil {
			c.Failed[m.cfg.Name] = errs[i]
			m.stop()
			continue
		}
		c.next[m.cfg.Name] = m
	}
	return c
}

// Empty reports whether the change changes no plugin.
func (c *Change) Empty() bool {
	return len(c.Changed)+len(c.Added)+len(c.Removed) == 0
}

// Manifest returns the manifest a plugin will have once the change is
// applied: the new process's for a changed or added plugin, the running
// one's for an unchanged plugin; false for a removed or failed plugin.
func (c *Change) Manifest(name string) (*Manifest, bool) {
	if m := c.next[name]; m != nil {
		if inst := m.current(); inst != nil {
			return inst.manifest, true
		}
		return nil, false
	}
	if slices.Contains(c.Removed, name) || c.Failed[name] != nil {
		return nil, false
	}
	return c.h.Manifest(name)
}

// Discard stops the processes the change started; the running plugins
// stay as they are.
func (c *Change) Discard() {
	if c.done {
		return
	}
	c.done = true
	var wg sync.WaitGroup
	for _, m := range c.next {
		wg.Go(m.stop)
	}
	wg.Wait()
}

// Apply puts the plugins started under their new blocks in place of the
// running ones, stops the plugins of removed blocks, and retires the
// replaced processes once their calls in flight end (at most the call
// deadline). It refuses a change with failures.
func (c *Change) Apply() error {
	if c.done {
		return errors.New("apply plugin change: already applied or discarded")
	}
	if len(c.Failed) > 0 {
		c.Discard()
		return errors.New("apply plugin change: some plugins did not start under their new block")
	}
	h := c.h
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		c.Discard()
		return errors.New("apply plugin change: the host is closed")
	}
	c.done = true
	var retire []*managed
	for name, m := range c.next {
		if old := h.plugins[name]; old != nil {
			retire = append(retire, old)
			old.mu.Lock()
			restarts := old.sup.restarts
			old.mu.Unlock()
			m.mu.Lock()
			m.sup.restarts, m.sup.lastRestart = restarts+1, time.Now()
			m.mu.Unlock()
		}
		h.plugins[name] = m
		h.supervisors.Add(1)
		go h.supervise(m)
	}
	for _, name := range c.Removed {
		if old := h.plugins[name]; old != nil {
			retire = append(retire, old)
			delete(h.plugins, name)
		}
	}
	h.order = slices.DeleteFunc(slices.Clone(c.order), func(name string) bool { return h.plugins[name] == nil })
	h.mu.Unlock()
	for _, name := range c.Changed {
		if c.next[name] != nil {
			h.log.Info("plugin restarted under its changed block", slog.String("plugin", name))
		}
	}
	var wg sync.WaitGroup
	for _, old := range retire {
		wg.Go(old.retire)
	}
	wg.Wait()
	return nil
}

// retire stops a plugin a reload replaced or removed: calls waiting for it
// go to its successor, calls in flight end first (within the call
// deadline), then its supervisor and its process stop.
func (m *managed) retire() {
	m.mu.Lock()
	m.retired = true
	m.changedLocked()
	var drained chan struct{}
	if m.active > 0 {
		drained = make(chan struct{})
		m.drained = drained
	}
	m.mu.Unlock()
	if drained != nil {
		t := time.NewTimer(m.host.opts.CallTimeout)
		select {
		case <-drained:
		case <-t.C:
			m.log.Warn("calls to the replaced plugin process still run; stopping it anyway")
		}
		t.Stop()
	}
	close(m.quit)
	m.stop()
}

// SameBlock reports whether two plugin blocks configure a plugin the same
// way: the same name, path, sha256, read, write, entities and config
// (their position in the files aside).
func SameBlock(a, b *config.Plugin) bool {
	return a.Name == b.Name && a.Path == b.Path && a.SHA256 == b.SHA256 &&
		slices.Equal(a.Read, b.Read) && slices.Equal(a.Write, b.Write) && slices.Equal(a.Entities, b.Entities) &&
		(len(a.Config) == 0 && len(b.Config) == 0 || reflect.DeepEqual(a.Config, b.Config))
}
