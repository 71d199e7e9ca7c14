package calltracking

import "github.com/crmkit/crm/plugins/sdk"

// Manifest declares the plugin's entities, webhooks, events and button,
// labelled in the six languages of the UI.
func (*Plugin) Manifest() sdk.Manifest { return sdk.Localize(manifest(), translations) }

// translations are the labels of the manifest in the languages other than
// English (sdk.Translations' keys).
var translations = sdk.Translations{
	CallEntity:     {"hy": "Հեռախոսազանգ", "lt": "Telefono skambutis", "az": "Telefon zəngi", "fa": "تماس تلفنی", "ru": "Телефонный звонок"},
	CampaignEntity: {"hy": "Գովազդային արշավ", "lt": "Reklamos kampanija", "az": "Reklam kampaniyası", "fa": "کمپین تبلیغاتی", "ru": "Рекламная кампания"},

	CallEntity + ".call_id":       {"hy": "Զանգի նույնացուցիչ", "lt": "Skambučio ID", "az": "Zəng ID", "fa": "شناسهٔ تماس", "ru": "ID звонка"},
	CallEntity + ".direction":     {"hy": "Ուղղություն", "lt": "Kryptis", "az": "İstiqamət", "fa": "جهت", "ru": "Направление"},
	CallEntity + ".number":        {"hy": "Համար", "lt": "Numeris", "az": "Nömrə", "fa": "شماره", "ru": "Номер"},
	CallEntity + ".line":          {"hy": "Գիծ", "lt": "Linija", "az": "Xətt", "fa": "خط", "ru": "Линия"},
	CallEntity + ".extension":     {"hy": "Ներքին համար", "lt": "Vidinis numeris", "az": "Daxili nömrə", "fa": "داخلی", "ru": "Добавочный"},
	CallEntity + ".status":        {"hy": "Կարգավիճակ", "lt": "Būsena", "az": "Status", "fa": "وضعیت", "ru": "Статус"},
	CallEntity + ".started_at":    {"hy": "Սկիզբ", "lt": "Pradžia", "az": "Başlama", "fa": "شروع", "ru": "Начало"},
	CallEntity + ".answered_at":   {"hy": "Պատասխանվել է", "lt": "Atsiliepta", "az": "Cavablandı", "fa": "پاسخ داده شد", "ru": "Отвечен"},
	CallEntity + ".ended_at":      {"hy": "Ավարտ", "lt": "Pabaiga", "az": "Bitmə", "fa": "پایان", "ru": "Окончание"},
	CallEntity + ".duration":      {"hy": "Տևողություն (վ)", "lt": "Trukmė (s)", "az": "Müddət (san)", "fa": "مدت (ثانیه)", "ru": "Длительность (с)"},
	CallEntity + ".recording_url": {"hy": "Ձայնագրություն", "lt": "Įrašas", "az": "Səs yazısı", "fa": "ضبط تماس", "ru": "Запись"},
	CallEntity + ".campaign":      {"hy": "Արշավ", "lt": "Kampanija", "az": "Kampaniya", "fa": "کمپین", "ru": "Кампания"},
	CallEntity + ".contact":       {"hy": "Կոնտակտ", "lt": "Kontaktas", "az": "Əlaqə", "fa": "مخاطب", "ru": "Контакт"},
	CallEntity + ".company":       {"hy": "Ընկերություն", "lt": "Įmonė", "az": "Şirkət", "fa": "شرکت", "ru": "Компания"},
	CallEntity + ".activity":      {"hy": "Գործողություն", "lt": "Veikla", "az": "Fəaliyyət", "fa": "فعالیت", "ru": "Активность"},
	CallEntity + ".lead":          {"hy": "Ստեղծեց լիդ", "lt": "Sukūrė potencialų klientą", "az": "Potensial müştəri yaratdı", "fa": "سرنخ ایجاد کرد", "ru": "Создал лид"},
	CallEntity + ".returned":      {"hy": "Հետզանգ է արվել", "lt": "Perskambinta", "az": "Geri zəng edilib", "fa": "تماس برگشتی انجام شد", "ru": "Перезвонили"},
	CallEntity + ".returned_by":   {"hy": "Հետզանգը", "lt": "Perskambino", "az": "Geri zəng edən", "fa": "تماس برگشتی توسط", "ru": "Перезвонил"},
	CallEntity + ".unanswered":    {"hy": "Չի պատասխանվել", "lt": "Neatsiliepta", "az": "Cavabsız", "fa": "بی‌پاسخ", "ru": "Без ответа"},
	CallEntity + ".missed_due":    {"hy": "Բաց թողնված, եթե չպատասխանվի մինչև", "lt": "Praleistas, jei neatsilieps iki", "az": "Bu vaxta cavablanmasa buraxılmış", "fa": "بی‌پاسخ اگر تا این زمان پاسخ داده نشود", "ru": "Пропущен, если нет ответа до"},
	CallEntity + ".card":          {"hy": "Զանգահարող", "lt": "Skambintojas", "az": "Zəng edən", "fa": "تماس‌گیرنده", "ru": "Звонящий"},

	CampaignEntity + ".name":  {"hy": "Անվանում", "lt": "Pavadinimas", "az": "Ad", "fa": "نام", "ru": "Название"},
	CampaignEntity + ".cost":  {"hy": "Գովազդի ծախս", "lt": "Reklamos kaina", "az": "Reklam xərci", "fa": "هزینهٔ تبلیغ", "ru": "Расходы на рекламу"},
	CampaignEntity + ".notes": {"hy": "Նշումներ", "lt": "Pastabos", "az": "Qeydlər", "fa": "یادداشت‌ها", "ru": "Заметки"},

	"button:" + ActionClickToCall:       {"hy": "Զանգել", "lt": "Skambinti", "az": "Zəng et", "fa": "تماس", "ru": "Позвонить"},
	"button:" + ActionAttributionReport: {"hy": "Վերագրման հաշվետվություն", "lt": "Priskyrimo ataskaita", "az": "Atribusiya hesabatı", "fa": "گزارش انتساب", "ru": "Отчёт по атрибуции"},
	"button:" + ActionSLAReport:         {"hy": "Չվերադարձված բաց թողնված զանգեր", "lt": "Neatsakyti praleisti skambučiai", "az": "Geri zəng edilməmiş buraxılmış zənglər", "fa": "تماس‌های بی‌پاسخی که برگشت داده نشده‌اند", "ru": "Пропущенные звонки без перезвона"},
}
