// Package hub keeps live views of records for connected clients (the
// websocket of core/api): it is a consumer of the change feed (core/feed),
// like the rules engine, and fans each committed change out to the
// subscriptions it concerns, and each in-app notification to the clients
// of its user.
//
// A subscription is a query (entity, filter, sort) that a client holds
// open. It starts with a snapshot read at a feed position, or at a
// position the client gives (`after`), and the hub then delivers every
// change after that position exactly once, in feed order: first the ones
// it reads back from the feed, then the live ones. Every delivery is
// authorised for the client's user at the moment it is made, by the record
// service's one rule (records.Actor.Sees: role read on the entity, and for
// an own_only role the ownership of the record), so a record that leaves
// what the user may see is sent as "left", with its id only.
//
// The hub must not know the transport: it hands each client encoded
// messages on a buffered channel and drops a client whose buffer is full
// rather than wait for it. It writes nothing.
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Defaults of Options.
const (
	DefaultMaxReplay        = 10000
	DefaultMaxSubscriptions = 100
	DefaultSendBuffer       = 256
	DefaultMaxPerUser       = 20
)

// Options tune a Hub.
type Options struct {
	// MaxReplay is the most feed events a subscription with `after` may
	// read back; further behind, it gets the error "resync" (take a new
	// snapshot). Default DefaultMaxReplay.
	MaxReplay uint64
	// MaxSubscriptions is the most subscriptions one client may hold.
	MaxSubscriptions int
	// SendBuffer is how many messages wait for a client before it counts
	// as too slow and is dropped.
	SendBuffer int
	// MaxPerUser is the most clients one user may have connected at once
	// (tabs, devices, scripts); Connect refuses one more with
	// *TooManyError. Default DefaultMaxPerUser.
	MaxPerUser int
	Logger     *slog.Logger
}

// Hub fans the change feed out to the subscriptions of connected clients.
type Hub struct {
	st   store.Store
	sch  *schema.Schema
	recs *records.Service
	opts Options
	log  *slog.Logger
	feed *feed.Consumer
	// metrics are set up once in New.
	metrics *metrics

	mu      sync.Mutex
	pos     uint64                            // the last feed event dispatched
	byKind  map[string]map[*subscription]bool // entity -> its live subscriptions
	clients map[string]map[*Client]bool       // user id -> the user's clients
	stopped bool
}

// New makes a hub over the record service's store. Its view of the feed
// starts at the store's last position: a client that needs older changes
// asks for them with `after`.
func New(recs *records.Service, opts Options) *Hub {
	if opts.MaxReplay == 0 {
		opts.MaxReplay = DefaultMaxReplay
	}
	if opts.MaxSubscriptions <= 0 {
		opts.MaxSubscriptions = DefaultMaxSubscriptions
	}
	if opts.SendBuffer <= 0 {
		opts.SendBuffer = DefaultSendBuffer
	}
	if opts.MaxPerUser <= 0 {
		opts.MaxPerUser = DefaultMaxPerUser
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &Hub{
		st: recs.Store(), sch: recs.Schema(), recs: recs, opts: opts,
		log:    opts.Logger.With(slog.String("component", "hub")),
		byKind: map[string]map[*subscription]bool{}, clients: map[string]map[*Client]bool{},
	}
	h.pos = h.st.LastSeq()
	h.metrics = newMetrics(h)
	h.feed = feed.New(h.st, h.sch, h.dispatch, feed.Options{From: h.pos, Batch: 256, Logger: h.log,
		RetryBase: 100 * time.Millisecond, RetryMax: 5 * time.Second})
	return h
}

// Run consumes the change feed until ctx is done, then drops every client
// (ErrShutdown) and returns nil.
func (h *Hub) Run(ctx context.Context) error {
	err := h.feed.Run(ctx)
	h.mu.Lock()
	h.stopped = true
	var all []*Client
	for _, cs := range h.clients {
		for c := range cs {
			all = append(all, c)
		}
	}
	h.mu.Unlock()
	for _, c := range all {
		c.Drop(ErrShutdown)
	}
	return err
}

// Position is the last feed position the hub has delivered.
func (h *Hub) Position() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pos
}

// Clients is the number of connected clients.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, cs := range h.clients {
		n += len(cs)
	}
	return n
}

