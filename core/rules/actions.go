package rules

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/store"
)

// subject is what one run is about: a record version and how it came.
type subject struct {
	after, before *Record
	event         string // created, updated, stage_changed, deleted, schedule
	cause         string // the rule chain that made the write, if any
	by            string // who made the write
	keyBase       string // rule:seq, or rule:record:version for scheduled runs
	seq           uint64
	at            time.Time
	changes       map[string]store.Change
	payload       map[string]any // a plugin event's payload
}

// records is the record service the rules' actions write through, as
// "rule:NAME".
func (e *Engine) records() *records.Service { return records.New(e.st, e.sch) }

// Record is a store record (an alias, so the engine reads naturally).
type Record = store.Record

// eventSubject is the subject of a run triggered by a change-feed event,
// from the record versions the feed decoded once for every rule.
func (e *Engine) eventSubject(ctx context.Context, rule *Rule, ev *feed.Event, event string) (*subject, error) {
	if ev.DecodeErr != nil {
		return nil, ev.DecodeErr
	}
	sub := &subject{after: ev.After, before: ev.Before, event: event, cause: ev.Cause, by: ev.By,
		keyBase: fmt.Sprintf("%s:%d", rule.Name, ev.Seq), seq: ev.Seq, at: ev.At, changes: ev.Changes}
	if ev.RecordEntity(e.sch) == nil {
		return e.pluginSubject(ctx, rule, &ev.Event, sub) // events.go
	}
	return sub, nil
}

// execute evaluates a rule on its subject and, when its condition holds,
// does its actions in order. Each action's effect carries the idempotency
// key keyBase:index, so a retry skips what an earlier attempt already did.
func (e *Engine) execute(ctx context.Context, rule *Rule, sub *subject) (bool, []string, error) {
	chain := append(chainOf(sub.cause), rule.Name)
	if len(chain) > e.opts.MaxDepth {
		return true, nil, &loopError{chain: chain}
	}
	in := &Input{
		Ctx: ctx, Record: sub.after, Old: sub.before, Event: sub.event, Payload: sub.payload, Now: e.now(),
		Lookup: StoreLookup{Store: e.st}, Location: e.opts.Location,
	}
	if e.opts.UserInfo != nil && sub.by != "" && !strings.Contains(sub.by, ":") {
		in.User = e.opts.UserInfo(ctx, sub.by)
	}
	if rule.When != nil {
		ok, err := rule.When.EvalBool(in)
		if err != nil {
			return true, nil, fmt.Errorf("when: %w", err)
		}
		if !ok {
			return false, nil, nil
		}
	}
	x := &actionRun{e: e, rule: rule, sub: sub, in: in, cause: strings.Join(chain, ">")}
	var effects []string
	for _, a := range rule.Actions {
		effect, err := x.do(ctx, a, fmt.Sprintf("%s:%d", sub.keyBase, a.Index))
		if err != nil {
			return true, effects, fmt.Errorf("action %d (%s): %w", a.Index+1, a.Kind, err)
		}
		if effect != "" {
			effects = append(effects, effect)
		}
	}
	return true, effects, nil
}

// actionRun is the state shared by the actions of one run.
type actionRun struct {
	e     *Engine
	rule  *Rule
	sub   *subject
	in    *Input
	cause string
}

func (x *actionRun) do(ctx context.Context, a *Action, key string) (string, error) {
	switch a.Kind {
	case "set":
		return x.set(ctx, a, key)
	case "create_record":
		return x.create(ctx, a.Target, a, key, nil)
	case "create_task":
		return x.createTask(ctx, a, key)
	case "notify":
		return x.notify(ctx, a, key)
	case "webhook":
		return x.webhook(ctx, a, key)
	case "plugin":
		return x.plugin(ctx, a, key)
	}
	return "", fmt.Errorf("unknown action kind %q", a.Kind)
}

// fieldValues evaluates the arguments that are fields of entity into
// canonical values; a nil result clears the field.
func (x *actionRun) fieldValues(entity string, a *Action) (map[string]any, []string, error) {
	ent := x.e.sch.Entity(entity)
	if ent == nil {
		return nil, nil, fmt.Errorf("unknown entity %q", entity)
	}
	set := map[string]any{}
	var clear []string
	for name, p := range a.Args {
		f := ent.Field(name)
		if f == nil || (a.Kind == KindCreateRecord && name == "entity") {
			continue
		}
		v, err := p.Eval(x.in)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		cv, err := canonical(f, v, x.e.opts.Location)
		if err != nil {
			return nil, nil, err
		}
		if cv == nil {
			clear = append(clear, name)
			continue
		}
		set[name] = cv
	}
	return set, clear, nil
}

