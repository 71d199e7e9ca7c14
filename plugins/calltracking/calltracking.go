// Package calltracking is the first-party call tracking plugin: telephony
// events posted to its webhooks (a generic JSON format, Asterisk ARI events
// from a bridge, Twilio's Voice status callbacks) become CRM data. Each
// call is a phone_call record keyed by the PBX's call id and an activity
// of kind call on the caller's timeline; an unknown caller becomes a lead
// (a contact whose source is the campaign of the number called); a missed
// call emits call.missed for rules, and is marked returned when an
// outgoing call to the same number is answered within the SLA.
//
// It uses only the SDK, as a partner's plugin would; docs/calltracking.md
// is its manual.
package calltracking

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/crmkit/crm/plugins/sdk"
)

// Names the plugin declares.
const (
	// CallEntity is the entity of the plugin's per-call state: one record
	// per call id. (Not "call": the call.missed event's prefix must not
	// be an entity.)
	CallEntity = "phone_call"
	// MissedEvent is emitted when a call ends unanswered.
	MissedEvent = "call.missed"
)

// The formats, each a webhook route /hooks/calltracking/FORMAT.
const (
	FormatGeneric  = "generic"
	FormatAsterisk = "asterisk"
	FormatTwilio   = "twilio"
)

// Call statuses, on the phone_call and its activity.
const (
	StatusRinging    = "ringing"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusMissed     = "missed"
	// StatusEnded is a call that ended with no answer seen and no
	// explicit no-answer: it is decided missed once the settle delay has
	// passed with still no answer, or completed if one comes first.
	StatusEnded = "ended"
)

// DefaultSettle is how long after an end with no answer seen the plugin
// waits for an answer that came out of order before it decides the call
// missed.
const DefaultSettle = 30 * time.Second

// Settings is the plugin block's config.
type Settings struct {
	// Secret keys the X-Signature HMAC of generic and Asterisk requests.
	Secret string `json:"secret"`
	// CreateLeads: an unknown caller becomes a contact (default true).
	CreateLeads *bool `json:"create_leads"`
	// LeadSource is a lead's source when the number called is in no
	// campaign; "phone" when unset.
	LeadSource string `json:"lead_source"`
	// SLA is how long after a missed call an answered call back marks it
	// returned, a Go duration ("2h", the default).
	SLA string `json:"sla"`
	// Settle is how long after an end with no answer seen (a generic
	// "ended" without duration) the call waits for a late "answered"
	// before it is decided missed, a Go duration ("30s", the default).
	Settle string `json:"settle"`
	// Region reads national numbers; the locale's region when unset.
	Region string `json:"region"`
	// Campaigns maps a campaign name to its pool of tracking numbers.
	Campaigns map[string][]string `json:"campaigns"`
	// TwilioAuthToken and TwilioURL check X-Twilio-Signature: the
	// account's auth token and the status callback URL exactly as set in
	// Twilio. Without a token the twilio route answers 404.
	TwilioAuthToken string `json:"twilio_auth_token"`
	TwilioURL       string `json:"twilio_url"`
	// Extensions was the map of users' e-mails to extensions that
	// click_to_call rang; each user's extension is now on their profile,
	// and a config that still has it is refused with a message saying so.
	Extensions map[string]string `json:"extensions"`
	// Asterisk turns on click_to_call through ARI.
	Asterisk *AsteriskSettings `json:"asterisk"`
}

// settings are the checked Settings.
type settings struct {
	secret      string
	createLeads bool
	leadSource  string
	sla         time.Duration
	settle      time.Duration
	region      string
	campaignOf  map[string]string // E.164 tracking number -> campaign
	twilioToken string
	twilioURL   string
}

// Plugin is the call tracking plugin.
type Plugin struct {
	sdk.Base

	mu     sync.RWMutex
	cfg    settings
	dialer Dialer // nil: click_to_call is off
	// stopSweep stops the sweep of the last Configure.
	stopSweep context.CancelFunc

	calls keyedMutex // one event of a call at a time
}

// New returns the plugin, for the registry of first-party plugins.
func New() sdk.Plugin { return &Plugin{} }

