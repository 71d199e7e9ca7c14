package api_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

func upload(t *testing.T, s *testkit.Server, token, name string, data []byte) *http.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/files", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFilesAreStoredAndGuarded(t *testing.T) {
	s := start(t)
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	data := bytes.Repeat([]byte("contract "), 100_000) // 900 kB: several chunks
	res := upload(t, s, s.AdminToken, "contract.pdf", data)
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 || !strings.Contains(string(raw), `"sha256":"`) || !strings.Contains(string(raw), `"size":900000`) {
		t.Fatalf("upload: %d %s", res.StatusCode, raw)
	}
	id := between(string(raw), `"id":"`, `"`)
	v := s.Do(t, "POST", "/api/v1/records/vehicle", s.AdminToken, map[string]any{"vin": "F1", "photo": id})
	if v.Status != 201 || !strings.Contains(v.Body, `"name":"contract.pdf"`) {
		t.Fatalf("record with file: %d %s", v.Status, v.Body)
	}
	s.Run(t, []testkit.Scenario{
		{Name: "unknown file id", Method: "POST", Path: "/api/v1/records/vehicle", Token: s.AdminToken, Body: map[string]any{"vin": "F2", "photo": "01JAAAAAAAAAAAAAAAAAAAAAAA"}, Status: 422, Contains: []string{`"field":"photo"`}},
		{Name: "viewer cannot read vehicles, so not their files", Method: "GET", Path: "/api/v1/files/" + id, Token: viewer, Status: 404},
		{Name: "no credentials", Method: "GET", Path: "/api/v1/files/" + id, Status: 401},
		{Name: "not multipart", Method: "POST", Path: "/api/v1/files", Token: s.AdminToken, Body: map[string]any{"x": 1}, Status: 400},
	})
	got := s.Do(t, "GET", "/api/v1/files/"+id, s.AdminToken, nil)
	if got.Status != 200 || got.Body != string(data) || !strings.Contains(got.Header.Get("Content-Disposition"), "contract.pdf") {
		t.Fatalf("download: %d, %d bytes", got.Status, len(got.Body))
	}
}

func between(s, a, b string) string {
	_, rest, _ := strings.Cut(s, a)
	out, _, _ := strings.Cut(rest, b)
	return out
}
