package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/store"
)

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	cases := []struct {
		name, email, uname, role, password string
		field                              string // "" when it must succeed
		wantEmail, wantName                string
		msg                                string // part of the error message
	}{
		{name: "ok", email: "ann@example.com", uname: "Ann", role: "sales", password: "0123456789",
			wantEmail: "ann@example.com", wantName: "Ann"},
		{name: "normalised", email: "  Bob@Example.COM ", uname: " Bob B ", role: "admin", password: testPassword,
			wantEmail: "bob@example.com", wantName: "Bob B"},
		{name: "name defaults to local part", email: "carol@example.com", role: "reader", password: testPassword,
			wantEmail: "carol@example.com", wantName: "carol"},
		{name: "localhost", email: "root@localhost", role: "admin", password: testPassword,
			wantEmail: "root@localhost", wantName: "root"},
		{name: "ten multibyte chars", email: "dan@example.com", role: "reader", password: "պարոլպարոլ",
			wantEmail: "dan@example.com", wantName: "dan"},
		{name: "empty email", email: "  ", role: "reader", password: testPassword, field: "email", msg: "required"},
		{name: "no at", email: "not-an-email", role: "reader", password: testPassword, field: "email"},
		{name: "display name", email: "Eve <eve@example.com>", role: "reader", password: testPassword, field: "email"},
		{name: "two addresses", email: "a@example.com, b@example.com", role: "reader", password: testPassword, field: "email"},
		{name: "too long", email: strings.Repeat("a", 250) + "@example.com", role: "reader", password: testPassword, field: "email"},
		{name: "unknown role", email: "f@example.com", role: "boss", password: testPassword, field: "role",
			msg: `unknown role "boss"; valid roles: admin, reader, sales, manager, editor`},
		{name: "no role", email: "f@example.com", role: "", password: testPassword, field: "role", msg: "admin, reader"},
		{name: "short password", email: "g@example.com", role: "reader", password: "012345678", field: "password", msg: "at least 10"},
		{name: "nine multibyte chars", email: "g@example.com", role: "reader", password: "պարոլպարո", field: "password"},
		{name: "huge password", email: "g@example.com", role: "reader", password: strings.Repeat("x", MaxPasswordLen+1), field: "password"},
		{name: "control char in name", email: "h@example.com", uname: "H\x00", role: "reader", password: testPassword, field: "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := e.svc.CreateUser(ctx, c.email, c.uname, c.role, c.password)
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if u.Email != c.wantEmail || u.Name != c.wantName || u.Role != c.role || u.ID == "" || u.CreatedAt.IsZero() {
					t.Fatalf("got %+v", u)
				}
				if !store.ValidID(u.ID) {
					t.Errorf("id %q is not a store id", u.ID)
				}
				got, err := e.svc.UserByEmail(ctx, strings.ToUpper(c.wantEmail))
				if err != nil || got.ID != u.ID {
					t.Fatalf("UserByEmail: %v %+v", err, got)
				}
				if ok, err := CheckPassword(got.PasswordHash, c.password); !ok || err != nil {
					t.Fatalf("stored hash does not match the password: %v", err)
				}
				return
			}
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want an InvalidError on %s", err, c.field)
			}
			var se *store.InvalidError
			if !errors.As(err, &se) || se.Field != c.field {
				t.Errorf("err does not unwrap to a store.InvalidError: %v", err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("err = %q, want it to contain %q", err, c.msg)
			}
		})
	}
	users, err := e.svc.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 5 {
		t.Errorf("%d users, want 5", len(users))
	}
}

func TestCreateUserDuplicate(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	first := e.user(t, "ann@example.com", "sales")
	for _, email := range []string{"ann@example.com", " ANN@example.com"} {
		_, err := e.svc.CreateUser(ctx, email, "Other", "reader", testPassword)
		if !errors.Is(err, ErrExists) {
			t.Fatalf("%q: err = %v, want ErrExists", email, err)
		}
		if !strings.Contains(err.Error(), "ann@example.com") {
			t.Errorf("err %q does not name the e-mail", err)
		}
	}
	users, err := e.svc.Users(ctx)
	if err != nil || len(users) != 1 || users[0].ID != first.ID || users[0].Role != "sales" {
		t.Fatalf("users = %v, %v", users, err)
	}
}

