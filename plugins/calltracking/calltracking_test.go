package calltracking_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/calltracking"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// TestMain serves the plugin when the host starts this test binary as the
// plugin's process: the tests run it as crm does, in a process of its own.
func TestMain(m *testing.M) { sdktest.Main(m, calltracking.New) }

const (
	secret      = "s3cret-shared-with-the-pbx"
	twilioToken = "twilio-auth-token"
	twilioURL   = "https://crm.example.com/hooks/calltracking/twilio"
)

// baseConfig is the plugin block's config of the tests: two tracking
// numbers of two campaigns.
func baseConfig() map[string]any {
	return map[string]any{
		"secret": secret,
		"campaigns": map[string]any{
			"spring_ads": []any{"+37410555001"},
			"radio":      []any{"010 555002"},
		},
		"twilio_auth_token": twilioToken,
		"twilio_url":        twilioURL,
	}
}

func start(t *testing.T, config map[string]any) *sdktest.Host {
	t.Helper()
	return sdktest.Start(t, calltracking.New(), sdktest.Options{
		Read:         []string{"contact", "company", "activity"},
		Write:        []string{calltracking.CallEntity, "activity", "contact"},
		PluginConfig: config,
		Process:      true,
		Locale:       sdk.Locale{Languages: []string{"en"}, Default: "en", Calendar: "gregorian", Currency: "AMD", Timezone: "Asia/Yerevan", Region: "AM"},
	})
}

// recording reads a recorded event sequence: one request body a line.
func recording(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// post sends body to /hooks/calltracking/FORMAT through the host, signed as
// the format's sender signs it.
func post(t *testing.T, h *sdktest.Host, format string, body []byte) sdk.Response {
	t.Helper()
	hd := http.Header{}
	if format == calltracking.FormatTwilio {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatal(err)
		}
		hd.Set(calltracking.TwilioSignatureHeader, calltracking.TwilioSignature(twilioToken, twilioURL, form))
		hd.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		hd.Set(sdk.SignatureHeader, sdk.Sign([]byte(secret), body))
		hd.Set("Content-Type", "application/json")
	}
	return postRaw(t, h, format, body, hd)
}

func postRaw(t *testing.T, h *sdktest.Host, format string, body []byte, hd http.Header) sdk.Response {
	t.Helper()
	resp, err := h.Webhook(sdk.Request{Method: http.MethodPost, Path: "/" + format, Header: hd, Body: body})
	if err != nil {
		t.Fatalf("POST /%s: %v", format, err)
	}
	return resp
}

func postAll(t *testing.T, h *sdktest.Host, format string, bodies [][]byte, order ...int) {
	t.Helper()
	if len(order) == 0 {
		for i := range bodies {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if resp := post(t, h, format, bodies[i]); resp.Status != 0 && resp.Status != http.StatusOK {
			t.Fatalf("POST /%s event %d: %d %s", format, i, resp.Status, resp.Body)
		}
	}
}

// only returns the one record of entity matching filter, failing the test
// when there is not exactly one.
func only(t *testing.T, h *sdktest.Host, entity, filter string) sdk.Record {
	t.Helper()
	recs := h.List(entity, filter)
	if len(recs) != 1 {
		t.Fatalf("%s where %s: %d records, want 1: %v", entity, filter, len(recs), recs)
	}
	return recs[0]
}

func missedEmits(h *sdktest.Host, callID string) []sdk.Event {
	var out []sdk.Event
	for _, ev := range h.Emitted() {
		if ev.Name == calltracking.MissedEvent && ev.Record.String("call_id") == callID {
			out = append(out, ev)
		}
	}
	return out
}

func TestManifestIsValid(t *testing.T) {
	if err := calltracking.New().Manifest().Validate(); err != nil {
		t.Fatal(err)
	}
}

// An answered call from a known contact: one completed call, one activity
// on Ani's timeline with the recording, no lead, no call.missed.
func TestGenericAnsweredCallOfAContact(t *testing.T) {
	h := start(t, baseConfig())
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_answered.jsonl"))

	call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "g-1"))
	want := map[string]any{"status": "completed", "direction": "inbound", "number": "+37491123456",
		"line": "+37410555001", "extension": "101", "duration": float64(95), "campaign": "spring_ads",
		"contact": ani.ID(), "recording_url": "https://pbx.example.com/rec/g-1.mp3", "lead": false,
		"started_at": "2026-03-21T10:00:00Z", "answered_at": "2026-03-21T10:00:07Z", "ended_at": "2026-03-21T10:01:42Z"}
	for k, v := range want {
		if call[k] != v {
			t.Errorf("call %s = %v, want %v", k, call[k], v)
		}
	}
	act := only(t, h, "activity", sdk.Eq("contact", ani.ID()))
	if act.String("kind") != "call" || act.String("status") != "completed" || act.ID() != call.String("activity") ||
		!strings.Contains(act.String("body"), "https://pbx.example.com/rec/g-1.mp3") ||
		!strings.Contains(act.String("body"), "Duration: 1m35s") || act.String("at") != "2026-03-21T10:00:00Z" {
		t.Errorf("activity: %v", act)
	}
	if n := len(h.List("contact", "")); n != 1 {
		t.Errorf("%d contacts, want Ani alone", n)
	}
	if evs := missedEmits(h, "g-1"); len(evs) != 0 {
		t.Errorf("call.missed for an answered call: %v", evs)
	}
}

