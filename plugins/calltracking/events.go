package calltracking

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crmkit/crm/plugins/sdk"
)

// The kinds of call event, in the generic format's "event" field.
const (
	EventRinging  = "ringing"
	EventAnswered = "answered"
	EventEnded    = "ended"
	EventMissed   = "missed"
)

// Directions of a call, as the call's "direction" field holds them.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// CodeBadEvent is the code of the refusal of a webhook body that is not a
// call event of its format; it is answered 400.
const CodeBadEvent = "bad_event"

// Limits on what an event may carry; longer values are refused.
const (
	maxIDBytes     = 200
	maxNumberBytes = 64
	maxURLBytes    = 2048
	maxDuration    = 7 * 24 * 3600 // seconds: a week
)

// Event is one call event, whatever format it came in: what happened to
// the call CallID at At.
type Event struct {
	CallID    string
	Kind      string // EventRinging, EventAnswered, EventEnded or EventMissed
	Direction string // DirectionInbound or DirectionOutbound
	From, To  string // as the PBX sent them; normalised later
	Extension string
	At        time.Time
	// Duration is the talk time in seconds an ended event reports (0 when
	// it reports none).
	Duration     int64
	RecordingURL string
	// Answered is true for an end that says the call was answered
	// (Twilio's "completed") even when no answered event comes.
	Answered bool
}

// GenericEvent is the generic format's JSON body (docs/calltracking.md).
type GenericEvent struct {
	CallID       string          `json:"call_id"`
	Event        string          `json:"event"`
	Direction    string          `json:"direction"`
	From         string          `json:"from"`
	To           string          `json:"to"`
	Extension    string          `json:"extension"`
	At           string          `json:"at"`
	Duration     json.RawMessage `json:"duration"`
	RecordingURL string          `json:"recording_url"`
}

// ParseGeneric reads a generic call event: {"call_id", "event", "from",
// "to", "at", "direction"?, "extension"?, "duration"?, "recording_url"?}.
func ParseGeneric(body []byte) (Event, error) {
	var g GenericEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return Event{}, badEvent("", "the body is not a generic call event (a JSON object with call_id, event, from, to, at): "+err.Error())
	}
	if dec.More() {
		return Event{}, badEvent("", "the body has more than one JSON value")
	}
	ev := Event{CallID: g.CallID, Kind: g.Event, Direction: g.Direction, From: g.From, To: g.To,
		Extension: g.Extension, RecordingURL: g.RecordingURL}
	switch g.Event {
	case EventRinging, EventAnswered, EventEnded, EventMissed:
	case "":
		return Event{}, badEvent("event", "event is missing; expected ringing, answered, ended or missed")
	default:
		return Event{}, badEvent("event", fmt.Sprintf("event %q is not ringing, answered, ended or missed", clip(g.Event)))
	}
	if ev.Direction == "" {
		ev.Direction = DirectionInbound
	}
	if g.At == "" {
		return Event{}, badEvent("at", "at is missing; expected an RFC 3339 time like \"2026-03-21T10:15:00Z\"")
	}
	at, err := time.Parse(time.RFC3339, g.At)
	if err != nil {
		return Event{}, badEvent("at", fmt.Sprintf("at %q is not an RFC 3339 time like \"2026-03-21T10:15:00Z\"", clip(g.At)))
	}
	ev.At = at
	if len(g.Duration) > 0 && string(g.Duration) != "null" {
		var d float64
		if err := json.Unmarshal(g.Duration, &d); err != nil {
			return Event{}, badEvent("duration", "duration must be a number of seconds")
		}
		if d < 0 || d > maxDuration {
			return Event{}, badEvent("duration", fmt.Sprintf("duration %v is not between 0 and %d seconds", d, maxDuration))
		}
		ev.Duration = int64(d)
	}
	return ev, ev.check()
}

