package rules

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/hashicorp/hcl/v2"
	gomail "github.com/wneessen/go-mail"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/store"
)

// Notify channels.
const (
	ChannelApp   = "app"   // an in-app notification (the default)
	ChannelEmail = "email" // an e-mail through the smtp block's server
)

// Mailer timeouts.
const (
	mailDialTimeout = 10 * time.Second // to connect (and, for implicit TLS, shake hands)
	mailSendTimeout = 30 * time.Second // for a whole message, from dialling to QUIT
)

// Mailer sends plain-text e-mail through the SMTP server of the smtp
// block, with github.com/wneessen/go-mail composing the MIME message and
// speaking SMTP. It opens one connection per message and is safe for
// concurrent use.
type Mailer struct {
	host     string
	port     int
	username string
	password string
	from     *mail.Address
	mode     string // config.SMTPStartTLS, SMTPTLS or SMTPNoTLS
	helo     string // the name it greets the server with

	// tlsConfig, when set, replaces the default TLS configuration (the
	// system's roots, the server name host); tests trust their own CA.
	tlsConfig   *tls.Config
	dialTimeout time.Duration
	sendTimeout time.Duration
	now         func() time.Time
}

// NewMailer makes a Mailer from an smtp block; password is the value of
// the variable its password_env names ("" when it names none). It checks
// again what the loader checks, so that a block built in code cannot
// bypass those checks.
func NewMailer(c *config.SMTP, password string) (*Mailer, error) {
	if c == nil {
		return nil, errors.New("smtp: no smtp block")
	}
	if c.Host == "" {
		return nil, errors.New("smtp: no host")
	}
	from, err := parseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from: %w", err)
	}
	mode := c.TLS
	if mode == "" {
		mode = config.SMTPStartTLS
	}
	if !slices.Contains(config.SMTPTLSModes, mode) {
		return nil, fmt.Errorf("smtp: unknown tls mode %q", mode)
	}
	if mode == config.SMTPNoTLS && !slices.Contains(config.SMTPLocalHosts, strings.ToLower(c.Host)) {
		return nil, fmt.Errorf(`smtp: tls = "none" with host %q would send passwords in clear`, c.Host)
	}
	if strings.ContainsAny(c.Username+password, "\r\n") {
		return nil, errors.New("smtp: the username or password has a line break")
	}
	port := c.Port
	if port == 0 {
		port = 587
		if mode == config.SMTPTLS {
			port = 465
		}
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("smtp: invalid port %d", port)
	}
	return &Mailer{
		host: strings.ToLower(c.Host), port: port, username: c.Username, password: password, from: from, mode: mode,
		helo: heloName(), dialTimeout: mailDialTimeout, sendTimeout: mailSendTimeout, now: time.Now,
	}, nil
}

// MailerFromEnv makes the Mailer of an smtp block, reading its password
// from the environment through lookup (os.LookupEnv). It returns nil and
// no error when c is nil; a variable that password_env names but is unset
// or empty is an error naming it.
func MailerFromEnv(c *config.SMTP, lookup func(string) (string, bool)) (*Mailer, error) {
	if c == nil {
		return nil, nil
	}
	password := ""
	if c.PasswordEnv != "" {
		v, ok := lookup(c.PasswordEnv)
		if !ok || v == "" {
			return nil, fmt.Errorf("smtp: the environment variable %s (password_env of the smtp block) is not set; set it to the SMTP password", c.PasswordEnv)
		}
		password = v
	}
	return NewMailer(c, password)
}

// heloName is the name the mailer greets servers with: this machine's
// host name when it looks like a domain name, else "localhost".
func heloName() string {
	h, err := os.Hostname()
	if err != nil || !strings.Contains(h, ".") || strings.ContainsAny(h, " \r\n\t") {
		return "localhost"
	}
	return h
}

// Addr is the server's host:port.
func (m *Mailer) Addr() string { return net.JoinHostPort(m.host, strconv.Itoa(m.port)) }

// Send sends one message to every address of to (each "a@example.com" or
// "Name <a@example.com>") with subject and a plain-text body. A subject or
// address with a line break is refused before anything is sent, so no
// header can be injected. The whole exchange is bounded by 30 s, and
// sooner by ctx.
func (m *Mailer) Send(ctx context.Context, to []string, subject, body string) error {
	msg, _, err := m.message(to, subject, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.sendTimeout)
	defer cancel()
	c, err := m.client(ctx)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", m.Addr(), err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		err = m.explain(err)
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("smtp %s: %w (%w)", m.Addr(), cerr, err)
		}
		return fmt.Errorf("smtp %s: %w", m.Addr(), err)
	}
	return nil
}

