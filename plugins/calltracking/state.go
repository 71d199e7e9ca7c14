package calltracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// callState is a phone_call record's fields. Merging an event into it is
// commutative and idempotent (earliest start and answer, latest end,
// longest duration, first number seen), so that repeated and reordered
// events converge to the same state.
type callState struct {
	ID           string     `json:"id,omitempty"`
	Version      int64      `json:"version,omitempty"`
	CallID       string     `json:"call_id"`
	Direction    string     `json:"direction"`
	Number       string     `json:"number"`
	Line         string     `json:"line"`
	Extension    string     `json:"extension"`
	Status       string     `json:"status"`
	StartedAt    *time.Time `json:"started_at"`
	AnsweredAt   *time.Time `json:"answered_at"`
	EndedAt      *time.Time `json:"ended_at"`
	Duration     int64      `json:"duration"`
	RecordingURL string     `json:"recording_url"`
	Campaign     string     `json:"campaign"`
	Contact      string     `json:"contact"`
	Company      string     `json:"company"`
	Activity     string     `json:"activity"`
	Lead         bool       `json:"lead"`
	Returned     bool       `json:"returned"`
	ReturnedBy   string     `json:"returned_by"`
	Card         *Card      `json:"card"`
	// Unanswered is true once the call is known unanswered: an explicit
	// missed or no-answer status came, or it ended with no answer seen
	// and none came within the settle delay after (MissedDue).
	Unanswered bool `json:"unanswered"`
	// MissedDue is when an ended call with no answer seen is decided
	// missed, unless an answer comes first; nil when nothing is pending.
	MissedDue *time.Time `json:"missed_due"`
}

// merge folds ev into s.
func (s *callState) merge(ev Event, cfg settings) {
	s.CallID = ev.CallID
	if s.Direction == "" {
		s.Direction = ev.Direction
	}
	number, line := ev.From, ev.To
	if ev.Direction == DirectionOutbound {
		number, line = ev.To, ev.From
	}
	if s.Number == "" {
		s.Number = numberOrRaw(number, cfg.region)
	}
	if s.Line == "" {
		s.Line = numberOrRaw(line, cfg.region)
	}
	if s.Extension == "" {
		s.Extension = ev.Extension
	}
	if s.RecordingURL == "" {
		s.RecordingURL = ev.RecordingURL
	}
	at := ev.At.UTC().Truncate(time.Second)
	s.StartedAt = earliest(s.StartedAt, at)
	switch ev.Kind {
	case EventAnswered:
		s.AnsweredAt = earliest(s.AnsweredAt, at)
	case EventEnded, EventMissed:
		if s.EndedAt == nil || at.After(*s.EndedAt) {
			s.EndedAt = &at
		}
		if ev.Kind == EventMissed {
			s.Unanswered = true
		}
		if ev.Answered && s.AnsweredAt == nil {
			s.AnsweredAt = earliest(s.AnsweredAt, at.Add(-time.Duration(ev.Duration)*time.Second))
		}
	}
	if ev.Duration > s.Duration {
		s.Duration = ev.Duration
	}
	if s.Duration == 0 && s.AnsweredAt != nil && s.EndedAt != nil && s.EndedAt.After(*s.AnsweredAt) {
		s.Duration = int64(s.EndedAt.Sub(*s.AnsweredAt) / time.Second)
	}
	if s.Campaign == "" && s.Direction == DirectionInbound {
		s.Campaign = cfg.campaignOf[s.Line]
	}
}

// answered reports whether the call is known answered.
func (s *callState) answered() bool { return s.AnsweredAt != nil || s.Duration > 0 }

