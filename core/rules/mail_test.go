package rules

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// gotMail is one message the test SMTP server took.
type gotMail struct {
	from  string
	rcpts []string
	data  []byte
	tls   bool   // sent over TLS (STARTTLS or implicit)
	auth  string // the user it logged in as
}

// smtpServer is a small SMTP server on 127.0.0.1 that records messages:
// EHLO/HELO, STARTTLS (when it has a certificate), AUTH PLAIN, MAIL,
// RCPT, DATA, RSET, NOOP and QUIT.
type smtpServer struct {
	ln         net.Listener
	tlsCfg     *tls.Config // for STARTTLS, or the whole connection when implicit
	implicit   bool
	offerTLS   bool // offer STARTTLS
	user, pass string

	mu       sync.Mutex
	failData int // answer 451 to this many DATA commands first
	conns    int
	datas    int // DATA commands whose message was received
	msgs     []gotMail
}

// startSMTP starts a server; setup adjusts it before it accepts.
func startSMTP(t *testing.T, setup func(*smtpServer)) *smtpServer {
	t.Helper()
	s := &smtpServer{}
	if setup != nil {
		setup(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.tlsCfg)
	}
	s.ln = ln
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.handle(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// messages returns the messages taken so far and the DATA commands seen.
func (s *smtpServer) messages() ([]gotMail, int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs), s.datas, s.conns
}

func (s *smtpServer) handle(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
	tp := textproto.NewConn(c)
	isTLS, authed := s.implicit, ""
	var cur gotMail
	reply := func(line string) bool { return tp.PrintfLine("%s", line) == nil }
	if !reply("220 test.local ESMTP ready") {
		return
	}
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		ok := true
		switch strings.ToUpper(verb) {
		case "EHLO":
			exts := []string{"test.local greets you"}
			if s.offerTLS && !isTLS {
				exts = append(exts, "STARTTLS")
			}
			exts = append(exts, "AUTH PLAIN", "8BITMIME")
			for i, e := range exts {
				sep := "-"
				if i == len(exts)-1 {
					sep = " "
				}
				ok = ok && reply("250"+sep+e)
			}
		case "HELO", "NOOP":
			ok = reply("250 OK")
		case "RSET":
			cur = gotMail{}
			ok = reply("250 OK")
		case "STARTTLS":
			if !s.offerTLS || isTLS {
				ok = reply("502 not now")
				break
			}
			if !reply("220 go ahead") {
				return
			}
			tc := tls.Server(c, s.tlsCfg)
			if err := tc.Handshake(); err != nil {
				return
			}
			tp, isTLS, authed, cur = textproto.NewConn(tc), true, "", gotMail{}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				ok = reply("535 5.7.8 authentication failed")
				break
			}
			authed = parts[1]
			ok = reply("235 2.7.0 authenticated")
		case "MAIL":
			if s.user != "" && authed == "" {
				ok = reply("530 5.7.0 authentication required")
				break
			}
			cur = gotMail{from: angle(arg), tls: isTLS, auth: authed}
			ok = reply("250 OK")
		case "RCPT":
			cur.rcpts = append(cur.rcpts, angle(arg))
			ok = reply("250 OK")
		case "DATA":
			if !reply("354 end with <CRLF>.<CRLF>") {
				return
			}
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.datas++
			fail := s.failData > 0
			if fail {
				s.failData--
			} else {
				cur.data = data
				s.msgs = append(s.msgs, cur)
			}
			s.mu.Unlock()
			cur = gotMail{}
			if fail {
				ok = reply("451 4.3.0 try again later")
			} else {
				ok = reply("250 2.0.0 queued")
			}
		case "QUIT":
			reply("221 bye")
			return
		default:
			ok = reply("502 5.5.2 unknown command")
		}
		if !ok {
			return
		}
	}
}

// angle is the address inside <...> of a MAIL or RCPT argument.
func angle(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return arg
	}
	return arg[i+1 : j]
}

// testCert is a self-signed certificate for 127.0.0.1 and a pool that
// trusts it.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// testMailer is a Mailer for the server s.
func testMailer(t *testing.T, s *smtpServer, mode, user, pass string, pool *x509.CertPool) *Mailer {
	t.Helper()
	m, err := NewMailer(&config.SMTP{Host: "127.0.0.1", Port: s.port(), Username: user, From: "CRM <crm@example.com>", TLS: mode}, pass)
	if err != nil {
		t.Fatal(err)
	}
	if pool != nil {
		m.tlsConfig = &tls.Config{RootCAs: pool}
	}
	return m
}

