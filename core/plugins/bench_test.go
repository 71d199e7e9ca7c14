package plugins_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
)

// BenchmarkPluginCalls measures calls to a real plugin process, each as a
// ratio (x_bare) to go-plugin's bare gRPC round trip of an empty method
// (its health ping) measured in the same run, and event delivery in
// batches of 100 as events per second.
func BenchmarkPluginCalls(b *testing.B) {
	e := newEnv(b, plugins.Options{})
	if err := e.host.Start(background(), []*config.Plugin{thirdParty(b, "tp", testplugin.ModeOK)}); err != nil {
		b.Fatal(err)
	}
	ping := plugins.BarePing(e.host, "tp")
	created, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "create",
		Args: map[string]any{"entity": "contact", "values": map[string]any{"name": "Bench"}}})
	if err != nil {
		b.Fatal(err)
	}
	var out struct{ Record struct{ ID string } }
	if err := json.Unmarshal(created, &out); err != nil || out.Record.ID == "" {
		b.Fatalf("create: %s %v", created, err)
	}

	calls := []struct {
		name string
		call plugins.Call
	}{
		// An action that answers at once: the host's and the SDK's overhead.
		{"invoke_echo", plugins.Call{Action: "echo", Args: map[string]any{"text": "hi"}, User: &plugins.User{ID: "u1"}, IdempotencyKey: "k"}},
		// An action that reads a record back through the host: two round trips.
		{"invoke_host_get", plugins.Call{Action: "get", Args: map[string]any{"entity": "contact", "id": out.Record.ID}}},
	}
	// The baseline runs first; its last (longest) run sets baseNs.
	var baseNs float64
	b.Run("bare_ping", func(b *testing.B) {
		for b.Loop() {
			if err := ping(); err != nil {
				b.Fatal(err)
			}
		}
		baseNs = perOp(b)
		b.ReportMetric(1, "x_bare")
	})
	if baseNs == 0 {
		b.Fatal("the baseline did not run (a -bench pattern must match bare_ping)")
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.host.Invoke(background(), "tp", c.call); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(perOp(b)/baseNs, "x_bare")
			b.ReportMetric(baseNs/1e3, "bare_us")
		})
	}
	b.Run("events_batch_100", func(b *testing.B) {
		batch := make([]plugins.Event, 100)
		rec := json.RawMessage(`{"id":"c1","entity":"contact","name":"Ani","email":"ani@example.com"}`)
		for i := range batch {
			batch[i] = plugins.Event{Seq: uint64(i), Name: "contact.updated", Entity: "contact", ID: "c1",
				At: time.Now(), Record: rec, IdempotencyKey: fmt.Sprint("e", i)}
		}
		for b.Loop() {
			if err := e.host.HandleEvents(background(), "tp", batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(batch)*b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(perOp(b)/baseNs, "x_bare")
	})
}

func perOp(b *testing.B) float64 { return float64(b.Elapsed().Nanoseconds()) / float64(b.N) }
