package calltracking

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// ActionClickToCall calls a contact from the calling user's extension.
const ActionClickToCall = "click_to_call"

// Codes of click_to_call's refusals.
const (
	// CodeNoDialer: no PBX adapter that can place calls is configured.
	CodeNoDialer = "no_dialer"
	// CodeNoExtension: the calling user has no phone extension on their
	// profile (or no user called: a rule).
	CodeNoExtension = "no_extension"
	// CodeNoNumber: the contact has no phone number to call.
	CodeNoNumber = "no_number"
	// CodePBXRefused: the PBX answered the request with an error.
	CodePBXRefused = "pbx_refused"
)

// Dialer is a PBX adapter that places calls: it rings extension and, when
// it answers, dials number. It returns the PBX's id of the call, which
// the PBX's events then carry.
type Dialer interface {
	Dial(ctx context.Context, extension, number string) (callID string, err error)
}

// AsteriskSettings configure the Asterisk adapter's dialler: ARI's base
// URL and credentials, the dialplan context outgoing calls are placed in,
// and how an extension is named as an endpoint ("PJSIP/{extension}").
type AsteriskSettings struct {
	ARIURL   string `json:"ari_url"`
	User     string `json:"user"`
	Password string `json:"password"`
	Context  string `json:"context"`
	Endpoint string `json:"endpoint"`
}

// asteriskDialer originates calls through ARI: POST /channels with the
// user's endpoint and, as the dialplan extension it continues to, the
// number (https://docs.asterisk.org/Configuration/Interfaces/Asterisk-REST-Interface-ARI/).
type asteriskDialer struct {
	s      AsteriskSettings
	client *http.Client
}

func newAsteriskDialer(s AsteriskSettings) (*asteriskDialer, error) {
	u, err := url.Parse(s.ARIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, sdk.RefuseField("asterisk.ari_url", sdk.CodeInvalidConfig, "asterisk.ari_url must be ARI's base URL, like http://pbx:8088/ari")
	}
	if s.User == "" || s.Password == "" {
		return nil, sdk.RefuseField("asterisk.user", sdk.CodeInvalidConfig, "asterisk.user and asterisk.password are the ARI user's (ari.conf)")
	}
	if s.Context == "" {
		s.Context = "from-internal"
	}
	if s.Endpoint == "" {
		s.Endpoint = "PJSIP/{extension}"
	}
	if !strings.Contains(s.Endpoint, "{extension}") {
		return nil, sdk.RefuseField("asterisk.endpoint", sdk.CodeInvalidConfig, `asterisk.endpoint must name the extension, like "PJSIP/{extension}"`)
	}
	s.ARIURL = strings.TrimRight(s.ARIURL, "/")
	return &asteriskDialer{s: s, client: &http.Client{Timeout: 8 * time.Second}}, nil
}

// Dial originates a call from extension to number.
func (d *asteriskDialer) Dial(ctx context.Context, extension, number string) (string, error) {
	q := url.Values{
		"endpoint":  {strings.ReplaceAll(d.s.Endpoint, "{extension}", extension)},
		"extension": {number},
		"context":   {d.s.Context},
		"priority":  {"1"},
		"callerId":  {number},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.s.ARIURL+"/channels?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("click to call: %w", err)
	}
	req.SetBasicAuth(d.s.User, d.s.Password)
	res, err := d.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("click to call: reach ARI: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return "", sdk.Refuse(CodePBXRefused, fmt.Sprintf("Asterisk refused the call from extension %s: %d %s", extension, res.StatusCode, clip(e.Message)))
	}
	var ch struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &ch); err != nil || ch.ID == "" {
		return "", fmt.Errorf("click to call: ARI's answer is no channel: %.200s", body)
	}
	return ch.ID, nil
}

// clickToCall rings the calling user's own extension (the extension of
// the user's profile, which the host passes in Call.User) and dials the
// contact's number, in E.164.
func (p *Plugin) clickToCall(ctx context.Context, call sdk.Call) (any, error) {
	p.mu.RLock()
	dialer, region := p.dialer, p.cfg.region
	p.mu.RUnlock()
	if dialer == nil {
		return nil, sdk.Refuse(CodeNoDialer, "click to call needs a PBX adapter that can place calls: set asterisk = { ari_url, user, password } in the calltracking plugin's config")
	}
	if call.User == nil {
		return nil, sdk.Refuse(CodeNoExtension, "click to call is a user's action: the call rings the extension of the user who clicks")
	}
	ext := call.User.Extension
	if ext == "" {
		return nil, sdk.Refuse(CodeNoExtension, fmt.Sprintf("%s has no phone extension: set it on Your account (or an admin on Admin > Users) and try again", call.User.Email))
	}
	if len(ext) > 10 || strings.Trim(ext, "0123456789") != "" {
		return nil, sdk.Refuse(CodeNoExtension, fmt.Sprintf("the extension %q of %s is not 1 to 10 digits", clip(ext), call.User.Email))
	}
	var args struct {
		Number string `json:"number"`
	}
	if err := call.DecodeArgs(&args); err != nil {
		return nil, sdk.RefuseField("number", sdk.CodeInvalidArgs, "number must be a phone number")
	}
	if call.Record == nil && args.Number == "" {
		return nil, sdk.RefuseField("number", CodeNoNumber, "click to call is called on a contact, or with a number")
	}
	number := args.Number
	if number == "" {
		contact, err := sdk.HostFrom(ctx).Get(ctx, call.Record.Entity, call.Record.ID)
		if err != nil {
			return nil, err
		}
		number = contact.String("phone")
	}
	if number == "" {
		return nil, sdk.RefuseField("number", CodeNoNumber, "the contact has no phone number")
	}
	e164, ok := normalize(number, region)
	if !ok {
		return nil, sdk.RefuseField("number", CodeNoNumber, fmt.Sprintf("%q is not a phone number that can be dialled", clip(number)))
	}
	id, err := dialer.Dial(ctx, ext, e164)
	if err != nil {
		return nil, err
	}
	contact := ""
	if call.Record != nil {
		contact = call.Record.ID
	}
	sdk.HostFrom(ctx).Log(ctx, slog.LevelInfo, "click to call", "user", call.User.Email, "extension", ext, "contact", contact, "call", id)
	return map[string]any{"call_id": id, "extension": ext, "number": e164}, nil
}
