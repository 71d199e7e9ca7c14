// Package web holds the browser UI: ES modules, styles, icons and vendored
// libraries under static/, embedded in the binary, and the http.Handler
// that serves them. It depends on nothing in Go but the standard library;
// the UI talks to the core only over the HTTP API and the websocket.
//
// Assets are served under /assets/<content hash>/ and cached forever; the
// page (index.html, for every path the API does not own) is never cached,
// so a new binary's page names new asset paths. The import map that maps
// bare specifiers ("preact", "htm/preact"...) to those paths is inline in
// the page and allowed by the Content-Security-Policy through its SHA-256.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// imports maps each bare module specifier the UI uses to its file under
// static/ (the vendored npm packages; see web/scripts/vendor-*.sh).
var imports = map[string]string{
	"preact":               "vendor/preact/preact.module.js",
	"preact/hooks":         "vendor/preact/hooks.module.js",
	"htm":                  "vendor/htm/htm.module.js",
	"htm/preact":           "vendor/htm/preact.module.js",
	"@preact/signals":      "vendor/signals/signals.module.js",
	"@preact/signals-core": "vendor/signals/signals-core.module.js",
	"sortablejs":           "vendor/sortablejs/sortable.esm.js",
	"jalaali-js":           "vendor/jalaali-js/jalaali.js",
}

// Options configure the UI handler.
type Options struct {
	// Files replaces the embedded static/ tree (tests, or a developer
	// serving web/static from disk with os.DirFS to edit and reload).
	Files fs.FS
	// Dev re-reads Files on every request and lets nothing be cached, so
	// that an edited file shows on the next reload without a rebuild.
	Dev bool
}

// Handler serves the UI. Every response carries the security headers.
// GET /assets/<hash>/<file> serves a static file (immutable);
// /manifest.webmanifest, /sw.js and /icons/... are served at the root (the
// service worker's scope is the whole site); any other GET or HEAD answers
// the page, which routes on the client. Paths under /api/ and /hooks/ are
// never answered with the page: the server sends those to the API, and
// should one reach this handler it answers a JSON 404.
func Handler(opts Options) http.Handler {
	files := opts.Files
	if files == nil {
		sub, err := fs.Sub(static, "static")
		if err != nil {
			panic(fmt.Sprintf("web: embedded static tree: %v", err)) // cannot happen: static is embedded
		}
		files = sub
	}
	if opts.Dev {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h, err := newHandler(files)
			if err != nil {
				http.Error(w, "web UI unavailable: "+err.Error(), http.StatusInternalServerError)
				return
			}
			h.dev = true
			h.ServeHTTP(w, r)
		})
	}
	h, err := newHandler(files)
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "web UI unavailable: "+err.Error(), http.StatusInternalServerError)
		})
	}
	return h
}

type handler struct {
	files   fs.FS
	hash    string // content hash of every file under static/
	base    string // "/assets/<hash>/"
	page    []byte // index.html with the base and the import map filled in
	pageTag string // ETag of page
	sw      []byte // sw.js with the base filled in
	csp     string
	dev     bool // nothing cached (Options.Dev)
}

func newHandler(files fs.FS) (*handler, error) {
	hash, err := contentHash(files)
	if err != nil {
		return nil, err
	}
	h := &handler{files: files, hash: hash, base: "/assets/" + hash + "/"}
	im := map[string]map[string]string{"imports": {}}
	for spec, file := range imports {
		im["imports"][spec] = h.base + file
	}
	imJSON, err := json.Marshal(im)
	if err != nil {
		return nil, fmt.Errorf("import map: %w", err)
	}
	tmpl, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return nil, fmt.Errorf("read index.html: %w", err)
	}
	h.page = bytes.ReplaceAll(tmpl, []byte("{{base}}"), []byte(h.base))
	h.page = bytes.ReplaceAll(h.page, []byte("{{importmap}}"), imJSON)
	sum := sha256.Sum256(imJSON)
	h.pageTag = `"` + hash + `"`
	h.csp = strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
		"style-src 'self'",
		"img-src 'self' data: blob:",
		"font-src 'self'",
		"connect-src 'self'",
		"manifest-src 'self'",
		"worker-src 'self'",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
	sw, err := fs.ReadFile(files, "sw.js")
	if err != nil {
		return nil, fmt.Errorf("read sw.js: %w", err)
	}
	shell, err := shellFiles(files, h.base)
	if err != nil {
		return nil, err
	}
	h.sw = bytes.ReplaceAll(sw, []byte("{{base}}"), []byte(h.base))
	h.sw = bytes.ReplaceAll(h.sw, []byte("{{assets}}"), shell)
	h.sw = bytes.ReplaceAll(h.sw, []byte("{{version}}"), []byte(hash))
	return h, nil
}

