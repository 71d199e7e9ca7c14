package format_test

import (
	"fmt"

	"github.com/crmkit/crm/plugins/doctemplates/format"
)

// An invoice total in Russian, and a contract date in Persian.
func Example() {
	ru := format.Locale{Lang: "ru"}
	total, _ := format.Money(ru, "1500.5", "RUB")
	words, _ := format.MoneyWords(ru, "1500.5", "RUB")
	fmt.Printf("%q\n%s\n", total, words)

	fa := format.Locale{Lang: "fa", Calendar: format.Jalali}
	date, _ := format.Date(fa, "2026-03-21", "")
	short, _ := format.Date(fa, "2026-03-21", "short")
	fmt.Println(date, "|", short)

	_, err := format.Money(ru, "1,5x", "RUB")
	fmt.Println(err)
	// Output:
	// "1\u00a0500,50\u00a0₽"
	// одна тысяча пятьсот рублей 50 копеек
	// ۱ فروردین ۱۴۰۵ | ۱۴۰۵/۰۱/۰۱
	// money: amount "1,5x" is not a decimal (write digits with one '.' and no grouping, as in "1500.50")
}
