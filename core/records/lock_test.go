package records_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// openLocked opens a service whose entity "bill" is contributed by plugin
// "books" with the lock "status != 'draft'", as a manifest's Entity.Locked
// gives it.
func openLocked(t *testing.T, lock string) *env {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"crm.hcl": []byte(`
entity "bill" {
  field "number" { type = "string" }
  field "status" {
    type   = "enum"
    values = ["draft", "issued"]
  }
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	e := cfg.Entity("bill")
	e.Plugin, e.Locked = "books", lock
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{svc: records.New(st, sch), st: st, users: auth.New(st, cfg.Roles, auth.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})}
}

// TestLockedRecords: a record the lock of its plugin's entity matches is
// changed and deleted by that plugin alone (on its own or for a user);
// an admin, a rule, the system and another plugin get a conflict with code
// "locked", and the record stays as it was. A record the lock does not
// match is like any other.
func TestLockedRecords(t *testing.T) {
	e := openLocked(t, "status != 'draft'")
	ctx := context.Background()
	admin := e.user(t, "root@example.com", "admin")
	all := grants{read: []string{"bill"}, write: []string{"bill"}}
	books := records.PluginActor("books", all, nil)
	booksForAdmin := records.PluginActor("books", all, admin.User)
	other := records.PluginActor("other", all, nil)

	if _, err := e.create(t, admin, "bill", `{"number": "0", "status": "issued"}`); kind(err) != records.KindConflict {
		t.Errorf("an admin creates an issued bill: %v", err)
	}
	draft, err := e.create(t, admin, "bill", `{"number": "1", "status": "draft"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Update(ctx, admin, records.UpdateRequest{Entity: "bill", ID: draft.ID, Values: records.Values{Set: map[string]any{"number": "1a"}}}); err != nil {
		t.Fatalf("an admin edits a draft: %v", err)
	}
	issued, err := e.svc.Update(ctx, books, records.UpdateRequest{Entity: "bill", ID: draft.ID, Values: records.Values{Set: map[string]any{"status": "issued"}}})
	if err != nil {
		t.Fatalf("the plugin issues it: %v", err)
	}
	set := func(a records.Actor, v string) error {
		_, err := e.svc.Update(ctx, a, records.UpdateRequest{Entity: "bill", ID: draft.ID, Values: records.Values{Set: map[string]any{"number": v}}})
		return err
	}
	for name, a := range map[string]records.Actor{
		"an admin": admin, "a rule": records.RuleActor("r", ""), "the system": records.SystemActor(), "another plugin": other,
	} {
		err := set(a, "hacked")
		re := records.ErrorOf(err)
		if re == nil || re.Kind != records.KindConflict || re.Code != records.CodeLocked ||
			!strings.Contains(re.Message, `only plugin "books" changes it`) {
			t.Errorf("%s edits an issued bill: %v", name, err)
		}
		_, err = e.svc.Delete(ctx, a, records.DeleteRequest{Entity: "bill", ID: draft.ID})
		if kind(err) != records.KindConflict {
			t.Errorf("%s deletes an issued bill: %v", name, err)
		}
	}
	if got, _ := e.st.Get(ctx, "bill", draft.ID); got.Version != issued.Version || got.Values["number"] != "1a" {
		t.Fatalf("the refused writes changed the bill: %+v", got)
	}
	if err := set(books, "2"); err != nil {
		t.Errorf("the plugin changes its issued bill: %v", err)
	}
	if err := set(booksForAdmin, "3"); err != nil {
		t.Errorf("the plugin, acting for an admin, changes its issued bill: %v", err)
	}
}

// TestBrokenLockRefusesClearly: a lock that does not compile refuses
// every other writer with a message naming the plugin; it never lets a
// write through nor answers a 5xx.
func TestBrokenLockRefusesClearly(t *testing.T) {
	e := openLocked(t, "statsu != 'draft'")
	admin := e.user(t, "root@example.com", "admin")
	books := records.PluginActor("books", grants{read: []string{"bill"}, write: []string{"bill"}}, nil)
	b, err := e.create(t, books, "bill", `{"number": "1"}`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Update(context.Background(), admin, records.UpdateRequest{Entity: "bill", ID: b.ID, Values: records.Values{Set: map[string]any{"number": "2"}}})
	if re := records.ErrorOf(err); re == nil || re.Code != records.CodeLocked || !strings.Contains(re.Message, "does not compile") {
		t.Fatalf("got %v", err)
	}
}
