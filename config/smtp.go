package config

import (
	"fmt"
	"math/big"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// SMTP is the smtp block: the mail server through which the e-mail channel
// of the notify action sends. At most one block may be given.
//
//	smtp {
//	  host         = "smtp.example.com"
//	  port         = 587
//	  username     = "crm@example.com"
//	  password_env = "CRM_SMTP_PASSWORD"
//	  from         = "CRM <crm@example.com>"
//	  tls          = "starttls"
//	}
//
// The password itself never goes in a configuration file: PasswordEnv
// names the environment variable that holds it, read when the server
// starts.
type SMTP struct {
	Host        string // a host name or IP address, without a port
	Port        int    // default 587, or 465 when TLS is "tls"
	Username    string // "" for a server that takes mail without logging in
	PasswordEnv string // the environment variable holding the password; set exactly when Username is
	From        string // the From address as written, e.g. "CRM <crm@example.com>"; it parses with net/mail
	TLS         string // one of SMTPTLSModes; default "starttls"
	Range       hcl.Range
}

// TLS modes of the smtp block.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS, which the server must offer
	SMTPTLS      = "tls"      // TLS from the first byte ("implicit TLS", usually port 465)
	SMTPNoTLS    = "none"     // no encryption: only for a relay on localhost
)

// SMTPTLSModes are the values of the smtp block's tls.
var SMTPTLSModes = []string{SMTPStartTLS, SMTPTLS, SMTPNoTLS}

// SMTPLocalHosts are the hosts an smtp block may reach without TLS: the
// same ones net/smtp lets a password go to over a plain connection.
var SMTPLocalHosts = []string{"localhost", "127.0.0.1", "::1"}

var smtpSchema = attrSchema("host", "port", "username", "password", "password_env", "from", "tls")

var (
	envNameRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	hostNameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$`)
)

// decodeSMTP decodes and checks the smtp block. Its checks concern this
// block alone, so they run here rather than in the validation pass.
func (l *loader) decodeSMTP(hb *hcl.Block) {
	if prev := l.cfg.SMTP; prev != nil {
		l.report(hb.DefRange, "duplicate smtp block", "first defined at "+where(prev.Range))
		return
	}
	b, _ := l.open(hb, smtpSchema)
	c := &SMTP{TLS: SMTPStartTLS, Range: hb.DefRange}
	l.cfg.SMTP = c
	l.src[c] = b.src
	s := b.src
	if s.has("password") {
		b.fail("password", "the smtp password must not be in the configuration",
			`put it in an environment variable and name that, e.g. password_env = "CRM_SMTP_PASSWORD"`)
	}
	b.str("host", &c.Host)
	b.str("username", &c.Username)
	b.str("password_env", &c.PasswordEnv)
	b.str("from", &c.From)
	b.str("tls", &c.TLS)
	b.port(&c.Port)

	if !s.has("host") {
		l.report(s.def, "smtp block has no host", `name the mail server, e.g. host = "smtp.example.com"`)
	} else if s.ok("host") {
		checkSMTPHost(b, c.Host)
	}
	if !s.has("from") {
		l.report(s.def, "smtp block has no from", `give the sender, e.g. from = "CRM <crm@example.com>"`)
	} else if s.ok("from") {
		checkSMTPFrom(b, c.From)
	}
	if s.ok("tls") && !slices.Contains(SMTPTLSModes, c.TLS) {
		b.fail("tls", fmt.Sprintf("unknown tls mode %q", c.TLS), hint(c.TLS, SMTPTLSModes, "modes"))
	}
	if !s.has("port") {
		c.Port = 587
		if c.TLS == SMTPTLS {
			c.Port = 465
		}
	}
	checkSMTPLogin(b, c)
	if c.TLS == SMTPNoTLS && s.ok("tls") && s.ok("host") && !slices.Contains(SMTPLocalHosts, strings.ToLower(c.Host)) {
		l.report(s.at("tls"), fmt.Sprintf(`tls = "none" with host %q would send passwords in clear`, c.Host),
			`use "starttls" or "tls"; "none" is only for a relay on localhost, 127.0.0.1 or ::1`)
	}
}

// port decodes a port number: a whole number from 1 to 65535.
func (b *block) port(dst *int) {
	v, ok := b.value("port")
	if !ok {
		return
	}
	n, err := convert.Convert(v, cty.Number)
	const msg = "port must be a whole number from 1 to 65535"
	if err != nil {
		b.fail("port", msg, "e.g. port = 587")
		return
	}
	f := n.AsBigFloat()
	if !f.IsInt() || f.Cmp(big.NewFloat(1)) < 0 || f.Cmp(big.NewFloat(65535)) > 0 {
		b.fail("port", msg, fmt.Sprintf("got %s", f.Text('g', -1)))
		return
	}
	p, _ := f.Int64()
	*dst = int(p)
}

// checkSMTPHost checks host: a host name or an IP address, with no port.
func checkSMTPHost(b *block, host string) {
	if net.ParseIP(host) != nil || hostNameRe.MatchString(host) {
		return
	}
	detail := `e.g. host = "smtp.example.com"`
	if h, p, err := net.SplitHostPort(host); err == nil && h != "" {
		detail = fmt.Sprintf("give the port apart: host = %q and port = %s", h, p)
	}
	b.fail("host", fmt.Sprintf("invalid smtp host %q", host), detail)
}

// checkSMTPFrom checks that from is one address net/mail can parse, with
// no line break that could end the header it goes in.
func checkSMTPFrom(b *block, from string) {
	if strings.ContainsAny(from, "\r\n") {
		b.fail("from", "from must be on one line", "")
		return
	}
	if _, err := mail.ParseAddress(from); err != nil {
		b.fail("from", fmt.Sprintf("invalid from address %q", from),
			fmt.Sprintf(`%s; write an address, e.g. from = "CRM <crm@example.com>"`, strings.TrimPrefix(err.Error(), "mail: ")))
	}
}

// checkSMTPLogin checks username and password_env: given together, the
// variable's name well formed.
func checkSMTPLogin(b *block, c *SMTP) {
	s := b.src
	if s.ok("username") && strings.ContainsAny(c.Username, "\r\n") {
		b.fail("username", "username must be on one line", "")
	}
	if s.ok("password_env") && !envNameRe.MatchString(c.PasswordEnv) {
		b.fail("password_env", fmt.Sprintf("invalid environment variable name %q", c.PasswordEnv),
			`password_env names the variable that holds the password, e.g. password_env = "CRM_SMTP_PASSWORD"`)
	}
	switch {
	case s.ok("username") && c.Username != "" && !s.has("password_env"):
		b.l.report(s.at("username"), "username needs password_env",
			`name the environment variable that holds the password, e.g. password_env = "CRM_SMTP_PASSWORD"`)
	case s.ok("password_env") && (!s.has("username") || (s.ok("username") && c.Username == "")):
		b.l.report(s.at("password_env"), "password_env needs a username", `e.g. username = "crm@example.com"`)
	}
}