// manifest declares the phone_call entity, the webhooks and call.missed,
// labelled in English (labels.go adds the other languages).
func manifest() sdk.Manifest {
	routes := make([]sdk.Webhook, 0, 3)
	for _, f := range []struct{ name, desc string }{
		{FormatGeneric, `A call event {"call_id", "event": "ringing|answered|ended|missed", "from", "to", "at", "direction"?, "extension"?, "duration"?, "recording_url"?}, signed with X-Signature: sha256=<hex HMAC-SHA256 of the body>.`},
		{FormatAsterisk, `An Asterisk ARI event (StasisStart, ChannelStateChange, ChannelDestroyed) posted by a bridge, signed with X-Signature.`},
		{FormatTwilio, `A Twilio Voice status callback (form-encoded), signed with X-Twilio-Signature.`},
	} {
		routes = append(routes, sdk.Webhook{Method: http.MethodPost, Path: "/" + f.name, Description: f.desc})
	}
	return sdk.Manifest{
		Name:        "calltracking",
		Version:     "0.1.0",
		Description: "Telephony events -> calls on the timeline, leads from unknown callers, missed calls for rules, campaign attribution.",
		Entities: []sdk.Entity{{
			Name:  CallEntity,
			Label: "Phone call",
			Fields: []sdk.Field{
				{Name: "call_id", Label: "Call id", Type: sdk.TypeString, Required: true, Unique: true},
				{Name: "direction", Label: "Direction", Type: sdk.TypeEnum, Values: []string{DirectionInbound, DirectionOutbound}, Required: true, Index: true},
				{Name: "number", Label: "Number", Type: sdk.TypeString, Index: true},
				{Name: "line", Label: "Line", Type: sdk.TypeString, Index: true},
				{Name: "extension", Label: "Extension", Type: sdk.TypeString, Index: true},
				{Name: "status", Label: "Status", Type: sdk.TypeEnum, Values: []string{StatusRinging, StatusInProgress, StatusEnded, StatusCompleted, StatusMissed}, Required: true, Index: true},
				{Name: "started_at", Label: "Started", Type: sdk.TypeDateTime, Index: true},
				{Name: "answered_at", Label: "Answered", Type: sdk.TypeDateTime},
				{Name: "ended_at", Label: "Ended", Type: sdk.TypeDateTime},
				{Name: "duration", Label: "Duration (s)", Type: sdk.TypeInt},
				{Name: "recording_url", Label: "Recording", Type: sdk.TypeURL},
				{Name: "campaign", Label: "Campaign", Type: sdk.TypeString, Index: true},
				{Name: "contact", Label: "Contact", Type: sdk.TypeRef, To: "contact", Index: true},
				{Name: "company", Label: "Company", Type: sdk.TypeRef, To: "company"},
				{Name: "activity", Label: "Activity", Type: sdk.TypeRef, To: "activity"},
				{Name: "lead", Label: "Made a lead", Type: sdk.TypeBool},
				{Name: "returned", Label: "Returned", Type: sdk.TypeBool, Index: true},
				{Name: "returned_by", Label: "Returned by", Type: sdk.TypeString},
				{Name: "card", Label: "Caller", Type: sdk.TypeObject},
				{Name: "unanswered", Label: "Not answered", Type: sdk.TypeBool},
				{Name: "missed_due", Label: "Missed unless answered by", Type: sdk.TypeDateTime},
			},
		}, {
			Name:  CampaignEntity,
			Label: "Ad campaign",
			Fields: []sdk.Field{
				{Name: "name", Label: "Name", Type: sdk.TypeString, Required: true, Unique: true},
				{Name: "cost", Label: "Ad cost", Type: sdk.TypeMoney},
				{Name: "notes", Label: "Notes", Type: sdk.TypeText},
			},
		}},
		Webhooks: routes,
		Actions: []sdk.Action{{
			Name: ActionClickToCall, Entities: []string{"contact"},
			Description: "Ring the calling user's extension and, when it answers, dial the contact (the Asterisk adapter).",
			Args:        []sdk.Arg{{Name: "number", Type: sdk.TypePhone, Description: "The number to call; the contact's phone when left out."}},
		}, {
			Name:        ActionAttributionReport,
			Description: "By campaign: calls, missed, leads, deals, won, revenue, ad cost, cost per lead, return on ad spend.",
		}, {
			Name:        ActionSLAReport,
			Description: "The missed inbound calls not returned, the ones past the SLA first.",
		}},
		// The reports are buttons on the campaigns' and the calls' lists;
		// their answers are sdk.Tables the action dialog shows.
		UIActions: []sdk.UIAction{
			{Entity: "contact", Action: ActionClickToCall, Label: "Call"},
			{Entity: CampaignEntity, Action: ActionAttributionReport, Label: "Attribution report", Scope: sdk.ScopeList},
			{Entity: CallEntity, Action: ActionSLAReport, Label: "Missed calls not returned", Scope: sdk.ScopeList},
		},
		// A new deal of a contact who called a campaign's number is
		// attributed to the campaign (its source), when the block lets
		// the plugin write deals.
		Subscriptions: []string{"deal.created"},
		Events: []sdk.EventSpec{{
			Name: MissedEvent, Subject: "contact",
			Description: "A call ended unanswered; the record is the caller's contact.",
			Payload: []sdk.Arg{
				{Name: "call_id", Type: sdk.TypeString, Required: true},
				{Name: "from", Type: sdk.TypeString, Required: true, Description: "The caller's number, E.164 when it reads as one."},
				{Name: "to", Type: sdk.TypeString, Description: "The number called."},
				{Name: "extension", Type: sdk.TypeString},
				{Name: "at", Type: sdk.TypeDateTime, Required: true},
				{Name: "campaign", Type: sdk.TypeString},
				{Name: "activity", Type: sdk.TypeRef, To: "activity"},
			},
		}},
	}
}