// AsteriskEvent is what the Asterisk adapter accepts: an ARI event object
// as Asterisk sends it on its events websocket (StasisStart,
// ChannelStateChange, ChannelHangupRequest, ChannelDestroyed; see
// docs/calltracking.md), posted by a bridge as it is, with optional
// fields the bridge may add beside ARI's.
type AsteriskEvent struct {
	Type      string      `json:"type"`
	Timestamp string      `json:"timestamp"`
	Channel   *ariChannel `json:"channel"`
	// Cause is ChannelDestroyed's Q.850 hangup cause.
	Cause int `json:"cause"`
	// Direction, Extension and RecordingURL are the bridge's additions:
	// ARI's events do not say them.
	Direction    string `json:"direction"`
	Extension    string `json:"extension"`
	RecordingURL string `json:"recording_url"`
}

type ariChannel struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	State     string `json:"state"`
	Caller    ariID  `json:"caller"`
	Connected ariID  `json:"connected"`
	Dialplan  struct {
		Exten string `json:"exten"`
	} `json:"dialplan"`
	CreationTime string `json:"creationtime"`
}

type ariID struct {
	Name   string `json:"name"`
	Number string `json:"number"`
}

// ariTime parses ARI's timestamps: "2026-03-21T10:15:00.123+0400", or RFC 3339.
func ariTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ARI timestamp like \"2026-03-21T10:15:00.000+0400\"", clip(s))
}

// ParseAsterisk reads an ARI event posted by a bridge. ok is false for an
// event type that says nothing about a call's progress (the bridge may
// post every event; those are accepted and ignored).
func ParseAsterisk(body []byte) (ev Event, ok bool, err error) {
	var a AsteriskEvent
	if err := json.Unmarshal(body, &a); err != nil {
		return Event{}, false, badEvent("", "the body is not an ARI event (a JSON object with type, timestamp, channel): "+err.Error())
	}
	switch a.Type {
	case "StasisStart", "ChannelStateChange", "ChannelDestroyed", "ChannelHangupRequest":
	case "":
		return Event{}, false, badEvent("type", "type is missing; expected an ARI event type such as ChannelStateChange")
	default:
		return Event{}, false, nil
	}
	if a.Channel == nil {
		return Event{}, false, badEvent("channel", a.Type+" has no channel")
	}
	at, err := ariTime(a.Timestamp)
	if err != nil {
		return Event{}, false, badEvent("timestamp", "timestamp: "+err.Error())
	}
	ch := a.Channel
	ev = Event{CallID: ch.ID, At: at, Direction: a.Direction, Extension: a.Extension, RecordingURL: a.RecordingURL}
	if ev.Direction == "" {
		ev.Direction = DirectionInbound
	}
	switch ev.Direction {
	case DirectionInbound:
		// The caller rang the number the dialplan was entered with.
		ev.From, ev.To = ch.Caller.Number, ch.Dialplan.Exten
	case DirectionOutbound:
		// Our extension (the caller id) dialled the connected party.
		ev.From, ev.To = ch.Caller.Number, ch.Connected.Number
		if ev.To == "" {
			ev.To = ch.Dialplan.Exten
		}
	}
	switch a.Type {
	case "StasisStart":
		ev.Kind = EventRinging
		if ch.State == "Up" {
			ev.Kind = EventAnswered
		}
	case "ChannelStateChange":
		switch ch.State {
		case "Up":
			ev.Kind = EventAnswered
		case "Ring", "Ringing":
			ev.Kind = EventRinging
		default:
			return Event{}, false, nil // Down, Busy, Dialing...: the end comes as ChannelDestroyed
		}
	case "ChannelHangupRequest":
		return Event{}, false, nil
	case "ChannelDestroyed":
		// A channel destroyed Up was answered, whether or not its Up
		// came before; one destroyed in any other state (Ring, Ringing,
		// Down, Busy) never was: the state says so, as Twilio's
		// no-answer does.
		ev.Kind, ev.Answered = EventEnded, ch.State == "Up"
		if !ev.Answered {
			ev.Kind = EventMissed
		}
	}
	return ev, true, ev.check()
}

