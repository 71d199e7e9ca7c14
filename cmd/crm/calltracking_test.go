package main_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

// TestCallTrackingOverHTTP serves the repository's crm.hcl as `make run`
// does and posts a recorded missed call of an unknown number to
// /hooks/calltracking/generic over real HTTP, signed with crm.hcl's
// secret, repeated and reordered: one lead, one call activity and, by the
// callback_missed_call rule on call.missed, one call-back task. Unsigned
// and wrongly signed requests answer 401 and change nothing.
func TestCallTrackingOverHTTP(t *testing.T) {
	bin := testkit.Binary(t)
	root := testkit.RepoRoot()
	src, err := os.ReadFile(filepath.Join(root, "crm.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`secret\s*=\s*"([^"]+)"`).FindSubmatch(src)
	if m == nil {
		t.Fatal("crm.hcl: no calltracking secret")
	}
	secret := m[1]
	events, err := os.ReadFile(filepath.Join(root, "plugins/calltracking/testdata/generic_missed.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(events), []byte("\n"))

	c := startChild(t, bin, filepath.Join(root, "crm.hcl"), filepath.Join(t.TempDir(), "data"))
	defer func() {
		c.cmd.Process.Signal(syscall.SIGTERM)
		c.cmd.Wait()
	}()
	client := &http.Client{Timeout: 30 * time.Second}
	post := func(body []byte, sig string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", c.url+"/hooks/calltracking/generic", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Signature", sig)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	sign := func(key, body []byte) string {
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	if code := post(lines[1], ""); code != 401 {
		t.Errorf("unsigned: %d, want 401", code)
	}
	if code := post(lines[1], sign([]byte("not the secret"), lines[1])); code != 401 {
		t.Errorf("wrong secret: %d, want 401", code)
	}
	token := login(t, c, client)
	count := func(entity string) int {
		t.Helper()
		code, res, err := c.call(client, "GET", "/api/v1/records/"+entity, token, nil)
		if err != nil || code != 200 {
			t.Fatalf("list %s: %d %v", entity, code, err)
		}
		return len(res["items"].([]any))
	}
	for _, e := range []string{"contact", "activity", "phone_call"} {
		if n := count(e); n != 0 {
			t.Fatalf("%d %s after refused requests", n, e)
		}
	}
	for _, i := range []int{1, 0, 1, 0} {
		if code := post(lines[i], sign(secret, lines[i])); code != 200 {
			t.Fatalf("event %d: %d\n%s", i, code, c.logs)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, st, err := c.call(client, "GET", "/api/v1/rules", token, nil)
		if err == nil && caughtUp(st) && count("task") > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := fmt.Sprint(count("contact"), count("activity"), count("phone_call"), count("task"))
	if got != "1 1 1 1" {
		t.Errorf("contacts, activities, calls, tasks: %s, want 1 1 1 1\n%s", got, c.logs)
	}
	_, res, _ := c.call(client, "GET", "/api/v1/records/task", token, nil)
	if items := res["items"].([]any); len(items) == 1 {
		if title := items[0].(map[string]any)["title"]; title != "Call back Caller +37493555777 (+37493555777)" {
			t.Errorf("task title %q", title)
		}
	}
}
