package hub_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/testkit"
)

const testConfig = `
entity "memo" {
  field "body" { type = "text" }
}
role "sales" {
  read     = ["contact", "deal", "memo"]
  write    = ["contact", "deal", "memo"]
  own_only = true
}
role "viewer" {
  read = ["contact"]
}
rule "deal_owner_told" {
  on   = ["deal.created"]
  when = "hasPrefix(record.title, 'Big')"
  action "notify" {
    to      = "record.owner"
    title   = "'Big deal'"
    message = "'New deal ' + record.title"
  }
}
`

func start(t *testing.T) *testkit.Server {
	return testkit.Start(t, map[string]string{"crm.hcl": testConfig})
}

// create makes a record over the API and returns its id.
func create(t *testing.T, s *testkit.Server, token, entity string, values map[string]any) string {
	t.Helper()
	res := s.Do(t, "POST", "/api/v1/records/"+entity, token, values)
	if res.Status != 201 {
		t.Fatalf("create %s: %d %s", entity, res.Status, res.Body)
	}
	return res.JSON["id"].(string)
}

func patch(t *testing.T, s *testkit.Server, token, entity, id string, values map[string]any) {
	t.Helper()
	if res := s.Do(t, "PATCH", "/api/v1/records/"+entity+"/"+id, token, values); res.Status != 200 {
		t.Fatalf("patch %s %s: %d %s", entity, id, res.Status, res.Body)
	}
}

func subscribe(sub, entity, filter string) map[string]any {
	m := map[string]any{"type": "subscribe", "sub": sub, "entity": entity}
	if filter != "" {
		m["filter"] = filter
	}
	return m
}

func TestSnapshotThenChangesInOrder(t *testing.T) {
	s := start(t)
	admin := s.AdminToken
	a1 := create(t, s, admin, "deal", map[string]any{"title": "A1"})
	create(t, s, admin, "deal", map[string]any{"title": "B0"})

	ws := s.MustDialWS(t, admin)
	ws.Send(subscribe("s1", "deal", "hasPrefix(title, 'A')"))
	snap := ws.Expect("snapshot", "s1")
	items := snap.JSON["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != a1 || items[0].(map[string]any)["title"] != "A1" {
		t.Fatalf("snapshot: %s", snap.Raw)
	}
	pos := snap.Position()
	if pos == 0 {
		t.Fatalf("snapshot without position: %s", snap.Raw)
	}

	a2 := create(t, s, admin, "deal", map[string]any{"title": "A2"})
	patch(t, s, admin, "deal", a1, map[string]any{"title": "B1"})  // leaves the filter
	patch(t, s, admin, "deal", a1, map[string]any{"title": "A1b"}) // comes back
	create(t, s, admin, "deal", map[string]any{"title": "B2"})     // never matches
	if res := s.Do(t, "DELETE", "/api/v1/records/deal/"+a2, admin, nil); res.Status != 204 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	want := []struct{ op, id, title string }{
		{"created", a2, "A2"}, {"left", a1, ""}, {"updated", a1, "A1b"}, {"deleted", a2, "A2"},
	}
	for _, w := range want {
		m := ws.Expect("change", "s1")
		rec := m.Record()
		if m.Op != w.op || rec["id"] != w.id {
			t.Fatalf("want %s of %s, got %s", w.op, w.id, m.Raw)
		}
		if w.op == "left" {
			if _, has := rec["title"]; has || rec["entity"] != "deal" {
				t.Errorf("a record that left shows only its id and entity: %s", m.Raw)
			}
		} else if rec["title"] != w.title {
			t.Errorf("%s: title %v, want %s", w.op, rec["title"], w.title)
		}
		if m.Position() <= pos {
			t.Fatalf("position %d after %d: %s", m.Position(), pos, m.Raw)
		}
		pos = m.Position()
	}
	if extra := ws.Sync(); len(extra) != 0 {
		t.Fatalf("unexpected messages: %s", extra[0].Raw)
	}
}