func (x *actionRun) set(ctx context.Context, a *Action, key string) (string, error) {
	if x.sub.event == store.OpDeleted {
		return "", errors.New("set: the record was deleted")
	}
	set, clear, err := x.fieldValues(x.sub.after.Entity, a)
	if err != nil {
		return "", err
	}
	rec, err := x.e.records().Update(ctx, records.RuleActor(x.rule.Name, x.cause), records.UpdateRequest{
		Entity: x.sub.after.Entity, ID: x.sub.after.ID, Values: records.Values{Set: set, Clear: clear}, IdempotencyKey: key,
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("set %s %s (version %d)", rec.Entity, rec.ID, rec.Version), nil
}

func (x *actionRun) create(ctx context.Context, entity string, a *Action, key string, extra map[string]any) (string, error) {
	values, _, err := x.fieldValues(entity, a)
	if err != nil {
		return "", err
	}
	for k, v := range extra {
		if _, given := values[k]; !given && v != nil {
			values[k] = v
		}
	}
	owner := x.in.Record.Owner
	if u, ok := values["assignee"].(string); ok && entity == "task" {
		owner = u
	}
	out, err := x.e.records().Create(ctx, records.RuleActor(x.rule.Name, x.cause), records.CreateRequest{
		Entity: entity, Values: records.Values{Set: values, Owner: owner}, IdempotencyKey: key,
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("created %s %s", entity, out.Record.ID), nil
}

// createTask creates a task linked to the record the rule is about.
func (x *actionRun) createTask(ctx context.Context, a *Action, key string) (string, error) {
	extra := map[string]any{}
	switch x.sub.after.Entity {
	case "contact":
		extra["contact"] = x.sub.after.ID
	case "deal":
		extra["deal"] = x.sub.after.ID
		extra["contact"] = x.in.Record.Values["contact"]
	default:
		for _, f := range []string{"contact", "deal"} {
			if v, ok := x.in.Record.Values[f]; ok {
				extra[f] = v
			}
		}
	}
	if x.sub.event == store.OpDeleted {
		delete(extra, "contact")
		delete(extra, "deal")
	}
	return x.create(ctx, "task", a, key, extra)
}

// Notification is an in-app message to one user.
type Notification struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Title   string    `json:"title,omitempty"`
	Message string    `json:"message"`
	Rule    string    `json:"rule"`
	Entity  string    `json:"entity,omitempty"`
	Record  string    `json:"record,omitempty"`
	Event   string    `json:"event,omitempty"` // the full event name: "deal.created", "warranty.expired"
	At      time.Time `json:"at"`
	Read    bool      `json:"read"`
}

func (x *actionRun) strArg(a *Action, name string) (string, error) {
	p := a.Args[name]
	if p == nil {
		return "", nil
	}
	v, err := p.Eval(x.in)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: expected a string, got %T", name, v)
	}
	return s, nil
}

// notify stores an in-app notification for every user the target names;
// the notification's key is the effect's idempotency key, so a retry
// writes the same one again instead of a second. With channel "email" it
// sends an e-mail instead (notifyEmail, in mail.go).
func (x *actionRun) notify(ctx context.Context, a *Action, key string) (string, error) {
	msg, err := x.strArg(a, "message")
	if err != nil {
		return "", err
	}
	title, err := x.strArg(a, "title")
	if err != nil {
		return "", err
	}
	channel, err := x.strArg(a, "channel")
	if err != nil {
		return "", err
	}
	switch channel {
	case "", ChannelApp:
	case ChannelEmail:
		return x.notifyEmail(ctx, a, key, title, msg)
	default:
		return "", fmt.Errorf("channel: %q is not one of the channels (%s, %s)", channel, ChannelApp, ChannelEmail)
	}
	users, err := x.notifyUsers(ctx, a)
	if err != nil {
		return "", err
	}
	at := x.e.now().UTC()
	err = x.e.st.SysUpdate(ctx, func(tx store.SysTx) error {
		for _, u := range users {
			n := Notification{ID: key, User: u, Title: title, Message: msg, Rule: x.rule.Name,
				Entity: x.sub.after.Entity, Record: x.sub.after.ID, Event: x.sub.fullEvent(), At: at}
			var old Notification
			if tx.Get(store.KindNotification, u+"/"+key, &old) == nil {
				continue // delivered by an earlier attempt
			}
			if err := tx.Put(store.KindNotification, u+"/"+key, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	// The stored notifications reach their users' open sockets through the
	// change feed: an emitted event names them, once per action (its
	// idempotency key makes a retried run emit it once), after they are
	// stored, so a reader of the event finds them.
	_, err = x.e.st.Emit(ctx, store.EmitRequest{
		Name: NotificationEvent, ID: key, By: "rule:" + x.rule.Name, Cause: x.cause,
		Payload: map[string]any{"id": key, "users": users}, IdempotencyKey: "notify:" + key,
	})
	if err != nil {
		return "", fmt.Errorf("announce the notification: %w", err)
	}
	return fmt.Sprintf("notified %s", strings.Join(users, ", ")), nil
}

// NotificationEvent is the change-feed event of in-app notifications just
// stored: its id is the notifications' id (the key after "user/" of the
// store.KindNotification documents) and its payload {"id", "users"}. The
// prefix starts with "_", which no entity name may, so no record event
// and no plugin event can take its name.
const NotificationEvent = "_notification.created"

// NotificationReadEvent is the change-feed event of a user's notifications
// just marked read over the API, by that user (its By): payload {"user",
// "ids", "all"?}, all set for "mark all read". The hub tells the user's
// other sockets.
const NotificationReadEvent = "_notification.read"

// notifyUsers resolves notify's `to` into user ids, through Options.Users
// when it is set, each id once.
func (x *actionRun) notifyUsers(ctx context.Context, a *Action) ([]string, error) {
	targets, err := x.targets(a)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, t := range targets {
		ids := []string{t}
		if x.e.opts.Users != nil {
			if ids, err = x.e.opts.Users(ctx, t); err != nil {
				return nil, fmt.Errorf("to: %w", err)
			}
		}
		for _, id := range ids {
			if !slices.Contains(users, id) {
				users = append(users, id)
			}
		}
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("to: %v names no user", targets)
	}
	return users, nil
}

func (x *actionRun) targets(a *Action) ([]string, error) {
	p := a.Args["to"]
	if p == nil {
		return nil, errors.New("to: missing")
	}
	v, err := p.Eval(x.in)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, s := range t {
			str, ok := s.(string)
			if !ok {
				return nil, fmt.Errorf("to: expected strings, got %T", s)
			}
			out = append(out, str)
		}
		return out, nil
	case []string:
		return t, nil
	}
	return nil, fmt.Errorf("to: expected a user id, \"role:NAME\" or a list of them, got %T", v)
}

// webhook POSTs JSON, signed with HMAC-SHA256 when a secret is given. A
// delivery that succeeded is remembered under its idempotency key, so a
// retried run does not send it twice; the key also goes in a header for
// receivers that deduplicate themselves.
func (x *actionRun) webhook(ctx context.Context, a *Action, key string) (string, error) {
	var sent bool
	_ = x.e.st.SysView(ctx, func(tx store.SysTx) error {
		var at time.Time
		sent = tx.Get(store.KindEffect, key, &at) == nil
		return nil
	})
	if sent {
		return "", nil
	}
	url, err := x.strArg(a, "url")
	if err != nil {
		return "", err
	}
	secret, err := x.strArg(a, "secret")
	if err != nil {
		return "", err
	}
	body, err := x.webhookBody(ctx, a)
	if err != nil {
		return "", err
	}
	timeout := 10 * time.Second
	if p := a.Args["timeout"]; p != nil {
		v, err := p.Eval(x.in)
		if err != nil {
			return "", fmt.Errorf("timeout: %w", err)
		}
		if d, ok := v.(time.Duration); ok && d > 0 {
			timeout = d
		}
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "crm-webhook/1")
	req.Header.Set("X-CRM-Event", x.sub.fullEvent())
	req.Header.Set("X-CRM-Idempotency-Key", key)
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req.Header.Set("X-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	if err := x.addHeaders(a, req); err != nil {
		return "", err
	}
	res, err := x.e.opts.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", url, err)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return "", fmt.Errorf("POST %s: answered %s", url, res.Status)
	}
	if err := x.e.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindEffect, key, x.e.now().UTC()) }); err != nil {
		return "", err
	}
	return fmt.Sprintf("POST %s: %d", url, res.StatusCode), nil
}

func (x *actionRun) addHeaders(a *Action, req *http.Request) error {
	p := a.Args["headers"]
	if p == nil {
		return nil
	}
	v, err := p.Eval(x.in)
	if err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("headers: expected a map of strings, got %T", v)
	}
	for k, hv := range m {
		req.Header.Set(k, fmt.Sprint(hv))
	}
	return nil
}

