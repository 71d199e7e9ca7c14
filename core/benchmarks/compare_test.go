package benchmarks_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
	badger "github.com/dgraph-io/badger/v4"
)

// The knobs of BenchmarkCompare, from the environment:
//
//	CRM_BENCH_N          contacts seeded (default 100000; 1000000 for the 1M figures)
//	CRM_BENCH_DURATION   how long each query is measured, per client count (default 3s)
//	CRM_BENCH_POCKETBASE path of PocketBase's examples/base binary, v0.36.0
//	                     (make bench-compare installs it); unset or missing: skipped
const (
	defaultN        = 100_000
	defaultDuration = 3 * time.Second
	createClients   = 50
	pageSize        = 20
)

// The seeded contacts. Of every 100, ten have one of the sources ref0..ref9
// (1% of the records each: ~1k at 100k) and the other 90 have "web" (the
// broad filter). Names combine 50 first and 40 last names (2,000 names, ~50
// records each at 100k); every 1000th contact has the rare last name
// Ohanjanyan, which the substring scan and the search look for.
var (
	firstNames = strings.Fields(`Anna Aram Ani Armen Lilit Davit Mariam Narek Sona Tigran Gayane Hayk Karine Levon
		Nare Ruben Seda Vahe Zara Arsen Ona Jonas Rasa Tomas Egle Lukas Ieva Mantas Asta Darius Sara Reza Maryam
		Ali Neda Omid Leila Amir Farah Kian Olga Ivan Elena Pavel Irina Sergei Nino Giorgi Elif Murat`)
	lastNames = strings.Fields(`Petrosyan Hakobyan Sargsyan Harutyunyan Grigoryan Khachatryan Vardanyan Stepanyan
		Karapetyan Gevorgyan Kazlauskas Jankauskas Petrauskas Stankevicius Vasiliauskas Zukauskas Butkus Paulauskas
		Urbonas Kavaliauskas Ahmadi Hosseini Mohammadi Rezaei Moradi Karimi Jafari Rahimi Hashemi Sadeghi Ivanov
		Smirnov Kuznetsov Popov Novikov Beridze Kapanadze Yilmaz Kaya Demir`)
)

func contact(i int) map[string]string {
	source := "web"
	// i/2000 shifts the source against the name, which repeats every 2000
	if k := (i + i/2000) % 100; k < 10 {
		source = "ref" + strconv.Itoa(k)
	}
	last := lastNames[(i/len(firstNames))%len(lastNames)]
	if i%1000 == 999 {
		last = "Ohanjanyan"
	}
	return map[string]string{
		"name":   firstNames[i%len(firstNames)] + " " + last,
		"email":  fmt.Sprintf("c%07d@example.com", i),
		"source": source,
		// an unindexed field with a value unrelated to creation order
		"notes": fmt.Sprintf("n%08d", (uint32(i)*2654435761)%100_000_000),
	}
}

// query is one row of the table: the same question asked of each system.
type query struct {
	name     string
	clients  []int
	crm      string                    // path and query of crm's API; "" for none
	pb       string                    // path and query of PocketBase's API; "" for none
	raw      func(db *badger.DB) error // the raw Badger work the query cannot do without
	optional bool                      // crm answers 400 or 404 while the feature is not there yet
	wantKey  []string                  // the answer must hold one of these keys, else the feature is not there yet
}