// client is a go-mail client for one message sent under ctx: it dials
// itself (with TLS from the start in mode "tls") and closes the connection
// when ctx ends, so the whole exchange, not only each command, is bounded.
// In mode "starttls" the server must offer STARTTLS: the mailer never
// falls back to a plain connection. It logs in with AUTH PLAIN when a
// username is set, which go-mail refuses over a plain connection to
// anything but the local host.
func (m *Mailer) client(ctx context.Context) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(m.port), gomail.WithHELO(m.helo), gomail.WithTimeout(m.sendTimeout),
		gomail.WithTLSConfig(m.tlsConf()), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithDialContextFunc(func(dctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := m.dial(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			context.AfterFunc(ctx, func() { conn.Close() })
			return conn, nil
		}),
	}
	switch m.mode {
	case config.SMTPStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case config.SMTPTLS:
		opts = append(opts, gomail.WithSSL())
	}
	if m.username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(m.username), gomail.WithPassword(m.password))
	}
	return gomail.NewClient(m.host, opts...)
}

// dial connects, with TLS from the start in mode "tls".
func (m *Mailer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: m.dialTimeout}
	if m.mode != config.SMTPTLS {
		return d.DialContext(ctx, network, addr)
	}
	td := &tls.Dialer{NetDialer: d, Config: m.tlsConf()}
	return td.DialContext(ctx, network, addr)
}

// tlsConf is the TLS configuration for the server.
func (m *Mailer) tlsConf() *tls.Config {
	if m.tlsConfig != nil {
		c := m.tlsConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = m.host
		}
		return c
	}
	return &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
}

// message builds the message and its envelope recipients (each address
// once). Its headers: From, To, Subject (RFC 2047 encoded words when not
// ASCII), Date, a Message-ID in the sender's domain and Auto-Submitted;
// the body is UTF-8 plain text, quoted-printable.
func (m *Mailer) message(to []string, subject, body string) (*gomail.Msg, []string, error) {
	if len(to) == 0 {
		return nil, nil, errors.New("e-mail: no recipients")
	}
	if hasLineBreak(subject) {
		return nil, nil, errors.New("e-mail: the subject has a line break; refused (it could inject headers)")
	}
	var rcpts []string
	var addrs []*mail.Address
	for _, s := range to {
		a, err := parseAddress(s)
		if err != nil {
			return nil, nil, fmt.Errorf("e-mail: recipient: %w", err)
		}
		if !slices.Contains(rcpts, a.Address) {
			rcpts = append(rcpts, a.Address)
			addrs = append(addrs, a)
		}
	}
	id, err := m.messageID()
	if err != nil {
		return nil, nil, err
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP),
		gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(m.from)
	msg.ToMailAddress(addrs...)
	if strings.Contains(subject, "=?") && isASCII(subject) {
		// go-mail leaves printable ASCII as it is, and a reader would
		// decode text that looks like an encoded word: encode it all.
		msg.SetGenHeaderPreformatted(gomail.HeaderSubject, asciiWords(subject))
	} else {
		msg.Subject(subject)
	}
	msg.SetDateWithValue(m.now())
	msg.SetMessageIDWithValue(id)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	msg.SetBodyString(gomail.TypeTextPlain, body)
	return msg, rcpts, nil
}

// isASCII reports whether s is ASCII only.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] > '~' {
			return false
		}
	}
	return true
}

// asciiWords is ASCII text as base64 encoded words, one per folded line.
func asciiWords(s string) string {
	var words []string
	for s != "" {
		n := min(len(s), 45)
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

// explain adds to go-mail's error what an admin needs to act on it: which
// TLS step failed, and what to set when STARTTLS is missing.
func (m *Mailer) explain(err error) error {
	var (
		verify *tls.CertificateVerificationError
		record tls.RecordHeaderError
		alert  tls.AlertError
	)
	isTLS := errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert)
	switch {
	case isTLS && m.mode == config.SMTPStartTLS:
		return fmt.Errorf("STARTTLS: %w", err)
	case isTLS:
		return fmt.Errorf("TLS: %w", err)
	case m.mode == config.SMTPStartTLS && strings.Contains(err.Error(), "does not support STARTTLS"):
		return fmt.Errorf(`the server does not offer STARTTLS; use tls = "tls" if it speaks TLS from the start (%w)`, err)
	}
	return err
}

// compose is the message as it goes over the wire, and its envelope
// recipients.
func (m *Mailer) compose(to []string, subject, body string) ([]byte, []string, error) {
	msg, rcpts, err := m.message(to, subject, body)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return nil, nil, fmt.Errorf("e-mail: %w", err)
	}
	return b.Bytes(), rcpts, nil
}

