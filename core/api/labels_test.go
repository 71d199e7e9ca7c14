package api_test

import (
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

func TestSchemaCarriesLocaleAndLabels(t *testing.T) {
	s := startUI(t)
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	s.Run(t, []testkit.Scenario{
		{Name: "locale block", Method: "GET", Path: "/api/v1/schema", Token: s.AdminToken, Status: 200,
			Contains: []string{`"locale":{"calendar":"jalali","currency":"AMD","default":"hy","languages":["en","hy","lt","az","fa","ru"],"timezone":"Asia/Yerevan"}`}},
		{Name: "custom entity and field labels from HCL", Method: "GET", Path: "/api/v1/schema", Token: s.AdminToken, Status: 200,
			Contains: []string{`"label":"Vehicle","labels":{"az":"Avtomobil","fa":"خودرو","hy":"Մեքենա","lt":"Automobilis","ru":"Автомобиль"}`,
				`"labels":{"az":"VIN","fa":"شماره شاسی","hy":"VIN","lt":"VIN","ru":"VIN"}`}},
		{Name: "built-in labels and enum value labels", Method: "GET", Path: "/api/v1/schema", Token: s.AdminToken, Status: 200,
			Contains: []string{`"label":"Contact","labels":{"az":"Əlaqə","en":"Contact","fa":"مخاطب","hy":"Կոնտակտ","lt":"Kontaktas","ru":"Контакт"}`,
				`"call":{"az":"Zəng","en":"Call","fa":"تماس","hy":"Զանգ","lt":"Skambutis","ru":"Звонок"}`,
				`"in_stock":{}`}},
		{Name: "pipeline and stage labels", Method: "GET", Path: "/api/v1/schema", Token: s.AdminToken, Status: 200,
			Contains: []string{`"label":"Sales","labels":{"az":"Satış","en":"Sales","fa":"فروش","hy":"Վաճառքներ","lt":"Pardavimai","ru":"Продажи"},"name":"sales","stage_labels":{`, `"won":{"az":"Qazanılıb","en":"Won","fa":"موفق","hy":"Շահած","lt":"Laimėtas","ru":"Выиграна"}`}},
		{Name: "only the entities the caller may read", Method: "GET", Path: "/api/v1/schema", Token: viewer, Status: 200,
			Contains: []string{`"name":"contact"`, `"locale":{`}, NotContains: []string{`"name":"vehicle"`, `"name":"deal"`}},
	})
}
