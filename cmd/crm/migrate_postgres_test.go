package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/postgres"
	"github.com/crmkit/crm/core/testkit"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

// crmEnv runs the crm binary with env (NAME=value) added.
func crmEnv(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testkit.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// factsOf reads what a copy must keep from a store of either backend: the
// feed, the counts, every record's current version and history, and the
// system documents of the kinds a copy carries (as JSON values: the
// PostgreSQL store keeps them as jsonb, in its own key order).
func factsOf(t *testing.T, st store.Store, sch *schema.Schema) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	fmt.Fprintf(&b, "last %d counts %v\n", st.LastSeq(), st.Counts())
	events, err := st.Events(ctx, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		fmt.Fprintf(&b, "event %d %s %s %s v%d %s\n", e.Seq, e.Entity, e.ID, e.Op, e.Version, e.After)
		if e.RecordEntity(sch) == nil {
			continue
		}
		h, _ := st.History(ctx, e.Entity, e.ID)
		rec, err := st.Get(ctx, e.Entity, e.ID)
		fmt.Fprintf(&b, "  history %d, now %v %v\n", len(h), rec, err)
	}
	for _, kind := range []string{store.KindUser, store.KindUserEmail, store.KindToken, store.KindTokenHash, store.KindFile, store.KindConsumer} {
		err := st.SysList(ctx, kind, "", func(k string, d []byte) error {
			var v any
			if err := json.Unmarshal(d, &v); err != nil {
				return err
			}
			n, _ := json.Marshal(v)
			fmt.Fprintf(&b, "sys %s %s %s\n", kind, k, n)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func badgerFacts(t *testing.T, cfg, data string) string {
	t.Helper()
	sch := loadSchema(t, cfg)
	st, err := store.OpenBadger(data, sch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return factsOf(t, st, sch)
}

func postgresFacts(t *testing.T, cfg, url string) string {
	t.Helper()
	sch := loadSchema(t, cfg)
	st, err := postgres.Open(context.Background(), url, sch, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return factsOf(t, st, sch)
}

// TestMigrateToPostgresAndBack runs the real binary: a Badger store
// written by crm serve is copied with crm migrate --to postgres, answers
// the same there (also when a first migrate was cut short and the same
// command resumed it), is copied back with crm migrate --from postgres, backed
// up with crm backup on a postgres configuration and restored, and crm
// serve on PostgreSQL then serves the migrated records to the old login.
func TestMigrateToPostgresAndBack(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crm.hcl")
	pgCfg := filepath.Join(dir, "crm-pg.hcl")
	if err := os.WriteFile(cfg, []byte(crashConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pgCfg, []byte(crashConfigPostgres), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	client := &http.Client{Timeout: 30 * time.Second}

	c := startChild(t, testkit.Binary(t), cfg, data)
	token := login(t, c, client)
	var ids []string
	for i := range 30 {
		code, rec, err := c.call(client, "POST", "/api/v1/records/contact", token, map[string]any{"name": fmt.Sprintf("Contact %d", i), "email": fmt.Sprintf("c%d@example.com", i)})
		if err != nil || code != 201 {
			t.Fatalf("create: %d %v", code, err)
		}
		ids = append(ids, rec["id"].(string))
	}
	for _, id := range ids[:10] {
		if code, _, err := c.call(client, "PATCH", "/api/v1/records/contact/"+id, token, map[string]any{"phone": "+37410000000"}); err != nil || code != 200 {
			t.Fatalf("update: %d %v", code, err)
		}
	}
	if code, _, _ := c.call(client, "DELETE", "/api/v1/records/contact/"+ids[29], token, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, c.logs)
	}
	want := badgerFacts(t, cfg, data)

	url := pgtest.DB(t)
	env := []string{"CRM_POSTGRES_URL=" + url}
	out, errOut, code := crmEnv(t, env, "migrate", "--config", cfg, "--from", "badger", "--from-data", data, "--to", "postgres")
	if code != 0 || !strings.Contains(out, "copied badger "+data+" to postgres: 29 records") || !strings.Contains(errOut, "done: 29/29 records") {
		t.Fatalf("migrate to postgres: %d %s %s", code, out, errOut)
	}
	if got := postgresFacts(t, cfg, url); got != want {
		t.Errorf("the PostgreSQL store differs:\n%s\nwant:\n%s", got, want)
	}
	// Again: already copied, nothing done.
	if out, errOut, code := crmEnv(t, env, "migrate", "--config", cfg, "--from", "badger", "--from-data", data, "--to", "postgres"); code != 0 {
		t.Errorf("migrate again: %d %s %s", code, out, errOut)
	}
	// Without the URL: a clear error naming the variable.
	if _, errOut, code := crmEnv(t, []string{"CRM_POSTGRES_URL="}, "migrate", "--config", cfg, "--from-data", data, "--to", "postgres"); code != 1 || !strings.Contains(errOut, "CRM_POSTGRES_URL is not set") {
		t.Errorf("migrate without a URL: %d %s", code, errOut)
	}

	// A migrate cut short (its first 40 items loaded, as a kill would leave
	// it): the database is refused until the same migrate finishes it.
	url2 := pgtest.DB(t)
	env2 := []string{"CRM_POSTGRES_URL=" + url2}
	cutMigrate(t, cfg, data, url2, 40)
	if _, errOut, code := crmEnv(t, env2, "backup", "--config", pgCfg, "--out", filepath.Join(dir, "cut.gz")); code != 1 || !strings.Contains(errOut, "unfinished copy") {
		t.Errorf("backup of a database with an unfinished copy: %d %s", code, errOut)
	}
	out, errOut, code = crmEnv(t, env2, "migrate", "--config", cfg, "--from", "badger", "--from-data", data, "--to", "postgres")
	if code != 0 || !strings.Contains(errOut, "crm migrate: resuming: ") || !strings.Contains(errOut, "done: 29/29 records") {
		t.Fatalf("resumed migrate: %d %s %s", code, out, errOut)
	}
	if got := postgresFacts(t, cfg, url2); got != want {
		t.Errorf("the PostgreSQL store migrated in two runs differs:\n%s\nwant:\n%s", got, want)
	}

	back := filepath.Join(dir, "back")
	out, errOut, code = crmEnv(t, env, "migrate", "--config", cfg, "--from", "postgres", "--to", "badger", "--to-data", back)
	if code != 0 || !strings.Contains(out, "copied postgres to badger "+back) {
		t.Fatalf("migrate from postgres: %d %s %s", code, out, errOut)
	}
	if got := badgerFacts(t, cfg, back); got != want {
		t.Errorf("the store copied back differs:\n%s\nwant:\n%s", got, want)
	}

	// crm backup with server.store = "postgres": a logical dump through
	// the same stream, restored into Badger.
	file := filepath.Join(dir, "pg.backup.gz")
	out, errOut, code = crmEnv(t, env, "backup", "--config", pgCfg, "--out", file)
	if code != 0 || !strings.Contains(out, "backup "+file+": 29 records") {
		t.Fatalf("backup of postgres: %d %s %s", code, out, errOut)
	}
	restored := filepath.Join(dir, "restored")
	if out, errOut, code := crmEnv(t, env, "restore", "--config", cfg, "--data", restored, "--in", file); code != 0 {
		t.Fatalf("restore: %d %s %s", code, out, errOut)
	}
	if got := badgerFacts(t, cfg, restored); got != want {
		t.Errorf("the store restored from the postgres backup differs:\n%s\nwant:\n%s", got, want)
	}
	// crm restore into a PostgreSQL database that is not empty is refused.
	if _, errOut, code := crmEnv(t, env, "restore", "--config", pgCfg, "--in", file); code != 1 || !strings.Contains(errOut, "not empty") {
		t.Errorf("restore over the migrated database: %d %s", code, errOut)
	}

	// crm serve on PostgreSQL serves the migrated records, to the old login.
	c2 := startChild(t, testkit.Binary(t), pgCfg, filepath.Join(dir, "pgdata"), env...)
	defer func() { c2.cmd.Process.Kill(); c2.cmd.Wait() }()
	token2 := login(t, c2, client)
	if code, rec, err := c2.call(client, "GET", "/api/v1/records/contact/"+ids[0], token2, nil); err != nil || code != 200 || rec["phone"] == nil {
		t.Errorf("a migrated record: %d %v %v", code, rec, err)
	}
	if code, _, err := c2.call(client, "GET", "/api/v1/records/contact/"+ids[1], token, nil); err != nil || code != 200 {
		t.Errorf("the old session on the migrated store: %d %v", code, err)
	}
	if code, _, _ := c2.call(client, "GET", "/api/v1/records/contact/"+ids[29], token2, nil); code != 404 {
		t.Errorf("a deleted record: %d", code)
	}
	code, rec, err := c2.call(client, "POST", "/api/v1/records/contact", token2, map[string]any{"name": "After the move"})
	if err != nil || code != 201 {
		t.Fatalf("create on the migrated store: %d %v\n%s", code, err, c2.logs)
	}
	_ = rec
	// The running PostgreSQL server's backup through the API: a whole dump
	// file, with the migrated records and the one written since.
	req, _ := http.NewRequest("GET", c2.url+"/api/v1/admin/backup", nil)
	req.Header.Set("Authorization", "Bearer "+token2)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	online, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /api/v1/admin/backup on postgres: %d %s", res.StatusCode, online)
	}
	onlineFile := filepath.Join(dir, "pg-online.gz")
	if err := os.WriteFile(onlineFile, online, 0o600); err != nil {
		t.Fatal(err)
	}
	h, counts, err := store.VerifyDump(context.Background(), store.OpenDumpFile(onlineFile))
	if err != nil || counts[store.DumpRecord] != 30 || !strings.Contains(h.Source, "(postgres database ") {
		t.Errorf("the API's backup of postgres: %+v %v %v", h, counts, err)
	}
}

// cutMigrate loads the first n items of the Badger store in data into the
// database at url and stops there, as a crm migrate killed after its
// first batch would.
func cutMigrate(t *testing.T, cfg, data, url string, n int) {
	t.Helper()
	ctx := context.Background()
	sch := loadSchema(t, cfg)
	src, err := store.OpenBadger(data, sch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, url, sch, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	var items []store.DumpItem
	stop := errors.New("stop")
	err = src.Dump(ctx, store.DumpCursor{},
		func(h store.DumpHeader) error { return dst.StartLoad(ctx, h) },
		func(it store.DumpItem) error {
			items = append(items, it)
			if len(items) == n {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) {
		t.Fatalf("dump %s: %v", data, err)
	}
	st, err := dst.LoadState(ctx)
	if err != nil || st == nil {
		t.Fatalf("state: %v %v", st, err)
	}
	st.Cursor = items[n-1].Cursor
	for _, it := range items {
		st.Counts[it.Type]++
	}
	if err := dst.Load(ctx, items, *st); err != nil {
		t.Fatal(err)
	}
}
