package sdk

import (
	"fmt"
	"time"

	"github.com/crmkit/crm/plugins/proto/crmv1"
)

// Config is what Configure receives: the plugin's block in the instance's
// HCL configuration and the instance's locale.
type Config struct {
	// Name is the plugin's name in the HCL configuration.
	Name string
	// Values is the plugin block's `config` object (numbers as float64),
	// never nil. Decode gives it as a typed struct.
	Values map[string]any
	// Read and Write are the entities the plugin block grants.
	Read, Write []string
	// Locale is the instance's locale block.
	Locale Locale
}

// Decode decodes the config object into v, a pointer to a struct with json
// tags.
func (c Config) Decode(v any) error {
	if err := Decode(c.Values, v); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// Calendars a Locale may name.
const (
	CalendarGregorian = "gregorian"
	CalendarJalali    = "jalali"
)

// Locale is the instance's locale: the languages of the business, its
// calendar, default currency, time zone and phone region, as the admin set
// them in the HCL `locale` block. Every field but Region has a value: the
// host's defaults are English, the Gregorian calendar, USD and UTC.
type Locale struct {
	// Languages are the languages the instance works in ("en", "hy",
	// "fa"), the default among them.
	Languages []string
	// Default is the language used when none is chosen; one of Languages.
	Default string
	// Calendar is CalendarGregorian or CalendarJalali: how dates are shown
	// to people (records store Gregorian dates either way).
	Calendar string
	// Currency is the default ISO 4217 currency code ("AMD").
	Currency string
	// Timezone is the IANA time zone name of the business
	// ("Asia/Yerevan"); see Location.
	Timezone string
	// Region is the ISO 3166-1 alpha-2 code that national phone numbers
	// are read in ("AM"); "" when the admin set none.
	Region string
}

// DefaultLocale is the locale of an instance whose configuration has no
// locale block (English, Gregorian, USD, UTC, no region), and what a
// plugin receives from a host too old to send one.
func DefaultLocale() Locale {
	return Locale{Languages: []string{"en"}, Default: "en", Calendar: CalendarGregorian, Currency: "USD", Timezone: "UTC"}
}

// Location loads the locale's time zone. It fails only where the plugin's
// process has no time zone database (a bare container): import
// time/tzdata in the plugin's main package to embed one.
func (l Locale) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(l.Timezone)
	if err != nil {
		return nil, fmt.Errorf("locale time zone: %w", err)
	}
	return loc, nil
}

// localeFromProto is the Locale a host sent, the defaults in place of what
// it left out.
func localeFromProto(p *crmv1.Locale) Locale {
	l := Locale{
		Languages: append([]string(nil), p.GetLanguages()...), Default: p.GetDefaultLanguage(),
		Calendar: p.GetCalendar(), Currency: p.GetCurrency(), Timezone: p.GetTimezone(), Region: p.GetRegion(),
	}
	d := DefaultLocale()
	if len(l.Languages) == 0 {
		l.Languages = d.Languages
	}
	if l.Default == "" {
		l.Default = l.Languages[0]
	}
	if l.Calendar == "" {
		l.Calendar = d.Calendar
	}
	if l.Currency == "" {
		l.Currency = d.Currency
	}
	if l.Timezone == "" {
		l.Timezone = d.Timezone
	}
	return l
}
