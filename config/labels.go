package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Labels of the built-in entities, their fields, the activity kinds and the
// stages of the sample pipeline, in the six languages the UI ships with.
// Keys: "entity", "entity.field", and for values "entity.field=value";
// stages are keyed "stage=name" and apply to a stage of that name in any
// pipeline.
var builtinLabels = map[string]map[string]string{
	"contact":  {"en": "Contact", "hy": "Կոնտակտ", "lt": "Kontaktas", "az": "Əlaqə", "fa": "مخاطب", "ru": "Контакт"},
	"company":  labelCompany,
	"deal":     {"en": "Deal", "hy": "Գործարք", "lt": "Sandoris", "az": "Sövdələşmə", "fa": "معامله", "ru": "Сделка"},
	"activity": {"en": "Activity", "hy": "Գործողություն", "lt": "Veikla", "az": "Fəaliyyət", "fa": "فعالیت", "ru": "Активность"},
	"task":     {"en": "Task", "hy": "Առաջադրանք", "lt": "Užduotis", "az": "Tapşırıq", "fa": "وظیفه", "ru": "Задача"},

	"contact.name":     {"en": "Name", "hy": "Անուն", "lt": "Vardas", "az": "Ad", "fa": "نام", "ru": "Имя"},
	"contact.email":    labelEmail,
	"contact.phone":    labelPhone,
	"contact.company":  labelCompany,
	"contact.source":   labelSource,
	"contact.birthday": {"en": "Birthday", "hy": "Ծննդյան օր", "lt": "Gimimo diena", "az": "Doğum günü", "fa": "تاریخ تولد", "ru": "День рождения"},
	"contact.notes":    labelNotes,

	"company.name":     {"en": "Name", "hy": "Անվանում", "lt": "Pavadinimas", "az": "Ad", "fa": "نام", "ru": "Название"},
	"company.phone":    labelPhone,
	"company.email":    labelEmail,
	"company.website":  {"en": "Website", "hy": "Կայք", "lt": "Svetainė", "az": "Veb-sayt", "fa": "وب‌سایت", "ru": "Сайт"},
	"company.industry": {"en": "Industry", "hy": "Ոլորտ", "lt": "Pramonės šaka", "az": "Sahə", "fa": "صنعت", "ru": "Отрасль"},
	"company.notes":    labelNotes,

	"deal.title":     labelTitle,
	"deal.amount":    {"en": "Amount", "hy": "Գումար", "lt": "Suma", "az": "Məbləğ", "fa": "مبلغ", "ru": "Сумма"},
	"deal.pipeline":  {"en": "Pipeline", "hy": "Վաճառքի ձագար", "lt": "Pardavimų piltuvas", "az": "Satış qıfı", "fa": "قیف فروش", "ru": "Воронка"},
	"deal.stage":     {"en": "Stage", "hy": "Փուլ", "lt": "Etapas", "az": "Mərhələ", "fa": "مرحله", "ru": "Этап"},
	"deal.contact":   labelContact,
	"deal.company":   labelCompany,
	"deal.source":    labelSource,
	"deal.closed_at": {"en": "Closed at", "hy": "Փակման ամսաթիվ", "lt": "Uždarymo data", "az": "Bağlanma tarixi", "fa": "تاریخ بسته شدن", "ru": "Дата закрытия"},
	"deal.notes":     labelNotes,

	"activity.kind":    {"en": "Kind", "hy": "Տեսակ", "lt": "Tipas", "az": "Növ", "fa": "نوع", "ru": "Тип"},
	"activity.subject": {"en": "Subject", "hy": "Թեմա", "lt": "Tema", "az": "Mövzu", "fa": "موضوع", "ru": "Тема"},
	"activity.body":    {"en": "Body", "hy": "Բովանդակություն", "lt": "Turinys", "az": "Mətn", "fa": "متن", "ru": "Текст"},
	"activity.status":  {"en": "Status", "hy": "Կարգավիճակ", "lt": "Būsena", "az": "Status", "fa": "وضعیت", "ru": "Статус"},
	"activity.contact": labelContact,
	"activity.company": labelCompany,
	"activity.deal":    labelDeal,
	"activity.at":      {"en": "When", "hy": "Երբ", "lt": "Kada", "az": "Vaxt", "fa": "زمان", "ru": "Когда"},

	"activity.kind=call":    {"en": "Call", "hy": "Զանգ", "lt": "Skambutis", "az": "Zəng", "fa": "تماس", "ru": "Звонок"},
	"activity.kind=meeting": {"en": "Meeting", "hy": "Հանդիպում", "lt": "Susitikimas", "az": "Görüş", "fa": "جلسه", "ru": "Встреча"},
	"activity.kind=email":   {"en": "Email", "hy": "Էլ. նամակ", "lt": "El. laiškas", "az": "E-məktub", "fa": "ایمیل", "ru": "Письмо"},
	"activity.kind=note":    {"en": "Note", "hy": "Նշում", "lt": "Pastaba", "az": "Qeyd", "fa": "یادداشت", "ru": "Заметка"},

	"task.title":    labelTitle,
	"task.due":      {"en": "Due", "hy": "Վերջնաժամկետ", "lt": "Terminas", "az": "Son tarix", "fa": "مهلت", "ru": "Срок"},
	"task.assignee": {"en": "Assignee", "hy": "Կատարող", "lt": "Vykdytojas", "az": "İcraçı", "fa": "مسئول", "ru": "Исполнитель"},
	"task.done":     {"en": "Done", "hy": "Կատարված է", "lt": "Atlikta", "az": "Tamamlanıb", "fa": "انجام شده", "ru": "Выполнена"},
	"task.contact":  labelContact,
	"task.deal":     labelDeal,
	"task.notes":    labelNotes,

	"stage=new":         {"en": "New", "hy": "Նոր", "lt": "Naujas", "az": "Yeni", "fa": "جدید", "ru": "Новая"},
	"stage=qualified":   {"en": "Qualified", "hy": "Որակավորված", "lt": "Kvalifikuotas", "az": "Kvalifikasiya olunub", "fa": "واجد شرایط", "ru": "Квалифицирована"},
	"stage=proposal":    {"en": "Proposal", "hy": "Առաջարկ", "lt": "Pasiūlymas", "az": "Təklif", "fa": "پیشنهاد", "ru": "Предложение"},
	"stage=negotiation": {"en": "Negotiation", "hy": "Բանակցություններ", "lt": "Derybos", "az": "Danışıqlar", "fa": "مذاکره", "ru": "Переговоры"},
	"stage=won":         {"en": "Won", "hy": "Շահած", "lt": "Laimėtas", "az": "Qazanılıb", "fa": "موفق", "ru": "Выиграна"},
	"pipeline=sales":    {"en": "Sales", "hy": "Վաճառքներ", "lt": "Pardavimai", "az": "Satış", "fa": "فروش", "ru": "Продажи"},

	"stage=lost": {"en": "Lost", "hy": "Կորցրած", "lt": "Pralaimėtas", "az": "Uduzulub", "fa": "ناموفق", "ru": "Проиграна"},
}