func crmList(filter, sort string, extra ...string) string {
	v := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if filter != "" {
		v.Set("filter", filter)
	}
	if sort != "" {
		v.Set("sort", sort)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return "/api/v1/records/contact?" + v.Encode()
}

func pbList(filter, sort string, total bool) string {
	v := url.Values{"perPage": {strconv.Itoa(pageSize)}}
	if !total {
		v.Set("skipTotal", "1")
	}
	if filter != "" {
		v.Set("filter", filter)
	}
	if sort != "" {
		v.Set("sort", sort)
	}
	return "/api/collections/contact/records?" + v.Encode()
}

func queries() []query {
	both := []int{1, 50}
	return []query{
		{name: "indexed filter matching 1% (source == ref3)", clients: both,
			crm: crmList("source == 'ref3'", ""), pb: pbList("(source='ref3')", "", false),
			raw: func(db *badger.DB) error { return rawIndexPage(db, "source", "ref3") }},
		{name: "indexed filter matching 90% (source == web)", clients: both,
			crm: crmList("source == 'web'", ""), pb: pbList("(source='web')", "", false),
			raw: func(db *badger.DB) error { return rawIndexPage(db, "source", "web") }},
		{name: "two indexed predicates (source == web && name == Anna Petrosyan)", clients: both,
			crm: crmList("source == 'web' && name == 'Anna Petrosyan'", ""),
			pb:  pbList("(source='web' && name='Anna Petrosyan')", "", false),
			raw: func(db *badger.DB) error { return rawTwoPredicates(db, "Anna Petrosyan", "web") }},
		{name: "substring filter, no field index (name contains anjan)", clients: both,
			crm: crmList("name contains 'anjan'", ""), pb: pbList("(name~'anjan')", "", false),
			raw: func(db *badger.DB) error { return rawScan(db, "anjan") }},
		{name: "sort on an indexed field (name)", clients: both,
			crm: crmList("", "name"), pb: pbList("", "name", false),
			raw: func(db *badger.DB) error { return rawIndexPage(db, "name", "") }},
		{name: "sort on an unindexed field (notes)", clients: both,
			crm: crmList("", "notes"), pb: pbList("", "notes", false),
			raw: rawSortUnindexed},
		{name: "count of source == ref3", clients: []int{1}, optional: true, wantKey: []string{"count", "total", "total_count"},
			crm: crmList("source == 'ref3'", "", "count", "true"), pb: pbList("(source='ref3')", "", true),
			raw: func(db *badger.DB) error { return rawCount(db, "source", "ref3") }},
		{name: "global search (q=Ohanj)", clients: []int{1}, optional: true,
			crm: "/api/v1/search?q=Ohanj", pb: pbList("(name~'Ohanj' || email~'Ohanj')", "", false),
			raw: func(db *badger.DB) error { return rawScan(db, "Ohanj") }},
	}
}

// result is one measured cell.
type result struct {
	n        int
	elapsed  time.Duration
	p50, p99 time.Duration
	note     string // why there is no figure
	failed   string // how many calls failed and why
}

func (r result) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) String() string {
	if r.note != "" {
		return r.note
	}
	if r.n == 0 {
		return "all failed: " + r.failed
	}
	s := fmt.Sprintf("%s/s, p50 %s, p99 %s", rate(r.rps()), ms(r.p50), ms(r.p99))
	if r.failed != "" {
		s += "; " + r.failed
	}
	return s
}

