package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store/postgres"
	"github.com/crmkit/crm/core/testkit"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

// multiNodeConfig is the configuration both nodes of a multi-node test
// load: the PostgreSQL store, a short lease so that takeover is quick, and
// an entity with a unique field. %s is the node's id.
const multiNodeConfig = `
server {
  listen   = "127.0.0.1:8080"
  data_dir = "data"
  store    = "postgres"
  node_id  = "%s"
  lease    = "3s"
}
locale { currency = "AMD" }
entity "vehicle" {
  field "vin" {
    type     = "string"
    required = true
    unique   = true
  }
}
`

// multiNodeRule is the rule of the takeover test: every contact created
// gets one follow-up task and a note (two effects, each with its key).
const multiNodeRule = `
rule "follow_up" {
  on = ["contact.created"]
  action "create_task" {
    title = "'Follow up ' + record.name"
  }
  action "set" {
    notes = "'follow-up task created'"
  }
}
`

// startNodes starts two crm serve processes (crm-a and crm-b) on one fresh
// PostgreSQL database, each with its own configuration directory (the
// same HCL plus extra, its own node_id) and data directory. It returns
// the nodes and the database's URL.
func startNodes(t *testing.T, extra string) (a, b *child, url string) {
	t.Helper()
	url = pgtest.DB(t)
	bin := testkit.Binary(t)
	start := func(id string) *child {
		dir := filepath.Join(t.TempDir(), id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "crm.hcl")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(multiNodeConfig, id)+extra), 0o600); err != nil {
			t.Fatal(err)
		}
		c := startChild(t, bin, cfg, filepath.Join(dir, "data"), "CRM_POSTGRES_URL="+url)
		t.Cleanup(func() {
			c.cmd.Process.Signal(syscall.SIGTERM)
			c.cmd.Wait()
			if t.Failed() {
				t.Logf("node %s log:\n%s", id, c.logs)
			}
		})
		return c
	}
	// One after the other: the first creates the schema and the admin.
	a = start("crm-a")
	b = start("crm-b")
	return a, b, url
}

// TestTwoNodesOneStore runs two nodes on one PostgreSQL database: what is
// written through one is seen live on the other's websocket, a unique
// value written concurrently through both is taken once, and a session
// ended on one is refused on the other.
func TestTwoNodesOneStore(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test in -short mode")
	}
	a, b, _ := startNodes(t, "")
	client := &http.Client{Timeout: 30 * time.Second}
	tokenA, tokenB := login(t, a, client), login(t, b, client)

	t.Run("write on A appears on B's websocket", func(t *testing.T) {
		ws := (&testkit.Server{URL: b.url}).MustDialWS(t, tokenB)
		ws.Send(map[string]any{"type": "subscribe", "sub": "s1", "entity": "contact"})
		ws.Expect("snapshot", "s1")
		code, rec, err := a.call(client, "POST", "/api/v1/records/contact", tokenA, map[string]any{"name": "Written on A"})
		if err != nil || code != 201 {
			t.Fatalf("create on A: %d %v %v", code, rec, err)
		}
		m := ws.Expect("change", "s1")
		if m.Op != "created" || m.Record()["id"] != rec["id"] || m.Record()["name"] != "Written on A" {
			t.Fatalf("B's websocket got %s, want the contact %v created", m.Raw, rec["id"])
		}
		// An update through A arrives too, after the create.
		code, _, err = a.call(client, "PATCH", "/api/v1/records/contact/"+rec["id"].(string), tokenA, map[string]any{"name": "Renamed on A"})
		if err != nil || code != 200 {
			t.Fatalf("update on A: %d %v", code, err)
		}
		m = ws.Expect("change", "s1")
		if m.Op != "updated" || m.Record()["name"] != "Renamed on A" {
			t.Fatalf("B's websocket got %s, want the rename", m.Raw)
		}
	})

	t.Run("concurrent unique writes on both nodes: exactly one wins", func(t *testing.T) {
		const rounds, writers = 10, 16
		for round := range rounds {
			vin := fmt.Sprintf("VIN-%d", round)
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				codes = map[int]int{}
				start = make(chan struct{})
			)
			for w := range writers {
				node, token := a, tokenA
				if w%2 == 1 {
					node, token = b, tokenB
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					code, body, err := node.call(client, "POST", "/api/v1/records/vehicle", token, map[string]any{"vin": vin})
					if err != nil {
						t.Errorf("create %s: %v", vin, err)
						return
					}
					if code != 201 && code != 409 {
						t.Errorf("create %s: %d %v", vin, code, body)
					}
					mu.Lock()
					codes[code]++
					mu.Unlock()
				}()
			}
			close(start)
			wg.Wait()
			if codes[201] != 1 || codes[409] != writers-1 {
				t.Fatalf("round %d: answers %v, want one 201 and %d 409", round, codes, writers-1)
			}
			code, res, err := b.call(client, "GET", "/api/v1/records/vehicle?count=true&filter="+neturl.QueryEscape("vin == '"+vin+"'"), tokenB, nil)
			if err != nil || code != 200 || res["total"] != float64(1) {
				t.Fatalf("round %d: vehicles with vin %s: %d %v %v", round, vin, code, res, err)
			}
		}
	})

	t.Run("a session ended on A is refused on B", func(t *testing.T) {
		token := login(t, a, client)
		if code, _, err := b.call(client, "GET", "/api/v1/auth/me", token, nil); err != nil || code != 200 {
			t.Fatalf("B before logout: %d %v", code, err)
		}
		if code, _, _ := a.call(client, "POST", "/api/v1/auth/logout", token, nil); code != 204 {
			t.Fatalf("logout on A: %d", code)
		}
		// README: "a revoked session is refused on every node as soon as
		// the revocation has committed", i.e. when A has answered: B
		// reads the committed feed head before it trusts its cache.
		if code, _, err := b.call(client, "GET", "/api/v1/auth/me", token, nil); err != nil || code != 401 {
			t.Fatalf("B right after A answered the logout: %d %v, want 401", code, err)
		}
		if code, _, _ := a.call(client, "GET", "/api/v1/auth/me", token, nil); code != 401 {
			t.Fatalf("A after logout: %d, want 401", code)
		}
		// The other sessions go on.
		if code, _, _ := b.call(client, "GET", "/api/v1/auth/me", tokenB, nil); code != 200 {
			t.Fatalf("B's own session after A's logout: %d", code)
		}
	})

	t.Run("a session ended on A closes its websocket on B", func(t *testing.T) {
		token := login(t, a, client)
		ws := (&testkit.Server{URL: b.url}).MustDialWS(t, token)
		other := (&testkit.Server{URL: b.url}).MustDialWS(t, tokenB)
		if code, _, _ := a.call(client, "POST", "/api/v1/auth/logout", token, nil); code != 204 {
			t.Fatalf("logout on A: %d", code)
		}
		// At once (docs/websocket.md), not at the periodic re-check: B's
		// hub reads the revocation, with the session's id, in the feed.
		if m := ws.Next(); m.Close == nil || !strings.Contains(m.Close.Text, "session ended") {
			t.Fatalf("B's socket of the session ended on A: %s, want a close saying the session ended", m.Raw)
		}
		other.Sync() // B's socket of another session stays open
	})
}

