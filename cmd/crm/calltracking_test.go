package main_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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
	// The call's card field is an object: in the record as one, and no
	// sort key (a 400 that says so, not an order of printed maps).
	_, calls, _ := c.call(client, "GET", "/api/v1/records/phone_call", token, nil)
	if items, _ := calls["items"].([]any); len(items) == 1 {
		if card, ok := items[0].(map[string]any)["card"].(map[string]any); !ok || card["name"] != "Caller +37493555777" || card["lead"] != true {
			t.Errorf("the call's card %v", items[0].(map[string]any)["card"])
		}
	}
	if code, res, _ := c.call(client, "GET", "/api/v1/records/phone_call?sort=card", token, nil); code != 400 || !strings.Contains(fmt.Sprint(res), "object") {
		t.Errorf("sort by the card: %d %v, want 400", code, res)
	}
	_, res, _ := c.call(client, "GET", "/api/v1/records/task", token, nil)
	if items := res["items"].([]any); len(items) == 1 {
		if title := items[0].(map[string]any)["title"]; title != "Call back Caller +37493555777 (+37493555777)" {
			t.Errorf("task title %q", title)
		}
	}
}

// TestClickToCallOverHTTP: with crm.hcl's calltracking block given an
// Asterisk ARI (a stand-in answering POST /ari/channels as ARI does), the
// Call button's request (POST /api/v1/plugins/calltracking/actions/
// click_to_call on a contact) is refused with 422 no_extension while the
// user has none, and, once the user sets theirs on their account
// (PATCH /api/v1/auth/me), rings that extension and dials the contact's
// number in E.164.
func TestClickToCallOverHTTP(t *testing.T) {
	var (
		mu  sync.Mutex
		got []url.Values
	)
	ari := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "crm" || p != "ari-pass" || r.Method != http.MethodPost || r.URL.Path != "/ari/channels" {
			http.Error(w, `{"message": "Authentication required"}`, http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, r.URL.Query())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id": "1711020000.78", "name": "PJSIP/104-00000021", "state": "Down"}`))
	}))
	defer ari.Close()
	hcl, err := os.ReadFile(filepath.Join(testkit.RepoRoot(), "crm.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^\s*# asterisk = \{.*\}\s*$`)
	if !line.Match(hcl) {
		t.Fatal("crm.hcl has no commented asterisk line in the calltracking block")
	}
	hcl = line.ReplaceAll(hcl, []byte(fmt.Sprintf(`    asterisk = { ari_url = "%s/ari", user = "crm", password = "ari-pass" }`, ari.URL)))
	s := testkit.Start(t, map[string]string{"crm.hcl": string(hcl)})
	tok := s.AdminToken
	res := s.Do(t, "POST", "/api/v1/records/contact", tok, map[string]any{"name": "Ani", "phone": "091 123456"})
	if res.Status != http.StatusCreated {
		t.Fatalf("contact: %d %s", res.Status, res.Body)
	}
	call := map[string]any{"entity": "contact", "id": res.JSON["id"]}
	res = s.Do(t, "POST", "/api/v1/plugins/calltracking/actions/click_to_call", tok, call)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"no_extension"`) {
		t.Errorf("without an extension: %d %s, want 422 no_extension", res.Status, res.Body)
	}
	if res := s.Do(t, "PATCH", "/api/v1/auth/me", tok, map[string]any{"extension": "104"}); res.Status != http.StatusOK {
		t.Fatalf("set the extension: %d %s", res.Status, res.Body)
	}
	res = s.Do(t, "POST", "/api/v1/plugins/calltracking/actions/click_to_call", tok, call)
	out, _ := res.JSON["result"].(map[string]any)
	if res.Status != http.StatusOK || out["extension"] != "104" || out["number"] != "+37491123456" || out["call_id"] != "1711020000.78" {
		t.Fatalf("with extension 104: %d %s", res.Status, res.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Get("endpoint") != "PJSIP/104" || got[0].Get("extension") != "+37491123456" {
		t.Errorf("ARI was asked %v", got)
	}
}
