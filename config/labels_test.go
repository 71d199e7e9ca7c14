package config

import (
	"slices"
	"strings"
	"testing"
)

func TestLabelsDiagnostics(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown language code", `locale { languages = ["en", "hy", "fa"] }
entity "vehicle" {
  label  = "Vehicle"
  labels = { hy = "Մեքենա", fa = "خودرو", ry = "Автомобиль" }
}`, []string{
			`t.hcl:4:43: error: unknown language "ry" in the labels of entity "vehicle"; did you mean "hy"?`,
		}},
		{"a language far from the locale's", `locale { languages = ["en", "hy", "fa"] }
entity "vehicle" {
  labels = { de = "Fahrzeug" }
}`, []string{
			`t.hcl:3:14: error: unknown language "de" in the labels of entity "vehicle"; the locale's languages: en, hy, fa`,
		}},
		{"a language the locale does not list, near one it does", `locale { languages = ["en", "ru"] }
entity "vehicle" {
  field "vin" {
    type   = "string"
    labels = { rus = "VIN" }
  }
}`, []string{
			`t.hcl:5:16: error: unknown language "rus" in the labels of field "vin" of vehicle; did you mean "ru"?`,
		}},
		{"not an object", `entity "vehicle" {
  labels = ["Vehicle"]
}`, []string{
			`t.hcl:2:12: error: labels must be an object of language = label; write it in braces, e.g. labels = { hy = "Մեքենա", ru = "Автомобиль" }`,
		}},
		{"an empty label", `entity "vehicle" {
  labels = { en = " " }
}`, []string{
			`t.hcl:2:19: error: labels: the label for "en" is empty`,
		}},
		{"a label that is not a string", `entity "vehicle" {
  labels = { en = ["x"] }
}`, []string{
			`t.hcl:2:19: error: labels: the label for "en" must be a string`,
		}},
		{"missing languages warn", `locale { languages = ["en", "hy", "lt", "fa"] }
entity "vehicle" {
  label  = "Vehicle"
  labels = { hy = "Մեքենա" }
  field "vin" {
    type  = "string"
    label = "VIN"
  }
  field "plain" { type = "string" }
}
entity "contact" {
  field "loyalty" {
    type   = "int"
    label  = "Loyalty points"
    labels = { hy = "Բոնուսներ", lt = "Taškai", fa = "امتیاز" }
  }
}`, []string{
			`t.hcl:3:12: warning: entity "vehicle" has no label in lt, fa; add them to labels, e.g. labels = { lt = "..." }; until then the UI shows label`,
			`t.hcl:7:13: warning: field "vin" of vehicle has no label in hy, lt, fa; add them to labels, e.g. labels = { hy = "..." }; until then the UI shows label`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := load(t, c.src)
			if got := lines(diags); !slices.Equal(got, c.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
			wantErr := !strings.Contains(c.want[0], ": warning: ")
			if diags.HasErrors() != wantErr {
				t.Errorf("HasErrors() = %v, want %v", diags.HasErrors(), wantErr)
			}
		})
	}
}

func TestLabelsDecodedAndMerged(t *testing.T) {
	cfg := mustLoad(t, `locale { languages = ["en", "hy", "ru"] }
entity "vehicle" {
  label  = "Vehicle"
  labels = { hy = "Մեքենա", ru = "Автомобиль" }
}
entity "contact" {
  labels = { ru = "Клиент" }
  field "name" {
    type   = "string"
    label  = "Full name"
    labels = { hy = "Լրիվ անուն", ru = "ФИО" }
  }
}`)
	v := cfg.Entity("vehicle")
	if v.Labels["hy"] != "Մեքենա" || v.Labels["ru"] != "Автомобиль" {
		t.Errorf("vehicle labels: %v", v.Labels)
	}
	c := cfg.Entity("contact")
	if c.Labels["ru"] != "Клиент" || c.Labels["hy"] != "Կոնտակտ" || c.Labels["fa"] != "مخاطب" {
		t.Errorf("contact labels (built-in ones overridden per language): %v", c.Labels)
	}
	if n := c.Field("name"); n.Label != "Full name" || n.Labels["ru"] != "ФИО" || n.Labels["fa"] != "" {
		t.Errorf("a relabelled built-in field keeps only its own translations: %q %v", n.Label, n.Labels)
	}
	if e := c.Field("email"); e.Labels["ru"] != "Эл. почта" {
		t.Errorf("built-in field labels: %v", e.Labels)
	}
}

