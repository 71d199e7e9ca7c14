package accounting

import (
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// Manifest declares the plugin's entities, actions, event and buttons,
// labelled in the six languages of the UI.
func (*Plugin) Manifest() sdk.Manifest {
	return sdk.Localize(manifest(), translations, series.Translations(SeriesEntity))
}

// translations are the labels of the manifest's entities ("invoice"),
// fields ("invoice.gross", or "*.amount" for a field of every entity) and
// buttons ("button:record_payment") in the languages other than English,
// which the manifest itself holds; the series entity's fields are
// labelled by package series.
var translations = sdk.Translations{
	InvoiceEntity:    {"hy": "Հաշիվ-ապրանքագիր", "lt": "Sąskaita faktūra", "az": "Hesab-faktura", "fa": "فاکتور", "ru": "Счёт"},
	LineEntity:       {"hy": "Հաշվի տող", "lt": "Sąskaitos eilutė", "az": "Hesab sətri", "fa": "ردیف فاکتور", "ru": "Строка счёта"},
	PaymentEntity:    {"hy": "Վճարում", "lt": "Mokėjimas", "az": "Ödəniş", "fa": "پرداخت", "ru": "Платёж"},
	AllocationEntity: {"hy": "Վճարման բաշխում", "lt": "Mokėjimo paskirstymas", "az": "Ödənişin bölüşdürülməsi", "fa": "تخصیص پرداخت", "ru": "Разнесение платежа"},
	ProductEntity:    {"hy": "Ապրանք", "lt": "Prekė", "az": "Məhsul", "fa": "کالا", "ru": "Товар"},
	SeriesEntity:     {"hy": "Հաշիվների սերիա", "lt": "Sąskaitų serija", "az": "Hesab seriyası", "fa": "سری فاکتورها", "ru": "Серия счетов"},
	ExportEntity:     {"hy": "Հաշվապահական արտահանում", "lt": "Apskaitos eksportas", "az": "Mühasibat ixracı", "fa": "خروجی حسابداری", "ru": "Выгрузка в бухгалтерию"},
	BankLineEntity:   {"hy": "Բանկային քաղվածքի տող", "lt": "Banko išrašo eilutė", "az": "Bank çıxarışı sətri", "fa": "ردیف صورت‌حساب بانکی", "ru": "Строка банковской выписки"},

	"*.number":      {"hy": "Համար", "lt": "Numeris", "az": "Nömrə", "fa": "شماره", "ru": "Номер"},
	"*.series":      {"hy": "Սերիա", "lt": "Serija", "az": "Seriya", "fa": "سری", "ru": "Серия"},
	"*.year":        {"hy": "Տարի", "lt": "Metai", "az": "İl", "fa": "سال", "ru": "Год"},
	"*.deal":        {"hy": "Գործարք", "lt": "Sandoris", "az": "Sövdələşmə", "fa": "معامله", "ru": "Сделка"},
	"*.company":     {"hy": "Ընկերություն", "lt": "Įmonė", "az": "Şirkət", "fa": "شرکت", "ru": "Компания"},
	"*.contact":     {"hy": "Կոնտակտ", "lt": "Kontaktas", "az": "Əlaqə", "fa": "مخاطب", "ru": "Контакт"},
	"*.currency":    {"hy": "Արժույթ", "lt": "Valiuta", "az": "Valyuta", "fa": "واحد پول", "ru": "Валюта"},
	"*.status":      {"hy": "Կարգավիճակ", "lt": "Būsena", "az": "Status", "fa": "وضعیت", "ru": "Статус"},
	"*.net":         {"hy": "Առանց ԱԱՀ", "lt": "Be PVM", "az": "ƏDV-siz", "fa": "خالص", "ru": "Без НДС"},
	"*.vat":         {"hy": "ԱԱՀ", "lt": "PVM", "az": "ƏDV", "fa": "مالیات بر ارزش افزوده", "ru": "НДС"},
	"*.gross":       {"hy": "Ընդամենը", "lt": "Iš viso", "az": "Cəmi", "fa": "جمع کل", "ru": "Итого"},
	"*.vat_rate":    {"hy": "ԱԱՀ %", "lt": "PVM %", "az": "ƏDV %", "fa": "نرخ مالیات %", "ru": "НДС %"},
	"*.key":         {"hy": "Կրկնության բանալի", "lt": "Pakartojimo raktas", "az": "Təkrar açarı", "fa": "کلید یکتایی", "ru": "Ключ идемпотентности"},
	"*.invoice":     {"hy": "Հաշիվ-ապրանքագիր", "lt": "Sąskaita faktūra", "az": "Hesab-faktura", "fa": "فاکتور", "ru": "Счёт"},
	"*.product":     {"hy": "Ապրանք", "lt": "Prekė", "az": "Məhsul", "fa": "کالا", "ru": "Товар"},
	"*.description": {"hy": "Նկարագրություն", "lt": "Aprašymas", "az": "Təsvir", "fa": "شرح", "ru": "Описание"},
	"*.amount":      {"hy": "Գումար", "lt": "Suma", "az": "Məbləğ", "fa": "مبلغ", "ru": "Сумма"},
	"*.paid_on":     {"hy": "Ամսաթիվ", "lt": "Data", "az": "Tarix", "fa": "تاریخ", "ru": "Дата"},
	"*.rate":        {"hy": "Փոխարժեք", "lt": "Kursas", "az": "Məzənnə", "fa": "نرخ تبدیل", "ru": "Курс"},
	"*.reference":   {"hy": "Հղում", "lt": "Mokėjimo paskirtis", "az": "Təyinat", "fa": "شرح پرداخت", "ru": "Назначение платежа"},
	"*.payment":     {"hy": "Վճարում", "lt": "Mokėjimas", "az": "Ödəniş", "fa": "پرداخت", "ru": "Платёж"},
	"*.name":        {"hy": "Անվանում", "lt": "Pavadinimas", "az": "Ad", "fa": "نام", "ru": "Название"},
	"*.format":      {"hy": "Ձևաչափ", "lt": "Formatas", "az": "Format", "fa": "قالب فایل", "ru": "Формат"},
	"*.file":        {"hy": "Ֆայլ", "lt": "Failas", "az": "Fayl", "fa": "فایل", "ru": "Файл"},

	InvoiceEntity + ".seq":           {"hy": "Համարը տարում", "lt": "Numeris per metus", "az": "İl üzrə nömrə", "fa": "شماره در سال", "ru": "Номер за год"},
	InvoiceEntity + ".issue_date":    {"hy": "Դուրս գրման ամսաթիվ", "lt": "Išrašymo data", "az": "Verilmə tarixi", "fa": "تاریخ صدور", "ru": "Дата выставления"},
	InvoiceEntity + ".due_date":      {"hy": "Վճարման ժամկետ", "lt": "Apmokėti iki", "az": "Ödəmə müddəti", "fa": "سررسید", "ru": "Срок оплаты"},
	InvoiceEntity + ".paid":          {"hy": "Վճարված", "lt": "Apmokėta", "az": "Ödənilib", "fa": "پرداخت‌شده", "ru": "Оплачено"},
	InvoiceEntity + ".balance":       {"hy": "Մնացորդ", "lt": "Likutis", "az": "Qalıq", "fa": "مانده", "ru": "Остаток"},
	InvoiceEntity + ".credit_of":     {"hy": "Կրեդիտային հաշիվ՝ հաշվի", "lt": "Kreditinė sąskaita sąskaitai", "az": "Kredit hesabı (hesab üzrə)", "fa": "اعلامیهٔ بستانکار برای", "ru": "Корректировка к счёту"},
	InvoiceEntity + ".credited":      {"hy": "Կրեդիտավորված", "lt": "Kredituota", "az": "Kreditləşdirilib", "fa": "بستانکارشده", "ru": "Скорректировано"},
	InvoiceEntity + ".cancel_reason": {"hy": "Չեղարկման պատճառ", "lt": "Atšaukimo priežastis", "az": "Ləğvin səbəbi", "fa": "دلیل ابطال", "ru": "Причина отмены"},

	LineEntity + ".position":   {"hy": "Դիրք", "lt": "Eilės nr.", "az": "Sıra", "fa": "ردیف", "ru": "Позиция"},
	LineEntity + ".quantity":   {"hy": "Քանակ", "lt": "Kiekis", "az": "Miqdar", "fa": "تعداد", "ru": "Количество"},
	LineEntity + ".unit_price": {"hy": "Միավորի գին", "lt": "Vieneto kaina", "az": "Vahid qiyməti", "fa": "قیمت واحد", "ru": "Цена за единицу"},
	LineEntity + ".discount":   {"hy": "Զեղչ %", "lt": "Nuolaida %", "az": "Endirim %", "fa": "تخفیف %", "ru": "Скидка %"},
	LineEntity + ".locked":     {"hy": "Դուրս գրված", "lt": "Išrašyta", "az": "Verilib", "fa": "صادرشده", "ru": "Выставлена"},

	InvoiceEntity + ".credit_notes": {"hy": "Կիրառված կրեդիտային հաշիվներ", "lt": "Įskaitytos kreditinės sąskaitos", "az": "Tətbiq olunmuş kredit hesabları", "fa": "اعلامیه‌های بستانکار اعمال‌شده", "ru": "Учтённые корректировки"},
	InvoiceEntity + ".credit_lines": {"hy": "Կրեդիտավորված տողեր", "lt": "Kredituotos eilutės", "az": "Kreditləşdirilmiş sətirlər", "fa": "ردیف‌های بستانکار شده", "ru": "Скорректированные строки"},
	InvoiceEntity + ".payments":     {"hy": "Կիրառված վճարումներ", "lt": "Įskaityti mokėjimai", "az": "Tətbiq olunmuş ödənişlər", "fa": "پرداخت‌های اعمال‌شده", "ru": "Учтённые платежи"},
	PaymentEntity + ".allocations":  {"hy": "Բաշխումներ", "lt": "Paskirstymas", "az": "Bölüşdürmələr", "fa": "تخصیص‌ها", "ru": "Разнесение"},
	PaymentEntity + ".method":       {"hy": "Եղանակ", "lt": "Būdas", "az": "Üsul", "fa": "روش", "ru": "Способ"},
	AllocationEntity + ".amount":    {"hy": "Գումար (հաշվի արժույթով)", "lt": "Suma (sąskaitos valiuta)", "az": "Məbləğ (hesabın valyutasında)", "fa": "مبلغ (به ارز فاکتور)", "ru": "Сумма (в валюте счёта)"},

	ProductEntity + ".sku":   {"hy": "Արտիկուլ", "lt": "Prekės kodas", "az": "Artikul", "fa": "کد کالا", "ru": "Артикул"},
	ProductEntity + ".price": {"hy": "Գին", "lt": "Kaina", "az": "Qiymət", "fa": "قیمت", "ru": "Цена"},

	ExportEntity + ".kind": {"hy": "Տեսակ", "lt": "Rūšis", "az": "Növ", "fa": "نوع", "ru": "Вид"},
	ExportEntity + ".from": {"hy": "Սկսած", "lt": "Nuo", "az": "Başlanğıc", "fa": "از", "ru": "С"},
	ExportEntity + ".to":   {"hy": "Մինչև", "lt": "Iki", "az": "Son", "fa": "تا", "ru": "По"},
	ExportEntity + ".rows": {"hy": "Տողեր", "lt": "Eilutės", "az": "Sətirlər", "fa": "ردیف‌ها", "ru": "Строк"},

	BankLineEntity + ".statement": {"hy": "Քաղվածք", "lt": "Išrašas", "az": "Çıxarış", "fa": "صورت‌حساب", "ru": "Выписка"},
	BankLineEntity + ".line":      {"hy": "Տող", "lt": "Eilutė", "az": "Sətir", "fa": "ردیف", "ru": "Строка"},
	BankLineEntity + ".payer":     {"hy": "Վճարող", "lt": "Mokėtojas", "az": "Ödəyici", "fa": "پرداخت‌کننده", "ru": "Плательщик"},
	BankLineEntity + ".reason":    {"hy": "Ինչու չի համընկել", "lt": "Kodėl nesusieta", "az": "Niyə uyğunlaşmadı", "fa": "دلیل عدم تطبیق", "ru": "Почему не сопоставлено"},
	BankLineEntity + ".key":       {"hy": "Տողի բանալի", "lt": "Eilutės raktas", "az": "Sətir açarı", "fa": "کلید ردیف", "ru": "Ключ строки"},

	"button:" + ActionIssue:        {"hy": "Դուրս գրել հաշիվ", "lt": "Išrašyti sąskaitą", "az": "Hesab-faktura ver", "fa": "صدور فاکتور", "ru": "Выставить счёт"},
	"button:" + ActionPay:          {"hy": "Գրանցել վճարում", "lt": "Registruoti mokėjimą", "az": "Ödənişi qeyd et", "fa": "ثبت پرداخت", "ru": "Записать платёж"},
	"button:" + ActionCredit:       {"hy": "Դուրս գրել կրեդիտային հաշիվ", "lt": "Išrašyti kreditinę sąskaitą", "az": "Kredit hesabı ver", "fa": "صدور اعلامیهٔ بستانکار", "ru": "Выставить корректировочный счёт"},
	"button:" + ActionCancel:       {"hy": "Չեղարկել հաշիվը", "lt": "Atšaukti sąskaitą", "az": "Hesabı ləğv et", "fa": "ابطال فاکتور", "ru": "Отменить счёт"},
	"button:" + ActionBalance:      {"hy": "Մնացորդ", "lt": "Likutis", "az": "Qalıq", "fa": "مانده حساب", "ru": "Остаток"},
	"button:" + ActionMatchBank:    {"hy": "Կապել հաշվին", "lt": "Susieti su sąskaita", "az": "Hesabla uyğunlaşdır", "fa": "تطبیق با فاکتور", "ru": "Сопоставить со счётом"},
	"button:" + ActionImportBank:   {"hy": "Ներմուծել բանկային քաղվածք", "lt": "Importuoti banko išrašą", "az": "Bank çıxarışını idxal et", "fa": "ورود صورت‌حساب بانکی", "ru": "Загрузить банковскую выписку"},
	"button:" + ActionExport:       {"hy": "Արտահանել", "lt": "Eksportuoti", "az": "İxrac et", "fa": "خروجی", "ru": "Выгрузить"},
	"button:" + ActionRevenue:      {"hy": "Հասույթ", "lt": "Pajamos", "az": "Gəlir", "fa": "درآمد", "ru": "Выручка"},
	"button:" + ActionReceivables:  {"hy": "Դեբիտորական պարտքեր", "lt": "Gautinos sumos", "az": "Debitor borcları", "fa": "مطالبات", "ru": "Дебиторская задолженность"},
	"button:" + ActionCheckOverdue: {"hy": "Ստուգել ժամկետանց հաշիվները", "lt": "Tikrinti pradelstas sąskaitas", "az": "Gecikmiş hesabları yoxla", "fa": "بررسی فاکتورهای سررسیدگذشته", "ru": "Проверить просроченные счета"},
	"button:" + ActionAddLine:      {"hy": "Ավելացնել տող", "lt": "Pridėti eilutę", "az": "Sətir əlavə et", "fa": "افزودن ردیف", "ru": "Добавить строку"},

	// Action arguments: "arg:NAME" for every action's, "arg:ACTION.NAME" for one's.
	"arg:product":     {"hy": "Ապրանք", "lt": "Prekė", "az": "Məhsul", "fa": "کالا", "ru": "Товар"},
	"arg:description": {"hy": "Նկարագրություն", "lt": "Aprašymas", "az": "Təsvir", "fa": "شرح", "ru": "Описание"},
	"arg:quantity":    {"hy": "Քանակ", "lt": "Kiekis", "az": "Miqdar", "fa": "تعداد", "ru": "Количество"},
	"arg:unit_price":  {"hy": "Միավորի գին", "lt": "Vieneto kaina", "az": "Vahid qiyməti", "fa": "قیمت واحد", "ru": "Цена за единицу"},
	"arg:discount":    {"hy": "Զեղչ %", "lt": "Nuolaida %", "az": "Endirim %", "fa": "تخفیف %", "ru": "Скидка %"},
	"arg:vat_rate":    {"hy": "ԱԱՀ %", "lt": "PVM %", "az": "ƏDV %", "fa": "نرخ مالیات %", "ru": "НДС %"},
	"arg:lines":       {"hy": "Տողեր", "lt": "Eilutės", "az": "Sətirlər", "fa": "ردیف‌ها", "ru": "Строки"},
	"arg:issue_date":  {"hy": "Դուրս գրման ամսաթիվ", "lt": "Išrašymo data", "az": "Verilmə tarixi", "fa": "تاریخ صدور", "ru": "Дата выставления"},
	"arg:due_date":    {"hy": "Վճարման ժամկետ", "lt": "Apmokėti iki", "az": "Ödəmə müddəti", "fa": "سررسید", "ru": "Срок оплаты"},
	"arg:series":      {"hy": "Սերիա", "lt": "Serija", "az": "Seriya", "fa": "سری", "ru": "Серия"},
	"arg:from":        {"hy": "Սկսած", "lt": "Nuo", "az": "Başlanğıc", "fa": "از", "ru": "С"},
	"arg:to":          {"hy": "Մինչև", "lt": "Iki", "az": "Son", "fa": "تا", "ru": "По"},
	"arg:invoice":     {"hy": "Հաշիվ-ապրանքագիր", "lt": "Sąskaita faktūra", "az": "Hesab-faktura", "fa": "فاکتور", "ru": "Счёт"},
	"arg:method":      {"hy": "Եղանակ", "lt": "Būdas", "az": "Üsul", "fa": "روش", "ru": "Способ"},
	"arg:rate":        {"hy": "Փոխարժեք", "lt": "Kursas", "az": "Məzənnə", "fa": "نرخ تبدیل", "ru": "Курс"},
	"arg:reference":   {"hy": "Հղում", "lt": "Mokėjimo paskirtis", "az": "Təyinat", "fa": "شرح پرداخت", "ru": "Назначение платежа"},

	"arg:" + ActionPay + ".amount":             {"hy": "Վճարված գումար", "lt": "Sumokėta suma", "az": "Ödənilmiş məbləğ", "fa": "مبلغ پرداختی", "ru": "Сумма платежа"},
	"arg:" + ActionPay + ".date":               {"hy": "Վճարման ամսաթիվ", "lt": "Mokėjimo data", "az": "Ödəniş tarixi", "fa": "تاریخ پرداخت", "ru": "Дата платежа"},
	"arg:" + ActionPay + ".allocations":        {"hy": "Վճարվող հաշիվներ", "lt": "Apmokamos sąskaitos", "az": "Ödənilən hesablar", "fa": "فاکتورهای پرداخت‌شده", "ru": "Оплачиваемые счета"},
	"arg:" + ActionPay + ".allocations.amount": {"hy": "Վճարման մասը", "lt": "Mokėjimo dalis", "az": "Ödənişin hissəsi", "fa": "سهم از پرداخت", "ru": "Часть платежа"},
	"arg:" + ActionRevenue + ".by":             {"hy": "Խմբավորել ըստ", "lt": "Grupuoti pagal", "az": "Qruplaşdır", "fa": "گروه‌بندی بر اساس", "ru": "Группировать по"},
	"arg:" + ActionReceivables + ".date":       {"hy": "Ամսաթվի դրությամբ", "lt": "Datai", "az": "Tarixə", "fa": "تا تاریخ", "ru": "На дату"},
	// Report columns and titles (sdk.Table).
	"column:" + ByMonth:       {"hy": "Ամիս", "lt": "Mėnuo", "az": "Ay", "fa": "ماه", "ru": "Месяц"},
	"column:" + ByManager:     {"hy": "Մենեջեր", "lt": "Vadybininkas", "az": "Menecer", "fa": "مدیر فروش", "ru": "Менеджер"},
	"column:" + ByProduct:     {"hy": "Ապրանք", "lt": "Prekė", "az": "Məhsul", "fa": "کالا", "ru": "Товар"},
	"column:" + BySource:      {"hy": "Հաճախորդի աղբյուր", "lt": "Kliento šaltinis", "az": "Müştəri mənbəyi", "fa": "منبع سرنخ", "ru": "Источник лида"},
	"column:currency":         {"hy": "Արժույթ", "lt": "Valiuta", "az": "Valyuta", "fa": "واحد پول", "ru": "Валюта"},
	"column:invoices":         {"hy": "Հաշիվներ", "lt": "Sąskaitos", "az": "Hesablar", "fa": "فاکتورها", "ru": "Счета"},
	"column:net":              {"hy": "Առանց ԱԱՀ", "lt": "Be PVM", "az": "ƏDV-siz", "fa": "خالص", "ru": "Без НДС"},
	"column:gross":            {"hy": "Ընդամենը", "lt": "Iš viso", "az": "Cəmi", "fa": "جمع کل", "ru": "Итого"},
	"column:customer":         {"hy": "Հաճախորդ", "lt": "Klientas", "az": "Müştəri", "fa": "مشتری", "ru": "Клиент"},
	"column:balance":          {"hy": "Պարտք", "lt": "Skola", "az": "Borc", "fa": "بدهی", "ru": "Долг"},
	"column:" + BucketCurrent: {"hy": "Ժամկետը չի անցել", "lt": "Dar nepradelsta", "az": "Vaxtı çatmayıb", "fa": "سررسیدنشده", "ru": "Срок не наступил"},
	"column:" + Bucket30:      {"hy": "1–30 օր", "lt": "1–30 d.", "az": "1–30 gün", "fa": "۱ تا ۳۰ روز", "ru": "1–30 дней"},
	"column:" + Bucket60:      {"hy": "31–60 օր", "lt": "31–60 d.", "az": "31–60 gün", "fa": "۳۱ تا ۶۰ روز", "ru": "31–60 дней"},
	"column:" + Bucket90:      {"hy": "61–90 օր", "lt": "61–90 d.", "az": "61–90 gün", "fa": "۶۱ تا ۹۰ روز", "ru": "61–90 дней"},
	"column:" + BucketOver90:  {"hy": "90 օրից ավելի", "lt": "Daugiau nei 90 d.", "az": "90 gündən çox", "fa": "بیش از ۹۰ روز", "ru": "Более 90 дней"},
	"column:days_overdue":     {"hy": "Ուշացած օրեր", "lt": "Pradelsta dienų", "az": "Gecikmə günləri", "fa": "روزهای تأخیر", "ru": "Дней просрочки"},
	"title:balance":           {"hy": "Պարտքը՝ ամսաթվի դրությամբ", "lt": "Skola", "az": "Borc, tarixə", "fa": "بدهی تا تاریخ", "ru": "Долг на"},
	"title:revenue":           {"hy": "Հասույթ", "lt": "Pajamos", "az": "Gəlir", "fa": "درآمد", "ru": "Выручка"},
	"title:receivables":       {"hy": "Դեբիտորական պարտքեր՝ ամսաթվի դրությամբ", "lt": "Gautinos sumos", "az": "Debitor borcları, tarixə", "fa": "مطالبات تا تاریخ", "ru": "Дебиторская задолженность на"},
}
