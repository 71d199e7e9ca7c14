package rules_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

const admin = "01JADMIN000000000000000000"

// engineFor starts a real store and a rules engine over the HCL given.
func engineFor(t *testing.T, hcl string) (*store.Badger, *rules.Engine) {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"rules.hcl": []byte(hcl)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set, diags := rules.Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatalf("rules: %v", diags)
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SysUpdate(context.Background(), func(tx store.SysTx) error {
		return tx.Put("user", admin, map[string]string{"id": admin})
	}); err != nil {
		t.Fatal(err)
	}
	eng := rules.NewEngine(st, sch, set, rules.Options{RetryBase: 50 * time.Millisecond, MaxAttempts: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
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

// settle waits until the engine has processed the whole feed.
func settle(t *testing.T, st *store.Badger, eng *rules.Engine) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pos, err := eng.Position(context.Background())
		if err == nil && pos >= st.LastSeq() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("engine did not catch up with the feed")
}

func list(t *testing.T, st *store.Badger, entity, filter string) []*store.Record {
	t.Helper()
	q := store.Query{Entity: entity, Limit: store.MaxLimit}
	if filter != "" {
		f, err := store.CompileFilter(st.Schema().Entity(entity), filter)
		if err != nil {
			t.Fatal(err)
		}
		q.Filter = f
	}
	page, err := st.List(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func create(t *testing.T, st *store.Badger, entity string, values map[string]any) *store.Record {
	t.Helper()
	if err := st.Schema().Entity(entity).CheckRecord(values); err != nil {
		t.Fatal(err)
	}
	rec, err := st.Create(context.Background(), store.CreateRequest{Entity: entity, Values: values, By: admin})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestWebsiteLeadGetsAFollowUpTask(t *testing.T) {
	st, eng := engineFor(t, `
rule "website_lead_follow_up" {
  on   = ["contact.created"]
  when = "record.source == 'website'"
  action "create_task" {
    title = "'Follow up ' + record.name"
    due   = "now() + duration('24h')"
  }
}`)
	web := create(t, st, "contact", map[string]any{"name": "Ani", "source": "website"})
	create(t, st, "contact", map[string]any{"name": "Walk-in", "source": "showroom"})
	settle(t, st, eng)
	tasks := list(t, st, "task", "")
	if len(tasks) != 1 || tasks[0].Values["title"] != "Follow up Ani" || tasks[0].Values["contact"] != web.ID || tasks[0].Owner != admin {
		t.Fatalf("tasks = %+v", tasks)
	}
	runs, err := eng.Runs(context.Background(), "website_lead_follow_up", 10)
	if err != nil || len(runs) != 1 || runs[0].Status != rules.StatusOK || len(runs[0].Effects) != 1 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	hist, _ := st.History(context.Background(), "task", tasks[0].ID)
	if hist[0].By != "rule:website_lead_follow_up" {
		t.Fatalf("task made by %q", hist[0].By)
	}
}

func TestStageChangeIsLogged(t *testing.T) {
	st, eng := engineFor(t, `
rule "log_stage" {
  on = ["deal.stage_changed"]
  action "create_record" {
    entity  = "'activity'"
    kind    = "'note'"
    subject = "'Stage ' + old.stage + ' -> ' + record.stage"
    deal    = "record.id"
  }
}`)
	d := create(t, st, "deal", map[string]any{"title": "Car"})
	ctx := context.Background()
	for _, stage := range []string{"qualified", "proposal"} {
		if _, err := st.Update(ctx, store.UpdateRequest{Entity: "deal", ID: d.ID, Set: map[string]any{"stage": stage}, By: admin}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "deal", ID: d.ID, Set: map[string]any{"title": "Car 2"}, By: admin}); err != nil {
		t.Fatal(err)
	}
	settle(t, st, eng)
	notes := list(t, st, "activity", "deal == '"+d.ID+"'")
	var subjects []string
	for _, n := range notes {
		subjects = append(subjects, n.Values["subject"].(string))
	}
	if strings.Join(subjects, "|") != "Stage new -> qualified|Stage qualified -> proposal" {
		t.Fatalf("notes = %v", subjects)
	}
}

func TestWebhookDeliveredOnceDespiteAFailure(t *testing.T) {
	var mu sync.Mutex
	var ok, failed int
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte("s3cret"))
		mac.Write(body)
		if r.Header.Get("X-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("bad signature %q", r.Header.Get("X-Signature"))
		}
		mu.Lock()
		defer mu.Unlock()
		if calls.Add(1) == 1 {
			failed++
			http.Error(w, "down for a moment", http.StatusServiceUnavailable)
			return
		}
		ok++
	}))
	defer srv.Close()
	st, eng := engineFor(t, `
rule "big_deal_won" {
  on   = ["deal.stage_changed"]
  when = "record.stage == 'won'"
  action "webhook" {
    url    = "'`+srv.URL+`'"
    secret = "'s3cret'"
  }
}`)
	d := create(t, st, "deal", map[string]any{"title": "Fleet"})
	if _, err := st.Update(context.Background(), store.UpdateRequest{Entity: "deal", ID: d.ID, Set: map[string]any{"stage": "won"}, By: admin}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runs, _ := eng.Runs(context.Background(), "big_deal_won", 10)
		if len(runs) == 1 && runs[0].Status == rules.StatusOK {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a doubled delivery would land now
	mu.Lock()
	defer mu.Unlock()
	if ok != 1 || failed != 1 {
		t.Fatalf("deliveries: %d ok, %d failed; want 1 and 1", ok, failed)
	}
}

func TestLoopIsCutAndReported(t *testing.T) {
	st, eng := engineFor(t, `
rule "touch" {
  on = ["deal.updated", "deal.created"]
  action "set" {
    notes = "(record.notes ?? '') + 'x'"
  }
}`)
	d := create(t, st, "deal", map[string]any{"title": "Loop"})
	settle(t, st, eng)
	got, _ := st.Get(context.Background(), "deal", d.ID)
	if got.Values["notes"] != "xxxxx" {
		t.Fatalf("notes = %v; the chain should stop after 5 rule runs", got.Values["notes"])
	}
	runs, _ := eng.Runs(context.Background(), "touch", 10)
	if len(runs) == 0 || runs[0].Status != rules.StatusFailed || !strings.Contains(runs[0].Error, "touch > touch > touch > touch > touch > touch") {
		t.Fatalf("last run = %+v", runs[0])
	}
}

func TestFailedRunStopsAfterTriesAndCanBeRetried(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	st, eng := engineFor(t, `
rule "hook" {
  on = ["contact.created"]
  action "webhook" { url = "'`+srv.URL+`'" }
}`)
	create(t, st, "contact", map[string]any{"name": "x"})
	var runs []*rules.Run
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runs, _ = eng.Runs(context.Background(), "hook", 10)
		if len(runs) == 1 && runs[0].Status == rules.StatusFailed {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(runs) != 1 || runs[0].Status != rules.StatusFailed || runs[0].Attempts != 4 {
		t.Fatalf("runs = %+v", runs)
	}
	up.Store(true)
	run, err := eng.Retry(context.Background(), runs[0].ID)
	if err != nil || run.Status != rules.StatusOK {
		t.Fatalf("retry = %+v, %v", run, err)
	}
	stats, _ := eng.Stats(context.Background())
	if s := stats["hook"]; s == nil || s.OK != 1 || s.Failed != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestIdleDealIsRemindedOnceNotEveryTick(t *testing.T) {
	st, eng := engineFor(t, `
rule "stale_deal" {
  every    = "1h"
  for_each = "deal"
  when     = "record.stage not in ['won', 'lost'] && since(record.updated_at) > duration('72h')"
  action "notify" {
    to      = "record.owner"
    message = "'Deal ' + record.title + ' is idle'"
  }
}`)
	fresh := create(t, st, "deal", map[string]any{"title": "Fresh"})
	_ = fresh
	// The engine's clock is 4 days ahead: every deal looks idle.
	eng.SetClock(func() time.Time { return time.Now().Add(96 * time.Hour) })
	create(t, st, "deal", map[string]any{"title": "Won", "stage": "won"})
	ctx := context.Background()
	for range 3 {
		if err := eng.Tick(ctx, "stale_deal"); err != nil {
			t.Fatal(err)
		}
	}
	var got []rules.Notification
	err := st.SysList(ctx, store.KindNotification, admin+"/", func(_ string, data []byte) error {
		var n rules.Notification
		if err := json.Unmarshal(data, &n); err != nil {
			return err
		}
		got = append(got, n)
		return nil
	})
	if err != nil || len(got) != 1 || got[0].Message != "Deal Fresh is idle" {
		t.Fatalf("notifications = %+v, %v", got, err)
	}
}

func TestPluginEventTriggersRule(t *testing.T) {
	st, eng := engineFor(t, `
plugin "calltracking" {
  read  = ["contact"]
  write = ["activity", "task"]
}
rule "callback_missed_call" {
  on = ["call.missed"]
  action "create_task" {
    title = "'Call back ' + record.from"
  }
}`)
	ev, err := st.Emit(context.Background(), store.EmitRequest{Name: "call.missed", Payload: map[string]any{"from": "+37491123456"}, By: "plugin:calltracking", IdempotencyKey: "pbx:42"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Emit(context.Background(), store.EmitRequest{Name: "call.missed", Payload: map[string]any{"from": "x"}, IdempotencyKey: "pbx:42"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Emit(context.Background(), store.EmitRequest{Name: "contact.created"}); err == nil {
		t.Fatal("a record event was emitted without a write")
	}
	settle(t, st, eng)
	tasks := list(t, st, "task", "")
	if len(tasks) != 1 || tasks[0].Values["title"] != "Call back +37491123456" || ev.Seq != 1 || st.LastSeq() != 2 { // the emit, then the task: the repeated emit added nothing
		t.Fatalf("tasks = %+v, event %+v, last seq %d", tasks, ev, st.LastSeq())
	}
}