// TestBuiltinLabelsComplete: every built-in entity, field, activity kind
// and sample pipeline stage has a label in each of the six languages.
func TestBuiltinLabelsComplete(t *testing.T) {
	cfg := mustLoad(t, `locale { languages = ["en"] }`)
	complete := func(what string, m map[string]string) {
		for _, lang := range BuiltinLanguages {
			if strings.TrimSpace(m[lang]) == "" {
				t.Errorf("%s has no %s label", what, lang)
			}
		}
	}
	for _, e := range cfg.Entities {
		complete(e.Name, e.Labels)
		for _, f := range e.Fields {
			complete(e.Name+"."+f.Name, f.Labels)
			for _, v := range f.Values {
				complete(e.Name+"."+f.Name+"="+v, f.ValueLabels[v])
			}
		}
	}
	for _, st := range defaultPipeline().Stages {
		complete("stage "+st, StageLabels(st))
	}
}

func TestPipelineLabels(t *testing.T) {
	cfg := mustLoad(t, `locale { languages = ["en", "hy", "ru"] }
pipeline "sales" {
  entity = "deal"
  label  = "Car sales"
  labels = { hy = "Մեքենաների վաճառք", ru = "Продажа авто" }
  stages = ["new", "test_drive", "won"]
  stage_labels = {
    test_drive = { en = "Test drive", hy = "Փորձնական վարում", ru = "Тест-драйв" }
    won        = { ru = "Продана" }
  }
}
pipeline "service" {
  entity = "deal"
  stages = ["open", "done"]
}`)
	sales, service := cfg.Pipelines[0], cfg.Pipelines[1]
	if sales.Label != "Car sales" || sales.Labels["hy"] != "Մեքենաների վաճառք" || sales.Labels["lt"] != "" {
		t.Errorf("sales: %q %v", sales.Label, sales.Labels)
	}
	if got := sales.StageLabels["test_drive"]; got["en"] != "Test drive" || got["ru"] != "Тест-драйв" {
		t.Errorf("test_drive: %v", got)
	}
	if got := sales.StageLabels["won"]; got["ru"] != "Продана" || got["hy"] != "Շահած" {
		t.Errorf("won (built-in labels overridden per language): %v", got)
	}
	if got := sales.StageLabels["new"]; got["en"] != "New" {
		t.Errorf("new (built-in): %v", got)
	}
	if service.Label != "Service" || len(service.Labels) != 0 || service.StageLabels["open"] != nil {
		t.Errorf("service: %q %v %v", service.Label, service.Labels, service.StageLabels)
	}
	def := mustLoad(t, `locale { languages = ["en"] }`).Pipelines[0]
	if def.Name != "sales" || def.Label != "Sales" || def.Labels["fa"] != "فروش" || def.StageLabels["won"]["ru"] != "Выиграна" {
		t.Errorf("the default pipeline: %q %v %v", def.Label, def.Labels, def.StageLabels)
	}
}

func TestPipelineLabelsDiagnostics(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{"a stage that is not one", `pipeline "sales" {
  entity       = "deal"
  stages       = ["new", "test_drive"]
  stage_labels = { test_drvie = { en = "Test drive" } }
}`, []string{
			`t.hcl:4:18: warning: stage "test_drive" of pipeline "sales" has no label in en; add them to stage_labels, e.g. test_drive = { en = "..." }; until then the UI shows the stage's name`,
			`t.hcl:4:20: error: stage_labels: "test_drvie" is not a stage of pipeline "sales"; did you mean "test_drive"?`,
		}},
		{"an unknown language", `locale { languages = ["en", "ru"] }
pipeline "sales" {
  entity       = "deal"
  stages       = ["new"]
  labels       = { rus = "Продажи" }
  stage_labels = { new = { en = "New", ry = "Новая" } }
}`, []string{
			`t.hcl:5:20: error: unknown language "rus" in the labels of pipeline "sales"; did you mean "ru"?`,
			`t.hcl:6:40: error: unknown language "ry" in the stage_labels of stage "new" of pipeline "sales"; did you mean "ru"?`,
		}},
		{"not an object", `pipeline "sales" {
  entity       = "deal"
  stages       = ["new"]
  stage_labels = { new = "New" }
}`, []string{
			`t.hcl:4:26: error: stage_labels of stage "new" must be an object of language = label; write it in braces, e.g. stage_labels = { hy = "Մեքենա", ru = "Автомобиль" }`,
		}},
		{"missing languages warn", `locale { languages = ["en", "hy", "ru"] }
pipeline "sales" {
  entity       = "deal"
  label        = "Car sales"
  labels       = { ru = "Продажа авто" }
  stages       = ["new", "test_drive"]
  stage_labels = { test_drive = { en = "Test drive", ru = "Тест-драйв" } }
}`, []string{
			`t.hcl:4:18: warning: pipeline "sales" has no label in hy; add them to labels, e.g. labels = { hy = "..." }; until then the UI shows label`,
			`t.hcl:7:18: warning: stage "test_drive" of pipeline "sales" has no label in hy; add them to stage_labels, e.g. test_drive = { hy = "..." }; until then the UI shows the stage's name`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := load(t, c.src)
			if got := lines(diags); !slices.Equal(got, c.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
		})
	}
}
