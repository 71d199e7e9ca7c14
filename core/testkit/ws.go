package testkit

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// WSWait is how long a websocket test waits for a message it expects:
// generous, so that a loaded machine does not fail a test.
const WSWait = 30 * time.Second

// WS is a real websocket client of a test server's /api/v1/ws.
type WS struct {
	Conn *websocket.Conn
	t    testing.TB
}

// WSMessage is a message the server sent, decoded, with its raw text.
type WSMessage struct {
	Type  string
	Sub   string
	Op    string
	JSON  map[string]any
	Raw   string
	Close *websocket.CloseError // set when the server closed the connection instead
}

// Record is the "record" of a change message.
func (m *WSMessage) Record() map[string]any {
	r, _ := m.JSON["record"].(map[string]any)
	return r
}

// Position is the "position" of a message, 0 when it has none.
func (m *WSMessage) Position() uint64 {
	f, _ := m.JSON["position"].(float64)
	return uint64(f)
}

// DialWS opens /api/v1/ws with a bearer token ("" for none) and the extra
// headers given (name, value, ...). It returns the handshake's answer
// when the server refuses it (and no client).
func (s *Server) DialWS(t testing.TB, token string, headers ...string) (*WS, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		h.Set(headers[i], headers[i+1])
	}
	d := websocket.Dialer{HandshakeTimeout: WSWait}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/api/v1/ws", h)
	if err != nil {
		return nil, res, err
	}
	ws := &WS{Conn: conn, t: t}
	t.Cleanup(func() { conn.Close() })
	return ws, res, nil
}

// MustDialWS opens /api/v1/ws with a bearer token and reads its hello.
func (s *Server) MustDialWS(t testing.TB, token string) *WS {
	t.Helper()
	ws, res, err := s.DialWS(t, token)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial websocket: %v (status %d)", err, status)
	}
	if m := ws.Next(); m.Type != "hello" {
		t.Fatalf("first message: %s", m.Raw)
	}
	return ws
}

// Send sends v as JSON (a string or []byte as it is).
func (w *WS) Send(v any) {
	w.t.Helper()
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			w.t.Fatal(err)
		}
	}
	_ = w.Conn.SetWriteDeadline(time.Now().Add(WSWait))
	if err := w.Conn.WriteMessage(websocket.TextMessage, b); err != nil {
		w.t.Fatalf("websocket send: %v", err)
	}
}

// Next reads the next message, waiting up to WSWait; a close by the
// server is a message with Close set.
func (w *WS) Next() *WSMessage {
	w.t.Helper()
	_ = w.Conn.SetReadDeadline(time.Now().Add(WSWait))
	_, data, err := w.Conn.ReadMessage()
	if err != nil {
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return &WSMessage{Type: "close", Close: ce, Raw: err.Error()}
		}
		w.t.Fatalf("websocket read: %v", err)
	}
	m := &WSMessage{Raw: string(data)}
	if err := json.Unmarshal(data, &m.JSON); err != nil {
		w.t.Fatalf("websocket message is not JSON: %s", data)
	}
	m.Type, _ = m.JSON["type"].(string)
	m.Sub, _ = m.JSON["sub"].(string)
	m.Op, _ = m.JSON["op"].(string)
	return m
}

// Expect reads messages until one of the type given (and of sub, when
// sub is not ""), failing on any other message in between.
func (w *WS) Expect(typ, sub string) *WSMessage {
	w.t.Helper()
	m := w.Next()
	if m.Type != typ || sub != "" && m.Sub != sub {
		w.t.Fatalf("want a %s message of sub %q, got %s", typ, sub, m.Raw)
	}
	return m
}

// Sync sends a ping and returns the messages that came before its pong:
// the server answers a ping after every change it has already dispatched.
func (w *WS) Sync() []*WSMessage {
	w.t.Helper()
	w.Send(`{"type":"ping"}`)
	var before []*WSMessage
	for {
		m := w.Next()
		if m.Type == "pong" {
			return before
		}
		if m.Close != nil {
			w.t.Fatalf("closed while waiting for pong: %s", m.Raw)
		}
		before = append(before, m)
	}
}
