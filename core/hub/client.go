package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// The ops of a change message. OpLeft is a record that no longer matches
// the subscription's filter, or that the user may no longer see; it
// carries only the record's id and entity.
const (
	OpCreated = store.OpCreated
	OpUpdated = store.OpUpdated
	OpDeleted = store.OpDeleted
	OpLeft    = "left"
)

// MaxSubLen is the longest subscription id a client may choose.
const MaxSubLen = 64

// Request is a message from a client: subscribe, unsubscribe or ping.
type Request struct {
	Type   string  `json:"type"`
	Sub    string  `json:"sub,omitempty"`
	Entity string  `json:"entity,omitempty"`
	Filter string  `json:"filter,omitempty"`
	Sort   string  `json:"sort,omitempty"`
	Limit  int     `json:"limit,omitempty"`
	After  *uint64 `json:"after,omitempty"`
}

// Error is a refused request as the client gets it in
// {"type":"error","sub"?,"error":{...}}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// Error is the message.
func (e *Error) Error() string { return e.Message }

// CodeResync is the error code of an `after` too far behind to replay:
// the client takes a new snapshot.
const CodeResync = "resync"

// ErrorMessage is the error message of err for subscription sub ("" for
// none): a *Error as it is, an error of the record service with its code,
// field and position, anything else "internal".
func ErrorMessage(sub string, err error) []byte { return errorMessage(sub, err) }

func errorMessage(sub string, err error) []byte {
	m := map[string]any{"type": "error", "error": errorBody(err)}
	if sub != "" {
		m["sub"] = sub
	}
	b, _ := json.Marshal(m)
	return b
}

func errorBody(err error) *Error {
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	if re := records.ErrorOf(err); re != nil {
		return &Error{Code: re.Code, Message: re.Message, Field: re.Field, Line: re.Line, Column: re.Column}
	}
	return &Error{Code: "internal", Message: "internal error"}
}

// Client is one connection's side of the hub: what it is subscribed to,
// and the queue of messages for it.
type Client struct {
	hub       *Hub
	principal atomic.Pointer[auth.Principal]
	out       chan []byte
	done      chan struct{}
	once      sync.Once
	err       error
	subs      map[string]*subscription // guarded by hub.mu
}

// Out is the client's queue of encoded messages, in order.
func (c *Client) Out() <-chan []byte { return c.out }

// Done is closed when the client is dropped or closed; Err says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the client was dropped (ErrSlow, ErrShutdown, ErrClosed),
// once Done is closed.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// SetPrincipal replaces the client's principal (its session checked again,
// with the user's current role): later deliveries are authorised with it.
func (c *Client) SetPrincipal(p *auth.Principal) { c.principal.Store(p) }

// Drop ends the client for the reason given; the connection closes.
func (c *Client) Drop(reason error) {
	c.once.Do(func() {
		c.err = reason
		close(c.done)
		c.hub.countDrop(reason)
	})
}

// Close unregisters the client and its subscriptions.
func (c *Client) Close() {
	h := c.hub
	h.mu.Lock()
	for _, s := range c.subs {
		h.unregister(s)
	}
	if cs := h.clients[c.principal.Load().User.ID]; cs != nil {
		delete(cs, c)
		if len(cs) == 0 {
			delete(h.clients, c.principal.Load().User.ID)
		}
	}
	h.mu.Unlock()
	c.Drop(ErrClosed)
}

// offer queues a message without waiting: a client whose queue is full is
// dropped (ErrSlow), so that one slow reader never holds up the others.
func (c *Client) offer(msg []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.out <- msg:
	default:
		c.Drop(ErrSlow)
	}
}