func TestOwnOnlyUserSeesTheRecordLeave(t *testing.T) {
	s := start(t)
	salesID, sales := s.AddUser(t, "sales@example.com", "sales")
	theirs := create(t, s, s.AdminToken, "deal", map[string]any{"title": "admin's"})
	mine := create(t, s, sales, "deal", map[string]any{"title": "mine"})

	ws := s.MustDialWS(t, sales)
	ws.Send(subscribe("d", "deal", ""))
	snap := ws.Expect("snapshot", "d")
	if !strings.Contains(snap.Raw, mine) || strings.Contains(snap.Raw, theirs) {
		t.Fatalf("an own_only snapshot has the user's records only: %s", snap.Raw)
	}
	// A filter cannot break out of the owner condition of the snapshot.
	for i, f := range []string{"true // ) || (true", "true /* ) || (true */", "true) || (true"} {
		ws.Send(subscribe(fmt.Sprint("x", i), "deal", f))
		if m := ws.Next(); m.Type != "error" && (m.Type != "snapshot" || strings.Contains(m.Raw, theirs)) {
			t.Fatalf("filter %q: %s", f, m.Raw)
		}
		ws.Send(map[string]any{"type": "unsubscribe", "sub": fmt.Sprint("x", i)})
	}
	ws.Sync() // the unsubscribes of the refused ones answer not_found
	patch(t, s, s.AdminToken, "deal", theirs, map[string]any{"title": "still admin's"})
	patch(t, s, sales, "deal", mine, map[string]any{"title": "mine, renamed"})
	if m := ws.Expect("change", "d"); m.Op != "updated" || m.Record()["id"] != mine {
		t.Fatalf("want the update of the user's own deal, got %s", m.Raw)
	}
	// The admin gives the deal to someone else: it leaves at once.
	patch(t, s, s.AdminToken, "deal", mine, map[string]any{"owner": s.AdminUserID(t)})
	m := ws.Expect("change", "d")
	if m.Op != "left" || m.Record()["id"] != mine || strings.Contains(m.Raw, "renamed") {
		t.Fatalf("want left without the record's values, got %s", m.Raw)
	}
	patch(t, s, s.AdminToken, "deal", mine, map[string]any{"title": "now admin's"})
	// And comes back when it is given back.
	patch(t, s, s.AdminToken, "deal", mine, map[string]any{"owner": salesID})
	if m := ws.Expect("change", "d"); m.Op != "updated" || m.Record()["owner"] != salesID {
		t.Fatalf("want the deal back, got %s", m.Raw)
	}
	if extra := ws.Sync(); len(extra) != 0 {
		t.Fatalf("an own_only user got someone else's change: %s", extra[0].Raw)
	}
}

func TestNoReadNoEvents(t *testing.T) {
	s := start(t)
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	ws := s.MustDialWS(t, viewer)
	ws.Send(subscribe("d", "deal", ""))
	m := ws.Expect("error", "d")
	if m.JSON["error"].(map[string]any)["code"] != "forbidden" {
		t.Fatalf("want forbidden, got %s", m.Raw)
	}
	ws.Send(subscribe("c", "contact", ""))
	ws.Expect("snapshot", "c")
	create(t, s, s.AdminToken, "deal", map[string]any{"title": "secret"})
	create(t, s, s.AdminToken, "contact", map[string]any{"name": "Ani"})
	if m := ws.Expect("change", "c"); m.Record()["name"] != "Ani" {
		t.Fatalf("want the contact, got %s", m.Raw)
	}
	if extra := ws.Sync(); len(extra) != 0 {
		t.Fatalf("a user without read got: %s", extra[0].Raw)
	}
}

// version identifies one delivered record version.
type version struct {
	id string
	v  float64
}

func TestReconnectMissesNothingAndRepeatsNothing(t *testing.T) {
	s := start(t)
	admin := s.AdminToken
	seen := map[version]int{}
	note := func(m *testkit.WSMessage) {
		r := m.Record()
		seen[version{r["id"].(string), r["version"].(float64)}]++
	}
	first := create(t, s, admin, "contact", map[string]any{"name": "first"})

	ws := s.MustDialWS(t, admin)
	ws.Send(subscribe("c", "contact", ""))
	snap := ws.Expect("snapshot", "c")
	last := snap.Position()
	patch(t, s, admin, "contact", first, map[string]any{"name": "first, v2"})
	m := ws.Expect("change", "c")
	note(m)
	last = m.Position()
	ws.Conn.Close()

	// Writes while the client is away.
	var missed []string
	for i := range 5 {
		missed = append(missed, create(t, s, admin, "contact", map[string]any{"name": fmt.Sprintf("away %d", i)}))
	}
	patch(t, s, admin, "contact", first, map[string]any{"name": "first, v3"})

	ws = s.MustDialWS(t, admin)
	ws.Send(map[string]any{"type": "subscribe", "sub": "c", "entity": "contact", "after": last})
	for _, id := range missed {
		m := ws.Expect("change", "c")
		if m.Op != "created" || m.Record()["id"] != id || m.Position() <= last {
			t.Fatalf("want the creation of %s after %d, got %s", id, last, m.Raw)
		}
		note(m)
		last = m.Position()
	}
	if m := ws.Expect("change", "c"); m.Record()["name"] != "first, v3" {
		t.Fatalf("want first, v3: %s", m.Raw)
	} else {
		note(m)
	}
	live := create(t, s, admin, "contact", map[string]any{"name": "live"})
	if m := ws.Expect("change", "c"); m.Record()["id"] != live {
		t.Fatalf("want the live creation: %s", m.Raw)
	} else {
		note(m)
	}
	if extra := ws.Sync(); len(extra) != 0 {
		t.Fatalf("unexpected: %s", extra[0].Raw)
	}
	for v, n := range seen {
		if n != 1 {
			t.Errorf("%v delivered %d times", v, n)
		}
	}
	if len(seen) != 8 {
		t.Errorf("%d versions delivered, want 8", len(seen))
	}
}

