package api_test

import (
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

func TestPersianDigitsOverHTTP(t *testing.T) {
	s := startUI(t)
	res := s.Do(t, "POST", "/api/v1/records/vehicle", s.AdminToken, map[string]any{
		"vin": "IR1", "mileage": "۱۲٬۵۰۰", "bought": "۲۰۲۶-۰۳-۲۱", "price": map[string]any{"amount": "٢٥٠٠٫٥٠", "currency": "AMD"},
	})
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	id := res.JSON["id"].(string)
	s.Run(t, []testkit.Scenario{
		{Name: "stored as ASCII", Method: "GET", Path: "/api/v1/records/vehicle/" + id, Token: s.AdminToken, Status: 200,
			Contains: []string{`"mileage":12500`, `"bought":"2026-03-21"`, `"price":{"amount":"2500.50","currency":"AMD"}`}},
		{Name: "an activity at a Persian date-time", Method: "POST", Path: "/api/v1/records/activity", Token: s.AdminToken,
			Body: map[string]any{"kind": "call", "at": "۲۰۲۶-۰۳-۲۱T۱۴:۳۰:۰۰+۰۳:۳۰"}, Status: 201, Contains: []string{`"at":"2026-03-21T11:00:00Z"`}},
		{Name: "a bad Persian date is a positioned 422", Method: "PATCH", Path: "/api/v1/records/vehicle/" + id, Token: s.AdminToken,
			Body: map[string]any{"bought": "۲۰۲۶-۰۲-۳۰"}, Status: 422, Contains: []string{`"field":"bought"`, "۲۰۲۶-۰۲-۳۰"}},
	})
}
