package doctemplates

import "github.com/crmkit/crm/plugins/sdk"

// Manifest declares the plugin's entities, actions and buttons, labelled in
// the six languages of the UI.
func (*Plugin) Manifest() sdk.Manifest { return localized(manifest()) }

// translations are the labels of the manifest's entities ("document"),
// fields ("document.number", or "*.name" for a field of every entity) and
// buttons ("button:generate_document") in the languages other than
// English, which the manifest itself holds.
var translations = map[string]map[string]string{
	TemplateEntity: {"hy": "Փաստաթղթի ձևանմուշ", "lt": "Dokumento šablonas", "az": "Sənəd şablonu", "fa": "قالب سند", "ru": "Шаблон документа"},
	DocumentEntity: {"hy": "Փաստաթուղթ", "lt": "Dokumentas", "az": "Sənəd", "fa": "سند", "ru": "Документ"},
	SeriesEntity:   {"hy": "Փաստաթղթերի սերիա", "lt": "Dokumentų serija", "az": "Sənəd seriyası", "fa": "سری اسناد", "ru": "Серия документов"},

	"*.name":     {"hy": "Անվանում", "lt": "Pavadinimas", "az": "Ad", "fa": "نام", "ru": "Название"},
	"*.file":     {"hy": "Ֆայլ", "lt": "Failas", "az": "Fayl", "fa": "فایل", "ru": "Файл"},
	"*.format":   {"hy": "Ձևաչափ", "lt": "Formatas", "az": "Format", "fa": "قالب فایل", "ru": "Формат"},
	"*.series":   {"hy": "Սերիա", "lt": "Serija", "az": "Seriya", "fa": "سری", "ru": "Серия"},
	"*.year":     {"hy": "Տարի", "lt": "Metai", "az": "İl", "fa": "سال", "ru": "Год"},
	"*.key":      {"hy": "Բանալի", "lt": "Raktas", "az": "Açar", "fa": "کلید", "ru": "Ключ"},
	"*.template": {"hy": "Ձևանմուշ", "lt": "Šablonas", "az": "Şablon", "fa": "قالب", "ru": "Шаблон"},

	TemplateEntity + ".record_entity": {"hy": "Օբյեկտ", "lt": "Objektas", "az": "Obyekt", "fa": "موجودیت", "ru": "Сущность"},
	TemplateEntity + ".revision":      {"hy": "Տարբերակ", "lt": "Versija", "az": "Versiya", "fa": "نسخه", "ru": "Версия"},
	TemplateEntity + ".language":      {"hy": "Լեզու", "lt": "Kalba", "az": "Dil", "fa": "زبان", "ru": "Язык"},
	TemplateEntity + ".calendar":      {"hy": "Օրացույց", "lt": "Kalendorius", "az": "Təqvim", "fa": "تقویم", "ru": "Календарь"},
	TemplateEntity + ".currency":      {"hy": "Արժույթ", "lt": "Valiuta", "az": "Valyuta", "fa": "واحد پول", "ru": "Валюта"},
	TemplateEntity + ".timezone":      {"hy": "Ժամային գոտի", "lt": "Laiko juosta", "az": "Saat qurşağı", "fa": "منطقهٔ زمانی", "ru": "Часовой пояс"},
	TemplateEntity + ".lists":         {"hy": "Կապված ցուցակներ", "lt": "Susiję sąrašai", "az": "Əlaqəli siyahılar", "fa": "فهرست‌های مرتبط", "ru": "Связанные списки"},
	TemplateEntity + ".placeholders":  {"hy": "Տեղապահեր", "lt": "Vietos žymės", "az": "Yer tutucular", "fa": "جای‌نگهدارها", "ru": "Подстановки"},

	DocumentEntity + ".template_revision": {"hy": "Ձևանմուշի տարբերակ", "lt": "Šablono versija", "az": "Şablon versiyası", "fa": "نسخهٔ قالب", "ru": "Версия шаблона"},
	DocumentEntity + ".record_entity":     {"hy": "Ստեղծված է (օբյեկտ)", "lt": "Sukurta (objektas)", "az": "Kimin üçün (obyekt)", "fa": "ساخته‌شده برای (موجودیت)", "ru": "Создан для (сущность)"},
	DocumentEntity + ".record_id":         {"hy": "Ստեղծված է (գրառում)", "lt": "Sukurta (įrašas)", "az": "Kimin üçün (qeyd)", "fa": "ساخته‌شده برای (رکورد)", "ru": "Создан для (запись)"},
	DocumentEntity + ".number":            {"hy": "Համար", "lt": "Numeris", "az": "Nömrə", "fa": "شماره", "ru": "Номер"},
	DocumentEntity + ".seq":               {"hy": "Համարը տարում", "lt": "Numeris per metus", "az": "İl üzrə nömrə", "fa": "شماره در سال", "ru": "Номер за год"},
	DocumentEntity + ".deal":              {"hy": "Գործարք", "lt": "Sandoris", "az": "Sövdələşmə", "fa": "معامله", "ru": "Сделка"},
	DocumentEntity + ".contact":           {"hy": "Կոնտակտ", "lt": "Kontaktas", "az": "Əlaqə", "fa": "مخاطب", "ru": "Контакт"},
	DocumentEntity + ".company":           {"hy": "Ընկերություն", "lt": "Įmonė", "az": "Şirkət", "fa": "شرکت", "ru": "Компания"},

	SeriesEntity + ".last":    {"hy": "Վերջին համար", "lt": "Paskutinis numeris", "az": "Son nömrə", "fa": "آخرین شماره", "ru": "Последний номер"},
	SeriesEntity + ".free":    {"hy": "Վերադարձված համարներ", "lt": "Grąžinti numeriai", "az": "Qaytarılmış nömrələr", "fa": "شماره‌های برگشتی", "ru": "Возвращённые номера"},
	SeriesEntity + ".taken":   {"hy": "Վերջին գրառման համարը", "lt": "Paskutinio įrašo numeris", "az": "Son yazının nömrəsi", "fa": "شمارهٔ آخرین ثبت", "ru": "Номер последней записи"},
	SeriesEntity + ".pending": {"hy": "Վերցված, դեռ չօգտագործված համարներ", "lt": "Paimti, dar nepanaudoti numeriai", "az": "Götürülmüş, hələ istifadə olunmamış nömrələr", "fa": "شماره‌های برداشته‌شده، هنوز به‌کارنرفته", "ru": "Выданные, ещё не использованные номера"},

	"button:" + ActionGenerate: {"hy": "Ստեղծել փաստաթուղթ", "lt": "Sukurti dokumentą", "az": "Sənəd yarat", "fa": "ساخت سند", "ru": "Создать документ"},
	"button:" + ActionUpload:   {"hy": "Վերբեռնել ձևանմուշ", "lt": "Įkelti šabloną", "az": "Şablon yüklə", "fa": "بارگذاری قالب", "ru": "Загрузить шаблон"},
}

// localized is m with the labels of translations, and each label's
// English as "en".
func localized(m sdk.Manifest) sdk.Manifest {
	with := func(label string, keys ...string) map[string]string {
		for _, k := range keys {
			if tr, ok := translations[k]; ok {
				out := map[string]string{"en": label}
				for lang, s := range tr {
					out[lang] = s
				}
				return out
			}
		}
		return nil
	}
	for i := range m.Entities {
		e := &m.Entities[i]
		e.Labels = with(e.Label, e.Name)
		for j := range e.Fields {
			f := &e.Fields[j]
			f.Labels = with(f.Label, e.Name+"."+f.Name, "*."+f.Name)
		}
	}
	for i := range m.UIActions {
		u := &m.UIActions[i]
		u.Labels = with(u.Label, "button:"+u.Action)
	}
	return m
}
