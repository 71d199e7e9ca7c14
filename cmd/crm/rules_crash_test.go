package main_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

const rulesCrashConfig = crashConfig + `
rule "website_lead_follow_up" {
  on   = ["contact.created"]
  when = "record.source == 'website'"
  action "create_task" {
    title = "'Follow up ' + record.name"
  }
  action "set" {
    notes = "'follow-up task created'"
  }
}
`

// TestRulesSurviveKill9 kills a server with SIGKILL while its rules engine
// works through a stream of events, ten times and more; afterwards every
// event has had its rule run exactly once in effect: one task per lead.
func TestRulesSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	bin := testkit.Binary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crm.hcl")
	if err := os.WriteFile(cfg, []byte(rulesCrashConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	client := &http.Client{Timeout: 10 * time.Second}
	for round := range 12 {
		c := startChild(t, bin, cfg, data)
		token := login(t, c, client)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					body := map[string]any{"name": fmt.Sprintf("lead-%d-%d-%d", round, w, i), "source": "website"}
					if code, _, err := c.call(client, "POST", "/api/v1/records/contact", token, body); err != nil || code != 201 {
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		c.cmd.Process.Signal(syscall.SIGKILL)
		c.cmd.Wait()
		stop()
		wg.Wait()
	}
	// A last, clean run lets the engine catch up with the feed.
	c := startChild(t, bin, cfg, data)
	token := login(t, c, client)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		_, st, err := c.call(client, "GET", "/api/v1/rules", token, nil)
		if err == nil && caughtUp(st) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("final shutdown: %v\n%s", err, c.logs)
	}
	verifyOneTaskPerLead(t, cfg, data)
}

func login(t *testing.T, c *child, client *http.Client) string {
	t.Helper()
	code, res, err := c.call(client, "POST", "/api/v1/auth/login", "", map[string]string{"email": "admin@example.com", "password": "crash test password"})
	if err != nil || code != 200 {
		t.Fatalf("login: %d %v\n%s", code, err, c.logs)
	}
	return res["token"].(string)
}

// caughtUp reads GET /api/v1/rules: the engine has processed the whole feed.
func caughtUp(res map[string]any) bool {
	return res["feed_position"] != nil && res["feed_position"] == res["engine_position"]
}

func verifyOneTaskPerLead(t *testing.T, cfgPath, data string) {
	t.Helper()
	cfg, diags := config.Load(cfgPath)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sch, _ := schema.New(cfg)
	st, err := store.OpenBadger(data, sch, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if leads := checkOneTaskPerLead(t, st); leads < 12 {
		t.Fatalf("only %d leads", leads)
	}
}

// checkOneTaskPerLead checks that every contact in st has exactly one
// follow-up task and the rule's note, and returns how many contacts there are.
func checkOneTaskPerLead(t *testing.T, st store.Store) int {
	t.Helper()
	ctx := context.Background()
	tasksPerContact := map[string]int{}
	all := func(entity string, fn func(*store.Record)) {
		q := store.Query{Entity: entity, Limit: store.MaxLimit}
		for {
			page, err := st.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Items {
				fn(r)
			}
			if page.NextCursor == "" {
				return
			}
			q.Cursor = page.NextCursor
		}
	}
	all("task", func(r *store.Record) { tasksPerContact[r.Values["contact"].(string)]++ })
	leads := 0
	all("contact", func(r *store.Record) {
		leads++
		if n := tasksPerContact[r.ID]; n != 1 {
			t.Errorf("contact %s has %d follow-up tasks, want 1", r.ID, n)
		}
		if r.Values["notes"] != "follow-up task created" || r.Version != 2 {
			t.Errorf("contact %s: notes %v, version %d", r.ID, r.Values["notes"], r.Version)
		}
	})
	if len(tasksPerContact) != leads {
		t.Fatalf("%d leads, tasks for %d", leads, len(tasksPerContact))
	}
	t.Logf("%d leads, each with one task", leads)
	return leads
}