// send queues a message for the client's own requests, waiting for room.
func (c *Client) send(ctx context.Context, msg []byte) error {
	select {
	case c.out <- msg:
		return nil
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send queues a message made by the transport (an error about a message
// it could not read), waiting for room.
func (c *Client) Send(ctx context.Context, msg []byte) error { return c.send(ctx, msg) }

// Handle carries out one request of the client; its answers and errors
// are queued as messages. Requests of one client are handled one at a
// time, in order.
func (c *Client) Handle(ctx context.Context, req Request) {
	var err error
	switch req.Type {
	case "ping":
		// A barrier: the pong comes after every change already dispatched.
		c.hub.mu.Lock()
		c.hub.mu.Unlock()
		err = c.send(ctx, []byte(`{"type":"pong"}`))
	case "subscribe":
		err = c.subscribe(ctx, req)
	case "unsubscribe":
		err = c.unsubscribe(req.Sub)
	case "":
		err = &Error{Code: "required", Message: `type: missing; one of "subscribe", "unsubscribe", "ping"`, Field: "type"}
	default:
		err = &Error{Code: "unknown_type", Message: fmt.Sprintf(`type: %q is not one of "subscribe", "unsubscribe", "ping"`, req.Type), Field: "type"}
	}
	if err == nil || c.Err() != nil || ctx.Err() != nil {
		return
	}
	if errorBody(err).Code == "internal" {
		c.hub.log.Error("websocket request failed", slog.String("type", req.Type), slog.String("sub", req.Sub), slog.Any("err", err))
	}
	_ = c.send(ctx, errorMessage(req.Sub, err))
}

func (c *Client) unsubscribe(id string) error {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s := c.subs[id]
	if s == nil {
		return &Error{Code: "not_found", Message: fmt.Sprintf("sub: no subscription %q", id), Field: "sub"}
	}
	h.unregister(s)
	return nil
}

// subscribe checks and starts a subscription: a snapshot (or the position
// the client gives), the changes since read back from the feed, then live.
func (c *Client) subscribe(ctx context.Context, req Request) error {
	h := c.hub
	switch {
	case req.Sub == "":
		return &Error{Code: "required", Message: "sub: missing; name the subscription", Field: "sub"}
	case len(req.Sub) > MaxSubLen:
		return &Error{Code: "invalid_value", Message: fmt.Sprintf("sub: longer than %d bytes", MaxSubLen), Field: "sub"}
	}
	h.mu.Lock()
	exists, n := c.subs[req.Sub] != nil, len(c.subs)
	h.mu.Unlock()
	if exists {
		return &Error{Code: "duplicate", Message: fmt.Sprintf("sub: %q is already subscribed; unsubscribe it first", req.Sub), Field: "sub"}
	}
	if n >= h.opts.MaxSubscriptions {
		return &Error{Code: "too_many_subscriptions", Message: fmt.Sprintf("at most %d subscriptions per connection", h.opts.MaxSubscriptions), Field: "sub"}
	}
	p := c.principal.Load()
	a := records.UserActor(p)
	if req.Entity == "" {
		return &Error{Code: "required", Message: "entity: missing", Field: "entity"}
	}
	ent, err := h.recs.Entity(a, req.Entity, false)
	if err != nil {
		return err
	}
	s := &subscription{id: req.Sub, client: c, ent: ent}
	s.quoted, _ = json.Marshal(req.Sub)
	if req.Filter != "" {
		if s.filter, err = store.CompileFilter(ent, req.Filter); err != nil {
			return err
		}
	}
	start, err := c.start(ctx, s, req)
	if err != nil {
		return err
	}
	return c.catchUp(ctx, s, start)
}

// start sends the snapshot and returns its position, or checks the
// client's `after`.
func (c *Client) start(ctx context.Context, s *subscription, req Request) (uint64, error) {
	h := c.hub
	if req.After != nil {
		last := h.st.LastSeq()
		switch after := *req.After; {
		case after > last:
			return 0, &Error{Code: "invalid_value", Field: "after", Message: fmt.Sprintf("after: %d is past the last position of the change feed (%d)", after, last)}
		case last-after > h.opts.MaxReplay:
			return 0, &Error{Code: CodeResync, Field: "after", Message: fmt.Sprintf("after: %d is %d changes behind, more than the %d that are replayed; subscribe without after for a new snapshot", after, last-after, h.opts.MaxReplay)}
		}
		return *req.After, nil
	}
	// The record service lists only what the user sees (an own_only
	// role's own records), as the list route does.
	page, err := h.recs.List(ctx, records.UserActor(c.principal.Load()), records.ListRequest{Entity: s.ent.Name, Filter: req.Filter, Sort: req.Sort, Limit: req.Limit})
	if err != nil {
		return 0, err
	}
	items := make([]json.RawMessage, 0, len(page.Items))
	for _, r := range page.Items {
		b, err := json.Marshal(h.recs.APIForm(ctx, r))
		if err != nil {
			return 0, fmt.Errorf("encode %s %s: %w", r.Entity, r.ID, err)
		}
		items = append(items, b)
	}
	m := map[string]any{"type": "snapshot", "sub": s.id, "items": items, "position": page.Seq}
	if page.NextCursor != "" {
		m["next_cursor"] = page.NextCursor
	}
	msg, err := json.Marshal(m)
	if err != nil {
		return 0, fmt.Errorf("encode snapshot: %w", err)
	}
	return page.Seq, c.send(ctx, msg)
}

// catchUp delivers the feed's events after start that the hub has already
// dispatched, reading them back from the store, and registers the
// subscription the moment it has caught up, under the hub's lock, so that
// no event is missed between the two and none is sent twice.
func (c *Client) catchUp(ctx context.Context, s *subscription, start uint64) error {
	h := c.hub
	for {
		h.mu.Lock()
		if h.pos <= start {
			s.from = start
			if h.byKind[s.ent.Name] == nil {
				h.byKind[s.ent.Name] = map[*subscription]bool{}
			}
			h.byKind[s.ent.Name][s] = true
			c.subs[s.id] = s
			h.mu.Unlock()
			return nil
		}
		target := h.pos
		h.mu.Unlock()
		for start < target {
			raw, err := h.st.Events(ctx, start, 256)
			if err != nil {
				return fmt.Errorf("replay the change feed after %d: %w", start, err)
			}
			if len(raw) == 0 {
				break
			}
			for i := range raw {
				if err := c.replay(ctx, s, &raw[i]); err != nil {
					return err
				}
				start = raw[i].Seq
			}
		}
	}
}

// replay delivers one event read back from the feed to a subscription
// that is catching up.
func (c *Client) replay(ctx context.Context, s *subscription, raw *store.Event) error {
	if raw.Entity != s.ent.Name {
		return nil
	}
	ev := feed.Decode(c.hub.sch, *raw)
	if ev.DecodeErr != nil || ev.After == nil {
		c.hub.log.Error("change-feed event not replayed: its record cannot be read", slog.Uint64("seq", ev.Seq), slog.Any("err", ev.DecodeErr))
		return nil
	}
	msg, err := s.change(ctx, &ev, &encoded{h: c.hub, ev: &ev})
	if err != nil || msg == nil {
		return err
	}
	return c.send(ctx, msg)
}

// dropSub ends a subscription the hub cannot keep (its filter failed on a
// record). The caller holds hub.mu.
func (c *Client) dropSub(s *subscription) { c.hub.unregister(s) }

// unregister removes a subscription; the caller holds h.mu.
func (h *Hub) unregister(s *subscription) {
	if subs := h.byKind[s.ent.Name]; subs != nil {
		delete(subs, s)
		if len(subs) == 0 {
			delete(h.byKind, s.ent.Name)
		}
	}
	if s.client.subs[s.id] == s {
		delete(s.client.subs, s.id)
	}
}

// subscription is one live query of a client.
type subscription struct {
	id     string
	quoted []byte // id as a JSON string
	client *Client
	ent    *schema.Entity
	filter *store.Filter // nil for every record
	from   uint64        // events up to this position are in its snapshot or replay
}

// visible reports whether the client's user sees a record version, by
// the record service's one rule (records.Actor.Sees: read on the entity
// and, for an own_only role, ownership), and it matches the filter.
func (s *subscription) visible(p *auth.Principal, r *store.Record) (bool, error) {
	if r == nil || !records.UserActor(p).Sees(r) {
		return false, nil
	}
	return s.filter.EvalWithin(r, LiveFilterTime, liveFilterMsg)
}

// LiveFilterTime is the time budget of a live view's filter on one change:
// it runs on every change of the entity, while the other views wait. A
// view whose filter runs over a budget ends with the error
// "filter_budget_exceeded".
const LiveFilterTime = 100 * time.Millisecond

var liveFilterMsg = fmt.Sprintf("the filter ran longer than %s on one change; a live view needs a cheaper filter", LiveFilterTime)

// change is the message an event makes for the subscription, nil for
// none: created, updated (which may be a record entering the view),
// deleted, or left (a record that matched and no longer does, or that the
// user may no longer see).
func (s *subscription) change(ctx context.Context, ev *feed.Event, enc *encoded) ([]byte, error) {
	p := s.client.principal.Load()
	now, err := s.visible(p, ev.After)
	if err != nil {
		return nil, err
	}
	op := ""
	switch ev.Op {
	case store.OpCreated, store.OpDeleted:
		if now {
			op = ev.Op
		}
	case store.OpUpdated:
		was := false
		if ev.Before != nil {
			if was, err = s.visible(p, ev.Before); err != nil {
				return nil, err
			}
		}
		switch {
		case now:
			op = OpUpdated
		case was:
			op = OpLeft
		}
	}
	if op == "" {
		return nil, nil
	}
	return changeMessage(s.quoted, op, enc.record(ctx, op), ev.Seq), nil
}