// The same events repeated and in every order leave the same call and the
// same one activity.
func TestRepeatedAndReorderedEventsConverge(t *testing.T) {
	h := start(t, baseConfig())
	h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	events := recording(t, "generic_answered.jsonl")
	orders := [][]int{{0, 1, 2}, {2, 1, 0}, {2, 0, 1}, {1, 2, 0}, {0, 0, 2, 2, 1, 1, 0}, {2, 2, 1, 2, 0}}
	var first sdk.Record
	for i, order := range orders {
		id := "reorder-" + string(rune('a'+i))
		bodies := make([][]byte, len(events))
		for j, b := range events {
			bodies[j] = bytes.ReplaceAll(b, []byte(`"g-1"`), []byte(`"`+id+`"`))
		}
		postAll(t, h, calltracking.FormatGeneric, bodies, order...)
		call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", id))
		only(t, h, "activity", sdk.Eq("id", call.String("activity")))
		if first == nil {
			first = call
			continue
		}
		for _, f := range []string{"status", "number", "line", "extension", "duration", "campaign", "contact",
			"recording_url", "started_at", "answered_at", "ended_at", "lead", "returned"} {
			if call[f] != first[f] {
				t.Errorf("order %v: %s = %v, in order %v it is %v", order, f, call[f], orders[0], first[f])
			}
		}
	}
	if n := len(h.List("activity", "")); n != len(orders) {
		t.Errorf("%d activities for %d calls", n, len(orders))
	}
}

// An unknown caller to a campaign's number: a lead with the campaign as its
// source, a missed call on its timeline, call.missed once however often the
// PBX repeats itself; the next call of that number finds the lead.
func TestUnknownMissedCallerBecomesALead(t *testing.T) {
	h := start(t, baseConfig())
	events := recording(t, "generic_missed.jsonl")
	postAll(t, h, calltracking.FormatGeneric, events, 0, 1, 1, 0, 1)

	lead := only(t, h, "contact", sdk.Eq("phone", "+37493555777"))
	if lead.String("source") != "spring_ads" {
		t.Errorf("lead source %q, want spring_ads", lead.String("source"))
	}
	call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "g-2"))
	if call.String("status") != "missed" || call["lead"] != true || call.String("contact") != lead.ID() {
		t.Errorf("call: %v", call)
	}
	act := only(t, h, "activity", sdk.Eq("contact", lead.ID()))
	if act.String("status") != "missed" || act.String("subject") != "Missed call from +37493555777" {
		t.Errorf("activity: %v", act)
	}
	evs := missedEmits(h, "g-2")
	if len(evs) != 1 {
		t.Fatalf("call.missed emitted %d times, want once", len(evs))
	}
	if p := evs[0].Record; p.String("from") != "+37493555777" || p.String("campaign") != "spring_ads" || p.String("activity") != act.ID() {
		t.Errorf("call.missed payload %v", p)
	}

	again := bytes.ReplaceAll(events[1], []byte(`"g-2"`), []byte(`"g-2b"`))
	postAll(t, h, calltracking.FormatGeneric, [][]byte{again})
	only(t, h, "contact", sdk.Eq("phone", "+37493555777"))
	if c := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "g-2b")); c.String("contact") != lead.ID() || c["lead"] != false {
		t.Errorf("second call: %v", c)
	}
}

