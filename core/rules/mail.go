package rules

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/hashicorp/hcl/v2"

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
// block. It opens one connection per message and is safe for concurrent
// use.
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
	msg, rcpts, err := m.compose(to, subject, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.sendTimeout)
	defer cancel()
	conn, err := m.dial(ctx)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", m.Addr(), err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(dl); err != nil {
			return fmt.Errorf("smtp %s: %w", m.Addr(), err)
		}
	}
	if err := m.deliver(conn, rcpts, msg); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("smtp %s: %w (%w)", m.Addr(), cerr, err)
		}
		return fmt.Errorf("smtp %s: %w", m.Addr(), err)
	}
	return nil
}

// dial connects, with TLS from the start in mode "tls".
func (m *Mailer) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: m.dialTimeout}
	if m.mode != config.SMTPTLS {
		return d.DialContext(ctx, "tcp", m.Addr())
	}
	td := &tls.Dialer{NetDialer: d, Config: m.tlsConf()}
	return td.DialContext(ctx, "tcp", m.Addr())
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

// deliver speaks SMTP on conn: EHLO, STARTTLS (in mode "starttls", which
// the server must offer: the mailer never falls back to a plain
// connection), AUTH PLAIN when a username is set, MAIL, RCPT, DATA, QUIT.
func (m *Mailer) deliver(conn net.Conn, rcpts []string, msg []byte) error {
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(m.helo); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if m.mode == config.SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New(`the server does not offer STARTTLS; use tls = "tls" if it speaks TLS from the start`)
		}
		if err := c.StartTLS(m.tlsConf()); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server does not offer AUTH, but the smtp block has a username")
		}
		if err := c.Auth(smtp.PlainAuth("", m.username, m.password, m.host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The server has taken the message: a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// compose builds an RFC 5322 message and the envelope recipients.
func (m *Mailer) compose(to []string, subject, body string) ([]byte, []string, error) {
	if len(to) == 0 {
		return nil, nil, errors.New("e-mail: no recipients")
	}
	if hasLineBreak(subject) {
		return nil, nil, errors.New("e-mail: the subject has a line break; refused (it could inject headers)")
	}
	var rcpts, heads []string
	for _, s := range to {
		a, err := parseAddress(s)
		if err != nil {
			return nil, nil, fmt.Errorf("e-mail: recipient: %w", err)
		}
		if !slices.Contains(rcpts, a.Address) {
			rcpts = append(rcpts, a.Address)
			heads = append(heads, formatAddress(a))
		}
	}
	id, err := m.messageID()
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", formatAddress(m.from))
	header("To", strings.Join(heads, ",\r\n "))
	header("Subject", encodeSubject(subject))
	header("Date", m.now().Format(time.RFC1123Z))
	header("Message-ID", id)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, nil, fmt.Errorf("e-mail: body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, nil, fmt.Errorf("e-mail: body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes(), rcpts, nil
}

// messageID is a new, globally unique Message-ID in the sender's domain.
func (m *Mailer) messageID() (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("e-mail: message id: %w", err)
	}
	domain := m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:]
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">", nil
}

// encodeSubject is the Subject header's value: the subject as it is when
// it is printable ASCII (folded at spaces), else RFC 2047 encoded words.
func encodeSubject(s string) string {
	if needsEncoding(s) {
		return encodeWords(s)
	}
	return foldHeader(len("Subject: "), s)
}

// needsEncoding reports text that cannot go in a header as it is: not
// printable ASCII, or with something a reader would take for an encoded
// word.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c > '~' {
			return true
		}
	}
	return strings.Contains(s, "=?")
}

// encodeWords encodes text as UTF-8 Q-encoded words of at most 57
// characters, one per folded line, never splitting a character. Only
// letters and digits go as they are and a space as "_", which RFC 2047
// allows in a subject and in a display name alike.
func encodeWords(s string) string {
	const budget = 45 // encoded characters per word, besides "=?utf-8?q?" and "?="
	var words []string
	var cur strings.Builder
	var buf [utf8.UTFMax]byte
	for _, r := range s {
		n := utf8.EncodeRune(buf[:], r)
		enc := ""
		for _, c := range buf[:n] {
			switch {
			case c == ' ':
				enc += "_"
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
				enc += string(rune(c))
			default:
				enc += fmt.Sprintf("=%02X", c)
			}
		}
		if cur.Len() > 0 && cur.Len()+len(enc) > budget {
			words = append(words, "=?utf-8?q?"+cur.String()+"?=")
			cur.Reset()
		}
		cur.WriteString(enc)
	}
	if cur.Len() > 0 {
		words = append(words, "=?utf-8?q?"+cur.String()+"?=")
	}
	return strings.Join(words, "\r\n ")
}

// foldHeader folds a header value at spaces so that its lines stay within
// 78 characters, the first of which already holds used; a word longer
// than a line stays whole.
func foldHeader(used int, v string) string {
	const width = 78
	var b strings.Builder
	line := used
	for i, w := range strings.Split(v, " ") {
		if i > 0 {
			if line+1+len(w) > width {
				b.WriteString("\r\n")
				line = 0
			}
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// formatAddress is an address for a From or To header, its display name
// in encoded words when it is not printable ASCII.
func formatAddress(a *mail.Address) string {
	if a.Name == "" || !needsEncoding(a.Name) {
		return a.String()
	}
	return encodeWords(a.Name) + " " + (&mail.Address{Address: a.Address}).String()
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
	err := x.e.st.SysView(ctx, func(tx store.SysTx) error { return tx.Get("effect", key, &sent) })
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
	if err := x.e.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put("effect", key, x.e.now().UTC()) }); err != nil {
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
