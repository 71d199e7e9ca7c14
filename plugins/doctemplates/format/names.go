package format

// unitName is the name of a currency unit in one language, in the three
// forms of speller.plural: English singular/plural, Russian рубль/рубля/
// рублей, Lithuanian euras/eurai/eurų; the other languages keep one form.
type unitName struct {
	forms [3]string
	// fem asks for the feminine numerals before the name (none of the
	// major units here is feminine; the field keeps the rule in one
	// place should one be).
	fem bool
}

// currencyName names a currency's major and minor units; a currency with
// no minor unit in use (IRR) has an empty minor.
type currencyName struct {
	major, minor unitName
}

// u3 is a unit name with three forms; u1 one with a single form.
func u3(one, few, many string) unitName { return unitName{forms: [3]string{one, few, many}} }
func u1(w string) unitName              { return unitName{forms: same(w)} }

// en2 is an English unit: singular and plural.
func en2(one, other string) unitName { return unitName{forms: [3]string{one, other, other}} }

// currencyNames are the currencies' names as invoices in each language
// write them after a number. The US dollar carries its country, as
// contracts outside the US name it.
var currencyNames = map[string]map[string]currencyName{
	"en": {
		"AMD": {en2("dram", "drams"), en2("luma", "luma")},
		"IRR": {major: en2("rial", "rials")},
		"IRT": {major: en2("toman", "tomans")},
		"AZN": {en2("manat", "manat"), en2("qapik", "qapik")},
		"EUR": {en2("euro", "euros"), en2("cent", "cents")},
		"RUB": {en2("ruble", "rubles"), en2("kopeck", "kopecks")},
		"USD": {en2("US dollar", "US dollars"), en2("cent", "cents")},
	},
	"ru": {
		"AMD": {u3("драм", "драма", "драмов"), u3("лума", "лумы", "лум")},
		"IRR": {major: u3("риал", "риала", "риалов")},
		"IRT": {major: u3("туман", "тумана", "туманов")},
		"AZN": {u3("манат", "маната", "манатов"), u3("гяпик", "гяпика", "гяпиков")},
		"EUR": {u1("евро"), u3("цент", "цента", "центов")},
		"RUB": {u3("рубль", "рубля", "рублей"), u3("копейка", "копейки", "копеек")},
		"USD": {u3("доллар США", "доллара США", "долларов США"), u3("цент", "цента", "центов")},
	},
	"lt": {
		"AMD": {u3("dramas", "dramai", "dramų"), u3("luma", "lumos", "lumų")},
		"IRR": {major: u3("rialas", "rialai", "rialų")},
		"IRT": {major: u3("tomanas", "tomanai", "tomanų")},
		"AZN": {u3("manatas", "manatai", "manatų"), u3("kepikas", "kepikai", "kepikų")},
		"EUR": {u3("euras", "eurai", "eurų"), u3("centas", "centai", "centų")},
		"RUB": {u3("rublis", "rubliai", "rublių"), u3("kapeika", "kapeikos", "kapeikų")},
		"USD": {u3("JAV doleris", "JAV doleriai", "JAV dolerių"), u3("centas", "centai", "centų")},
	},
	"hy": {
		"AMD": {u1("դրամ"), u1("լումա")},
		"IRR": {major: u1("ռիալ")},
		"IRT": {major: u1("թուման")},
		"AZN": {u1("մանաթ"), u1("գյապիկ")},
		"EUR": {u1("եվրո"), u1("ցենտ")},
		"RUB": {u1("ռուբլի"), u1("կոպեկ")},
		"USD": {u1("ԱՄՆ դոլար"), u1("ցենտ")},
	},
	"az": {
		"AMD": {u1("dram"), u1("luma")},
		"IRR": {major: u1("rial")},
		"IRT": {major: u1("tümən")},
		"AZN": {u1("manat"), u1("qəpik")},
		"EUR": {u1("avro"), u1("sent")},
		"RUB": {u1("rubl"), u1("qəpik")},
		"USD": {u1("ABŞ dolları"), u1("sent")},
	},
	"fa": {
		"AMD": {u1("درام"), u1("لوما")},
		"IRR": {major: u1("ریال")},
		"IRT": {major: u1("تومان")},
		"AZN": {u1("منات"), u1("قپیک")},
		"EUR": {u1("یورو"), u1("سنت")},
		"RUB": {u1("روبل"), u1("کوپک")},
		"USD": {u1("دلار آمریکا"), u1("سنت")},
	},
}