// messageID is a new, globally unique Message-ID (without its angle
// brackets) in the sender's domain.
func (m *Mailer) messageID() (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("e-mail: message id: %w", err)
	}
	domain := m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:]
	return hex.EncodeToString(r[:]) + "@" + domain, nil
}

// hasLineBreak reports a character that would end a header line.
func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n\x00") }

// parseAddress parses one address, refusing line breaks first.
func parseAddress(s string) (*mail.Address, error) {
	if hasLineBreak(s) {
		return nil, fmt.Errorf("address %q has a line break; refused (it could inject headers)", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", s, err)
	}
	return a, nil
}

// notifyEmail is notify on the e-mail channel: one message to the
// addresses of the users `to` names. The send is remembered under the
// effect's idempotency key, so a retried run does not send it again; a
// failed send fails the run, which is retried with backoff.
func (x *actionRun) notifyEmail(ctx context.Context, a *Action, key, title, msg string) (string, error) {
	var sent time.Time
	err := x.e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get(store.KindEffect, key, &sent) })
	switch {
	case err == nil:
		return "", nil // sent by an earlier attempt
	case !errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("read effect %s: %w", key, err)
	}
	m := x.e.opts.Mailer
	if m == nil {
		return "", errors.New(`channel "email" needs an smtp block in the configuration`)
	}
	if x.e.opts.UserInfo == nil {
		return "", errors.New(`channel "email": the engine has no user directory to find e-mail addresses in`)
	}
	users, err := x.notifyUsers(ctx, a)
	if err != nil {
		return "", err
	}
	var to, addrs, without []string
	for _, id := range users {
		u := x.e.opts.UserInfo(ctx, id)
		if u == nil || u.Email == "" {
			without = append(without, id)
			continue
		}
		if slices.Contains(addrs, u.Email) {
			continue
		}
		addrs = append(addrs, u.Email)
		to = append(to, (&mail.Address{Name: u.Name, Address: u.Email}).String())
	}
	if len(to) == 0 {
		return "", fmt.Errorf("to: no e-mail address for %s", strings.Join(users, ", "))
	}
	if len(without) > 0 {
		x.e.log.Warn("notify: users without an e-mail address are left out", "rule", x.rule.Name, "users", strings.Join(without, ", "))
	}
	subject := title
	if subject == "" {
		subject = x.rule.Name
	}
	if err := m.Send(ctx, to, subject, x.mailBody(msg)); err != nil {
		return "", err
	}
	if err := x.e.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindEffect, key, x.e.now().UTC()) }); err != nil {
		return "", fmt.Errorf("e-mail sent, but not recorded as sent: %w", err)
	}
	return "e-mailed " + strings.Join(addrs, ", "), nil
}

// mailBody is the message, then the record it is about and the rule.
func (x *actionRun) mailBody(msg string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(msg, "\r\n"))
	b.WriteString("\n\n")
	if rec := x.sub.after; rec != nil && rec.Entity != "" && rec.ID != "" {
		fmt.Fprintf(&b, "Record: %s %s\n", rec.Entity, rec.ID)
	}
	fmt.Fprintf(&b, "Rule: %s\n", x.rule.Name)
	return b.String()
}

// CheckMailChannels reports every notify action whose channel is the
// literal "email" when cfg has no smtp block, at the channel argument.
// Call it after Compile; the diagnostics are errors.
func CheckMailChannels(cfg *config.Config, set *Set) hcl.Diagnostics {
	if cfg == nil || cfg.SMTP != nil || set == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, r := range set.Rules {
		for _, a := range r.Actions {
			p := a.Args["channel"]
			if a.Kind != KindNotify || p == nil {
				continue
			}
			tree, err := parser.Parse(p.Source)
			if err != nil {
				continue
			}
			if s, ok := tree.Node.(*ast.StringNode); ok && s.Value == ChannelEmail {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  `notify: channel "email" needs an smtp block`,
					Detail:   `add smtp { host = "...", from = "..." } to the configuration, or notify in the app with channel = "'app'"`,
					Subject:  p.Range.Ptr(),
				})
			}
		}
	}
	return config.SortDiagnostics(diags)
}