func TestNoLeadsWhenConfigSaysSo(t *testing.T) {
	cfg := baseConfig()
	cfg["create_leads"] = false
	h := start(t, cfg)
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_missed.jsonl"))
	if n := len(h.List("contact", "")); n != 0 {
		t.Errorf("%d contacts made with create_leads = false", n)
	}
	call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "g-2"))
	act := only(t, h, "activity", "")
	if call.String("status") != "missed" || act.String("contact") != "" {
		t.Errorf("call %v, activity %v", call, act)
	}
	if evs := missedEmits(h, "g-2"); len(evs) != 0 {
		t.Errorf("call.missed without a contact: %v", evs)
	}
}

// A company's number: the call goes on the company's timeline, no lead.
func TestCallOfACompanyNumber(t *testing.T) {
	h := start(t, baseConfig())
	acme := h.Create("company", map[string]any{"name": "Acme", "phone": "+37493555777"})
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_missed.jsonl"))
	if n := len(h.List("contact", "")); n != 0 {
		t.Errorf("%d contacts: a company's number made a lead", n)
	}
	act := only(t, h, "activity", "")
	if act.String("company") != acme.ID() {
		t.Errorf("activity %v, want on Acme", act)
	}
}

// A missed call answered back within the SLA is returned; one called back
// later than the SLA is not.
func TestCallbackWithinSLAMarksReturned(t *testing.T) {
	cfg := baseConfig()
	cfg["sla"] = "1h"
	h := start(t, cfg)
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_missed.jsonl"))
	// A second missed call of the same number, two hours before.
	early := bytes.ReplaceAll(recording(t, "generic_missed.jsonl")[1], []byte(`"g-2"`), []byte(`"g-0"`))
	early = bytes.ReplaceAll(early, []byte("T11:00:30Z"), []byte("T09:00:30Z"))
	postAll(t, h, calltracking.FormatGeneric, [][]byte{early})
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_callback.jsonl"))

	back := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "g-3"))
	if back.String("direction") != "outbound" || back.String("status") != "completed" || back.String("number") != "+37493555777" {
		t.Errorf("call back: %v", back)
	}
	if m := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "g-2")); m["returned"] != true || m.String("returned_by") != "g-3" {
		t.Errorf("missed call 40 min before the call back: %v", m)
	}
	if m := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "g-0")); m["returned"] != false {
		t.Errorf("missed call 2 h 40 min before the call back, SLA 1 h: %v", m)
	}
	// The call back is on the lead's timeline as an outgoing call.
	lead := only(t, h, "contact", sdk.Eq("phone", "+37493555777"))
	if a := only(t, h, "activity", sdk.Eq("id", back.String("activity"))); a.String("contact") != lead.ID() ||
		a.String("subject") != "Outgoing call to +37493555777" {
		t.Errorf("call back activity: %v", a)
	}
}

// A restart of the plugin's process in the middle of a call loses
// nothing: the state is in records, not in the process.
func TestRestartInTheMiddleOfACall(t *testing.T) {
	h := start(t, baseConfig())
	events := recording(t, "generic_answered.jsonl")
	postAll(t, h, calltracking.FormatGeneric, events, 0, 2)
	h.Restart()
	postAll(t, h, calltracking.FormatGeneric, events, 2, 1, 0)
	call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "g-1"))
	if call.String("status") != "completed" || call["duration"] != float64(95) || call["lead"] != true {
		t.Errorf("call: %v", call)
	}
	only(t, h, "activity", "")
	only(t, h, "contact", "")
	if evs := missedEmits(h, "g-1"); len(evs) != 0 {
		t.Errorf("call.missed for a call whose end said 95 s of talk: %v", evs)
	}
}

