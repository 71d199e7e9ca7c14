package api_test

import (
	"encoding/csv"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

func TestExportScenarios(t *testing.T) {
	s := startUI(t)
	admin := s.AdminToken
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	c := s.Do(t, "POST", "/api/v1/records/contact", admin, map[string]any{"name": "=HYPERLINK(\"x\")", "phone": "091 123456"})
	if c.Status != 201 {
		t.Fatal(c.Body)
	}
	cid := c.JSON["id"].(string)
	for i := range 1203 { // three pages of the export and a bit
		body := map[string]any{"vin": fmt.Sprintf("V%04d", i), "mileage": i, "bought": "2026-03-21", "buyer": cid,
			"price": map[string]any{"amount": "1500.50", "currency": "AMD"}}
		if i%2 == 1 {
			delete(body, "price")
		}
		if res := s.Do(t, "POST", "/api/v1/records/vehicle", admin, body); res.Status != 201 {
			t.Fatal(res.Body)
		}
	}
	s.Run(t, []testkit.Scenario{
		{Name: "an entity the caller may not read", Method: "GET", Path: "/api/v1/records/vehicle/export", Token: viewer, Status: 403},
		{Name: "an unknown column", Method: "GET", Path: "/api/v1/records/vehicle/export?columns=vin,milage", Token: admin, Status: 400,
			Contains: []string{`"field":"columns"`, `did you mean \"mileage\"`}},
		{Name: "a bad filter has its position", Method: "GET", Path: "/api/v1/records/vehicle/export?filter=" + url.QueryEscape("vin == 'x' && nope"), Token: admin, Status: 400,
			Contains: []string{`"code":"invalid_filter"`, `"column":`}},
		{Name: "a bad sort", Method: "GET", Path: "/api/v1/records/vehicle/export?sort=nope", Token: admin, Status: 400, Contains: []string{`"field":"sort"`}},
		{Name: "no credentials", Method: "GET", Path: "/api/v1/records/vehicle/export", Status: 401},
	})

	res := s.Do(t, "GET", "/api/v1/records/vehicle/export?sort=-mileage&columns=vin,price,bought,buyer,mileage,created_at&filter="+url.QueryEscape("mileage >= 3"), admin, nil)
	if res.Status != 200 {
		t.Fatalf("export: %d %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="vehicle-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "vin,price.amount,price.currency,bought,buyer,mileage,created_at" {
		t.Fatalf("header %q", got)
	}
	if len(rows) != 1+1200 {
		t.Fatalf("%d rows, want 1200 and the header", len(rows)-1)
	}
	if got := rows[1]; got[0] != "V1202" || got[1] != "1500.50" || got[2] != "AMD" || got[5] != "1202" || !strings.HasSuffix(got[6], "Z") {
		t.Errorf("first row: money as amount and currency, datetimes in UTC: %q", got)
	}
	if got := rows[2]; got[0] != "V1201" || got[1] != "" || got[2] != "" || got[3] != "2026-03-21" || got[4] != cid {
		t.Errorf("second row (odd ones have no price; a date ISO; a ref its id) %q", got)
	}
	if last := rows[len(rows)-1]; last[0] != "V0003" {
		t.Errorf("last row %q", last)
	}

	all := s.Do(t, "GET", "/api/v1/records/contact/export", admin, nil)
	rows, err = csv.NewReader(strings.NewReader(all.Body)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("contacts: %v %q", err, all.Body)
	}
	if got := strings.Join(rows[0], ","); !strings.HasPrefix(got, "id,name,email,phone,company,") || !strings.HasSuffix(got, ",owner,created_at,updated_at") {
		t.Errorf("default columns %q", got)
	}
	if rows[1][1] != `'=HYPERLINK("x")` || rows[1][3] != "+37491123456" {
		t.Errorf("a formula is defused, a phone is not: %q", rows[1])
	}
}