// parsed is a message as a reader sees it: headers decoded, body decoded
// from quoted-printable.
type parsed struct {
	header  mail.Header
	subject string
	body    string
}

func parseMail(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return parsed{header: msg.Header, subject: subject, body: strings.ReplaceAll(string(body), "\r\n", "\n")}
}

const (
	// wonTitle mixes Armenian, Persian and ASCII, and is long enough to be
	// folded over several encoded words.
	wonTitle = "Գործարքը շահված է — معامله برنده شد: "
	wonDeal  = "Տոյոտա Կամրի / تویوتا کمری"
)

// mailEngine starts a real store and an engine over rulesHCL with the
// mailer given, and users: ann and bob (and nomail, who has no address)
// in role sales, carol in role manager.
func mailEngine(t *testing.T, rulesHCL string, mailer *Mailer) (*store.Badger, *Engine) {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"rules.hcl": []byte(rulesHCL)})
	if diags.HasErrors() {
		t.Fatalf("config: %s", formatDiags(diags))
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set, diags := Compile(cfg, sch)
	diags = append(diags, CheckMailChannels(cfg, set)...)
	if diags.HasErrors() {
		t.Fatalf("rules: %s", formatDiags(diags))
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]*UserInfo{
		"u_ann":    {ID: "u_ann", Email: "ann@example.com", Name: "Աննա Պետրոսյան", Role: "sales"},
		"u_bob":    {ID: "u_bob", Email: "bob@example.com", Name: "Bob", Role: "sales"},
		"u_nomail": {ID: "u_nomail", Role: "sales"},
		"u_carol":  {ID: "u_carol", Email: "carol@example.com", Name: "Carol", Role: "manager"},
	}
	if err := st.SysUpdate(context.Background(), func(tx store.SysTx) error {
		for id := range users {
			if err := tx.Put("user", id, map[string]string{"id": id}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(st, sch, set, Options{
		RetryBase: 50 * time.Millisecond, MaxAttempts: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Users: func(_ context.Context, target string) ([]string, error) {
			role, isRole := strings.CutPrefix(target, "role:")
			if !isRole {
				return []string{target}, nil
			}
			var ids []string
			for _, id := range []string{"u_ann", "u_bob", "u_nomail", "u_carol"} {
				if users[id].Role == role {
					ids = append(ids, id)
				}
			}
			return ids, nil
		},
		UserInfo: func(_ context.Context, id string) *UserInfo { return users[id] },
		Mailer:   mailer,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		st.Close()
	})
	return st, eng
}

// waitRun waits until the rule has one finished run and returns it.
func waitRun(t *testing.T, eng *Engine, rule string) *Run {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		runs, _ := eng.Runs(context.Background(), rule, 10)
		if len(runs) == 1 && (runs[0].Status == StatusOK || runs[0].Status == StatusFailed) {
			return runs[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	runs, _ := eng.Runs(context.Background(), rule, 10)
	t.Fatalf("rule %s did not finish: %+v", rule, runs)
	return nil
}

func TestEmailNotifySentOnceDespiteAFailure(t *testing.T) {
	srv := startSMTP(t, func(s *smtpServer) {
		s.user, s.pass, s.failData = "crm", "pa55 word", 1
	})
	smtpHCL := `
smtp {
  host         = "127.0.0.1"
  port         = ` + strconv.Itoa(srv.port()) + `
  username     = "crm"
  password_env = "CRM_TEST_SMTP_PASSWORD"
  from         = "CRM <crm@example.com>"
  tls          = "none"
}
rule "big_deal_won" {
  on   = ["deal.stage_changed"]
  when = "record.stage == 'won'"
  action "notify" {
    to      = "'role:sales'"
    channel = "'email'"
    title   = ` + hclQuote("'"+wonTitle+"' + record.title") + `
    message = ` + hclQuote("'Deal ' + record.title + ' was won.\\nՇնորհավորում ենք!'") + `
  }
}`
	cfg, diags := config.LoadSources(map[string][]byte{"rules.hcl": []byte(smtpHCL)})
	if diags.HasErrors() {
		t.Fatalf("config: %s", formatDiags(diags))
	}
	mailer, err := MailerFromEnv(cfg.SMTP, func(name string) (string, bool) {
		return "pa55 word", name == "CRM_TEST_SMTP_PASSWORD"
	})
	if err != nil {
		t.Fatal(err)
	}
	st, eng := mailEngine(t, smtpHCL, mailer)
	ctx := context.Background()
	d, err := st.Create(ctx, store.CreateRequest{Entity: "deal", Values: map[string]any{"title": wonDeal}, By: "u_ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "deal", ID: d.ID, Set: map[string]any{"stage": "won"}, By: "u_ann"}); err != nil {
		t.Fatal(err)
	}
	run := waitRun(t, eng, "big_deal_won")
	if run.Status != StatusOK || run.Attempts != 2 {
		t.Fatalf("run = %+v; want ok after 2 attempts", run)
	}
	if want := []string{"e-mailed ann@example.com, bob@example.com"}; !slices.Equal(run.Effects, want) {
		t.Fatalf("effects = %q, want %q", run.Effects, want)
	}
	// A retry of a run whose e-mail went out does not send it again.
	if again, err := eng.Retry(ctx, run.ID); err != nil || again.Status != StatusOK {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	time.Sleep(300 * time.Millisecond) // a doubled send would land now

	msgs, datas, _ := srv.messages()
	if len(msgs) != 1 || datas != 2 {
		t.Fatalf("server took %d messages of %d DATA; want 1 of 2 (the first refused with 451)", len(msgs), datas)
	}
	got := msgs[0]
	if !slices.Equal(got.rcpts, []string{"ann@example.com", "bob@example.com"}) || got.from != "crm@example.com" || got.auth != "crm" {
		t.Fatalf("envelope = from %q to %q as %q", got.from, got.rcpts, got.auth)
	}
	p := parseMail(t, got.data)
	if want := wonTitle + wonDeal; p.subject != want {
		t.Errorf("subject = %q, want %q", p.subject, want)
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != "Աննա Պետրոսյան" || to[0].Address != "ann@example.com" || to[1].Address != "bob@example.com" {
		t.Errorf("To = %v, %v", to, err)
	}
	for _, want := range []string{"Deal " + wonDeal + " was won.\nՇնորհավորում ենք!\n", "Record: deal " + d.ID + "\n", "Rule: big_deal_won\n"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("body lacks %q:\n%s", want, p.body)
		}
	}
}

func TestEmailNotifyWithoutTitleUsesTheRuleName(t *testing.T) {
	srv := startSMTP(t, nil)
	m := testMailer(t, srv, config.SMTPNoTLS, "", "", nil)
	st, eng := mailEngine(t, `
smtp {
  host = "127.0.0.1"
  from = "crm@example.com"
  tls  = "none"
}
rule "new_contact" {
  on = ["contact.created"]
  action "notify" {
    to      = "['u_carol', 'role:manager', 'u_nomail']"
    channel = "'email'"
    message = "'New contact: ' + record.name"
  }
}`, m)
	c, err := st.Create(context.Background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "Արամ"}, By: "u_carol"})
	if err != nil {
		t.Fatal(err)
	}
	if run := waitRun(t, eng, "new_contact"); run.Status != StatusOK {
		t.Fatalf("run = %+v", run)
	}
	msgs, _, _ := srv.messages()
	if len(msgs) != 1 || !slices.Equal(msgs[0].rcpts, []string{"carol@example.com"}) {
		t.Fatalf("messages = %+v", msgs)
	}
	p := parseMail(t, msgs[0].data)
	if p.subject != "new_contact" || !strings.Contains(p.body, "New contact: Արամ") || !strings.Contains(p.body, "Record: contact "+c.ID) {
		t.Fatalf("subject %q, body %q", p.subject, p.body)
	}
}

func TestEmailNotifyWithoutMailerFails(t *testing.T) {
	st, eng := mailEngine(t, `
smtp {
  host = "127.0.0.1"
  from = "crm@example.com"
  tls  = "none"
}
rule "mail" {
  on = ["contact.created"]
  action "notify" {
    to      = "'u_ann'"
    channel = "record.source ?? 'email'"
    message = "'x'"
  }
}`, nil)
	if _, err := st.Create(context.Background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "x"}, By: "u_ann"}); err != nil {
		t.Fatal(err)
	}
	run := waitRun(t, eng, "mail")
	if run.Status != StatusFailed || !strings.Contains(run.Error, `channel "email" needs an smtp block`) {
		t.Fatalf("run = %+v", run)
	}
}

func TestMailerMessageFormat(t *testing.T) {
	m, err := NewMailer(&config.SMTP{Host: "smtp.example.com", From: "Գրասենյակ <office@example.am>"}, "")
	if err != nil {
		t.Fatal(err)
	}
	m.now = func() time.Time { return time.Date(2026, 3, 21, 9, 30, 0, 0, time.FixedZone("AMT", 4*3600)) }
	subject := strings.Repeat("Նոր գործարք — معامله جدید ", 4)
	body := "line one\nline two with = sign and a long tail " + strings.Repeat("ա", 60) + "\n.\nlast"
	data, rcpts, err := m.compose([]string{"ann@example.com", "Bob <bob@example.com>", "ann@example.com"}, subject, body)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rcpts, []string{"ann@example.com", "bob@example.com"}) {
		t.Errorf("rcpts = %q", rcpts)
	}
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 78 {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
	}
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\r")) {
		t.Errorf("a bare CR or LF in the message:\n%q", data)
	}
	p := parseMail(t, data)
	h := p.header
	if p.subject != subject {
		t.Errorf("subject = %q, want %q", p.subject, subject)
	}
	if p.body != body+"\n" {
		t.Errorf("body = %q, want %q", p.body, body)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Գրասենյակ" || from[0].Address != "office@example.am" {
		t.Errorf("From = %v, %v", from, err)
	}
	if at, err := h.Date(); err != nil || !at.Equal(m.now()) {
		t.Errorf("Date = %v, %v", at, err)
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{32}@example\.am>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type = %q, want text/plain; charset=utf-8", h.Get("Content-Type"))
	}
	for k, want := range map[string]string{
		"MIME-Version": "1.0", "Content-Transfer-Encoding": "quoted-printable", "Auto-Submitted": "auto-generated",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// Plain text that looks like an encoded word is encoded, so that a
	// reader shows it as written.
	data, _, err = m.compose([]string{"ann@example.com"}, "literally =?utf-8?q?x?= here", "b")
	if err != nil {
		t.Fatal(err)
	}
	if p := parseMail(t, data); p.subject != "literally =?utf-8?q?x?= here" {
		t.Errorf("subject = %q", p.subject)
	}
}

func TestMailerRefusesHeaderInjection(t *testing.T) {
	srv := startSMTP(t, nil)
	m := testMailer(t, srv, config.SMTPNoTLS, "", "", nil)
	cases := []struct {
		to      []string
		subject string
	}{
		{[]string{"ann@example.com"}, "Hello\r\nBcc: evil@example.com"},
		{[]string{"ann@example.com"}, "Hello\nBcc: evil@example.com"},
		{[]string{"ann@example.com"}, "Hello\rBcc: evil@example.com"},
		{[]string{"ann@example.com\r\nBcc: evil@example.com"}, "Hello"},
		{[]string{"Ann\n <ann@example.com>"}, "Hello"},
		{[]string{"bob@example.com", "ann@example.com\nSubject: other"}, "Hello"},
	}
	for _, c := range cases {
		err := m.Send(context.Background(), c.to, c.subject, "body")
		if err == nil || !strings.Contains(err.Error(), "line break") {
			t.Errorf("Send(%q, %q) = %v; want a refusal", c.to, c.subject, err)
		}
	}
	if err := m.Send(context.Background(), nil, "Hello", "body"); err == nil {
		t.Error("Send to no one succeeded")
	}
	if _, _, conns := srv.messages(); conns != 0 {
		t.Fatalf("the server was contacted %d times; a refused message must not be sent", conns)
	}
	if _, err := NewMailer(&config.SMTP{Host: "127.0.0.1", From: "crm@example.com\r\nBcc: evil@example.com", TLS: "none"}, ""); err == nil {
		t.Error("NewMailer took a from with a line break")
	}
}

func TestMailerTLSModes(t *testing.T) {
	serverTLS, pool := testCert(t)
	t.Run("starttls", func(t *testing.T) {
		srv := startSMTP(t, func(s *smtpServer) { s.tlsCfg, s.offerTLS, s.user, s.pass = serverTLS, true, "crm", "secret" })
		m := testMailer(t, srv, config.SMTPStartTLS, "crm", "secret", pool)
		if err := m.Send(context.Background(), []string{"ann@example.com"}, "Բարև", "hi"); err != nil {
			t.Fatal(err)
		}
		msgs, _, _ := srv.messages()
		if len(msgs) != 1 || !msgs[0].tls || msgs[0].auth != "crm" {
			t.Fatalf("messages = %+v", msgs)
		}
	})
	t.Run("implicit", func(t *testing.T) {
		srv := startSMTP(t, func(s *smtpServer) { s.tlsCfg, s.implicit, s.user, s.pass = serverTLS, true, "crm", "secret" })
		m := testMailer(t, srv, config.SMTPTLS, "crm", "secret", pool)
		if err := m.Send(context.Background(), []string{"ann@example.com"}, "سلام", "hi"); err != nil {
			t.Fatal(err)
		}
		msgs, _, _ := srv.messages()
		if len(msgs) != 1 || !msgs[0].tls || msgs[0].auth != "crm" {
			t.Fatalf("messages = %+v", msgs)
		}
	})
	t.Run("starttls not offered", func(t *testing.T) {
		srv := startSMTP(t, func(s *smtpServer) { s.user, s.pass = "crm", "secret" })
		m := testMailer(t, srv, config.SMTPStartTLS, "crm", "secret", pool)
		err := m.Send(context.Background(), []string{"ann@example.com"}, "x", "x")
		if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
			t.Fatalf("err = %v", err)
		}
		if msgs, _, _ := srv.messages(); len(msgs) != 0 {
			t.Fatalf("sent in clear: %+v", msgs)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		srv := startSMTP(t, func(s *smtpServer) { s.tlsCfg, s.offerTLS = serverTLS, true })
		m := testMailer(t, srv, config.SMTPStartTLS, "", "", nil)
		if err := m.Send(context.Background(), []string{"ann@example.com"}, "x", "x"); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		srv := startSMTP(t, func(s *smtpServer) { s.user, s.pass = "crm", "secret" })
		m := testMailer(t, srv, config.SMTPNoTLS, "crm", "guess", nil)
		if err := m.Send(context.Background(), []string{"ann@example.com"}, "x", "x"); err == nil || !strings.Contains(err.Error(), "535") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestMailerHonoursTheDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts, then says nothing
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, bufio.NewReader(c)); c.Close() }()
		}
	}()
	m, err := NewMailer(&config.SMTP{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "crm@example.com", TLS: "none"}, "")
	if err != nil {
		t.Fatal(err)
	}
	m.sendTimeout = 200 * time.Millisecond
	start := time.Now()
	err = m.Send(context.Background(), []string{"ann@example.com"}, "x", "x")
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Send = %v after %v; want a timeout", err, time.Since(start))
	}
}