// Reasons a client is dropped (Client.Err).
var (
	// ErrSlow: the client's send buffer was full; it did not read its
	// messages as fast as they came.
	ErrSlow = errors.New("too slow: the send buffer is full")
	// ErrShutdown: the server is stopping.
	ErrShutdown = errors.New("the server is shutting down")
	// ErrClosed: the connection ended (Client.Close).
	ErrClosed = errors.New("connection closed")
	// ErrSessionEnded: the session or token the client connected with
	// was logged out, revoked or expired, or its user disabled.
	ErrSessionEnded = errors.New("the session ended; log in again")
)

// EndSession drops the clients that connected with the session or API
// token of that id (a logout, a revoked token).
func (h *Hub) EndSession(tokenID string) {
	h.mu.Lock()
	var ended []*Client
	for _, cs := range h.clients {
		for c := range cs {
			if p := c.principal.Load(); p.Token != nil && p.Token.ID == tokenID {
				ended = append(ended, c)
			}
		}
	}
	h.mu.Unlock()
	for _, c := range ended {
		c.Drop(ErrSessionEnded)
	}
}

// revoked drops, on every node, the clients of what a RevokedEvent says
// ended: sessions and tokens by id, every client of a disabled user. It
// runs under h.mu (dispatch); Drop does not take it.
func (h *Hub) revoked(ev *feed.Event) {
	if ev.After == nil {
		return
	}
	r := auth.RevocationOf(ev.After.Values)
	if r.UserEnded && r.User != "" {
		for c := range h.clients[r.User] {
			c.Drop(ErrSessionEnded)
		}
	}
	if len(r.Tokens) == 0 {
		return
	}
	ended := make(map[string]bool, len(r.Tokens))
	for _, id := range r.Tokens {
		ended[id] = true
	}
	for _, cs := range h.clients {
		for c := range cs {
			if p := c.principal.Load(); p.Token != nil && ended[p.Token.ID] {
				c.Drop(ErrSessionEnded)
			}
		}
	}
}

// TooManyError is a connection refused because its user already has the
// most clients Options.MaxPerUser allows.
type TooManyError struct{ Max int }

// Error says so, and what to do.
func (e *TooManyError) Error() string {
	return fmt.Sprintf("you have %d live connections open, the most one user may; close a tab or another client first", e.Max)
}

// Connect registers a client for a user; its first message, already
// queued, is "hello" with the user and the hub's position. The caller
// reads Out until Done and calls Close at the end. A user who already has
// Options.MaxPerUser clients gets a *TooManyError and no client: the
// newcomer is refused rather than an older connection closed, so that a
// user with too many tabs does not have them close one another in turn.
func (h *Hub) Connect(p *auth.Principal) (*Client, error) {
	c := &Client{hub: h, out: make(chan []byte, h.opts.SendBuffer), done: make(chan struct{}), subs: map[string]*subscription{}}
	c.principal.Store(p)
	h.mu.Lock()
	stopped := h.stopped
	if !stopped {
		cs := h.clients[p.User.ID]
		if len(cs) >= h.opts.MaxPerUser {
			h.mu.Unlock()
			h.metrics.refused.WithLabelValues("too_many_connections").Inc()
			return nil, &TooManyError{Max: h.opts.MaxPerUser}
		}
		if cs == nil {
			cs = map[*Client]bool{}
			h.clients[p.User.ID] = cs
		}
		cs[c] = true
	}
	pos := h.pos
	h.mu.Unlock()
	hello, _ := json.Marshal(map[string]any{"type": "hello", "user": p.User.Public(), "position": pos})
	c.out <- hello
	if stopped {
		c.Drop(ErrShutdown)
	}
	return c, nil
}

// dispatch is the feed handler: it delivers a batch of events to the live
// subscriptions, and notifications and their read state to their users'
// clients. It never fails:
// a client that cannot take a message is dropped, never waited for.
func (h *Hub) dispatch(ctx context.Context, batch []feed.Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range batch {
		ev := &batch[i]
		switch ev.Entity + "." + ev.Op {
		case rules.NotificationEvent:
			h.notify(ctx, ev)
		case rules.NotificationReadEvent:
			h.notifyRead(ev)
		case auth.RevokedEvent:
			h.revoked(ev)
		default:
			if subs := h.byKind[ev.Entity]; len(subs) > 0 && ev.RecordEntity(h.sch) != nil {
				h.deliver(ctx, ev, subs)
			}
		}
		h.pos = ev.Seq
	}
	return nil
}

