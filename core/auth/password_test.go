package auth

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

func TestHashPasswordRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		password string
		m, t     uint32
		p        uint8
	}{
		{"cheap", testPassword, 64, 1, 1},
		{"more passes and lanes", "пароль-пароль", 256, 3, 4},
		{"empty password", "", 64, 1, 1},
		{"long password", strings.Repeat("xyz", 300), 64, 1, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := HashPassword(c.password, c.m, c.t, c.p)
			if err != nil {
				t.Fatal(err)
			}
			m := phc.FindStringSubmatch(h)
			if m == nil {
				t.Fatalf("hash %q is not a PHC argon2id string", h)
			}
			if want := []string{itoa(c.m), itoa(c.t), itoa(uint32(c.p))}; m[1] != want[0] || m[2] != want[1] || m[3] != want[2] {
				t.Errorf("params m=%s,t=%s,p=%s, want %v", m[1], m[2], m[3], want)
			}
			ok, err := CheckPassword(h, c.password)
			if err != nil || !ok {
				t.Fatalf("CheckPassword(right) = %v, %v", ok, err)
			}
			ok, err = CheckPassword(h, c.password+"x")
			if err != nil || ok {
				t.Fatalf("CheckPassword(wrong) = %v, %v", ok, err)
			}
			h2, _ := HashPassword(c.password, c.m, c.t, c.p)
			if h2 == h {
				t.Error("two hashes of one password are equal: the salt is not random")
			}
		})
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// TestHashPasswordDefaults hashes and logs in at the default cost
// (64 MiB, t=1, p=2), which production uses.
func TestHashPasswordDefaults(t *testing.T) {
	e := newEnv(t, Options{ArgonMemoryKiB: DefaultArgonMemoryKiB, ArgonTime: DefaultArgonTime, ArgonThreads: DefaultArgonThreads})
	ctx := context.Background()
	start := time.Now()
	u, err := e.svc.CreateUser(ctx, "ann@example.com", "Ann", "admin", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one default-cost hash: %v", time.Since(start))
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Fatalf("hash %q does not have the default parameters", u.PasswordHash)
	}
	if !phc.MatchString(u.PasswordHash) {
		t.Fatalf("hash %q is not a PHC argon2id string", u.PasswordHash)
	}
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, "192.0.2.1:1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Login(ctx, "ann@example.com", "wrong password", "192.0.2.1:1"); err != ErrBadCredentials {
		t.Fatal(err)
	}

	// New with zero options takes the defaults too.
	s := New(e.st, nil, Options{})
	if s.opts.ArgonMemoryKiB != 64*1024 || s.opts.ArgonTime != 1 || s.opts.ArgonThreads != 2 || s.opts.SessionTTL != 7*24*time.Hour {
		t.Errorf("defaults: %+v", s.opts)
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, err := HashPassword(testPassword, 64, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, params, salt, key
	join := func(p ...string) string { return strings.Join(p, "$") }
	cases := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", testPassword},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", join("", "argon2i", parts[2], parts[3], parts[4], parts[5])},
		{"version 16", join("", "argon2id", "v=16", parts[3], parts[4], parts[5])},
		{"missing part", join("", "argon2id", parts[2], parts[3], parts[4])},
		{"extra part", good + "$x"},
		{"no leading $", strings.TrimPrefix(good, "$")},
		{"params out of order", join("", "argon2id", parts[2], "t=1,m=64,p=1", parts[4], parts[5])},
		{"two params", join("", "argon2id", parts[2], "m=64,t=1", parts[4], parts[5])},
		{"non-numeric", join("", "argon2id", parts[2], "m=lots,t=1,p=1", parts[4], parts[5])},
		{"plus sign", join("", "argon2id", parts[2], "m=+64,t=1,p=1", parts[4], parts[5])},
		{"zero threads", join("", "argon2id", parts[2], "m=64,t=1,p=0", parts[4], parts[5])},
		{"threads over 255", join("", "argon2id", parts[2], "m=64,t=1,p=256", parts[4], parts[5])},
		{"zero time", join("", "argon2id", parts[2], "m=64,t=0,p=1", parts[4], parts[5])},
		{"memory below 8*p", join("", "argon2id", parts[2], "m=8,t=1,p=2", parts[4], parts[5])},
		{"memory too large", join("", "argon2id", parts[2], "m=4294967295,t=1,p=1", parts[4], parts[5])},
		{"time too large", join("", "argon2id", parts[2], "m=64,t=100000,p=1", parts[4], parts[5])},
		{"salt not base64", join("", "argon2id", parts[2], parts[3], "!!!!", parts[5])},
		{"salt padded", join("", "argon2id", parts[2], parts[3], parts[4]+"==", parts[5])},
		{"salt too short", join("", "argon2id", parts[2], parts[3], "AAAA", parts[5])},
		{"key not base64", join("", "argon2id", parts[2], parts[3], parts[4], "%%%")},
		{"key too short", join("", "argon2id", parts[2], parts[3], parts[4], "AAAAAAAA")},
		{"empty key", join("", "argon2id", parts[2], parts[3], parts[4], "")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, err := CheckPassword(c.hash, testPassword)
			if err == nil || ok {
				t.Fatalf("CheckPassword(%q) = %v, %v; want an error", c.hash, ok, err)
			}
			if !strings.Contains(err.Error(), "malformed password hash") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestHashPasswordBadParams(t *testing.T) {
	for _, c := range []struct {
		m, t uint32
		p    uint8
	}{{64, 1, 0}, {64, 0, 1}, {8, 1, 2}, {maxMemoryKiB + 1, 1, 1}} {
		if _, err := HashPassword("x", c.m, c.t, c.p); err == nil {
			t.Errorf("HashPassword(m=%d,t=%d,p=%d) did not fail", c.m, c.t, c.p)
		}
	}
}

// TestRehashOnLogin: a login at another cost than the service's rewrites
// the stored hash at the service's cost.
func TestRehashOnLogin(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	u := e.user(t, "ann@example.com", "reader")
	if !strings.Contains(u.PasswordHash, "m=64,t=1,p=1") {
		t.Fatalf("hash %q", u.PasswordHash)
	}
	stronger := New(e.st, testRoles, Options{Now: e.clock.Now, ArgonMemoryKiB: 128, ArgonTime: 2, ArgonThreads: 1})
	if _, _, err := stronger.Login(ctx, "ann@example.com", testPassword, "192.0.2.1:1"); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.User(ctx, u.ID)
	if err != nil || !strings.Contains(got.PasswordHash, "m=128,t=2,p=1") {
		t.Fatalf("hash after login = %q, %v", got.PasswordHash, err)
	}
	if _, _, err := e.svc.Login(ctx, "ann@example.com", testPassword, "192.0.2.1:1"); err != nil {
		t.Fatalf("login after rehash: %v", err)
	}
}