var (
	labelEmail   = map[string]string{"en": "Email", "hy": "Էլ. փոստ", "lt": "El. paštas", "az": "E-poçt", "fa": "ایمیل", "ru": "Эл. почта"}
	labelPhone   = map[string]string{"en": "Phone", "hy": "Հեռախոս", "lt": "Telefonas", "az": "Telefon", "fa": "تلفن", "ru": "Телефон"}
	labelSource  = map[string]string{"en": "Source", "hy": "Աղբյուր", "lt": "Šaltinis", "az": "Mənbə", "fa": "منبع", "ru": "Источник"}
	labelNotes   = map[string]string{"en": "Notes", "hy": "Նշումներ", "lt": "Pastabos", "az": "Qeydlər", "fa": "یادداشت‌ها", "ru": "Заметки"}
	labelTitle   = map[string]string{"en": "Title", "hy": "Վերնագիր", "lt": "Pavadinimas", "az": "Başlıq", "fa": "عنوان", "ru": "Название"}
	labelContact = map[string]string{"en": "Contact", "hy": "Կոնտակտ", "lt": "Kontaktas", "az": "Əlaqə", "fa": "مخاطب", "ru": "Контакт"}
	labelCompany = map[string]string{"en": "Company", "hy": "Ընկերություն", "lt": "Įmonė", "az": "Şirkət", "fa": "شرکت", "ru": "Компания"}
	labelDeal    = map[string]string{"en": "Deal", "hy": "Գործարք", "lt": "Sandoris", "az": "Sövdələşmə", "fa": "معامله", "ru": "Сделка"}
)

