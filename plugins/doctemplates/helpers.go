package doctemplates

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/format"
	"github.com/crmkit/crm/plugins/doctemplates/tmpl"
	"github.com/crmkit/crm/plugins/sdk"
)

// docLocale is the locale a document is written in: the template's
// language, calendar, currency and zone, each defaulting to the instance's
// locale (sdk.Config.Locale).
type docLocale struct {
	format.Locale
	Currency string
	Zone     *time.Location
}

func (p *Plugin) docLocale(a templateArgs) (docLocale, error) {
	_, inst := p.config()
	l := docLocale{Locale: format.Locale{Lang: a.Language, Calendar: a.Calendar}, Currency: strings.ToUpper(a.Currency)}
	if l.Lang == "" {
		l.Lang = inst.Default
	}
	if !slices.Contains(languages, l.Lang) {
		l.Lang = "en"
	}
	if l.Calendar == "" {
		l.Calendar = inst.Calendar
	}
	if l.Currency == "" {
		l.Currency = inst.Currency
	}
	zone := a.Timezone
	if zone == "" {
		zone = inst.Timezone
	}
	loc, err := time.LoadLocation(zone)
	if err == nil && zone == "Local" { // the server's zone: a document reads the same wherever it is made
		err = errors.New(`"Local" is the server's zone; name an IANA zone such as "Asia/Yerevan"`)
	}
	if err != nil {
		return l, sdk.RefuseField("timezone", sdk.CodeInvalidArgs, fmt.Sprintf("time zone %q: %v", zone, err))
	}
	l.Zone = loc
	return l, nil
}

// helpers are the formatting helpers of a template in locale l:
//
//	money     {{ deal.amount | money }}      1 500,00 ֏ (money, or a decimal in the template's currency)
//	words     {{ deal.amount | words }}      the amount in words, with the currency's name; a whole number in words
//	number    {{ line.qty | number }}        a number in the language's figures
//	date      {{ deal.closed_at | date }}    21 March 2026; date("short") 21.03.2026
//	datetime  {{ now | datetime }}           the date and the time at the template's zone
func helpers(l docLocale) tmpl.Funcs {
	return tmpl.Funcs{
		"money": func(v any) (string, error) {
			amount, cur, err := moneyOf(v, l.Currency)
			if err != nil {
				return "", err
			}
			return format.Money(l.Locale, amount, cur)
		},
		"words": func(v any) (string, error) {
			if n, ok := wholeNumber(v); ok {
				return format.NumberWords(l.Lang, n)
			}
			amount, cur, err := moneyOf(v, l.Currency)
			if err != nil {
				return "", err
			}
			return format.MoneyWords(l.Locale, amount, cur)
		},
		"number": func(v any) (string, error) {
			s, err := decimalOf(v)
			if err != nil {
				return "", err
			}
			return format.Number(l.Locale, s)
		},
		"date": func(v any, layout ...string) (string, error) {
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("date: %v is not a date", v)
			}
			if len(s) > 10 { // a datetime: its date at the template's zone
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return "", fmt.Errorf("date: %q is not a date", s)
				}
				s = t.In(l.Zone).Format(time.DateOnly)
			}
			return format.Date(l.Locale, s, first(layout))
		},
		"datetime": func(v any, layout ...string) (string, error) {
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("datetime: %v is not a datetime", v)
			}
			return format.DateTimeIn(l.Locale, s, l.Zone, first(layout))
		},
	}
}

func first(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

// moneyOf reads a money value ({"amount", "currency"}) or a plain decimal
// (in the default currency).
func moneyOf(v any, def string) (amount, currency string, err error) {
	if m, ok := v.(map[string]any); ok {
		a, _ := m["amount"].(string)
		c, _ := m["currency"].(string)
		if a == "" {
			return "", "", fmt.Errorf("money: %v has no amount", v)
		}
		if c == "" {
			c = def
		}
		return a, c, nil
	}
	s, err := decimalOf(v)
	return s, def, err
}

// decimalOf reads a decimal string or a number as a decimal string.
func decimalOf(v any) (string, error) {
	switch n := v.(type) {
	case string:
		return n, nil
	case float64:
		return strconv.FormatFloat(n, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(n), nil
	case int64:
		return strconv.FormatInt(n, 10), nil
	case json.Number:
		return n.String(), nil
	case nil:
		return "", fmt.Errorf("no value")
	}
	return "", fmt.Errorf("%v is not a number", v)
}

// wholeNumber is v as a whole number, when it is a Go number.
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}