func rate(x float64) string {
	switch {
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

func ms(d time.Duration) string {
	m := float64(d) / float64(time.Millisecond)
	switch {
	case m >= 100:
		return strconv.FormatFloat(m, 'f', 0, 64) + " ms"
	case m >= 1:
		return strconv.FormatFloat(m, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(m, 'f', 3, 64) + " ms"
}

// measure calls fn from `clients` goroutines until d has passed (each
// client finishes the call it is in) and returns the throughput and
// latency percentiles of the calls that succeeded, and how many failed.
func measure(clients int, d time.Duration, fn func() error) result {
	var mu sync.Mutex
	var lat []time.Duration
	var failed int
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for calls := 0; calls == 0 || time.Now().Before(deadline); calls++ {
				t := time.Now()
				if err := fn(); err != nil {
					mu.Lock()
					failed++
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := result{elapsed: time.Since(start)}
	if len(lat) > 0 {
		r = summarize(lat, r.elapsed)
	}
	if failed > 0 {
		r.failed = fmt.Sprintf("%d of %d failed, e.g. %.160s", failed, failed+r.n, firstErr)
	}
	return r
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func summarize(lat []time.Duration, elapsed time.Duration) result {
	slices.Sort(lat)
	return result{n: len(lat), elapsed: elapsed, p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}
}

// service is a server under test reached over HTTP.
type service struct {
	name   string
	base   string
	auth   string // Authorization header value
	client *http.Client
	pid    int
}

func newClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
}

// do sends a request and returns the status and body.
func (s *service) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.auth != "" {
		req.Header.Set("Authorization", s.auth)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s %s: %w", s.name, method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s %s: read body: %w", s.name, method, path, err)
	}
	return res.StatusCode, raw, nil
}

// get is do for a query that must answer 200.
func (s *service) get(path string) error {
	st, body, err := s.do("GET", path, nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("%s GET %s: status %d: %.300s", s.name, path, st, body)
	}
	return nil
}

// seed creates contacts [from, to) from `clients` concurrent clients and
// returns the throughput and latencies of the creates.
func (s *service) seed(path string, from, to, clients int) (result, error) {
	lat := make([]time.Duration, to-from)
	d, err := testkit.RunConcurrent(to-from, clients, func(i int) error {
		t := time.Now()
		st, body, err := s.do("POST", path, contact(from+i))
		if err != nil {
			return err
		}
		if st != http.StatusOK && st != http.StatusCreated {
			return fmt.Errorf("%s create: status %d: %.300s", s.name, st, body)
		}
		lat[i] = time.Since(t)
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return summarize(lat, d), nil
}

// memory is what /proc says of a process's resident memory.
type memory struct{ hwm, rss, anon, file string }

func (m memory) String() string {
	return fmt.Sprintf("peak %s (now %s: anon %s + file %s)", m.hwm, m.rss, m.anon, m.file)
}

func readMemory(pid int) memory {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{hwm: "?"}
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = mb(strings.TrimSpace(v))
		switch k {
		case "VmHWM":
			m.hwm = v
		case "VmRSS":
			m.rss = v
		case "RssAnon":
			m.anon = v
		case "RssFile":
			m.file = v
		}
	}
	return m
}

func mb(kb string) string {
	n, err := strconv.Atoi(strings.TrimSuffix(kb, " kB"))
	if err != nil {
		return kb
	}
	return strconv.Itoa(n/1024) + " MB"
}

func freePort(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess starts a server process, logging to dir/name.log, and stops
// it (SIGTERM, then the wait) when the benchmark ends.
func startProcess(b *testing.B, dir, name string, env []string, bin string, args ...string) *exec.Cmd {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logf.Close()
	})
	return cmd
}

func waitHealthy(b *testing.B, s *service, path string, dir, name string) {
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st, _, err := s.do("GET", path, nil); err == nil && st == http.StatusOK {
			return
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, name+".log"))
	b.Fatalf("%s did not become healthy in 2 minutes; its log:\n%s", name, log)
}

// startCRM builds and starts `crm serve` over a fresh data directory with
// the default settings and logs in as its first admin.
func startCRM(b *testing.B) *service {
	dir, addr := b.TempDir(), freePort(b)
	writeCRMConfig(b, dir, addr)
	return startCRMIn(b, dir, addr)
}

// writeCRMConfig writes dir/crm.hcl: crm's default settings, listening on
// addr, its store in dir/data.
func writeCRMConfig(b *testing.B, dir, addr string) {
	cfg := fmt.Sprintf("server {\n  listen = %q\n  data_dir = \"data\"\n}\nlocale {\n  currency = \"AMD\"\n  region = \"AM\"\n}\n", addr)
	if err := os.WriteFile(filepath.Join(dir, "crm.hcl"), []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
}

// startCRMIn starts `crm serve` with the dir/crm.hcl that writeCRMConfig
// wrote for addr, and env (NAME=value) added, and logs in as its first
// admin.
func startCRMIn(b *testing.B, dir, addr string, env ...string) *service {
	bin := testkit.Binary(b)
	cmd := startProcess(b, dir, "crm", append([]string{"CRM_ADMIN_EMAIL=" + testkit.AdminEmail, "CRM_ADMIN_PASSWORD=" + testkit.AdminPassword}, env...),
		bin, "serve", "--config", "crm.hcl")
	s := &service{name: "crm", base: "http://" + addr, client: newClient(), pid: cmd.Process.Pid}
	waitHealthy(b, s, "/healthz", dir, "crm")
	st, body, err := s.do("POST", "/api/v1/auth/login", map[string]string{"email": testkit.AdminEmail, "password": testkit.AdminPassword})
	if err != nil || st != http.StatusOK {
		b.Fatalf("crm login: %d %s %v", st, body, err)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); err != nil {
		b.Fatal(err)
	}
	s.auth = "Bearer " + tok.Token
	return s
}

// startPocketBase starts PocketBase's examples/base over a fresh directory
// with a superuser and a collection contact (name, email, source, notes;
// indexes on source, name and email as crm's built-in contact has). It
// returns nil and a reason when the binary is not there.
func startPocketBase(b *testing.B) (*service, string) {
	bin := os.Getenv("CRM_BENCH_POCKETBASE")
	if bin == "" {
		return nil, "CRM_BENCH_POCKETBASE is not set"
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Sprintf("%s: %v (go install github.com/pocketbase/pocketbase/examples/base@v0.36.0 failed?)", bin, err)
	}
	dir := b.TempDir()
	const email, password = "admin@example.com", "correct-horse-battery"
	if out, err := exec.Command(bin, "superuser", "upsert", email, password, "--dir", filepath.Join(dir, "pb_data")).CombinedOutput(); err != nil {
		b.Fatalf("pocketbase superuser upsert: %v\n%s", err, out)
	}
	addr := freePort(b)
	cmd := startProcess(b, dir, "pocketbase", nil, bin, "serve", "--http", addr, "--dir", filepath.Join(dir, "pb_data"))
	s := &service{name: "pocketbase", base: "http://" + addr, client: newClient(), pid: cmd.Process.Pid}
	waitHealthy(b, s, "/api/health", dir, "pocketbase")
	st, body, err := s.do("POST", "/api/collections/_superusers/auth-with-password", map[string]string{"identity": email, "password": password})
	if err != nil || st != http.StatusOK {
		b.Fatalf("pocketbase auth: %d %s %v", st, body, err)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); err != nil {
		b.Fatal(err)
	}
	s.auth = tok.Token
	text := func(name string) map[string]any { return map[string]any{"name": name, "type": "text"} }
	st, body, err = s.do("POST", "/api/collections", map[string]any{
		"name": "contact", "type": "base",
		"fields": []any{text("name"), text("email"), text("source"), text("notes")},
		"indexes": []string{
			"CREATE INDEX idx_contact_source ON contact (source)",
			"CREATE INDEX idx_contact_name ON contact (name)",
			"CREATE INDEX idx_contact_email ON contact (email)",
		},
	})
	if err != nil || st != http.StatusOK {
		b.Fatalf("pocketbase create collection: %d %s %v", st, body, err)
	}
	return s, ""
}

// The raw Badger baseline: the same contacts as JSON under r/<id> and an
// index entry x/<field>/<value>\x00<id> for source and name, in a Badger
// opened with its default options; each query does only the key and value
// reads its answer cannot do without.

func rawLoad(b *testing.B, n int) *badger.DB {
	db, err := badger.Open(badger.DefaultOptions(b.TempDir()).WithLogger(nil))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	wb := db.NewWriteBatch()
	for i := range n {
		c := contact(i)
		id := fmt.Sprintf("%012d", i)
		v, _ := json.Marshal(c)
		for _, e := range []struct{ k, v []byte }{
			{[]byte("r/" + id), v},
			{[]byte("x/source/" + c["source"] + "\x00" + id), nil},
			{[]byte("x/name/" + c["name"] + "\x00" + id), nil},
		} {
			if err := wb.Set(e.k, e.v); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
	return db
}

func indexPrefix(field, value string) []byte {
	if value == "" {
		return []byte("x/" + field + "/")
	}
	return []byte("x/" + field + "/" + value + "\x00")
}

// rawIndexPage reads the first page of ids under an index prefix and then
// each record.
func rawIndexPage(db *badger.DB, field, value string) error {
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: indexPrefix(field, value)})
		var ids [][]byte
		for it.Rewind(); it.Valid() && len(ids) < pageSize; it.Next() {
			k := it.Item().KeyCopy(nil)
			ids = append(ids, k[bytes.LastIndexByte(k, 0)+1:])
		}
		it.Close()
		for _, id := range ids {
			item, err := txn.Get(append([]byte("r/"), id...))
			if err != nil {
				return err
			}
			if _, err := item.ValueCopy(nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// rawTwoPredicates walks the name index and reads records until a page
// has the source.
func rawTwoPredicates(db *badger.DB, name, source string) error {
	want := []byte(`"source":"` + source + `"`)
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: indexPrefix("name", name)})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid() && n < pageSize; it.Next() {
			k := it.Item().Key()
			item, err := txn.Get(append([]byte("r/"), k[bytes.LastIndexByte(k, 0)+1:]...))
			if err != nil {
				return err
			}
			if err := item.Value(func(v []byte) error {
				if bytes.Contains(v, want) {
					n++
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// rawScan iterates record values until a page holds the substring.
func rawScan(db *badger.DB, sub string) error {
	want := []byte(sub)
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("r/"), PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid() && n < pageSize; it.Next() {
			if err := it.Item().Value(func(v []byte) error {
				if bytes.Contains(v, want) {
					n++
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// rawSortUnindexed iterates every record value and keeps the first page by
// notes.
func rawSortUnindexed(db *badger.DB) error {
	key := []byte(`"notes":"`)
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("r/"), PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		top := make([]string, 0, pageSize+1)
		for it.Rewind(); it.Valid(); it.Next() {
			if err := it.Item().Value(func(v []byte) error {
				i := bytes.Index(v, key)
				if i < 0 {
					return nil
				}
				rest := v[i+len(key):]
				note := string(rest[:bytes.IndexByte(rest, '"')])
				if len(top) == pageSize && note >= top[pageSize-1] {
					return nil
				}
				at, _ := slices.BinarySearch(top, note)
				top = slices.Insert(top, at, note)
				if len(top) > pageSize {
					top = top[:pageSize]
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// rawCount counts the keys under an index prefix.
func rawCount(db *badger.DB, field, value string) error {
	return db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: indexPrefix(field, value)})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
}

// hasKey reports whether a JSON object has one of keys (true for no keys).
func hasKey(body []byte, keys []string) bool {
	if len(keys) == 0 {
		return true
	}
	var m map[string]json.RawMessage
	_ = json.Unmarshal(body, &m)
	return slices.ContainsFunc(keys, func(k string) bool { _, ok := m[k]; return ok })
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n < 1000 {
		b.Fatalf("%s=%q: want a whole number of at least 1000", name, s)
	}
	return n
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive duration such as 3s", name, s)
	}
	return d
}

// BenchmarkCompare seeds the same contacts into a real `crm serve` (over
// its HTTP API, 50 concurrent clients, each create fsynced as in
// production), into PocketBase v0.36.0 (the same way) when
// CRM_BENCH_POCKETBASE names its binary, and into a raw Badger (a write
// batch), then asks each the same list queries over HTTP (20 records a
// page, first page) at 1 and 50 clients and prints the table of issue 15:
// requests/s, p50 and p99 per system, crm's p50 as a multiple of the raw
// Badger baseline's, and the peak resident memory of each server.
// Run it with -benchtime=1x: one iteration takes minutes.
func BenchmarkCompare(b *testing.B) {
	n := envInt(b, "CRM_BENCH_N", defaultN)
	dur := envDuration(b, "CRM_BENCH_DURATION", defaultDuration)
	out := os.Stdout

	crm := startCRM(b)
	pb, pbSkip := startPocketBase(b)
	if pb == nil {
		fmt.Fprintf(out, "PocketBase skipped: %s\n", pbSkip)
	}

	rows := [][]string{}
	fmt.Fprintf(out, "seeding %d contacts into crm over HTTP (%d concurrent creates)...\n", n, createClients)
	crmCreate, err := crm.seed("/api/v1/records/contact", 0, n, createClients)
	if err != nil {
		b.Fatal(err)
	}
	crmMemSeed := readMemory(crm.pid)
	pbCreate := result{note: "skipped"}
	var pbMemSeed memory
	if pb != nil {
		fmt.Fprintf(out, "seeding %d contacts into PocketBase over HTTP (%d concurrent creates)...\n", n, createClients)
		if pbCreate, err = pb.seed("/api/collections/contact/records", 0, n, createClients); err != nil {
			b.Fatal(err)
		}
		pbMemSeed = readMemory(pb.pid)
	}
	fmt.Fprintf(out, "seeding %d contacts into raw Badger (write batch)...\n", n)
	raw := rawLoad(b, n)
	rawCreate := min(n, 20_000)
	rawD := testkit.RawBadgerWrites(b, rawCreate, createClients, []int{300, 500, 450})
	rows = append(rows, []string{fmt.Sprintf("creates over HTTP, %d concurrent", createClients), pbCreate.String(), crmCreate.String(),
		fmt.Sprintf("%s fsynced txns/s (3 values)", rate(float64(rawCreate)/rawD.Seconds())), fmt.Sprintf("%.2fx", crmCreate.rps()/(float64(rawCreate)/rawD.Seconds()))})

	for _, q := range queries() {
		crmOK, crmNote := true, ""
		if st, body, err := crm.do("GET", q.crm, nil); err != nil {
			b.Fatal(err)
		} else if q.optional && (st == http.StatusBadRequest || st == http.StatusNotFound) {
			crmOK, crmNote = false, fmt.Sprintf("n/a (%d: not in this build)", st)
		} else if st != http.StatusOK {
			fmt.Fprintf(out, "crm GET %s: %d %.300s\n", q.crm, st, body)
		} else if !hasKey(body, q.wantKey) {
			crmOK, crmNote = false, fmt.Sprintf("n/a (the answer has none of %v: not in this build)", q.wantKey)
		} else {
			fmt.Fprintf(out, "crm %s: %.160s\n", q.name, body)
		}
		if pb != nil {
			if st, body, err := pb.do("GET", q.pb, nil); err != nil || st != http.StatusOK {
				b.Fatalf("pocketbase GET %s: %d %.300s %v", q.pb, st, body, err)
			}
		}
		for _, c := range q.clients {
			label := fmt.Sprintf("%s, %d client", q.name, c)
			if c > 1 {
				label += "s"
			}
			fmt.Fprintf(out, "measuring %s...\n", label)
			pr, cr := result{note: "skipped"}, result{note: crmNote}
			if pb != nil {
				pr = measure(c, dur, func() error { return pb.get(q.pb) })
			}
			if crmOK {
				cr = measure(c, dur, func() error { return crm.get(q.crm) })
			}
			rr := measure(c, dur, func() error { return q.raw(raw) })
			if rr.failed != "" {
				b.Fatalf("raw badger %s: %s", q.name, rr.failed)
			}
			ratio := "—"
			if crmOK && cr.n > 0 {
				ratio = fmt.Sprintf("%.1fx p50, %.2fx req/s", float64(cr.p50)/float64(rr.p50), cr.rps()/rr.rps())
			}
			rows = append(rows, []string{label, pr.String(), cr.String(), rr.String(), ratio})
		}
	}
	crmMem := readMemory(crm.pid)
	pbMem := memory{hwm: "skipped"}
	if pb != nil {
		pbMem = readMemory(pb.pid)
	}
	rows = append(rows,
		[]string{"resident memory after seeding", pbMemSeed.String(), crmMemSeed.String(), "", ""},
		[]string{"resident memory after the queries", pbMem.String(), crmMem.String(), "", ""})

	fmt.Fprintf(out, "\n%d contacts, %d records a page, each cell measured %s; raw Badger in this process without HTTP\n\n", n, pageSize, dur)
	fmt.Fprintln(out, "| query | PocketBase | crm | raw Badger | crm ÷ raw |")
	fmt.Fprintln(out, "|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintln(out, "| "+strings.Join(r, " | ")+" |")
	}
	fmt.Fprintln(out)
}