// shellFiles is the JSON list of the asset URLs the service worker caches
// when it installs: every script, style sheet and catalogue.
func shellFiles(files fs.FS, base string) ([]byte, error) {
	var urls []string
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch path.Ext(p) {
		case ".js", ".css", ".json":
			if p != "sw.js" {
				urls = append(urls, base+p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list shell files: %w", err)
	}
	sort.Strings(urls)
	return json.Marshal(urls)
}

// contentHash is a short hex SHA-256 over every file's path and contents,
// so any change to any file gives every asset a new path.
func contentHash(files fs.FS) (string, error) {
	var names []string
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("walk static files: %w", err)
	}
	sort.Strings(names)
	sum := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(files, n)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", n, err)
		}
		fmt.Fprintf(sum, "%s\x00%d\x00", n, len(b))
		sum.Write(b)
	}
	return hex.EncodeToString(sum.Sum(nil))[:16], nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	p := r.URL.Path
	if p == "/api" || p == "/hooks" || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/hooks/") {
		jsonError(w, http.StatusNotFound, "not_found", "no route "+r.Method+" "+p)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		jsonError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+p)
		return
	}
	switch {
	case strings.HasPrefix(p, "/assets/"):
		h.asset(w, r, strings.TrimPrefix(p, "/assets/"))
	case p == "/sw.js":
		hd.Set("Cache-Control", "no-cache")
		hd.Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeContent(w, r, "sw.js", time.Time{}, bytes.NewReader(h.sw))
	case p == "/manifest.webmanifest" || p == "/favicon.ico" || strings.HasPrefix(p, "/icons/"):
		name := strings.TrimPrefix(p, "/")
		if p == "/favicon.ico" {
			name = "icons/icon.svg"
		}
		h.file(w, r, name, "no-cache")
	default:
		hd.Set("Cache-Control", "no-cache")
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("ETag", h.pageTag)
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(h.page))
	}
}

// asset serves "<hash>/<file>". Under the current hash the file is
// immutable; under another (a page from an older binary still open) it is
// served, but not cached, since its contents are today's.
func (h *handler) asset(w http.ResponseWriter, r *http.Request, rest string) {
	hash, name, ok := strings.Cut(rest, "/")
	if !ok || name == "" {
		jsonError(w, http.StatusNotFound, "not_found", "no asset "+r.URL.Path)
		return
	}
	cache := "public, max-age=31536000, immutable"
	if hash != h.hash || h.dev {
		cache = "no-cache"
	}
	h.file(w, r, name, cache)
}

func (h *handler) file(w http.ResponseWriter, r *http.Request, name, cache string) {
	name = path.Clean(name)
	if !fs.ValidPath(name) || name == "index.html" || name == "sw.js" {
		jsonError(w, http.StatusNotFound, "not_found", "no asset "+r.URL.Path)
		return
	}
	b, err := fs.ReadFile(h.files, name)
	if err != nil {
		jsonError(w, http.StatusNotFound, "not_found", "no asset "+r.URL.Path)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js", ".mjs":
		ct = "text/javascript; charset=utf-8"
	case ".webmanifest":
		ct = "application/manifest+json"
	case ".json":
		ct = "application/json; charset=utf-8"
	case "":
		ct = "text/plain; charset=utf-8"
	}
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Cache-Control", cache)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// jsonError writes the API's error shape, so a client never mistakes a
// missing asset or route for the page.
func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
