package api_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/crmkit/crm/core/api"
	"github.com/crmkit/crm/core/hub"
	"github.com/crmkit/crm/core/testkit"
)

func TestWebsocketHandshake(t *testing.T) {
	s := start(t)
	cases := []struct {
		name    string
		token   string
		headers []string
		status  int // 0: the upgrade succeeds
		code    string
	}{
		{name: "no credentials", status: 401, code: "unauthenticated"},
		{name: "revoked or unknown token", token: "crmt_nope", status: 401},
		{name: "cross-site page with the cookie", headers: []string{"Cookie", api.SessionCookie + "=" + s.AdminToken, "Origin", "https://evil.example"}, status: 403, code: "cross_origin"},
		{name: "cross-site page with a token", token: s.AdminToken, headers: []string{"Origin", "http://localhost.evil.example"}, status: 403, code: "cross_origin"},
		{name: "our own page with the cookie", headers: []string{"Cookie", api.SessionCookie + "=" + s.AdminToken, "Origin", s.URL}},
		{name: "an API client with a token and no Origin", token: s.AdminToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws, res, err := s.DialWS(t, c.token, c.headers...)
			if c.status == 0 {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				m := ws.Expect("hello", "")
				if m.JSON["user"].(map[string]any)["email"] != testkit.AdminEmail || m.JSON["position"] == nil {
					t.Fatalf("hello: %s", m.Raw)
				}
				return
			}
			if err == nil || res == nil || res.StatusCode != c.status {
				t.Fatalf("want %d, got %v %v", c.status, res, err)
			}
			body, _ := io.ReadAll(res.Body)
			if !strings.Contains(string(body), `"error"`) || c.code != "" && !strings.Contains(string(body), `"code":"`+c.code+`"`) {
				t.Fatalf("refusal body: %s", body)
			}
		})
	}
}

