package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

func TestBulkEditScenarios(t *testing.T) {
	s := startUI(t)
	admin := s.AdminToken
	_, sales := s.AddUser(t, "sales@example.com", "sales")
	create := func(token, title string) string {
		res := s.Do(t, "POST", "/api/v1/records/deal", token, map[string]any{"title": title, "stage": "new", "pipeline": "sales"})
		if res.Status != 201 {
			t.Fatalf("create deal: %d %s", res.Status, res.Body)
		}
		return res.JSON["id"].(string)
	}
	mine1, mine2 := create(sales, "one"), create(sales, "two")
	theirs := create(admin, "three")
	tooMany := make([]string, 501)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("id%d", i)
	}
	s.Run(t, []testkit.Scenario{
		{Name: "a bad field is refused before any write", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: sales,
			Body: map[string]any{"ids": []string{mine1, mine2}, "set": map[string]any{"stgae": "won"}}, Status: 422,
			Contains: []string{`"code":"unknown_field"`, `"field":"stgae"`, "stage"}},
		{Name: "a bad value is refused", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: sales,
			Body: map[string]any{"ids": []string{mine1}, "set": map[string]any{"amount": map[string]any{"amount": "1.2.3", "currency": "AMD"}}}, Status: 422,
			Contains: []string{`"field":"amount"`}},
		{Name: "a required field cannot be cleared", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: sales,
			Body: map[string]any{"ids": []string{mine1}, "set": map[string]any{"title": nil}}, Status: 422, Contains: []string{`"code":"required"`, `"field":"title"`}},
		{Name: "nothing changed", Method: "GET", Path: "/api/v1/records/deal/" + mine1, Token: sales, Status: 200, Contains: []string{`"version":1`}},
		{Name: "no ids", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: sales, Body: map[string]any{"set": map[string]any{"stage": "won"}}, Status: 422, Contains: []string{`"field":"ids"`}},
		{Name: "too many ids", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: sales, Body: map[string]any{"ids": tooMany, "set": map[string]any{"stage": "won"}}, Status: 422,
			Contains: []string{`"field":"ids"`, "500"}},
		{Name: "nothing to set", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: sales, Body: map[string]any{"ids": []string{mine1}, "set": map[string]any{}}, Status: 422, Contains: []string{`"field":"set"`}},
		{Name: "set is not an object", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: sales, Body: map[string]any{"ids": []string{mine1}, "set": []int{1}}, Status: 400},
		{Name: "an entity the caller may not write", Method: "POST", Path: "/api/v1/records/company/bulk", Token: sales, Body: map[string]any{"ids": []string{mine1}, "set": map[string]any{"name": "x"}}, Status: 403},
		{Name: "each record on its own: another's (not seen by an own_only user) and a missing one fail alike, the rest are written", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: sales,
			Body: map[string]any{"ids": []string{mine1, theirs, mine2, "01JAAAAAAAAAAAAAAAAAAAAAAA", mine1}, "set": map[string]any{"stage": "won"}}, Status: 200,
			Contains: []string{`"updated":2`, `{"id":"` + theirs + `","error":{"code":"not_found","message":"no deal with id`, `{"id":"01JAAAAAAAAAAAAAAAAAAAAAAA","error":{"code":"not_found","message":"no deal with id`}},
		{Name: "each change is in the record's history", Method: "GET", Path: "/api/v1/records/deal/" + mine2 + "/history", Token: sales, Status: 200,
			Contains: []string{`"stage":{"old":"new","new":"won"}`}},
		{Name: "the other's record is untouched", Method: "GET", Path: "/api/v1/records/deal/" + theirs, Token: admin, Status: 200, Contains: []string{`"stage":"new"`, `"version":1`}},
		{Name: "an admin changes anyone's", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: admin, Body: map[string]any{"ids": []string{theirs}, "set": map[string]any{"source": "fair"}}, Status: 200, Contains: []string{`"updated":1`, `"errors":[]`}},
	})
	res := s.Do(t, "GET", "/api/v1/records/deal/"+mine1, sales, nil)
	if !strings.Contains(res.Body, `"version":2`) {
		t.Fatalf("a repeated id was written twice: %s", res.Body)
	}
}
