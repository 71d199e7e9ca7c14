package calltracking_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	cfg["extensions"] = map[string]any{"Ann@example.com": "101"}
	h := start(t, cfg)
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	ann := h.AddUser("ann@example.com", "admin")
	bob := h.AddUser("bob@example.com", "admin")
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

	var r *sdk.Refusal
	if _, err := h.As(bob).Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: on}); !errors.As(err, &r) || r.Code != calltracking.CodeNoExtension {
		t.Errorf("a user without an extension: %v", err)
	}
	if _, err := h.Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: on}); !errors.As(err, &r) || r.Code != calltracking.CodeNoExtension {
		t.Errorf("no user: %v", err)
	}
	nophone := h.Create("contact", map[string]any{"name": "No phone"})
	if _, err := h.As(ann).Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: &sdk.RecordRef{Entity: "contact", ID: nophone.ID()}}); !errors.As(err, &r) || r.Code != calltracking.CodeNoNumber {
		t.Errorf("a contact without a phone: %v", err)
	}
	if len(a.got) != 2 {
		t.Errorf("ARI got %d requests, want 2", len(a.got))
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
	cfg["extensions"] = map[string]any{"ann@example.com": "101"}
	h := start(t, cfg)
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	ann := h.AddUser("ann@example.com", "admin")
	var r *sdk.Refusal
	_, err := h.As(ann).Invoke(sdk.Call{Action: calltracking.ActionClickToCall, Record: &sdk.RecordRef{Entity: "contact", ID: ani.ID()}})
	if !errors.As(err, &r) || r.Code != calltracking.CodePBXRefused {
		t.Errorf("%v, want pbx_refused", err)
	}
}
