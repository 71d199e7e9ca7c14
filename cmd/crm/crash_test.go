package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/postgres"
	"github.com/crmkit/crm/core/testkit"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

const crashConfig = `
server {
  listen   = "127.0.0.1:8080"
  data_dir = "data"
}
locale { currency = "AMD" }
`

// child is a crm serve process under test.
type child struct {
	cmd  *exec.Cmd
	url  string
	logs *testkit.LogBuffer
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startChild starts crm serve with the config and data directory, and
// env (NAME=value) added to the test's environment.
func startChild(t *testing.T, bin, cfg, data string, env ...string) *child {
	t.Helper()
	addr := freePort(t)
	c := &child{url: "http://" + addr, logs: &testkit.LogBuffer{}}
	c.cmd = exec.Command(bin, "serve", "--config", cfg, "--data", data, "--listen", addr)
	c.cmd.Env = append(append(os.Environ(), "CRM_ADMIN_EMAIL=admin@example.com", "CRM_ADMIN_PASSWORD=crash test password"), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(c.url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return c
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.cmd.Process.Kill()
	c.cmd.Wait()
	t.Fatalf("crm serve did not come up:\n%s", c.logs)
	return nil
}

func (c *child) call(client *http.Client, method, path, token string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return res.StatusCode, nil, err
	}
	return res.StatusCode, out, nil
}

// acked is what the server acknowledged for one record: its id and every
// version it answered with, and the name it had at each.
type acked struct {
	mu       sync.Mutex
	versions map[string]map[int64]string // id -> version -> name
}

func (a *acked) add(id string, version int64, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.versions[id] == nil {
		a.versions[id] = map[int64]string{}
	}
	a.versions[id][version] = name
}

// TestAcknowledgedWritesSurviveKill9 streams creates and updates into a
// real crm serve, kills it with SIGKILL at random moments, restarts it, and
// checks that every acknowledged write is there with its history entry and
// its outbox event, and that nothing is half-written.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crm.hcl")
	if err := os.WriteFile(cfg, []byte(crashConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	ack := killRounds(t, cfg, data)
	sch := loadSchema(t, cfg)
	st, err := store.OpenBadger(data, sch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	verifyStore(t, st, ack)
}

// TestAcknowledgedWritesSurviveKill9OnPostgres is the same check with
// the PostgreSQL store: crm serve on a real server started by the test.
func TestAcknowledgedWritesSurviveKill9OnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	url := pgtest.DB(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crm.hcl")
	if err := os.WriteFile(cfg, []byte(crashConfigPostgres), 0o600); err != nil {
		t.Fatal(err)
	}
	ack := killRounds(t, cfg, filepath.Join(dir, "data"), "CRM_POSTGRES_URL="+url)
	sch := loadSchema(t, cfg)
	st, err := postgres.Open(context.Background(), url, sch, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	verifyStore(t, st, ack)
}

// crashConfigPostgres is crashConfig on the PostgreSQL store.
const crashConfigPostgres = `
server {
  listen   = "127.0.0.1:8080"
  data_dir = "data"
  store    = "postgres"
}
locale { currency = "AMD" }
`

// killRounds streams creates and updates into crm serve and kills it with
// SIGKILL at random moments, 12 times; it returns what was acknowledged.
func killRounds(t *testing.T, cfg, data string, env ...string) *acked {
	t.Helper()
	bin := testkit.Binary(t)
	ack := &acked{versions: map[string]map[int64]string{}}
	const kills = 12
	for round := range kills {
		c := startChild(t, bin, cfg, data, env...)
		client := &http.Client{Timeout: 10 * time.Second}
		token := login(t, c, client)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					name := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					code, rec, err := c.call(client, "POST", "/api/v1/records/contact", token, map[string]any{"name": name})
					if err != nil || code != 201 {
						return // the server is gone: this write's fate is unknown
					}
					id := rec["id"].(string)
					ack.add(id, 1, name)
					for v := int64(2); v <= 3 && ctx.Err() == nil; v++ {
						name2 := fmt.Sprintf("%s-v%d", name, v)
						code, rec, err := c.call(client, "PATCH", "/api/v1/records/contact/"+id, token, map[string]any{"name": name2})
						if err != nil || code != 200 {
							return
						}
						ack.add(id, int64(rec["version"].(float64)), name2)
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
		if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.cmd.Wait()
		stop()
		wg.Wait()
	}
	if len(ack.versions) < kills {
		t.Fatalf("only %d records acknowledged across %d rounds: the test did not exercise the server", len(ack.versions), kills)
	}
	return ack
}

func loadSchema(t *testing.T, cfgPath string) *schema.Schema {
	t.Helper()
	cfg, diags := config.Load(cfgPath)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// verifyStore checks the killed server's store, opened directly.
func verifyStore(t *testing.T, st store.Store, ack *acked) {
	t.Helper()
	ctx := context.Background()
	events, err := st.Events(ctx, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	// The feed is gap-free and ends at the stored position.
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has position %d", i, e.Seq)
		}
	}
	if uint64(len(events)) != st.LastSeq() {
		t.Fatalf("%d events, last position %d", len(events), st.LastSeq())
	}
	evByVersion := map[string]map[int64]store.Event{}
	for _, e := range events {
		if evByVersion[e.ID] == nil {
			evByVersion[e.ID] = map[int64]store.Event{}
		}
		evByVersion[e.ID][e.Version] = e
	}
	// Every acknowledged version is there: record, history entry, event.
	for id, versions := range ack.versions {
		rec, err := st.Get(ctx, "contact", id)
		if err != nil {
			t.Fatalf("acknowledged record %s: %v", id, err)
		}
		hist, err := st.History(ctx, "contact", id)
		if err != nil {
			t.Fatal(err)
		}
		byVersion := map[int64]store.HistoryEntry{}
		for _, h := range hist {
			byVersion[h.Version] = h
		}
		for v, name := range versions {
			if rec.Version < v {
				t.Fatalf("%s: acknowledged version %d, stored %d", id, v, rec.Version)
			}
			h, ok := byVersion[v]
			if !ok || h.Changes["name"].New != name {
				t.Fatalf("%s: no history entry for acknowledged version %d (%q): %+v", id, v, name, hist)
			}
			if e, ok := evByVersion[id][v]; !ok || e.Changes["name"].New != name {
				t.Fatalf("%s: no outbox event for acknowledged version %d", id, v)
			}
		}
	}
	// Nothing is half-written: every stored record's versions all have
	// their history entry and event, and the counts agree.
	page, err := st.List(ctx, store.Query{Entity: "contact", Limit: store.MaxLimit})
	total := 0
	for err == nil {
		for _, rec := range page.Items {
			total++
			hist, _ := st.History(ctx, "contact", rec.ID)
			if len(hist) != int(rec.Version) || hist[len(hist)-1].Version != rec.Version {
				t.Fatalf("%s: version %d with %d history entries", rec.ID, rec.Version, len(hist))
			}
			for v := int64(1); v <= rec.Version; v++ {
				if _, ok := evByVersion[rec.ID][v]; !ok {
					t.Fatalf("%s: version %d has no event", rec.ID, v)
				}
			}
		}
		if page.NextCursor == "" {
			break
		}
		page, err = st.List(ctx, store.Query{Entity: "contact", Limit: store.MaxLimit, Cursor: page.NextCursor})
	}
	if err != nil {
		t.Fatal(err)
	}
	if int64(total) != st.Counts()["contact"] {
		t.Fatalf("%d contacts stored, count says %d", total, st.Counts()["contact"])
	}
	t.Logf("%d records acknowledged, %d stored, %d events", len(ack.versions), total, len(events))
}
