package auth

import (
	"context"
	"testing"
)

func TestPermissions(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	principal := func(role string) *Principal {
		u := e.user(t, role+"@example.com", role)
		secret, _, err := e.svc.CreateToken(ctx, u.ID, "t", 0)
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.svc.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ps := map[string]*Principal{}
	for _, r := range []string{"admin", "reader", "sales", "manager", "editor"} {
		ps[r] = principal(r)
	}
	const other = "01OTHERUSER0000000000000000"

	type want struct{ read, write, changeOwn, changeOthers bool }
	cases := []struct {
		role, entity string
		want
	}{
		// admin: everything.
		{"admin", "contact", want{true, true, true, true}},
		{"admin", "vehicle", want{true, true, true, true}},
		// reader: read only what it names.
		{"reader", "contact", want{true, false, false, false}},
		{"reader", "company", want{true, false, false, false}},
		{"reader", "deal", want{false, false, false, false}},
		// sales: own_only writer; writing implies reading.
		{"sales", "contact", want{true, true, true, false}},
		{"sales", "deal", want{true, true, true, false}},
		{"sales", "company", want{true, false, false, false}},
		{"sales", "task", want{false, false, false, false}},
		// manager: reads "*", writes deal.
		{"manager", "vehicle", want{true, false, false, false}},
		{"manager", "deal", want{true, true, true, true}},
		// editor: writes "*", which implies reading everything.
		{"editor", "invoice", want{true, true, true, true}},
		{"editor", "contact", want{true, true, true, true}},
	}
	for _, c := range cases {
		t.Run(c.role+"/"+c.entity, func(t *testing.T) {
			p := ps[c.role]
			got := want{p.CanRead(c.entity), p.CanWrite(c.entity), p.CanChange(c.entity, p.User.ID), p.CanChange(c.entity, other)}
			if got != c.want {
				t.Fatalf("read, write, change own, change others' = %+v, want %+v", got, c.want)
			}
		})
	}
	for role, wantAdmin := range map[string]bool{"admin": true, "reader": false, "sales": false, "manager": false, "editor": false} {
		if got := ps[role].IsAdmin(); got != wantAdmin {
			t.Errorf("%s: IsAdmin = %v", role, got)
		}
		if got := ps[role].OwnOnly(); got != (role == "sales") {
			t.Errorf("%s: OwnOnly = %v", role, got)
		}
	}
}

func TestPrincipalEdgeCases(t *testing.T) {
	e := newEnv(t, Options{})
	var nilP *Principal
	for name, p := range map[string]*Principal{
		"nil":              nilP,
		"no user":          {},
		"disabled admin":   {User: &User{ID: "a", Role: AdminRole, Disabled: true}},
		"unknown role":     e.svc.Principal(&User{ID: "u", Role: "ghost"}),
		"hand-made reader": {User: &User{ID: "r", Role: "reader"}}, // no role attached
	} {
		if p.IsAdmin() || p.CanRead("contact") || p.CanWrite("contact") || p.CanChange("contact", "u") || !p.OwnOnly() {
			t.Errorf("%s: may do something", name)
		}
	}
	// A hand-made admin principal works (the api tests build them).
	admin := &Principal{User: &User{ID: "a", Role: AdminRole}}
	if !admin.IsAdmin() || !admin.CanChange("deal", "someone") || admin.OwnOnly() {
		t.Error("hand-made admin")
	}
	// Service.Principal attaches the current role.
	p := e.svc.Principal(&User{ID: "s", Role: "sales"})
	if !p.CanChange("deal", "s") || p.CanChange("deal", "x") || p.Token != nil {
		t.Error("Service.Principal")
	}
}
