package main_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

// storeFacts opens a store and reads what a copy must keep: the feed, the
// counts, every record's current version and history, and the system
// documents of every kind a copy carries.
func storeFacts(t *testing.T, cfgPath, data string) string {
	t.Helper()
	cfg, diags := config.Load(cfgPath)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBadger(data, sch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
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
		st.SysList(ctx, kind, "", func(k string, d []byte) error {
			fmt.Fprintf(&b, "sys %s %s %s\n", kind, k, d)
			return nil
		})
	}
	return b.String()
}

// TestBackupRestoreMigrate runs the real binary: a backup refused while
// crm serve holds the store, the same backup taken through the running
// server's API, crm backup and crm restore once it stopped, crm migrate
// between two Badger directories, and bad backup files refused naming
// the line without touching the destination.
func TestBackupRestoreMigrate(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crm.hcl")
	os.WriteFile(cfg, []byte(crashConfig), 0o600)
	data := filepath.Join(dir, "data")
	c := startChild(t, testkit.Binary(t), cfg, data)
	client := &http.Client{Timeout: 30 * time.Second}
	token := login(t, c, client)
	var ids []string
	for i := range 40 {
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
	if code, _, _ := c.call(client, "DELETE", "/api/v1/records/contact/"+ids[39], token, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}

	// While serve runs, crm backup cannot open the store and says what to do.
	_, errOut, code := crm(t, "", "backup", "--config", cfg, "--data", data, "--out", filepath.Join(dir, "refused.gz"))
	if code != 1 || !strings.Contains(errOut, "in use by another crm process") || !strings.Contains(errOut, "/api/v1/admin/backup") {
		t.Fatalf("backup while serving: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "refused.gz")); !os.IsNotExist(err) {
		t.Errorf("a refused backup left a file: %v", err)
	}
	// The running server's backup, through the API.
	req, _ := http.NewRequest("GET", c.url+"/api/v1/admin/backup", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	online, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("GET /api/v1/admin/backup: %d %s", res.StatusCode, online)
	}
	onlineFile := filepath.Join(dir, "online.gz")
	os.WriteFile(onlineFile, online, 0o600)

	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, c.logs)
	}
	want := storeFacts(t, cfg, data)

	backup := filepath.Join(dir, "crm.backup.gz")
	out, errOut, code := crm(t, "", "backup", "--config", cfg, "--data", data, "--out", backup)
	if code != 0 || !strings.Contains(out, "backup "+backup+": 39 records") {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	restored := filepath.Join(dir, "restored")
	out, errOut, code = crm(t, "", "restore", "--config", cfg, "--data", restored, "--in", backup)
	if code != 0 || !strings.Contains(out, "restored "+backup) || !strings.Contains(errOut, "done: 39/39 records") {
		t.Fatalf("restore: %d %s %s", code, out, errOut)
	}
	if got := storeFacts(t, cfg, restored); got != want {
		t.Errorf("restored store differs:\n%s\nwant:\n%s", got, want)
	}
	// Restoring again is a no-op; restoring into a store with data is refused.
	if out, errOut, code := crm(t, "", "restore", "--config", cfg, "--data", restored, "--in", backup); code != 0 {
		t.Errorf("restore again: %d %s %s", code, out, errOut)
	}
	if _, errOut, code := crm(t, "", "restore", "--config", cfg, "--data", data, "--in", backup); code != 1 || !strings.Contains(errOut, "not empty") {
		t.Errorf("restore over the source: %d %s", code, errOut)
	}
	// A restore cut short (the first 50 items loaded, as a kill would leave
	// it) keeps the store from serving, and running it again finishes it.
	cut := filepath.Join(dir, "cut")
	cutRestore(t, cfg, cut, backup, 50)
	if _, errOut, code := crm(t, "", "user", "list", "--config", cfg, "--data", cut); code != 1 || !strings.Contains(errOut, "unfinished copy") {
		t.Errorf("a store with an unfinished copy opened: %d %s", code, errOut)
	}
	out, errOut, code = crm(t, "", "restore", "--config", cfg, "--data", cut, "--in", backup)
	if code != 0 || !strings.Contains(errOut, "resuming: ") {
		t.Fatalf("resumed restore: %d %s %s", code, out, errOut)
	}
	if got := storeFacts(t, cfg, cut); got != want {
		t.Errorf("store restored in two runs differs:\n%s\nwant:\n%s", got, want)
	}
	// The server's own backup restores to the same store (nothing was written after it).
	fromAPI := filepath.Join(dir, "from-api")
	if out, errOut, code := crm(t, "", "restore", "--config", cfg, "--data", fromAPI, "--in", onlineFile); code != 0 {
		t.Fatalf("restore the API's backup: %d %s %s", code, out, errOut)
	}
	if got := storeFacts(t, cfg, fromAPI); got != want {
		t.Errorf("store restored from the API's backup differs:\n%s\nwant:\n%s", got, want)
	}

	// Badger to Badger through crm migrate.
	migrated := filepath.Join(dir, "migrated")
	out, errOut, code = crm(t, "", "migrate", "--config", cfg, "--from", "badger", "--from-data", data, "--to", "badger", "--to-data", migrated)
	if code != 0 || !strings.Contains(out, "copied badger "+data+" to badger "+migrated) {
		t.Fatalf("migrate: %d %s %s", code, out, errOut)
	}
	if got := storeFacts(t, cfg, migrated); got != want {
		t.Errorf("migrated store differs:\n%s\nwant:\n%s", got, want)
	}
	if _, errOut, code := crmEnv(t, []string{"CRM_POSTGRES_URL="}, "migrate", "--config", cfg, "--from-data", data, "--to", "postgres"); code != 1 || !strings.Contains(errOut, "CRM_POSTGRES_URL is not set") {
		t.Errorf("migrate to postgres: %d %s", code, errOut)
	}

	// Corrupt and truncated files: refused naming the line, the destination never made.
	raw, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	lines := strings.SplitAfter(string(plain), "\n")
	lines[4] = `{"t":"record","entity":"contact","id":"01JAAAAAAAAAAAAAAAAAAAAAAA","data":{"v":1,` + "\n"
	var corrupt bytes.Buffer
	zw := gzip.NewWriter(&corrupt)
	zw.Write([]byte(strings.Join(lines, "")))
	zw.Close()
	for name, b := range map[string][]byte{"corrupt": corrupt.Bytes(), "truncated": raw[:len(raw)*2/3]} {
		f := filepath.Join(dir, name+".gz")
		os.WriteFile(f, b, 0o600)
		dest := filepath.Join(dir, "restore-"+name)
		_, errOut, code := crm(t, "", "restore", "--config", cfg, "--data", dest, "--in", f)
		wantErr := f + " line 5:"
		if name == "truncated" {
			wantErr = "truncated"
		}
		if code != 1 || !strings.Contains(errOut, wantErr) {
			t.Errorf("restore %s: %d %s, want %q", name, code, errOut, wantErr)
		}
		if _, err := os.Stat(dest); !os.IsNotExist(err) {
			t.Errorf("restore of a %s file made the destination: %v", name, err)
		}
	}

	// The restored store serves: the admin logs in with the old password.
	c2 := startChild(t, testkit.Binary(t), cfg, restored)
	defer func() { c2.cmd.Process.Kill(); c2.cmd.Wait() }()
	token2 := login(t, c2, client)
	if code, rec, err := c2.call(client, "GET", "/api/v1/records/contact/"+ids[0], token2, nil); err != nil || code != 200 || rec["phone"] == nil {
		t.Errorf("a restored record: %d %v %v", code, rec, err)
	}
	if code, _, err := c2.call(client, "GET", "/api/v1/records/contact/"+ids[0], token, nil); err != nil || code != 200 {
		t.Errorf("the old session on the restored store: %d %v", code, err)
	}
}

// cutRestore loads the first n items of a backup file into a new store in
// dir and stops there, as a restore killed after its first batch would.
func cutRestore(t *testing.T, cfgPath, dir, file string, n int) {
	t.Helper()
	cfg, diags := config.Load(cfgPath)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBadger(dir, sch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var items []store.DumpItem
	stop := errors.New("stop")
	err = store.OpenDumpFile(file).Dump(ctx, store.DumpCursor{},
		func(h store.DumpHeader) error { return st.StartLoad(ctx, h) },
		func(it store.DumpItem) error {
			items = append(items, it)
			if len(items) == n {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) {
		t.Fatalf("read %s: %v", file, err)
	}
	h, err := st.LoadState(ctx)
	if err != nil || h == nil {
		t.Fatalf("state: %v %v", h, err)
	}
	state := *h
	state.Cursor = items[n-1].Cursor
	for _, it := range items {
		state.Counts[it.Type]++
	}
	if err := st.Load(ctx, items, state); err != nil {
		t.Fatal(err)
	}
}