// TestSubscribeWhileWriting subscribes while other writers write: every
// record is in the snapshot or arrives as a change, exactly once.
func TestSubscribeWhileWriting(t *testing.T) {
	s := start(t)
	recs := records.New(s.App.Store, s.App.Schema)
	const writers, each = 4, 40
	var wg sync.WaitGroup
	ctx := context.Background()
	startWrites := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startWrites
			for i := range each {
				_, err := recs.Create(ctx, records.SystemActor(), records.CreateRequest{Entity: "contact",
					Values: records.Values{Set: map[string]any{"name": fmt.Sprintf("w%d-%d", w, i)}}})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	ws := s.MustDialWS(t, s.AdminToken)
	close(startWrites)
	ws.Send(map[string]any{"type": "subscribe", "sub": "c", "entity": "contact", "limit": 1000})
	snap := ws.Expect("snapshot", "c")
	got := map[string]int{}
	for _, it := range snap.JSON["items"].([]any) {
		got[it.(map[string]any)["name"].(string)]++
	}
	wg.Wait()
	for len(got) < writers*each {
		m := ws.Expect("change", "c")
		if m.Op != "created" || m.Position() <= snap.Position() {
			t.Fatalf("unexpected change after the snapshot at %d: %s", snap.Position(), m.Raw)
		}
		got[m.Record()["name"].(string)]++
	}
	for name, n := range got {
		if n != 1 {
			t.Errorf("%s seen %d times", name, n)
		}
	}
	if extra := ws.Sync(); len(extra) != 0 {
		t.Fatalf("unexpected: %s", extra[0].Raw)
	}
}

func TestUnsubscribeStopsEvents(t *testing.T) {
	s := start(t)
	ws := s.MustDialWS(t, s.AdminToken)
	ws.Send(subscribe("a", "deal", ""))
	ws.Expect("snapshot", "a")
	ws.Send(subscribe("b", "deal", ""))
	ws.Expect("snapshot", "b")
	ws.Send(map[string]any{"type": "unsubscribe", "sub": "a"})
	id := create(t, s, s.AdminToken, "deal", map[string]any{"title": "t"})
	if m := ws.Expect("change", "b"); m.Record()["id"] != id {
		t.Fatalf("want the deal on b: %s", m.Raw)
	}
	if extra := ws.Sync(); len(extra) != 0 {
		t.Fatalf("an unsubscribed view got: %s", extra[0].Raw)
	}
	ws.Send(map[string]any{"type": "unsubscribe", "sub": "a"})
	if m := ws.Expect("error", "a"); !strings.Contains(m.Raw, `"not_found"`) {
		t.Fatalf("second unsubscribe: %s", m.Raw)
	}
}

func TestNotificationArrivesOnEverySocketOfItsUser(t *testing.T) {
	s := start(t)
	_, sales := s.AddUser(t, "sales@example.com", "sales")
	ws1, ws2 := s.MustDialWS(t, sales), s.MustDialWS(t, sales)
	other := s.MustDialWS(t, s.AdminToken)
	id := create(t, s, sales, "deal", map[string]any{"title": "Big fleet"})
	var nid string
	for _, ws := range []*testkit.WS{ws1, ws2} {
		m := ws.Expect("notification", "")
		n := m.JSON["notification"].(map[string]any)
		if n["message"] != "New deal Big fleet" || n["title"] != "Big deal" || n["record"] != id || n["entity"] != "deal" ||
			n["rule"] != "deal_owner_told" || n["read"] != false || n["at"] == nil || n["id"] == "" {
			t.Fatalf("notification: %s", m.Raw)
		}
		nid = n["id"].(string)
	}
	if extra := other.Sync(); len(extra) != 0 {
		t.Fatalf("another user got: %s", extra[0].Raw)
	}
	s.Run(t, []testkit.Scenario{
		{Name: "listed, unread", Method: "GET", Path: "/api/v1/notifications?unread=true", Token: sales, Status: 200,
			Contains: []string{`"unread":1`, `"message":"New deal Big fleet"`, `"next_cursor":""`}},
		{Name: "another user's is not found", Method: "POST", Path: "/api/v1/notifications/" + nid + "/read", Token: s.AdminToken, Status: 404},
		{Name: "read one", Method: "POST", Path: "/api/v1/notifications/" + nid + "/read", Token: sales, Status: 204},
		{Name: "none unread", Method: "GET", Path: "/api/v1/notifications?unread=true", Token: sales, Status: 200,
			Contains: []string{`"unread":0`, `"items":[]`}},
		{Name: "still listed", Method: "GET", Path: "/api/v1/notifications", Token: sales, Status: 200,
			Contains: []string{`"read":true`}},
	})
}

// TestNotificationReadReachesEverySocketOfItsUser: marking notifications
// read over REST (one, some, all) tells every open socket of the user, so
// that the bell of another tab goes out; another user hears nothing, and a
// mark that changes nothing sends nothing.
func TestNotificationReadReachesEverySocketOfItsUser(t *testing.T) {
	s := start(t)
	_, sales := s.AddUser(t, "sales@example.com", "sales")
	tab1, tab2 := s.MustDialWS(t, sales), s.MustDialWS(t, sales)
	other := s.MustDialWS(t, s.AdminToken)
	var nids []string
	for i := range 4 {
		create(t, s, sales, "deal", map[string]any{"title": fmt.Sprintf("Big %d", i)})
		m := tab1.Expect("notification", "")
		tab2.Expect("notification", "")
		nids = append(nids, m.JSON["notification"].(map[string]any)["id"].(string))
	}
	expectRead := func(what, want string) {
		t.Helper()
		for i, ws := range []*testkit.WS{tab1, tab2} {
			if m := ws.Expect("notification_read", ""); m.Raw != want {
				t.Errorf("%s, tab %d: %s; want %s", what, i+1, m.Raw, want)
			}
		}
	}
	post := func(path string, body any) {
		t.Helper()
		if res := s.Do(t, "POST", path, sales, body); res.Status != 204 {
			t.Fatalf("POST %s: %d %s", path, res.Status, res.Body)
		}
	}
	post("/api/v1/notifications/"+nids[0]+"/read", nil)
	expectRead("one", `{"ids":["`+nids[0]+`"],"type":"notification_read"}`)
	post("/api/v1/notifications/read", map[string]any{"ids": []string{nids[0], nids[1], "nope"}})
	expectRead("some: only the one that was unread", `{"ids":["`+nids[1]+`"],"type":"notification_read"}`)
	post("/api/v1/notifications/"+nids[1]+"/read", nil) // already read: nothing to tell
	post("/api/v1/notifications/read", nil)
	expectRead("all", `{"all":true,"ids":["`+nids[3]+`","`+nids[2]+`"],"type":"notification_read"}`)
	for _, ws := range []*testkit.WS{tab1, tab2, other} {
		if extra := ws.Sync(); len(extra) != 0 {
			t.Errorf("more than was read: %s", extra[0].Raw)
		}
	}
}

func TestNotificationPagesAndReadAll(t *testing.T) {
	s := start(t)
	_, sales := s.AddUser(t, "sales@example.com", "sales")
	ws := s.MustDialWS(t, sales)
	for i := range 5 {
		create(t, s, sales, "deal", map[string]any{"title": fmt.Sprintf("Big %d", i)})
		ws.Expect("notification", "")
	}
	var seen []string
	cursor := ""
	for {
		res := s.Do(t, "GET", "/api/v1/notifications?limit=2&cursor="+cursor, sales, nil)
		if res.Status != 200 || res.JSON["unread"].(float64) != 5 {
			t.Fatalf("page: %d %s", res.Status, res.Body)
		}
		for _, it := range res.JSON["items"].([]any) {
			seen = append(seen, it.(map[string]any)["message"].(string))
		}
		if cursor, _ = res.JSON["next_cursor"].(string); cursor == "" {
			break
		}
	}
	want := []string{"New deal Big 4", "New deal Big 3", "New deal Big 2", "New deal Big 1", "New deal Big 0"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("pages, newest first: %v", seen)
	}
	s.Run(t, []testkit.Scenario{
		{Name: "bad cursor", Method: "GET", Path: "/api/v1/notifications?cursor=zz", Token: sales, Status: 400, Contains: []string{`"field":"cursor"`}},
		{Name: "bad limit", Method: "GET", Path: "/api/v1/notifications?limit=0", Token: sales, Status: 400, Contains: []string{`"field":"limit"`}},
		{Name: "bad unread", Method: "GET", Path: "/api/v1/notifications?unread=maybe", Token: sales, Status: 400},
		{Name: "bad id", Method: "POST", Path: "/api/v1/notifications/read", Token: sales, Body: map[string]any{"ids": []string{"a/b"}}, Status: 422, Contains: []string{`"field":"ids"`}},
		{Name: "read all", Method: "POST", Path: "/api/v1/notifications/read", Token: sales, Status: 204},
		{Name: "none unread", Method: "GET", Path: "/api/v1/notifications", Token: sales, Status: 200, Contains: []string{`"unread":0`}, NotContains: []string{`"read":false`}},
	})
}

func TestSlowClientIsDroppedAndTheOthersKeepUp(t *testing.T) {
	s := start(t)
	fast := s.MustDialWS(t, s.AdminToken)
	fast.Send(subscribe("m", "memo", ""))
	fast.Expect("snapshot", "m")
	slow := s.MustDialWS(t, s.AdminToken)
	// Many views of the same entity: each change is that many messages for
	// the slow client, which reads none of them.
	const views = 40
	for i := range views {
		slow.Send(subscribe(fmt.Sprint("v", i), "memo", ""))
	}
	body := strings.Repeat("x", 90_000)
	const writes = 60
	for i := range writes {
		id := create(t, s, s.AdminToken, "memo", map[string]any{"body": body})
		if m := fast.Expect("change", "m"); m.Record()["id"] != id {
			t.Fatalf("write %d: fast client got %s", i, m.Raw[:min(len(m.Raw), 200)])
		}
	}
	// The slow client reads what was buffered, then the close: 1008 "too
	// slow" when the close frame found room in its buffers in time, else the
	// connection just ends (1006); /metrics says why, below.
	for {
		m := slow.Next()
		if m.Close != nil {
			if m.Close.Code == websocket.ClosePolicyViolation && !strings.Contains(m.Close.Text, "too slow") ||
				m.Close.Code != websocket.ClosePolicyViolation && m.Close.Code != websocket.CloseAbnormalClosure {
				t.Fatalf("slow client closed with %v", m.Close)
			}
			break
		}
	}
	s.Run(t, []testkit.Scenario{{Name: "metrics count the drop", Method: "GET", Path: "/metrics", Token: s.AdminToken, Status: 200,
		Contains: []string{`crm_ws_dropped_total{reason="slow"} 1`, "crm_ws_clients ", "crm_ws_subscriptions ", "crm_ws_feed_lag "}}})
}

func TestDroppedClientLeavesTheHub(t *testing.T) {
	s := start(t)
	ws := s.MustDialWS(t, s.AdminToken)
	ws.Send(subscribe("c", "contact", ""))
	ws.Expect("snapshot", "c")
	ws.Conn.Close()
	// A write after the close is dispatched to no one, and the server
	// still serves the next client.
	create(t, s, s.AdminToken, "contact", map[string]any{"name": "after"})
	next := s.MustDialWS(t, s.AdminToken)
	next.Send(subscribe("c", "contact", ""))
	if snap := next.Expect("snapshot", "c"); !strings.Contains(snap.Raw, "after") {
		t.Fatalf("snapshot: %s", snap.Raw)
	}
}

func TestCostlyFilterEndsItsViewOnly(t *testing.T) {
	s := start(t)
	ws := s.MustDialWS(t, s.AdminToken)
	ws.Send(subscribe("costly", "memo", "!all(1..999990, {# > 0})"))
	ws.Expect("snapshot", "costly") // no memo yet: nothing to run it on
	ws.Send(subscribe("cheap", "memo", ""))
	ws.Expect("snapshot", "cheap")
	id := create(t, s, s.AdminToken, "memo", map[string]any{"body": "one"})
	var got []string
	for len(got) < 2 {
		m := ws.Next()
		switch {
		case m.Type == "error" && m.Sub == "costly" && strings.Contains(m.Raw, `"code":"filter_budget_exceeded"`):
			got = append(got, "error")
		case m.Type == "change" && m.Sub == "cheap" && m.Record()["id"] == id:
			got = append(got, "change")
		default:
			t.Fatalf("unexpected: %s", m.Raw)
		}
	}
	create(t, s, s.AdminToken, "memo", map[string]any{"body": "two"})
	if m := ws.Expect("change", "cheap"); m.Record()["body"] != "two" {
		t.Fatalf("cheap view: %s", m.Raw)
	}
	if extra := ws.Sync(); len(extra) != 0 {
		t.Fatalf("the ended view still got: %s", extra[0].Raw)
	}
}
