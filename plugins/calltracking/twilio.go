package calltracking

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's documented signature scheme is HMAC-SHA1
	"encoding/base64"
	"net/url"
	"slices"
	"strings"

	"github.com/crmkit/crm/plugins/sdk"
)

// TwilioSignatureHeader carries Twilio's signature of a webhook request.
const TwilioSignatureHeader = "X-Twilio-Signature"

// TwilioSignature is Twilio's signature of a form-encoded POST to
// fullURL (https://www.twilio.com/docs/usage/security#validating-requests):
// the URL exactly as configured in Twilio (query string included), then
// every POST parameter's name and value with no separator, sorted by name,
// signed with HMAC-SHA1 keyed with the account's auth token, base64.
func TwilioSignature(authToken, fullURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range form[name] {
			b.WriteString(name)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// verifyTwilio checks the X-Twilio-Signature of req, a POST of body to
// fullURL, in constant time; a missing or wrong one is a bad_signature
// refusal (401).
func verifyTwilio(req sdk.Request, authToken, fullURL string) error {
	var values []string
	for name, vs := range req.Header {
		if strings.EqualFold(name, TwilioSignatureHeader) {
			values = append(values, vs...)
		}
	}
	if len(values) != 1 {
		return sdk.Refuse(sdk.CodeBadSignature, "the request needs exactly one "+TwilioSignatureHeader+" header")
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return sdk.Refuse(sdk.CodeBadSignature, "the body is not form-encoded, so its "+TwilioSignatureHeader+" cannot match")
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(values[0]))
	want, _ := base64.StdEncoding.DecodeString(TwilioSignature(authToken, fullURL, form))
	if err != nil || !hmac.Equal(got, want) {
		return sdk.Refuse(sdk.CodeBadSignature, TwilioSignatureHeader+" does not match the URL and parameters (is twilio_url the URL set in Twilio, and twilio_auth_token the account's?)")
	}
	return nil
}