// settle brings the status up to date with what is known at now: an
// ended call is completed when answered and missed when known unanswered;
// one that ended with neither known waits, as "ended", until settle after
// its end came (MissedDue), and is decided missed when that has passed
// with still no answer. The decision is part of the state, so it is made
// once, whatever comes later and across restarts.
func (s *callState) settle(now time.Time, settle time.Duration) {
	answered := s.answered()
	if s.EndedAt != nil && !answered && !s.Unanswered {
		if s.MissedDue == nil {
			due := now.UTC().Truncate(time.Second).Add(settle)
			s.MissedDue = &due
		}
		if !now.Before(*s.MissedDue) {
			s.Unanswered = true
		}
	}
	if answered || s.Unanswered {
		s.MissedDue = nil
	}
	switch {
	case s.EndedAt != nil && answered:
		s.Status = StatusCompleted
	case s.EndedAt != nil && s.Unanswered:
		s.Status = StatusMissed
	case s.EndedAt != nil:
		s.Status = StatusEnded
	case answered:
		s.Status = StatusInProgress
	default:
		s.Status = StatusRinging
	}
}

func earliest(t *time.Time, at time.Time) *time.Time {
	if t == nil || at.Before(*t) {
		return &at
	}
	return t
}

// numberOrRaw is n in E.164, or as sent when it is none ("anonymous").
func numberOrRaw(n, region string) string {
	if e164, ok := normalize(n, region); ok {
		return e164
	}
	return strings.TrimSpace(n)
}

func isE164(n string) bool { return strings.HasPrefix(n, "+") && len(n) > 1 }

// values is the state as record values to write.
func (s *callState) values() map[string]any {
	v := map[string]any{
		"call_id": s.CallID, "direction": s.Direction, "status": s.Status,
		"number": nilIfEmpty(s.Number), "line": nilIfEmpty(s.Line), "extension": nilIfEmpty(s.Extension),
		"started_at": timeValue(s.StartedAt), "answered_at": timeValue(s.AnsweredAt), "ended_at": timeValue(s.EndedAt),
		"duration": s.Duration, "recording_url": nilIfEmpty(s.RecordingURL), "campaign": nilIfEmpty(s.Campaign),
		"contact": nilIfEmpty(s.Contact), "company": nilIfEmpty(s.Company), "activity": nilIfEmpty(s.Activity),
		"lead": s.Lead, "returned": s.Returned, "returned_by": nilIfEmpty(s.ReturnedBy), "card": cardValue(s.Card),
		"unanswered": s.Unanswered, "missed_due": timeValue(s.MissedDue),
	}
	return v
}