// Configure checks and keeps the settings.
func (p *Plugin) Configure(ctx context.Context, c sdk.Config) error {
	var s Settings
	if err := c.Decode(&s); err != nil {
		return sdk.Refuse(sdk.CodeInvalidConfig, "secret, lead_source, sla, region, twilio_* must be text, create_leads true or false, campaigns a map of lists of numbers: "+err.Error())
	}
	if s.Secret == "" {
		return sdk.RefuseField("secret", sdk.CodeInvalidConfig, "secret is required: it authenticates the PBX's requests (X-Signature)")
	}
	out := settings{secret: s.Secret, createLeads: s.CreateLeads == nil || *s.CreateLeads,
		leadSource: s.LeadSource, sla: 2 * time.Hour, settle: DefaultSettle, region: strings.ToUpper(s.Region),
		campaignOf: map[string]string{}, twilioToken: s.TwilioAuthToken, twilioURL: s.TwilioURL}
	if out.leadSource == "" {
		out.leadSource = "phone"
	}
	if s.SLA != "" {
		d, err := time.ParseDuration(s.SLA)
		if err != nil || d <= 0 {
			return sdk.RefuseField("sla", sdk.CodeInvalidConfig, fmt.Sprintf("sla %q is not a positive duration like \"2h\" or \"30m\"", s.SLA))
		}
		out.sla = d
	}
	if s.Settle != "" {
		d, err := time.ParseDuration(s.Settle)
		if err != nil || d <= 0 || d > 24*time.Hour {
			return sdk.RefuseField("settle", sdk.CodeInvalidConfig, fmt.Sprintf("settle %q is not a duration between 0 and 24h like \"30s\" or \"2m\"", s.Settle))
		}
		out.settle = d
	}
	if out.region == "" {
		out.region = c.Locale.Region
	}
	if out.region != "" && !phonenumbers.GetSupportedRegions()[out.region] {
		return sdk.RefuseField("region", sdk.CodeInvalidConfig, fmt.Sprintf("%q is not a region code such as \"AM\"", out.region))
	}
	names := make([]string, 0, len(s.Campaigns))
	for name := range s.Campaigns {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, n := range s.Campaigns[name] {
			e164, ok := normalize(n, out.region)
			if !ok {
				return sdk.RefuseField("campaigns."+name, sdk.CodeInvalidConfig, fmt.Sprintf("%q is not a phone number (in region %q)", n, out.region))
			}
			if other, dup := out.campaignOf[e164]; dup {
				return sdk.RefuseField("campaigns."+name, sdk.CodeInvalidConfig, fmt.Sprintf("%s is in the pools of both %s and %s", e164, other, name))
			}
			out.campaignOf[e164] = name
		}
	}
	if out.twilioToken != "" && !strings.HasPrefix(out.twilioURL, "https://") && !strings.HasPrefix(out.twilioURL, "http://") {
		return sdk.RefuseField("twilio_url", sdk.CodeInvalidConfig, "twilio_url must be the status callback URL set in Twilio, like https://crm.example.com/hooks/calltracking/twilio")
	}
	var dialer Dialer
	if s.Asterisk != nil {
		d, err := newAsteriskDialer(*s.Asterisk)
		if err != nil {
			return err
		}
		dialer = d
	}
	if len(s.Extensions) > 0 {
		return sdk.RefuseField("extensions", sdk.CodeInvalidConfig, "extensions is no longer read: click_to_call rings the extension on the calling user's profile (Your account, or Admin > Users); remove extensions from the calltracking plugin's config")
	}
	p.mu.Lock()
	p.cfg, p.dialer = out, dialer
	if p.stopSweep != nil {
		p.stopSweep()
	}
	sctx, cancel := context.WithCancel(sdk.WithHost(context.Background(), sdk.HostFrom(ctx)))
	p.stopSweep = cancel
	go p.sweep(sctx, out)
	p.mu.Unlock()
	return nil
}

