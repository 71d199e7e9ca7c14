package sdk

import (
	"reflect"
	"testing"

	"github.com/crmkit/crm/plugins/proto/crmv1"
)

func TestLocaleFromProto(t *testing.T) {
	for name, tc := range map[string]struct {
		in   *crmv1.Locale
		want Locale
	}{
		"an old host sends none": {nil, DefaultLocale()},
		"all of it": {
			&crmv1.Locale{Languages: []string{"fa", "en"}, DefaultLanguage: "en", Calendar: "jalali", Currency: "IRR", Timezone: "Asia/Tehran", Region: "IR"},
			Locale{Languages: []string{"fa", "en"}, Default: "en", Calendar: CalendarJalali, Currency: "IRR", Timezone: "Asia/Tehran", Region: "IR"},
		},
		"languages without a default": {
			&crmv1.Locale{Languages: []string{"hy", "ru"}, Currency: "AMD"},
			Locale{Languages: []string{"hy", "ru"}, Default: "hy", Calendar: CalendarGregorian, Currency: "AMD", Timezone: "UTC"},
		},
	} {
		if got := localeFromProto(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", name, got, tc.want)
		}
	}
	// The defaults are a fresh value each time: a plugin that changes its
	// copy changes no one else's.
	d := DefaultLocale()
	d.Languages[0] = "xx"
	if DefaultLocale().Languages[0] != "en" {
		t.Error("DefaultLocale shares its languages")
	}
}

func TestLocaleLocation(t *testing.T) {
	loc, err := Locale{Timezone: "Asia/Yerevan"}.Location()
	if err != nil || loc.String() != "Asia/Yerevan" {
		t.Errorf("Asia/Yerevan: %v, %v", loc, err)
	}
	if _, err := (Locale{Timezone: "Mars/Olympus"}).Location(); err == nil {
		t.Error("an unknown time zone loaded")
	}
}

func TestConfigDecode(t *testing.T) {
	var s struct {
		Secret string `json:"secret"`
		Per    int64  `json:"per"`
	}
	if err := (Config{Values: map[string]any{"secret": "s", "per": float64(5)}}).Decode(&s); err != nil || s.Secret != "s" || s.Per != 5 {
		t.Errorf("decode: %+v, %v", s, err)
	}
	if err := (Config{Values: map[string]any{"per": "many"}}).Decode(&s); err == nil {
		t.Error("a string decoded into an int")
	}
}
