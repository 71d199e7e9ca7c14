package textnorm

import (
	"slices"
	"testing"
)

func TestFold(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Anna", "anna"},
		{"ĄČĘĖĮŠŲŪŽ ąčęėįšųūž", "aceeisuuz aceeisuuz"},                                   // Lithuanian
		{"Əliyev Ağa Işıq İlqar Şəki Çörək Gül", "eliyev aga isiq ilqar seki corek gul"}, // Azerbaijani
		{"Ёлка Йод", "елка иод"},                                                         // Russian: ё and й lose their marks
		{"ԱՐՄԵՆ Արմեն և", "արմեն արմեն եւ"},                                              // Armenian, the և ligature
		{"علي", "علی"},                          // Arabic yeh -> Persian yeh
		{"كريم", "کریم"},                        // Arabic kaf -> keheh
		{"فاطمة", "فاطمه"},                      // teh marbuta -> heh
		{"می\u200cخواهم", "میخواهم"},            // ZWNJ removed
		{"آرش أحمد", "ارش احمد"},                // madda and hamza above are marks
		{"۰۹۱۲ ٠٩١٢ 0912", "0912 0912 0912"},    // Persian, Arabic-Indic and ASCII digits
		{"ﻻ", "لا"},                             // presentation form
		{"Straße Łódź Øre", "strasse lodz ore"}, // letters NFKD keeps whole
		{"O'Brien O’Neil", "obrien oneil"},      // apostrophes join
		{"ＡＢＣ１２３", "abc123"},                    // fullwidth
		{"مـــحمد", "محمد"},                     // tatweel
	} {
		if got := Fold(c.in); got != c.want {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokens(t *testing.T) {
	got := Tokens("Anna-Maria Petrosyan <anna.petrosyan@Example.AM>")
	want := []string{"anna", "maria", "petrosyan", "anna", "petrosyan", "example", "am"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokens = %q, want %q", got, want)
	}
}

func TestPhoneTokens(t *testing.T) {
	if got, want := PhoneTokens("+37491123456"), []string{"37491123456", "091123456"}; !slices.Equal(got, want) {
		t.Errorf("PhoneTokens = %q, want %q", got, want)
	}
	if got, want := PhoneTokens("+14155550123"), []string{"14155550123", "4155550123"}; !slices.Equal(got, want) {
		t.Errorf("PhoneTokens = %q, want %q", got, want)
	}
}

func TestQueryTokens(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"091 12 34", []string{"0911234"}},
		{"(091) 12-34", []string{"0911234"}},
		{"+374 91 12", []string{"3749112"}},
		{"00374 91", []string{"37491"}},
		{"۰۹۱۱۲۳۴", []string{"0911234"}},
		{"٠٩١١٢٣٤", []string{"0911234"}},
		{"12", []string{"12"}},
		{"Anna anna PET", []string{"anna", "pet"}},
		{"room 12", []string{"room", "12"}},
		{"  ", nil},
	} {
		if got := QueryTokens(c.in); !slices.Equal(got, c.want) {
			t.Errorf("QueryTokens(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