func TestMailerFromEnv(t *testing.T) {
	c := &config.SMTP{Host: "smtp.example.com", Username: "crm", PasswordEnv: "CRM_SMTP_PASSWORD", From: "crm@example.com", TLS: "starttls"}
	none := func(string) (string, bool) { return "", false }
	if _, err := MailerFromEnv(c, none); err == nil || !strings.Contains(err.Error(), "CRM_SMTP_PASSWORD") {
		t.Fatalf("err = %v; want one naming the variable", err)
	}
	empty := func(string) (string, bool) { return "", true }
	if _, err := MailerFromEnv(c, empty); err == nil || !strings.Contains(err.Error(), "CRM_SMTP_PASSWORD") {
		t.Fatalf("err = %v; want one naming the variable", err)
	}
	m, err := MailerFromEnv(c, func(n string) (string, bool) { return "pw", n == "CRM_SMTP_PASSWORD" })
	if err != nil || m.password != "pw" || m.Addr() != "smtp.example.com:587" {
		t.Fatalf("mailer = %+v, %v", m, err)
	}
	if m, err := MailerFromEnv(nil, none); m != nil || err != nil {
		t.Fatalf("no smtp block: %v, %v", m, err)
	}
	if _, err := NewMailer(&config.SMTP{Host: "smtp.example.com", From: "crm@example.com", TLS: "none"}, ""); err == nil || !strings.Contains(err.Error(), "in clear") {
		t.Fatalf("tls none to a remote host: %v", err)
	}
}