// BuiltinLanguages are the languages of the built-in labels.
var BuiltinLanguages = []string{"en", "hy", "lt", "az", "fa", "ru"}

// builtinLabel returns a copy of the built-in labels under key, or nil.
func builtinLabel(key string) map[string]string {
	if m := builtinLabels[key]; m != nil {
		return maps.Clone(m)
	}
	return nil
}

// StageLabels returns the built-in labels of a pipeline stage per
// language (a copy), or nil when the stage has none.
func StageLabels(stage string) map[string]string { return builtinLabel("stage=" + stage) }

// builtinValueLabels returns the built-in labels of an enum field's values.
func builtinValueLabels(entity, field string, values []string) map[string]map[string]string {
	var out map[string]map[string]string
	for _, v := range values {
		if m := builtinLabel(entity + "." + field + "=" + v); m != nil {
			if out == nil {
				out = map[string]map[string]string{}
			}
			out[v] = m
		}
	}
	return out
}

// checkLabels checks the labels maps of the entity and field blocks
// against the locale's languages (an unknown code is an error at its key),
// and warns for each language that an entity or field with its own label
// lacks a label in (the label itself counts for the default language).
func (l *loader) checkLabels() {
	langs := l.cfg.Locale.Languages
	check := func(what string, labels map[string]string, s *src) {
		if s == nil {
			return
		}
		for _, code := range slices.Sorted(maps.Keys(labels)) {
			if !slices.Contains(langs, code) {
				l.report(s.keys[code], fmt.Sprintf("unknown language %q in the labels of %s", code, what),
					hint(code, langs, "the locale's languages"))
			}
		}
		if !s.ok("label") || s.failed["labels"] {
			return
		}
		var missing []string
		for _, lang := range langs {
			if _, ok := labels[lang]; !ok && lang != l.cfg.Locale.Default {
				missing = append(missing, lang)
			}
		}
		if len(missing) > 0 {
			l.warn(s.at("label"), fmt.Sprintf("%s has no label in %s", what, strings.Join(missing, ", ")),
				fmt.Sprintf(`add them to labels, e.g. labels = { %s = "..." }; until then the UI shows label`, missing[0]))
		}
	}
	for _, e := range l.entities {
		check(fmt.Sprintf("entity %q", e.Name), e.Labels, l.src[e])
		for _, f := range e.Fields {
			check(fmt.Sprintf("field %q of %s", f.Name, e.Name), f.Labels, l.src[f])
		}
	}
	for _, p := range l.cfg.Pipelines {
		s := l.src[p]
		if s == nil {
			continue // the default pipeline
		}
		// p.Labels are merged with the built-in ones unless the block
		// gives a label; the languages it gave are its keys.
		given := p.Labels
		if !s.ok("label") {
			given = map[string]string{}
			for key := range s.keys {
				if !strings.HasPrefix(key, "stage:") {
					given[key] = p.Labels[key]
				}
			}
		}
		check(fmt.Sprintf("pipeline %q", p.Name), given, s)
		l.checkStageLabels(p, s)
	}
}

// checkStageLabels checks the languages of a pipeline's stage_labels and,
// when the block has them, warns for each stage that lacks a label in a
// language of the locale (built-in stage labels count).
func (l *loader) checkStageLabels(p *Pipeline, s *src) {
	langs := l.cfg.Locale.Languages
	for _, key := range slices.Sorted(maps.Keys(s.keys)) {
		rest, ok := strings.CutPrefix(key, "stage:")
		if !ok {
			continue
		}
		stage, code, ok := strings.Cut(rest, ":")
		if ok && !slices.Contains(langs, code) {
			l.report(s.keys[key], fmt.Sprintf("unknown language %q in the stage_labels of stage %q of pipeline %q", code, stage, p.Name),
				hint(code, langs, "the locale's languages"))
		}
	}
	if !s.ok("stage_labels") {
		return
	}
	for _, st := range p.Stages {
		var missing []string
		for _, lang := range langs {
			if _, ok := p.StageLabels[st][lang]; !ok {
				missing = append(missing, lang)
			}
		}
		if len(missing) > 0 {
			l.warn(s.at("stage_labels"), fmt.Sprintf("stage %q of pipeline %q has no label in %s", st, p.Name, strings.Join(missing, ", ")),
				fmt.Sprintf(`add them to stage_labels, e.g. %s = { %s = "..." }; until then the UI shows the stage's name`, st, missing[0]))
		}
	}
}