// webhookBody is the `body` argument, or by default the event and the
// record in API form.
func (x *actionRun) webhookBody(ctx context.Context, a *Action) ([]byte, error) {
	if p := a.Args["body"]; p != nil {
		v, err := p.Eval(x.in)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		return json.Marshal(v)
	}
	var rec any = x.in.Record.Values // an emitted event's payload
	if ent := x.e.sch.Entity(x.sub.after.Entity); ent != nil {
		rec = store.APIForm(ctx, x.e.st, ent, x.in.Record)
	}
	return json.Marshal(map[string]any{
		"rule": x.rule.Name, "event": x.sub.fullEvent(), "seq": x.sub.seq,
		"at": x.sub.at, "by": x.sub.by, "changes": x.sub.changes, "record": rec,
	})
}

// plugin calls a plugin's action on the rule's record. The plugin gets
// the effect's idempotency key, so a retried run does not make it act twice.
func (x *actionRun) plugin(ctx context.Context, a *Action, key string) (string, error) {
	if x.e.opts.Plugins == nil {
		return "", fmt.Errorf("%s.%s: no plugin host is running", a.Plugin, a.PluginAction)
	}
	args, err := a.Eval(x.in)
	if err != nil {
		return "", err
	}
	res, err := x.e.opts.Plugins(ctx, a.Plugin, a.PluginAction, args, x.sub.after.Entity, x.sub.after.ID, key, x.cause)
	if err != nil {
		return "", fmt.Errorf("%s.%s: %w", a.Plugin, a.PluginAction, err)
	}
	out, _ := json.Marshal(res)
	const max = 200
	if len(out) > max {
		out = append(out[:max], "..."...)
	}
	return fmt.Sprintf("%s.%s: %s", a.Plugin, a.PluginAction, out), nil
}