// same reports whether s and o hold the same fields.
func (s *callState) same(o *callState) bool {
	a, b := *s, *o
	a.ID, a.Version, b.ID, b.Version = "", 0, "", 0
	return a.CallID == b.CallID && a.Direction == b.Direction && a.Number == b.Number && a.Line == b.Line &&
		a.Extension == b.Extension && a.Status == b.Status && sameTime(a.StartedAt, b.StartedAt) &&
		sameTime(a.AnsweredAt, b.AnsweredAt) && sameTime(a.EndedAt, b.EndedAt) && a.Duration == b.Duration &&
		a.RecordingURL == b.RecordingURL && a.Campaign == b.Campaign && a.Contact == b.Contact &&
		a.Company == b.Company && a.Activity == b.Activity && a.Lead == b.Lead && a.Returned == b.Returned &&
		a.ReturnedBy == b.ReturnedBy && sameCard(a.Card, b.Card) && a.Unanswered == b.Unanswered && sameTime(a.MissedDue, b.MissedDue)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// cardValue is a card as the card field's value: nil for none.
func cardValue(c *Card) any {
	if c == nil {
		return nil
	}
	return c
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// maxAttempts bounds the retries of a write that lost a race.
const maxAttempts = 5

// apply merges ev into its call's state and brings what follows from the
// state up to date (see update).
func (p *Plugin) apply(ctx context.Context, cfg settings, ev Event) (*callState, error) {
	return p.update(ctx, cfg, ev.CallID, func(st *callState, now time.Time) {
		st.merge(ev, cfg)
		st.settle(now, cfg.settle)
	})
}

// decideMissed decides a call whose end came with no answer, once its
// settle delay has passed with still none: it becomes missed, and
// call.missed goes out. A call answered or decided since is left as it is.
func (p *Plugin) decideMissed(ctx context.Context, cfg settings, callID string) (*callState, error) {
	return p.update(ctx, cfg, callID, func(st *callState, now time.Time) {
		st.settle(now, cfg.settle)
	})
}

// update changes a call's state with change and brings what follows from
// the state up to date: the caller's contact (or a lead), the activity,
// the call.missed event, the missed calls an answered call back returns.
// Each of those is idempotent, and the call's record is written last, so
// a repeat of an event after a crash redoes what was left undone. A call
// with no record yet gets one only from an event (decideMissed of an
// unknown call does nothing).
func (p *Plugin) update(ctx context.Context, cfg settings, callID string, change func(st *callState, now time.Time)) (*callState, error) {
	defer p.calls.lock(callID)()
	host := sdk.HostFrom(ctx)
	for range maxAttempts {
		old, err := p.load(ctx, callID)
		if err != nil {
			return nil, err
		}
		st := &callState{}
		if old != nil {
			*st = *old
		}
		change(st, time.Now())
		if st.CallID == "" {
			return nil, nil
		}
		if err := p.match(ctx, cfg, st); err != nil {
			return nil, err
		}
		if st.Card == nil && old == nil {
			// Made at the call's first event, before its own activity.
			if st.Card, err = callerCard(ctx, st); err != nil {
				return nil, err
			}
		}
		if err := p.syncActivity(ctx, st); err != nil {
			return nil, err
		}
		if st.Status == StatusMissed && st.Direction == DirectionInbound {
			if err := p.emitMissed(ctx, st); err != nil {
				return nil, err
			}
		}
		if st.Direction == DirectionOutbound && st.AnsweredAt != nil && isE164(st.Number) {
			if err := p.markReturned(ctx, cfg, st); err != nil {
				return nil, err
			}
		}
		if old != nil && old.same(st) {
			return st, nil
		}
		var rec sdk.Record
		if old == nil {
			var created bool
			rec, created, err = host.CreateUnless(ctx, CallEntity, sdk.Eq("call_id", callID), st.values())
			if err == nil && !created {
				continue // another process wrote it first: merge into that
			}
		} else {
			rec, err = host.Update(ctx, CallEntity, old.ID, st.values(), sdk.IfVersion(old.Version))
		}
		if errors.Is(err, sdk.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("call %s: write its state: %w", callID, err)
		}
		st.ID = rec.ID()
		return st, nil
	}
	return nil, fmt.Errorf("call %s: its record kept changing", callID)
}

// sweepMissed decides every pending call whose settle delay has passed.
func (p *Plugin) sweepMissed(ctx context.Context, cfg settings) error {
	now := time.Now()
	var due []string
	err := sdk.Each(ctx, sdk.Query{Entity: CallEntity, Filter: sdk.Eq("status", StatusEnded), Limit: 200}, func(r sdk.Record) error {
		var st callState
		if err := r.Decode(&st); err != nil {
			return fmt.Errorf("decode call %s: %w", r.ID(), err)
		}
		if st.MissedDue == nil || !now.Before(*st.MissedDue) {
			due = append(due, st.CallID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("find the calls ended unanswered: %w", err)
	}
	for _, id := range due {
		if _, err := p.decideMissed(ctx, cfg, id); err != nil {
			return err
		}
	}
	return nil
}

// load reads a call's state; nil when it has none yet.
func (p *Plugin) load(ctx context.Context, callID string) (*callState, error) {
	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: CallEntity, Filter: sdk.Eq("call_id", callID), Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("call %s: read its state: %w", callID, err)
	}
	if len(page.Items) == 0 {
		return nil, nil
	}
	var st callState
	if err := page.Items[0].Decode(&st); err != nil {
		return nil, fmt.Errorf("call %s: decode its state: %w", callID, err)
	}
	st.ID, st.Version = page.Items[0].ID(), page.Items[0].Version()
	return &st, nil
}

// match finds the call's contact or company by the other party's number,
// or makes a lead of an unknown inbound caller.
func (p *Plugin) match(ctx context.Context, cfg settings, st *callState) error {
	if st.Contact != "" || st.Company != "" || !isE164(st.Number) {
		return nil
	}
	host := sdk.HostFrom(ctx)
	page, err := host.List(ctx, sdk.Query{Entity: "contact", Filter: sdk.Eq("phone", st.Number), Limit: 1})
	if err != nil {
		return fmt.Errorf("call %s: find the contact of %s: %w", st.CallID, st.Number, err)
	}
	if len(page.Items) > 0 {
		st.Contact = page.Items[0].ID()
		st.Company = page.Items[0].String("company")
		return nil
	}
	page, err = host.List(ctx, sdk.Query{Entity: "company", Filter: sdk.Eq("phone", st.Number), Limit: 1})
	if err != nil {
		return fmt.Errorf("call %s: find the company of %s: %w", st.CallID, st.Number, err)
	}
	if len(page.Items) > 0 {
		st.Company = page.Items[0].ID()
		return nil
	}
	if !cfg.createLeads || st.Direction != DirectionInbound {
		return nil
	}
	source := st.Campaign
	if source == "" {
		source = cfg.leadSource
	}
	lead, created, err := host.CreateUnless(ctx, "contact", sdk.Eq("phone", st.Number),
		map[string]any{"name": "Caller " + st.Number, "phone": st.Number, "source": source})
	if err != nil {
		return fmt.Errorf("call %s: make a lead of %s: %w", st.CallID, st.Number, err)
	}
	st.Contact, st.Lead = lead.ID(), created
	if created {
		host.Log(ctx, slog.LevelInfo, "lead from a call", "call", st.CallID, "contact", lead.ID(), "source", source)
	}
	return nil
}

// activityValues is the call's activity on the timeline.
func (st *callState) activityValues() map[string]any {
	var subject string
	switch {
	case st.Number == "" && st.Direction == DirectionInbound:
		subject = "Call from an unknown number"
	case st.Direction == DirectionOutbound:
		subject = "Outgoing call to " + st.Number
	case st.Status == StatusMissed:
		subject = "Missed call from " + st.Number
	default:
		subject = "Incoming call from " + st.Number
	}
	var body strings.Builder
	fmt.Fprintf(&body, "Direction: %s\nStatus: %s\n", st.Direction, st.Status)
	if st.Duration > 0 {
		fmt.Fprintf(&body, "Duration: %s\n", time.Duration(st.Duration)*time.Second)
	}
	if st.Line != "" {
		fmt.Fprintf(&body, "Line: %s\n", st.Line)
	}
	if st.Extension != "" {
		fmt.Fprintf(&body, "Extension: %s\n", st.Extension)
	}
	if st.Campaign != "" {
		fmt.Fprintf(&body, "Campaign: %s\n", st.Campaign)
	}
	if st.RecordingURL != "" {
		fmt.Fprintf(&body, "Recording: %s\n", st.RecordingURL)
	}
	fmt.Fprintf(&body, "Call id: %s", st.CallID)
	return map[string]any{
		"kind": "call", "subject": subject, "body": body.String(), "status": st.Status,
		"contact": nilIfEmpty(st.Contact), "company": nilIfEmpty(st.Company), "at": timeValue(st.StartedAt),
	}
}

// syncActivity creates the call's activity, or updates it to the state.
func (p *Plugin) syncActivity(ctx context.Context, st *callState) error {
	host := sdk.HostFrom(ctx)
	want := st.activityValues()
	if st.Activity == "" {
		if st.Contact != "" {
			if c, err := host.Get(ctx, "contact", st.Contact); err == nil && c.String("owner") != "" {
				want["owner"] = c.String("owner")
			}
		}
		rec, err := host.Create(ctx, "activity", want, sdk.IdempotencyKey("calltracking:activity:"+st.CallID))
		if err != nil {
			return fmt.Errorf("call %s: create its activity: %w", st.CallID, err)
		}
		st.Activity = rec.ID()
		if !activityIs(rec, want) {
			// A repeat after a crash answered the first write's record.
			return p.updateActivity(ctx, st, rec, want)
		}
		return nil
	}
	rec, err := host.Get(ctx, "activity", st.Activity)
	if errors.Is(err, sdk.ErrNotFound) {
		return nil // deleted by a user: leave it so
	}
	if err != nil {
		return fmt.Errorf("call %s: read its activity: %w", st.CallID, err)
	}
	if activityIs(rec, want) {
		return nil
	}
	return p.updateActivity(ctx, st, rec, want)
}

func (p *Plugin) updateActivity(ctx context.Context, st *callState, rec sdk.Record, want map[string]any) error {
	delete(want, "owner")
	if _, err := sdk.HostFrom(ctx).Update(ctx, "activity", rec.ID(), want); err != nil {
		return fmt.Errorf("call %s: update its activity: %w", st.CallID, err)
	}
	return nil
}

// activityIs reports whether rec holds want's values.
func activityIs(rec sdk.Record, want map[string]any) bool {
	for k, v := range want {
		if k == "owner" {
			continue
		}
		got := rec[k]
		if k == "at" && v != nil && got != nil {
			a, err1 := time.Parse(time.RFC3339, fmt.Sprint(v))
			b, err2 := time.Parse(time.RFC3339, fmt.Sprint(got))
			if err1 == nil && err2 == nil && a.Equal(b) {
				continue
			}
			return false
		}
		if v == nil {
			if got != nil && got != "" {
				return false
			}
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			return false
		}
	}
	return true
}

// emitMissed emits call.missed about the caller's contact, once per call.
func (p *Plugin) emitMissed(ctx context.Context, st *callState) error {
	host := sdk.HostFrom(ctx)
	if st.Contact == "" {
		host.Log(ctx, slog.LevelInfo, "missed call of no contact: no call.missed", "call", st.CallID, "number", st.Number)
		return nil
	}
	payload := map[string]any{"call_id": st.CallID, "from": st.Number, "at": timeValue(st.StartedAt),
		"to": nilIfEmpty(st.Line), "extension": nilIfEmpty(st.Extension), "campaign": nilIfEmpty(st.Campaign),
		"activity": nilIfEmpty(st.Activity)}
	err := host.Emit(ctx, MissedEvent, payload, sdk.About("contact", st.Contact),
		sdk.IdempotencyKey("calltracking:missed:"+st.CallID))
	if err != nil {
		return fmt.Errorf("call %s: emit %s: %w", st.CallID, MissedEvent, err)
	}
	return nil
}

// markReturned marks returned the missed inbound calls from the number an
// answered outgoing call st went to within the SLA before it.
func (p *Plugin) markReturned(ctx context.Context, cfg settings, st *callState) error {
	host := sdk.HostFrom(ctx)
	page, err := host.List(ctx, sdk.Query{Entity: CallEntity, Limit: 100,
		Filter: sdk.And(sdk.Eq("number", st.Number), sdk.Eq("status", StatusMissed), sdk.Eq("returned", false))})
	if err != nil {
		return fmt.Errorf("call %s: find the missed calls of %s: %w", st.CallID, st.Number, err)
	}
	for _, rec := range page.Items {
		var m callState
		if err := rec.Decode(&m); err != nil {
			return fmt.Errorf("call %s: decode missed call %s: %w", st.CallID, rec.ID(), err)
		}
		if m.Direction != DirectionInbound || m.StartedAt == nil || m.StartedAt.After(*st.AnsweredAt) ||
			st.AnsweredAt.Sub(*m.StartedAt) > cfg.sla {
			continue
		}
		_, err := host.Update(ctx, CallEntity, rec.ID(), map[string]any{"returned": true, "returned_by": st.CallID},
			sdk.IfVersion(rec.Version()))
		if err != nil && !errors.Is(err, sdk.ErrConflict) {
			return fmt.Errorf("call %s: mark missed call %s returned: %w", st.CallID, m.CallID, err)
		}
	}
	return nil
}