// ParseTwilio reads a Twilio Voice status callback: the form-encoded
// parameters Twilio posts to a call's StatusCallback URL (CallSid, From,
// To, CallStatus, Direction, Timestamp, CallDuration, RecordingUrl), as
// documented at https://www.twilio.com/docs/voice/api/call-resource#statuscallback
// and https://www.twilio.com/docs/usage/webhooks/voice-webhooks. ok is
// false for a status that says nothing new (queued, initiated).
func ParseTwilio(body []byte) (ev Event, ok bool, err error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return Event{}, false, badEvent("", "the body is not form-encoded: "+err.Error())
	}
	ev = Event{CallID: form.Get("CallSid"), From: form.Get("From"), To: form.Get("To"),
		RecordingURL: form.Get("RecordingUrl"), Direction: DirectionInbound}
	if strings.HasPrefix(form.Get("Direction"), "outbound") {
		ev.Direction = DirectionOutbound
	}
	switch status := form.Get("CallStatus"); status {
	case "queued", "initiated":
		return Event{}, false, nil
	case "ringing":
		ev.Kind = EventRinging
	case "in-progress":
		ev.Kind = EventAnswered
	case "completed":
		ev.Kind, ev.Answered = EventEnded, true
	case "busy", "no-answer", "failed", "canceled":
		ev.Kind = EventMissed
	case "":
		return Event{}, false, badEvent("CallStatus", "CallStatus is missing")
	default:
		return Event{}, false, badEvent("CallStatus", fmt.Sprintf("CallStatus %q is not a Twilio call status", clip(status)))
	}
	if ts := form.Get("Timestamp"); ts != "" {
		at, err := time.Parse(time.RFC1123Z, ts)
		if err != nil {
			return Event{}, false, badEvent("Timestamp", fmt.Sprintf("Timestamp %q is not like \"Mon, 16 Aug 2010 03:45:01 +0000\"", clip(ts)))
		}
		ev.At = at
	} else {
		return Event{}, false, badEvent("Timestamp", "Timestamp is missing (Twilio sends it on every status callback)")
	}
	if d := form.Get("CallDuration"); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 || n > maxDuration {
			return Event{}, false, badEvent("CallDuration", fmt.Sprintf("CallDuration %q is not a number of seconds", clip(d)))
		}
		ev.Duration = n
	}
	return ev, true, ev.check()
}

// check checks what every format must give.
func (ev Event) check() error {
	switch {
	case ev.CallID == "":
		return badEvent("call_id", "the event names no call (call_id, channel.id or CallSid)")
	case len(ev.CallID) > maxIDBytes || !utf8.ValidString(ev.CallID):
		return badEvent("call_id", fmt.Sprintf("the call id is not text of at most %d bytes", maxIDBytes))
	case ev.Direction != DirectionInbound && ev.Direction != DirectionOutbound:
		return badEvent("direction", fmt.Sprintf("direction %q is not inbound or outbound", clip(ev.Direction)))
	case ev.From == "" && ev.To == "":
		return badEvent("from", "the event has neither from nor to")
	case len(ev.From) > maxNumberBytes || len(ev.To) > maxNumberBytes || len(ev.Extension) > maxNumberBytes:
		return badEvent("from", fmt.Sprintf("a number or extension is longer than %d bytes", maxNumberBytes))
	case !utf8.ValidString(ev.From + ev.To + ev.Extension + ev.RecordingURL):
		return badEvent("from", "a number, extension or URL is not UTF-8 text")
	case ev.At.Year() < 2000 || ev.At.Year() > 2200:
		return badEvent("at", "the event's time is not between the years 2000 and 2200")
	}
	if ev.RecordingURL != "" {
		u, err := url.Parse(ev.RecordingURL)
		if len(ev.RecordingURL) > maxURLBytes || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badEvent("recording_url", "the recording URL is not an http(s) URL of at most 2048 bytes")
		}
	}
	return nil
}

func badEvent(field, msg string) error {
	if field == "" {
		return sdk.Refuse(CodeBadEvent, msg)
	}
	return sdk.RefuseField(field, CodeBadEvent, msg)
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