func TestCreateUserConcurrent(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	const n = 8
	var (
		wg     sync.WaitGroup
		errs   = make([]error, n)
		winner = make([]*User, n)
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			winner[i], errs[i] = e.svc.CreateUser(ctx, "race@example.com", "", "reader", testPassword)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	var id string
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
			id = winner[i].ID
		case !errors.Is(err, ErrExists):
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creations succeeded, want 1", ok)
	}
	users, err := e.svc.Users(ctx)
	if err != nil || len(users) != 1 || users[0].ID != id {
		t.Fatalf("users = %v, %v; want only %s", users, err, id)
	}
	u, err := e.svc.UserByEmail(ctx, "race@example.com")
	if err != nil || u.ID != id {
		t.Fatalf("email index points at %v (%v), want %s", u, err, id)
	}
}

func TestUserLookups(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	a := e.user(t, "a@example.com", "reader")
	b := e.user(t, "b@example.com", "admin")
	if u, err := e.svc.User(ctx, b.ID); err != nil || u.Email != "b@example.com" {
		t.Fatalf("User: %v %v", u, err)
	}
	for _, f := range []func() error{
		func() error { _, err := e.svc.User(ctx, "nope"); return err },
		func() error { _, err := e.svc.UserByEmail(ctx, "nobody@example.com"); return err },
		func() error { return e.svc.SetPassword(ctx, "nope", testPassword) },
	} {
		if err := f(); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	}
	users, err := e.svc.Users(ctx)
	if err != nil || len(users) != 2 || users[0].ID != a.ID || users[1].ID != b.ID {
		t.Fatalf("Users = %v, %v; want a then b", users, err)
	}
	pub := a.Public()
	if _, ok := pub["password_hash"]; ok {
		t.Error("Public exposes the password hash")
	}
	for _, k := range []string{"id", "email", "name", "role", "created_at"} {
		if _, ok := pub[k]; !ok {
			t.Errorf("Public lacks %s", k)
		}
	}
}

