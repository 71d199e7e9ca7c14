package sdk

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// SignatureHeader is the header that carries a webhook request's signature:
// "sha256=" and the hex HMAC-SHA256 of the raw body, keyed with a secret
// the sender and the plugin share (the convention of GitHub, Stripe-like
// tills and most webhook senders).
const SignatureHeader = "X-Signature"

// CodeBadSignature is the code of the refusal VerifySignature returns; a
// webhook refused with it is answered 401 Unauthorized.
const CodeBadSignature = "bad_signature"

// Sign is the SignatureHeader value for body keyed with secret,
// "sha256=<hex>": what a sender puts on its request, and what a test sends.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks that req carries exactly one SignatureHeader
// (its name in any case) whose value is "sha256=<hex>" and matches the
// HMAC-SHA256 of req.Body keyed with secret, comparing in constant time.
//
// A missing, garbled or wrong signature is a refusal with the code
// CodeBadSignature, which the host answers 401 with its message: return it
// from HandleWebhook as it is. An empty secret is a plugin's configuration
// mistake, not the sender's: the error is then a failure (the host answers
// 502 and logs it), so that an unset secret never accepts every request.
func VerifySignature(req Request, secret []byte) error {
	if len(secret) == 0 {
		return errors.New("verify the webhook signature: the secret is empty")
	}
	var values []string
	for name, vs := range req.Header {
		if strings.EqualFold(name, SignatureHeader) {
			values = append(values, vs...)
		}
	}
	switch len(values) {
	case 0:
		return Refuse(CodeBadSignature, "the request has no "+SignatureHeader+" header")
	case 1:
	default:
		return Refuse(CodeBadSignature, "the request has more than one "+SignatureHeader+" header")
	}
	scheme, sum, ok := strings.Cut(strings.TrimSpace(values[0]), "=")
	if !ok || !strings.EqualFold(scheme, "sha256") {
		return Refuse(CodeBadSignature, SignatureHeader+" is not sha256=<hex HMAC-SHA256 of the body>")
	}
	got, err := hex.DecodeString(sum)
	if err != nil || len(got) != sha256.Size {
		return Refuse(CodeBadSignature, SignatureHeader+" is not sha256= and 64 hex digits")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(req.Body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return Refuse(CodeBadSignature, SignatureHeader+" does not match the body")
	}
	return nil
}

// VerifySignature is VerifySignature(r, secret).
func (r Request) VerifySignature(secret []byte) error { return VerifySignature(r, secret) }

// webhookStatus is the HTTP status of a webhook request refused with r: a
// host error's by its kind, a bad signature 401, a denial 403, any other
// refusal 400.
func webhookStatus(r *Refusal) int {
	switch {
	case r.status != 0:
		return r.status
	case r.Code == CodeBadSignature:
		return http.StatusUnauthorized
	case r.Code == CodeDenied:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}
