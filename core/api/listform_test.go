package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestListItemsAreTheRecordsAPIForm checks that every item of a list
// answer, which is written straight from the record's stored form where it
// can be, is byte for byte the answer of GET on that record (the record's
// API form built from its decoded values), over records with strings that
// need escaping, HTML characters, every script, integers, enums, refs,
// money and files.
func TestListItemsAreTheRecordsAPIForm(t *testing.T) {
	s := start(t)
	admin := s.AdminToken
	names := []string{"Anna", "Smith & <Sons>", `quote " and \ back`, "Սոնա Պետրոսյան", "محمد\u200cرضا", "Jonas Žemaitis", "ağ"}
	var contacts []string
	for i, n := range names {
		r := s.Do(t, "POST", "/api/v1/records/contact", admin, map[string]any{"name": n, "email": fmt.Sprintf("c%d@example.com", i), "phone": "091 12345" + fmt.Sprint(i)})
		if r.Status != 201 {
			t.Fatalf("create %q: %d %s", n, r.Status, r.Body)
		}
		var rec map[string]any
		_ = json.Unmarshal([]byte(r.Body), &rec)
		contacts = append(contacts, rec["id"].(string))
	}
	for i := range 6 {
		v := map[string]any{"vin": fmt.Sprintf("VIN<%d>&", i), "mileage": i * 1000, "status": "sold", "buyer": contacts[i]}
		if i%2 == 0 {
			v["price"] = map[string]any{"amount": "1500.50", "currency": "USD"}
		}
		if r := s.Do(t, "POST", "/api/v1/records/vehicle", admin, v); r.Status != 201 {
			t.Fatalf("create vehicle: %d %s", r.Status, r.Body)
		}
	}
	for _, path := range []string{
		"/api/v1/records/contact?limit=100",
		"/api/v1/records/contact?limit=3&sort=name",
		"/api/v1/records/contact?filter=" + url.QueryEscape("name contains 'a'"),
		"/api/v1/records/vehicle?limit=100&sort=-mileage",
	} {
		r := s.Do(t, "GET", path, admin, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		var page struct{ Items []json.RawMessage }
		if err := json.Unmarshal([]byte(r.Body), &page); err != nil || len(page.Items) == 0 {
			t.Fatalf("%s: %v %s", path, err, r.Body)
		}
		for _, item := range page.Items {
			var rec struct{ ID, Entity string }
			_ = json.Unmarshal(item, &rec)
			one := s.Do(t, "GET", "/api/v1/records/"+rec.Entity+"/"+rec.ID, admin, nil)
			if want := strings.TrimSuffix(one.Body, "\n"); string(item) != want {
				t.Fatalf("%s: item\n%s\nGET\n%s", path, item, want)
			}
		}
	}
}
