package api_test

import (
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

func TestSavedViewScenarios(t *testing.T) {
	s := startUI(t)
	admin := s.AdminToken
	_, sales := s.AddUser(t, "sales@example.com", "sales")
	_, sales2 := s.AddUser(t, "sales2@example.com", "sales")
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")

	mine := s.Do(t, "POST", "/api/v1/views", sales, map[string]any{"name": "My open deals", "entity": "deal",
		"filter": "stage != 'won'", "sort": "-amount,title", "columns": []string{"title", "amount", "stage"}})
	if mine.Status != 201 {
		t.Fatalf("create view: %d %s", mine.Status, mine.Body)
	}
	mineID := mine.JSON["id"].(string)
	shared := s.Do(t, "POST", "/api/v1/views", sales, map[string]any{"name": "Team pipeline", "entity": "deal", "shared": true})
	if shared.Status != 201 {
		t.Fatalf("create shared view: %d %s", shared.Status, shared.Body)
	}
	sharedID := shared.JSON["id"].(string)

	s.Run(t, []testkit.Scenario{
		{Name: "the view as saved", Method: "GET", Path: "/api/v1/views?entity=deal", Token: sales, Status: 200,
			Contains: []string{`"name":"My open deals"`, `"filter":"stage != 'won'"`, `"sort":"-amount,title"`, `"columns":["title","amount","stage"]`, `"shared":false`, `"owner":"`, `"name":"Team pipeline"`}},
		{Name: "another user sees only the shared view", Method: "GET", Path: "/api/v1/views?entity=deal", Token: sales2, Status: 200,
			Contains: []string{`"name":"Team pipeline"`}, NotContains: []string{"My open deals"}},
		{Name: "all entities", Method: "GET", Path: "/api/v1/views", Token: sales2, Status: 200, Contains: []string{`"name":"Team pipeline"`}, NotContains: []string{"My open deals"}},
		{Name: "a reader without the entity sees none", Method: "GET", Path: "/api/v1/views", Token: viewer, Status: 200, Contains: []string{`"items":[]`}},
		{Name: "an entity the caller may not read", Method: "GET", Path: "/api/v1/views?entity=deal", Token: viewer, Status: 403},
		{Name: "an unknown entity", Method: "GET", Path: "/api/v1/views?entity=dael", Token: sales, Status: 404, Contains: []string{`"code":"unknown_entity"`}},
		{Name: "a bad filter has its position", Method: "POST", Path: "/api/v1/views", Token: sales, Body: map[string]any{"name": "x", "entity": "deal", "filter": "stage == 'won' && amout > 5"}, Status: 422,
			Contains: []string{`"code":"invalid_filter"`, `"field":"filter"`, `"line":1`, `"column":19`, "amout"}},
		{Name: "a bad sort", Method: "POST", Path: "/api/v1/views", Token: sales, Body: map[string]any{"name": "x", "entity": "deal", "sort": "-amout"}, Status: 422,
			Contains: []string{`"field":"sort"`, `did you mean \"amount\"`}},
		{Name: "a bad column", Method: "POST", Path: "/api/v1/views", Token: sales, Body: map[string]any{"name": "x", "entity": "deal", "columns": []string{"title", "titel"}}, Status: 422,
			Contains: []string{`"field":"columns"`, "titel"}},
		{Name: "a column twice", Method: "POST", Path: "/api/v1/views", Token: sales, Body: map[string]any{"name": "x", "entity": "deal", "columns": []string{"title", "title"}}, Status: 422,
			Contains: []string{`"field":"columns"`}},
		{Name: "no name", Method: "POST", Path: "/api/v1/views", Token: sales, Body: map[string]any{"name": " ", "entity": "deal"}, Status: 422, Contains: []string{`"field":"name"`}},
		{Name: "no entity", Method: "POST", Path: "/api/v1/views", Token: sales, Body: map[string]any{"name": "x"}, Status: 422, Contains: []string{`"field":"entity"`}},
		{Name: "an entity the caller may not read", Method: "POST", Path: "/api/v1/views", Token: viewer, Body: map[string]any{"name": "x", "entity": "deal"}, Status: 403},
		{Name: "an unknown key", Method: "POST", Path: "/api/v1/views", Token: sales, Body: map[string]any{"name": "x", "entity": "deal", "colums": []string{}}, Status: 400},
		{Name: "columns of the wrong type", Method: "POST", Path: "/api/v1/views", Token: sales, Body: map[string]any{"name": "x", "entity": "deal", "columns": "title"}, Status: 400},
		{Name: "others may not change a shared view", Method: "PATCH", Path: "/api/v1/views/" + sharedID, Token: sales2, Body: map[string]any{"name": "mine now"}, Status: 403},
		{Name: "others may not delete it", Method: "DELETE", Path: "/api/v1/views/" + sharedID, Token: sales2, Status: 403},
		{Name: "a private view is not found for others", Method: "PATCH", Path: "/api/v1/views/" + mineID, Token: sales2, Body: map[string]any{"name": "x"}, Status: 404},
		{Name: "the entity cannot change", Method: "PATCH", Path: "/api/v1/views/" + mineID, Token: sales, Body: map[string]any{"entity": "contact"}, Status: 422, Contains: []string{`"field":"entity"`}},
		{Name: "a bad filter on update", Method: "PATCH", Path: "/api/v1/views/" + mineID, Token: sales, Body: map[string]any{"filter": "stage =="}, Status: 422, Contains: []string{`"code":"invalid_filter"`, `"line":1`}},
		{Name: "the owner shares it", Method: "PATCH", Path: "/api/v1/views/" + mineID, Token: sales, Body: map[string]any{"shared": true, "name": "Open deals"}, Status: 200,
			Contains: []string{`"shared":true`, `"name":"Open deals"`, `"filter":"stage != 'won'"`}},
		{Name: "now others see it", Method: "GET", Path: "/api/v1/views?entity=deal", Token: sales2, Status: 200, Contains: []string{`"name":"Open deals"`}},
		{Name: "an admin may change anyone's", Method: "PATCH", Path: "/api/v1/views/" + sharedID, Token: admin, Body: map[string]any{"columns": []string{"title", "owner", "created_at"}}, Status: 200,
			Contains: []string{`"columns":["title","owner","created_at"]`}},
		{Name: "the owner deletes", Method: "DELETE", Path: "/api/v1/views/" + mineID, Token: sales, Status: 204},
		{Name: "gone", Method: "DELETE", Path: "/api/v1/views/" + mineID, Token: sales, Status: 404},
	})
}
