package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/hub"
)

// The websocket's limits (docs/websocket.md).
const (
	// WSMaxMessage is the largest message a client may send; a larger one
	// closes the connection with 1009 (message too big).
	WSMaxMessage = 64 << 10
	// WSRate and WSBurst are the messages a client may send per second and
	// at once; a message over them is refused with the error
	// "rate_limited", and WSMaxRefused refusals in a burst (refilled one a
	// second) close the connection with 1008.
	WSRate       = 20
	WSBurst      = 40
	WSMaxRefused = 50

	wsWriteWait   = 10 * time.Second
	wsPongWait    = 60 * time.Second
	wsPingEvery   = 25 * time.Second
	wsReauthEvery = time.Minute
	wsCloseGrace  = 2 * time.Second
)

// Why the server closes a connection, besides hub.ErrSlow and
// hub.ErrShutdown.
var (
	errWSAbuse = errors.New("rate limit exceeded")
)

// websocket serves /api/v1/ws: it checks the Origin, upgrades, and then
// carries messages between the connection and the hub (core/hub), which
// owns subscriptions and deliveries. The request is authenticated like
// every other (session cookie or bearer token) before this runs.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if s.opts.Hub == nil {
		writeError(w, http.StatusNotFound, "not_found", "live updates are not running", "")
		return
	}
	// A browser lets any page open a websocket to any site, with the
	// cookie: only our own pages may (cross-site websocket hijacking).
	if r.Header.Get("Origin") != "" {
		if msg := s.crossSite(r); msg != "" {
			writeError(w, http.StatusForbidden, "cross_origin", msg, "")
			return
		}
	}
	// The client is registered before the upgrade, so that a user over the
	// cap is refused with a status and a JSON body a page can read.
	c, err := s.opts.Hub.Connect(p)
	var many *hub.TooManyError
	if errors.As(err, &many) {
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusTooManyRequests, "too_many_connections", err.Error(), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	up := websocket.Upgrader{
		ReadBufferSize: 4096, WriteBufferSize: 4096,
		CheckOrigin: func(*http.Request) bool { return true }, // checked above, with public_url
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			writeError(w, status, "websocket_handshake", "not a websocket handshake: "+reason.Error(), "")
		},
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		c.Close()
		return // answered by up.Error
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.wsWrite(ctx, conn, c, credential(r))
	}()
	s.wsRead(ctx, conn, c)
	c.Close()
	<-written
	// The closing handshake: read until the client's close (or the grace
	// the writer set), so that closing does not reset the connection under
	// the messages the client has not read yet.
	for {
		if _, _, err := conn.NextReader(); err != nil {
			break
		}
	}
	conn.Close()
}

// wsRead reads the client's messages and hands them to the hub, until the
// connection fails or the client is dropped.
func (s *Server) wsRead(ctx context.Context, conn *websocket.Conn, c *hub.Client) {
	conn.SetReadLimit(WSMaxMessage)
	alive := func() {
		if c.Err() == nil {
			_ = conn.SetReadDeadline(time.Now().Add(wsPongWait))
		}
	}
	alive()
	conn.SetPongHandler(func(string) error { alive(); return nil })
	limit, refusals := rate.NewLimiter(WSRate, WSBurst), rate.NewLimiter(1, WSMaxRefused)
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				s.log.Info("websocket message too big", slog.Int("limit", WSMaxMessage))
			}
			return
		}
		alive()
		if !limit.Allow() {
			if !refusals.Allow() {
				c.Drop(errWSAbuse)
				return
			}
			_ = c.Send(ctx, hub.ErrorMessage("", &hub.Error{Code: "rate_limited",
				Message: fmt.Sprintf("more than %d messages a second: this one was dropped", WSRate)}))
			continue
		}
		if typ != websocket.TextMessage {
			_ = c.Send(ctx, hub.ErrorMessage("", &hub.Error{Code: "invalid_json", Message: "send JSON in text frames, not binary ones"}))
			continue
		}
		req, err := decodeWSRequest(data)
		if err != nil {
			_ = c.Send(ctx, hub.ErrorMessage(req.Sub, err))
			continue
		}
		c.Handle(ctx, req)
	}
}

// wsWrite writes the client's queued messages with a deadline each, pings
// the client, and checks its session again now and then; when the client
// is dropped it sends a close with a code that says why and gives the
// client wsCloseGrace to answer it.
func (s *Server) wsWrite(ctx context.Context, conn *websocket.Conn, c *hub.Client, secret string) {
	defer func() { _ = conn.SetReadDeadline(time.Now().Add(wsCloseGrace)) }()
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	checked := time.Now()
	for {
		select {
		case msg := <-c.Out():
			_ = conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				c.Drop(hub.ErrClosed)
				return
			}
		case <-ping.C:
			if time.Since(checked) >= wsReauthEvery {
				checked = time.Now()
				p, err := s.opts.Auth.Authenticate(ctx, secret)
				if err != nil {
					c.Drop(hub.ErrSessionEnded)
					continue
				}
				c.SetPrincipal(p)
			}
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				c.Drop(hub.ErrClosed)
				return
			}
		case <-c.Done():
			if !errors.Is(c.Err(), hub.ErrSlow) {
				wsFlush(conn, c) // what is queued says why (the errors before a rate-limit close)
			}
			code, text := wsCloseCode(c.Err())
			// A slow client's buffers may be full: the close waits for
			// room a while, then the connection just ends.
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(wsWriteWait))
			return
		}
	}
}

// wsFlush writes the messages already queued for a dropped client.
func wsFlush(conn *websocket.Conn, c *hub.Client) {
	for {
		select {
		case msg := <-c.Out():
			_ = conn.SetWriteDeadline(time.Now().Add(wsWriteWait))
			if conn.WriteMessage(websocket.TextMessage, msg) != nil {
				return
			}
		default:
			return
		}
	}
}

// wsCloseCode is the close code and reason of a dropped client.
func wsCloseCode(err error) (int, string) {
	switch {
	case errors.Is(err, hub.ErrShutdown):
		return websocket.CloseGoingAway, err.Error()
	case errors.Is(err, hub.ErrSlow), errors.Is(err, errWSAbuse), errors.Is(err, hub.ErrSessionEnded):
		return websocket.ClosePolicyViolation, err.Error()
	}
	return websocket.CloseNormalClosure, ""
}

// decodeWSRequest reads a client message strictly: one JSON object of the
// known fields. Its error names what is wrong and where.
func decodeWSRequest(data []byte) (hub.Request, error) {
	var req hub.Request
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err == nil {
		return req, nil
	}
	he := &hub.Error{Code: "invalid_json", Message: "malformed message: " + err.Error()}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		he.Message = fmt.Sprintf("malformed message: the JSON ends unfinished at byte %d", len(data))
	case errors.As(err, &syn):
		he.Message = fmt.Sprintf("malformed message at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ) && typ.Field == "":
		he.Message = "a message is a JSON object such as {\"type\":\"ping\"}"
	case errors.As(err, &typ):
		he.Field = typ.Field
		he.Message = fmt.Sprintf("%s: want a JSON %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		he.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		he.Message = fmt.Sprintf("%s: not a field of a message (type, sub, entity, filter, sort, limit, after)", he.Field)
	case errors.Is(err, io.EOF):
		he.Message = "empty message"
	}
	return req, he
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "uint64", "ptr":
		return "number"
	}
	return goKind
}

// Hijack lets the websocket take the connection over from the logging
// middleware's writer; the request is logged with status 101.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over")
	}
	conn, rw, err := h.Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}
