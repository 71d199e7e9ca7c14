package sdk

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestVerifySignature(t *testing.T) {
	secret := []byte("till-secret")
	body := []byte(`{"phone": "+37491123456", "amount": 25500}`)
	// RFC 4231, test case 2.
	if got, want := Sign([]byte("Jefe"), []byte("what do ya want for nothing?")), "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	good := Sign(secret, body)
	req := func(h http.Header) Request { return Request{Method: "POST", Path: "/till", Header: h, Body: body} }

	for name, h := range map[string]http.Header{
		"canonical":         {"X-Signature": {good}},
		"lower-case name":   {"x-signature": {good}},
		"upper-case name":   {"X-SIGNATURE": {good}},
		"upper-case hex":    {"X-Signature": {"sha256=" + strings.ToUpper(good[len("sha256="):])}},
		"upper-case scheme": {"X-Signature": {"SHA256=" + good[len("sha256="):]}},
		"spaces around":     {"X-Signature": {"  " + good + " "}},
	} {
		if err := VerifySignature(req(h), secret); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := req(http.Header{"X-Signature": {good}}).VerifySignature(secret); err != nil {
		t.Errorf("the method: %v", err)
	}

	other := Sign(secret, []byte(`{}`))
	for name, h := range map[string]http.Header{
		"no header":    nil,
		"empty":        {"X-Signature": {""}},
		"wrong secret": {"X-Signature": {Sign([]byte("guess"), body)}},
		"other body":   {"X-Signature": {other}},
		"not hex":      {"X-Signature": {"sha256=zz"}},
		"no scheme":    {"X-Signature": {good[len("sha256="):]}},
		"sha1 scheme":  {"X-Signature": {"sha1=" + good[len("sha256="):]}},
		"truncated":    {"X-Signature": {good[:20]}},
		"too long":     {"X-Signature": {good + "00"}},
		"two values":   {"X-Signature": {other, good}},
		"two names":    {"X-Signature": {good}, "x-signature": {other}},
		"other header": {"X-Hub-Signature-256": {good}},
	} {
		err := VerifySignature(req(h), secret)
		var r *Refusal
		if !errors.As(err, &r) || r.Code != CodeBadSignature || webhookStatus(r) != http.StatusUnauthorized {
			t.Errorf("%s: %v, want a %s refusal answered 401", name, err, CodeBadSignature)
		}
	}
	// A changed body fails under the signature of the original.
	changed := req(http.Header{"X-Signature": {good}})
	changed.Body = []byte(strings.Replace(string(body), "25500", "99500", 1))
	if err := VerifySignature(changed, secret); err == nil {
		t.Error("a changed body passed")
	}
	// An empty secret is the plugin's mistake: a failure, not a refusal.
	err := VerifySignature(req(http.Header{"X-Signature": {Sign(nil, body)}}), nil)
	if _, refused := asRefusal(err); err == nil || refused {
		t.Errorf("empty secret: %v, want a failure", err)
	}
}
