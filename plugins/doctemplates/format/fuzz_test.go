package format

import (
	"testing"
)

// FuzzMoneyWords feeds any string as an amount: MoneyWords and Money never
// panic and answer either a text or an error, never both nor neither.
func FuzzMoneyWords(f *testing.F) {
	for _, seed := range []string{"1500.50", "-0.005", "0", ".5", "9223372036854775807.99", "9223372036854775808",
		"1,5x", "", "-", "+.", "00000000000000000000001", "1e9", "١٢٣", "99999999999999999999.999"} {
		f.Add(seed)
	}
	currencies := []string{"AMD", "IRR", "AZN", "EUR", "RUB", "USD", "KWD", "XXX"}
	f.Fuzz(func(t *testing.T, amount string) {
		for _, lg := range Languages {
			for _, cur := range currencies {
				l := Locale{Lang: lg}
				if s, err := MoneyWords(l, amount, cur); (err == nil) == (s == "") {
					t.Fatalf("MoneyWords(%s, %q, %s) = %q, %v", lg, amount, cur, s, err)
				}
				if s, err := Money(l, amount, cur); (err == nil) == (s == "") {
					t.Fatalf("Money(%s, %q, %s) = %q, %v", lg, amount, cur, s, err)
				}
			}
			if s, err := Number(Locale{Lang: lg}, amount); (err == nil) == (s == "") {
				t.Fatalf("Number(%s, %q) = %q, %v", lg, amount, s, err)
			}
		}
	})
}