func TestWebsocketBadMessages(t *testing.T) {
	s := start(t)
	ws := s.MustDialWS(t, s.AdminToken)
	ws.Send(map[string]any{"type": "subscribe", "sub": "taken", "entity": "vehicle"})
	ws.Expect("snapshot", "taken")
	cases := []struct {
		name, msg string
		want      []string
	}{
		{"not JSON", `{"type": `, []string{`"code":"invalid_json"`, "at byte"}},
		{"not an object", `[1, 2]`, []string{`"code":"invalid_json"`, "JSON object"}},
		{"empty", ``, []string{`"code":"invalid_json"`}},
		{"trailing data", `{"type":"ping"} {}`, []string{`"code":"invalid_json"`, "after the JSON object"}},
		{"unknown field", `{"type":"ping","tpye":1}`, []string{`"field":"tpye"`}},
		{"wrong type of a field", `{"type":"subscribe","sub":"x","entity":"deal","limit":"ten"}`, []string{`"field":"limit"`, "number"}},
		{"no type", `{"sub":"x"}`, []string{`"code":"required"`, `"field":"type"`}},
		{"unknown type", `{"type":"subscribe_all"}`, []string{`"code":"unknown_type"`, `"field":"type"`}},
		{"no sub", `{"type":"subscribe","entity":"deal"}`, []string{`"code":"required"`, `"field":"sub"`}},
		{"long sub", `{"type":"subscribe","entity":"deal","sub":"` + strings.Repeat("s", 65) + `"}`, []string{`"field":"sub"`}},
		{"no entity", `{"type":"subscribe","sub":"x"}`, []string{`"sub":"x"`, `"field":"entity"`}},
		{"unknown entity", `{"type":"subscribe","sub":"x","entity":"vehicel"}`, []string{`"sub":"x"`, `"code":"unknown_entity"`}},
		{"bad filter, positioned as the list gives it", `{"type":"subscribe","sub":"x","entity":"vehicle","filter":"mileage > 5 && vni == 'x'"}`,
			[]string{`"sub":"x"`, `"code":"invalid_filter"`, `"field":"filter"`, `"line":1`, `"column":16`, "vni"}},
		{"bad sort", `{"type":"subscribe","sub":"x","entity":"vehicle","sort":"-nope"}`, []string{`"field":"sort"`}},
		{"bad limit", `{"type":"subscribe","sub":"x","entity":"vehicle","limit":5000}`, []string{`"field":"limit"`}},
		{"after in the future", `{"type":"subscribe","sub":"x","entity":"vehicle","after":99999999}`, []string{`"field":"after"`, `"code":"invalid_value"`}},
		{"duplicate sub", `{"type":"subscribe","sub":"taken","entity":"vehicle"}`, []string{`"code":"duplicate"`}},
		{"unsubscribe unknown", `{"type":"unsubscribe","sub":"nope"}`, []string{`"code":"not_found"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws.Send(c.msg)
			m := ws.Expect("error", "")
			for _, w := range c.want {
				if !strings.Contains(m.Raw, w) {
					t.Errorf("error lacks %s: %s", w, m.Raw)
				}
			}
		})
	}
	if err := ws.Conn.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if m := ws.Expect("error", ""); !strings.Contains(m.Raw, "text frames") {
		t.Fatalf("binary frame: %s", m.Raw)
	}
	// The connection and the server are still fine.
	ws.Send(`{"type":"ping"}`)
	ws.Expect("pong", "")
}

func TestWebsocketOversizeMessageCloses1009(t *testing.T) {
	s := start(t)
	ws := s.MustDialWS(t, s.AdminToken)
	big, _ := json.Marshal(map[string]any{"type": "subscribe", "sub": "x", "entity": "contact", "filter": strings.Repeat(" ", api.WSMaxMessage)})
	_ = ws.Conn.WriteMessage(websocket.TextMessage, big) // the server may close before it has read it all
	m := ws.Next()
	if m.Close == nil || m.Close.Code != websocket.CloseMessageTooBig {
		t.Fatalf("want close 1009, got %s", m.Raw)
	}
	// The next client is served.
	s.MustDialWS(t, s.AdminToken).Sync()
}

func TestWebsocketRateLimit(t *testing.T) {
	s := start(t)
	ws := s.MustDialWS(t, s.AdminToken)
	limited := false
	for range api.WSBurst + api.WSMaxRefused + 200 {
		_ = ws.Conn.SetWriteDeadline(time.Now().Add(testkit.WSWait))
		if err := ws.Conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
			break // closed by the server
		}
	}
	for {
		m := ws.Next()
		if m.Close != nil {
			if m.Close.Code != websocket.ClosePolicyViolation || !strings.Contains(m.Close.Text, "rate") {
				t.Fatalf("closed with %v", m.Close)
			}
			break
		}
		limited = limited || strings.Contains(m.Raw, `"code":"rate_limited"`)
	}
	if !limited {
		t.Fatal("no rate_limited error before the close")
	}
}

func TestWebsocketClosesAtLogoutAndRevoke(t *testing.T) {
	s := start(t)
	session := s.Login(t, testkit.AdminEmail, testkit.AdminPassword)
	ws := s.MustDialWS(t, session)
	other := s.MustDialWS(t, s.AdminToken) // another session of the same user stays
	if res := s.Do(t, "POST", "/api/v1/auth/logout", session, nil); res.Status != 204 {
		t.Fatalf("logout: %d %s", res.Status, res.Body)
	}
	m := ws.Next()
	if m.Close == nil || m.Close.Code != websocket.ClosePolicyViolation || !strings.Contains(m.Close.Text, "session ended") {
		t.Fatalf("after logout: %s", m.Raw)
	}
	other.Sync()

	res := s.Do(t, "POST", "/api/v1/auth/tokens", s.AdminToken, map[string]any{"name": "script"})
	if res.Status != 201 {
		t.Fatalf("token: %d %s", res.Status, res.Body)
	}
	script := s.MustDialWS(t, res.JSON["token"].(string))
	if r := s.Do(t, "DELETE", "/api/v1/auth/tokens/"+res.JSON["id"].(string), s.AdminToken, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if m := script.Next(); m.Close == nil || m.Close.Code != websocket.ClosePolicyViolation {
		t.Fatalf("after revoke: %s", m.Raw)
	}
	other.Sync()
}

// TestWebsocketConnectionsPerUser: a user's connection past the cap is
// refused at the handshake with 429 and a JSON error, the older ones keep
// working, another user still connects, and /metrics counts the refusal.
func TestWebsocketConnectionsPerUser(t *testing.T) {
	s := start(t)
	_, sales := s.AddUser(t, "sales@example.com", "sales")
	var open []*testkit.WS
	for range hub.DefaultMaxPerUser {
		open = append(open, s.MustDialWS(t, sales))
	}
	_, res, err := s.DialWS(t, sales)
	if err == nil || res == nil || res.StatusCode != 429 {
		t.Fatalf("connection %d: want 429, got %v %v", hub.DefaultMaxPerUser+1, res, err)
	}
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `"code":"too_many_connections"`) || !strings.Contains(string(body), "close a tab") || res.Header.Get("Retry-After") == "" {
		t.Fatalf("refusal: %s %v", body, res.Header)
	}
	open[0].Send(`{"type":"ping"}`)
	if m := open[0].Next(); m.Type != "pong" {
		t.Fatalf("an older connection: %s", m.Raw)
	}
	s.MustDialWS(t, s.AdminToken)
	if m := s.Do(t, "GET", "/metrics", s.AdminToken, nil); !strings.Contains(m.Body, `crm_ws_refused_total{reason="too_many_connections"} 1`) {
		t.Fatalf("metrics lack the refusal:\n%s", m.Body)
	}
}
