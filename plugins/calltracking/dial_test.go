package calltracking_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/crm/plugins/calltracking"
	"github.com/crmkit/crm/plugins/sdk"
)

// ari is a stand-in for Asterisk's ARI: it answers POST /ari/channels as
// ARI documents (the new channel as JSON) and keeps what it was asked.
type ari struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []url.Values
}

func newARI(t *testing.T) *ari {
	a := &ari{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "crm" || pass != "ari-pass" {
			http.Error(w, `{"message": "Authentication required"}`, http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/ari/channels" {
			http.Error(w, `{"message": "Invalid method"}`, http.StatusNotFound)
			return
		}
		a.mu.Lock()
		a.got = append(a.got, r.URL.Query())
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id": "1711020000.77", "name": "PJSIP/101-00000020", "state": "Down"}`))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func TestClickToCall(t *testing.T) {
	a := newARI(t)
	cfg := baseConfig()
	cfg["asterisk"] = map[string]any{"ari_url": a.srv.URL + "/ari", "user": "crm", "password": "ari-pass"}
	h := start(t, cfg)
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	// Ann's extension is on her profile; the plugin's config names none.
	ann := h.SetExtension(h.AddUser("ann@example.com", "admin"), "101")
	bob := h.AddUser("bob@example.com", "admin")
	// Cem had one and removed it.
	cem := h.SetExtension(h.SetExtension(h.AddUser("cem@example.com", "admin"), "103"), "")
	on := &sdk.RecordRef{Entity: "contact", ID: ani.ID()}

	var out map[string]any
	if err := h.As(ann).InvokeInto(sdk.Call{Action: calltracking.ActionClickToCall, Record: on}, &out); err != nil {
		t.Fatal(err)
	}
	if out["call_id"] != "1711020000.77" || out["extension"] != "101" || out["number"] != "+37491123456" {
		t.Errorf("result %v", out)
	}
	if len(a.got) != 1 || a.got[0].Get("endpoint") != "PJSIP/101" || a.got[0].Get("extension") != "+37491123456" ||
		a.got[0].Get("context") != "from-internal" {
		t.Errorf("ARI was asked %v", a.got)
	}
	// A number given as an argument arrives in E.164.
	if err := h.As(ann).InvokeInto(sdk.Call{Action: calltracking.ActionClickToCall, Record: on,
		Args: map[string]any{"number": "+374 93 555777"}}, &out); err != nil || out["number"] != "+37493555777" {
		t.Errorf("with a number: %v %v", out, err)
	}

	// Ann changes her extension: the next call rings the new one.
	h.SetExtension(ann, "105")
	if err := h.As(ann).InvokeInto(sdk.Call{Action: calltracking.ActionClickToCall, Record: on}, &out); err != nil || out["extension"] != "105" {
		t.Errorf("after a change of extension: %v %v", out, err)
	}
	if len(a.got) != 3 || a.got[2].Get("endpoint") != "PJSIP/105" {
		t.Errorf("ARI was asked %v", a.got)
	}

	var r *sdk.Refusal
	for _, u := range []sdk.User{bob, cem} {
		if _, err := h.As(u).Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: on}); !errors.As(err, &r) || r.Code != calltracking.CodeNoExtension ||
			!strings.Contains(r.Message, u.Email) {
			t.Errorf("%s, without an extension: %v", u.Email, err)
		}
	}
	if _, err := h.Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: on}); !errors.As(err, &r) || r.Code != calltracking.CodeNoExtension {
		t.Errorf("no user: %v", err)
	}
	nophone := h.Create("contact", map[string]any{"name": "No phone"})
	if _, err := h.As(ann).Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: &sdk.RecordRef{Entity: "contact", ID: nophone.ID()}}); !errors.As(err, &r) || r.Code != calltracking.CodeNoNumber {
		t.Errorf("a contact without a phone: %v", err)
	}
	if len(a.got) != 3 {
		t.Errorf("ARI got %d requests, want 3: a refused call asks nothing", len(a.got))
	}
}

func TestClickToCallWithoutADialer(t *testing.T) {
	h := start(t, baseConfig())
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	ann := h.AddUser("ann@example.com", "admin")
	var r *sdk.Refusal
	_, err := h.As(ann).Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: &sdk.RecordRef{Entity: "contact", ID: ani.ID()}})
	if !errors.As(err, &r) || r.Code != calltracking.CodeNoDialer {
		t.Errorf("%v, want no_dialer", err)
	}
}

func TestClickToCallARIRefuses(t *testing.T) {
	a := newARI(t)
	cfg := baseConfig()
	cfg["asterisk"] = map[string]any{"ari_url": a.srv.URL + "/ari", "user": "crm", "password": "wrong"}
	h := start(t, cfg)
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	ann := h.SetExtension(h.AddUser("ann@example.com", "admin"), "101")
	var r *sdk.Refusal
	_, err := h.As(ann).Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: &sdk.RecordRef{Entity: "contact", ID: ani.ID()}})
	if !errors.As(err, &r) || r.Code != calltracking.CodePBXRefused {
		t.Errorf("%v, want pbx_refused", err)
	}
}

// The old extensions map of the config is refused with a message that
// says where extensions are now.
func TestExtensionsConfigIsRefused(t *testing.T) {
	cfg := baseConfig()
	cfg["extensions"] = map[string]any{"ann@example.com": "101"}
	err := calltracking.New().Configure(t.Context(), sdk.Config{Values: cfg, Locale: sdk.Locale{Region: "AM"}})
	var r *sdk.Refusal
	if !errors.As(err, &r) || r.Code != sdk.CodeInvalidConfig || r.Field != "extensions" || !strings.Contains(r.Message, "profile") {
		t.Errorf("%v, want an invalid_config refusal of extensions", err)
	}
}
