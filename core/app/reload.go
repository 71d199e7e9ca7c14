package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/rules"
	"github.com/hashicorp/hcl/v2"
)

// ConfigStatus is what GET /api/v1/config/status shows: the configuration in
// force and, when the last change on disk was refused, why.
type ConfigStatus struct {
	Path        string    `json:"path"`
	LoadedAt    time.Time `json:"loaded_at"`
	CheckedAt   time.Time `json:"checked_at"`
	OK          bool      `json:"ok"`
	Diagnostics []string  `json:"diagnostics"`
	Warnings    []string  `json:"warnings,omitempty"`
	Rules       int       `json:"rules"`
	// Plugins are the plugins the last applied change restarted under a
	// changed block, started (a new block) or stopped (a removed one).
	Plugins *PluginChange `json:"plugins,omitempty"`
}

// PluginChange names the plugins a configuration change restarted,
// started and stopped.
type PluginChange struct {
	Restarted []string `json:"restarted,omitempty"`
	Started   []string `json:"started,omitempty"`
	Stopped   []string `json:"stopped,omitempty"`
}

// reloader watches the configuration files and swaps in new rules, roles
// and plugin blocks when they change and check clean; a configuration with
// errors is refused and the running one stays. A plugin whose block
// changed is started under its new block beside the running one, checked
// (its checksum, its start and Configure, the rules' actions against its
// new manifest), and put in place only when the whole change is clean;
// plugins of added blocks are started, of removed blocks stopped, and
// plugins whose block did not change are not touched.
type reloader struct {
	a      *App
	path   string
	mu     sync.Mutex
	status ConfigStatus
	sum    [32]byte
}

func newReloader(a *App, path string) *reloader {
	r := &reloader{a: a, path: path}
	r.sum, _ = fingerprint(path)
	now := time.Now().UTC()
	r.status = ConfigStatus{Path: path, LoadedAt: now, CheckedAt: now, OK: true, Diagnostics: []string{}, Rules: len(a.Rules.Rules)}
	return r
}

// Status returns the current status.
func (r *reloader) Status() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	return s
}

// watch polls the files every interval until ctx is done.
func (r *reloader) watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.check(ctx)
		}
	}
}

// check reloads when the files' contents changed.
func (r *reloader) check(ctx context.Context) {
	sum, err := fingerprint(r.path)
	if err != nil || sum == r.sum {
		return
	}
	r.sum = sum
	log := r.a.Log.With(slog.String("config", r.path))
	now := time.Now().UTC()
	cfg, diags := config.Load(r.path)
	var set *rules.Set
	var change *plugins.Change
	var warnings []string
	if !diags.HasErrors() {
		// Compiled against the running schema: entities change at a restart.
		cfg = keepPluginEntities(cfg, r.a.Config)
		if r.a.Plugins != nil {
			// The changed and added plugins start first, so that the
			// rules are compiled against the events of every manifest.
			change = r.a.Plugins.Prepare(ctx, cfg.Plugins)
			manifestEvents(cfg, change.Manifest)
			diags = append(diags, failedPlugins(cfg, change)...)
		}
		_, _, set, diags = compile(cfg, r.a.Schema, diags)
	}
	if !diags.HasErrors() && change != nil {
		var pd hcl.Diagnostics
		pd, warnings = r.checkPlugins(cfg, set, change)
		diags = append(diags, pd...)
	}
	lines := formatDiags(cfg, diags)
	if diags.HasErrors() && change != nil {
		change.Discard()
	}
	if !diags.HasErrors() && change != nil && !change.Empty() {
		// The plugins first: the new rules may call their new actions.
		if err := change.Apply(); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: err.Error()})
			lines = formatDiags(cfg, diags)
		} else {
			r.a.runDeliveries(cfg.Plugins)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status.CheckedAt = now
	r.status.Diagnostics = lines
	if diags.HasErrors() {
		r.status.OK = false
		for _, l := range lines {
			log.Error("configuration change refused; the running configuration stays", slog.String("diagnostic", l))
		}
		return
	}
	r.a.Engine.SetRules(set)
	r.a.Auth.SetRoles(cfg.Roles)
	r.status.OK, r.status.LoadedAt, r.status.Rules = true, now, len(set.Rules)
	r.status.Warnings, r.status.Plugins = warnings, nil
	if change != nil && !change.Empty() {
		r.status.Plugins = &PluginChange{Restarted: change.Changed, Started: change.Added, Stopped: change.Removed}
		log.Info("plugins reloaded", slog.Any("restarted", change.Changed), slog.Any("started", change.Added), slog.Any("stopped", change.Removed))
	}
	if !sameEntities(r.a.Config, cfg) {
		r.status.Warnings = append(r.status.Warnings, "entity and field changes take effect after a restart")
	}
	if !reflect.DeepEqual(r.a.Config.SMTP, cfg.SMTP) {
		r.status.Warnings = append(r.status.Warnings, "smtp changes take effect after a restart")
	}
	for _, w := range r.status.Warnings {
		log.Warn(w)
	}
	log.Info("configuration reloaded", slog.Int("rules", len(set.Rules)))
}