func TestSMTPBlockDiagnostics(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown attribute", `smtp {
  host    = "smtp.example.com"
  usernme = "crm"
  from    = "crm@example.com"
}`, []string{
			`t.hcl:3:3: error: Unsupported argument; An argument named "usernme" is not expected here. Did you mean "username"?`,
		}},
		{"no host, no from", `smtp {
  port = 25
}`, []string{
			`t.hcl:1:1: error: smtp block has no host; name the mail server, e.g. host = "smtp.example.com"`,
			`t.hcl:1:1: error: smtp block has no from; give the sender, e.g. from = "CRM <crm@example.com>"`,
		}},
		{"port zero", `smtp {
  host = "smtp.example.com"
  port = 0
  from = "crm@example.com"
}`, []string{
			`t.hcl:3:10: error: port must be a whole number from 1 to 65535; got 0`,
		}},
		{"port too big", `smtp {
  host = "smtp.example.com"
  port = 70000
  from = "crm@example.com"
}`, []string{
			`t.hcl:3:10: error: port must be a whole number from 1 to 65535; got 70000`,
		}},
		{"port fraction", `smtp {
  host = "smtp.example.com"
  port = 58.7
  from = "crm@example.com"
}`, []string{
			`t.hcl:3:10: error: port must be a whole number from 1 to 65535; got 58.7`,
		}},
		{"port not a number", `smtp {
  host = "smtp.example.com"
  port = "submission"
  from = "crm@example.com"
}`, []string{
			`t.hcl:3:10: error: port must be a whole number from 1 to 65535; e.g. port = 587`,
		}},
		{"tls near", `smtp {
  host = "smtp.example.com"
  from = "crm@example.com"
  tls  = "startls"
}`, []string{
			`t.hcl:4:10: error: unknown tls mode "startls"; did you mean "starttls"?`,
		}},
		{"tls far", `smtp {
  host = "smtp.example.com"
  from = "crm@example.com"
  tls  = "ssl/v3"
}`, []string{
			`t.hcl:4:10: error: unknown tls mode "ssl/v3"; modes: starttls, tls, none`,
		}},
		{"tls none to a remote host", `smtp {
  host = "smtp.example.com"
  from = "crm@example.com"
  tls  = "none"
}`, []string{
			`t.hcl:4:10: error: tls = "none" with host "smtp.example.com" would send passwords in clear; use "starttls" or "tls"; "none" is only for a relay on localhost, 127.0.0.1 or ::1`,
		}},
		{"bad from", `smtp {
  host = "smtp.example.com"
  from = "CRM at example.com"
}`, []string{
			`t.hcl:3:10: error: invalid from address "CRM at example.com"; no angle-addr; write an address, e.g. from = "CRM <crm@example.com>"`,
		}},
		{"from with a line break", `smtp {
  host = "smtp.example.com"
  from = "crm@example.com\nBcc: x@example.com"
}`, []string{
			`t.hcl:3:10: error: from must be on one line`,
		}},
		{"password in the file", `smtp {
  host     = "smtp.example.com"
  from     = "crm@example.com"
  username = "crm"
  password = "hunter2"
}`, []string{
			`t.hcl:4:14: error: username needs password_env; name the environment variable that holds the password, e.g. password_env = "CRM_SMTP_PASSWORD"`,
			`t.hcl:5:14: error: the smtp password must not be in the configuration; put it in an environment variable and name that, e.g. password_env = "CRM_SMTP_PASSWORD"`,
		}},
		{"password_env without username", `smtp {
  host         = "smtp.example.com"
  from         = "crm@example.com"
  password_env = "CRM_SMTP_PASSWORD"
}`, []string{
			`t.hcl:4:18: error: password_env needs a username; e.g. username = "crm@example.com"`,
		}},
		{"password_env not a variable name", `smtp {
  host         = "smtp.example.com"
  from         = "crm@example.com"
  username     = "crm"
  password_env = "$CRM_SMTP_PASSWORD"
}`, []string{
			`t.hcl:5:18: error: invalid environment variable name "$CRM_SMTP_PASSWORD"; password_env names the variable that holds the password, e.g. password_env = "CRM_SMTP_PASSWORD"`,
		}},
		{"host with port", `smtp {
  host = "smtp.example.com:587"
  from = "crm@example.com"
}`, []string{
			`t.hcl:2:10: error: invalid smtp host "smtp.example.com:587"; give the port apart: host = "smtp.example.com" and port = 587`,
		}},
		{"duplicate block", `smtp {
  host = "smtp.example.com"
  from = "crm@example.com"
}
smtp {
  host = "smtp.example.org"
  from = "crm@example.org"
}`, []string{
			`t.hcl:5:1: error: duplicate smtp block; first defined at t.hcl:1`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(c.src)})
			got := strings.Split(formatDiags(diags), "\n")
			if len(diags) == 0 {
				got = nil
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestSMTPBlockDecoded(t *testing.T) {
	cases := []struct {
		src  string
		want config.SMTP
	}{
		{`smtp {
  host         = "smtp.example.com"
  username     = "crm@example.com"
  password_env = "CRM_SMTP_PASSWORD"
  from         = "CRM <crm@example.com>"
}`, config.SMTP{Host: "smtp.example.com", Port: 587, Username: "crm@example.com", PasswordEnv: "CRM_SMTP_PASSWORD", From: "CRM <crm@example.com>", TLS: "starttls"}},
		{`smtp {
  host = "smtp.example.com"
  from = "crm@example.com"
  tls  = "tls"
}`, config.SMTP{Host: "smtp.example.com", Port: 465, From: "crm@example.com", TLS: "tls"}},
		{`smtp {
  host = "::1"
  port = 2525
  from = "crm@example.com"
  tls  = "none"
}`, config.SMTP{Host: "::1", Port: 2525, From: "crm@example.com", TLS: "none"}},
	}
	for _, c := range cases {
		cfg, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(c.src)})
		if len(diags) > 0 {
			t.Fatalf("%s", formatDiags(diags))
		}
		got := *cfg.SMTP
		got.Range = hcl.Range{}
		if got != c.want {
			t.Errorf("got %+v, want %+v", got, c.want)
		}
	}
	cfg, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(`locale {}`)})
	if len(diags) > 0 || cfg.SMTP != nil {
		t.Fatalf("no smtp block: %+v, %s", cfg.SMTP, formatDiags(diags))
	}
}

func TestEmailChannelNeedsAnSMTPBlock(t *testing.T) {
	rule := `