func TestAsterisk(t *testing.T) {
	h := start(t, baseConfig())
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	answered := recording(t, "asterisk_answered.jsonl")
	postAll(t, h, calltracking.FormatAsterisk, answered, 4, 3, 2, 1, 0, 1)
	call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "1711015200.42"))
	want := map[string]any{"status": "completed", "contact": ani.ID(), "number": "+37491123456",
		"line": "+37410555001", "campaign": "spring_ads", "extension": "101", "duration": float64(111),
		"started_at": "2026-03-21T10:00:00Z", "answered_at": "2026-03-21T10:00:09Z",
		"recording_url": "https://pbx.example.com/monitor/1711015200.42.wav"}
	for k, v := range want {
		if call[k] != v {
			t.Errorf("call %s = %v, want %v", k, call[k], v)
		}
	}
	if evs := missedEmits(h, "1711015200.42"); len(evs) != 0 {
		t.Errorf("call.missed for a call whose channel was Up when destroyed: %v", evs)
	}
	postAll(t, h, calltracking.FormatAsterisk, recording(t, "asterisk_missed.jsonl"))
	m := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "1711018800.43"))
	lead := only(t, h, "contact", sdk.Eq("phone", "+37493555777"))
	if m.String("status") != "missed" || m.String("campaign") != "radio" || lead.String("source") != "radio" {
		t.Errorf("missed call %v, lead %v", m, lead)
	}
	if len(missedEmits(h, "1711018800.43")) != 1 {
		t.Errorf("call.missed not emitted once")
	}
}

func TestTwilio(t *testing.T) {
	h := start(t, baseConfig())
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	postAll(t, h, calltracking.FormatTwilio, recording(t, "twilio_answered.form"), 2, 0, 1, 2)
	call := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "CA11111111111111111111111111111111"))
	if call.String("status") != "completed" || call.String("contact") != ani.ID() || call["duration"] != float64(61) ||
		call.String("campaign") != "spring_ads" || !strings.HasSuffix(call.String("recording_url"), "/Recordings/RE01") {
		t.Errorf("call: %v", call)
	}
	postAll(t, h, calltracking.FormatTwilio, recording(t, "twilio_missed.form"), 1, 0)
	m := only(t, h, calltracking.CallEntity, sdk.Eq("call_id", "CA22222222222222222222222222222222"))
	if m.String("status") != "missed" || m.String("campaign") != "radio" {
		t.Errorf("missed: %v", m)
	}
	if len(missedEmits(h, "CA22222222222222222222222222222222")) != 1 {
		t.Errorf("call.missed not emitted once")
	}
}

// Twilio's own example (twilio.com/docs/usage/security): the scheme
// matches the documented signature.
func TestTwilioSignatureOfTheDocs(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675310"}, "Digits": {"1234"},
		"From": {"+14158675310"}, "To": {"+18005551212"}}
	got := calltracking.TwilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form)
	if got != "GvWf1cFY/Q7PnoempGyD5oXAezc=" {
		t.Errorf("signature %s", got)
	}
}

// Bad, unsigned and wrongly signed bodies are 4xx and change nothing.
func TestBadRequestsChangeNothing(t *testing.T) {
	h := start(t, baseConfig())
	good := recording(t, "generic_missed.jsonl")[0]
	tw := recording(t, "twilio_missed.form")[0]
	signed := func(b string) http.Header {
		return http.Header{sdk.SignatureHeader: {sdk.Sign([]byte(secret), []byte(b))}}
	}
	cases := []struct {
		name, format string
		body         []byte
		header       http.Header
		status       int
	}{
		{"unsigned", "generic", good, nil, 401},
		{"wrong secret", "generic", good, http.Header{sdk.SignatureHeader: {sdk.Sign([]byte("other"), good)}}, 401},
		{"signature of another body", "asterisk", good, signed("{}"), 401},
		{"not JSON", "generic", []byte("call_id=1"), signed("call_id=1"), 400},
		{"unknown event", "generic", []byte(`{"call_id":"x","event":"exploded","from":"+37493555777","to":"+37410555001","at":"2026-03-21T11:00:00Z"}`), nil, 400},
		{"no time", "generic", []byte(`{"call_id":"x","event":"ringing","from":"+37493555777","to":"+37410555001"}`), nil, 400},
		{"unknown field", "generic", []byte(`{"call_id":"x","event":"ringing","from":"+37493555777","at":"2026-03-21T11:00:00Z","caller":"y"}`), nil, 400},
		{"negative duration", "generic", []byte(`{"call_id":"x","event":"ended","from":"+37493555777","at":"2026-03-21T11:00:00Z","duration":-5}`), nil, 400},
		{"recording not http", "generic", []byte(`{"call_id":"x","event":"ended","from":"+37493555777","at":"2026-03-21T11:00:00Z","recording_url":"javascript:alert(1)"}`), nil, 400},
		{"ARI event without a channel", "asterisk", []byte(`{"type":"ChannelDestroyed","timestamp":"2026-03-21T15:00:25.500+0400"}`), nil, 400},
		{"twilio unsigned", "twilio", tw, nil, 401},
		{"twilio signed with X-Signature", "twilio", tw, signed(string(tw)), 401},
		{"twilio bad status", "twilio", []byte("CallSid=CA1&CallStatus=exploded&From=%2B37493555777&Timestamp=Sat%2C+21+Mar+2026+17%3A00%3A00+%2B0000"), nil, 400},
	}
	for _, c := range cases {
		hd := c.header
		if hd == nil && c.status == 400 {
			if c.format == "twilio" {
				form, _ := url.ParseQuery(string(c.body))
				hd = http.Header{calltracking.TwilioSignatureHeader: {calltracking.TwilioSignature(twilioToken, twilioURL, form)}}
			} else {
				hd = signed(string(c.body))
			}
		}
		resp := postRaw(t, h, c.format, c.body, hd)
		if resp.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, resp.Status, resp.Body, c.status)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(resp.Body, &e) != nil || e.Error.Message == "" {
			t.Errorf("%s: the answer %s is no JSON error", c.name, resp.Body)
		}
	}
	for _, entity := range []string{calltracking.CallEntity, "activity", "contact"} {
		if n := len(h.List(entity, "")); n != 0 {
			t.Errorf("%d %s records after bad requests", n, entity)
		}
	}
	if n := len(h.Emitted()); n != 0 {
		t.Errorf("%d events after bad requests", n)
	}
}

