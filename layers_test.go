package crm

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/crmkit/crm"

// A layer rule: packages under From may import, of the repository's own
// packages, only those under one of Allow, or must not import those under
// one of Deny; Except names packages under From the rule does not apply to,
// and Exempt names imports it lets through, each exactly (not what is
// under it) and with its own reason. Paths are relative to the repository
// ("core", "plugins/sdk"); a path covers itself and everything under it.
type layerRule struct {
	From   string
	Except []string
	Allow  []string // nil: any but Deny
	Deny   []string
	Exempt []exemption
	Why    string
}

// An exemption is one package a rule lets its packages import, and why.
type exemption struct {
	To  string
	Why string
}

// layerRules are the import rules doc.go states.
var layerRules = []layerRule{
	{From: "plugins/proto", Allow: []string{"plugins/proto"},
		Why: "the protocol module depends on nothing of the repository"},
	{From: "plugins/sdk", Except: []string{"plugins/sdk/sdktest"}, Allow: []string{"plugins/sdk", "plugins/proto"},
		Why: "the SDK is a module a partner requires without the core; only its test kit runs a real host"},
	{From: "plugins", Except: []string{"plugins/sdk/sdktest"}, Deny: []string{"core", "config", "cmd"},
		Why: "first-party plugins are written against the SDK alone, as a partner's are"},
	{From: "examples", Allow: []string{"plugins/sdk"},
		Why: "the examples are partner plugins: they see the CRM through the SDK only"},
	{From: "core", Except: []string{"core/plugins/internal/testplugin"}, Deny: []string{"cmd", "plugins/sdk", "plugins"},
		Exempt: []exemption{{To: "plugins/sdk/exprbudget",
			Why: "a leaf that depends on expr alone, shared so plugins' templates run under the filters' budget"}},
		Why: "the core is imported by cmd, not the other way round, and speaks to plugins through plugins/proto only"},
	{From: "config", Deny: []string{"core", "cmd"},
		Why: "the configuration is read before the core exists; the core imports config"},
	{From: "web", Except: []string{"web/browsertest", "web/localetest"}, Allow: []string{},
		Why: "the web UI depends on nothing in Go but embed; it reaches the core over HTTP"},
	{From: "", Deny: []string{"cmd"}, Except: []string{"cmd"},
		Why: "cmd is the top: nothing imports a command"},
}

// under reports whether rel is dir or a path below it ("" is everything).
func under(rel, dir string) bool {
	return dir == "" || rel == dir || strings.HasPrefix(rel, dir+"/")
}

func underAny(rel string, dirs []string) bool {
	return slices.ContainsFunc(dirs, func(d string) bool { return under(rel, d) })
}

// layerViolations checks the import graph (package -> imports, both
// relative to the repository) against rules, one line per forbidden edge.
func layerViolations(graph map[string][]string, rules []layerRule) []string {
	var out []string
	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, from := range pkgs {
		for _, r := range rules {
			if !under(from, r.From) || underAny(from, r.Except) {
				continue
			}
			for _, to := range graph[from] {
				bad := denied(to, r.Deny)
				if r.Allow != nil {
					bad = !underAny(to, r.Allow)
				}
				if bad && to != from && !exempt(to, r.Exempt) {
					out = append(out, from+" imports "+to+": "+r.Why)
				}
			}
		}
	}
	return out
}

// exempt reports whether to is exactly one of the exemptions.
func exempt(to string, ex []exemption) bool {
	return slices.ContainsFunc(ex, func(e exemption) bool { return e.To == to })
}

// denied reports whether to is one of deny: "plugins" (the first-party
// registry package) denies that package only, not plugins/proto; every
// other entry denies itself and everything under it.
func denied(to string, deny []string) bool {
	for _, d := range deny {
		if d == "plugins" {
			if to == "plugins" {
				return true
			}
			continue
		}
		if under(to, d) {
			return true
		}
	}
	return false
}

// importGraph parses the imports of every Go file in the repository (all
// modules of go.work, test files included, build tags ignored) into
// package -> the repository's packages it imports.
func importGraph(t *testing.T, root string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if pkg == "." {
			pkg = ""
		}
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if p == modulePath || strings.HasPrefix(p, modulePath+"/") {
				to := strings.TrimPrefix(strings.TrimPrefix(p, modulePath), "/")
				if !slices.Contains(graph[pkg], to) {
					graph[pkg] = append(graph[pkg], to)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read the repository's imports: %v", err)
	}
	return graph
}

func TestLayers(t *testing.T) {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	graph := importGraph(t, root)
	// The walk must have seen every layer, or the rules would pass on nothing.
	for _, p := range []string{"cmd/crm", "config", "core/store", "core/plugins", "plugins/proto/crmv1",
		"plugins/sdk", "plugins/sdk/sdktest", "examples/loyalty"} {
		if _, ok := graph[p]; !ok {
			t.Fatalf("package %s not found under %s: the import walk is broken", p, root)
		}
	}
	if !slices.Contains(graph["plugins/sdk/sdktest"], "core/plugins") {
		t.Fatalf("sdktest imports %v, not core/plugins: the import walk is broken", graph["plugins/sdk/sdktest"])
	}
	for _, v := range layerViolations(graph, layerRules) {
		t.Error(v)
	}
}

// The rules catch each kind of forbidden edge and let the allowed ones be.
func TestLayerRulesCatchForbiddenImports(t *testing.T) {
	graph := map[string][]string{
		"plugins/sdk":                      {"plugins/proto/crmv1", "config"},
		"plugins/sdk/internal/x":           {"core/store"},
		"plugins/sdk/sdktest":              {"core/plugins", "config", "plugins/sdk"},
		"plugins/proto/crmv1":              {"plugins/sdk"},
		"examples/loyalty":                 {"plugins/sdk", "plugins/sdk/sdktest", "core/schema"},
		"core/rules":                       {"config", "core/store", "cmd/crm", "plugins/sdk/exprbudget"},
		"core/store":                       {"plugins/sdk/exprbudget/internal"},
		"core/app":                         {"plugins/sdk", "plugins/proto/crmv1", "plugins"},
		"core/plugins/internal/testplugin": {"plugins/sdk"},
		"config":                           {"core/schema"},
		"cmd/crm":                          {"core/app", "plugins", "plugins/sdk"},
		"plugins":                          {"plugins/sdk", "core/store"},
	}
	want := []string{
		"config imports core/schema",
		"core/app imports plugins",
		"core/app imports plugins/sdk",
		"core/rules imports cmd/crm",
		"core/store imports plugins/sdk/exprbudget/internal",
		"examples/loyalty imports core/schema",
		"plugins imports core/store",
		"plugins/proto/crmv1 imports plugins/sdk",
		"plugins/sdk imports config",
		"plugins/sdk/internal/x imports core/store",
	}
	var got []string
	for _, v := range layerViolations(graph, layerRules) {
		got = append(got, v[:strings.Index(v, ":")])
	}
	slices.Sort(got)
	got = slices.Compact(got) // an edge may break two rules (core/rules -> cmd)
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