// Invoke runs click_to_call and the reports.
func (p *Plugin) Invoke(ctx context.Context, call sdk.Call) (any, error) {
	switch call.Action {
	case ActionClickToCall:
		return p.clickToCall(ctx, call)
	case ActionAttributionReport:
		return p.attributionReport(ctx)
	case ActionSLAReport:
		return p.slaReport(ctx, time.Now())
	}
	return p.Base.Invoke(ctx, call)
}

func (p *Plugin) settings() settings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cfg
}

// sweep decides, shortly after start and then every fraction of the
// settle delay, the calls that ended unanswered and whose delay has
// passed (those of a previous process too), until ctx ends (the next
// Configure, or the process's end).
func (p *Plugin) sweep(ctx context.Context, cfg settings) {
	every := min(max(cfg.settle/4, 100*time.Millisecond), 15*time.Second)
	wait := time.NewTimer(min(every, time.Second))
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		if err := p.sweepMissed(rctx, cfg); err != nil && ctx.Err() == nil {
			sdk.HostFrom(ctx).Log(rctx, slog.LevelWarn, "deciding the calls ended unanswered failed; it runs again at the next tick", slog.String("err", err.Error()))
		}
		cancel()
		wait.Reset(every)
	}
}

// HandleWebhook authenticates, parses and applies one call event.
func (p *Plugin) HandleWebhook(ctx context.Context, req sdk.Request) (sdk.Response, error) {
	cfg := p.settings()
	var (
		ev  Event
		ok  = true
		err error
	)
	switch req.Path {
	case "/" + FormatGeneric:
		if err := req.VerifySignature([]byte(cfg.secret)); err != nil {
			return sdk.Response{}, err
		}
		ev, err = ParseGeneric(req.Body)
	case "/" + FormatAsterisk:
		if err := req.VerifySignature([]byte(cfg.secret)); err != nil {
			return sdk.Response{}, err
		}
		ev, ok, err = ParseAsterisk(req.Body)
	case "/" + FormatTwilio:
		if cfg.twilioToken == "" {
			return jsonResponse(http.StatusNotFound, map[string]any{"error": map[string]any{"code": "not_configured",
				"message": "the twilio format is off: set twilio_auth_token and twilio_url in the calltracking plugin's config"}}), nil
		}
		full := cfg.twilioURL
		if req.Query != "" {
			full += "?" + req.Query
		}
		if err := verifyTwilio(req, cfg.twilioToken, full); err != nil {
			return sdk.Response{}, err
		}
		ev, ok, err = ParseTwilio(req.Body)
	default:
		return jsonResponse(http.StatusNotFound, map[string]any{"error": map[string]any{"code": "no_route", "message": "no call event format " + clip(req.Path)}}), nil
	}
	if err != nil {
		return sdk.Response{}, err
	}
	if !ok {
		return jsonResponse(http.StatusOK, map[string]any{"ignored": true}), nil
	}
	st, err := p.apply(ctx, cfg, ev)
	if err != nil {
		return sdk.Response{}, err
	}
	return jsonResponse(http.StatusOK, map[string]any{"call": st.ID, "status": st.Status, "contact": st.Contact, "activity": st.Activity}), nil
}

func jsonResponse(status int, v any) sdk.Response {
	body, _ := json.Marshal(v)
	return sdk.Response{Status: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}
}

// normalize gives a number in E.164, read in region when it is national;
// ok is false for what is no valid phone number ("anonymous", an
// extension).
func normalize(s, region string) (e164 string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxNumberBytes {
		return "", false
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if region == "" && !strings.HasPrefix(s, "+") {
		return "", false
	}
	num, err := parsePhone(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// parsePhone is phonenumbers.Parse with a panic inside it an error.
func parsePhone(s, region string) (num *phonenumbers.PhoneNumber, err error) {
	defer func() {
		if recover() != nil {
			num, err = nil, fmt.Errorf("phone number parser failed on %q", s)
		}
	}()
	return phonenumbers.Parse(s, region)
}

// keyedMutex serialises work per key.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		l.users--
		if l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