func TestSetPassword(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user(t, "a@example.com", "reader")
	if err := e.svc.SetPassword(ctx, u.ID, "short"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if err := e.svc.SetPassword(ctx, u.ID, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Login(ctx, "a@example.com", testPassword, "192.0.2.1:1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password: %v", err)
	}
	if _, _, err := e.svc.Login(ctx, "a@example.com", "a brand new password", "192.0.2.1:1"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	t.Run("generated", func(t *testing.T) {
		e := newEnv(t, Options{})
		created, generated, err := e.svc.EnsureAdmin(ctx, "", "")
		if err != nil || !created || len(generated) != GeneratedPasswordLen {
			t.Fatalf("EnsureAdmin = %v, %q, %v", created, generated, err)
		}
		_, u, err := e.svc.Login(ctx, DefaultAdminEmail, generated, "127.0.0.1:1")
		if err != nil || u.Role != AdminRole {
			t.Fatalf("login as the first admin: %v %v", u, err)
		}
		if strings.Contains(e.log.String(), generated) {
			t.Error("the generated password is in the log")
		}
		created, generated, err = e.svc.EnsureAdmin(ctx, "", "")
		if err != nil || created || generated != "" {
			t.Fatalf("second EnsureAdmin = %v, %q, %v", created, generated, err)
		}
	})
	t.Run("given", func(t *testing.T) {
		e := newEnv(t, Options{})
		created, generated, err := e.svc.EnsureAdmin(ctx, "Boss@Example.com", "the boss password")
		if err != nil || !created || generated != "" {
			t.Fatalf("EnsureAdmin = %v, %q, %v", created, generated, err)
		}
		if _, _, err := e.svc.Login(ctx, "boss@example.com", "the boss password", "127.0.0.1:1"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("not on a store with users", func(t *testing.T) {
		e := newEnv(t, Options{})
		e.user(t, "someone@example.com", "reader")
		created, _, err := e.svc.EnsureAdmin(ctx, "", "")
		if err != nil || created {
			t.Fatalf("EnsureAdmin = %v, %v", created, err)
		}
		users, _ := e.svc.Users(ctx)
		if len(users) != 1 {
			t.Fatalf("%d users", len(users))
		}
	})
	t.Run("weak password", func(t *testing.T) {
		e := newEnv(t, Options{})
		if _, _, err := e.svc.EnsureAdmin(ctx, "", "short"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p := randomPassword(GeneratedPasswordLen)
		if len(p) != GeneratedPasswordLen || strings.Trim(p, passwordAlphabet) != "" || seen[p] {
			t.Fatalf("bad or repeated password %q", p)
		}
		seen[p] = true
	}
}

func TestDisableAndRole(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	admin := e.user(t, "admin@example.com", "admin")
	u := e.user(t, "u@example.com", "reader")
	secret := e.login(t, "u@example.com")

	if err := e.svc.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("disabled user's session: %v", err)
	}
	if _, _, err := e.svc.Login(ctx, "u@example.com", testPassword, "192.0.2.9:1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("disabled user's login: %v", err)
	}
	if _, _, err := e.svc.CreateToken(ctx, u.ID, "x", 0); !errors.Is(err, ErrForbidden) {
		t.Fatalf("token for a disabled user: %v", err)
	}
	if err := e.svc.SetDisabled(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, secret); err != nil {
		t.Fatalf("re-enabled user's session: %v", err)
	}

	if err := e.svc.SetRole(ctx, u.ID, "nope"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown role: %v", err)
	}
	if err := e.svc.SetRole(ctx, u.ID, "sales"); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Authenticate(ctx, secret)
	if err != nil || !p.CanWrite("deal") {
		t.Fatalf("after SetRole: %v", err)
	}

	// The last enabled admin stays.
	if err := e.svc.SetDisabled(ctx, admin.ID, true); !errors.Is(err, ErrForbidden) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	if err := e.svc.SetRole(ctx, admin.ID, "reader"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if err := e.svc.SetRole(ctx, u.ID, AdminRole); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetDisabled(ctx, admin.ID, true); err != nil {
		t.Fatalf("disabling one of two admins: %v", err)
	}
	if err := e.svc.SetDisabled(ctx, "nope", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestSetRolesReload(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.user(t, "s@example.com", "sales")
	secret := e.login(t, "s@example.com")
	if got := strings.Join(e.svc.RoleNames(), ","); got != "admin,reader,sales,manager,editor" {
		t.Fatalf("RoleNames = %s", got)
	}
	p, err := e.svc.Authenticate(ctx, secret)
	if err != nil || !p.CanWrite("contact") {
		t.Fatalf("before reload: %v", err)
	}

	// "admin" cannot be redefined; "sales" loses contact; then disappears.
	e.svc.SetRoles([]*config.Role{
		{Name: "admin", Read: []string{"contact"}},
		{Name: "sales", Read: []string{"contact"}, Write: []string{"deal"}},
	})
	if got := strings.Join(e.svc.RoleNames(), ","); got != "admin,sales" {
		t.Fatalf("RoleNames = %s", got)
	}
	if p.CanRead("deal") != true {
		t.Error("a principal made before the reload changed")
	}
	p, err = e.svc.Authenticate(ctx, secret)
	if err != nil || p.CanWrite("contact") || !p.CanRead("contact") || !p.CanWrite("deal") {
		t.Fatalf("after reload: %v", err)
	}
	e.svc.SetRoles(nil)
	p, err = e.svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatalf("a user of a removed role is still authenticated: %v", err)
	}
	if p.CanRead("contact") || p.CanWrite("deal") || p.IsAdmin() || !p.OwnOnly() {
		t.Error("a user of a removed role may do something")
	}
	if !strings.Contains(e.log.String(), "not configured") {
		t.Error("no warning about the removed role")
	}
}