rule "r" {
  on = ["deal.created"]
  action "notify" {
    to      = "'role:sales'"
    message = "'x'"
    channel = "'email'"
  }
  action "notify" {
    to      = "'role:sales'"
    message = "'x'"
    channel = "'app'"
  }
  action "notify" {
    to      = "'role:sales'"
    message = "'x'"
    channel = " 'email' "
  }
}`
	smtpBlock := `
smtp {
  host = "localhost"
  from = "crm@example.com"
  tls  = "none"
}`
	for _, c := range []struct {
		src  string
		want []string
	}{
		{rule, []string{
			`t.hcl:7:16: error: notify: channel "email" needs an smtp block; add smtp { host = "...", from = "..." } to the configuration, or notify in the app with channel = "'app'"`,
			`t.hcl:17:16: error: notify: channel "email" needs an smtp block; add smtp { host = "...", from = "..." } to the configuration, or notify in the app with channel = "'app'"`,
		}},
		{rule + smtpBlock, nil},
	} {
		cfg, diags := config.LoadSources(map[string][]byte{"t.hcl": []byte(c.src)})
		if diags.HasErrors() {
			t.Fatalf("config: %s", formatDiags(diags))
		}
		sch, err := schema.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		set, diags := Compile(cfg, sch)
		if diags.HasErrors() {
			t.Fatalf("compile: %s", formatDiags(diags))
		}
		diags = CheckMailChannels(cfg, set)
		var got []string
		if len(diags) > 0 {
			got = strings.Split(formatDiags(diags), "\n")
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}
