package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Load reads the configuration at path: one file, or every *.hcl file
// directly inside a directory (sorted by name, not recursive), merged. It
// collects every problem it finds rather than stopping at the first. The
// *Config is never nil, so a caller can print the diagnostics with its
// Files; a caller must treat diags.HasErrors() as failure.
func Load(path string) (*Config, hcl.Diagnostics) {
	files, diags := readSources(path)
	if diags.HasErrors() {
		return newConfig(), diags
	}
	return LoadSources(files)
}

// LoadSources is Load over sources held in memory, keyed by file name.
func LoadSources(files map[string][]byte) (*Config, hcl.Diagnostics) {
	cfg := newConfig()
	if len(files) == 0 {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "no configuration files"}}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)

	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	parsed := make([]*hcl.File, 0, len(names))
	for _, name := range names {
		f, d := parser.ParseHCL(files[name], name)
		diags = append(diags, d...)
		if f != nil {
			cfg.Files[name] = f
			parsed = append(parsed, f)
		}
	}
	// Decoding a body with syntax errors would only add noise.
	if diags.HasErrors() {
		return cfg, SortDiagnostics(diags)
	}

	l := &loader{cfg: cfg, src: map[any]*src{}}
	l.firstParty, l.firstPartyNames = firstPartyTable()
	for _, f := range parsed {
		l.decodeFile(f)
	}
	l.validate()
	cfg.Events = l.firstPartyEvents()
	l.firstPartyEntities()
	return cfg, SortDiagnostics(l.diags)
}

// newConfig is an empty configuration with the defaults set.
func newConfig() *Config {
	return &Config{
		Files:  map[string]*hcl.File{},
		Server: Server{Listen: "127.0.0.1:8080", DataDir: "data"},
		Locale: Locale{
			Languages: []string{"en"},
			Default:   "en",
			Calendar:  "gregorian",
			Currency:  "USD",
			Timezone:  "UTC",
		},
		Workflow: DefaultWorkflow,
	}
}

// readSources reads path, a file or a directory of *.hcl files.
func readSources(path string) (map[string][]byte, hcl.Diagnostics) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fileError(path, "cannot read config", err)
	}
	if !info.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fileError(path, "cannot read config", err)
		}
		return map[string][]byte{path: b}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fileError(path, "cannot read config directory", err)
	}
	files := map[string][]byte{}
	var diags hcl.Diagnostics
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		name := filepath.Join(path, e.Name())
		b, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, fileError(name, "cannot read config", err)...)
			continue
		}
		files[name] = b
	}
	if len(files) == 0 && !diags.HasErrors() {
		diags = fileError(path, "no .hcl files in config directory", nil)
	}
	return files, diags
}

// fileError is a diagnostic about a whole file.
func fileError(path, summary string, err error) hcl.Diagnostics {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Subject: &hcl.Range{Filename: path}}
	if err != nil {
		d.Detail = err.Error()
	}
	return hcl.Diagnostics{d}
}

// loader holds the state of one load: the config being built, the
// diagnostics so far, and where each decoded value came from.
type loader struct {
	cfg   *Config
	diags hcl.Diagnostics

	src       map[any]*src // keyed by *Entity, *Field, *Pipeline, *Role, *Plugin, *Rule, *Action
	entities  []*Entity    // entity blocks as decoded, before merging with the built-ins
	serverSrc *src
	localeSrc *src

	workflowSeen *hcl.Range // the first workflow block

	firstParty      map[string]FirstPartyPlugin // FirstParty's answer, by name
	firstPartyNames []string                    // in FirstParty's order
}

// report adds an error at r.
func (l *loader) report(r hcl.Range, summary, detail string) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  r.Ptr(),
	})
}

// warn adds a warning at r.
func (l *loader) warn(r hcl.Range, summary, detail string) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   detail,
		Subject:  r.Ptr(),
	})
}

// where is "file:line", for "first defined at ..." details.
func where(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// SortDiagnostics orders diagnostics by file and position, keeping the
// order of those at the same place.
func SortDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
	return diags
}
