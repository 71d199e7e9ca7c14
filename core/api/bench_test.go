package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

// BenchmarkHTTPCreate reports records created per second through the HTTP
// API (auth, validation, record + history + outbox in one fsynced group
// commit) from 16 concurrent clients, and the ratio to raw Badger
// transactions writing the same bytes from as many writers.
func BenchmarkHTTPCreate(b *testing.B) {
	const clients = 16
	s := testkit.Start(b, map[string]string{"crm.hcl": testConfig})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	create := func(i int) error {
		body, _ := json.Marshal(map[string]any{"vin": fmt.Sprintf("VIN%09d", i), "mileage": i, "status": "in_stock",
			"price": map[string]string{"amount": "15000.00", "currency": "AMD"}})
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/records/vehicle", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.AdminToken)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		if res.StatusCode != 201 {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	if err := create(-1); err != nil {
		b.Fatal(err)
	}
	sizes := writeSizes(b, s)
	n := max(b.N, 2000)
	b.ResetTimer()
	d, err := testkit.RunConcurrent(n, clients, create)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	raw := testkit.RawBadgerWrites(b, n, clients, sizes)
	b.ReportMetric(float64(n)/d.Seconds(), "creates/s")
	b.ReportMetric(float64(n)/raw.Seconds(), "raw_badger_txns/s")
	b.ReportMetric(raw.Seconds()/d.Seconds(), "x_raw_badger_speed")
}

// writeSizes measures what one vehicle write stores: record, history entry,
// outbox event.
func writeSizes(b *testing.B, s *testkit.Server) []int {
	ctx := context.Background()
	evs, err := s.App.Store.Events(ctx, 0, 1)
	if err != nil || len(evs) == 0 {
		b.Fatal(err)
	}
	rec, err := s.App.Store.Get(ctx, evs[0].Entity, evs[0].ID)
	if err != nil {
		b.Fatal(err)
	}
	hist, _ := s.App.Store.History(ctx, rec.Entity, rec.ID)
	vals, _ := s.App.Schema.Entity(rec.Entity).MarshalValues(rec.Values)
	hj, _ := json.Marshal(hist[0])
	ej, _ := json.Marshal(evs[0])
	return []int{len(vals) + 120, len(hj), len(ej)}
}
