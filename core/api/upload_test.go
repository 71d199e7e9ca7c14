package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/api"
	"github.com/crmkit/crm/core/app"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

// mechanicRole may write vehicles, which have a file field.
const mechanicRole = `
role "mechanic" {
  read  = ["vehicle", "contact"]
  write = ["vehicle"]
}
`

// loggedServer is a real API server over a real store whose log the test
// reads.
type loggedServer struct {
	URL   string
	App   *app.App
	Log   *testkit.LogBuffer
	Admin string // an admin's API token
}

func startLogged(t *testing.T, publicURL string) *loggedServer {
	t.Helper()
	cfg, sch, set, diags := app.CheckSources(map[string][]byte{"crm.hcl": []byte(testConfig + mechanicRole)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	buf := &testkit.LogBuffer{}
	log := slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.Open(cfg, sch, set, t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx := context.Background()
	if _, _, err := a.Auth.EnsureAdmin(ctx, "admin@example.com", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	u, err := a.Auth.UserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Auth.CreateToken(ctx, u.ID, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Options{Store: a.Store, Schema: a.Schema, Auth: a.Auth, Logger: log, PublicURL: publicURL}))
	t.Cleanup(srv.Close)
	return &loggedServer{URL: srv.URL, App: a, Log: buf, Admin: tok}
}

func multipartBody(t *testing.T, name string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &body, mw.FormDataContentType()
}

func postFile(t *testing.T, url, token string, data []byte) (int, string) {
	t.Helper()
	body, ct := multipartBody(t, "f.bin", data)
	req, _ := http.NewRequest("POST", url+"/api/v1/files", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// cutUpload sends the start of a multipart upload that announces want
// bytes, then sent bytes of the file, then drops the connection.
func cutUpload(t *testing.T, url, token string, want, sent int) {
	t.Helper()
	host := strings.TrimPrefix(url, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	fmt.Fprintf(conn, "POST /api/v1/files HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: %d\r\n\r\n%s",
		host, token, len(head)+want+len("\r\n--B--\r\n"), head)
	if _, err := conn.Write(make([]byte, sent)); err != nil {
		t.Fatal(err)
	}
}

func fileUsage(t *testing.T, st store.Store) store.FileUsage {
	t.Helper()
	u, err := st.(*store.Badger).FileUsage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRefusedAndCutOffUploadsLeaveNothing uploads over a real HTTP server:
// files over the limit and uploads whose client drops the connection half
// way leave no chunk in the store; the dropped ones are logged at INFO as
// cancelled by the client and counted under status 499, not as 5xx.
func TestRefusedAndCutOffUploadsLeaveNothing(t *testing.T) {
	s := startLogged(t, "")
	big := make([]byte, api.MaxFileBytes+100_000)
	for range 3 {
		if status, body := postFile(t, s.URL, s.Admin, big); status != 422 || !strings.Contains(body, "larger than") {
			t.Fatalf("over the limit: %d %s", status, body)
		}
	}
	for range 2 {
		cutUpload(t, s.URL, s.Admin, 30<<20, 20<<20)
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(s.Log.String(), "request cancelled by the client") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the cut-off uploads were not logged as cancelled:\n%s", s.Log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if u := fileUsage(t, s.App.Store); u != (store.FileUsage{}) {
		t.Fatalf("after 3 refused and 2 cut-off uploads the store holds %+v, want nothing", u)
	}
	if status, body := postFile(t, s.URL, s.Admin, make([]byte, 700_000)); status != 201 {
		t.Fatalf("good upload: %d %s", status, body)
	}
	if u := fileUsage(t, s.App.Store); u != (store.FileUsage{Files: 1, Chunks: 2, Bytes: 700_000}) {
		t.Fatalf("after a good upload: %+v", u)
	}

	logs := s.Log.String()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "status=5") {
			t.Errorf("a cancelled request logged as a failure: %s", line)
		}
		if strings.Contains(line, "request cancelled by the client") && (!strings.Contains(line, "level=INFO") || !strings.Contains(line, "status=499")) {
			t.Errorf("cancelled request logged as: %s", line)
		}
	}
	req, _ := http.NewRequest("GET", s.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+s.Admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var counted bool
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "crm_http_requests_total{") && strings.Contains(line, `code="499"`) && strings.Contains(line, `route="POST /api/v1/files"`) {
			counted = strings.HasSuffix(line, " 2")
		}
		if strings.HasPrefix(line, "crm_http_requests_total{") && strings.Contains(line, `code="5`) {
			t.Errorf("counted as a server failure: %s", line)
		}
	}
	if !counted {
		t.Errorf("the two cut-off uploads are not counted under 499:\n%s", raw)
	}
}

// TestUploadNeedsWriteOnAnEntityWithAFileField: only a role that may write
// an entity with a file field may upload.
func TestUploadNeedsWriteOnAnEntityWithAFileField(t *testing.T) {
	s := startLogged(t, "")
	ctx := context.Background()
	token := func(email, role string) string {
		u, err := s.App.Auth.CreateUser(ctx, email, email, role, "password-of-"+email)
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := s.App.Auth.CreateToken(ctx, u.ID, "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, c := range []struct {
		who    string
		token  string
		status int
	}{
		{"viewer: reads contacts only", token("viewer@example.com", "viewer"), 403},
		{"sales: writes entities without a file field", token("sales@example.com", "sales"), 403},
		{"mechanic: writes vehicles (photo is a file)", token("mechanic@example.com", "mechanic"), 201},
		{"admin", s.Admin, 201},
	} {
		status, body := postFile(t, s.URL, c.token, []byte("a photo"))
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.who, status, body, c.status)
		}
		if status == 403 && !strings.Contains(body, "file field") {
			t.Errorf("%s: the refusal does not say why: %s", c.who, body)
		}
	}
	if u := fileUsage(t, s.App.Store); u.Files != 2 {
		t.Errorf("%d files stored, want the mechanic's and the admin's", u.Files)
	}
}