// TestRulesExactlyOnceAcrossNodesKill9 creates 1,000 contacts spread over
// two nodes with a rule on each; halfway, the node holding the rules
// lease is killed with SIGKILL. The other takes the lease over and, in
// the end, every contact has exactly one follow-up task and its note.
func TestRulesExactlyOnceAcrossNodesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node crash test in -short mode")
	}
	const total = 1000
	a, b, url := startNodes(t, multiNodeRule)
	client := &http.Client{Timeout: 30 * time.Second}
	tokens := map[*child]string{a: login(t, a, client), b: login(t, b, client)}

	// create makes contacts from..to-1 through the nodes given, in turn,
	// four writers per node; every one must be acknowledged.
	create := func(from, to int, nodes ...*child) {
		t.Helper()
		next := make(chan int)
		var wg sync.WaitGroup
		for _, n := range nodes {
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						body := map[string]any{"name": fmt.Sprintf("lead-%04d", i)}
						if code, res, err := n.call(client, "POST", "/api/v1/records/contact", tokens[n], body); err != nil || code != 201 {
							t.Errorf("create lead-%04d: %d %v %v", i, code, res, err)
						}
					}
				}()
			}
		}
		for i := from; i < to; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	create(0, total/2, a, b)

	holder := rulesLeaseHolder(t, a, b)
	survivor := b
	if holder == b {
		survivor = a
	}
	_, st, _ := survivor.call(client, "GET", "/api/v1/rules", tokens[survivor], nil)
	if err := holder.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	holder.cmd.Wait()
	t.Logf("killed the rules lease's holder at engine position %v of %v", st["engine_position"], st["feed_position"])

	create(total/2, total, survivor)

	// The survivor takes the lease over once it expired and catches up.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, res, err := survivor.call(client, "GET", "/api/v1/records/task?count=true&limit=1", tokens[survivor], nil)
		_, rs, _ := survivor.call(client, "GET", "/api/v1/rules", tokens[survivor], nil)
		if err == nil && code == 200 && res["total"] == float64(total) && caughtUp(rs) {
			break
		}
		if err == nil && code == 200 && res["total"].(float64) > total {
			t.Fatalf("%v tasks for %d contacts", res["total"], total)
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks: %d %v %v; rules: %v", code, res["total"], err, rs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(survivor.logs.String(), `"consumer:rules"`) {
		t.Fatalf("the survivor never took the rules lease:\n%s", survivor.logs)
	}

	cfgPath := filepath.Join(t.TempDir(), "crm.hcl")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(multiNodeConfig, "check")+multiNodeRule), 0o600); err != nil {
		t.Fatal(err)
	}
	pg, err := postgres.Open(context.Background(), url, loadSchema(t, cfgPath), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if leads := checkOneTaskPerLead(t, pg); leads != total {
		t.Fatalf("%d contacts stored, want %d", leads, total)
	}
}

// rulesLeaseHolder reads the nodes' logs for the rules consumer's lease:
// the node whose last word on it is "lease acquired" holds it. It waits
// for one to hold it.
func rulesLeaseHolder(t *testing.T, nodes ...*child) *child {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var holders []*child
		for _, n := range nodes {
			last := ""
			sc := bufio.NewScanner(strings.NewReader(n.logs.String()))
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				var line struct {
					Msg   string `json:"msg"`
					Lease string `json:"lease"`
				}
				if json.Unmarshal(sc.Bytes(), &line) == nil && line.Lease == "consumer:rules" {
					last = line.Msg
				}
			}
			if last == "lease acquired" {
				holders = append(holders, n)
			}
		}
		if len(holders) == 1 {
			return holders[0]
		}
		if len(holders) > 1 {
			t.Fatalf("both nodes say they hold the rules lease")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no node took the rules lease")
	return nil
}