// failedPlugins reports, at its block, each plugin of cfg that did not
// start under its changed or new block (see plugins.Host.Prepare): the
// change is then to be discarded.
func failedPlugins(cfg *config.Config, change *plugins.Change) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, p := range cfg.Plugins {
		if err := change.Failed[p.Name]; err != nil {
			rng := p.Range
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Subject: &rng,
				Summary: fmt.Sprintf("plugin %s: its changed block was refused, the running plugin stays: %v", p.Name, err)})
		}
	}
	return diags
}

// checkPlugins checks a prepared plugin change against the compiled rules:
// every rule's PLUGIN.ACTION must match the manifest its plugin will have;
// a mismatch is an error at the rule's action, and the change is then to
// be discarded. It also returns the warnings of a change that is applied
// but takes full effect only at a restart (a plugin's contributed
// entities).
func (r *reloader) checkPlugins(cfg *config.Config, set *rules.Set, change *plugins.Change) (hcl.Diagnostics, []string) {
	diags := CheckPluginActions(set, change.Manifest)
	var warnings []string
	for _, p := range cfg.Plugins {
		if !slices.Contains(change.Changed, p.Name) && !slices.Contains(change.Added, p.Name) {
			continue
		}
		if m, ok := change.Manifest(p.Name); ok && !sameContributed(p, m, r.a.Config) {
			warnings = append(warnings, fmt.Sprintf("plugin %s: changes of the entities it contributes take effect after a restart", p.Name))
		}
	}
	return diags, warnings
}

// sameContributed reports whether the entities that block p declares, as
// manifest m describes them, are those of the running configuration.
func sameContributed(p *config.Plugin, m *plugins.Manifest, running *config.Config) bool {
	ents, _ := contributedEntities(p, m)
	if len(ents) != len(p.Entities) {
		return false
	}
	for _, e := range ents {
		have := running.Entity(e.Name)
		if have == nil || len(have.Fields) != len(e.Fields) {
			return false
		}
		for i, f := range e.Fields {
			g := have.Fields[i]
			if f.Name != g.Name || f.Type != g.Type || f.Required != g.Required || f.Unique != g.Unique ||
				f.Index != g.Index || f.To != g.To || !slices.Equal(f.Values, g.Values) {
				return false
			}
		}
	}
	return true
}

func formatDiags(cfg *config.Config, diags hcl.Diagnostics) []string {
	out := []string{}
	var files map[string]*hcl.File
	if cfg != nil {
		files = cfg.Files
	}
	for _, d := range diags {
		var b bytes.Buffer
		config.WriteDiagnostics(&b, files, hcl.Diagnostics{d})
		out = append(out, strings.TrimRight(b.String(), "\n"))
	}
	return out
}

// sameEntities reports whether two configurations define the same entities
// and fields (positions aside).
func sameEntities(a, b *config.Config) bool {
	shape := func(c *config.Config) []string {
		var out []string
		for _, e := range c.Entities {
			for _, f := range e.Fields {
				out = append(out, fmt.Sprintf("%s.%s:%s:%v:%v:%v:%v:%s", e.Name, f.Name, f.Type, f.Required, f.Unique, f.Index, f.Values, f.To))
			}
		}
		for _, p := range c.Pipelines {
			out = append(out, fmt.Sprintf("pipeline %s %s %v", p.Name, p.Entity, p.Stages))
		}
		return out
	}
	return reflect.DeepEqual(shape(a), shape(b))
}

// fingerprint hashes the names and contents of the configuration files.
func fingerprint(path string) ([32]byte, error) {
	files := []string{path}
	if fi, err := os.Stat(path); err != nil {
		return [32]byte{}, err
	} else if fi.IsDir() {
		files, err = filepath.Glob(filepath.Join(path, "*.hcl"))
		if err != nil {
			return [32]byte{}, err
		}
		sort.Strings(files)
	}
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return [32]byte{}, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// keepPluginEntities returns cfg with the plugin-contributed entities of the
// running configuration that cfg's plugin blocks still declare: entities
// change at a restart, so they are those read at start-up. So are, at
// first, their events (see keepPluginEvents); the reload then sets them
// from the plugins' manifests (see manifestEvents).
func keepPluginEntities(cfg, running *config.Config) *config.Config {
	var add []*config.Entity
	for _, p := range cfg.Plugins {
		for _, n := range p.Entities {
			if e := running.Entity(n); e != nil && cfg.Entity(n) == nil {
				add = append(add, e)
			}
		}
	}
	out := *cfg
	out.Entities = append(slices.Clone(cfg.Entities), add...)
	keepPluginEvents(&out, running)
	return &out
}