func TestConfigureRefusals(t *testing.T) {
	for name, cfg := range map[string]map[string]any{
		"no secret":         {},
		"bad sla":           {"secret": "x", "sla": "soon"},
		"bad number":        {"secret": "x", "campaigns": map[string]any{"a": []any{"not a number"}}},
		"number in two":     {"secret": "x", "campaigns": map[string]any{"a": []any{"+37410555001"}, "b": []any{"010555001"}}},
		"twilio url":        {"secret": "x", "twilio_auth_token": "t"},
		"create_leads text": {"secret": "x", "create_leads": "no"},
	} {
		err := calltracking.New().Configure(t.Context(), sdk.Config{Values: cfg, Locale: sdk.Locale{Region: "AM"}})
		var r *sdk.Refusal
		if !errors.As(err, &r) || r.Code != sdk.CodeInvalidConfig {
			t.Errorf("%s: %v, want an invalid_config refusal", name, err)
		}
	}
}

// A deal of a lead from a campaign's number is attributed to the campaign;
// one with a source, or of a contact who never called a tracking number,
// keeps its own.
func TestDealsAreAttributedToTheCampaign(t *testing.T) {
	h := sdktest.Start(t, calltracking.New(), sdktest.Options{
		Read:         []string{"contact", "company", "activity"},
		Write:        []string{calltracking.CallEntity, "activity", "contact", "deal"},
		PluginConfig: baseConfig(), Process: true,
		Locale: sdk.Locale{Languages: []string{"en"}, Default: "en", Calendar: "gregorian", Currency: "AMD", Timezone: "Asia/Yerevan", Region: "AM"},
	})
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_missed.jsonl"))
	lead := only(t, h, "contact", "")
	ani := h.Create("contact", map[string]any{"name": "Ani"})
	won := h.Create("deal", map[string]any{"title": "Car", "contact": lead.ID()})
	own := h.Create("deal", map[string]any{"title": "Van", "contact": lead.ID(), "source": "walk_in"})
	other := h.Create("deal", map[string]any{"title": "Bike", "contact": ani.ID()})
	if err := h.DeliverChanges(); err != nil {
		t.Fatal(err)
	}
	if err := h.DeliverChanges(); err != nil { // nothing twice
		t.Fatal(err)
	}
	for id, want := range map[string]string{won.ID(): "spring_ads", own.ID(): "walk_in", other.ID(): ""} {
		if d := h.Get("deal", id); d.String("source") != want {
			t.Errorf("deal %s source %q, want %q", d.String("title"), d.String("source"), want)
		}
	}
	if v := h.Get("deal", won.ID()).Version(); v != 2 {
		t.Errorf("attributed deal at version %d, want 2 (one write)", v)
	}
}