// deliver sends one record event to the subscriptions of its entity.
func (h *Hub) deliver(ctx context.Context, ev *feed.Event, subs map[*subscription]bool) {
	if ev.DecodeErr != nil || ev.After == nil {
		h.log.Error("change-feed event not delivered: its record cannot be read", slog.Uint64("seq", ev.Seq),
			slog.String("entity", ev.Entity), slog.Any("err", ev.DecodeErr))
		return
	}
	enc := &encoded{h: h, ev: ev}
	for s := range subs {
		if ev.Seq <= s.from {
			continue // the subscription's snapshot or replay has it already
		}
		msg, err := s.change(ctx, ev, enc)
		if err != nil {
			s.client.offer(errorMessage(s.id, err))
			s.client.dropSub(s) // its view would now miss changes: it ends, and says why
			continue
		}
		if msg != nil {
			s.client.offer(msg)
		}
	}
}

// encoded holds an event's record in JSON, made once for every
// subscription that gets it.
type encoded struct {
	h          *Hub
	ev         *feed.Event
	full, left []byte
}

func (e *encoded) record(ctx context.Context, op string) []byte {
	if op == OpLeft {
		if e.left == nil {
			e.left, _ = json.Marshal(map[string]string{schema.FieldID: e.ev.ID, schema.FieldEntity: e.ev.Entity})
		}
		return e.left
	}
	if e.full == nil {
		e.full, _ = json.Marshal(e.h.recs.APIForm(ctx, e.ev.After))
	}
	return e.full
}

// notify pushes a notification event's notifications to the clients of
// their users. Only a rule's event is taken, and each notification is read
// from the store, where the rule put it, as the REST API shows it.
func (h *Hub) notify(ctx context.Context, ev *feed.Event) {
	if !strings.HasPrefix(ev.By, "rule:") || ev.After == nil {
		return
	}
	var users []string
	if list, ok := ev.After.Values["users"].([]any); ok {
		for _, u := range list {
			if s, ok := u.(string); ok {
				users = append(users, s)
			}
		}
	}
	id, _ := ev.After.Values["id"].(string)
	for _, u := range users {
		cs := h.clients[u]
		if len(cs) == 0 || id == "" {
			continue
		}
		n, err := Notification(ctx, h.st, u, id)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				h.log.Error("read notification", slog.String("user", u), slog.String("id", id), slog.Any("err", err))
			}
			continue
		}
		msg, _ := json.Marshal(map[string]any{"type": "notification", "notification": PublicNotification(n)})
		for c := range cs {
			c.offer(msg)
		}
	}
}

// notifyRead tells every open socket of a user that notifications were
// read: {"type":"notification_read","ids":[...]} and, for "mark all read",
// "all": true. Only the user's own event is taken (its By is the user).
func (h *Hub) notifyRead(ev *feed.Event) {
	if ev.After == nil {
		return
	}
	user, _ := ev.After.Values["user"].(string)
	cs := h.clients[user]
	if user == "" || ev.By != user || len(cs) == 0 {
		return
	}
	ids := []string{}
	if list, ok := ev.After.Values["ids"].([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				ids = append(ids, s)
			}
		}
	}
	m := map[string]any{"type": "notification_read", "ids": ids}
	if all, _ := ev.After.Values["all"].(bool); all {
		m["all"] = true
	}
	msg, _ := json.Marshal(m)
	for c := range cs {
		c.offer(msg)
	}
}

// Notification reads one of a user's notifications.
func Notification(ctx context.Context, st store.Store, user, id string) (*rules.Notification, error) {
	var n rules.Notification
	err := st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindNotification, user+"/"+id, &n) })
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// PublicNotification is a notification as a client sees it, on the socket
// and over REST: {"id","title","message","entity"?,"record"?,"rule"?,"event"?,"at","read"}.
func PublicNotification(n *rules.Notification) map[string]any {
	out := map[string]any{"id": n.ID, "title": n.Title, "message": n.Message, "at": n.At, "read": n.Read}
	for k, v := range map[string]string{"entity": n.Entity, "record": n.Record, "rule": n.Rule, "event": n.Event} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// changeMessage is {"type":"change","sub",...,"op","record","position"},
// put together from parts encoded once.
func changeMessage(quotedSub []byte, op string, record []byte, pos uint64) []byte {
	b := make([]byte, 0, len(record)+len(quotedSub)+64)
	b = append(b, `{"type":"change","sub":`...)
	b = append(b, quotedSub...)
	b = append(b, `,"op":"`...)
	b = append(b, op...)
	b = append(b, `","record":`...)
	b = append(b, record...)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, pos, 10)
	return append(b, '}')
}
