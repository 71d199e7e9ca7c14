// Package format writes the figures, amounts in words and dates that
// documents print: money and numbers with a language's grouping, decimal
// separator, digits and currency placement (after CLDR), amounts spelled
// out as contracts and invoices print them, and dates in the Gregorian or
// the Jalali (Solar Hijri) calendar.
//
// It knows six languages: English (en), Armenian (hy), Lithuanian (lt),
// Azerbaijani (az), Persian (fa) and Russian (ru). Amounts come in as
// decimal strings ("1500.5", "-12", "0.05"), never as floats, so no cent is
// lost on the way; dates come in as "2026-03-21" and go through no time
// zone. Every function answers an error for input it cannot read, naming
// the value: it never panics.
//
// It depends on nothing of the CRM: the doctemplates plugin fills the
// template helpers from it with the document's locale.
package format

import (
	"fmt"
	"strings"
)

// Locale is the language and calendar a document is written in.
type Locale struct {
	// Lang is the language: "en", "hy", "lt", "az", "fa" or "ru". A region
	// or script after it ("fa-IR", "ru_RU") is ignored, and case does not
	// matter.
	Lang string
	// Calendar is "gregorian" or "jalali"; "" is Gregorian.
	Calendar string
}

// Calendars.
const (
	// Gregorian is the calendar of the Gregorian months.
	Gregorian = "gregorian"
	// Jalali is the Solar Hijri calendar of Iran and Afghanistan.
	Jalali = "jalali"
)

// Languages lists the languages the package writes, in the order messages
// give them.
var Languages = []string{"en", "hy", "lt", "az", "fa", "ru"}

// lang returns the base language of tag if the package knows it.
func lang(what, tag string) (string, error) {
	base := strings.ToLower(tag)
	if i := strings.IndexAny(base, "-_"); i >= 0 {
		base = base[:i]
	}
	for _, l := range Languages {
		if base == l {
			return l, nil
		}
	}
	return "", fmt.Errorf("%s: language %q is not supported; expected one of %s", what, tag, strings.Join(Languages, ", "))
}

// calendar returns the calendar named by name ("" is Gregorian).
func calendar(what, name string) (string, error) {
	switch strings.ToLower(name) {
	case "", Gregorian:
		return Gregorian, nil
	case Jalali:
		return Jalali, nil
	}
	return "", fmt.Errorf("%s: calendar %q is not supported; expected %q or %q", what, name, Gregorian, Jalali)
}
